package scenario_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"kefu/ivr"
	"kefu/ivr/scenario"
)

func TestParseCustomer(t *testing.T) {
	tests := []struct {
		in      string
		want    ivr.Customer
		wantErr string
	}{
		{in: "stars=5,vip=true,tier=five_star,manager=1001,brand=GoTone",
			want: ivr.Customer{Stars: 5, VIP: true, Tier: "five_star", Manager: "1001", Brand: "GoTone"}},
		{in: " number = 138 , extra.plan=88,", want: ivr.Customer{Number: "138", Extra: map[string]string{"plan": "88"}}},
		{in: "", want: ivr.Customer{}},
		{in: "stars=6", wantErr: "stars=6 must be a grade 0 to 5"},
		{in: "vip=maybe", wantErr: "vip=maybe must be true or false"},
		{in: "vip", wantErr: `"vip" is not key=value`},
		{in: "tier=a,tier=b", wantErr: "tier is given twice"},
		{in: "plan=88", wantErr: `unknown key "plan"; keys are number, tier, stars, brand, vip, manager, repeat and extra.<column>`},
		{in: "extra.=1", wantErr: `unknown key "extra."`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := scenario.ParseCustomer(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equal(scenario.Customer{Data: got}, scenario.Customer{Data: tc.want}) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseQueueOutcome(t *testing.T) {
	tests := []struct {
		in   string
		want ivr.QueueResult
		err  bool
	}{
		{in: "after_agent", want: ivr.QueueResult{Outcome: ivr.QueueAnswered, AgentID: "agent-1"}},
		{in: "after_agent:1001", want: ivr.QueueResult{Outcome: ivr.QueueAnswered, AgentID: "1001"}},
		{in: "callback", want: ivr.QueueResult{Outcome: ivr.QueueCallback}},
		{in: "max_wait,1", err: true},
		{in: "no_agents:7", err: true},
		{in: "", err: true},
		{in: "hangup", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := scenario.ParseQueueOutcome(tc.in)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("ParseQueueOutcome(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestSimulate(t *testing.T) {
	set := fixtureSet(t)
	var lines []ivr.TraceLine
	out, err := scenario.Simulate(context.Background(), set, "hotline", scenario.Setup{
		Keys:     []string{"2", "1", "87654321#"},
		Webhooks: map[string]scenario.Webhook{"http://billing.test/": {Status: 200, Body: []byte(`{"account":{"balance":"3.20"}}`)}},
	}, func(l ivr.TraceLine) { lines = append(lines, l) })
	if err != nil {
		t.Fatal(err)
	}
	if out.Err != nil || out.Result.End != ivr.EndHangup || out.Result.Node != "goodbye" {
		t.Fatalf("run ended %s in %s: %v", out.Result.End, out.Result.Node, out.Err)
	}
	if !slices.Equal(lines, out.Trace) {
		t.Errorf("the trace callback saw %d lines, Outcome.Trace has %d", len(lines), len(out.Trace))
	}
	var text []string
	for _, l := range lines {
		text = append(text, l.What+" "+l.Node+" "+l.Text)
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{
		"webhook balance_lookup http://billing.test/ → 200",
		"lookup balance_lookup webhook: ok",
		`prompt say_balance balance_is: says (en) "Your balance is 3.20 yuan."`,
		"set account account_no = ****",
		"end goodbye hangup",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("trace lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "87654321") {
		t.Errorf("the trace shows the sensitive account number:\n%s", all)
	}
	if !slices.Equal(out.Prompts, []string{"language_menu", "main_menu", "enter_account", "balance_is", "goodbye"}) {
		t.Errorf("Prompts = %v", out.Prompts)
	}
	if got := out.Said[len(out.Said)-1]; got != (scenario.Spoken{Lang: "en", Text: "Goodbye."}) {
		t.Errorf("last said %+v", got)
	}

	errTests := []struct {
		name  string
		flow  string
		setup scenario.Setup
		want  string
	}{
		{"unknown flow", "nope", scenario.Setup{}, `no flow "nope" in the flows directory (flows that take calls: direct, hotline)`},
		{"subflow", "confirm", scenario.Setup{}, `"confirm" is a subflow`},
		{"bad key", "hotline", scenario.Setup{Keys: []string{"1 2"}}, `key script token "1 2" is not one token`},
		{"bad switch", "hotline", scenario.Setup{Switches: map[string]bool{"emergency.nope": true}}, `switch emergency.nope: there is no calendar "nope" (there are: hotline)`},
		{"switch name", "hotline", scenario.Setup{Switches: map[string]bool{"outage": true}}, `switch "outage": write announce.<announcement> or emergency.<calendar>`},
	}
	for _, tc := range errTests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scenario.Simulate(context.Background(), set, tc.flow, tc.setup, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestWebhookStubs(t *testing.T) {
	set := fixtureSet(t)
	tests := []struct {
		name  string
		hooks map[string]scenario.Webhook
		exit  string // how balance_lookup was left
		note  string
	}{
		{"no stub", nil, "error", "no stub matches the URL: connection refused"},
		{"longest prefix wins", map[string]scenario.Webhook{
			"http://billing.test/":          {Status: 500},
			"http://billing.test/balance/":  {Status: 404},
			"http://billing.test/balance/x": {Status: 200, Body: []byte("{}")},
		}, "not_found", "http://billing.test/balance/ → 404"},
		{"connection fails", map[string]scenario.Webhook{"http://billing.test": {Fail: true}}, "error", "http://billing.test → connection refused"},
		{"not JSON", map[string]scenario.Webhook{"http://billing.test": {Status: 200, Body: []byte("<html>")}}, "error", "http://billing.test → 200"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := scenario.Simulate(context.Background(), set, "hotline", scenario.Setup{
				Keys: []string{"1", "1", "12345678#"}, Webhooks: tc.hooks,
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var exit, note string
			for _, st := range out.Result.Steps {
				if st.Node == "balance_lookup" {
					exit = st.Exit
				}
			}
			for _, l := range out.Trace {
				if l.What == "webhook" {
					note = l.Text
				}
			}
			if exit != tc.exit || note != tc.note {
				t.Errorf("balance_lookup took %q with note %q; want %q, %q", exit, note, tc.exit, tc.note)
			}
		})
	}
}

func TestCoverage(t *testing.T) {
	set := fixtureSet(t)
	f, err := scenario.Parse("cov.yaml", []byte(`flow: hotline
cases:
  - name: holiday
    at: 2026-10-02T10:00:00+08:00
  - name: emergency closes (an unwired exit that falls back to closed)
    switches: {emergency.hotline: true}
  - name: emergency again
    switches: {emergency.hotline: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	covs := scenario.CoverageOf(set, []scenario.Report{scenario.Run(set, f)})
	var names []string
	byName := map[string]scenario.Coverage{}
	for _, c := range covs {
		names = append(names, c.Flow)
		byName[c.Flow] = c
	}
	if !slices.Equal(names, []string{"direct", "hotline"}) {
		t.Fatalf("coverage of %v, want direct and hotline (confirm was not entered)", names)
	}
	h := byName["hotline"]
	if h.Calls != 3 || h.Nodes != 22 || h.Entered != 3 || h.Exits != 34 || h.Taken != 2 {
		t.Errorf("hotline coverage %+v", h)
	}
	if got := h.String(); got != "hotline: nodes 3/22 (13%), exits 2/34 (5%)" {
		t.Errorf("String() = %q", got)
	}
	if !slices.Contains(h.NotEntered, "main_menu") || slices.Contains(h.NotEntered, "holiday") {
		t.Errorf("NotEntered = %v", h.NotEntered)
	}
	if !slices.Contains(h.NotTaken, "office_hours.open") || slices.Contains(h.NotTaken, "office_hours.closed") {
		t.Errorf("NotTaken = %v", h.NotTaken)
	}
	if d := byName["direct"]; d.Calls != 0 || d.Entered != 0 || d.String() != "direct: nodes 0/3 (0%), exits 0/5 (0%)" {
		t.Errorf("direct coverage %+v", d)
	}
}
