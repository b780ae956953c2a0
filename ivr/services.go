package ivr

import (
	"context"
	"net/http"
	"time"
)

// Services are what a running flow uses besides the call: the clock, the
// text-to-speech engine, the customer directory, the switches operations
// turn on and off, an HTTP client for webhooks and an observer for per-node
// figures. Every field may be nil; the engine then uses a safe default
// (the real clock, text prompts played by name, lookups ending in their
// error exit, every switch off, http.DefaultClient with the node's timeout,
// no figures).
type Services struct {
	// Now returns the current time (a fake clock in tests and simulations).
	Now func() time.Time
	// Speaker renders text prompts.
	Speaker Speaker
	// Directory finds customers by calling number.
	Directory Directory
	// Switches says which announcements and emergency closures are on.
	Switches Switches
	// HTTP is the client for lookup webhooks.
	HTTP *http.Client
	// Observer receives one event per node entered, exit taken and call end.
	Observer Observer
}

// Speaker turns text into a prompt the Call can play.
type Speaker interface {
	// Say returns the name of a prompt that speaks text in language lang
	// ("zh", "en", …), rendering and caching it on first use.
	Say(ctx context.Context, text, lang string) (string, error)
}

// Customer is what the directory knows about a caller.
type Customer struct {
	// Number is the normalised calling number.
	Number string
	// Tier is the routing tier the customer's grade gives ("five_star",
	// "vip", "key_account", …).
	Tier string
	// Stars is the star grade, 1–5 (0: not graded).
	Stars int
	// Brand is the customer's brand (GoTone, M-Zone, Easyown, …).
	Brand string
	// VIP is set for VIP customers.
	VIP bool
	// Manager is the id of the customer's dedicated account manager, if any.
	Manager string
	// Extra holds the directory's other columns, by column name.
	Extra map[string]string
	// Last is the caller's last contact, kept for callers in the directory
	// and not (nil: none kept); Repeat is set when it is recent enough to
	// make this a repeat caller.
	Last   *Contact
	Repeat bool
}

// Contact is a caller's last contact with the hotline.
type Contact struct {
	// At is when that call ended.
	At time.Time
	// Queue and Agent are the queue it was in and the agent who answered,
	// Outcome how it ended, Survey the caller's answers.
	Queue, Agent, Outcome string
	Survey                map[string]string
}

// Directory finds customers.
type Directory interface {
	// Lookup returns the customer with this calling number; found is false
	// when there is none. An error means the directory could not be asked.
	Lookup(ctx context.Context, number string) (c Customer, found bool, err error)
}

// Switches are named on/off states that operations change while Kefu runs
// (HTTP API): announcements ("announce.<name>") and emergency closures of
// calendars ("emergency.<calendar>").
type Switches interface {
	// State returns a switch's state; set is false when operations have not
	// set it, and the flow files' default applies.
	State(name string) (on, set bool)
}

// SwitchName returns the switch name of an announcement or a calendar's
// emergency closure.
func SwitchName(kind, name string) string { return kind + "." + name }

// EventType says what happened in a node.
type EventType string

// Event types.
const (
	// EventEnter: a call entered the node.
	EventEnter EventType = "enter"
	// EventExit: a call left the node by Event.Exit.
	EventExit EventType = "exit"
	// EventHangup: the caller hung up while in the node.
	EventHangup EventType = "hangup"
	// EventEnd: the flow ended the call in the node (a hangup node, a
	// blind transfer, an error).
	EventEnd EventType = "end"
)

// Event is one step of a call through a flow, for figures such as a
// drop-off funnel and for agents' screen pops. It never carries variable
// values; the digits of sensitive nodes are masked.
type Event struct {
	Type      EventType
	CallID    string
	Flow      string
	Version   string
	Node      string
	Kind      string
	Exit      string // EventExit: the exit taken; EventEnd: the reason
	Milestone string // the node's milestone label, if any
	// Digits are the keys read in the node (EventExit), "*" for each key of
	// a sensitive node.
	Digits string
}

// Observer receives events. Observe is called on the call's goroutine and
// must not block.
type Observer interface {
	Observe(Event)
}
