package ivr

import (
	"context"
	"errors"
	"time"
)

// Call is what a flow needs of a phone call. The SIP front end implements it for
// real calls; tests and the simulator implement it with a scripted caller. A Call's
// methods end with the call: once the caller hangs up, every method returns an
// error that wraps ErrHangup (or the context's error).
type Call interface {
	// ID identifies the call for logs and records.
	ID() string
	// Caller is the calling number as presented by the trunk (may be "anonymous").
	Caller() string
	// Called is the dialled access number.
	Called() string

	// Play plays the named prompts in order and returns when they have been played.
	// With bargeIn, a key press stops playback at once; the digit stays buffered and
	// is returned by the next ReadDigit. Without bargeIn, digits pressed during the
	// prompt are buffered too (type-ahead).
	Play(ctx context.Context, prompts []string, bargeIn bool) error
	// ReadDigit returns the next key press ('0'-'9', '*', '#', 'A'-'D'), taking
	// buffered ones first and otherwise waiting up to timeout. It returns an error
	// wrapping ErrNoInput when the timeout passes with no key press.
	ReadDigit(ctx context.Context, timeout time.Duration) (rune, error)
	// FlushDigits discards key presses buffered so far.
	FlushDigits()

	// Queue places the call in a queue and returns when it has left it: served by an
	// agent (after the agent hung up), overflowed after the queue's maximum wait, or
	// refused because no agent can serve the queue.
	Queue(ctx context.Context, req QueueRequest) (QueueResult, error)

	// Hangup ends the call. Further methods return errors wrapping ErrHangup.
	Hangup(ctx context.Context, reason string) error
}

// QueueRequest says where a flow puts a call.
type QueueRequest struct {
	// Queue is the name of a queue from the configuration.
	Queue string
	// Music is the prompt looped to the caller while waiting; empty means silence
	// (or ring-back, when the call has not been answered yet).
	Music string
}

// QueueOutcome says how a call left a queue.
type QueueOutcome string

// Outcomes of Call.Queue.
const (
	// QueueAnswered: an agent answered and the conversation has ended on the
	// agent's side; the caller is still on the line.
	QueueAnswered QueueOutcome = "after_agent"
	// QueueMaxWait: the queue's maximum wait passed with no agent.
	QueueMaxWait QueueOutcome = "max_wait"
	// QueueNoAgents: no agent is logged in who could serve the queue.
	QueueNoAgents QueueOutcome = "no_agents"
)

// QueueResult is what Call.Queue returns.
type QueueResult struct {
	Outcome QueueOutcome
	// AgentID is the agent who served the call, when Outcome is QueueAnswered.
	AgentID string
}

// Errors a Call returns; implementations wrap them with %w.
var (
	// ErrHangup: the caller hung up or the call was ended.
	ErrHangup = errors.New("call ended")
	// ErrNoInput: ReadDigit timed out with no key press.
	ErrNoInput = errors.New("no input")
)
