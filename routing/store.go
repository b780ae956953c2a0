package routing

import (
	"context"
	"maps"
	"slices"
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
	// call.Skill or a skill of call.Steps, unless opts.JoinEmpty;
	// ErrQueueFull when opts.MaxQueued > 0 and the queue already holds that
	// many queued calls (calls ringing an agent do not count). All checked in
	// the same transaction.
	Enqueue(ctx context.Context, call Call, opts EnqueueOptions) (Call, error)

	// Match runs one pass at now, in this order:
	//  1. Nodes whose heartbeat lapsed (Until at or before now) are
	//     recovered: every call they own (Call.Node) is removed and reported
	//     in Lost; an agent it was ringing goes back to ready (IdleSince
	//     unchanged, or its pending state); an agent talking to it goes to
	//     the node's LostState (not_ready with ReasonNodeLost) or, when that
	//     is ready, to wrap-up as with Finish. The node's record goes.
	//  2. Offers whose lease passed (LeaseUntil at or before now) are
	//     withdrawn: the call is queued again (Key, Seq, Deadline kept; not a
	//     miss) and the agent goes back to ready (IdleSince unchanged, or
	//     its pending state); reported in Expired.
	//  3. Agent timers: agents whose WrapUntil is at or before now — in
	//     wrap_up, or not_ready after a missed offer — become ready (idle
	//     from WrapUntil) or take their pending state; reported in WrapEnded.
	//  4. Queued calls whose Deadline is at or before now are removed and
	//     reported as Overflowed.
	//  5. The greedy matching pass (see the package documentation) with
	//     skill steps; every offer is recorded: call and agent both become
	//     offered with a fresh token, and LeaseUntil = now + call.Lease when
	//     Lease > 0.
	// Next is the earliest time after now at which a timed transition, a
	// preferred-agent wait expiry, a skill step, an offer lease or a node
	// heartbeat is due (zero when none): call Match again then.
	Match(ctx context.Context, now time.Time) (MatchResult, error)

	// Answer moves an offered call and its agent to talking and returns the
	// call as it is now; the agent's run of misses ends (Misses = 0).
	// Errors: ErrUnknownAgent; ErrStaleOffer (also wrapping ErrUnknownCall
	// when the call is gone).
	Answer(ctx context.Context, offer Offer, now time.Time) (Call, error)

	// NoAnswer puts an offered call back in its queue with its original Key,
	// Seq and Deadline (Call.Misses + 1) and applies miss to the agent
	// (Agent.Misses + 1): a pending logout or not_ready takes effect; else,
	// when miss.MaxMisses > 0 and the agent has now missed that many offers
	// in a row, it becomes not_ready with ReasonNotResponding and stays so;
	// else it becomes not_ready with miss.Reason (empty: ReasonNoAnswer)
	// until miss.Until (WrapUntil), or ready at once (IdleSince = now) when
	// miss.Until is not after now. If the agent was the call's preferred
	// agent, the call stops waiting for them. Errors as Answer.
	NoAnswer(ctx context.Context, offer Offer, miss Miss, now time.Time) error

	// Finish ends a talking call: the call is removed and returned as it was,
	// the agent enters wrap_up until now+call.WrapUp (or, with no wrap-up,
	// becomes ready, or takes its pending state). Errors as Answer.
	Finish(ctx context.Context, offer Offer, now time.Time) (Call, error)

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

	// Modify applies a supervisor's change to a queued call and returns the
	// call afterwards: the non-zero fields of change replace the call's, and
	// the call is re-indexed at once (a new Key moves it in line; a new
	// Queue moves it to that queue keeping its Key unless change.Key is
	// set). Errors: ErrUnknownCall; ErrNotWaiting when the call is offered
	// or talking.
	Modify(ctx context.Context, callID string, change CallChange, now time.Time) (Call, error)

	// SetAgentState applies a request to be ready, not_ready or logged_out
	// and returns the agent afterwards. The rules:
	//   - ready from logged_out or not_ready (also a not_ready after a miss):
	//     ready, IdleSince = now, Misses = 0; ready when ready: no change;
	//     ready when offered or talking: ErrAgentBusy; ready in wrap-up:
	//     ErrAgentBusy, unless force (a supervisor), which ends the wrap-up.
	//   - not_ready or logged_out from logged_out, not_ready, ready or
	//     wrap_up: takes effect at once (ends wrap-up or a miss delay early).
	//   - not_ready or logged_out when offered or talking: recorded as
	//     Agent.Pending and applied when the agent's call ends (after
	//     wrap-up); the current call is not disturbed.
	// Errors: ErrUnknownAgent, ErrInvalidState, ErrAgentBusy.
	SetAgentState(ctx context.Context, agentID string, state AgentState, reason string, force bool, now time.Time) (Agent, error)

	// Heartbeat records that node is alive until node.Until, with the state
	// its talking agents take if it is lost (see Match). A node that stops
	// calling Heartbeat is recovered by whichever node's Match runs after
	// its Until.
	Heartbeat(ctx context.Context, node Node) error

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
	// WrapEnded lists agents whose wrap-up or miss delay ended in this pass.
	WrapEnded []string
	// Lost lists the calls removed because the node owning them was lost,
	// as they were.
	Lost []Call
	// LostNodes names the nodes recovered in this pass.
	LostNodes []string
	// Expired lists the offers withdrawn because their lease passed.
	Expired []Offer
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
	// Node is the Kefu node holding the caller's SIP dialog: offers are
	// delivered there, and the call is removed if that node is lost. Empty:
	// never recovered.
	Node string `json:"node,omitempty"`
	// Lease is how long an offer of this call may stay unanswered before
	// Match withdraws it; 0: no lease. LeaseUntil is the current offer's.
	Lease      time.Duration `json:"lease,omitempty"`
	LeaseUntil time.Time     `json:"lease_until,omitzero"`
	// Steps are the skill steps (see Step). Empty means one step: Skill at
	// any level from EnqueuedAt.
	Steps []Step `json:"steps,omitempty"`
}

