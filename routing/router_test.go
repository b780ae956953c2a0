package routing_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"kefu/routing"
	"kefu/routing/memstore"
)

func testConfig() routing.Config {
	return routing.Config{
		Queues: []routing.QueueConfig{
			{Name: "billing", Skill: "billing"},
			{Name: "complaints", Skill: "complaints", MaxWait: 60 * time.Second, WrapUp: 30 * time.Second},
		},
		Agents: []routing.AgentConfig{
			{ID: "1001", Skills: map[string]int{"billing": 5, "complaints": 3}},
			{ID: "1002", Skills: map[string]int{"billing": 3}},
		},
	}
}

func newRouter(t *testing.T, cfg routing.Config) *routing.Router {
	t.Helper()
	store := memstore.New()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	r, err := routing.NewRouter(cfg, store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// testWriter sends logs to t.Log, so they show only for failing tests.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func enqueue(t *testing.T, r *routing.Router, req routing.CallRequest) *routing.Ticket {
	t.Helper()
	tk, err := r.Enqueue(t.Context(), req)
	if err != nil {
		t.Fatalf("Enqueue(%s): %v", req.CallID, err)
	}
	return tk
}

// event returns the event waiting on tk, failing if there is none.
func event(t *testing.T, tk *routing.Ticket) routing.Event {
	t.Helper()
	select {
	case e, ok := <-tk.Events():
		if !ok {
			t.Fatalf("ticket %s closed, want an event", tk.CallID())
		}
		return e
	default:
		t.Fatalf("no event for %s", tk.CallID())
		return routing.Event{}
	}
}

func offerTo(t *testing.T, tk *routing.Ticket, agent string) routing.Offer {
	t.Helper()
	e := event(t, tk)
	if e.Kind != routing.EventOffer || e.Offer.AgentID != agent || e.Offer.CallID != tk.CallID() {
		t.Fatalf("event %+v for %s, want an offer to %s", e, tk.CallID(), agent)
	}
	return e.Offer
}

func noEvent(t *testing.T, tk *routing.Ticket) {
	t.Helper()
	select {
	case e, ok := <-tk.Events():
		t.Fatalf("event %+v (open %t) for %s, want none", e, ok, tk.CallID())
	default:
	}
}

func closed(t *testing.T, tk *routing.Ticket) {
	t.Helper()
	select {
	case e, ok := <-tk.Events():
		if ok {
			t.Fatalf("event %+v for %s, want the ticket closed", e, tk.CallID())
		}
	default:
		t.Fatalf("ticket %s still open", tk.CallID())
	}
}

func agentState(t *testing.T, r *routing.Router, id string) routing.AgentStatus {
	t.Helper()
	agents, err := r.Agents(t.Context())
	must(t, err)
	for _, a := range agents {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("no agent %s", id)
	return routing.AgentStatus{}
}

func TestNewRouterValidates(t *testing.T) {
	store := memstore.New()
	cfg := routing.Config{
		Queues: []routing.QueueConfig{
			{Name: "billing", Skill: "billing"},
			{Name: "billing", Skill: "other"},
			{Name: "", Skill: "x"},
			{Name: "noskill"},
			{Name: "neg", Skill: "x", MaxWait: -time.Second},
			{Name: "nobody", Skill: "nobody-has-it"}, // fine
		},
		Agents: []routing.AgentConfig{
			{ID: "1001", Skills: map[string]int{"billing": 5}},
			{ID: "1001", Skills: map[string]int{"billing": 5}},
			{ID: "1003", Skills: map[string]int{"billing": 6}},
		},
		Tiers: map[string]time.Duration{"vip": -time.Second},
	}
	_, err := routing.NewRouter(cfg, store)
	if err == nil {
		t.Fatal("NewRouter accepted a bad config")
	}
	for _, want := range []string{
		`queues[1] "billing": duplicate queue name (first defined at queues[0])`,
		`queues[2]: name is empty`,
		`queues[3] "noskill": skill "" is not valid`,
		`queues[4] "neg": max_wait -1s is negative`,
		`agents[1] "1001": duplicate agent id (first defined at agents[0])`,
		`agents[2] "1003": skill "billing" level 6 is out of range`,
		`tiers "vip": boost -1s is negative`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "nobody") {
		t.Errorf("a queue whose skill no agent has was reported: %v", err)
	}
	if _, err := routing.NewRouter(testConfig(), nil); err == nil {
		t.Error("NewRouter accepted a nil store")
	}
}

func TestQueueConfigDefaults(t *testing.T) {
	r := newRouter(t, testConfig())
	q, ok := r.QueueConfig("billing")
	if !ok || q.ServiceLevel != 20*time.Second || q.RingTimeout != 15*time.Second || q.MaxWait != 0 || q.WrapUp != 0 {
		t.Fatalf("QueueConfig(billing) = %+v, %t", q, ok)
	}
	if _, ok := r.QueueConfig("nope"); ok {
		t.Fatal("QueueConfig(nope) found")
	}
	tiers := r.Tiers()
	if tiers["vip"] != 120*time.Second || tiers["one_star"] != 0 {
		t.Fatalf("Tiers() = %v, want the defaults", tiers)
	}
	tiers["vip"] = 0
	if r.Tiers()["vip"] != 120*time.Second {
		t.Fatal("Tiers() returned the router's own map")
	}
}

func TestEnqueueErrors(t *testing.T) {
	r := newRouter(t, testConfig())
	ctx := t.Context()
	_, err := r.Enqueue(ctx, routing.CallRequest{CallID: "c1", Queue: "nope"})
	if !errors.Is(err, routing.ErrUnknownQueue) {
		t.Fatalf("unknown queue: %v", err)
	}
	_, err = r.Enqueue(ctx, routing.CallRequest{CallID: "c1", Queue: "billing"})
	if !errors.Is(err, routing.ErrNoAgents) {
		t.Fatalf("everyone logged out: %v", err)
	}
	_, err = r.Enqueue(ctx, routing.CallRequest{CallID: "", Queue: "billing"})
	if err == nil {
		t.Fatal("empty call id accepted")
	}
	must(t, r.SetAgentState(ctx, "1002", routing.AgentNotReady, "lunch"))
	tk := enqueue(t, r, routing.CallRequest{CallID: "c1", Queue: "billing"}) // same id: nothing was left behind
	noEvent(t, tk)
	_, err = r.Enqueue(ctx, routing.CallRequest{CallID: "c1", Queue: "billing"})
	if !errors.Is(err, routing.ErrDuplicateCall) {
		t.Fatalf("duplicate: %v", err)
	}
	_, err = r.Enqueue(ctx, routing.CallRequest{CallID: "c2", Queue: "complaints"})
	if !errors.Is(err, routing.ErrNoAgents) {
		t.Fatalf("complaints agent logged out: %v", err)
	}
}

func TestOfferLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRouter(t, testConfig())
		ctx := t.Context()
		must(t, r.SetAgentState(ctx, "1002", routing.AgentReady, ""))
		tk := enqueue(t, r, routing.CallRequest{CallID: "c1", Caller: "13800000001", Queue: "billing", Tier: "one_star"})
		o := offerTo(t, tk, "1002")
		if o.Queue != "billing" || o.Token == 0 || !o.At.Equal(time.Now()) {
			t.Fatalf("offer %+v", o)
		}
		if a := agentState(t, r, "1002"); a.State != routing.AgentOffered || a.CallID != "c1" {
			t.Fatalf("agent %+v, want offered c1", a)
		}
		time.Sleep(3 * time.Second)
		must(t, r.Answered(ctx, o))
		if err := r.Answered(ctx, o); !errors.Is(err, routing.ErrStaleOffer) {
			t.Fatalf("second Answered: %v, want ErrStaleOffer", err)
		}
		time.Sleep(time.Minute)
		calls, err := r.Calls(ctx)
		must(t, err)
		if len(calls) != 1 || calls[0].State != routing.CallTalking || calls[0].WaitSeconds != 3 || calls[0].Tier != "one_star" {
			t.Fatalf("calls %+v", calls)
		}
		must(t, r.Finished(ctx, o))
		closed(t, tk)
		if a := agentState(t, r, "1002"); a.State != routing.AgentReady || a.CallID != "" {
			t.Fatalf("agent %+v, want ready", a)
		}
		calls, err = r.Calls(ctx)
		must(t, err)
		if len(calls) != 0 {
			t.Fatalf("calls left: %+v", calls)
		}
	})
}

