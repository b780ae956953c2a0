package routing

import "errors"

// Errors callers branch on. Every error the Router and the stores return wraps one
// of these (with %w) when it applies, so test them with errors.Is.
var (
	// ErrNoAgents: no logged-in agent has the queue's skill, so the call cannot
	// join the queue; the IVR flow takes its no_agents exit. Agents who are
	// not_ready, ringing, talking or in wrap-up count as logged in.
	ErrNoAgents = errors.New("no agent logged in with the skill")

	// ErrStaleOffer: the offer is no longer the current one for its call and agent
	// (an older token, a call that was re-queued, left or already finished), or it
	// is not in the stage the operation needs (Answered twice, Finished before
	// Answered). The SIP layer stops ringing or bridging the agent for that offer.
	// When the call itself is gone the error also wraps ErrUnknownCall.
	ErrStaleOffer = errors.New("stale offer")

	// ErrUnknownCall: no call with that id is queued, offered or talking.
	ErrUnknownCall = errors.New("unknown call")

	// ErrUnknownAgent: no agent with that id is configured.
	ErrUnknownAgent = errors.New("unknown agent")

	// ErrUnknownQueue: no queue with that name is configured.
	ErrUnknownQueue = errors.New("unknown queue")

	// ErrDuplicateCall: a call with that id is already in the router.
	ErrDuplicateCall = errors.New("duplicate call id")

	// ErrAgentBusy: the agent state change is refused because the agent is
	// ringing, talking or in wrap-up (for example "ready" while talking).
	ErrAgentBusy = errors.New("agent busy")

	// ErrInvalidState: SetAgentState was asked for a state other than ready,
	// not_ready or logged_out.
	ErrInvalidState = errors.New("invalid agent state")

	// ErrNotWaiting: the call is already talking to an agent, so it cannot
	// become a callback request.
	ErrNotWaiting = errors.New("call is not waiting")

	// ErrUnknownTier: no tier with that name is configured.
	ErrUnknownTier = errors.New("unknown tier")

	// ErrQueueFull: the queue holds its maximum number of queued calls.
	ErrQueueFull = errors.New("queue full")

	// ErrClosed: the Router has been closed.
	ErrClosed = errors.New("router closed")
)
