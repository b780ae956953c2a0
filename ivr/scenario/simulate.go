package scenario

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"kefu/ivr"
	"kefu/ivr/ivrtest"
)

// Outcome is what happened in one simulated call.
type Outcome struct {
	// Flow is the flow that ran.
	Flow *ivr.Flow
	// Result and Err are what ivr.Run returned.
	Result ivr.Result
	Err    error
	// Trace is every line the engine traced, in order (sensitive values
	// masked), with a "webhook" line for each stub request.
	Trace []ivr.TraceLine
	// Prompts are the ids of the prompts played, in order (ids the engine
	// skipped are left out).
	Prompts []string
	// Said are the texts the speech engine was asked to say.
	Said []Spoken
	// Transcript is the caller's side (ivrtest.ScriptedCall.Transcript).
	Transcript []string
	// QueueRequests are the requests of the queue nodes, in order.
	QueueRequests []ivr.QueueRequest
	// UnusedKeys are script tokens the call ended before using;
	// UnusedQueue queue outcomes no queue node used.
	UnusedKeys  []string
	UnusedQueue []ivr.QueueResult
}

// Simulate runs one call of the flow called flow in set, set up by s, and
// tells trace (when not nil) each line of the engine's trace as it
// happens. The error is for a call that cannot be set up (no such flow, a
// subflow, an invalid key or a switch naming nothing); what the engine
// returns is Outcome.Err.
func Simulate(ctx context.Context, set *ivr.Set, flow string, s Setup, trace func(ivr.TraceLine)) (*Outcome, error) {
	f, ok := set.Flow(flow)
	switch {
	case !ok:
		return nil, fmt.Errorf("no flow %q in the flows directory (flows that take calls: %s); check the name", flow, strings.Join(set.Names(), ", "))
	case f.Subflow:
		return nil, fmt.Errorf("%q is a subflow; simulate a flow that calls it (%s)", flow, strings.Join(set.Names(), ", "))
	}
	for _, tok := range s.Keys {
		if toks, err := ivrtest.ParseScript(tok); err != nil || len(toks) != 1 {
			return nil, fmt.Errorf("key script token %q is not one token; give keys like \"1\", \"12#\", \"-\", hangup: %w", tok, err)
		}
	}
	if err := checkSwitches(set, s.Switches); err != nil {
		return nil, err
	}

	out := &Outcome{Flow: f}
	call := &queueScript{ScriptedCall: ivrtest.NewScriptedCall(s.Keys...), outcomes: slices.Clone(s.Queue)}
	call.CallerNumber = cmp.Or(s.Caller, DefaultCaller)
	call.CalledNumber = cmp.Or(s.Called, DefaultCalled)
	at := s.At
	if at.IsZero() {
		at = DefaultAt()
	}
	node := ""
	record := func(l ivr.TraceLine) {
		if l.What == "node" {
			node = l.Node
		}
		if l.What == "prompt" {
			if id, how, ok := strings.Cut(l.Text, ": "); ok && !strings.HasPrefix(how, "skipped") {
				out.Prompts = append(out.Prompts, id)
			}
		}
		out.Trace = append(out.Trace, l)
		if trace != nil {
			trace(l)
		}
	}
	sp := &speaker{}
	hooks := webhookStub{hooks: s.Webhooks, note: func(text string) {
		record(ivr.TraceLine{What: "webhook", Node: node, Text: text})
	}}
	opts := ivr.RunOptions{
		MaxSteps: s.MaxSteps,
		Trace:    record,
		Services: ivr.Services{
			Now:       func() time.Time { return at },
			Speaker:   sp,
			Directory: directory{customer: s.Customer},
			Switches:  switchState(s.Switches),
			HTTP:      &http.Client{Transport: hooks},
		},
	}
	out.Result, out.Err = ivr.Run(ctx, f, call, opts)
	out.Said = sp.said()
	out.Transcript = call.Transcript()
	out.QueueRequests = call.QueueRequests()
	out.UnusedKeys = call.Remaining()
	out.UnusedQueue = call.outcomes
	return out, nil
}

// checkSwitches checks every switch names an announcement or calendar of
// the set.
func checkSwitches(set *ivr.Set, sw map[string]bool) error {
	for _, name := range slices.Sorted(maps.Keys(sw)) {
		if err := CheckSwitchName(name); err != nil {
			return err
		}
		kind, what, _ := strings.Cut(name, ".")
		var known []string
		if kind == "announce" {
			known = slices.Sorted(maps.Keys(set.Announcements()))
		} else {
			known = slices.Sorted(maps.Keys(set.Calendars()))
		}
		if !slices.Contains(known, what) {
			noun := map[string]string{"announce": "announcement", "emergency": "calendar"}[kind]
			return fmt.Errorf("switch %s: there is no %s %q (there are: %s)", name, noun, what, strings.Join(known, ", "))
		}
	}
	return nil
}

// queueScript is a ScriptedCall whose queue nodes end, in turn, as the
// case's queue: list says.
type queueScript struct {
	*ivrtest.ScriptedCall
	outcomes []ivr.QueueResult
}

// Queue implements ivr.Call: the next outcome of the list, else the
// script's own (a queue: token) or its default.
func (c *queueScript) Queue(ctx context.Context, req ivr.QueueRequest) (ivr.QueueResult, error) {
	if len(c.outcomes) > 0 {
		c.DefaultQueue = c.outcomes[0]
		c.outcomes = c.outcomes[1:]
	} else {
		c.DefaultQueue = ivr.QueueResult{Outcome: ivr.QueueAnswered, AgentID: "agent-1"}
	}
	return c.ScriptedCall.Queue(ctx, req)
}
