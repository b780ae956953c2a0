package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"kefu/ivr"
	"kefu/ivr/ivrmetrics"
	"kefu/routing"
	"kefu/routing/directory"
	"kefu/routing/stats"
	"kefu/sip"
	"kefu/sip/media"
)

// In-process fakes of the sources registerMetrics reads.

type metricsFakeSIP struct {
	calls []sip.CallInfo
	stats sip.Stats
}

func (f *metricsFakeSIP) Calls() []sip.CallInfo { return f.calls }
func (f *metricsFakeSIP) Stats() sip.Stats      { return f.stats }

type metricsFakeRouter struct {
	queues []routing.QueueStatus
	agents []routing.AgentStatus
	err    error
}

func (f *metricsFakeRouter) Queues(context.Context) ([]routing.QueueStatus, error) {
	return f.queues, f.err
}

func (f *metricsFakeRouter) Agents(context.Context) ([]routing.AgentStatus, error) {
	return f.agents, f.err
}

type metricsFakeFigures struct {
	snap stats.Snapshot
	err  error
}

func (f *metricsFakeFigures) Snapshot(context.Context) (stats.Snapshot, error) { return f.snap, f.err }

type metricsFakeCustomers struct{ st directory.Status }

func (f *metricsFakeCustomers) Status() directory.Status { return f.st }

func ptr(v float64) *float64 { return &v }

// metricsFakes are sources with something in every metric: three calls,
// responses, RTP, digits; two queues (a VIP and a one-star caller in
// billing, nobody in data), three agents; one 5-minute window with every
// ratio defined for billing and vip; a customer file with one failed load.
func metricsFakes() metricsSources {
	enq := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	return metricsSources{
		SIP: &metricsFakeSIP{
			calls: []sip.CallInfo{{ID: "a", State: "ivr"}, {ID: "b", State: "queued"}, {ID: "c", State: "queued"}, {ID: "d", State: "talking"}},
			stats: sip.Stats{
				Responses: []sip.ResponseCount{{Method: "INVITE", Code: 100, Count: 4}, {Method: "INVITE", Code: 200, Count: 3}, {Method: "REGISTER", Code: 401, Count: 2}},
				Media:     media.TotalCounts{PacketsIn: 1000, PacketsOut: 1200, LateFrames: 7, DigitsRFC4733: 12, DigitsInfo: 3},
			},
		},
		Router: &metricsFakeRouter{
			queues: []routing.QueueStatus{
				{Name: "billing", Waiting: 2, LongestWaitSeconds: 42, Agents: map[routing.AgentState]int{routing.AgentReady: 1, routing.AgentTalking: 1},
					Calls: []routing.QueuedCall{
						{Position: 1, CallID: "b", Tier: "vip", EnqueuedAt: enq, WaitSeconds: 12},
						{Position: 2, CallID: "c", Tier: "one_star", EnqueuedAt: enq, WaitSeconds: 42},
					}},
				{Name: "data", Agents: map[routing.AgentState]int{routing.AgentReady: 1}},
			},
			agents: []routing.AgentStatus{{ID: "1001", State: routing.AgentReady}, {ID: "1002", State: routing.AgentTalking}, {ID: "1003", State: routing.AgentLoggedOut}},
		},
		Tiers: []string{"vip", "one_star"},
		Figures: &metricsFakeFigures{snap: stats.Snapshot{At: enq, Windows: []stats.Window{{
			Size: 5 * time.Minute, Name: "5m0s",
			Queues: []stats.QueueFigures{
				{Queue: "billing", Figures: stats.Figures{Entered: 10, Answered: 8, AnsweredInSL: 6, Abandoned: 2, ServiceLevel: ptr(0.6), AbandonRate: ptr(0.2), ASASeconds: ptr(14.5), AHTSeconds: ptr(180)},
					Occupancy: stats.Occupancy{Fraction: ptr(0.75)}},
				{Queue: "data"}, // nothing yet: no ratios
			},
			Tiers: []stats.TierFigures{{Tier: "vip", Figures: stats.Figures{Entered: 3, Answered: 3, AnsweredInSL: 3, ServiceLevel: ptr(1), ASASeconds: ptr(4)}}},
		}}}},
		Customers: &metricsFakeCustomers{st: directory.Status{Loads: 3, Failures: 1, Customers: 5000}},
	}
}

