package ivr_test

// Tests of set and branch nodes: literals and "=" expressions, enum
// checks, swaps, case order and defaults.

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"kefu/ivr"
	"kefu/ivr/ivrtest"
)

const setFlowTmpl = `
start: s
vars:
  a: {type: int, default: 1}
  b: {type: int, default: 2}
  intent: {type: enum, values: [billing, data, complaints], default: data}
  flag: bool
  name: string
  code: digits
nodes:
  s:
    type: set
    set:
%s
    next: done
    exits: {error: oops}
  done: {type: hangup}
  oops: {type: hangup, reason: error}
`

func TestSet(t *testing.T) {
	tests := []struct {
		name   string
		set    string
		caller string
		vars   map[string]string
		reason string
		errSub string // Result.Error contains it
	}{
		{
			name: "literals of every type",
			set:  "a: 42\nflag: true\nname: 张三\ncode: \"007\"\nintent: billing",
			vars: map[string]string{"a": "42", "b": "2", "flag": "true", "name": "张三", "code": "007", "intent": "billing"},
		},
		{
			name: "expressions over variables and system variables",
			set:  "a: \"= a + b * 10\"\nname: \"= 'tel:' + caller\"\ncode: \"= caller\"\nflag: \"= len(caller) == 11\"",
			vars: map[string]string{"a": "21", "name": "tel:13800138000", "code": "13800138000", "flag": "true"},
		},
		{
			name: "all values are computed before any is set: a swap",
			set:  "a: \"= b\"\nb: \"= a\"",
			vars: map[string]string{"a": "2", "b": "1"},
		},
		{
			name: "an enum set by an expression to one of its values",
			set:  "intent: \"= a == 1 ? 'complaints' : 'data'\"",
			vars: map[string]string{"intent": "complaints"},
		},
		{
			name:   "an enum set by an expression to a value it does not have takes the error exit",
			set:    "intent: \"= 'bogus'\"\na: 7",
			vars:   map[string]string{"intent": "data", "a": "1"}, // nothing is set
			reason: "error", errSub: `variable "intent": "bogus" is not one of billing, data, complaints`,
		},
		{
			name:   "digits from an expression that is not digits take the error exit",
			set:    "code: \"= caller\"",
			caller: "anonymous",
			vars:   map[string]string{"code": ""},
			reason: "error", errSub: `variable "code": "anonymous" is not digits 0-9`,
		},
		{
			name: "a division that comes out whole fits an int",
			set:  "a: \"= b / 2 + b * 3\"",
			vars: map[string]string{"a": "7"},
		},
		{
			name:   "a fraction does not fit an int: the error exit, not a truncated value",
			set:    "a: \"= 7 / b\"",
			vars:   map[string]string{"a": "1"},
			reason: "error", errSub: `variable "a": 3.5 (float64) does not fit`,
		},
		{
			name:   "a division by zero takes the error exit",
			set:    "a: \"= 10 / (b - 2)\"",
			vars:   map[string]string{"a": "1"},
			reason: "error", errSub: `variable "a": +Inf (float64) does not fit`,
		},
		{
			name:   "an expression that fails at run time takes the error exit",
			set:    "name: \"= string(b) + string(1 % (b - 2))\"",
			vars:   map[string]string{"name": ""},
			reason: "error", errSub: "integer divide by zero",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flow := inlineFlow(t, fmt.Sprintf(setFlowTmpl, indent(tt.set, 6)))
			call := ivrtest.NewScriptedCall()
			if tt.caller != "" {
				call.CallerNumber = tt.caller
			}
			res, err := runScripted(t, flow, call, ivr.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			reason := tt.reason
			if reason == "" {
				reason = "normal"
			}
			if res.HangupReason != reason {
				t.Errorf("ended %q (error %q), want %q", res.HangupReason, res.Error, reason)
			}
			if !strings.Contains(res.Error, tt.errSub) || (tt.errSub == "") != (res.Error == "") {
				t.Errorf("Result.Error = %q, want it to say %q", res.Error, tt.errSub)
			}
			for k, want := range tt.vars {
				if got := res.Vars[k]; got != want {
					t.Errorf("var %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// branchFlow reads a number and branches on it and on other variables.
const branchFlow = `
start: ask
vars:
  n: int
  intent: {type: enum, values: [billing, data], default: data}
nodes:
  ask:
    type: collect
    prompt: enter
    store: n
    retries: 0
    exits: {ok: pick, failed: pick}
  pick:
    type: branch
    cases:
      - when: n >= 100
        go: big
      - when: n >= 10 && intent == "data"
        go: medium
      - when: n >= 10
        go: big
      - when: caller startsWith "+86" || lang == "en"
        go: foreign
    default: small
  big: {type: hangup, reason: big}
  medium: {type: hangup, reason: medium}
  foreign: {type: hangup, reason: foreign}
  small: {type: hangup, reason: small}
`

func TestBranch(t *testing.T) {
	flow := inlineFlow(t, branchFlow)
	tests := []struct {
		name   string
		keys   string
		caller string
		reason string
		exit   string
	}{
		{"first case that holds wins, though later ones hold too", "150#", "", "big", "case1"},
		{"second case", "50#", "", "medium", "case2"},
		{"system variable", "5#", "+8613800138000", "foreign", "case4"},
		{"no case holds: default", "5#", "", "small", "default"},
		{"no input leaves the int at 0: default", "-", "", "small", "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := ivrtest.NewScriptedCall(tt.keys)
			if tt.caller != "" {
				call.CallerNumber = tt.caller
			}
			res, err := runScripted(t, flow, call, ivr.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.HangupReason != tt.reason {
				t.Errorf("ended %q, want %q", res.HangupReason, tt.reason)
			}
			i := slices.IndexFunc(res.Steps, func(s ivr.Step) bool { return s.Node == "pick" })
			if i < 0 || res.Steps[i].Exit != tt.exit {
				t.Errorf("steps %+v: want pick to exit by %s", res.Steps, tt.exit)
			}
		})
	}
}

// TestBranchCustomerExtra checks a branch can read the directory's extra
// columns, and that an unknown column reads as empty.
func TestBranchCustomerExtra(t *testing.T) {
	flow := inlineFlow(t, `
start: who
nodes:
  who:
    type: lookup
    exits: {ok: plan, not_found: plan, error: plan}
  plan:
    type: branch
    cases:
      - when: customer.extra["plan"] == "unlimited"
        go: unlimited
      - when: customer.extra["nope"] == nil || customer.extra["nope"] == ""
        go: other
    default: weird
  unlimited: {type: hangup, reason: unlimited}
  other: {type: hangup, reason: other}
  weird: {type: hangup, reason: weird}
`)
	tests := []struct {
		name string
		dir  *stubDirectory
		want string
	}{
		{"extra column", &stubDirectory{found: true, c: ivr.Customer{Extra: map[string]string{"plan": "unlimited"}}}, "unlimited"},
		{"found without extra", &stubDirectory{found: true}, "other"},
		{"not found", &stubDirectory{}, "other"},
		{"no directory", nil, "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var svc ivr.Services
			if tt.dir != nil {
				svc.Directory = tt.dir
			}
			res, err := runScripted(t, flow, ivrtest.NewScriptedCall(), ivr.RunOptions{Services: svc})
			if err != nil || res.HangupReason != tt.want {
				t.Errorf("ended %q (%v), want %q", res.HangupReason, err, tt.want)
			}
		})
	}
}
