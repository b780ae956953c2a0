package callrecord

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Version is the record format written in every record's "v" field.
const Version = 1

// Disposition says how a call ended.
type Disposition string

// The dispositions.
const (
	// Answered: an agent answered.
	Answered Disposition = "answered"
	// AbandonedIVR: the caller hung up before reaching a queue.
	AbandonedIVR Disposition = "abandoned_ivr"
	// AbandonedQueue: the caller hung up while waiting (or while an agent's
	// phone rang).
	AbandonedQueue Disposition = "abandoned_queue"
	// Overflowed: the call left the queue without an agent; OverflowReason
	// says why (OverflowMaxWait, OverflowNoAgents, OverflowQueueFull).
	Overflowed Disposition = "overflowed"
	// Callback: the caller asked to be called back.
	Callback Disposition = "callback"
	// Voicemail: the caller left a voicemail.
	Voicemail Disposition = "voicemail"
	// Completed: the IVR alone served the call (self-service, ended by the
	// flow).
	Completed Disposition = "completed"
)

// Overflow reasons.
const (
	// OverflowMaxWait: the queue's maximum wait passed.
	OverflowMaxWait = "max_wait"
	// OverflowNoAgents: no agent with the queue's skill was logged in.
	OverflowNoAgents = "no_agents"
	// OverflowQueueFull: the queue held its maximum of waiting calls.
	OverflowQueueFull = "queue_full"
)

// Valid reports whether d is one of the dispositions.
func (d Disposition) Valid() bool {
	switch d {
	case Answered, AbandonedIVR, AbandonedQueue, Overflowed, Callback, Voicemail, Completed:
		return true
	}
	return false
}

// Step is one node of the flow the call entered.
type Step struct {
	Node string `json:"node"`
	// Exit is the exit the node left by, when it finished.
	Exit string `json:"exit,omitempty"`
	// Digits the caller entered at the node, already masked ("****") where
	// the flow marks them sensitive.
	Digits string `json:"digits,omitempty"`
}

// Record is one call, written when it ends.
type Record struct {
	// CallID identifies the call; Node is the Kefu node that handled it.
	CallID, Node string
	// Caller is the caller id as received; Called the access number dialled.
	Caller, Called string
	// Tier is the caller's routing tier; Stars the star grade (0 unknown).
	Tier  string
	Stars int
	// Flow and FlowVersion are the flow that answered and its version.
	Flow, FlowVersion string
	// Path is every flow node entered, in order.
	Path []Step
	// Queue is the last queue the call was in, if any.
	Queue string
	// Start is when the INVITE arrived; End when the call ended.
	Start, End time.Time
	// Enqueued, Offered (the first offer to an agent), Answered and AgentEnd
	// (the agent's leg ended) are zero when they did not happen.
	Enqueued, Offered, Answered, AgentEnd time.Time
	// Agent is the agent who answered.
	Agent string
	// RingAttempts counts the offers made to agents, answered or not.
	RingAttempts int
	// WrapUp is the queue's wrap-up after this call (part of the handle time).
	WrapUp time.Duration
	// Disposition says how the call ended. OverflowReason is set when the
	// call left its queue by overflow (the disposition is then Overflowed,
	// or what the flow did next: Voicemail, Callback, …).
	Disposition    Disposition
	OverflowReason string
	// Survey maps a survey question id to the answer (label or digit).
	Survey map[string]string
	// Recordings are the voicemail files left.
	Recordings []string
}

// ErrInvalid is wrapped by the errors of Validate (and so of decoding and
// writing an invalid record).
var ErrInvalid = errors.New("invalid call record")

// Validate checks that the record is whole and consistent: a call id,
// start and end in order, a known disposition with the times it implies
// (an answered call has Enqueued, Answered and an Agent; a call abandoned in
// the queue has Enqueued), a known overflow reason, and times of the queue
// within the call.
func (r *Record) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %q: %s", ErrInvalid, r.CallID, fmt.Sprintf(format, args...))
	}
	switch {
	case r.CallID == "":
		return fmt.Errorf("%w: no call_id", ErrInvalid)
	case r.Start.IsZero():
		return bad("no start time")
	case r.End.IsZero():
		return bad("no end time")
	case r.End.Before(r.Start):
		return bad("end %s before start %s", r.End.Format(time.RFC3339Nano), r.Start.Format(time.RFC3339Nano))
	case !r.Disposition.Valid():
		return bad("disposition %q is not one of answered, abandoned_ivr, abandoned_queue, overflowed, callback, voicemail, completed", r.Disposition)
	case r.Stars < 0 || r.Stars > 5:
		return bad("stars %d not in 0…5", r.Stars)
	case r.RingAttempts < 0:
		return bad("ring_attempts %d is negative", r.RingAttempts)
	case r.WrapUp < 0:
		return bad("wrap_up %s is negative", r.WrapUp)
	}
	switch r.OverflowReason {
	case "", OverflowMaxWait, OverflowNoAgents, OverflowQueueFull:
	default:
		return bad("overflow_reason %q is not one of max_wait, no_agents, queue_full", r.OverflowReason)
	}
	if r.Disposition == Overflowed && r.OverflowReason == "" {
		return bad("overflowed without an overflow_reason")
	}
	if r.OverflowReason != "" && r.Queue == "" {
		return bad("overflow_reason without a queue")
	}
	if (r.Disposition == Answered) != !r.Answered.IsZero() {
		return bad("disposition %s with answered time %v: an answered call, and only it, has an answer time", r.Disposition, !r.Answered.IsZero())
	}
	if r.Disposition == Answered && (r.Agent == "" || r.Enqueued.IsZero() || r.Queue == "") {
		return bad("answered without agent, queue or enqueued time")
	}
	if r.Disposition == AbandonedQueue && (r.Enqueued.IsZero() || r.Queue == "") {
		return bad("abandoned_queue without queue or enqueued time")
	}
	if !r.Enqueued.IsZero() && r.Queue == "" {
		return bad("enqueued without a queue")
	}
	// Times of the queue, when set, lie in [Start, End] and in order.
	prev, prevName := r.Start, "start"
	for _, t := range []struct {
		name string
		at   time.Time
	}{{"enqueued", r.Enqueued}, {"answered", r.Answered}, {"agent_end", r.AgentEnd}} {
		if t.at.IsZero() {
			continue
		}
		if t.at.Before(prev) || t.at.After(r.End) {
			return bad("%s %s not between %s %s and end %s", t.name, t.at.Format(time.RFC3339Nano), prevName, prev.Format(time.RFC3339Nano), r.End.Format(time.RFC3339Nano))
		}
		prev, prevName = t.at, t.name
	}
	if !r.Offered.IsZero() && (r.Offered.Before(r.Enqueued) || r.Offered.After(r.End)) {
		return bad("offered %s not between enqueued and end", r.Offered.Format(time.RFC3339Nano))
	}
	return nil
}

