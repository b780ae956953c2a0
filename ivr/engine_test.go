package ivr_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"kefu/ivr"
	"kefu/ivr/ivrtest"
)

// sampleOptions checks flows against the sample prompt files and queues.
func sampleOptions(t testing.TB) ivr.LoadOptions {
	t.Helper()
	prompts, err := ivr.PromptFiles("../flows/prompts")
	if err != nil {
		t.Fatal(err)
	}
	return ivr.LoadOptions{Prompts: prompts, Queues: ivr.Names{"billing", "data", "complaints", "vip"}}
}

// sampleFlow loads one flow of testdata/sample: a menu with three queues
// (the first sample hotline), kept fixed for the engine's tests.
func sampleFlow(t testing.TB, name string) *ivr.Flow {
	t.Helper()
	set, err := ivr.Load("testdata/sample", sampleOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	f, ok := set.Flow(name)
	if !ok {
		t.Fatalf("no flow %q in testdata/sample (have %v)", name, set.Names())
	}
	return f
}

// flowFrom compiles a flow written in the test.
func flowFrom(t testing.TB, src string) *ivr.Flow {
	t.Helper()
	f, err := ivr.LoadBytes("test.yaml", []byte(src), sampleOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// bargeFlow has a play node with barge-in, and a menu that flushes typed-ahead keys.
const bargeFlow = `
start: welcome
nodes:
  welcome:
    type: play
    prompt: welcome
    barge_in: true
    next: main_menu
  main_menu:
    type: menu
    prompt: main_menu
    timeout: 3s
    retries: 0
    options: {"1": thanks, "2": careful}
    exits: {failed: goodbye}
  careful:
    type: play
    prompt: please_hold
    next: confirm
  confirm:
    type: menu
    prompt: main_menu
    flush_digits: true
    barge_in: false
    retries: 1
    options: {"1": thanks}
    exits: {failed: goodbye}
  thanks: {type: hangup, prompt: thanks}
  goodbye: {type: hangup, reason: no_choice}
`

// loopFlow goes back into its queue forever when the queue overflows.
const loopFlow = `
start: wait
nodes:
  wait:
    type: queue
    queue: billing
    exits: {after_agent: bye, max_wait: sorry, no_agents: sorry}
  sorry:
    type: play
    prompt: sorry_busy
    next: wait
  bye: {type: hangup}
`

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		flow       string // sample flow name, or YAML source when it has a newline
		script     []string
		maxSteps   int
		defQueue   ivr.QueueOutcome
		path       []string
		end        ivr.Ending
		reason     string
		digits     map[string]string // menu node → keys read there
		transcript []string          // when set, the whole transcript
		contains   []string          // lines the transcript must have
		queue      string
		outcome    ivr.QueueOutcome
		agent      string
		wantErr    error
	}{
		{
			name:   "menu happy path",
			flow:   "main",
			script: []string{"1", "queue:after_agent:1001"},
			path:   []string{"welcome", "main_menu", "billing", "billing_queue", "thanks"},
			end:    ivr.EndHangup, reason: "served",
			digits: map[string]string{"main_menu": "1"},
			transcript: []string{
				"play welcome",
				"play main_menu (cut short by a key)",
				"read 1",
				"play please_hold",
				"queue billing (music hold_music): after_agent by 1001",
				"play thanks",
				"hangup served",
			},
			queue: "billing", outcome: ivr.QueueAnswered, agent: "1001",
		},
		{
			name:   "invalid key then good key",
			flow:   "main",
			script: []string{"5", "2", "queue:max_wait"},
			path:   []string{"welcome", "main_menu", "data", "data_queue", "sorry_busy", "goodbye"},
			end:    ivr.EndHangup, reason: "normal",
			digits: map[string]string{"main_menu": "52"},
			contains: []string{
				"read 5",
				"play invalid,main_menu (cut short by a key)",
				"read 2",
				"queue data (music hold_music): max_wait",
			},
			queue: "data", outcome: ivr.QueueMaxWait,
		},
		{
			name:   "two keys typed quickly: the second answers the retry",
			flow:   "main",
			script: []string{"59", "queue:no_agents"},
			path:   []string{"welcome", "main_menu", "complaints", "complaints_queue", "sorry_busy", "goodbye"},
			end:    ivr.EndHangup, reason: "normal",
			digits: map[string]string{"main_menu": "59"},
			queue:  "complaints", outcome: ivr.QueueNoAgents,
		},
		{
			name:   "no input until retries run out takes failed",
			flow:   "main",
			script: nil,
			path:   []string{"welcome", "main_menu", "goodbye"},
			end:    ivr.EndHangup, reason: "normal",
			transcript: []string{
				"play welcome",
				"play main_menu",
				"read: no input after 5s",
				"play no_input,main_menu",
				"read: no input after 5s",
				"play no_input,main_menu",
				"read: no input after 5s",
				"play goodbye",
				"hangup normal",
			},
		},
		{
			name:   "silence then a key",
			flow:   "main",
			script: []string{"-", "1"},
			path:   []string{"welcome", "main_menu", "billing", "billing_queue", "thanks"},
			end:    ivr.EndHangup, reason: "served",
			contains: []string{
				"read: no input after 5s",
				"play no_input,main_menu (cut short by a key)",
			},
			queue: "billing", outcome: ivr.QueueAnswered, agent: "agent-1",
		},
		{
			name:   "wrong keys until retries run out",
			flow:   "main",
			script: []string{"7", "8", "0"},
			path:   []string{"welcome", "main_menu", "goodbye"},
			end:    ivr.EndHangup, reason: "normal",
			digits: map[string]string{"main_menu": "780"},
		},
		{
			name:   "key typed ahead during a play is kept for the menu",
			flow:   "main",
			script: []string{"~9", "queue:after_agent"},
			path:   []string{"welcome", "main_menu", "complaints", "complaints_queue", "thanks"},
			end:    ivr.EndHangup, reason: "served",
			contains: []string{
				"typed 9 during welcome",
				"play welcome",
				"play main_menu (cut short by a key)",
				"read 9",
			},
			queue: "complaints", outcome: ivr.QueueAnswered, agent: "agent-1",
		},
		{
			name:   "barge-in cuts a play and the key reaches the menu",
			flow:   bargeFlow,
			script: []string{"1"},
			path:   []string{"welcome", "main_menu", "thanks"},
			end:    ivr.EndHangup, reason: "normal",
			transcript: []string{
				"play welcome (cut short by a key)",
				"play main_menu (cut short by a key)",
				"read 1",
				"play thanks",
				"hangup normal",
			},
		},
		{
			name:   "flush_digits drops keys typed before the menu",
			flow:   bargeFlow,
			script: []string{"2", "~1", "-", "1"},
			path:   []string{"welcome", "main_menu", "careful", "confirm", "thanks"},
			end:    ivr.EndHangup, reason: "normal",
			digits: map[string]string{"main_menu": "2", "confirm": "1"},
			contains: []string{
				"typed 1 during please_hold",
				"flush 1",
				"play main_menu",
				"read: no input after 5s",
				"read 1",
			},
		},
		{
			name:   "menu with no retries fails at once",
			flow:   bargeFlow,
			script: []string{"-"},
			path:   []string{"welcome", "main_menu", "goodbye"},
			end:    ivr.EndHangup, reason: "no_choice",
			contains: []string{
				"read: no input after 3s",
			},
		},
		{
			name:   "queue after_agent",
			flow:   "direct",
			script: []string{"queue:after_agent:a7"},
			path:   []string{"billing_queue", "done"},
			end:    ivr.EndHangup, reason: "served",
			queue: "billing", outcome: ivr.QueueAnswered, agent: "a7",
			contains: []string{"queue billing: after_agent by a7"},
		},
		{
			name:   "queue max_wait",
			flow:   "direct",
			script: []string{"queue:max_wait"},
			path:   []string{"billing_queue", "sorry_busy", "goodbye"},
			end:    ivr.EndHangup, reason: "normal",
			queue: "billing", outcome: ivr.QueueMaxWait,
		},
		{
			name:   "queue no_agents",
			flow:   "direct",
			script: []string{"queue:no_agents"},
			path:   []string{"billing_queue", "sorry_busy", "goodbye"},
			end:    ivr.EndHangup, reason: "normal",
			queue: "billing", outcome: ivr.QueueNoAgents,
		},
		{
			name:       "caller hangs up mid-prompt",
			flow:       "main",
			script:     []string{"hangup"},
			path:       []string{"welcome"},
			end:        ivr.EndCallerHangup,
			transcript: []string{"caller hung up during play welcome"},
		},
		{
			name:     "caller hangs up during a menu",
			flow:     "main",
			script:   []string{"5", "hangup"},
			path:     []string{"welcome", "main_menu"},
			end:      ivr.EndCallerHangup,
			digits:   map[string]string{"main_menu": "5"},
			contains: []string{"caller hung up during play invalid,main_menu"},
		},
		{
			name:     "caller hangs up while queued (CANCEL before answer)",
			flow:     "direct",
			script:   []string{"hangup"},
			path:     []string{"billing_queue"},
			end:      ivr.EndCallerHangup,
			contains: []string{"caller hung up during queue billing"},
			queue:    "billing", // abandoned: the queue without an outcome
		},
		{
			name:     "step budget stops a looping flow",
			flow:     loopFlow,
			defQueue: ivr.QueueMaxWait,
			maxSteps: 7,
			path:     []string{"wait", "sorry", "wait", "sorry", "wait", "sorry", "wait"},
			end:      ivr.EndStepBudget,
			queue:    "billing", outcome: ivr.QueueMaxWait,
			contains: []string{"hangup error"},
			wantErr:  ivr.ErrStepBudget,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var flow *ivr.Flow
			if strings.Contains(tt.flow, "\n") {
				flow = flowFrom(t, tt.flow)
			} else {
				flow = sampleFlow(t, tt.flow)
			}
			call := ivrtest.NewScriptedCall(tt.script...)
			if tt.defQueue != "" {
				call.DefaultQueue = ivr.QueueResult{Outcome: tt.defQueue}
			}
			res, err := ivr.Run(context.Background(), flow, call, ivr.RunOptions{MaxSteps: tt.maxSteps})
			transcript := call.Transcript()
			t.Logf("transcript:\n  %s", strings.Join(transcript, "\n  "))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("err = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil {
				t.Errorf("err = %v", err)
			}
			if !slices.Equal(res.Path, tt.path) {
				t.Errorf("path = %v, want %v", res.Path, tt.path)
			}
			if res.End != tt.end || res.HangupReason != tt.reason {
				t.Errorf("end = %s %q, want %s %q", res.End, res.HangupReason, tt.end, tt.reason)
			}
			for node, want := range tt.digits {
				got := ""
				for _, s := range res.Steps {
					if s.Node == node {
						got += s.Digits
					}
				}
				if got != want {
					t.Errorf("digits at %s = %q, want %q", node, got, want)
				}
			}
			if tt.transcript != nil && !slices.Equal(transcript, tt.transcript) {
				t.Errorf("transcript = %q, want %q", transcript, tt.transcript)
			}
			for _, line := range tt.contains {
				if !slices.Contains(transcript, line) {
					t.Errorf("transcript lacks %q", line)
				}
			}
			if res.Queue != tt.queue || res.QueueOutcome != tt.outcome || res.AgentID != tt.agent {
				t.Errorf("queue = %q %q %q, want %q %q %q", res.Queue, res.QueueOutcome, res.AgentID, tt.queue, tt.outcome, tt.agent)
			}
			if res.Flow != flow.Name || res.Version != flow.Version {
				t.Errorf("result names flow %s@%s, want %s@%s", res.Flow, res.Version, flow.Name, flow.Version)
			}
			if len(res.Steps) != len(res.Path) {
				t.Errorf("%d steps for %d nodes", len(res.Steps), len(res.Path))
			}
		})
	}
}

