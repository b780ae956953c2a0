package directory

import (
	"context"
	"time"
)

// Contact is a caller's last contact with the hotline: written when a call
// ends, read when the same number calls again (a repeat caller is a problem
// not solved the first time).
type Contact struct {
	// Number is the caller's normalised number.
	Number string `json:"number"`
	// At is when the call ended.
	At time.Time `json:"at"`
	// Queue is the last queue the call was in, if any; Agent the agent who
	// answered it, if one did.
	Queue string `json:"queue,omitempty"`
	Agent string `json:"agent,omitempty"`
	// Outcome says how the call ended: answered (an agent took it),
	// abandoned (hung up in the queue), max_wait, no_agents, queue_full,
	// callback, or ivr (it never reached a queue).
	Outcome string `json:"outcome"`
	// Survey holds the caller's survey answers by question id.
	Survey map[string]string `json:"survey,omitempty"`
}

// Within reports whether c happened less than d before now.
func (c Contact) Within(d time.Duration, now time.Time) bool {
	return !c.At.IsZero() && now.Sub(c.At) < d
}

// History keeps each caller's last contact.
type History interface {
	// LastContact returns the last contact of a normalised number; found is
	// false when there is none (or it has expired).
	LastContact(ctx context.Context, number string) (c Contact, found bool, err error)
	// Record stores c as its number's last contact.
	Record(ctx context.Context, c Contact) error
}

// Customers is where the loaded directory is kept for lookups: in memory
// (Memory) or in Redis, shared by every node.
type Customers interface {
	// Lookup finds the customer with a normalised number.
	Lookup(ctx context.Context, number string) (c Customer, found bool, err error)
	// Replace makes d the directory, atomically: a lookup sees the old
	// directory or the new one, never a mixture. version names d's
	// content; replacing with the version already in place does nothing.
	Replace(ctx context.Context, d *Directory, version string) error
	// Version returns the version in place ("" before the first Replace).
	Version(ctx context.Context) (string, error)
}