func TestNoAnswerRequeues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRouter(t, testConfig())
		ctx := t.Context()
		must(t, r.SetAgentState(ctx, "1001", routing.AgentReady, ""))
		tk := enqueue(t, r, routing.CallRequest{CallID: "c1", Queue: "billing"})
		o := offerTo(t, tk, "1001")
		time.Sleep(15 * time.Second)
		must(t, r.NoAnswer(ctx, o, ""))
		if a := agentState(t, r, "1001"); a.State != routing.AgentNotReady || a.Reason != routing.ReasonNoAnswer {
			t.Fatalf("agent %+v, want not_ready no_answer", a)
		}
		noEvent(t, tk)
		must(t, r.SetAgentState(ctx, "1002", routing.AgentReady, ""))
		o2 := offerTo(t, tk, "1002")
		if o2.Token <= o.Token {
			t.Fatalf("tokens %d then %d", o.Token, o2.Token)
		}
		if err := r.Answered(ctx, o); !errors.Is(err, routing.ErrStaleOffer) {
			t.Fatalf("Answered with the first offer: %v", err)
		}
	})
}

func TestLeave(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRouter(t, testConfig())
		ctx := t.Context()
		must(t, r.SetAgentState(ctx, "1002", routing.AgentReady, ""))
		idle := agentState(t, r, "1002").IdleSince
		tk := enqueue(t, r, routing.CallRequest{CallID: "c1", Queue: "billing"})
		o := offerTo(t, tk, "1002")
		time.Sleep(5 * time.Second)
		must(t, r.Leave(ctx, "c1"))
		closed(t, tk)
		if a := agentState(t, r, "1002"); a.State != routing.AgentReady || !a.IdleSince.Equal(idle) {
			t.Fatalf("agent %+v, want ready idle since %v", a, idle)
		}
		err := r.Answered(ctx, o)
		if !errors.Is(err, routing.ErrStaleOffer) || !errors.Is(err, routing.ErrUnknownCall) {
			t.Fatalf("Answered after Leave: %v", err)
		}
		if err := r.Leave(ctx, "c1"); !errors.Is(err, routing.ErrUnknownCall) {
			t.Fatalf("second Leave: %v", err)
		}
	})
}

func TestWrapUpTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRouter(t, testConfig())
		ctx := t.Context()
		must(t, r.SetAgentState(ctx, "1001", routing.AgentReady, ""))
		t1 := enqueue(t, r, routing.CallRequest{CallID: "c1", Queue: "complaints"})
		o := offerTo(t, t1, "1001")
		must(t, r.Answered(ctx, o))
		t2 := enqueue(t, r, routing.CallRequest{CallID: "c2", Queue: "complaints"})
		time.Sleep(10 * time.Second)
		must(t, r.Finished(ctx, o))
		if a := agentState(t, r, "1001"); a.State != routing.AgentWrapUp || !a.WrapUntil.Equal(time.Now().Add(30*time.Second)) {
			t.Fatalf("agent %+v, want wrap_up for 30s", a)
		}
		if err := r.SetAgentState(ctx, "1001", routing.AgentReady, ""); !errors.Is(err, routing.ErrAgentBusy) {
			t.Fatalf("ready during wrap-up: %v", err)
		}
		time.Sleep(30*time.Second - time.Millisecond)
		synctest.Wait()
		noEvent(t, t2)
		time.Sleep(time.Millisecond)
		synctest.Wait()
		offerTo(t, t2, "1001")
	})
}

func TestMaxWaitOverflow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRouter(t, testConfig())
		ctx := t.Context()
		must(t, r.SetAgentState(ctx, "1001", routing.AgentNotReady, "meeting"))
		start := time.Now()
		tk := enqueue(t, r, routing.CallRequest{CallID: "c1", Queue: "complaints"})
		time.Sleep(59 * time.Second)
		synctest.Wait()
		noEvent(t, tk)
		time.Sleep(time.Second)
		synctest.Wait()
		e := event(t, tk)
		if e.Kind != routing.EventOverflow || e.Offer.CallID != "c1" || e.Offer.Queue != "complaints" || !e.Offer.At.Equal(start.Add(time.Minute)) {
			t.Fatalf("event %+v, want overflow of c1 at +60s", e)
		}
		closed(t, tk)
		calls, err := r.Calls(ctx)
		must(t, err)
		if len(calls) != 0 {
			t.Fatalf("calls left: %+v", calls)
		}
	})
}

func TestPreferWaitExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRouter(t, testConfig())
		ctx := t.Context()
		must(t, r.SetAgentState(ctx, "1001", routing.AgentNotReady, "with a customer"))
		must(t, r.SetAgentState(ctx, "1002", routing.AgentReady, ""))
		tk := enqueue(t, r, routing.CallRequest{CallID: "c1", Queue: "billing", Tier: "vip", PreferredAgent: "1001", PreferWait: 20 * time.Second})
		time.Sleep(19 * time.Second)
		synctest.Wait()
		noEvent(t, tk)
		time.Sleep(time.Second)
		synctest.Wait()
		offerTo(t, tk, "1002")

		// The account manager, when ready, gets the call at once even
		// though 1001 would win anyway on level; an unknown preferred agent
		// is ignored.
		tk2 := enqueue(t, r, routing.CallRequest{CallID: "c2", Queue: "billing", PreferredAgent: "9999", PreferWait: time.Hour})
		noEvent(t, tk2)
		must(t, r.SetAgentState(ctx, "1001", routing.AgentReady, ""))
		offerTo(t, tk2, "1001")
	})
}

// TestOrderWithInjectedClock drives the router with a manual clock and the
// Tick hook, no timers involved.
func TestOrderWithInjectedClock(t *testing.T) {
	clock := &manualClock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	cfg := testConfig()
	cfg.Now = clock.Now
	r := newRouter(t, cfg)
	ctx := t.Context()
	must(t, r.SetAgentState(ctx, "1002", routing.AgentNotReady, ""))

	tickets := map[string]*routing.Ticket{}
	for _, c := range []struct {
		id, tier string
		after    time.Duration
	}{
		{"plain", "one_star", 0},
		{"vip", "vip", 10 * time.Second},         // key −110s
		{"unknown", "platinum", 5 * time.Second}, // treated as default: key 15s
		{"fourstar", "four_star", 70 * time.Second},
		{"late", "", 1 * time.Second}, // key 86s, fourstar's is 25s
	} {
		clock.Add(c.after)
		tickets[c.id] = enqueue(t, r, routing.CallRequest{CallID: c.id, Queue: "billing", Tier: c.tier})
	}
	qs, err := r.Queues(ctx)
	must(t, err)
	var order []string
	for _, c := range qs[0].Calls {
		order = append(order, fmt.Sprintf("%d:%s/%s", c.Position, c.CallID, c.Tier))
	}
	if got, want := strings.Join(order, " "), "1:vip/vip 2:plain/one_star 3:unknown/default 4:fourstar/four_star 5:late/default"; got != want {
		t.Fatalf("queue order %s, want %s", got, want)
	}
	must(t, r.SetAgentState(ctx, "1002", routing.AgentReady, ""))
	for _, id := range []string{"vip", "plain", "unknown", "fourstar", "late"} {
		o := offerTo(t, tickets[id], "1002")
		clock.Add(time.Second)
		must(t, r.Answered(ctx, o))
		must(t, r.Finished(ctx, o))
	}
}

// TestTickAppliesTimedTransitions: with an injected clock, Tick is the hook
// that applies what the timer would.
func TestTickAppliesTimedTransitions(t *testing.T) {
	clock := &manualClock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	cfg := testConfig()
	cfg.Now = clock.Now
	r := newRouter(t, cfg)
	ctx := t.Context()
	must(t, r.SetAgentState(ctx, "1001", routing.AgentNotReady, ""))
	tk := enqueue(t, r, routing.CallRequest{CallID: "c1", Queue: "complaints"})
	clock.Add(time.Minute)
	must(t, r.Tick(ctx))
	if e := event(t, tk); e.Kind != routing.EventOverflow {
		t.Fatalf("event %+v, want overflow", e)
	}
}