func TestRunStepsRecordExits(t *testing.T) {
	call := ivrtest.NewScriptedCall("7", "1", "queue:max_wait")
	res, err := ivr.Run(context.Background(), sampleFlow(t, "main"), call, ivr.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []ivr.Step{
		{Node: "welcome", Flow: "main", Kind: "play", Exit: "next"},
		{Node: "main_menu", Flow: "main", Kind: "menu", Exit: "1", Digits: "71"},
		{Node: "billing", Flow: "main", Kind: "play", Exit: "next"},
		{Node: "billing_queue", Flow: "main", Kind: "queue", Exit: "max_wait"},
		{Node: "sorry_busy", Flow: "main", Kind: "play", Exit: "next"},
		{Node: "goodbye", Flow: "main", Kind: "hangup"},
	}
	if !slices.Equal(res.Steps, want) {
		t.Errorf("steps = %+v\nwant    %+v", res.Steps, want)
	}
}

func TestRunDefaultStepBudget(t *testing.T) {
	call := ivrtest.NewScriptedCall()
	call.DefaultQueue = ivr.QueueResult{Outcome: ivr.QueueNoAgents}
	res, err := ivr.Run(context.Background(), flowFrom(t, loopFlow), call, ivr.RunOptions{})
	if !errors.Is(err, ivr.ErrStepBudget) || res.End != ivr.EndStepBudget {
		t.Fatalf("end %s, err %v; want the step budget", res.End, err)
	}
	if len(res.Path) != ivr.DefaultMaxSteps {
		t.Errorf("%d nodes entered, want %d", len(res.Path), ivr.DefaultMaxSteps)
	}
}

func TestRunContextDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	call := ivrtest.NewScriptedCall("1")
	res, err := ivr.Run(ctx, sampleFlow(t, "main"), call, ivr.RunOptions{})
	if err != nil || res.End != ivr.EndCallerHangup {
		t.Fatalf("end %s, err %v; want a quiet caller hangup", res.End, err)
	}
	if len(call.Transcript()) != 0 {
		t.Errorf("the call was used after its context ended: %q", call.Transcript())
	}
}

