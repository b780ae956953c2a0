package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"kefu/routing"
	"kefu/routing/directory"
	"kefu/routing/redisstore"
	"kefu/routing/stats"
	"kefu/sip"
)

// Kefu's own metrics beside the flow counters of ivrmetrics: the SIP front
// end's calls, responses, RTP and digits; the router's queues and agents
// and the figures' windows, read at scrape time; the customer directory's
// loads; and, with -redis, the latency of every Redis command.

// metricsSources are the parts of a running Kefu that /metrics reads. Every
// field but SIP may be nil (that part is not exported).
type metricsSources struct {
	// SIP is the front end (*sip.Server): calls in progress, responses
	// sent, RTP and DTMF totals.
	SIP sipFigures
	// Router is the call router (*routing.Router): queues and agents.
	Router routerFigures
	// Tiers are the router's tier names (keys of Router.Tiers()): every
	// queue shows each of them in kefu_queue_waiting, at 0 when nobody of
	// the tier waits.
	Tiers []string
	// Figures are the windowed queue figures (*stats.Stats).
	Figures figuresSnapshot
	// Customers is the customer directory (*directory.Service).
	Customers customerStatus
	// Store is the router's store: with a *redisstore.Store (-redis) its
	// client's commands are timed (kefu_redis_command_duration_seconds).
	Store routing.Store
	// Timeout bounds each scrape's reads of the router and the figures
	// (Redis with -redis); default 2s. A read that fails or times out
	// leaves its metrics out of that scrape and sets kefu_metrics_source_up
	// to 0.
	Timeout time.Duration
	// Log receives scrape failures; nil discards them.
	Log *slog.Logger
}

// sipFigures is what the metrics need of the SIP front end.
type sipFigures interface {
	Calls() []sip.CallInfo
	Stats() sip.Stats
}

// routerFigures is what the metrics need of the router.
type routerFigures interface {
	Queues(ctx context.Context) ([]routing.QueueStatus, error)
	Agents(ctx context.Context) ([]routing.AgentStatus, error)
}

// figuresSnapshot is what the metrics need of the queue figures.
type figuresSnapshot interface {
	Snapshot(ctx context.Context) (stats.Snapshot, error)
}

// customerStatus is what the metrics need of the customer directory.
type customerStatus interface {
	Status() directory.Status
}

var (
	_ sipFigures      = (*sip.Server)(nil)
	_ routerFigures   = (*routing.Router)(nil)
	_ figuresSnapshot = (*stats.Stats)(nil)
	_ customerStatus  = (*directory.Service)(nil)
)

// registerMetrics registers Kefu's metrics on reg (the app's own registry):
// a collector that reads src at every scrape and, when src.Store is the
// Redis store, the Redis command histogram, fed by a hook on its client.
func registerMetrics(reg prometheus.Registerer, src metricsSources) error {
	if src.SIP == nil {
		return errors.New("metrics: the SIP front end is required")
	}
	if src.Timeout <= 0 {
		src.Timeout = 2 * time.Second
	}
	if src.Log == nil {
		src.Log = slog.New(slog.DiscardHandler)
	}
	if err := reg.Register(newKefuCollector(src)); err != nil {
		return fmt.Errorf("metrics: register: %w", err)
	}
	if rs, ok := src.Store.(*redisstore.Store); ok {
		h, err := newRedisMetrics(reg)
		if err != nil {
			return err
		}
		rs.Client().AddHook(h)
	}
	return nil
}

// Label values shown at 0 before anything is counted, so that dashboards
// and rate() see every series from the start.
var (
	// callStates are the states sip.CallInfo.State takes; a state not
	// listed still shows once a call is in it.
	callStates = []string{"ringing", "ivr", "queued", "offering", "talking", "recording", "transferring", "ending"}
	// agentStates are the router's agent states.
	agentStates = []routing.AgentState{routing.AgentLoggedOut, routing.AgentNotReady, routing.AgentReady,
		routing.AgentOffered, routing.AgentTalking, routing.AgentWrapUp}
)

