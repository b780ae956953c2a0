package ivr_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"kefu/ivr"
	"kefu/ivr/ivrtest"
)

// subflowFiles: main calls verify_pin (params in, outputs back, three
// outcomes), which calls say_hello (a nested subflow).
var subflowFiles = map[string]string{
	"main.yaml": `start: verify
vars:
  account: {type: digits, default: "12345678"}
  got_pin: {type: digits, sensitive: true}
  tries: {type: int, default: -1}
nodes:
  verify:
    type: subflow
    flow: verify_pin
    with:
      expected: "= account"
      attempts: 2
    output:
      got_pin: pin
      tries: tries
    exits:
      ok: welcome
      failed: sorry
      locked: locked
  welcome: {type: hangup, reason: verified}
  sorry: {type: hangup, reason: failed}
  locked: {type: hangup, reason: locked}
`,
	"verify_pin.yaml": `kind: subflow
start: greet
params:
  expected: digits
  attempts: {type: int, default: 3}
outcomes: [ok, failed, locked]
vars:
  pin: {type: digits, sensitive: true}
  tries: int
nodes:
  greet:
    type: subflow
    flow: say_hello
    exits: {done: ask}
  ask:
    type: collect
    prompt: enter_pin
    min_digits: 4
    max_digits: 4
    retries: 0
    store: pin
    exits: {ok: count, failed: count}
  count:
    type: set
    set: {tries: "= tries + 1"}
    next: check
  check:
    type: branch
    cases:
      - when: pin == "0000"
        go: locked
      - when: pin != "" && expected endsWith pin
        go: good
      - when: tries < attempts
        go: ask
    default: bad
  good: {type: return, outcome: ok}
  bad: {type: return, outcome: failed}
  locked: {type: return, outcome: locked}
`,
	"say_hello.yaml": `kind: subflow
start: hi
outcomes: [done]
nodes:
  hi: {type: play, prompt: hello, next: back}
  back: {type: return, outcome: done}
`,
}

func TestSubflow(t *testing.T) {
	set := loadFlowsDir(t, subflowFiles)
	if got := set.Names(); !slices.Equal(got, []string{"main"}) {
		t.Errorf("flows that take calls: %v, want only main", got)
	}
	flow := flowNamed(t, set, "main")
	tests := []struct {
		name   string
		script []string
		end    ivr.Ending
		reason string
		node   string
		path   []string
		vars   map[string]string
	}{
		{
			name: "params in, outputs back, outcome to exit", script: []string{"5678"},
			end: ivr.EndHangup, reason: "verified", node: "welcome",
			path: []string{"verify", "greet", "hi", "back", "ask", "count", "check", "good", "welcome"},
			vars: map[string]string{"got_pin": "****", "tries": "1", "account": "12345678"},
		},
		{
			name: "retries inside the subflow, then another outcome", script: []string{"1111", "2222"},
			end: ivr.EndHangup, reason: "failed", node: "sorry",
			path: []string{"verify", "greet", "hi", "back", "ask", "count", "check", "ask", "count", "check", "bad", "sorry"},
			vars: map[string]string{"tries": "2"},
		},
		{
			name: "nothing entered: an output the subflow never set comes back unset", script: []string{"-", "-"},
			end: ivr.EndHangup, reason: "failed", node: "sorry",
			vars: map[string]string{"tries": "2", "got_pin": "****"},
		},
		{
			name: "third outcome", script: []string{"0000"},
			end: ivr.EndHangup, reason: "locked", node: "locked",
			vars: map[string]string{"tries": "1"},
		},
		{
			name: "the caller hangs up in the nested subflow", script: []string{"hangup"},
			end: ivr.EndCallerHangup, node: "hi",
			path: []string{"verify", "greet", "hi"},
			vars: map[string]string{"tries": "-1", "got_pin": "****"},
		},
		{
			name: "the caller hangs up in the subflow", script: []string{"12", "hangup"},
			end: ivr.EndCallerHangup, node: "ask",
			path: []string{"verify", "greet", "hi", "back", "ask"},
			vars: map[string]string{"tries": "-1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := runScripted(t, flow, ivrtest.NewScriptedCall(tt.script...), ivr.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.End != tt.end || res.HangupReason != tt.reason || res.Node != tt.node {
				t.Errorf("end %s %q in %q, want %s %q in %q", res.End, res.HangupReason, res.Node, tt.end, tt.reason, tt.node)
			}
			if tt.path != nil && !slices.Equal(res.Path, tt.path) {
				t.Errorf("path %v, want %v", res.Path, tt.path)
			}
			for k, want := range tt.vars {
				if got := res.Vars[k]; got != want {
					t.Errorf("var %s = %q, want %q", k, got, want)
				}
			}
			if _, leaked := res.Vars["pin"]; leaked {
				t.Errorf("the subflow's variables are in the result: %v", res.Vars)
			}
		})
	}
}

