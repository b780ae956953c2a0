package routing

import (
	"fmt"
	"time"
)

// AgentState is where an agent is in its working cycle.
type AgentState string

// Agent states. An agent starts logged_out. SetAgentState moves between
// logged_out, not_ready and ready; the router moves a ready agent through
// offered → talking → wrap_up → ready as calls come and go.
const (
	AgentLoggedOut AgentState = "logged_out" // not working; cannot serve
	AgentNotReady  AgentState = "not_ready"  // logged in, on a break (Agent.Reason says why)
	AgentReady     AgentState = "ready"      // idle, may be offered a call
	AgentOffered   AgentState = "offered"    // a call is ringing the agent
	AgentTalking   AgentState = "talking"    // on a call
	AgentWrapUp    AgentState = "wrap_up"    // after-call work until Agent.WrapUntil
)

// Valid reports whether s is one of the six agent states.
func (s AgentState) Valid() bool {
	switch s {
	case AgentLoggedOut, AgentNotReady, AgentReady, AgentOffered, AgentTalking, AgentWrapUp:
		return true
	}
	return false
}

// LoggedIn reports whether an agent in state s counts as able to serve its
// queues (every state except logged_out).
func (s AgentState) LoggedIn() bool { return s.Valid() && s != AgentLoggedOut }

// CallState is where a call is in the router.
type CallState string

// Call states. A call that is finished, has left or overflowed is no longer in
// the router at all.
const (
	CallQueued  CallState = "queued"  // waiting in its queue
	CallOffered CallState = "offered" // ringing an agent
	CallTalking CallState = "talking" // connected to an agent
)

// ReasonNoAnswer is the not_ready reason given to an agent who let an offered
// call ring out when NoAnswer is called with an empty reason.
const ReasonNoAnswer = "no_answer"

// Not-ready reasons the router gives by itself.
const (
	// ReasonRejected: the agent's phone declined the offer.
	ReasonRejected = "rejected"
	// ReasonBusy: the agent's phone answered busy.
	ReasonBusy = "busy"
	// ReasonNotResponding: the agent missed MaxMisses offers in a row; it
	// stays not_ready until it (or a supervisor) makes it ready.
	ReasonNotResponding = "not_responding"
	// ReasonNodeLost: the Kefu node carrying the agent's call was lost.
	ReasonNodeLost = "node_lost"
)

// QueueConfig describes one queue. The zero values of the durations mean the
// defaults stated per field.
type QueueConfig struct {
	// Name identifies the queue in flows and in the HTTP API. Required, unique.
	Name string
	// Skill is the skill an agent needs to serve the queue. Required. Several
	// queues may share a skill.
	Skill string
	// ServiceLevel is the answer-time threshold for the service-level figure.
	// Default 20s.
	ServiceLevel time.Duration
	// MaxWait is the longest a call waits before it overflows (the flow goes
	// on at its overflow exit). Default 0: no limit.
	MaxWait time.Duration
	// RingTimeout is how long the SIP layer rings an agent before it reports
	// NoAnswer. Default 15s.
	RingTimeout time.Duration
	// WrapUp is the after-call work time before the agent is ready again.
	// Default 0: ready at once.
	WrapUp time.Duration
	// PreferWait is how long a call with a preferred agent (its account
	// manager) waits for them, while they are logged in, before anyone
	// qualified may take it; CallRequest.PreferWait overrides it per call.
	// Default 0: no wait (the manager still gets the call when ready).
	PreferWait time.Duration
	// Steps widen who may take a call as it waits, without it losing its
	// place: e.g. {0s, level 4}, {30s, level 1}, {60s, skill "general"}.
	// A step's Skill defaults to the queue's, MinLevel to 1; the first
	// step's After must be 0. Empty: the queue's skill at any level from the
	// start.
	Steps []SkillStep
	// MaxQueued is the most calls that may wait in line (not counting calls
	// ringing an agent); a call arriving at a full queue is refused with
	// ErrQueueFull. 0: no limit.
	MaxQueued int
	// JoinEmpty lets calls join while no agent with the queue's skills is
	// logged in (they wait for one). Default false: ErrNoAgents.
	JoinEmpty bool
	// LeaveWhenEmpty makes waiting calls leave (an overflow with reason
	// "empty") when the last agent with the queue's skills logs out.
	LeaveWhenEmpty bool
}