// windowEvents name the windowed counts of stats.Figures, the values of
// the event label of kefu_queue_window_calls and kefu_tier_window_calls.
var windowEvents = []struct {
	name string
	get  func(*stats.Figures) int64
}{
	{"entered", func(f *stats.Figures) int64 { return f.Entered }},
	{"answered", func(f *stats.Figures) int64 { return f.Answered }},
	{"answered_in_sl", func(f *stats.Figures) int64 { return f.AnsweredInSL }},
	{"abandoned", func(f *stats.Figures) int64 { return f.Abandoned }},
	{"short_abandoned", func(f *stats.Figures) int64 { return f.ShortAbandoned }},
	{"overflowed", func(f *stats.Figures) int64 { return f.Overflowed }},
	{"callback", func(f *stats.Figures) int64 { return f.Callbacks }},
	{"ring_no_answer", func(f *stats.Figures) int64 { return f.RingNoAnswer }},
	{"exit_empty", func(f *stats.Figures) int64 { return f.ExitEmpty }},
	{"full", func(f *stats.Figures) int64 { return f.Full }},
	{"completed", func(f *stats.Figures) int64 { return f.Completed }},
}

// kefuCollector reads its sources at every scrape. Collect may run
// concurrently; it keeps no state between scrapes.
type kefuCollector struct {
	src metricsSources

	calls, responses, rtpPackets, lateFrames, digits          *prometheus.Desc
	queueWaiting, queueLongest, tierLongest, queueAgents      *prometheus.Desc
	agents                                                    *prometheus.Desc
	queueSL, tierSL, queueAbandon, queueASA, tierASA, queueAH *prometheus.Desc
	queueOccupancy, queueWindowCalls, tierWindowCalls         *prometheus.Desc
	customerLoads, customerFailures, customerCount            *prometheus.Desc
	sourceUp                                                  *prometheus.Desc
}

func newKefuCollector(src metricsSources) *kefuCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &kefuCollector{
		src: src,

		calls:      d("kefu_calls", "Calls in progress on this node's SIP front end, by state (ringing, ivr, queued, offering, talking, recording, transferring, ending).", "state"),
		responses:  d("kefu_sip_responses_total", "SIP responses this node sent, by request method (OTHER for methods Kefu does not know) and status code; responses sipgo's transaction layer sends by itself (CANCEL's 200 and 487, retransmissions) are not counted.", "method", "code"),
		rtpPackets: d("kefu_rtp_packets_total", "RTP packets received from peers (in, accepted) and sent to them (out), over every call leg of this node.", "direction"),
		lateFrames: d("kefu_rtp_late_frames_total", "20 ms RTP frames the pacers skipped because they fell more than three frames behind (a sign of CPU starvation)."),
		digits:     d("kefu_dtmf_digits_total", "DTMF key presses received, by source: rfc4733 (RTP telephone-event) or info (SIP INFO); a press sent both ways counts once.", "source"),

		queueWaiting: d("kefu_queue_waiting", "Calls waiting in a queue (queued or ringing an agent), by caller tier.", "queue", "tier"),
		queueLongest: d("kefu_queue_longest_wait_seconds", "How long the oldest call waiting in a queue has waited; 0 when none waits.", "queue"),
		tierLongest:  d("kefu_tier_longest_wait_seconds", "How long the oldest waiting call of a tier has waited, across queues; only tiers with a waiting call.", "tier"),
		queueAgents:  d("kefu_queue_agents", "Agents having a queue's skill, by state.", "queue", "state"),
		agents:       d("kefu_agents", "Agents by state.", "state"),

		queueSL:          d("kefu_queue_service_level_ratio", "Share of a queue's calls answered within its service-level threshold over a sliding window (short abandons excluded); absent while the window has no call to judge.", "queue", "window"),
		tierSL:           d("kefu_tier_service_level_ratio", "Share of a tier's calls answered within their queue's service-level threshold over a sliding window, across queues; absent while the window has no call to judge.", "tier", "window"),
		queueAbandon:     d("kefu_queue_abandon_ratio", "Share of a queue's calls abandoned (short abandons excluded) over a sliding window.", "queue", "window"),
		queueASA:         d("kefu_queue_answer_wait_seconds", "Average speed of answer: the mean wait of a queue's answered calls over a sliding window.", "queue", "window"),
		tierASA:          d("kefu_tier_answer_wait_seconds", "Average speed of answer of a tier's answered calls over a sliding window, across queues.", "tier", "window"),
		queueAH:          d("kefu_queue_handle_time_seconds", "Average handle time (talk plus wrap-up) of a queue's completed calls over a sliding window.", "queue", "window"),
		queueOccupancy:   d("kefu_queue_occupancy_ratio", "Share of the staffed time of a queue's agents spent offered, talking or in wrap-up over a sliding window.", "queue", "window"),
		queueWindowCalls: d("kefu_queue_window_calls", "Queue events in a sliding window (a gauge: the window slides, so it goes down too), by event: entered, answered, answered_in_sl, abandoned, short_abandoned, overflowed, callback, ring_no_answer, exit_empty, full, completed.", "queue", "window", "event"),
		tierWindowCalls:  d("kefu_tier_window_calls", "Queue events of a tier's calls in a sliding window, across queues (a gauge), by event as kefu_queue_window_calls.", "tier", "window", "event"),

		customerLoads:    d("kefu_customer_loads_total", "Loads of the customer file since the start (the first load, reloads on change and SIGHUP), failed ones included."),
		customerFailures: d("kefu_customer_reload_failures_total", "Loads of the customer file that failed (the previous directory keeps serving)."),
		customerCount:    d("kefu_customers", "Customers in the directory in use."),

		sourceUp: d("kefu_metrics_source_up", "1 when this scrape could read the source (router, figures), 0 when it failed or timed out and its metrics are missing.", "source"),
	}
}

