package routing

import (
	"context"
	"maps"
	"time"
)

// Store holds the shared routing state: calls and agents. Every method is one
// atomic domain operation: it reads and writes the state in a single
// transaction (one go-memdb write transaction in memstore, one Lua script in a
// Redis store), so concurrent callers — several goroutines or several Kefu
// nodes — never see or produce a half-done change. Times are passed in by the
// caller, never read from a clock, so a store behaves the same under a fake
// clock.
//
// The Router is the only production caller. storetest.Run is the contract: an
// implementation is correct when it passes that suite.
type Store interface {
	// PutAgents registers agents. A new agent starts logged_out; an existing
	// one keeps its state and call and gets the new skills. Agents not named
	// are left alone.
	PutAgents(ctx context.Context, agents []AgentConfig, now time.Time) error

	// Enqueue adds call as queued and returns it with Seq assigned (a
	// store-wide increasing counter) and State set to CallQueued. The caller
	// fills ID, Queue, Skill, EnqueuedAt and Key (and optionally the rest).
	// Errors: ErrDuplicateCall; ErrNoAgents when no logged-in agent has
	// call.Skill (checked in the same transaction).
	Enqueue(ctx context.Context, call Call) (Call, error)

	// Match first applies the timed transitions due at now: agents whose
	// wrap-up ends at or before now become ready (or their pending state),
	// and queued calls whose Deadline is at or before now are removed and
	// reported as Overflowed. Then it runs the greedy matching pass (see the
	// package documentation) and records every offer: call and agent both
	// become offered with a fresh token. Next is the earliest time after now
	// at which a timed transition or a preferred-agent wait expiry is due
	// (zero when none): call Match again then.
	Match(ctx context.Context, now time.Time) (MatchResult, error)

	// Answer moves an offered call and its agent to talking.
	// Errors: ErrUnknownAgent; ErrStaleOffer (also wrapping ErrUnknownCall
	// when the call is gone).
	Answer(ctx context.Context, offer Offer, now time.Time) error

	// NoAnswer puts an offered call back in its queue with its original Key,
	// Seq and Deadline, and makes the agent not_ready with reason (empty:
	// ReasonNoAnswer), or logged_out if a logout was pending. If the agent was
	// the call's preferred agent, the call stops waiting for them.
	// Errors as Answer.
	NoAnswer(ctx context.Context, offer Offer, reason string, now time.Time) error

	// Finish ends a talking call: the call is removed, the agent enters
	// wrap_up until now+call.WrapUp (or, with no wrap-up, becomes ready, or
	// takes its pending state). Errors as Answer.
	Finish(ctx context.Context, offer Offer, now time.Time) error

	// Leave removes a call wherever it is (the caller hung up or gave up) and
	// returns it as it was. An offered call's agent goes back to ready with
	// its IdleSince unchanged (not penalised); a talking call's agent goes to
	// wrap-up as with Finish. Errors: ErrUnknownCall.
	Leave(ctx context.Context, callID string, now time.Time) (Call, error)

	// Callback turns a waiting call (queued, or offered to an agent) into a
	// callback request for number and returns it: Key, Seq and the current
	// offer are kept, so it keeps its place in line, and Deadline is cleared,
	// so it does not overflow. Errors: ErrUnknownCall; ErrNotWaiting when the
	// call is talking.
	Callback(ctx context.Context, callID, number string, now time.Time) (Call, error)

	// SetAgentState applies an agent's request to be ready, not_ready or
	// logged_out and returns the agent afterwards. The rules:
	//   - ready from logged_out or not_ready: ready, IdleSince = now; ready
	//     when ready: no change; ready when offered, talking or in wrap-up:
	//     ErrAgentBusy (wrap-up is enforced in this version).
	//   - not_ready or logged_out from logged_out, not_ready, ready or
	//     wrap_up: takes effect at once (ends wrap-up early).
	//   - not_ready or logged_out when offered or talking: recorded as
	//     Agent.Pending and applied when the agent's call ends (after
	//     wrap-up); the current call is not disturbed.
	// Errors: ErrUnknownAgent, ErrInvalidState, ErrAgentBusy.
	SetAgentState(ctx context.Context, agentID string, state AgentState, reason string, now time.Time) (Agent, error)

	// Calls returns every call, whatever its state, in global queue order:
	// Key, then Seq.
	Calls(ctx context.Context) ([]Call, error)

	// Agents returns every agent, by id.
	Agents(ctx context.Context) ([]Agent, error)
}

