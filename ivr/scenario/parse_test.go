package scenario_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"kefu/ivr"
	"kefu/ivr/scenario"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // the whole error, file:line:col: message (a prefix of it when it ends with "…")
	}{
		{"empty", "", `bad.yaml: the file is empty; a scenario file needs flow: and cases:`},
		{"syntax", "flow: main\ncases: [\n", `bad.yaml:2:8: sequence end token ']' not found`},
		{"unknown top key", "flw: main\ncases: []\n", `bad.yaml:1:1: unknown field "flw"…`},
		{"missing flow", "cases:\n  - name: x\n", `bad.yaml:1:1: missing "flow"; add flow: <name> naming the flow the cases call`},
		{"missing cases", "flow: main\n", `bad.yaml:1:1: missing "cases"; add cases: with at least one - name: ... entry`},
		{"bad flow name", "flow: Main\ncases:\n  - name: x\n", `bad.yaml:1:7: "Main" is not a name: names are lower-case letters, digits, _ and -, starting with a letter`},
		{"kind", "kind: flow\nflow: main\ncases:\n  - name: x\n", `bad.yaml:1:7: kind "flow": a scenario file's kind is test (or leave kind: out)`},
		{"unknown case key", "flow: main\ncases:\n  - name: x\n    kyes: [\"1\"]\n", `bad.yaml:4:5: unknown field "kyes"…`},
		{"unknown expect key", "flow: main\ncases:\n  - name: x\n    expect: {paht: [a]}\n", `bad.yaml:4:14: unknown field "paht"…`},
		{"duplicate key", "flow: main\ncases:\n  - name: x\n    keys: [\"1\"]\n    keys: [\"2\"]\n", `bad.yaml:5:5: mapping key "keys" already defined at [4:5]`},
		{"case without name", "flow: main\ncases:\n  - keys: [\"1\"]\n", `bad.yaml:3:5: the case has no name; add name: saying what it checks`},
		{"empty case", "flow: main\ncases:\n  - name: x\n  -\n", `bad.yaml:4:3: the case is empty; write - name: ... with its keys and expect:`},
		{"duplicate case name", "flow: main\ncases:\n  - name: x\n  - name: x\n", `bad.yaml:4:5: case "x" is already defined at line 3; give each case its own name`},
		{"bad key token", "flow: main\ncases:\n  - name: x\n    keys: [\"1\", \"x\"]\n", `bad.yaml:4:17: script token "x": want keys…`},
		{"bad key in a line", "flow: main\ncases:\n  - name: x\n    keys: \"1 2 queue:later\"\n", `bad.yaml:4:11: script token "queue:later": outcome must be after_agent, max_wait, no_agents or callback`},
		{"caller unquoted", "flow: main\ncases:\n  - name: x\n    caller: 13800000005\n", `bad.yaml:4:13: write the number as quoted text: "13800000005"…`},
		{"at without offset", "flow: main\ncases:\n  - name: x\n    at: 2026-11-25T10:00:00\n", `bad.yaml:4:9: time "2026-11-25T10:00:00" has no offset; write the date, time and offset, like 2026-11-25T10:00:00+08:00`},
		{"at not a time", "flow: main\ncases:\n  - name: x\n    at: tomorrow\n", `bad.yaml:4:9: "tomorrow" is not a time…`},
		{"queue outcome", "flow: main\ncases:\n  - name: x\n    queue: [max_wait, answered]\n", `bad.yaml:4:23: queue outcome "answered": write after_agent, after_agent:AGENT, max_wait, no_agents or callback`},
		{"queue agent on max_wait", "flow: main\ncases:\n  - name: x\n    queue: [\"max_wait:1001\"]\n", `bad.yaml:4:13: queue outcome "max_wait:1001"…`},
		{"switch name", "flow: main\ncases:\n  - name: x\n    switches: {outage: true}\n", `bad.yaml:4:16: switch "outage": write announce.<announcement> or emergency.<calendar>`},
		{"switch value", "flow: main\ncases:\n  - name: x\n    switches: {announce.outage: on}\n", `bad.yaml:4:33: switch announce.outage must be true or false, not "on"`},
		{"webhook prefix", "flow: main\ncases:\n  - name: x\n    webhooks: {\"crm/\": {status: 200}}\n", `bad.yaml:4:16: webhook prefix "crm/" must start with http:// or https:// and a host`},
		{"webhook status", "flow: main\ncases:\n  - name: x\n    webhooks:\n      \"http://crm/\": {status: 99}\n", `bad.yaml:5:22: webhook http://crm/: status 99 is not an HTTP status (100-599)`},
		{"webhook error with body", "flow: main\ncases:\n  - name: x\n    webhooks:\n      \"http://crm/\": {error: true, body: {}}\n", `bad.yaml:5:22: webhook http://crm/: error: true fails the connection; remove status and body`},
		{"webhook unknown key", "flow: main\ncases:\n  - name: x\n    webhooks:\n      \"http://crm/\": {statis: 200}\n", `bad.yaml:5:23: unknown field "statis"…`},
		{"customer not_found and fields", "flow: main\ncases:\n  - name: x\n    customer: {not_found: true, vip: true}\n", `bad.yaml:4:15: not_found and error leave no customer to describe; remove the other fields`},
		{"customer both", "flow: main\ncases:\n  - name: x\n    customer: {not_found: true, error: true}\n", `bad.yaml:4:15: a customer is either not_found or error, not both`},
		{"customer stars", "flow: main\ncases:\n  - name: x\n    customer:\n      stars: 7\n", `bad.yaml:5:7: stars 7: a grade is 0 (none) to 5`},
		{"customer unknown key", "flow: main\ncases:\n  - name: x\n    customer: {start: 5}\n", `bad.yaml:4:16: unknown field "start"…`},
		{"end", "flow: main\ncases:\n  - name: x\n    expect: {end: hungup}\n", `bad.yaml:4:19: end "hungup": write hangup, caller_hangup, transferred, error or step_budget`},
		{"type error", "flow: main\ncases:\n  - name: x\n    max_steps: many\n", `bad.yaml:4:16: max_steps: "many" must be a whole number`},
		{"expect node list", "flow: main\ncases:\n  - name: x\n    expect: {path: welcome}\n", `bad.yaml:4:20: path: "welcome" must be a list`},
		{"anchors", "flow: main\ndefaults: &d {caller: \"1\"}\ncases:\n  - name: x\n", `bad.yaml:2:11: anchors (&) and aliases (*) are not supported in scenario files…`},
		{"two documents", "flow: main\ncases:\n  - name: x\n---\nflow: other\n", `bad.yaml:5:5: a scenario file holds one document; move the part after --- to its own file`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := scenario.Parse("bad.yaml", []byte(tc.src))
			if err == nil {
				t.Fatalf("no error; parsed %+v", f)
			}
			var pe *scenario.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *ParseError", err, err)
			}
			got := err.Error()
			if want, prefix := strings.CutSuffix(tc.want, "…"); prefix {
				if !strings.HasPrefix(got, want) {
					t.Errorf("error\n  %s\nwant it to start with\n  %s", got, want)
				}
			} else if got != tc.want {
				t.Errorf("error\n  %s\nwant\n  %s", got, tc.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	src := `# a comment
kind: test
flow: main
description: parse test
defaults:
  caller: "+8613800000001"
  at: 2026-11-25T10:00:00+08:00
  customer: {stars: 4, tier: vip, manager: 1001, extra: {plan: 88}}
  switches: {announce.outage: true}
cases:
  - name: inherits the defaults
    keys: "1 ~2, - hangup"
    queue: max_wait
    expect:
      milestones: []
      queue: {tier: ""}
  - name: overrides them
    caller: "10000"
    called: "10010"
    at: 2026-12-25T08:00:00Z
    customer: {not_found: true}
    switches: {}
    webhooks:
      "https://crm.test/a": {body: {x: [1, 2]}}
      "http://crm.test/": {status: 404, body: "not json"}
      "http://down.test/": {error: true}
    keys: ["1", 12345678#, "queue:after_agent:9"]
    queue: ["after_agent", "after_agent:1001", no_agents, callback]
    max_steps: 30
    expect:
      vars: {n: 5, b: true, s: text}
      survey: {q: 1}
      end: transferred
`
	f, err := scenario.Parse("ok.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if f.Flow != "main" || f.Description != "parse test" || f.Path != "ok.yaml" || len(f.Cases) != 2 {
		t.Fatalf("file = %+v", f)
	}
	a, b := f.Cases[0], f.Cases[1]
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.FixedZone("", 8*3600))
	tests := []struct {
		name      string
		got, want any
	}{
		{"name", a.Name, "inherits the defaults"},
		{"pos", a.Pos, ivr.Pos{Line: 11, Col: 5}},
		{"default caller", a.Setup.Caller, "+8613800000001"},
		{"default called", a.Setup.Called, ""},
		{"default at", a.Setup.At.Equal(at), true},
		{"default customer", *a.Setup.Customer, scenario.Customer{Data: ivr.Customer{Stars: 4, Tier: "vip", Manager: "1001", Extra: map[string]string{"plan": "88"}}}},
		{"default switches", a.Setup.Switches, map[string]bool{"announce.outage": true}},
		{"keys on one line", a.Setup.Keys, []string{"1", "~2", "-", "hangup"}},
		{"one queue outcome", a.Setup.Queue, []ivr.QueueResult{{Outcome: ivr.QueueMaxWait}}},
		{"empty milestones", a.Expect.Milestones != nil && len(a.Expect.Milestones) == 0, true},
		{"queue tier empty is checked", a.Expect.Queue, map[string]string{"tier": ""}},
		{"no path", a.Expect.Path == nil, true},
		{"caller", b.Setup.Caller, "10000"},
		{"called", b.Setup.Called, "10010"},
		{"at", b.Setup.At.Equal(time.Date(2026, 12, 25, 8, 0, 0, 0, time.UTC)), true},
		{"not found", *b.Setup.Customer, scenario.Customer{NotFound: true}},
		{"switches cleared", b.Setup.Switches, map[string]bool{}},
		{"webhook JSON", string(b.Setup.Webhooks["https://crm.test/a"].Body), `{"x":[1,2]}`},
		{"webhook status default", b.Setup.Webhooks["https://crm.test/a"].Status, 200},
		{"webhook text", b.Setup.Webhooks["http://crm.test/"], scenario.Webhook{Status: 404, Body: []byte("not json")}},
		{"webhook down", b.Setup.Webhooks["http://down.test/"], scenario.Webhook{Fail: true}},
		{"keys list", b.Setup.Keys, []string{"1", "12345678#", "queue:after_agent:9"}},
		{"queue outcomes", b.Setup.Queue, []ivr.QueueResult{
			{Outcome: ivr.QueueAnswered, AgentID: "agent-1"}, {Outcome: ivr.QueueAnswered, AgentID: "1001"},
			{Outcome: ivr.QueueNoAgents}, {Outcome: ivr.QueueCallback}}},
		{"max steps", b.Setup.MaxSteps, 30},
		{"vars as text", b.Expect.Vars, map[string]string{"n": "5", "b": "true", "s": "text"}},
		{"survey as text", b.Expect.Survey, map[string]string{"q": "1"}},
		{"end", b.Expect.End, ivr.EndTransfer},
		{"nil milestones", b.Expect.Milestones == nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !equal(tc.got, tc.want) {
				t.Errorf("got %#v, want %#v", tc.got, tc.want)
			}
		})
	}
}