type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *manualClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func TestSetAgentStateRules(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRouter(t, testConfig())
		ctx := t.Context()
		if err := r.SetAgentState(ctx, "nobody", routing.AgentReady, ""); !errors.Is(err, routing.ErrUnknownAgent) {
			t.Fatalf("unknown agent: %v", err)
		}
		if err := r.SetAgentState(ctx, "1001", routing.AgentTalking, ""); !errors.Is(err, routing.ErrInvalidState) {
			t.Fatalf("talking: %v", err)
		}
		must(t, r.SetAgentState(ctx, "1001", routing.AgentReady, ""))
		tk := enqueue(t, r, routing.CallRequest{CallID: "c1", Queue: "complaints"})
		o := offerTo(t, tk, "1001")
		must(t, r.Answered(ctx, o))
		if err := r.SetAgentState(ctx, "1001", routing.AgentReady, ""); !errors.Is(err, routing.ErrAgentBusy) {
			t.Fatalf("ready while talking: %v", err)
		}
		must(t, r.SetAgentState(ctx, "1001", routing.AgentLoggedOut, ""))
		if a := agentState(t, r, "1001"); a.State != routing.AgentTalking || a.Pending != routing.AgentLoggedOut {
			t.Fatalf("agent %+v, want talking with logout pending", a)
		}
		must(t, r.Finished(ctx, o))
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if a := agentState(t, r, "1001"); a.State != routing.AgentLoggedOut {
			t.Fatalf("agent %+v after wrap-up, want logged_out", a)
		}
	})
}

func TestStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRouter(t, testConfig())
		ctx := t.Context()
		must(t, r.SetAgentState(ctx, "1001", routing.AgentNotReady, "training"))
		must(t, r.SetAgentState(ctx, "1002", routing.AgentReady, ""))
		t1 := enqueue(t, r, routing.CallRequest{CallID: "c1", Caller: "13800000001", Queue: "billing"})
		time.Sleep(10 * time.Second)
		enqueue(t, r, routing.CallRequest{CallID: "c2", Caller: "13800000005", Queue: "billing", Tier: "vip"})
		time.Sleep(5 * time.Second)
		offerTo(t, t1, "1002")

		qs, err := r.Queues(ctx)
		must(t, err)
		if len(qs) != 2 || qs[0].Name != "billing" || qs[1].Name != "complaints" {
			t.Fatalf("queues %+v", qs)
		}
		b := qs[0]
		if b.Waiting != 2 || b.LongestWaitSeconds != 15 || len(b.Calls) != 2 ||
			b.Calls[0].CallID != "c2" || b.Calls[0].State != routing.CallQueued || b.Calls[0].WaitSeconds != 5 ||
			b.Calls[1].CallID != "c1" || b.Calls[1].State != routing.CallOffered || b.Calls[1].AgentID != "1002" {
			t.Fatalf("billing status %+v", b)
		}
		if b.Agents[routing.AgentOffered] != 1 || b.Agents[routing.AgentNotReady] != 1 || qs[1].Agents[routing.AgentNotReady] != 1 {
			t.Fatalf("agents by state %v / %v", b.Agents, qs[1].Agents)
		}
		agents, err := r.Agents(ctx)
		must(t, err)
		if len(agents) != 2 || agents[0].ID != "1001" || agents[0].Reason != "training" || agents[1].CallID != "c1" || agents[1].Queue != "billing" {
			t.Fatalf("agents %+v", agents)
		}
		calls, err := r.Calls(ctx)
		must(t, err)
		if len(calls) != 2 || calls[0].CallID != "c2" || calls[0].Tier != "vip" || calls[1].Token == 0 {
			t.Fatalf("calls %+v", calls)
		}
		for _, v := range []any{qs, agents, calls} {
			if _, err := json.Marshal(v); err != nil {
				t.Fatal(err)
			}
		}
		out, _ := json.Marshal(qs[0].Agents)
		if !strings.Contains(string(out), `"offered":1`) {
			t.Fatalf("agents by state JSON %s", out)
		}
	})
}

// countingStore counts Match calls.
type countingStore struct {
	routing.Store
	mu      sync.Mutex
	matches int
}

func (s *countingStore) Match(ctx context.Context, now time.Time) (routing.MatchResult, error) {
	s.mu.Lock()
	s.matches++
	s.mu.Unlock()
	return s.Store.Match(ctx, now)
}

func (s *countingStore) count() int { s.mu.Lock(); defer s.mu.Unlock(); return s.matches }

