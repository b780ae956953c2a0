// Package ivrtest provides a scripted ivr.Call: a caller whose key presses,
// silences, hang-ups and queue outcomes are given in advance, for engine
// tests and the flow simulator. It never waits: a flow run against it
// finishes at once.
package ivrtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"kefu/ivr"
)

// Script tokens, consumed in order as the flow calls the Call:
//
//	"1", "12#"     keys pressed when the flow next listens: at the next prompt
//	               played with barge-in (which they cut short) or the next
//	               ReadDigit. All keys of one token arrive together.
//	"~1"           keys typed ahead during the next prompt that really plays
//	               (one with barge-in is cut at once when keys are already
//	               buffered), even one played without barge-in; they stay
//	               buffered for the next menu.
//	"-", "silence" the caller presses nothing at the next ReadDigit (timeout).
//	"hangup"       the caller hangs up during the next Play, ReadDigit or Queue.
//	"queue:after_agent[:AGENT]", "queue:max_wait", "queue:no_agents",
//	"queue:callback"
//	               how the next Queue ends. A Queue call with no queue token
//	               next in the script ends with DefaultQueue.
//	"record:ok", "record:no_audio"
//	               how the next Record ends (default ok).
//	"transfer:transferred", "transfer:after_agent", "transfer:busy",
//	"transfer:no_answer", "transfer:failed"
//	               how the next Transfer ends (default: transferred for a
//	               blind transfer, after_agent for a bridged one).
//
// When the script runs out the caller stays silent (ReadDigit times out)
// and never hangs up.
const (
	tokSilence  = "-"
	tokSilence2 = "silence"
	tokHangup   = "hangup"
	tokEarly    = "~"
	tokQueue    = "queue:"
	tokRecord   = "record:"
	tokTransfer = "transfer:"
	dtmfKeys    = "0123456789*#ABCD"
)

// ParseScript splits a script written on one line ("1 2 ~9 - hangup",
// commas also separate) into tokens and checks each.
func ParseScript(s string) ([]string, error) {
	toks := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
	for _, t := range toks {
		if err := checkToken(t); err != nil {
			return nil, err
		}
	}
	return toks, nil
}

func checkToken(t string) error {
	switch {
	case t == tokSilence || t == tokSilence2 || t == tokHangup:
		return nil
	case strings.HasPrefix(t, tokQueue):
		if _, err := parseQueue(t); err != nil {
			return err
		}
		return nil
	case strings.HasPrefix(t, tokRecord):
		switch ivr.RecordOutcome(strings.TrimPrefix(t, tokRecord)) {
		case ivr.RecordOK, ivr.RecordNoAudio:
			return nil
		}
		return fmt.Errorf("ivrtest: script token %q: want record:ok or record:no_audio", t)
	case strings.HasPrefix(t, tokTransfer):
		switch ivr.TransferOutcome(strings.TrimPrefix(t, tokTransfer)) {
		case ivr.TransferDone, ivr.TransferAfterAgent, ivr.TransferBusy, ivr.TransferNoAnswer, ivr.TransferFailed:
			return nil
		}
		return fmt.Errorf("ivrtest: script token %q: want transfer:transferred, after_agent, busy, no_answer or failed", t)
	case isKeys(strings.TrimPrefix(t, tokEarly)):
		return nil
	}
	return fmt.Errorf("ivrtest: script token %q: want keys (0-9 * # A-D, ~ for typed ahead), -, hangup, queue:OUTCOME[:AGENT], record:OUTCOME or transfer:OUTCOME", t)
}

func isKeys(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune(dtmfKeys, r) {
			return false
		}
	}
	return true
}

func parseQueue(t string) (ivr.QueueResult, error) {
	parts := strings.SplitN(strings.TrimPrefix(t, tokQueue), ":", 2)
	r := ivr.QueueResult{Outcome: ivr.QueueOutcome(parts[0])}
	switch r.Outcome {
	case ivr.QueueAnswered:
		r.AgentID = "agent-1"
		if len(parts) == 2 && parts[1] != "" {
			r.AgentID = parts[1]
		}
	case ivr.QueueMaxWait, ivr.QueueNoAgents, ivr.QueueCallback:
		if len(parts) == 2 {
			return r, fmt.Errorf("ivrtest: script token %q: only after_agent takes an agent", t)
		}
	default:
		return r, fmt.Errorf("ivrtest: script token %q: outcome must be after_agent, max_wait, no_agents or callback", t)
	}
	return r, nil
}

