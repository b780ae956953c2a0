package ivrmetrics

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"kefu/ivr"
)

func newMetrics(t *testing.T) (*Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := New(reg)
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

func TestObserve(t *testing.T) {
	enter := func(node, kind, milestone string) ivr.Event {
		return ivr.Event{Type: ivr.EventEnter, CallID: "c1", Flow: "main", Version: "v1", Node: node, Kind: kind, Milestone: milestone}
	}
	exit := func(node, name string) ivr.Event {
		return ivr.Event{Type: ivr.EventExit, CallID: "c1", Flow: "main", Version: "v1", Node: node, Exit: name}
	}
	for _, tc := range []struct {
		name   string
		events []ivr.Event
		metric string // which family to compare
		want   string
	}{
		{"entered", []ivr.Event{enter("welcome", "play", ""), enter("main_menu", "menu", ""), enter("welcome", "play", "")},
			"kefu_ivr_node_entered_total", `
kefu_ivr_node_entered_total{flow="main",kind="menu",node="main_menu"} 1
kefu_ivr_node_entered_total{flow="main",kind="play",node="welcome"} 2
`},
		{"exits by name", []ivr.Event{exit("main_menu", "1"), exit("main_menu", "1"), exit("main_menu", "failed")},
			"kefu_ivr_node_exits_total", `
kefu_ivr_node_exits_total{exit="1",flow="main",node="main_menu"} 2
kefu_ivr_node_exits_total{exit="failed",flow="main",node="main_menu"} 1
`},
		{"caller hangups", []ivr.Event{{Type: ivr.EventHangup, Flow: "main", Node: "billing_queue", Kind: "queue"}},
			"kefu_ivr_node_hangups_total", `
kefu_ivr_node_hangups_total{flow="main",node="billing_queue"} 1
`},
		{"ends by reason", []ivr.Event{
			{Type: ivr.EventEnd, Flow: "main", Node: "thanks", Exit: "served"},
			{Type: ivr.EventEnd, Flow: "main", Node: "goodbye", Exit: "normal"},
			{Type: ivr.EventEnd, Flow: "main", Node: "thanks", Exit: "served"},
		}, "kefu_ivr_call_ends_total", `
kefu_ivr_call_ends_total{flow="main",node="goodbye",reason="normal"} 1
kefu_ivr_call_ends_total{flow="main",node="thanks",reason="served"} 2
`},
		{"milestones on enter only", []ivr.Event{
			enter("balance", "play", "heard_balance"),
			{Type: ivr.EventExit, Flow: "main", Node: "balance", Exit: "next", Milestone: "heard_balance"},
			enter("balance", "play", "heard_balance"),
		}, "kefu_ivr_milestones_total", `
kefu_ivr_milestones_total{flow="main",milestone="heard_balance"} 2
`},
		{"versions share series", []ivr.Event{enter("welcome", "play", ""), {Type: ivr.EventEnter, Flow: "main", Version: "v2", Node: "welcome", Kind: "play"}},
			"kefu_ivr_node_entered_total", `
kefu_ivr_node_entered_total{flow="main",kind="play",node="welcome"} 2
`},
		{"unknown event type ignored", []ivr.Event{{Type: "teleport", Flow: "main", Node: "x"}},
			"kefu_ivr_node_entered_total", ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, reg := newMetrics(t)
			for _, ev := range tc.events {
				m.Observe(ev)
			}
			want := ""
			if tc.want != "" {
				want = "# HELP " + tc.metric + " " + help(t, reg, tc.metric) + "\n# TYPE " + tc.metric + " counter" + tc.want
			}
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want), tc.metric); err != nil {
				t.Error(err)
			}
		})
	}
}

// help returns a family's help text, so the expected text need not repeat it.
func help(t *testing.T, reg *prometheus.Registry, name string) string {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f.GetHelp()
		}
	}
	t.Fatalf("no family %s", name)
	return ""
}