// TestSubflowSteps checks Steps follow Path one to one, each step naming
// the flow its node is in, and a return node's step its outcome.
func TestSubflowSteps(t *testing.T) {
	flow := flowNamed(t, loadFlowsDir(t, subflowFiles), "main")
	res, err := runScripted(t, flow, ivrtest.NewScriptedCall("5678"), ivr.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []ivr.Step{
		{Node: "verify", Flow: "main", Kind: "subflow", Exit: "ok"},
		{Node: "greet", Flow: "verify_pin", Kind: "subflow", Exit: "done"},
		{Node: "hi", Flow: "say_hello", Kind: "play", Exit: "next"},
		{Node: "back", Flow: "say_hello", Kind: "return", Exit: "done"},
		{Node: "ask", Flow: "verify_pin", Kind: "collect", Exit: "ok", Digits: "****"},
		{Node: "count", Flow: "verify_pin", Kind: "set", Exit: "next"},
		{Node: "check", Flow: "verify_pin", Kind: "branch", Exit: "case2"},
		{Node: "good", Flow: "verify_pin", Kind: "return", Exit: "ok"},
		{Node: "welcome", Flow: "main", Kind: "hangup"},
	}
	if !slices.Equal(res.Steps, want) {
		t.Errorf("steps:\n%+v\nwant\n%+v", res.Steps, want)
	}
	for i, s := range res.Steps {
		if i >= len(res.Path) || res.Path[i] != s.Node {
			t.Errorf("step %d is %s, path has %v", i, s.Node, res.Path)
			break
		}
	}
}

// TestSubflowSharesTheCall checks the language and the step budget are
// shared with the subflow.
func TestSubflowSharesTheCall(t *testing.T) {
	files := map[string]string{
		"prompts.yaml": "kind: prompts\nlanguages: [zh, en]\nprompts:\n  hello:\n    zh: {tts: 你好}\n    en: {tts: Hello}\n",
		"main.yaml": `start: lang
nodes:
  lang:
    type: language
    prompt: choose
    options: {"2": en}
    next: sub
  sub:
    type: subflow
    flow: say_hello
    exits: {done: bye}
  bye: {type: hangup}
`,
		"say_hello.yaml": subflowFiles["say_hello.yaml"],
	}
	flow := flowNamed(t, loadFlowsDir(t, files), "main")
	call := ivrtest.NewScriptedCall("2")
	if _, err := runScripted(t, flow, call, ivr.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(call.Transcript(), "play tts:en:Hello") {
		t.Errorf("the subflow did not speak the caller's language")
	}

	// Three nodes: lang, sub and hi; back, in the subflow, is over budget.
	call = ivrtest.NewScriptedCall("2")
	res, err := runScripted(t, flow, call, ivr.RunOptions{MaxSteps: 3})
	if !errors.Is(err, ivr.ErrStepBudget) || res.End != ivr.EndStepBudget {
		t.Errorf("end %s, err %v; want the step budget, spent inside the subflow", res.End, err)
	}
	if !slices.Equal(res.Path, []string{"lang", "sub", "hi"}) {
		t.Errorf("path %v", res.Path)
	}
	if tr := call.Transcript(); tr[len(tr)-1] != "hangup error" {
		t.Errorf("the engine did not hang up: %q", tr)
	}
}

func TestRunRefusesASubflow(t *testing.T) {
	set := loadFlowsDir(t, subflowFiles)
	sub := flowNamed(t, set, "verify_pin")
	if !sub.Subflow {
		t.Fatal("verify_pin is not marked as a subflow")
	}
	res, err := ivr.Run(context.Background(), sub, ivrtest.NewScriptedCall(), ivr.RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "is a subflow") || res.End != ivr.EndError {
		t.Errorf("Run(subflow) = %s, %v", res.End, err)
	}
}

// TestSubflowLoops checks a loop through a subflow node is silent only
// when the subflow has no node that waits for the caller.
func TestSubflowLoops(t *testing.T) {
	main := `start: ask
nodes:
  ask:
    type: subflow
    flow: %s
    exits: {ok: bye, failed: again}
  again: {type: play, prompt: try_again, next: ask}
  bye: {type: hangup}
`
	waiting := `kind: subflow
start: c
outcomes: [ok, failed]
vars:
  pin: digits
nodes:
  c:
    type: collect
    prompt: enter_pin
    retries: 0
    store: pin
    exits: {ok: yes_, failed: no_}
  yes_: {type: return, outcome: ok}
  no_: {type: return, outcome: failed}
`
	silent := `kind: subflow
start: p
outcomes: [ok, failed]
nodes:
  p: {type: play, prompt: hello, next: no_}
  no_: {type: return, outcome: failed}
`
	nested := `kind: subflow
start: s
outcomes: [ok, failed]
nodes:
  s:
    type: subflow
    flow: waiting
    exits: {ok: y, failed: n}
  y: {type: return, outcome: ok}
  n: {type: return, outcome: failed}
`
	tests := []struct {
		callee string
		loops  bool
	}{
		{"waiting", false},
		{"nested", false},
		{"silent", true},
	}
	for _, tt := range tests {
		t.Run(tt.callee, func(t *testing.T) {
			dir := t.TempDir()
			for name, src := range map[string]string{
				"main.yaml": strings.Replace(main, "%s", tt.callee, 1), "waiting.yaml": waiting, "silent.yaml": silent, "nested.yaml": nested,
			} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			set, err := ivr.Load(dir, ivr.LoadOptions{})
			if tt.loops {
				if err == nil || !strings.Contains(err.Error(), "main.yaml:3:3: nodes ask → again → ask form a loop") {
					t.Errorf("err = %v, want the silent loop through ask", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			res, err := runScripted(t, flowNamed(t, set, "main"), ivrtest.NewScriptedCall("1", "-", "42"), ivr.RunOptions{})
			if err != nil || res.End != ivr.EndHangup || res.Steps[len(res.Steps)-1].Node != "bye" {
				t.Errorf("end %s, err %v, steps %+v", res.End, err, res.Steps)
			}
		})
	}
}