// SkillStep is one step of a queue's widening (QueueConfig.Steps): once a
// call has waited After, agents with Skill at MinLevel or better may take
// it too.
type SkillStep struct {
	After    time.Duration
	Skill    string
	MinLevel int
}

// Defaults for QueueConfig fields left zero.
const (
	DefaultServiceLevel = 20 * time.Second
	DefaultRingTimeout  = 15 * time.Second
)

// AgentConfig describes one agent.
type AgentConfig struct {
	// ID is the agent's id (also its SIP user name). Required, unique.
	ID string
	// Skills maps a skill name to the agent's level in it, 1 to 5, 5 best.
	Skills map[string]int
}

// Offer is a match of a call with an agent. The SIP layer rings the agent and
// reports the outcome with Answered, NoAnswer, Finished, quoting the offer.
type Offer struct {
	CallID  string `json:"call_id"`
	AgentID string `json:"agent_id,omitempty"`
	Queue   string `json:"queue"`
	// Token is the fencing token: strictly increasing over all offers of a
	// store. Operations quoting an older token fail with ErrStaleOffer.
	Token uint64    `json:"token,omitempty"`
	At    time.Time `json:"at"`
	// Node is the node holding the caller's dialog (Call.Node), where the
	// offer must be delivered.
	Node string `json:"node,omitempty"`
}

// EventKind says what an Event reports.
type EventKind int

// Event kinds.
const (
	// EventOffer: the call is offered to Event.Offer.AgentID; ring the agent.
	EventOffer EventKind = iota + 1
	// EventOverflow: the queue's MaxWait passed; the call has left the queue.
	// Event.Offer carries only CallID, Queue and At.
	EventOverflow
)

// String returns "offer" or "overflow".
func (k EventKind) String() string {
	switch k {
	case EventOffer:
		return "offer"
	case EventOverflow:
		return "overflow"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// MarshalText encodes the kind as its String form.
func (k EventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Event is delivered on a Ticket.
type Event struct {
	Kind  EventKind `json:"kind"`
	Offer Offer     `json:"offer"`
	// Reason says why an overflow happened: "max_wait", or "empty" when the
	// last agent of a LeaveWhenEmpty queue logged out.
	Reason string `json:"reason,omitempty"`
}

// CallRequest asks the router to queue a call.
type CallRequest struct {
	// CallID identifies the call (the SIP layer uses the dialog's Call-ID).
	// Required; must not contain NUL.
	CallID string
	// Caller is the calling number, for status pages and records.
	Caller string
	// Queue names a configured queue.
	Queue string
	// Tier is the caller's tier (see directory.Policy). Empty or unknown
	// tiers are treated as "default".
	Tier string
	// PreferredAgent is the caller's account manager, if any. An id that is
	// not a configured agent is ignored (and logged).
	PreferredAgent string
	// PreferWait is how long the call waits for a logged-in PreferredAgent
	// before anyone qualified may take it. 0 means the queue's PreferWait;
	// negative means no wait.
	PreferWait time.Duration
	// MaxWait, when positive, replaces the queue's MaxWait for this call: it
	// overflows after waiting this long. 0 keeps the queue's.
	MaxWait time.Duration
	// Callback, when set, queues a callback request for this number rather
	// than a caller on the line: it never overflows (MaxWait is ignored).
	Callback string
	// Key, when not zero, is the call's place in line instead of
	// now − boost(Tier): a callback retried after the customer did not
	// answer passes its Ticket's Key to keep its original place.
	Key time.Time
}
