package stats

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"kefu/routing"
)

// Stats counts the router's queue events and agents' occupancy into
// sliding-window buckets of a Backend, and computes the figures. It is a
// routing.EventLog (give it to routing.Config.Events, alone or through
// routing.EventLogs) and is safe for concurrent use.
type Stats struct {
	cfg     *compiled
	backend Backend
}

var _ routing.EventLog = (*Stats)(nil)

// New returns Stats counting into backend (NewMemory or NewRedis).
func New(cfg Config, backend Backend) (*Stats, error) {
	if backend == nil {
		return nil, fmt.Errorf("stats: New: backend is nil; pass stats.NewMemory() or a stats.NewRedis backend")
	}
	c, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	return &Stats{cfg: c, backend: backend}, nil
}

// Append counts e (see the package documentation for what each event
// counts as) in the buckets holding e.Time. Events that count for nothing,
// events without a queue, and events older than every window are skipped.
// An event without a time is counted at the clock's time; one dated more
// than a minute ahead of the clock is counted at the clock's time too.
func (s *Stats) Append(ctx context.Context, e routing.QueueEvent) error {
	var incr []fieldIncr
	var mx []fieldMax
	at := cell{queue: e.Queue, tier: e.Tier}
	if at.tier == "" {
		at.tier = routing.TierDefault
	}
	add := func(c counter, n int64) {
		if n != 0 {
			incr = append(incr, fieldIncr{callField(c, at), n})
		}
	}
	rules := s.cfg.rules(e.Queue)
	wait, talk := max(e.WaitMS, 0), max(e.TalkMS, 0)
	switch e.Event {
	case routing.LogEnterQueue:
		add(cEntered, 1)
	case routing.LogCallback:
		add(cCallbacks, 1)
		if e.WaitMS == 0 { // a new request; a waiting call that became one has waited
			add(cEntered, 1)
		}
	case routing.LogConnect:
		add(cAnswered, 1)
		add(cWaitAnsweredMS, wait)
		if wait <= rules.slMS {
			add(cAnsweredInSL, 1)
		}
		mx = append(mx, fieldMax{at.member(), wait})
	case routing.LogComplete, routing.LogCompleteCaller, routing.LogCompleteAgent:
		add(cCompleted, 1)
		add(cHandleMS, talk+rules.wrapMS)
	case routing.LogAbandon:
		add(cAbandoned, 1)
		if wait < s.cfg.shortMS {
			add(cShortAbandoned, 1)
		}
	case routing.LogExitWithTimeout:
		add(cOverflowed, 1)
	case routing.LogRingNoAnswer:
		add(cRingNoAnswer, 1)
	case routing.LogExitEmpty:
		add(cExitEmpty, 1)
	case routing.LogFull:
		add(cFull, 1)
	default:
		return nil
	}
	if e.Queue == "" {
		s.cfg.log.Debug("stats: event without a queue not counted", "event", e.Event, "call", e.CallID)
		return nil
	}
	now := s.cfg.now()
	when := e.Time
	switch {
	case when.IsZero():
		when = now
	case when.After(now.Add(futureSkew)):
		s.cfg.log.Warn("stats: event dated in the future counted now; check the nodes' clocks",
			"event", e.Event, "call", e.CallID, "time", e.Time, "now", now)
		when = now
	}
	if err := s.write(ctx, now, when, incr, mx); err != nil {
		return fmt.Errorf("stats: counting %s event of call %q: %w", e.Event, e.CallID, err)
	}
	return nil
}

// write applies incr and mx to the buckets holding when that are still in
// their window at now.
func (s *Stats) write(ctx context.Context, now, when time.Time, incr []fieldIncr, mx []fieldMax) error {
	buckets := s.bucketsFor(now, when)
	if len(buckets) == 0 || len(incr) == 0 && len(mx) == 0 {
		return nil
	}
	return s.backend.apply(ctx, update{now: now, buckets: buckets, incr: incr, max: mx})
}

// bucketsFor returns the buckets holding when, one per window, that are
// still in their window at now.
func (s *Stats) bucketsFor(now, when time.Time) []bucketWrite {
	buckets := make([]bucketWrite, 0, len(s.cfg.windows))
	for _, w := range s.cfg.windows {
		idx := bucketIndex(when, w.gran)
		if idx < bucketIndex(now, w.gran)-s.cfg.buckets {
			continue // already out of this window
		}
		buckets = append(buckets, bucketWrite{bucketRef{w.gran, idx}, bucketStart(idx+s.cfg.buckets+1, w.gran)})
	}
	return buckets
}

