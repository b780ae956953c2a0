package ivr_test

// Tests of what keeps a call from looping or failing silently: visit caps,
// the step budget, error exits, and the events an observer is told.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"kefu/ivr"
	"kefu/ivr/ivrtest"
)

// visitsFlow loops through menus; m may be entered twice, n once, and
// oops is the flow's error node (a play then a hangup: the commonest
// on_error).
const visitsFlow = `
start: m
defaults: {on_error: oops}
nodes:
  m:
    type: menu
    prompt: main_menu
    max_visits: 2
    options: {"1": m, "2": n}
    exits: {failed: bye}
  n:
    type: menu
    prompt: other
    max_visits: 1
    options: {"1": n}
    exits: {failed: bye, error: special}
  oops: {type: play, prompt: sorry, next: bye}
  special: {type: hangup, reason: special}
  bye: {type: hangup}
`

func TestMaxVisits(t *testing.T) {
	tests := []struct {
		name   string
		flow   string
		script []string
		path   []string
		reason string
		capped int // index of the step that exits by error; -1 for none
		errSub string
	}{
		{"over the cap: the flow's on_error", visitsFlow, []string{"1", "1", "1"},
			[]string{"m", "m", "m", "oops", "bye"}, "normal", 2, `node "m" entered 3 times, more than its max_visits 2`},
		{"over the cap: the node's own error exit", visitsFlow, []string{"2", "1"},
			[]string{"m", "n", "n", "special"}, "special", 2, `node "n" entered 2 times, more than its max_visits 1`},
		{"within the cap", visitsFlow, []string{"1", "2", "-"},
			[]string{"m", "m", "n", "bye"}, "normal", -1, ""},
		{"defaults: max_visits caps every node", strings.NewReplacer("defaults: {on_error: oops}", "defaults: {on_error: oops, max_visits: 1}", "    max_visits: 2\n", "").Replace(visitsFlow),
			[]string{"1"}, []string{"m", "m", "oops", "bye"}, "normal", 1, `node "m" entered 2 times, more than its max_visits 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flow := inlineFlow(t, tt.flow)
			res, err := runScripted(t, flow, ivrtest.NewScriptedCall(tt.script...), ivr.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Path, tt.path) || res.HangupReason != tt.reason {
				t.Errorf("path %v ended %q, want %v %q", res.Path, res.HangupReason, tt.path, tt.reason)
			}
			if !strings.Contains(res.Error, tt.errSub) || (tt.errSub == "") != (res.Error == "") {
				t.Errorf("Result.Error = %q, want it to say %q", res.Error, tt.errSub)
			}
			for i, s := range res.Steps {
				if (s.Exit == "error") != (i == tt.capped) {
					t.Errorf("steps %+v: want step %d, and only it, to exit by error", res.Steps, tt.capped)
					break
				}
			}
		})
	}
}

// budgetFlow loops forever through a queue that overflows; %s is the
// target of on_error's next.
const budgetFlow = `
start: wait
defaults: {on_error: oops, max_steps: 10}
nodes:
  wait:
    type: queue
    queue: billing
    exits: {after_agent: bye, max_wait: sorry, no_agents: sorry}
  sorry: {type: play, prompt: sorry_busy, next: wait}
  oops: {type: play, prompt: technical_error, next: %s}
  bye: {type: hangup}
`

func TestStepBudget(t *testing.T) {
	tests := []struct {
		name     string
		then     string // on_error's next
		maxSteps int
		steps    int // nodes entered
		end      ivr.Ending
		budget   int // nodes entered before on_error
	}{
		{"spent: on_error, then the call ends there", "bye", 0, 12, ivr.EndHangup, 10},
		{"RunOptions.MaxSteps overrides the flow's", "bye", 4, 6, ivr.EndHangup, 4},
		{"on_error loops too: the grace runs out", "wait", 0, 10 + 20, ivr.EndStepBudget, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flow := inlineFlow(t, strings.Replace(budgetFlow, "%s", tt.then, 1))
			call := ivrtest.NewScriptedCall()
			call.DefaultQueue = ivr.QueueResult{Outcome: ivr.QueueMaxWait}
			var obs eventLog
			res, err := runScripted(t, flow, call, ivr.RunOptions{MaxSteps: tt.maxSteps, Services: ivr.Services{Observer: &obs}})
			if len(res.Path) != tt.steps || res.End != tt.end {
				t.Errorf("%d nodes entered, end %s; want %d, %s", len(res.Path), res.End, tt.steps, tt.end)
			}
			if i := slices.Index(res.Path, "oops"); i != tt.budget {
				t.Errorf("path %v: want oops after %d nodes", res.Path, tt.budget)
			}
			if !strings.Contains(res.Error, "step budget exhausted") {
				t.Errorf("Result.Error = %q", res.Error)
			}
			if tt.end == ivr.EndStepBudget {
				if !errors.Is(err, ivr.ErrStepBudget) {
					t.Errorf("err = %v, want ErrStepBudget", err)
				}
				if tr := call.Transcript(); tr[len(tr)-1] != "hangup error" {
					t.Errorf("the engine did not hang up: %q", tr[len(tr)-1])
				}
			} else if err != nil {
				t.Errorf("err = %v", err)
			}
			// However the call ends, the observer is told.
			evs := obs.events()
			if last := evs[len(evs)-1]; last.Type != ivr.EventEnd {
				t.Errorf("last event %+v, want an end event", last)
			}
		})
	}
}

func TestNodeErrors(t *testing.T) {
	const flowSrc = `
start: pick
vars:
  n: int
nodes:
  pick:
    type: menu
    prompt: choose
    retries: 0
    options: {"1": to_caller, "2": wired, "3": self, "4": compute}
    exits: {failed: bye}
  to_caller:
    type: transfer
    to: "= caller"
    exits: {after_agent: bye, failed: bye}
  wired:
    type: transfer
    to: "= caller"
    exits: {after_agent: bye, failed: bye, error: sorry}
  self:
    type: menu
    prompt: again
    max_visits: 1
    options: {"1": self}
    exits: {failed: bye, error: self}
  compute:
    type: set
    set: {n: "= int(caller)"}
    next: bye
  sorry: {type: hangup, reason: sorry}
  bye: {type: hangup}
`
	flow := inlineFlow(t, flowSrc)
	tests := []struct {
		name   string
		key    string
		end    ivr.Ending
		reason string
		node   string
		errSub string // the error Run returns, "" for none
	}{
		{"no error exit, no on_error: the engine hangs up", "1", ivr.EndError, "", "to_caller", `node "to_caller": transfer target "anonymous" is neither`},
		{"the node's error exit", "2", ivr.EndHangup, "sorry", "sorry", ""},
		{"an error exit to the node itself ends the call", "3", ivr.EndError, "", "self", `node "self": node "self" entered 2 times`},
		{"an expression that fails", "4", ivr.EndError, "", "compute", `node "compute": expression "int(caller)"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := ivrtest.NewScriptedCall(tt.key, "1")
			call.CallerNumber = "anonymous"
			var obs eventLog
			res, err := runScripted(t, flow, call, ivr.RunOptions{Services: ivr.Services{Observer: &obs}})
			if res.End != tt.end || res.HangupReason != tt.reason || res.Node != tt.node {
				t.Errorf("end %s %q in %q, want %s %q in %q", res.End, res.HangupReason, res.Node, tt.end, tt.reason, tt.node)
			}
			if tt.errSub == "" {
				if err != nil {
					t.Errorf("err = %v", err)
				}
				if res.Error == "" {
					t.Error("Result.Error does not say what failed")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errSub) || !strings.Contains(res.Error, tt.errSub) {
				t.Errorf("err = %v, Result.Error = %q; want them to say %q", err, res.Error, tt.errSub)
			}
			if tr := call.Transcript(); tr[len(tr)-1] != "hangup error" {
				t.Errorf("the engine did not hang up: %q", tr)
			}
			evs := obs.events()
			if last := evs[len(evs)-1]; last.Type != ivr.EventEnd || last.Node != tt.node || last.Exit != "error" {
				t.Errorf("last event %+v, want the end in %s by error", last, tt.node)
			}
		})
	}
}

