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
	// refused because no agent can serve the queue. When the caller hangs up
	// (an ErrHangup error) the result says where: no outcome while waiting,
	// QueueAnswered with the agent while talking.
	Queue(ctx context.Context, req QueueRequest) (QueueResult, error)

	// Record records what the caller says (voicemail) after an optional beep,
	// until the maximum length, a stretch of silence or a finish key, and
	// returns where the recording was kept.
	Record(ctx context.Context, req RecordRequest) (RecordResult, error)

	// Transfer sends the call elsewhere: blind (SIP REFER; the call leaves
	// Kefu, and Transfer returns TransferDone) or bridged (Kefu calls the
	// target and connects the caller; Transfer returns when the target hangs
	// up, with the caller still on the line, or when the target cannot be
	// reached).
	Transfer(ctx context.Context, req TransferRequest) (TransferResult, error)

	// Hangup ends the call. Further methods return errors wrapping ErrHangup.
	Hangup(ctx context.Context, reason string) error
}

// DigitMasker is an optional part of a Call: a collect node storing a
// sensitive variable asks the call to mask the keys it logs while the node
// reads them (an account number, a PIN).
type DigitMasker interface {
	MaskDigits(on bool)
}

// QueueRequest says where a flow puts a call and what the caller hears while
// waiting.
type QueueRequest struct {
	// Queue is the name of a queue from the configuration.
	Queue string
	// Music is the prompt looped to the caller while waiting; empty means silence
	// (or ring-back, when the call has not been answered yet).
	Music string
	// Tier overrides the tier the router gives the caller (from the customer
	// directory); empty keeps it. The flow sets it, for example, for a caller a
	// lookup node found to be a key account.
	Tier string
	// PreferredAgent is an agent id to offer the call to first (the caller's
	// account manager); the call waits for that agent up to PreferredWait, then
	// any agent of the queue may take it. Empty: no preference.
	PreferredAgent string
	PreferredWait  time.Duration
	// MaxWait, when positive, overrides the queue's maximum wait: after it the
	// call leaves with QueueMaxWait.
	MaxWait time.Duration
	// Announce, when not nil, is played periodically while waiting, between
	// stretches of music.
	Announce *QueueAnnounce
	// Callback, when not nil, offers the caller to be called back instead of
	// waiting; pressing its key ends Queue with QueueCallback and the call keeps
	// its place in line.
	Callback *CallbackOffer
}

// QueueStatus is what a waiting caller can be told.
type QueueStatus struct {
	// Position is 1 for the next call to be served.
	Position int
	// EstimatedWait is the router's estimate of the remaining wait; 0 when it
	// has no estimate yet.
	EstimatedWait time.Duration
	// Waited is how long the call has been in the queue.
	Waited time.Duration
}

// QueueAnnounce plays the caller's position and estimated wait.
type QueueAnnounce struct {
	// Every is the time between announcements; the first comes after Every.
	Every time.Duration
	// Prompts returns the prompts to play for the current status (the
	// engine renders them in the caller's language). An error skips this
	// announcement.
	Prompts func(ctx context.Context, st QueueStatus) ([]string, error)
}

// CallbackOffer offers a call back instead of waiting.
type CallbackOffer struct {
	// Key is the key that asks for the call back.
	Key rune
	// After is how long the caller waits before the offer is first played;
	// it is repeated with every announcement.
	After time.Duration
	// MinWait offers the call back only when the estimated wait is at least
	// this long (0: always).
	MinWait time.Duration
	// Prompts is what to play to make the offer.
	Prompts []string
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
	// QueueFull: the queue already holds its maximum number of callers.
	// Flows without a queue_full exit take no_agents.
	QueueFull QueueOutcome = "queue_full"
	// QueueCallback: the caller asked to be called back; the call keeps its
	// place in line and an agent calls the caller back when it is served.
	QueueCallback QueueOutcome = "callback"
)

// QueueResult is what Call.Queue returns.
type QueueResult struct {
	Outcome QueueOutcome
	// AgentID is the agent who served the call, when Outcome is QueueAnswered.
	AgentID string
}

// RecordRequest says how to record a message.
type RecordRequest struct {
	// Mailbox names where the message goes (a folder under the server's
	// voicemail directory).
	Mailbox string
	// Beep plays a short tone before recording starts.
	Beep bool
	// MaxLength ends the recording after this long.
	MaxLength time.Duration
	// SilenceEnd ends the recording after this much silence (0: never).
	SilenceEnd time.Duration
	// FinishKeys are keys that end the recording ("#").
	FinishKeys string
}

// RecordOutcome says how a recording ended.
type RecordOutcome string

// Outcomes of Call.Record.
const (
	// RecordOK: something was recorded and kept.
	RecordOK RecordOutcome = "ok"
	// RecordNoAudio: the caller said nothing; nothing was kept.
	RecordNoAudio RecordOutcome = "no_audio"
)

// RecordResult is what Call.Record returns.
type RecordResult struct {
	Outcome RecordOutcome
	// File is where the recording was written (empty for RecordNoAudio).
	File string
	// Length is the length of the recording.
	Length time.Duration
}

// TransferMode is how a call is transferred.
type TransferMode string

// Transfer modes.
const (
	// TransferBlind hands the call over with SIP REFER; it leaves Kefu.
	TransferBlind TransferMode = "blind"
	// TransferBridge calls the target and connects the caller to it; the
	// caller comes back to the flow when the target hangs up.
	TransferBridge TransferMode = "bridge"
)

// TransferRequest says where to transfer a call.
type TransferRequest struct {
	// To is a SIP URI ("sip:desk@pbx.example") or a number, which is sent to
	// the trunk the call came from.
	To      string
	Mode    TransferMode
	Timeout time.Duration // how long a bridged transfer rings; 0: 30 s
}

// TransferOutcome says how a transfer ended.
type TransferOutcome string

// Outcomes of Call.Transfer.
const (
	// TransferDone: a blind transfer was accepted; the call has left Kefu.
	TransferDone TransferOutcome = "transferred"
	// TransferAfterAgent: a bridged target answered and later hung up; the
	// caller is still on the line.
	TransferAfterAgent TransferOutcome = "after_agent"
	// TransferBusy, TransferNoAnswer: the target was busy or did not answer.
	TransferBusy     TransferOutcome = "busy"
	TransferNoAnswer TransferOutcome = "no_answer"
	// TransferFailed: the target refused or could not be reached.
	TransferFailed TransferOutcome = "failed"
)

// TransferResult is what Call.Transfer returns.
type TransferResult struct {
	Outcome TransferOutcome
	// Status is the SIP status code that decided the outcome, when there was one.
	Status int
}

// Errors a Call returns; implementations wrap them with %w.
var (
	// ErrHangup: the caller hung up or the call was ended.
	ErrHangup = errors.New("call ended")
	// ErrNoInput: ReadDigit timed out with no key press.
	ErrNoInput = errors.New("no input")
)