// ScriptedCall is an ivr.Call driven by a script. It is safe for use by
// one flow run at a time; its accessors may be called concurrently.
type ScriptedCall struct {
	// CallID, CallerNumber and CalledNumber are returned by ID, Caller and
	// Called. Set them before the run; defaults "test-call", "13800138000",
	// "10086".
	CallID, CallerNumber, CalledNumber string
	// DefaultQueue is how Queue ends when the script has no queue token
	// next. Default: answered by "agent-1".
	DefaultQueue ivr.QueueResult

	mu         sync.Mutex
	script     []string
	buffer     []rune
	transcript []string
	queues     []ivr.QueueRequest
	ended      string // "" while the call is up; who ended it otherwise
}

var _ ivr.Call = (*ScriptedCall)(nil)

// NewScriptedCall returns a call that follows script (see the tokens
// above). It panics on an invalid token: check user input with ParseScript.
func NewScriptedCall(script ...string) *ScriptedCall {
	for _, t := range script {
		if err := checkToken(t); err != nil {
			panic(err)
		}
	}
	return &ScriptedCall{
		CallID:       "test-call",
		CallerNumber: "13800138000",
		CalledNumber: "10086",
		DefaultQueue: ivr.QueueResult{Outcome: ivr.QueueAnswered, AgentID: "agent-1"},
		script:       slices.Clone(script),
	}
}

// ID implements ivr.Call.
func (c *ScriptedCall) ID() string { return c.CallID }

// Caller implements ivr.Call.
func (c *ScriptedCall) Caller() string { return c.CallerNumber }

// Called implements ivr.Call.
func (c *ScriptedCall) Called() string { return c.CalledNumber }

// Transcript returns what happened on the call, one line per event:
//
//	play welcome
//	typed 1 during welcome
//	play main_menu (cut short by a key)
//	read 1
//	read: no input after 5s
//	flush 12           (keys dropped; "flush" when there were none)
//	queue billing (music hold_music): after_agent by agent-1
//	caller hung up during play goodbye
//	hangup normal
func (c *ScriptedCall) Transcript() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.transcript)
}

// QueueRequests returns the requests passed to Queue, in order.
func (c *ScriptedCall) QueueRequests() []ivr.QueueRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.queues)
}

// Remaining returns the script tokens not consumed yet.
func (c *ScriptedCall) Remaining() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.script)
}

// Buffered returns the keys pressed but not read yet.
func (c *ScriptedCall) Buffered() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.buffer)
}

func (c *ScriptedCall) logf(format string, args ...any) {
	c.transcript = append(c.transcript, fmt.Sprintf(format, args...))
}

// head returns the next script token, or "".
func (c *ScriptedCall) head() string {
	if len(c.script) == 0 {
		return ""
	}
	return c.script[0]
}

func (c *ScriptedCall) pop() string {
	t := c.script[0]
	c.script = c.script[1:]
	return t
}

// gone returns the error for a call that is over, or nil.
func (c *ScriptedCall) gone(ctx context.Context) error {
	if c.ended != "" {
		return fmt.Errorf("%w (%s)", ivr.ErrHangup, c.ended)
	}
	if err := ctx.Err(); err != nil {
		c.ended = "context ended"
		return fmt.Errorf("%w: %w", ivr.ErrHangup, err)
	}
	return nil
}

// callerHangsUp consumes a hangup token at the head of the script.
func (c *ScriptedCall) callerHangsUp(during string) error {
	if c.head() != tokHangup {
		return nil
	}
	c.pop()
	c.ended = "caller hung up"
	c.logf("caller hung up during %s", during)
	return fmt.Errorf("%w (caller hung up)", ivr.ErrHangup)
}

// Play implements ivr.Call.
func (c *ScriptedCall) Play(ctx context.Context, prompts []string, bargeIn bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.gone(ctx); err != nil {
		return err
	}
	what := "play " + strings.Join(prompts, ",")
	if err := c.callerHangsUp(what); err != nil {
		return err
	}
	if bargeIn && len(c.buffer) > 0 {
		// A key typed earlier cuts the prompt before it starts.
		c.logf("%s (cut short by a key)", what)
		return nil
	}
	for strings.HasPrefix(c.head(), tokEarly) {
		keys := strings.TrimPrefix(c.pop(), tokEarly)
		c.buffer = append(c.buffer, []rune(keys)...)
		c.logf("typed %s during %s", keys, strings.Join(prompts, ","))
	}
	if bargeIn {
		if len(c.buffer) == 0 && isKeys(c.head()) {
			c.buffer = append(c.buffer, []rune(c.pop())...)
		}
		if len(c.buffer) > 0 {
			c.logf("%s (cut short by a key)", what)
			return nil
		}
	}
	c.logf("%s", what)
	return nil
}