// MatchResult is what Store.Match did.
type MatchResult struct {
	// Offers made, in the order the matching pass made them.
	Offers []Offer
	// Overflowed calls, removed because their Deadline passed.
	Overflowed []Call
	// WrapEnded lists agents whose wrap-up ended in this pass.
	WrapEnded []string
	// Next is when to call Match again for timed transitions; zero if none.
	Next time.Time
}

// Call is a call as a Store keeps it.
type Call struct {
	ID     string    `json:"id"`
	Caller string    `json:"caller,omitempty"`
	Queue  string    `json:"queue"`
	Skill  string    `json:"skill"`
	Tier   string    `json:"tier"`
	State  CallState `json:"state"`
	// EnqueuedAt is when the call first joined the queue.
	EnqueuedAt time.Time `json:"enqueued_at"`
	// Key is the virtual arrival time, EnqueuedAt − boost(Tier): the queue
	// order, lowest first. It never changes, not even on re-queue.
	Key time.Time `json:"key"`
	// Seq breaks ties on Key: store-wide enqueue order.
	Seq uint64 `json:"seq"`
	// PreferredAgent, if set, is offered the call first whenever ready; until
	// PreferUntil the call waits for them while they are logged in.
	PreferredAgent string    `json:"preferred_agent,omitempty"`
	PreferUntil    time.Time `json:"prefer_until,omitzero"`
	// Deadline is when the call overflows if still queued; zero: never.
	Deadline time.Time `json:"deadline,omitzero"`
	// WrapUp is the agent's wrap-up time after this call.
	WrapUp time.Duration `json:"wrap_up"`
	// AgentID, Token and OfferedAt describe the current offer (offered,
	// talking); AnsweredAt is set when talking.
	AgentID    string    `json:"agent_id,omitempty"`
	Token      uint64    `json:"token,omitempty"`
	OfferedAt  time.Time `json:"offered_at,omitzero"`
	AnsweredAt time.Time `json:"answered_at,omitzero"`
	// Misses counts offers of this call that were not answered.
	Misses int `json:"misses,omitempty"`
	// Callback is the number to call back when the call is a callback
	// request (the caller asked to be called back and hung up); empty for a
	// caller waiting on the line.
	Callback string `json:"callback,omitempty"`
}

// Offer returns the call's current offer (meaningful when offered or talking).
func (c Call) Offer() Offer {
	return Offer{CallID: c.ID, AgentID: c.AgentID, Queue: c.Queue, Token: c.Token, At: c.OfferedAt}
}

// Agent is an agent as a Store keeps it.
type Agent struct {
	ID     string         `json:"id"`
	Skills map[string]int `json:"skills"`
	State  AgentState     `json:"state"`
	// Reason is the not_ready reason.
	Reason string `json:"reason,omitempty"`
	// Since is when the agent entered State.
	Since time.Time `json:"since"`
	// IdleSince is when the agent last became ready or finished wrap-up: the
	// longest-idle tie-break. A caller hanging up during an offer does not
	// reset it.
	IdleSince time.Time `json:"idle_since,omitzero"`
	// CallID, Queue and Token describe the current call (offered, talking,
	// and during wrap-up the call just finished).
	CallID string `json:"call_id,omitempty"`
	Queue  string `json:"queue,omitempty"`
	Token  uint64 `json:"token,omitempty"`
	// WrapUntil is when wrap-up ends (wrap_up only).
	WrapUntil time.Time `json:"wrap_until,omitzero"`
	// Pending is a not_ready or logged_out requested while busy, applied when
	// the current call ends; PendingReason goes with a pending not_ready.
	Pending       AgentState `json:"pending,omitempty"`
	PendingReason string     `json:"pending_reason,omitempty"`
}

// Clone returns a copy of a that shares no memory with it.
func (a Agent) Clone() Agent {
	a.Skills = maps.Clone(a.Skills)
	return a
}
