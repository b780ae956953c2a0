package stats

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"kefu/routing"
)

// The suite every Backend passes, with identical figures: runSuite is run
// on Memory (TestMemory) and on Redis (TestRedis).

// newBackendFunc returns a fresh, empty backend.
type newBackendFunc func(tb testing.TB) Backend

// fakeClock is the injected clock of the tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// t0 is aligned on every default window's buckets (5s, 15s, 1m, 24m).
var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

var testQueues = []routing.QueueConfig{
	{Name: "billing", Skill: "billing", ServiceLevel: 20 * time.Second, WrapUp: 30 * time.Second},
	{Name: "support", Skill: "support", ServiceLevel: 10 * time.Second},
	{Name: "sales", Skill: "sales"}, // no events: listed with zeros
}

// newStats returns Stats on a fresh backend with testQueues, the default
// windows and a fake clock at now.
func newStats(tb testing.TB, nb newBackendFunc, now time.Time) (*Stats, *fakeClock) {
	tb.Helper()
	clk := &fakeClock{t: now}
	s, err := New(Config{Queues: testQueues, Now: clk.Now}, nb(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return s, clk
}

func runSuite(t *testing.T, nb newBackendFunc) {
	t.Run("Figures", func(t *testing.T) { testFigures(t, nb) })
	t.Run("WindowEdges", func(t *testing.T) { testWindowEdges(t, nb) })
	t.Run("Occupancy", func(t *testing.T) { testOccupancy(t, nb) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, nb) })
	t.Run("JSON", func(t *testing.T) { testJSON(t, nb) })
	t.Run("ShortAbandonOff", func(t *testing.T) { testShortAbandonOff(t, nb) })
}

func qe(at time.Time, event, call, queue, tier string, waitMS, talkMS int64) routing.QueueEvent {
	return routing.QueueEvent{Time: at, Event: event, CallID: call, Queue: queue, Tier: tier, WaitMS: waitMS, TalkMS: talkMS}
}

// figureEvents is the fixed sequence whose figures are worked out by hand
// in testFigures. Every event is within the last 4 minutes of t0+2s, so
// every window holds all of them.
func figureEvents() []routing.QueueEvent {
	at := func(sec int) time.Time { return t0.Add(-4*time.Minute + time.Duration(sec)*time.Second) }
	return []routing.QueueEvent{
		qe(at(0), routing.LogEnterQueue, "c1", "billing", "vip", 0, 0),
		qe(at(1), routing.LogEnterQueue, "c2", "billing", "", 0, 0), // tier "default"
		qe(at(2), routing.LogEnterQueue, "c3", "billing", "vip", 0, 0),
		qe(at(3), routing.LogEnterQueue, "c4", "billing", "default", 0, 0),
		qe(at(4), routing.LogAgentCalled, "c1", "billing", "vip", 0, 0), // counts for nothing
		qe(at(10), routing.LogConnect, "c1", "billing", "vip", 10_000, 0),
		qe(at(21), routing.LogConnect, "c2", "billing", "", 20_000, 0),       // exactly the threshold: in SL
		qe(at(23), routing.LogConnect, "c3", "billing", "vip", 20_001, 0),    // 1ms over: not in SL
		qe(at(6), routing.LogAbandon, "c4", "billing", "default", 3_000, 0),  // short
		qe(at(7), routing.LogEnterQueue, "c5", "billing", "default", 0, 0),   //
		qe(at(12), routing.LogAbandon, "c5", "billing", "default", 5_000, 0), // exactly 5s: not short
		qe(at(8), routing.LogEnterQueue, "c6", "billing", "vip", 0, 0),       //
		qe(at(68), routing.LogExitWithTimeout, "c6", "billing", "vip", 60_000, 0),
		qe(at(100), routing.LogComplete, "c1", "billing", "vip", 0, 90_000),        // handle 90+30s
		qe(at(81), routing.LogCompleteCaller, "c2", "billing", "", 20_000, 60_000), // handle 60+30s; not answered again
		qe(at(15), routing.LogRingNoAnswer, "c3", "billing", "vip", 0, 0),
		qe(at(30), routing.LogCallback, "c7", "billing", "vip", 0, 0), // new request: entered
		qe(at(31), routing.LogEnterQueue, "c8", "billing", "default", 0, 0),
		qe(at(61), routing.LogCallback, "c8", "billing", "default", 30_000, 0), // became a callback: not entered again
		qe(at(40), routing.LogEnterQueue, "s1", "support", "", 0, 0),
		qe(at(48), routing.LogConnect, "s1", "support", "", 8_000, 0),
		qe(at(148), routing.LogCompleteAgent, "s1", "support", "", 0, 100_000), // no wrap-up
		qe(at(50), routing.LogEnterQueue, "s2", "support", "vip", 0, 0),
		qe(at(62), routing.LogAbandon, "s2", "support", "vip", 12_000, 0),
		qe(at(63), routing.LogExitEmpty, "s3", "support", "vip", 0, 0),         // refused: not entered
		qe(at(64), routing.LogFull, "c9", "billing", "", 0, 0),                 // refused: not entered
		qe(at(65), routing.LogReprioritize, "c8", "billing", "vip", 60_000, 0), // counts for nothing
		{Time: at(70), Event: routing.LogPause, Agent: "a1", Reason: "lunch"},
		{Time: at(71), Event: routing.LogAbandon, CallID: "x", WaitMS: 1000}, // no queue: not counted
		{Time: at(72), Event: routing.LogWrapUp, CallID: "c1", Queue: "billing"},
	}
}

func fp(v float64) *float64 { return &v }

// counts builds the counters of a Figures.
func counts(entered, answered, inSL, abandoned, short, overflowed, callbacks, rna, completed int64) Figures {
	return Figures{Entered: entered, Answered: answered, AnsweredInSL: inSL, Abandoned: abandoned,
		ShortAbandoned: short, Overflowed: overflowed, Callbacks: callbacks, RingNoAnswer: rna, Completed: completed}
}

// with sets a Figures' ratios and averages (nil: null).
func (f Figures) with(sl, ar, asa, aht, longest *float64) Figures {
	f.ServiceLevel, f.AbandonRate, f.ASASeconds, f.AHTSeconds, f.LongestWaitAnsweredSeconds = sl, ar, asa, aht, longest
	return f
}

func testFigures(t *testing.T, nb newBackendFunc) {
	s, _ := newStats(t, nb, t0.Add(2*time.Second))
	for _, e := range figureEvents() {
		if err := s.Append(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := s.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	// billing vip: c1 (10s, in SL), c3 (20.001s, out); c6 overflowed; c7
	// a new callback. resolved = 2 answered + 0 abandoned + 1 overflowed.
	billingVIP := counts(4, 2, 1, 0, 0, 1, 1, 1, 1).with(fp(1.0/3), fp(0), fp(15.0005), fp(120), fp(20.001))
	// billing default: c2 (20s, in SL); c4 short abandon, c5 abandon at 5s;
	// c8 became a callback. resolved = 1 + (2−1) + 0.
	billingDefault := counts(4, 1, 1, 2, 1, 0, 1, 0, 1).with(fp(0.5), fp(0.5), fp(20), fp(90), fp(20))
	supportDefault := counts(1, 1, 1, 0, 0, 0, 0, 0, 1).with(fp(1), fp(0), fp(8), fp(100), fp(8))
	supportVIP := counts(1, 0, 0, 1, 0, 0, 0, 0, 0).with(fp(0), fp(1), nil, nil, nil)
	want := map[string]Figures{
		"billing/default": billingDefault,
		"billing/vip":     billingVIP,
		"support/default": supportDefault,
		"support/vip":     supportVIP,
		// resolved = 3 + (2−1) + 1 = 5; ASA = 50.001s / 3
		"queue billing": counts(8, 3, 2, 2, 1, 1, 2, 1, 2).with(fp(0.4), fp(0.2), fp(50.001/3), fp(105), fp(20.001)),
		"queue sales":   counts(0, 0, 0, 0, 0, 0, 0, 0, 0).with(nil, nil, nil, nil, nil),
		"queue support": counts(2, 1, 1, 1, 0, 0, 0, 0, 1).with(fp(0.5), fp(0.5), fp(8), fp(100), fp(8)),
		// resolved = 2 + 1 + 1 = 4
		"tier vip": counts(5, 2, 1, 1, 0, 1, 1, 1, 1).with(fp(0.25), fp(0.25), fp(15.0005), fp(120), fp(20.001)),
		// resolved = 2 + (2−1) + 0 = 3
		"tier default": counts(5, 2, 2, 2, 1, 0, 1, 0, 2).with(fp(2.0/3), fp(1.0/3), fp(14), fp(95), fp(20)),
		// resolved = 4 + (3−1) + 1 = 7; ASA = 58.001s / 4; AHT = 310s / 3
		"total": counts(10, 4, 3, 3, 1, 1, 2, 1, 3).with(fp(3.0/7), fp(2.0/7), fp(14.50025), fp(310.0/3), fp(20.001)),
	}
	// s3 refused for want of agents, c9 because billing was full.
	for k, exits := range map[string][2]int64{"support/vip": {1, 0}, "queue support": {1, 0}, "tier vip": {1, 0},
		"billing/default": {0, 1}, "queue billing": {0, 1}, "tier default": {0, 1}, "total": {1, 1}} {
		f := want[k]
		f.ExitEmpty, f.Full = exits[0], exits[1]
		want[k] = f
	}
	if len(snap.Windows) != 4 {
		t.Fatalf("%d windows, want the 4 default ones", len(snap.Windows))
	}
	for _, w := range snap.Windows {
		got := map[string]Figures{"total": w.Total}
		var order []string
		for _, q := range w.Queues {
			got["queue "+q.Queue] = q.Figures
			order = append(order, q.Queue)
		}
		for _, tf := range w.Tiers {
			got["tier "+tf.Tier] = tf.Figures
			order = append(order, tf.Tier)
		}
		for _, qt := range w.QueueTiers {
			got[qt.Queue+"/"+qt.Tier] = qt.Figures
			order = append(order, qt.Queue+"/"+qt.Tier)
		}
		wantOrder := []string{"billing", "sales", "support", "default", "vip", "billing/default", "billing/vip", "support/default", "support/vip"}
		if !slices.Equal(order, wantOrder) {
			t.Errorf("window %s: rows %v, want %v", w.Name, order, wantOrder)
		}
		if len(got) != len(want) {
			t.Errorf("window %s: %d rows, want %d", w.Name, len(got), len(want))
		}
		for k, wf := range want {
			checkFigures(t, w.Name+" "+k, got[k], wf)
		}
	}
}

// checkFigures compares two Figures, ratios to 1e-9.
func checkFigures(t *testing.T, what string, got, want Figures) {
	t.Helper()
	gc, wc := got, want
	gc.ServiceLevel, gc.AbandonRate, gc.ASASeconds, gc.AHTSeconds, gc.LongestWaitAnsweredSeconds = nil, nil, nil, nil, nil
	wc.ServiceLevel, wc.AbandonRate, wc.ASASeconds, wc.AHTSeconds, wc.LongestWaitAnsweredSeconds = nil, nil, nil, nil, nil
	if gc != wc {
		t.Errorf("%s: counts\n got %+v\nwant %+v", what, gc, wc)
	}
	for _, f := range []struct {
		name      string
		got, want *float64
	}{
		{"service_level", got.ServiceLevel, want.ServiceLevel},
		{"abandon_rate", got.AbandonRate, want.AbandonRate},
		{"asa_s", got.ASASeconds, want.ASASeconds},
		{"aht_s", got.AHTSeconds, want.AHTSeconds},
		{"longest_wait_answered_s", got.LongestWaitAnsweredSeconds, want.LongestWaitAnsweredSeconds},
	} {
		switch {
		case f.got == nil && f.want == nil:
		case f.got == nil || f.want == nil:
			t.Errorf("%s: %s = %s, want %s", what, f.name, show(f.got), show(f.want))
		case math.Abs(*f.got-*f.want) > 1e-9:
			t.Errorf("%s: %s = %v, want %v", what, f.name, *f.got, *f.want)
		}
	}
}

func show(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

func entered(w Window) int64 { return w.Total.Entered }

// testWindowEdges: an event at the start of a window's oldest bucket is in
// it, one a millisecond earlier is not; as the clock moves into the next
// bucket the oldest one leaves the window.
func testWindowEdges(t *testing.T, nb newBackendFunc) {
	now := t0.Add(2 * time.Second)
	s, clk := newStats(t, nb, now)
	enter := func(at time.Time) {
		t.Helper()
		if err := s.Append(t.Context(), qe(at, routing.LogEnterQueue, "c", "billing", "vip", 0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	ms := time.Millisecond
	enter(t0.Add(-5 * time.Minute))               // A: first instant of the 5m window
	enter(t0.Add(-5*time.Minute - ms))            // B: just before it; in 15m
	enter(t0.Add(-15 * time.Minute))              // C: first instant of 15m
	enter(t0.Add(-15*time.Minute - ms))           // D: in 1h only
	enter(t0.Add(-time.Hour))                     // E: first instant of 1h
	enter(t0.Add(-time.Hour - ms))                // E2: in 24h only
	enter(t0.Add(-24 * time.Hour))                // F: first instant of 24h
	enter(t0.Add(-24*time.Hour - ms))             // G: in no window: skipped
	enter(now)                                    // H
	enter(t0.Add(32 * time.Second))               // I: 30s ahead: counted at its time, later
	enter(now.Add(futureSkew + time.Millisecond)) // J: too far ahead: counted now
	enter(time.Time{})                            // K: no time: counted now

	check := func(at time.Time, want ...int64) {
		t.Helper()
		clk.Set(at)
		snap, err := s.Snapshot(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, w := range snap.Windows {
			got = append(got, entered(w))
		}
		if !slices.Equal(got, want) {
			t.Errorf("at t0%+v: entered per window (5m, 15m, 1h, 24h) = %v, want %v", at.Sub(t0), got, want)
		}
	}
	// I is in the current bucket of 1h and 24h (1m and 24m long), which
	// the windows read whole.
	check(now, 4, 6, 9, 11)                      // A H J K; +B C; +D E I; +E2 F
	check(t0.Add(5*time.Second-ms), 4, 6, 9, 11) // still the same buckets
	check(t0.Add(5*time.Second), 3, 6, 9, 11)    // A's bucket left 5m
	check(t0.Add(15*time.Second), 3, 5, 9, 11)   // C left 15m (B is later)
	check(t0.Add(32*time.Second), 4, 6, 9, 11)   // I's 5s and 15s buckets came
	check(t0.Add(time.Minute), 4, 6, 8, 11)      // E left 1h
	check(t0.Add(24*time.Minute), 0, 0, 8, 10)   // F left 24h

	clk.Set(now)
	snap, err := s.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantFrom := []time.Time{t0.Add(-5 * time.Minute), t0.Add(-15 * time.Minute), t0.Add(-time.Hour), t0.Add(-24 * time.Hour)}
	wantBucket := []float64{5, 15, 60, 24 * 60}
	for i, w := range snap.Windows {
		if !w.From.Equal(wantFrom[i]) || w.BucketSeconds != wantBucket[i] {
			t.Errorf("window %s: from %v bucket %vs, want from %v bucket %vs", w.Name, w.From, w.BucketSeconds, wantFrom[i], wantBucket[i])
		}
	}
	if !snap.At.Equal(now) {
		t.Errorf("snapshot at %v, want the clock's %v", snap.At, now)
	}
}

func agent(id string, state routing.AgentState, skills ...string) routing.AgentStatus {
	m := map[string]int{}
	for _, s := range skills {
		m[s] = 3
	}
	return routing.AgentStatus{ID: id, State: state, Skills: m}
}

func occ(staffed, busy float64) Occupancy {
	o := Occupancy{StaffedSeconds: staffed, BusySeconds: busy}
	if staffed > 0 {
		o.Fraction = fp(busy / staffed)
	}
	return o
}

func checkOcc(t *testing.T, what string, got, want Occupancy) {
	t.Helper()
	if got.StaffedSeconds != want.StaffedSeconds || got.BusySeconds != want.BusySeconds ||
		show(got.Fraction) != show(want.Fraction) {
		t.Errorf("%s: occupancy staffed %vs busy %vs fraction %s, want %vs %vs %s", what,
			got.StaffedSeconds, got.BusySeconds, show(got.Fraction), want.StaffedSeconds, want.BusySeconds, show(want.Fraction))
	}
}

// testOccupancy: one sample per 15s slot; the first of a slot counts.
func testOccupancy(t *testing.T, nb newBackendFunc) {
	s, clk := newStats(t, nb, t0)
	ctx := t.Context()
	first := []routing.AgentStatus{
		agent("a1", routing.AgentTalking, "billing"),
		agent("a2", routing.AgentReady, "billing", "support"),
		agent("a3", routing.AgentWrapUp, "support"),
		agent("a4", routing.AgentNotReady, "billing"),
		agent("a5", routing.AgentLoggedOut, "support"),
		agent("a6", routing.AgentOffered, "billing", "support"),
		agent("a7", routing.AgentTalking, "other"),
	}
	if err := s.Sample(ctx, t0, first); err != nil {
		t.Fatal(err)
	}
	// Same slot, other states: ignored.
	clk.Set(t0.Add(10 * time.Second))
	allBusy := []routing.AgentStatus{agent("a1", routing.AgentTalking, "billing", "support", "sales")}
	if err := s.Sample(ctx, time.Time{}, allBusy); err != nil {
		t.Fatal(err)
	}
	clk.Set(t0.Add(15 * time.Second))
	if err := s.Sample(ctx, time.Time{}, []routing.AgentStatus{agent("a1", routing.AgentReady, "billing")}); err != nil {
		t.Fatal(err)
	}
	// A slot already out of every window is not counted.
	if err := s.Sample(ctx, t0.Add(-25*time.Hour), allBusy); err != nil {
		t.Fatal(err)
	}
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range snap.Windows {
		// a1 a2 a3 a6 a7 staffed, a1 a3 a6 a7 busy at t0; a1 staffed at t0+15s.
		checkOcc(t, w.Name+" all", w.Occupancy, occ(90, 60))
		want := map[string]Occupancy{"billing": occ(60, 30), "support": occ(45, 30), "sales": occ(0, 0)}
		for _, q := range w.Queues {
			checkOcc(t, w.Name+" "+q.Queue, q.Occupancy, want[q.Queue])
		}
		if len(w.Queues) != 3 {
			t.Errorf("window %s: queues %v, want billing, sales, support", w.Name, w.Queues)
		}
	}
}

// testConcurrent: many goroutines append, sample and read at once; every
// event counts exactly once and a slot is sampled once.
func testConcurrent(t *testing.T, nb newBackendFunc) {
	s, _ := newStats(t, nb, t0)
	ctx := t.Context()
	const workers, per = 16, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers*3)
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				call := fmt.Sprintf("w%d-%d", w, i)
				wait := int64(w*per+i) * 100 // 0 to 79.9s
				for _, e := range []routing.QueueEvent{
					qe(t0, routing.LogEnterQueue, call, "billing", "vip", 0, 0),
					qe(t0, routing.LogConnect, call, "billing", "vip", wait, 0),
					qe(t0, routing.LogComplete, call, "billing", "vip", 0, 1000),
				} {
					if err := s.Append(ctx, e); err != nil {
						errs <- err
						return
					}
				}
			}
		})
		wg.Go(func() {
			if err := s.Sample(ctx, t0, []routing.AgentStatus{agent("a", routing.AgentTalking, "billing")}); err != nil {
				errs <- err
			}
		})
		wg.Go(func() {
			if _, err := s.Snapshot(ctx); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = workers * per
	// Waits 0, 0.1s, … (n−1)·0.1s: 201 of them ≤ 20s; mean (n−1)·0.05s.
	want := counts(n, n, 201, 0, 0, 0, 0, 0, n).with(fp(201.0/n), fp(0), fp(float64(n-1)*0.05), fp(31), fp(float64(n-1)*0.1))
	for _, w := range snap.Windows {
		checkFigures(t, w.Name, w.Total, want)
		checkOcc(t, w.Name, w.Occupancy, occ(15, 15))
	}
}

// testJSON: snake_case names, null for empty denominators, fixed order.
func testJSON(t *testing.T, nb newBackendFunc) {
	s, _ := newStats(t, nb, t0.Add(2*time.Second))
	for _, e := range figureEvents() {
		if err := s.Append(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := s.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		At      time.Time `json:"at"`
		Windows []struct {
			Window     string                   `json:"window"`
			WindowS    float64                  `json:"window_s"`
			Total      map[string]any           `json:"total"`
			Occupancy  map[string]any           `json:"occupancy"`
			Queues     []map[string]any         `json:"queues"`
			QueueTiers []map[string]any         `json:"queue_tiers"`
			Tiers      []map[string]interface{} `json:"tiers"`
		} `json:"windows"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Windows) != 4 || doc.Windows[0].Window != "5m0s" || doc.Windows[3].WindowS != 86400 {
		t.Fatalf("windows in JSON: %s", b)
	}
	w := doc.Windows[0]
	for _, k := range []string{"entered", "answered", "answered_in_sl", "abandoned", "short_abandoned", "overflowed",
		"callbacks", "ring_no_answer", "exit_empty", "full", "completed", "service_level", "abandon_rate", "asa_s", "aht_s", "longest_wait_answered_s"} {
		if _, ok := w.Total[k]; !ok {
			t.Errorf("total lacks %q: %v", k, w.Total)
		}
	}
	if len(w.Total) != 16 {
		t.Errorf("total has %d fields, want 16: %v", len(w.Total), w.Total)
	}
	supportVIP := w.QueueTiers[3]
	if supportVIP["queue"] != "support" || supportVIP["tier"] != "vip" || supportVIP["asa_s"] != nil ||
		supportVIP["service_level"] != 0.0 {
		t.Errorf("support/vip in JSON = %v, want asa_s null and service_level 0", supportVIP)
	}
	if _, ok := supportVIP["asa_s"]; !ok {
		t.Error("asa_s is omitted; want null")
	}
	sales := w.Queues[1]
	if sales["queue"] != "sales" || sales["entered"] != 0.0 || sales["service_level"] != nil {
		t.Errorf("sales in JSON = %v, want zeros and nulls", sales)
	}
	if o, _ := sales["occupancy"].(map[string]any); o == nil || o["fraction"] != nil || o["staffed_s"] != 0.0 {
		t.Errorf("sales occupancy in JSON = %v, want staffed_s 0 and fraction null", sales["occupancy"])
	}
	// Same data, same bytes.
	again, err := s.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(again)
	if string(b) != string(b2) {
		t.Error("two snapshots of the same data differ in JSON")
	}
}

// testShortAbandonOff: a negative ShortAbandon makes every abandon count.
func testShortAbandonOff(t *testing.T, nb newBackendFunc) {
	clk := &fakeClock{t: t0}
	s, err := New(Config{Queues: testQueues, ShortAbandon: -1, Windows: []time.Duration{time.Minute}, Now: clk.Now}, nb(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []routing.QueueEvent{
		qe(t0, routing.LogAbandon, "a", "billing", "", 0, 0),
		qe(t0, routing.LogAbandon, "b", "billing", "", 1, 0),
		qe(t0, routing.LogConnect, "c", "billing", "", 0, 0),
	} {
		if err := s.Append(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := s.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Windows) != 1 {
		t.Fatalf("%d windows, want 1", len(snap.Windows))
	}
	checkFigures(t, "total", snap.Windows[0].Total,
		counts(0, 1, 1, 2, 0, 0, 0, 0, 0).with(fp(1.0/3), fp(2.0/3), fp(0), nil, fp(0)))
}
