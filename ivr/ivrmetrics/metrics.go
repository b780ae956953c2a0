// Package ivrmetrics exports the IVR's figures to Prometheus: per-node
// counters fed by the engine's events (calls entering each node, exits
// taken, callers hanging up inside, calls ended, milestones reached), which
// give a drop-off funnel per flow, and the state of flow reloads.
//
// Labels are flow, node, kind, exit, reason and milestone names from the
// flow files and the engine, so their number is bounded by the flows ×
// nodes ever loaded while the server runs. The flow version is not a label
// (every edit would start new series); kefu_flow_set_info says which set
// is active. Call ids and variable values are never labels.
package ivrmetrics

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kefu/ivr"
)

// Metrics holds the collectors. It implements ivr.Observer. Create it with
// New; it is safe for concurrent use.
type Metrics struct {
	entered    *prometheus.CounterVec
	exits      *prometheus.CounterVec
	hangups    *prometheus.CounterVec
	ends       *prometheus.CounterVec
	milestones *prometheus.CounterVec

	reloads     *prometheus.CounterVec
	setInfo     *prometheus.GaugeVec
	lastSuccess prometheus.Gauge

	mu      sync.Mutex // orders set-info changes
	version string     // the version kefu_flow_set_info shows
}

var _ ivr.Observer = (*Metrics)(nil)

// Reload results, the values of kefu_flow_reloads_total's result label.
const (
	ReloadOK        = "ok"
	ReloadFailed    = "failed"
	ReloadUnchanged = "unchanged"
)

// New creates the collectors and registers them on reg (give the server's
// own prometheus.NewRegistry(), never the global default). It fails when
// one of them is already registered there.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		entered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_ivr_node_entered_total",
			Help: "Calls that entered an IVR node.",
		}, []string{"flow", "node", "kind"}),
		exits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_ivr_node_exits_total",
			Help: "Calls that left an IVR node, by the exit taken (next, a menu key, failed, max_wait, …).",
		}, []string{"flow", "node", "exit"}),
		hangups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_ivr_node_hangups_total",
			Help: "Callers who hung up while in an IVR node.",
		}, []string{"flow", "node"}),
		ends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_ivr_call_ends_total",
			Help: "Calls the flow ended in a node (hangup node, blind transfer, error), by reason; callers hanging up are in kefu_ivr_node_hangups_total.",
		}, []string{"flow", "node", "reason"}),
		milestones: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_ivr_milestones_total",
			Help: "Calls that reached a node marked with a milestone.",
		}, []string{"flow", "milestone"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_flow_reloads_total",
			Help: "Reloads of the flows directory, by result: ok (a new version is active), unchanged, failed (the previous set keeps serving).",
		}, []string{"result"}),
		setInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kefu_flow_set_info",
			Help: "The active flow set: 1 for its version.",
		}, []string{"version"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kefu_flow_last_reload_success_timestamp_seconds",
			Help: "When the flows directory last loaded without error (start, ok or unchanged reload), in Unix seconds.",
		}),
	}
	for _, c := range []prometheus.Collector{m.entered, m.exits, m.hangups, m.ends, m.milestones, m.reloads, m.setInfo, m.lastSuccess} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("ivrmetrics: register: %w (give New a registry of its own, once)", err)
		}
	}
	// Every result shows from the start, at 0, so rate() and alerts work
	// before the first failure.
	for _, r := range []string{ReloadOK, ReloadFailed, ReloadUnchanged} {
		m.reloads.WithLabelValues(r)
	}
	return m, nil
}

// Observe counts one engine event. It never blocks on anything but the
// collectors' own short locks. A milestone is counted when a call enters
// its node.
func (m *Metrics) Observe(ev ivr.Event) {
	switch ev.Type {
	case ivr.EventEnter:
		m.entered.WithLabelValues(ev.Flow, ev.Node, ev.Kind).Inc()
		if ev.Milestone != "" {
			m.milestones.WithLabelValues(ev.Flow, ev.Milestone).Inc()
		}
	case ivr.EventExit:
		m.exits.WithLabelValues(ev.Flow, ev.Node, ev.Exit).Inc()
	case ivr.EventHangup:
		m.hangups.WithLabelValues(ev.Flow, ev.Node).Inc()
	case ivr.EventEnd:
		m.ends.WithLabelValues(ev.Flow, ev.Node, ev.Exit).Inc()
	}
}

// FlowSetActive records that the flow set of this version became active
// (first load, reload or rollback): kefu_flow_set_info shows it alone.
func (m *Metrics) FlowSetActive(version string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if version == m.version {
		return
	}
	if m.version != "" {
		m.setInfo.DeleteLabelValues(m.version)
	}
	m.setInfo.WithLabelValues(version).Set(1)
	m.version = version
}

// FlowsLoaded records a successful load of the flows directory at that
// time: the first one, at start, is not counted as a reload.
func (m *Metrics) FlowsLoaded(at time.Time) {
	m.lastSuccess.Set(float64(at.UnixNano()) / 1e9)
}

// FlowReload counts one reload with its result (ReloadOK, ReloadFailed or
// ReloadUnchanged) at time at; ok and unchanged also set the last-success
// timestamp.
func (m *Metrics) FlowReload(result string, at time.Time) {
	m.reloads.WithLabelValues(result).Inc()
	if result != ReloadFailed {
		m.FlowsLoaded(at)
	}
}