// metricSamples renders the samples of the named families, one
// `name{label="value",…} value` line each, sorted: what the tests compare
// (the HELP texts are checked by the linter, not repeated here).
func metricSamples(t *testing.T, g prometheus.Gatherer, names ...string) string {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var lines []string
	for _, f := range fams {
		if !slices.Contains(names, f.GetName()) {
			continue
		}
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			var v float64
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				v = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				v = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				v = float64(m.GetHistogram().GetSampleCount())
			}
			lines = append(lines, fmt.Sprintf("%s{%s} %s", f.GetName(), strings.Join(ls, ","), strconv.FormatFloat(v, 'g', -1, 64)))
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func wantSamples(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func TestMetricsCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := registerMetrics(reg, metricsFakes()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		names []string
		want  string
	}{
		{"calls by state, known states at 0", []string{"kefu_calls"}, `
kefu_calls{state="ending"} 0
kefu_calls{state="ivr"} 1
kefu_calls{state="offering"} 0
kefu_calls{state="queued"} 2
kefu_calls{state="recording"} 0
kefu_calls{state="ringing"} 0
kefu_calls{state="talking"} 1
kefu_calls{state="transferring"} 0
`},
		{"SIP, RTP, DTMF", []string{"kefu_sip_responses_total", "kefu_rtp_packets_total", "kefu_rtp_late_frames_total", "kefu_dtmf_digits_total"}, `
kefu_sip_responses_total{code="100",method="INVITE"} 4
kefu_sip_responses_total{code="200",method="INVITE"} 3
kefu_sip_responses_total{code="401",method="REGISTER"} 2
kefu_rtp_packets_total{direction="in"} 1000
kefu_rtp_packets_total{direction="out"} 1200
kefu_rtp_late_frames_total{} 7
kefu_dtmf_digits_total{source="info"} 3
kefu_dtmf_digits_total{source="rfc4733"} 12
`},
		{"queues: every configured tier in every queue", []string{"kefu_queue_waiting", "kefu_queue_longest_wait_seconds", "kefu_tier_longest_wait_seconds"}, `
kefu_queue_waiting{queue="billing",tier="one_star"} 1
kefu_queue_waiting{queue="billing",tier="vip"} 1
kefu_queue_waiting{queue="data",tier="one_star"} 0
kefu_queue_waiting{queue="data",tier="vip"} 0
kefu_queue_longest_wait_seconds{queue="billing"} 42
kefu_queue_longest_wait_seconds{queue="data"} 0
kefu_tier_longest_wait_seconds{tier="one_star"} 42
kefu_tier_longest_wait_seconds{tier="vip"} 12
`},
		{"agents", []string{"kefu_agents"}, `
kefu_agents{state="logged_out"} 1
kefu_agents{state="not_ready"} 0
kefu_agents{state="offered"} 0
kefu_agents{state="ready"} 1
kefu_agents{state="talking"} 1
kefu_agents{state="wrap_up"} 0
`},
		{"windowed ratios: only defined ones", []string{"kefu_queue_service_level_ratio", "kefu_tier_service_level_ratio", "kefu_queue_abandon_ratio",
			"kefu_queue_answer_wait_seconds", "kefu_tier_answer_wait_seconds", "kefu_queue_handle_time_seconds", "kefu_queue_occupancy_ratio"}, `
kefu_queue_service_level_ratio{queue="billing",window="5m"} 0.6
kefu_tier_service_level_ratio{tier="vip",window="5m"} 1
kefu_queue_abandon_ratio{queue="billing",window="5m"} 0.2
kefu_queue_answer_wait_seconds{queue="billing",window="5m"} 14.5
kefu_tier_answer_wait_seconds{tier="vip",window="5m"} 4
kefu_queue_handle_time_seconds{queue="billing",window="5m"} 180
kefu_queue_occupancy_ratio{queue="billing",window="5m"} 0.75
`},
		{"customers and sources", []string{"kefu_customer_loads_total", "kefu_customer_reload_failures_total", "kefu_customers", "kefu_metrics_source_up"}, `
kefu_customer_loads_total{} 3
kefu_customer_reload_failures_total{} 1
kefu_customers{} 5000
kefu_metrics_source_up{source="figures"} 1
kefu_metrics_source_up{source="router"} 1
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := metricSamples(t, reg, tc.names...), wantSamples(tc.want); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
	// The windowed counts are gauges, one per event, for queues and tiers.
	calls := metricSamples(t, reg, "kefu_queue_window_calls", "kefu_tier_window_calls")
	for _, want := range []string{
		`kefu_queue_window_calls{event="answered_in_sl",queue="billing",window="5m"} 6`,
		`kefu_queue_window_calls{event="entered",queue="data",window="5m"} 0`,
		`kefu_tier_window_calls{event="answered",tier="vip",window="5m"} 3`,
	} {
		if !strings.Contains(calls, want) {
			t.Errorf("missing %s in\n%s", want, calls)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "kefu_queue_window_calls"); err != nil || n != 2*len(windowEvents) {
		t.Errorf("kefu_queue_window_calls: %d series (%v), want %d", n, err, 2*len(windowEvents))
	}
	// Names, units, HELP and types follow the Prometheus conventions.
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// TestMetricsSourceDown: a router or figures that cannot be read (Redis
// down) leaves their metrics out and says so in kefu_metrics_source_up;
// the scrape itself succeeds and the SIP metrics are there.
func TestMetricsSourceDown(t *testing.T) {
	src := metricsFakes()
	down := errors.New("redis: connection refused")
	src.Router.(*metricsFakeRouter).err = down
	src.Figures.(*metricsFakeFigures).err = down
	reg := prometheus.NewRegistry()
	if err := registerMetrics(reg, src); err != nil {
		t.Fatal(err)
	}
	got := metricSamples(t, reg, "kefu_metrics_source_up", "kefu_queue_waiting", "kefu_agents", "kefu_queue_service_level_ratio", "kefu_rtp_late_frames_total")
	want := wantSamples(`
kefu_metrics_source_up{source="figures"} 0
kefu_metrics_source_up{source="router"} 0
kefu_rtp_late_frames_total{} 7
`)
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestMetricsOnlySIP: without router, figures or customers only the SIP
// metrics are exported; the front end itself is required.
func TestMetricsOnlySIP(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := registerMetrics(reg, metricsSources{SIP: &metricsFakeSIP{}}); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n != len(callStates)+5 {
		t.Errorf("%d series (%v), want %d: calls by state, RTP in/out, late frames, DTMF by source", n, err, len(callStates)+5)
	}
	if err := registerMetrics(prometheus.NewRegistry(), metricsSources{}); err == nil {
		t.Error("registerMetrics without the SIP front end: no error")
	}
	if err := registerMetrics(reg, metricsSources{SIP: &metricsFakeSIP{}}); err == nil {
		t.Error("registering twice on one registry: no error")
	}
}

func TestMetricsWindowLabel(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Minute: "5m", 15 * time.Minute: "15m", time.Hour: "1h", 24 * time.Hour: "24h",
		90 * time.Minute: "90m", 45 * time.Second: "45s", 1500 * time.Millisecond: "1500ms",
	} {
		if got := windowLabel(d); got != want {
			t.Errorf("windowLabel(%v) = %q, want %q", d, got, want)
		}
	}
}

// fakeRedis answers RESP2 on conn, one command at a time: HELLO with a
// server map, PING with PONG, GET with nil, BOOM with an error, anything
// else with OK. It is enough for go-redis to connect and run commands.
func fakeRedis(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "*")))
		var args []string
		for range n {
			if _, err := r.ReadString('\n'); err != nil { // $len
				return
			}
			arg, err := r.ReadString('\n')
			if err != nil {
				return
			}
			args = append(args, strings.TrimSpace(arg))
		}
		reply := "+OK\r\n"
		if len(args) > 0 {
			switch strings.ToUpper(args[0]) {
			case "HELLO":
				reply = "*2\r\n$6\r\nserver\r\n$5\r\nredis\r\n"
			case "PING":
				reply = "+PONG\r\n"
			case "GET":
				reply = "$-1\r\n"
			case "BOOM":
				reply = "-ERR boom\r\n"
			}
		}
		if _, err := io.WriteString(conn, reply); err != nil {
			return
		}
	}
}

// newFakeRedisClient is a go-redis client whose connections are served by
// fakeRedis.
func newFakeRedisClient(t *testing.T) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		Addr: "fake:6379", Protocol: 2, DisableIdentity: true, MaxRetries: -1,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			client, server := net.Pipe()
			go fakeRedis(server)
			return client, nil
		},
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// TestMetricsRedisHook: the hook times every command and pipeline by name;
// failures are counted, a missing key (redis.Nil) is not a failure.
func TestMetricsRedisHook(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := newRedisMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	c := newFakeRedisClient(t)
	c.AddHook(m)
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING through the fake: %v", err)
	}
	if err := c.Get(ctx, "missing").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET: %v, want redis.Nil", err)
	}
	if err := c.Do(ctx, "boom").Err(); err == nil {
		t.Fatal("BOOM: no error")
	}
	if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Ping(ctx)
		p.Ping(ctx)
		return nil
	}); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	// Each new connection's HELLO is timed too; how many there are is
	// go-redis's business.
	var lines []string
	for l := range strings.Lines(metricSamples(t, reg, "kefu_redis_command_duration_seconds", "kefu_redis_command_errors_total")) {
		if !strings.Contains(l, `command="hello"`) {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	got := strings.Join(lines, "\n")
	want := wantSamples(`
kefu_redis_command_duration_seconds{command="boom"} 1
kefu_redis_command_duration_seconds{command="get"} 1
kefu_redis_command_duration_seconds{command="ping"} 1
kefu_redis_command_duration_seconds{command="pipeline"} 1
kefu_redis_command_errors_total{command="boom"} 1
`)
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := newRedisMetrics(reg); err == nil {
		t.Error("registering the Redis metrics twice: no error")
	}
}

// dashboardPath is the Grafana dashboard shipped with Kefu.
const dashboardPath = "dashboards/kefu.json"

// TestMetricsDashboard: the dashboard is Grafana 10+ JSON on a Prometheus
// datasource variable, every metric its queries use is one Kefu exports
// (registered here with fakes that give every family a series), and every
// Kefu metric the issue asks for is on it.
func TestMetricsDashboard(t *testing.T) {
	data, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID           string            `json:"uid"`
		Title         string            `json:"title"`
		SchemaVersion int               `json:"schemaVersion"`
		Panels        []json.RawMessage `json:"panels"`
		Templating    struct {
			List []struct {
				Name, Type string
				Query      any
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	if dash.UID == "" || dash.Title == "" || dash.SchemaVersion < 38 || len(dash.Panels) == 0 {
		t.Errorf("%s: uid %q, title %q, schemaVersion %d (Grafana 10 writes 38+), %d panels", dashboardPath, dash.UID, dash.Title, dash.SchemaVersion, len(dash.Panels))
	}
	hasDS := false
	for _, v := range dash.Templating.List {
		if v.Type == "datasource" && v.Name == "datasource" && v.Query == "prometheus" {
			hasDS = true
		}
	}
	if !hasDS {
		t.Errorf("%s: no datasource variable named datasource of type prometheus", dashboardPath)
	}

	// Every query (panels' expr, variables' query), and every panel's and
	// target's datasource.
	var exprs []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				switch {
				case k == "expr", k == "query" && strings.HasPrefix(path, ".templating"):
					if s, ok := x.(string); ok {
						exprs = append(exprs, s)
					}
				case k == "datasource" && strings.HasPrefix(path, ".panels"):
					if ds, ok := x.(map[string]any); !ok || ds["uid"] != "${datasource}" {
						t.Errorf("%s: %s.datasource is %v, want the ${datasource} variable", dashboardPath, path, x)
					}
				}
				walk(path+"."+k, x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), x)
			}
		}
	}
	var whole any
	if err := json.Unmarshal(data, &whole); err != nil {
		t.Fatal(err)
	}
	walk("", whole)
	if len(exprs) == 0 {
		t.Fatalf("%s: no queries", dashboardPath)
	}

	exported := exportedMetricNames(t)
	used := map[string]bool{}
	for _, e := range exprs {
		for _, name := range regexp.MustCompile(`kefu_[a-z_]+`).FindAllString(e, -1) {
			used[name] = true
			base := name
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(name, suf); ok && exported[b] == dto.MetricType_HISTOGRAM {
					base = b
				}
			}
			if _, ok := exported[base]; !ok {
				t.Errorf("%s: query %q uses %s, which Kefu does not export", dashboardPath, e, name)
			}
			used[base] = true
		}
	}
	for _, name := range []string{
		"kefu_calls", "kefu_sip_responses_total", "kefu_rtp_packets_total", "kefu_rtp_late_frames_total",
		"kefu_dtmf_digits_total", "kefu_queue_waiting", "kefu_queue_longest_wait_seconds",
		"kefu_queue_service_level_ratio", "kefu_tier_service_level_ratio", "kefu_agents",
		"kefu_redis_command_duration_seconds", "kefu_flow_reloads_total", "kefu_customer_reload_failures_total",
		"kefu_ivr_node_entered_total",
	} {
		if !used[name] {
			t.Errorf("%s: no panel shows %s", dashboardPath, name)
		}
	}
}

// exportedMetricNames registers everything Kefu exports on one registry,
// with fakes and one event each so that every family has a series, and
// returns the family names with their types.
func exportedMetricNames(t *testing.T) map[string]dto.MetricType {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := registerMetrics(reg, metricsFakes()); err != nil {
		t.Fatal(err)
	}
	im, err := ivrmetrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []ivr.Event{
		{Type: ivr.EventEnter, Flow: "main", Node: "menu", Kind: "menu", Milestone: "menu"},
		{Type: ivr.EventExit, Flow: "main", Node: "menu", Exit: "1"},
		{Type: ivr.EventHangup, Flow: "main", Node: "menu"},
		{Type: ivr.EventEnd, Flow: "main", Node: "bye", Exit: "normal"},
	} {
		im.Observe(ev)
	}
	im.FlowSetActive("v1")
	im.FlowsLoaded(time.Now())
	rm, err := newRedisMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	rm.observe("get", time.Millisecond, errors.New("boom"))
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]dto.MetricType{}
	for _, f := range fams {
		out[f.GetName()] = f.GetType()
	}
	return out
}