func TestReloadMetrics(t *testing.T) {
	m, reg := newMetrics(t)
	at := time.Unix(1_700_000_000, 500_000_000)

	// Before anything: every result at 0, no set.
	for _, r := range []string{ReloadOK, ReloadFailed, ReloadUnchanged} {
		if got := testutil.ToFloat64(m.reloads.WithLabelValues(r)); got != 0 {
			t.Errorf("reloads{result=%s} = %v before any reload", r, got)
		}
	}
	if n := testutil.CollectAndCount(m.setInfo); n != 0 {
		t.Errorf("%d set info series before a set", n)
	}

	steps := []struct {
		name    string
		do      func()
		version string // kefu_flow_set_info's only version
		ok      float64
		failed  float64
		unch    float64
		last    float64
	}{
		{"start", func() { m.FlowSetActive("aaa"); m.FlowsLoaded(at) }, "aaa", 0, 0, 0, 1_700_000_000.5},
		{"reload ok", func() { m.FlowReload(ReloadOK, at.Add(10*time.Second)); m.FlowSetActive("bbb") }, "bbb", 1, 0, 0, 1_700_000_010.5},
		{"failed", func() { m.FlowReload(ReloadFailed, at.Add(20*time.Second)) }, "bbb", 1, 1, 0, 1_700_000_010.5},
		{"unchanged", func() { m.FlowReload(ReloadUnchanged, at.Add(30*time.Second)) }, "bbb", 1, 1, 1, 1_700_000_030.5},
		{"rollback", func() { m.FlowSetActive("aaa") }, "aaa", 1, 1, 1, 1_700_000_030.5},
		{"same set again", func() { m.FlowSetActive("aaa") }, "aaa", 1, 1, 1, 1_700_000_030.5},
	}
	for _, st := range steps {
		st.do()
		want := `
# HELP kefu_flow_set_info The active flow set: 1 for its version.
# TYPE kefu_flow_set_info gauge
kefu_flow_set_info{version="` + st.version + `"} 1
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "kefu_flow_set_info"); err != nil {
			t.Errorf("%s: %v", st.name, err)
		}
		for r, v := range map[string]float64{ReloadOK: st.ok, ReloadFailed: st.failed, ReloadUnchanged: st.unch} {
			if got := testutil.ToFloat64(m.reloads.WithLabelValues(r)); got != v {
				t.Errorf("%s: reloads{result=%s} = %v, want %v", st.name, r, got, v)
			}
		}
		if got := testutil.ToFloat64(m.lastSuccess); got != st.last {
			t.Errorf("%s: last success %v, want %v", st.name, got, st.last)
		}
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

func TestRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := New(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := New(reg); err == nil || !strings.Contains(err.Error(), "registry of its own") {
		t.Errorf("second New on one registry: %v", err)
	}
	// Nothing leaks into the default registry.
	fams, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "kefu_") {
			t.Errorf("%s is in the default registry", f.GetName())
		}
	}
}

// TestObserveConcurrent: calls observe from their own goroutines.
func TestObserveConcurrent(t *testing.T) {
	m, _ := newMetrics(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				m.Observe(ivr.Event{Type: ivr.EventEnter, Flow: "main", Node: "welcome", Kind: "play"})
			}
		})
	}
	wg.Go(func() {
		for i := range 100 {
			m.FlowSetActive([]string{"a", "b"}[i%2])
		}
	})
	wg.Wait()
	if got := testutil.ToFloat64(m.entered.WithLabelValues("main", "welcome", "play")); got != 8000 {
		t.Errorf("entered = %v, want 8000", got)
	}
	if n := testutil.CollectAndCount(m.setInfo); n != 1 {
		t.Errorf("%d set info series, want 1", n)
	}
}

func BenchmarkObserve(b *testing.B) {
	reg := prometheus.NewRegistry()
	m, err := New(reg)
	if err != nil {
		b.Fatal(err)
	}
	ev := ivr.Event{Type: ivr.EventEnter, Flow: "main", Node: "main_menu", Kind: "menu"}
	b.ReportAllocs()
	for b.Loop() {
		m.Observe(ev)
	}
}
