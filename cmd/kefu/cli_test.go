package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLI(t *testing.T) {
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "main.yaml"), []byte("name: main\nstart: nowhere\nnodes:\n  hello:\n    type: play\n    prompt: welcome\n    next: bye\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(broken, "prompts"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		out, err string // substrings expected
	}{
		{"flows check ok", []string{"flows", "check", "../../flows"}, 0, "flows ok", ""},
		{"flows check broken", []string{"flows", "check", broken}, 1, filepath.Join(broken, "main.yaml") + ":2:", ""},
		{"flows without check", []string{"flows"}, 2, "", "usage: kefu flows check"},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"help", []string{"help"}, 0, "kefu flows check DIR", ""},
		{"bad flag", []string{"serve", "-nope"}, 2, "", "flag provided but not defined"},
		{"stray argument", []string{"serve", "extra"}, 2, "", "takes only flags"},
		{"redis unreachable", []string{"serve", "-flows", "../../flows", "-data", t.TempDir(), "-redis", "redis://127.0.0.1:1", "-http", "127.0.0.1:0", "-sip", "127.0.0.1:0"}, 1, "", "run without -redis"},
		{"missing config", []string{"-config", "/nonexistent/kefu.yaml"}, 1, "", "give an existing file with -config"},
		{"bad log level", []string{"-log-level", "loud"}, 1, "", "use debug, info, warn or error"},
		{"serve refuses a broken flow", []string{"-flows", broken, "-http", "127.0.0.1:0", "-sip", "127.0.0.1:0"}, 1, "", filepath.Join(broken, "main.yaml") + ":2:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tc.out) {
				t.Errorf("stdout %q does not contain %q", out.String(), tc.out)
			}
			if !strings.Contains(errb.String(), tc.err) {
				t.Errorf("stderr %q does not contain %q", errb.String(), tc.err)
			}
		})
	}
}