// Step is one stage of a call's widening agent requirements: from At on, an
// agent with Skill at MinLevel or better may take the call. Steps are in At
// order and add up: an agent qualifying for any step reached qualifies, and
// the earliest step with a qualified ready agent chooses (its best agent).
type Step struct {
	At       time.Time `json:"at"`
	Skill    string    `json:"skill"`
	MinLevel int       `json:"min_level"`
}

// CallSteps returns the call's steps, or its one implicit step.
func (c Call) CallSteps() []Step {
	if len(c.Steps) > 0 {
		return c.Steps
	}
	return []Step{{At: c.EnqueuedAt, Skill: c.Skill, MinLevel: 1}}
}

// Clone returns a copy of c that shares no memory with it.
func (c Call) Clone() Call {
	c.Steps = slices.Clone(c.Steps)
	return c
}

// EnqueueOptions are the queue's joining rules for Store.Enqueue.
type EnqueueOptions struct {
	// MaxQueued is the most calls the queue may hold queued; 0: no limit.
	MaxQueued int
	// JoinEmpty lets a call join when no agent with its skill is logged in.
	JoinEmpty bool
}

// Miss is what Store.NoAnswer does to the agent who missed an offer.
type Miss struct {
	// Reason is the not_ready reason (empty: ReasonNoAnswer).
	Reason string
	// Until is when the agent is ready again.
	Until time.Time
	// MaxMisses is how many misses in a row make the agent not_ready with
	// ReasonNotResponding until it asks to be ready; 0: no limit.
	MaxMisses int
}

// CallChange is a supervisor's change to a queued call (Store.Modify).
// Zero fields keep the call's value.
type CallChange struct {
	Tier string
	Key  time.Time
	// Queue, Skill, Steps, WrapUp and Lease move the call to another queue;
	// set them together.
	Queue  string
	Skill  string
	Steps  []Step
	WrapUp time.Duration
	Lease  time.Duration
	// PreferredAgent and PreferUntil send the call to a named agent, who is
	// offered it first and is waited for until PreferUntil.
	PreferredAgent string
	PreferUntil    time.Time
}

// Node is a Kefu node's heartbeat (Store.Heartbeat).
type Node struct {
	ID string `json:"id"`
	// Until is when the node counts as lost unless it beats again.
	Until time.Time `json:"until"`
	// LostState is what agents talking on the node's calls become when it
	// is lost: AgentNotReady (ReasonNodeLost) or AgentReady (after the
	// call's wrap-up).
	LostState AgentState `json:"lost_state"`
}

// Offer returns the call's current offer (meaningful when offered or talking).
func (c Call) Offer() Offer {
	return Offer{CallID: c.ID, AgentID: c.AgentID, Queue: c.Queue, Token: c.Token, At: c.OfferedAt, Node: c.Node}
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
	// WrapUntil is when wrap-up ends (wrap_up), or when an agent made
	// not_ready by a missed offer is ready again (not_ready; zero for a
	// not_ready the agent chose).
	WrapUntil time.Time `json:"wrap_until,omitzero"`
	// Misses counts the offers the agent missed in a row (since it last
	// answered or asked to be ready).
	Misses int `json:"misses,omitempty"`
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