// eventLog is an ivr.Observer that keeps the events.
type eventLog struct {
	mu  sync.Mutex
	evs []ivr.Event
}

func (l *eventLog) Observe(e ivr.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, e)
}

func (l *eventLog) events() []ivr.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.evs)
}

func TestObserverEvents(t *testing.T) {
	const src = `
start: welcome
nodes:
  welcome:
    type: play
    prompt: welcome
    milestone: greeted
    next: m
  m:
    type: menu
    prompt: main_menu
    retries: 0
    options: {"1": bye}
    exits: {failed: bye}
  bye: {type: hangup, reason: served}
`
	flow := inlineFlow(t, src)
	ev := func(typ ivr.EventType, node, kind, exit, milestone string) ivr.Event {
		return ivr.Event{Type: typ, CallID: "obs-1", Flow: "test", Version: flow.Version, Node: node, Kind: kind, Exit: exit, Milestone: milestone}
	}
	withDigits := func(e ivr.Event, d string) ivr.Event { e.Digits = d; return e }
	tests := []struct {
		name   string
		script []string
		want   []ivr.Event
	}{
		{"the flow ends the call", []string{"1"}, []ivr.Event{
			ev(ivr.EventEnter, "welcome", "play", "", "greeted"),
			ev(ivr.EventExit, "welcome", "play", "next", ""),
			ev(ivr.EventEnter, "m", "menu", "", ""),
			withDigits(ev(ivr.EventExit, "m", "menu", "1", ""), "1"), // the key pressed, for screen pops
			ev(ivr.EventEnter, "bye", "hangup", "", ""),
			ev(ivr.EventEnd, "bye", "hangup", "served", ""),
		}},
		{"the caller hangs up", []string{"hangup"}, []ivr.Event{
			ev(ivr.EventEnter, "welcome", "play", "", "greeted"),
			ev(ivr.EventHangup, "welcome", "play", "", ""),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := ivrtest.NewScriptedCall(tt.script...)
			call.CallID = "obs-1"
			var obs eventLog
			res, err := runScripted(t, flow, call, ivr.RunOptions{Services: ivr.Services{Observer: &obs}})
			if err != nil {
				t.Fatal(err)
			}
			if got := obs.events(); !slices.Equal(got, tt.want) {
				t.Errorf("events:\n%+v\nwant\n%+v", got, tt.want)
			}
			if len(tt.script) == 1 && tt.script[0] == "1" && !slices.Equal(res.Milestones, []string{"greeted"}) {
				t.Errorf("milestones %v", res.Milestones)
			}
		})
	}
}