// cancelOnQueue cancels the run's context when the call is queued, as the
// SIP layer's dialog ending does, and returns the context's error.
type cancelOnQueue struct {
	*ivrtest.ScriptedCall
	cancel context.CancelFunc
}

func (c cancelOnQueue) Queue(ctx context.Context, _ ivr.QueueRequest) (ivr.QueueResult, error) {
	c.cancel()
	return ivr.QueueResult{}, ctx.Err()
}

func TestRunContextEndsWhileQueued(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	call := cancelOnQueue{ivrtest.NewScriptedCall(), cancel}
	res, err := ivr.Run(ctx, sampleFlow(t, "direct"), call, ivr.RunOptions{})
	if err != nil || res.End != ivr.EndCallerHangup {
		t.Fatalf("end %s, err %v; want a quiet caller hangup", res.End, err)
	}
}

// failingQueue is a call whose queue fails, as when routing is down.
type failingQueue struct {
	*ivrtest.ScriptedCall
	err error
	res ivr.QueueResult
}

func (c failingQueue) Queue(context.Context, ivr.QueueRequest) (ivr.QueueResult, error) {
	return c.res, c.err
}

func TestRunCallError(t *testing.T) {
	down := errors.New("routing unavailable")
	tests := []struct {
		name string
		call failingQueue
		want string
	}{
		{"queue fails", failingQueue{err: down}, `node "billing_queue": routing unavailable`},
		{"unknown outcome", failingQueue{res: ivr.QueueResult{Outcome: "callback_requested"}}, `unknown outcome "callback_requested"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.call.ScriptedCall = ivrtest.NewScriptedCall()
			res, err := ivr.Run(context.Background(), sampleFlow(t, "direct"), tt.call, ivr.RunOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to say %q", err, tt.want)
			}
			if tt.call.err != nil && !errors.Is(err, tt.call.err) {
				t.Errorf("err = %v does not wrap %v", err, tt.call.err)
			}
			if res.End != ivr.EndError {
				t.Errorf("end = %s, want error", res.End)
			}
			if tr := tt.call.Transcript(); len(tr) == 0 || tr[len(tr)-1] != "hangup error" {
				t.Errorf("the engine did not hang up: %q", tr)
			}
		})
	}
}

func TestRunNilFlow(t *testing.T) {
	if _, err := ivr.Run(context.Background(), nil, ivrtest.NewScriptedCall(), ivr.RunOptions{}); err == nil {
		t.Fatal("Run(nil flow) succeeded")
	}
}

func TestRunLogsOneLinePerNode(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	res, err := ivr.Run(context.Background(), sampleFlow(t, "main"), ivrtest.NewScriptedCall("2"), ivr.RunOptions{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), `msg="ivr node"`); n != len(res.Path) {
		t.Errorf("%d node lines for %d nodes:\n%s", n, len(res.Path), buf.String())
	}
	if !strings.Contains(buf.String(), "call=test-call") || !strings.Contains(buf.String(), "node=data_queue") {
		t.Errorf("log lines lack the call or node:\n%s", buf.String())
	}
}

// TestRunConcurrent runs one Flow for many calls at once (run with -race).
func TestRunConcurrent(t *testing.T) {
	flow := sampleFlow(t, "main")
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			keys := []string{"1", "2", "9", "5", "-"}[i%5]
			res, err := ivr.Run(context.Background(), flow, ivrtest.NewScriptedCall(keys), ivr.RunOptions{})
			if err != nil || res.End != ivr.EndHangup {
				t.Errorf("call %d: end %s, err %v", i, res.End, err)
			}
		})
	}
	wg.Wait()
}
