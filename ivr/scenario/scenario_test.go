package scenario_test

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"kefu/ivr"
	"kefu/ivr/scenario"
)

// fixtureSet loads the fixture flows of testdata/flows.
func fixtureSet(t testing.TB) *ivr.Set {
	t.Helper()
	set, err := ivr.Load("testdata/flows", ivr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestFixtureScenarios(t *testing.T) {
	set := fixtureSet(t)
	files, err := scenario.LoadDir("testdata/tests")
	if err != nil {
		t.Fatal(err)
	}
	var reports []scenario.Report
	for _, f := range files {
		r := scenario.Run(set, f)
		reports = append(reports, r)
		for _, c := range r.Cases {
			if !c.Passed() {
				t.Errorf("%s:%d: %s:\n  %s", f.Path, c.Case.Pos.Line, c.Case.Name, strings.Join(c.Failures, "\n  "))
			}
		}
	}
	for _, c := range scenario.CoverageOf(set, reports) {
		t.Logf("%s; not entered: %v; not taken: %v", c, c.NotEntered, c.NotTaken)
	}
}

// TestFailures runs cases whose expectations are wrong and checks each
// failure is reported, saying what happened.
func TestFailures(t *testing.T) {
	set := fixtureSet(t)
	tests := []struct {
		name string
		body string   // the case, after "- name: x"
		want []string // failure messages (substrings), in order; none: the case passes
	}{
		{"passes", `
    at: 2026-10-02T10:00:00+08:00
    expect: {path: [office_hours, holiday]}`, nil},
		{"wrong path", `
    at: 2026-10-02T10:00:00+08:00
    expect: {path: [office_hours, closed]}`,
			[]string{`path: got office_hours → holiday, want office_hours → closed (step 2: got holiday, want closed)`}},
		{"path too short", `
    at: 2026-10-02T10:00:00+08:00
    expect: {path: [office_hours]}`,
			[]string{`(the call went on to holiday)`}},
		{"unknown node names", `
    at: 2026-10-02T10:00:00+08:00
    expect: {path_excludes: [holliday], node: nowhere}`,
			[]string{`path_excludes: no node "holliday" in flow hotline (did you mean "holiday"?)`, `node: no node "nowhere"`, `node: the call ended in holiday (hangup), want nowhere`}},
		{"path_includes out of order", `
    at: 2026-10-02T10:00:00+08:00
    expect: {path_includes: [holiday, office_hours]}`,
			[]string{`path_includes: "office_hours" not entered (in the order holiday → office_hours)`}},
		{"path_ends_with and excludes", `
    at: 2026-10-02T10:00:00+08:00
    expect: {path_ends_with: [closed], path_excludes: [holiday]}`,
			[]string{`path_ends_with: path office_hours → holiday does not end with closed`, `path_excludes: "holiday" was entered`}},
		{"end node reason", `
    keys: ["1", hangup]
    expect: {end: hangup, reason: served}`,
			[]string{`end: got caller_hangup in node main_menu, want hangup`, `reason: got "", want "served"`}},
		{"unused keys", `
    at: 2026-10-02T10:00:00+08:00
    keys: ["1", "2"]`,
			[]string{`keys not used: 1 2 (the call ended in holiday before the caller pressed them)`}},
		{"unused queue outcomes", `
    at: 2026-10-02T10:00:00+08:00
    queue: [max_wait]`,
			[]string{`queue outcomes not used: max_wait (only 0 queue nodes ran)`}},
		{"prompts", `
    at: 2026-10-02T10:00:00+08:00
    expect: {prompts_include: [closed], prompts_exclude: [holiday, welcom]}`,
			[]string{`prompts_exclude: flow hotline plays no prompt "welcom"`, `prompts_include: "closed" not played (in the order closed); played holiday`, `prompts_exclude: "holiday" was played`}},
		{"says", `
    at: 2026-10-02T10:00:00+08:00
    expect: {says: ["closed"]}`,
			[]string{`says: no text containing "closed" (in the order given); said "节假日休息。"`}},
		{"queue and queues", `
    keys: ["1", "9"]
    queue: [max_wait]
    expect:
      queue: {name: billing, outcome: after_agent, tier: vip}
      queues: [billing]`,
			[]string{`queues: got complaints, want billing`, `queue: name = "complaints", want "billing"`, `queue: outcome = "max_wait", want "after_agent"`, `queue: tier = "", want "vip"`}},
		{"queue when none ran", `
    at: 2026-10-02T10:00:00+08:00
    expect: {queue: {name: billing}}`,
			[]string{`queue: no queue node ran`}},
		{"vars survey language milestones", `
    keys: ["2", "1", "12345678#"]
    webhooks: {"http://billing.test/": {body: {account: {balance: 7}}}}
    expect:
      vars: {account_no: "12345678", balance: "7", nope: x}
      survey: {satisfaction: "5"}
      language: zh
      milestones: [main_menu]`,
			[]string{`vars: account_no = "****", want "12345678"`, `vars: flow hotline has no variable "nope"`, `survey: no answer to "satisfaction" (answers: none)`, `language: got en, want zh`, `milestones: got main_menu, heard_balance, want main_menu`}},
		{"empty milestones means none", `
    keys: ["1", hangup]
    expect: {milestones: []}`,
			[]string{`milestones: got main_menu, want none`}},
		{"transcript", `
    at: 2026-10-02T10:00:00+08:00
    expect: {transcript_include: ["hangup holiday", "play holiday"]}`,
			[]string{`transcript_include: no line containing "play holiday" (in the order given)`}},
		{"error expected but nothing failed", `
    at: 2026-10-02T10:00:00+08:00
    expect: {error: "webhook"}`,
			[]string{`error: nothing failed, want an error containing "webhook"`}},
		{"step budget takes on_error", `
    keys: ["1", "1", "12345678#"]
    max_steps: 5
    expect: {node: sorry, reason: error, error: "step budget exhausted"}`,
			[]string{`keys not used: 12345678# (the call ended in sorry`}},
		{"flow: direct\nstep budget without on_error", `
    keys: ["1"]
    max_steps: 2
    expect: {end: hangup}`,
			[]string{`the run failed: ivr: flow "direct": node "verify": subflow "confirm": step budget exhausted`, `end: got step_budget in node verify, want hangup`}},
		{"flow: direct\nstep budget expected", `
    max_steps: 2
    expect: {end: step_budget, node: confirmed}`,
			[]string{`node: the call ended in verify (step_budget), want confirmed`}},
		{"switch naming nothing", `
    switches: {announce.outages: true}`,
			[]string{`switch announce.outages: there is no announcement "outages" (there are: outage)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			flow, name := "hotline", tc.name
			if f, n, ok := strings.Cut(tc.name, "\n"); ok {
				flow, name = strings.TrimPrefix(f, "flow: "), n
			}
			src := "flow: " + flow + "\ncases:\n  - name: " + name + tc.body + "\n"
			f, err := scenario.Parse("case.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			r := scenario.Run(set, f)
			got := r.Cases[0].Failures
			if len(tc.want) == 0 && len(got) > 0 {
				t.Fatalf("failed:\n  %s", strings.Join(got, "\n  "))
			}
			if len(got) != len(tc.want) {
				t.Errorf("%d failures, want %d:\n  %s", len(got), len(tc.want), strings.Join(got, "\n  "))
			}
			for i, w := range tc.want {
				if i < len(got) && !strings.Contains(got[i], w) {
					t.Errorf("failure %d = %q, want it to contain %q", i+1, got[i], w)
				}
			}
			if r.Failed() != min(1, len(tc.want)) {
				t.Errorf("Failed() = %d", r.Failed())
			}
		})
	}
}

// TestSampleScenarios runs the scenario files of the sample flows
// (flows/tests) against them, as kefu flows test does.
func TestSampleScenarios(t *testing.T) {
	if _, err := os.Stat("../../flows/tests"); errors.Is(err, fs.ErrNotExist) {
		t.Skip("no ../../flows/tests yet")
	}
	prompts, err := ivr.PromptFiles("../../flows/prompts")
	if err != nil {
		t.Fatal(err)
	}
	set, err := ivr.Load("../../flows", ivr.LoadOptions{Prompts: prompts})
	if err != nil {
		t.Fatal(err)
	}
	files, err := scenario.LoadDir("../../flows/tests")
	if err != nil {
		t.Fatal(err)
	}
	var reports []scenario.Report
	for _, f := range files {
		r := scenario.Run(set, f)
		reports = append(reports, r)
		for _, c := range r.Cases {
			if !c.Passed() {
				t.Errorf("%s:%d: %s:\n  %s", f.Path, c.Case.Pos.Line, c.Case.Name, strings.Join(c.Failures, "\n  "))
			}
		}
	}
	for _, c := range scenario.CoverageOf(set, reports) {
		t.Logf("%s; never entered: %v", c, c.NotEntered)
	}
}