// wire is a Record as JSON.
type wire struct {
	V              int               `json:"v"`
	CallID         string            `json:"call_id"`
	Node           string            `json:"node,omitzero"`
	Caller         string            `json:"caller,omitzero"`
	Called         string            `json:"called,omitzero"`
	Tier           string            `json:"tier,omitzero"`
	Stars          int               `json:"stars,omitzero"`
	Flow           string            `json:"flow,omitzero"`
	FlowVersion    string            `json:"flow_version,omitzero"`
	Path           []Step            `json:"path,omitempty"`
	Queue          string            `json:"queue,omitzero"`
	Start          time.Time         `json:"start"`
	End            time.Time         `json:"end"`
	Enqueued       time.Time         `json:"enqueued,omitzero"`
	Offered        time.Time         `json:"offered,omitzero"`
	Answered       time.Time         `json:"answered,omitzero"`
	AgentEnd       time.Time         `json:"agent_end,omitzero"`
	Agent          string            `json:"agent,omitzero"`
	RingAttempts   int               `json:"ring_attempts,omitzero"`
	WrapUpS        float64           `json:"wrap_up_s,omitzero"`
	Disposition    Disposition       `json:"disposition"`
	OverflowReason string            `json:"overflow_reason,omitzero"`
	Survey         map[string]string `json:"survey,omitempty"`
	Recordings     []string          `json:"recordings,omitempty"`
}

// MarshalJSON encodes the record in the wire format (see the package doc).
func (r Record) MarshalJSON() ([]byte, error) {
	return json.Marshal(wire{
		V: Version, CallID: r.CallID, Node: r.Node, Caller: r.Caller, Called: r.Called,
		Tier: r.Tier, Stars: r.Stars, Flow: r.Flow, FlowVersion: r.FlowVersion, Path: r.Path,
		Queue: r.Queue, Start: r.Start, End: r.End, Enqueued: r.Enqueued, Offered: r.Offered,
		Answered: r.Answered, AgentEnd: r.AgentEnd, Agent: r.Agent, RingAttempts: r.RingAttempts,
		WrapUpS: r.WrapUp.Seconds(), Disposition: r.Disposition, OverflowReason: r.OverflowReason,
		Survey: r.Survey, Recordings: r.Recordings,
	})
}

// UnmarshalJSON decodes the wire format strictly: unknown fields and
// another version are errors. It does not Validate; Decode does.
func (r *Record) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var w wire
	if err := dec.Decode(&w); err != nil {
		return err
	}
	if w.V != Version {
		return fmt.Errorf("record version %d: this Kefu reads version %d (upgrade Kefu to read newer records)", w.V, Version)
	}
	wrap, err := secondsToDuration(w.WrapUpS)
	if err != nil {
		return fmt.Errorf("wrap_up_s: %w", err)
	}
	*r = Record{
		CallID: w.CallID, Node: w.Node, Caller: w.Caller, Called: w.Called,
		Tier: w.Tier, Stars: w.Stars, Flow: w.Flow, FlowVersion: w.FlowVersion, Path: w.Path,
		Queue: w.Queue, Start: w.Start, End: w.End, Enqueued: w.Enqueued, Offered: w.Offered,
		Answered: w.Answered, AgentEnd: w.AgentEnd, Agent: w.Agent, RingAttempts: w.RingAttempts,
		WrapUp: wrap, Disposition: w.Disposition, OverflowReason: w.OverflowReason,
		Survey: w.Survey, Recordings: w.Recordings,
	}
	return nil
}

// maxWrapUp bounds wrap_up_s so that it fits a time.Duration.
const maxWrapUp = 24 * time.Hour

func secondsToDuration(s float64) (time.Duration, error) {
	if s != s || s < 0 || s > maxWrapUp.Seconds() {
		return 0, fmt.Errorf("%v seconds is not in 0…%v", s, maxWrapUp.Seconds())
	}
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond), nil
}

// Decode parses one line of the wire format and validates the record.
func Decode(line []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(line, &r); err != nil {
		return Record{}, err
	}
	if err := r.Validate(); err != nil {
		return Record{}, err
	}
	return r, nil
}

// Encode validates r and returns its wire format, one line ending in '\n'.
func Encode(r Record) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("callrecord: encoding %q: %w", r.CallID, err)
	}
	return append(b, '\n'), nil
}