// Describe sends every metric's description.
func (c *kefuCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.calls, c.responses, c.rtpPackets, c.lateFrames, c.digits,
		c.queueWaiting, c.queueLongest, c.tierLongest, c.queueAgents, c.agents,
		c.queueSL, c.tierSL, c.queueAbandon, c.queueASA, c.tierASA, c.queueAH,
		c.queueOccupancy, c.queueWindowCalls, c.tierWindowCalls,
		c.customerLoads, c.customerFailures, c.customerCount, c.sourceUp,
	} {
		ch <- d
	}
}

// Collect reads the sources and sends their metrics.
func (c *kefuCollector) Collect(ch chan<- prometheus.Metric) {
	c.collectSIP(ch)
	if c.src.Router != nil {
		c.up(ch, "router", c.collectRouter(ch))
	}
	if c.src.Figures != nil {
		c.up(ch, "figures", c.collectFigures(ch))
	}
	if c.src.Customers != nil {
		st := c.src.Customers.Status()
		ch <- prometheus.MustNewConstMetric(c.customerLoads, prometheus.CounterValue, float64(st.Loads))
		ch <- prometheus.MustNewConstMetric(c.customerFailures, prometheus.CounterValue, float64(st.Failures))
		ch <- prometheus.MustNewConstMetric(c.customerCount, prometheus.GaugeValue, float64(st.Customers))
	}
}

// up reports whether a source could be read, and logs why not.
func (c *kefuCollector) up(ch chan<- prometheus.Metric, source string, err error) {
	v := 1.0
	if err != nil {
		v = 0
		c.src.Log.Warn("metrics: source unavailable, its metrics are left out of this scrape", "source", source, "err", err)
	}
	ch <- prometheus.MustNewConstMetric(c.sourceUp, prometheus.GaugeValue, v, source)
}

func (c *kefuCollector) collectSIP(ch chan<- prometheus.Metric) {
	byState := map[string]int{}
	for _, s := range callStates {
		byState[s] = 0
	}
	for _, call := range c.src.SIP.Calls() {
		byState[call.State]++
	}
	for _, s := range slices.Sorted(maps.Keys(byState)) {
		ch <- prometheus.MustNewConstMetric(c.calls, prometheus.GaugeValue, float64(byState[s]), s)
	}
	st := c.src.SIP.Stats()
	for _, r := range st.Responses {
		ch <- prometheus.MustNewConstMetric(c.responses, prometheus.CounterValue, float64(r.Count), r.Method, strconv.Itoa(r.Code))
	}
	m := st.Media
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(c.rtpPackets, m.PacketsIn, "in")
	counter(c.rtpPackets, m.PacketsOut, "out")
	counter(c.lateFrames, m.LateFrames)
	counter(c.digits, m.DigitsRFC4733, "rfc4733")
	counter(c.digits, m.DigitsInfo, "info")
}