// Snapshot returns the figures of every window at the clock's time: each
// window sums its Config.Buckets complete buckets and the current one.
func (s *Stats) Snapshot(ctx context.Context) (Snapshot, error) {
	now := s.cfg.now()
	n := s.cfg.buckets
	refs := make([]bucketRef, 0, int64(len(s.cfg.windows))*(n+1))
	for _, w := range s.cfg.windows {
		cur := bucketIndex(now, w.gran)
		for idx := cur - n; idx <= cur; idx++ {
			refs = append(refs, bucketRef{w.gran, idx})
		}
	}
	data, err := s.backend.read(ctx, refs)
	if err != nil {
		return Snapshot{}, fmt.Errorf("stats: snapshot: %w", err)
	}
	snap := Snapshot{At: now, Windows: make([]Window, len(s.cfg.windows))}
	for i, w := range s.cfg.windows {
		part := data[int64(i)*(n+1) : int64(i+1)*(n+1)]
		snap.Windows[i] = s.cfg.aggregate(w, bucketStart(bucketIndex(now, w.gran)-n, w.gran), part)
	}
	return snap, nil
}

// Sample records the agents' states for the occupancy slot (of
// Config.SampleInterval) holding now; the zero time means the clock's time.
// Only the first Sample of a slot counts, on whichever node sharing the
// backend makes it: each agent then counts for the whole slot, as staffed
// when ready, offered, talking or in wrap_up, and as busy in the last three;
// overall, and for every configured queue whose skill the agent has. Later
// Samples of the slot do nothing.
func (s *Stats) Sample(ctx context.Context, now time.Time, agents []routing.AgentStatus) error {
	clock := s.cfg.now()
	if now.IsZero() {
		now = clock
	}
	slot := bucketIndex(now, s.cfg.sample)
	start := bucketStart(slot, s.cfg.sample)
	ms := s.cfg.sample.Milliseconds()

	var all occRaw
	queues := make([]occRaw, len(s.cfg.queueNames))
	for _, a := range agents {
		var busy bool
		switch a.State {
		case routing.AgentReady:
		case routing.AgentOffered, routing.AgentTalking, routing.AgentWrapUp:
			busy = true
		default: // logged out, on a break, or unknown
			continue
		}
		all.count(ms, busy)
		for i, q := range s.cfg.queueNames {
			if _, ok := a.Skills[s.cfg.queues[q].skill]; ok {
				queues[i].count(ms, busy)
			}
		}
	}
	var incr []fieldIncr
	add := func(field string, n int64) {
		if n != 0 {
			incr = append(incr, fieldIncr{field, n})
		}
	}
	add(occStaffed, all.staffed)
	add(occBusy, all.busy)
	for i, q := range s.cfg.queueNames {
		add(queueOccField(occStaffed, q), queues[i].staffed)
		add(queueOccField(occBusy, q), queues[i].busy)
	}

	buckets := s.bucketsFor(clock, start)
	if len(buckets) == 0 {
		return nil // the slot is already out of every window
	}
	name := strconv.FormatInt(ms, 10) + ":" + strconv.FormatInt(slot, 10)
	expires := start.Add(2 * s.cfg.sample)
	if expires.Before(clock) {
		expires = clock
	}
	first, err := s.backend.claim(ctx, name, clock, expires)
	if err != nil {
		return fmt.Errorf("stats: sample at %v: %w", now, err)
	}
	if !first || len(incr) == 0 {
		return nil
	}
	if err := s.backend.apply(ctx, update{now: clock, buckets: buckets, incr: incr}); err != nil {
		return fmt.Errorf("stats: sample at %v: %w", now, err)
	}
	return nil
}

func (o *occRaw) count(ms int64, busy bool) {
	o.staffed += ms
	if busy {
		o.busy += ms
	}
}

// AgentsFunc lists every agent's state; routing.Router.Agents is one.
type AgentsFunc func(context.Context) ([]routing.AgentStatus, error)

// Run samples the agents (see Sample) every interval until ctx ends,
// starting at once; a failure is logged and the next tick tries again.
// interval ≤ 0 means half of Config.SampleInterval, so that every slot is
// sampled even when a tick is late; an interval longer than SampleInterval
// leaves slots unsampled (the occupancy fraction stays right, the staffed
// and busy seconds are too low).
func (s *Stats) Run(ctx context.Context, interval time.Duration, agents AgentsFunc) {
	if interval <= 0 {
		interval = s.cfg.sample / 2
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.sampleOnce(ctx, agents)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Stats) sampleOnce(ctx context.Context, agents AgentsFunc) {
	list, err := agents(ctx)
	if err == nil {
		err = s.Sample(ctx, time.Time{}, list)
	}
	if err != nil && ctx.Err() == nil {
		s.cfg.log.Warn("stats: occupancy sample failed; trying again at the next tick", "err", err)
	}
}