// TestObserverSubflow checks the events of a subflow name its flow, and a
// return node's exit is the outcome.
func TestObserverSubflow(t *testing.T) {
	flow := flowNamed(t, loadFlowsDir(t, subflowFiles), "main")
	var obs eventLog
	if _, err := runScripted(t, flow, ivrtest.NewScriptedCall("0000"), ivr.RunOptions{Services: ivr.Services{Observer: &obs}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range obs.events() {
		got = append(got, string(e.Type)+" "+e.Flow+"/"+e.Node+" "+e.Exit)
	}
	want := []string{
		"enter main/verify ",
		"enter verify_pin/greet ",
		"enter say_hello/hi ",
		"exit say_hello/hi next",
		"enter say_hello/back ",
		"exit say_hello/back done",
		"exit verify_pin/greet done",
		"enter verify_pin/ask ",
		"exit verify_pin/ask ok",
		"enter verify_pin/count ",
		"exit verify_pin/count next",
		"enter verify_pin/check ",
		"exit verify_pin/check case1",
		"enter verify_pin/locked ",
		"exit verify_pin/locked locked",
		"exit main/verify locked",
		"enter main/locked ",
		"end main/locked locked",
	}
	if !slices.Equal(got, want) {
		t.Errorf("events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRunContextEndsBetweenNodes checks a call whose context ends while a
// node that does not use the call runs ends as a caller hangup.
func TestRunContextEndsBetweenNodes(t *testing.T) {
	flow := inlineFlow(t, directoryFlow)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := &cancelAfterDirectory{cancel: cancel}
	res, err := ivr.Run(ctx, flow, ivrtest.NewScriptedCall(), ivr.RunOptions{Services: ivr.Services{Directory: dir}})
	if err != nil || res.End != ivr.EndCallerHangup {
		t.Errorf("end %s, err %v; want a quiet caller hangup", res.End, err)
	}
	if !slices.Equal(res.Path, []string{"who"}) {
		t.Errorf("path %v: the run went on after the call ended", res.Path)
	}
}

// cancelAfterDirectory answers, then ends the call's context.
type cancelAfterDirectory struct{ cancel context.CancelFunc }

func (d *cancelAfterDirectory) Lookup(context.Context, string) (ivr.Customer, bool, error) {
	d.cancel()
	return ivr.Customer{Stars: 5}, true, nil
}