func (c *kefuCollector) collectRouter(ch chan<- prometheus.Metric) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.src.Timeout)
	defer cancel()
	queues, err := c.src.Router.Queues(ctx)
	if err != nil {
		return err
	}
	agents, err := c.src.Router.Agents(ctx)
	if err != nil {
		return err
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	tierLongest := map[string]float64{}
	for _, q := range queues {
		waiting := map[string]int{}
		for _, t := range c.src.Tiers {
			waiting[t] = 0
		}
		for _, call := range q.Calls {
			waiting[call.Tier]++
			tierLongest[call.Tier] = max(tierLongest[call.Tier], call.WaitSeconds)
		}
		for _, t := range slices.Sorted(maps.Keys(waiting)) {
			gauge(c.queueWaiting, float64(waiting[t]), q.Name, t)
		}
		gauge(c.queueLongest, q.LongestWaitSeconds, q.Name)
		for _, s := range agentStates {
			gauge(c.queueAgents, float64(q.Agents[s]), q.Name, string(s))
		}
	}
	for _, t := range slices.Sorted(maps.Keys(tierLongest)) {
		gauge(c.tierLongest, tierLongest[t], t)
	}
	byState := map[routing.AgentState]int{}
	for _, a := range agents {
		byState[a.State]++
	}
	for _, s := range agentStates {
		gauge(c.agents, float64(byState[s]), string(s))
	}
	return nil
}

func (c *kefuCollector) collectFigures(ch chan<- prometheus.Metric) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.src.Timeout)
	defer cancel()
	snap, err := c.src.Figures.Snapshot(ctx)
	if err != nil {
		return err
	}
	// opt sends a figure that is defined (its denominator is not 0).
	opt := func(d *prometheus.Desc, v *float64, labels ...string) {
		if v != nil {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, *v, labels...)
		}
	}
	counts := func(d *prometheus.Desc, f *stats.Figures, name, window string) {
		for _, e := range windowEvents {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(e.get(f)), name, window, e.name)
		}
	}
	for _, w := range snap.Windows {
		win := windowLabel(w.Size)
		for _, q := range w.Queues {
			opt(c.queueSL, q.ServiceLevel, q.Queue, win)
			opt(c.queueAbandon, q.AbandonRate, q.Queue, win)
			opt(c.queueASA, q.ASASeconds, q.Queue, win)
			opt(c.queueAH, q.AHTSeconds, q.Queue, win)
			opt(c.queueOccupancy, q.Occupancy.Fraction, q.Queue, win)
			counts(c.queueWindowCalls, &q.Figures, q.Queue, win)
		}
		for _, t := range w.Tiers {
			opt(c.tierSL, t.ServiceLevel, t.Tier, win)
			opt(c.tierASA, t.ASASeconds, t.Tier, win)
			counts(c.tierWindowCalls, &t.Figures, t.Tier, win)
		}
	}
	return nil
}

// windowLabel names a window as Prometheus durations do, in its largest
// whole unit: 5m, 15m, 1h, 24h (hours are not turned into days).
func windowLabel(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	default:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
}

// redisMetrics times the commands of a go-redis client (a redis.Hook):
// one observation per command, or per pipeline (command "pipeline"), from
// the call to the reply, connection wait and dial included.
type redisMetrics struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

var _ redis.Hook = (*redisMetrics)(nil)

// redisBuckets run from 100 µs (a command on a local Redis) to 5 s (go-redis
// dialling a Redis that is down).
var redisBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

func newRedisMetrics(reg prometheus.Registerer) (*redisMetrics, error) {
	m := &redisMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kefu_redis_command_duration_seconds",
			Help:    "Time Redis commands took, from the call to the reply, by command (lower case; pipeline for a pipeline or transaction); failed ones included.",
			Buckets: redisBuckets,
		}, []string{"command"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_redis_command_errors_total",
			Help: "Redis commands that failed (a missing key, redis.Nil, is not a failure), by command.",
		}, []string{"command"}),
	}
	for _, col := range []prometheus.Collector{m.duration, m.errors} {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("metrics: register: %w", err)
		}
	}
	return m, nil
}

// DialHook leaves dialling alone: a command's time includes its dial.
func (m *redisMetrics) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook times one command.
func (m *redisMetrics) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmd)
		m.observe(cmp.Or(cmd.Name(), "unknown"), time.Since(start), err)
		return err
	}
}

// ProcessPipelineHook times one pipeline (or MULTI/EXEC transaction) as a
// whole.
func (m *redisMetrics) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmds)
		m.observe("pipeline", time.Since(start), err)
		return err
	}
}

func (m *redisMetrics) observe(command string, d time.Duration, err error) {
	m.duration.WithLabelValues(command).Observe(d.Seconds())
	if err != nil && !errors.Is(err, redis.Nil) {
		m.errors.WithLabelValues(command).Inc()
	}
}