func TestCloseStopsTimers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &countingStore{Store: memstore.New()}
		r, err := routing.NewRouter(testConfig(), store)
		must(t, err)
		ctx := t.Context()
		must(t, r.SetAgentState(ctx, "1001", routing.AgentNotReady, ""))
		tk := enqueue(t, r, routing.CallRequest{CallID: "c1", Queue: "complaints"}) // overflow timer at +60s
		must(t, r.Close())
		must(t, r.Close())
		closed(t, tk)
		n := store.count()
		time.Sleep(time.Hour)
		synctest.Wait()
		if store.count() != n {
			t.Fatalf("Match ran %d times after Close", store.count()-n)
		}
		for name, err := range map[string]error{
			"Enqueue": func() error {
				_, err := r.Enqueue(ctx, routing.CallRequest{CallID: "c2", Queue: "billing"})
				return err
			}(),
			"Leave":    r.Leave(ctx, "c1"),
			"SetState": r.SetAgentState(ctx, "1001", routing.AgentReady, ""),
			"Tick":     r.Tick(ctx),
		} {
			if !errors.Is(err, routing.ErrClosed) {
				t.Errorf("%s after Close: %v, want ErrClosed", name, err)
			}
		}
	})
}

// TestConcurrentCalls runs many callers and agents through the router at
// once (for the race detector) and checks every call is served exactly once.
func TestConcurrentCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Queues[1].MaxWait = 0
		for i := range 8 {
			cfg.Agents = append(cfg.Agents, routing.AgentConfig{ID: fmt.Sprint("20", i), Skills: map[string]int{"billing": 1 + i%5, "complaints": 2}})
		}
		cfg.Logger = slog.New(slog.DiscardHandler)
		r := newRouter(t, cfg)
		ctx := t.Context()
		for _, a := range cfg.Agents {
			must(t, r.SetAgentState(ctx, a.ID, routing.AgentReady, ""))
		}
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			served = map[string]string{}
		)
		for i := range 60 {
			wg.Go(func() {
				id := fmt.Sprint("c", i)
				q := []string{"billing", "complaints"}[i%2]
				tk, err := r.Enqueue(ctx, routing.CallRequest{CallID: id, Queue: q, Tier: []string{"vip", "one_star", ""}[i%3]})
				if err != nil {
					t.Error(err)
					return
				}
				for e := range tk.Events() {
					o := e.Offer
					time.Sleep(time.Duration(i%4) * time.Second)
					if i%7 == 0 && e.Offer.Token%2 == 0 { // some agents miss it
						if err := r.NoAnswer(ctx, o, ""); err != nil {
							t.Error(err)
						}
						if err := r.SetAgentState(ctx, o.AgentID, routing.AgentReady, ""); err != nil {
							t.Error(err)
						}
						continue
					}
					if err := r.Answered(ctx, o); err != nil {
						t.Error(err)
					}
					time.Sleep(time.Minute)
					mu.Lock()
					served[id] = o.AgentID
					mu.Unlock()
					if err := r.Finished(ctx, o); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		if len(served) != 60 {
			t.Fatalf("%d calls served, want 60", len(served))
		}
		calls, err := r.Calls(ctx)
		must(t, err)
		if len(calls) != 0 {
			t.Fatalf("calls left: %+v", calls)
		}
	})
}

// TestQueuePreferWait: a request without its own PreferWait uses the queue's;
// a negative one means no wait.
func TestQueuePreferWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Queues[0].PreferWait = 20 * time.Second
		r := newRouter(t, cfg)
		ctx := t.Context()
		must(t, r.SetAgentState(ctx, "1001", routing.AgentNotReady, "with a customer"))
		must(t, r.SetAgentState(ctx, "1002", routing.AgentReady, ""))
		noWait := enqueue(t, r, routing.CallRequest{CallID: "c0", Queue: "billing", PreferredAgent: "1001", PreferWait: -1})
		offerTo(t, noWait, "1002")
		must(t, r.Leave(ctx, "c0"))

		tk := enqueue(t, r, routing.CallRequest{CallID: "c1", Queue: "billing", PreferredAgent: "1001"})
		time.Sleep(19 * time.Second)
		synctest.Wait()
		noEvent(t, tk)
		time.Sleep(time.Second)
		synctest.Wait()
		offerTo(t, tk, "1002")
	})
}