// ReadDigit implements ivr.Call.
func (c *ScriptedCall) ReadDigit(ctx context.Context, timeout time.Duration) (rune, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.gone(ctx); err != nil {
		return 0, err
	}
	if len(c.buffer) == 0 {
		if err := c.callerHangsUp("read"); err != nil {
			return 0, err
		}
		switch h := c.head(); {
		case h == tokSilence || h == tokSilence2:
			c.pop()
		case isKeys(strings.TrimPrefix(h, tokEarly)):
			c.buffer = append(c.buffer, []rune(strings.TrimPrefix(c.pop(), tokEarly))...)
		}
	}
	if len(c.buffer) == 0 {
		c.logf("read: no input after %s", timeout)
		return 0, fmt.Errorf("%w after %s", ivr.ErrNoInput, timeout)
	}
	d := c.buffer[0]
	c.buffer = c.buffer[1:]
	c.logf("read %c", d)
	return d, nil
}

// FlushDigits implements ivr.Call.
func (c *ScriptedCall) FlushDigits() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.buffer) == 0 {
		c.logf("flush")
	} else {
		c.logf("flush %s", string(c.buffer))
	}
	c.buffer = nil
}

// Queue implements ivr.Call.
func (c *ScriptedCall) Queue(ctx context.Context, req ivr.QueueRequest) (ivr.QueueResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.gone(ctx); err != nil {
		return ivr.QueueResult{}, err
	}
	c.queues = append(c.queues, req)
	what := "queue " + req.Queue
	if req.Music != "" {
		what += " (music " + req.Music + ")"
	}
	if err := c.callerHangsUp(what); err != nil {
		return ivr.QueueResult{}, err
	}
	res := c.DefaultQueue
	if strings.HasPrefix(c.head(), tokQueue) {
		r, err := parseQueue(c.pop())
		if err != nil {
			return ivr.QueueResult{}, err
		}
		res = r
	}
	if res.AgentID != "" {
		c.logf("%s: %s by %s", what, res.Outcome, res.AgentID)
	} else {
		c.logf("%s: %s", what, res.Outcome)
	}
	return res, nil
}

// Hangup implements ivr.Call.
func (c *ScriptedCall) Hangup(ctx context.Context, reason string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended != "" {
		return fmt.Errorf("%w (%s)", ivr.ErrHangup, c.ended)
	}
	c.ended = "flow hung up"
	c.logf("hangup %s", reason)
	return nil
}

// Record implements ivr.Call.
func (c *ScriptedCall) Record(ctx context.Context, req ivr.RecordRequest) (ivr.RecordResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.gone(ctx); err != nil {
		return ivr.RecordResult{}, err
	}
	what := "record " + req.Mailbox
	if err := c.callerHangsUp(what); err != nil {
		return ivr.RecordResult{}, err
	}
	res := ivr.RecordResult{Outcome: ivr.RecordOK}
	if strings.HasPrefix(c.head(), tokRecord) {
		res.Outcome = ivr.RecordOutcome(strings.TrimPrefix(c.pop(), tokRecord))
	}
	if res.Outcome == ivr.RecordOK {
		res.File = req.Mailbox + "/" + c.CallID + ".wav"
		res.Length = 3 * time.Second
	}
	c.logf("%s: %s", what, res.Outcome)
	return res, nil
}

// Transfer implements ivr.Call.
func (c *ScriptedCall) Transfer(ctx context.Context, req ivr.TransferRequest) (ivr.TransferResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.gone(ctx); err != nil {
		return ivr.TransferResult{}, err
	}
	what := fmt.Sprintf("transfer %s %s", req.Mode, req.To)
	if err := c.callerHangsUp(what); err != nil {
		return ivr.TransferResult{}, err
	}
	res := ivr.TransferResult{Outcome: ivr.TransferAfterAgent, Status: 200}
	if req.Mode == ivr.TransferBlind {
		res.Outcome = ivr.TransferDone
	}
	if strings.HasPrefix(c.head(), tokTransfer) {
		res.Outcome = ivr.TransferOutcome(strings.TrimPrefix(c.pop(), tokTransfer))
	}
	if res.Outcome == ivr.TransferDone {
		c.ended = "transferred"
	}
	c.logf("%s: %s", what, res.Outcome)
	return res, nil
}