// flowsFixture copies the scenario package's fixture flows and scenario
// files into a flows directory with an (empty) prompts directory, and adds
// extra files (name → content).
func flowsFixture(t *testing.T, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"prompts", "tests"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for from, to := range map[string]string{"../../ivr/scenario/testdata/flows/*.yaml": dir, "../../ivr/scenario/testdata/tests/*.yaml": filepath.Join(dir, "tests")} {
		files, err := filepath.Glob(from)
		if err != nil || len(files) == 0 {
			t.Fatalf("no fixture files %s: %v", from, err)
		}
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(to, filepath.Base(f)), src, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, src := range extra {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFlowsTools(t *testing.T) {
	fx := flowsFixture(t, map[string]string{"balance.json": `{"account": {"balance": "42.50"}}`})
	failing := flowsFixture(t, map[string]string{"tests/wrong.yaml": "flow: hotline\ncases:\n  - name: expects the wrong ending\n    at: 2026-10-02T10:00:00+08:00\n    expect: {node: closed}\n"})
	vip := []string{"--caller", "13800000005", "--keys", "1 5 1", "--at", "2026-11-25T10:00:00+08:00",
		"--customer", "stars=5,vip=true,tier=five_star,manager=1001,brand=GoTone", "--queue", "after_agent:1001"}
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		out, err []string // substrings expected
	}{
		{"simulate VIP on the sample flows", append([]string{"flows", "simulate", "-flows", "../../flows", "main"}, vip...), 0,
			[]string{"simulate main (../../flows/main.yaml", "13800000005 calls 10086 at 2026-11-25T10:00:00+08:00", "customer: tier \"five_star\", 5 stars", "  1 choose_language (language)", "end: hangup in thanks (reason served)", "survey: satisfaction=5", "queue: vip (tier \"\", preferred agent \"1001\"): after_agent by 1001"}, nil},
		{"simulate by file", append([]string{"flows", "simulate", "../../flows/main.yaml"}, vip...), 0, []string{"end: hangup in thanks"}, nil},
		{"simulate flags before the flow", []string{"flows", "simulate", "-flows", fx, "--at", "2026-10-02T10:00:00+08:00", "hotline"}, 0,
			[]string{"hours    hotline: holiday (国庆节)", "end: hangup in holiday (reason holiday)"}, nil},
		{"simulate webhook from a file", []string{"flows", "simulate", "-flows", fx, "hotline", "--at", "2026-11-25T10:00:00+08:00", "--keys", "2 1 12345678#",
			"--webhook", "http://billing.test/=" + filepath.Join(fx, "balance.json")}, 0,
			[]string{"webhook  http://billing.test/ → 200", `says (en) "Your balance is 42.50 yuan."`, "account_no=****", "balance=42.50", "language: en"}, nil},
		{"simulate webhook down", []string{"flows", "simulate", "-flows", fx, "hotline", "--at", "2026-11-25T10:00:00+08:00", "--keys", "1 1 12345678#",
			"--webhook", "http://billing.test/=error", "--queue", "no_agents"}, 0,
			[]string{"http://billing.test/ → connection refused", "end: hangup in goodbye"}, nil},
		{"simulate switch on", []string{"flows", "simulate", "-flows", fx, "hotline", "--at", "2026-11-25T10:00:00+08:00", "--switch", "announce.outage=on", "--keys", "1 hangup"}, 0,
			[]string{"announce outage is on", "outage_notice: says", "end: caller_hangup in main_menu"}, nil},
		{"simulate notes unused keys", []string{"flows", "simulate", "-flows", fx, "hotline", "--at", "2026-10-02T10:00:00+08:00", "--keys", "1 2"}, 0,
			[]string{"note: keys not used: 1 2"}, nil},
		{"simulate run error", []string{"flows", "simulate", "-flows", fx, "direct", "--keys", "1", "--max-steps", "2"}, 1,
			[]string{"end: step_budget", "error: ivr: flow \"direct\""}, nil},
		{"simulate unknown flow", []string{"flows", "simulate", "-flows", fx, "nope"}, 1, nil, []string{`no flow "nope" in ` + fx}},
		{"simulate a subflow", []string{"flows", "simulate", "-flows", fx, "confirm"}, 1, nil, []string{`"confirm" is a subflow`}},
		{"simulate bad keys", []string{"flows", "simulate", "main", "--keys", "1 x"}, 2, nil, []string{`--keys: ivrtest: script token "x"`}},
		{"simulate bad customer", []string{"flows", "simulate", "main", "--customer", "stars=9"}, 2, nil, []string{"--customer: customer \"stars=9\": stars=9 must be a grade 0 to 5"}},
		{"simulate two customers", []string{"flows", "simulate", "main", "--customer", "vip=true", "--not-found"}, 2, nil, []string{"give one of --customer, --not-found and --directory-error"}},
		{"simulate bad time", []string{"flows", "simulate", "main", "--at", "2026-11-25 10:00"}, 2, nil, []string{`--at: time "2026-11-25 10:00" has no offset`}},
		{"simulate bad switch", []string{"flows", "simulate", "main", "--switch", "announce.outage"}, 2, nil, []string{`--switch "announce.outage": write NAME=on or NAME=off`}},
		{"simulate unknown switch", []string{"flows", "simulate", "-flows", fx, "hotline", "--switch", "announce.outages=on"}, 1, nil, []string{`there is no announcement "outages"`}},
		{"simulate bad webhook", []string{"flows", "simulate", "main", "--webhook", "crm=404"}, 2, nil, []string{"must start with http:// or https://"}},
		{"simulate missing webhook file", []string{"flows", "simulate", "main", "--webhook", "http://crm/=nofile.json"}, 2, nil, []string{"read the answer's body"}},
		{"simulate bad queue", []string{"flows", "simulate", "main", "--queue", "max_wait,answered"}, 2, nil, []string{`--queue: queue outcome "answered"`}},
		{"simulate without a flow", []string{"flows", "simulate"}, 2, nil, []string{"usage: kefu flows check"}},
		{"test the fixtures", []string{"flows", "test", "-flows", fx}, 0,
			[]string{"  PASS  five-star caller goes to the VIP queue and rates the call", "hotline: nodes 21/22 (95%), exits 27/34 (79%)", "never entered: sorry", "13 cases: 13 passed, 0 failed"}, nil},
		{"test a flows directory, like check", []string{"flows", "test", fx}, 0, []string{"13 cases: 13 passed, 0 failed"}, nil},
		{"test a failing case", []string{"flows", "test", "-flows", failing}, 1,
			[]string{"  FAIL  expects the wrong ending (" + filepath.Join(failing, "tests", "wrong.yaml") + ":3)", "node: the call ended in holiday (hangup), want closed", "14 cases: 13 passed, 1 failed"}, nil},
		{"test another test directory", []string{"flows", "test", "-flows", fx, filepath.Join(fx, "prompts")}, 1,
			[]string{"no scenario files (*.yaml) in " + filepath.Join(fx, "prompts")}, nil},
		{"graph", []string{"flows", "graph", "-flows", fx, "hotline"}, 0,
			[]string{"flowchart TD\n", "start([start]) --> n_office_hours", `n_vip_queue(["vip_queue<br/>queue vip"])`}, nil},
		{"graph by file", []string{"flows", "graph", filepath.Join(fx, "confirm.yaml")}, 0, []string{`n_confirmed((("confirmed<br/>return yes")))`}, nil},
		{"graph of a file outside the directory", []string{"flows", "graph", "-flows", "../../flows", filepath.Join(fx, "confirm.yaml")}, 1, nil, []string{"no flow was loaded from"}},
		{"unknown flows command", []string{"flows", "lint"}, 2, nil, []string{`kefu flows: unknown command "lint"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errb.String())
			}
			for _, w := range tc.out {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tc.err {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errb.String())
				}
			}
		})
	}
}