// equal compares test values, maps and slices by content.
func equal(a, b any) bool {
	switch x := a.(type) {
	case []string:
		return slices.Equal(x, b.([]string))
	case []ivr.QueueResult:
		return slices.Equal(x, b.([]ivr.QueueResult))
	case map[string]string:
		y := b.(map[string]string)
		if len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || w != v {
				return false
			}
		}
		return true
	case map[string]bool:
		y := b.(map[string]bool)
		if len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || w != v {
				return false
			}
		}
		return true
	case scenario.Customer:
		y := b.(scenario.Customer)
		return x.NotFound == y.NotFound && x.Fail == y.Fail && equal(x.Data.Extra, y.Data.Extra) &&
			x.Data.Number == y.Data.Number && x.Data.Tier == y.Data.Tier && x.Data.Stars == y.Data.Stars &&
			x.Data.Brand == y.Data.Brand && x.Data.VIP == y.Data.VIP && x.Data.Manager == y.Data.Manager
	case scenario.Webhook:
		y := b.(scenario.Webhook)
		return x.Status == y.Status && x.Fail == y.Fail && string(x.Body) == string(y.Body)
	}
	return a == b
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := scenario.LoadDir(dir); err == nil || !strings.Contains(err.Error(), "no scenario files") {
		t.Errorf("empty dir: err = %v, want no scenario files", err)
	}
	write("b.yaml", "flow: main\ncases:\n  - name: b\n")
	write("a.yml", "flow: main\ncases:\n  - name: a\n")
	write("_draft.yaml", "broken: [")
	write("notes.txt", "not yaml")
	files, err := scenario.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f.Path))
	}
	if !slices.Equal(names, []string{"a.yml", "b.yaml"}) {
		t.Errorf("files = %v, want a.yml, b.yaml", names)
	}
	write("c.yaml", "flow: main\n")
	write("d.yaml", "flow: main\ncases:\n  - nmae: x\n")
	_, err = scenario.LoadDir(dir)
	for _, want := range []string{filepath.Join(dir, "c.yaml") + ":1:1: missing \"cases\"", filepath.Join(dir, "d.yaml") + ":3:5: unknown field \"nmae\""} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to report %s", err, want)
		}
	}
	if _, err := scenario.LoadDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing directory is not an error")
	}
}

func TestFormat(t *testing.T) {
	f := scenario.Format()
	tests := []struct {
		section string
		want    []string
	}{
		{"file", []string{"kind", "flow", "description", "defaults", "cases"}},
		{"defaults", []string{"caller", "called", "at", "customer", "webhooks", "switches", "queue", "max_steps"}},
		{"case", []string{"name", "caller", "called", "at", "customer", "webhooks", "switches", "queue", "max_steps", "keys", "expect"}},
		{"webhook", []string{"status", "body", "error"}},
		{"expect.queue", []string{"name", "tier", "preferred_agent", "music", "outcome", "agent"}},
	}
	for _, tc := range tests {
		if got := f[tc.section]; !slices.Equal(got, tc.want) {
			t.Errorf("Format()[%q] = %v, want %v", tc.section, got, tc.want)
		}
	}
	if !slices.Contains(f["expect"], "transcript_include") || !slices.Contains(f["customer"], "not_found") {
		t.Errorf("Format() = %v", f)
	}
}
