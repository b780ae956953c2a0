package routing_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"kefu/routing"
	"kefu/routing/memstore"
)

func TestMissRules(t *testing.T) {
	tests := []struct {
		reason string
		delay  time.Duration
	}{
		{"", 10 * time.Second},
		{routing.ReasonNoAnswer, 10 * time.Second},
		{routing.ReasonBusy, 3 * time.Second},
		{routing.ReasonRejected, 2 * time.Second},
		{"not_registered", 7 * time.Second},
	}
	for _, tt := range tests {
		t.Run("reason="+tt.reason, func(t *testing.T) {
			clock := &manualClock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
			cfg := testConfig()
			cfg.Now = clock.Now
			cfg.Misses = routing.MissRules{Busy: 3 * time.Second, Rejected: 2 * time.Second, Other: 7 * time.Second}
			r := newRouter(t, cfg)
			ctx := t.Context()
			must(t, r.SetAgentState(ctx, "1001", routing.AgentReady, ""))
			tk := enqueue(t, r, routing.CallRequest{CallID: "c1", Queue: "billing"})
			o := offerTo(t, tk, "1001")
			must(t, r.NoAnswer(ctx, o, tt.reason))
			a := agentState(t, r, "1001")
			want := tt.reason
			if want == "" {
				want = routing.ReasonNoAnswer
			}
			if a.State != routing.AgentNotReady || a.Reason != want || !a.WrapUntil.Equal(clock.Now().Add(tt.delay)) {
				t.Fatalf("after a %q miss: %s (%q) until %v; want not_ready (%q) for %v", tt.reason, a.State, a.Reason, a.WrapUntil, want, tt.delay)
			}
			noEvent(t, tk) // not offered again at once to the agent who missed it
			clock.Add(tt.delay)
			must(t, r.Tick(ctx))
			offerTo(t, tk, "1001")
		})
	}
}

func TestNotRespondingAfterMissesInRow(t *testing.T) {
	clock := &manualClock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	cfg := testConfig()
	cfg.Now = clock.Now
	cfg.Misses = routing.MissRules{NoAnswer: time.Second, MaxInRow: 2}
	r := newRouter(t, cfg)
	ctx := t.Context()
	must(t, r.SetAgentState(ctx, "1002", routing.AgentReady, ""))
	tk := enqueue(t, r, routing.CallRequest{CallID: "c1", Queue: "billing"})
	must(t, r.NoAnswer(ctx, offerTo(t, tk, "1002"), ""))
	clock.Add(time.Second)
	must(t, r.Tick(ctx))
	must(t, r.NoAnswer(ctx, offerTo(t, tk, "1002"), ""))
	if a := agentState(t, r, "1002"); a.State != routing.AgentNotReady || a.Reason != routing.ReasonNotResponding {
		t.Fatalf("after 2 misses in a row: %s (%q), want not_ready (not_responding)", a.State, a.Reason)
	}
	clock.Add(time.Hour)
	must(t, r.Tick(ctx))
	noEvent(t, tk)
	must(t, r.SetAgentState(ctx, "1002", routing.AgentReady, ""))
	o := offerTo(t, tk, "1002")
	must(t, r.Answered(ctx, o))
	if a := agentState(t, r, "1002"); a.Misses != 0 {
		t.Fatalf("misses after an answer: %d", a.Misses)
	}
}

func TestQueueLimits(t *testing.T) {
	cfg := testConfig()
	cfg.Queues[0].MaxQueued = 1
	cfg.Queues[1].JoinEmpty = true
	cfg.Queues[1].LeaveWhenEmpty = true
	r := newRouter(t, cfg)
	ctx := t.Context()
	// complaints joins with nobody logged in; billing does not.
	tkc := enqueue(t, r, routing.CallRequest{CallID: "k1", Queue: "complaints"})
	if _, err := r.Enqueue(ctx, routing.CallRequest{CallID: "b0", Queue: "billing"}); !errors.Is(err, routing.ErrNoAgents) {
		t.Fatalf("billing with nobody logged in: %v, want ErrNoAgents", err)
	}
	must(t, r.SetAgentState(ctx, "1002", routing.AgentNotReady, "")) // billing only
	enqueue(t, r, routing.CallRequest{CallID: "b1", Queue: "billing"})
	if _, err := r.Enqueue(ctx, routing.CallRequest{CallID: "b2", Queue: "billing"}); !errors.Is(err, routing.ErrQueueFull) {
		t.Fatalf("second call in a queue of max 1: %v, want ErrQueueFull", err)
	}
	// 1001 (complaints) logs in and out: the complaints caller leaves.
	must(t, r.SetAgentState(ctx, "1001", routing.AgentNotReady, ""))
	noEvent(t, tkc)
	must(t, r.SetAgentState(ctx, "1001", routing.AgentLoggedOut, ""))
	e := event(t, tkc)
	if e.Kind != routing.EventOverflow || e.Reason != "empty" {
		t.Fatalf("event after the last complaints agent left: %+v, want overflow (empty)", e)
	}
	closed(t, tkc)
	calls, err := r.Calls(ctx)
	must(t, err)
	if len(calls) != 1 || calls[0].CallID != "b1" {
		t.Fatalf("calls left: %+v, want only b1 (billing does not leave when empty)", calls)
	}
}

func TestSkillStepsThroughRouter(t *testing.T) {
	clock := &manualClock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	cfg := testConfig()
	cfg.Now = clock.Now
	cfg.Queues[0].Steps = []routing.SkillStep{{MinLevel: 4}, {After: 30 * time.Second, MinLevel: 1}}
	r := newRouter(t, cfg)
	ctx := t.Context()
	must(t, r.SetAgentState(ctx, "1002", routing.AgentReady, "")) // billing 3: not enough at first
	tk := enqueue(t, r, routing.CallRequest{CallID: "c1", Queue: "billing"})
	noEvent(t, tk)
	clock.Add(29 * time.Second)
	must(t, r.Tick(ctx))
	noEvent(t, tk)
	clock.Add(time.Second)
	must(t, r.Tick(ctx))
	offerTo(t, tk, "1002")
}

// flakyStore fails Finish with a connection error while down is set.
type flakyStore struct {
	routing.Store
	mu   sync.Mutex
	down bool
}

var errUnreachable = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")

func (s *flakyStore) Finish(ctx context.Context, o routing.Offer, now time.Time) (routing.Call, error) {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		return routing.Call{}, errUnreachable
	}
	return s.Store.Finish(ctx, o, now)
}

func (s *flakyStore) setDown(v bool) { s.mu.Lock(); s.down = v; s.mu.Unlock() }

func TestFinishRetriedAfterOutage(t *testing.T) {
	store := &flakyStore{Store: memstore.New()}
	cfg := testConfig()
	cfg.Node, cfg.NodeTTL = "n1", 40*time.Millisecond
	r, err := routing.NewRouter(cfg, store)
	must(t, err)
	t.Cleanup(func() { r.Close() })
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() { cancel(); <-done }()

	must(t, r.SetAgentState(ctx, "1002", routing.AgentReady, ""))
	tk := enqueue(t, r, routing.CallRequest{CallID: "c1", Queue: "billing"})
	o := offerTo(t, tk, "1002")
	must(t, r.Answered(ctx, o))
	store.setDown(true)
	if err := r.Finished(ctx, o); !errors.Is(err, errUnreachable) {
		t.Fatalf("Finished while the store is down: %v", err)
	}
	if a := agentState(t, r, "1002"); a.State != routing.AgentTalking {
		t.Fatalf("agent %s while the finish is pending", a.State)
	}
	store.setDown(false)
	deadline := time.Now().Add(10 * time.Second)
	for agentState(t, r, "1002").State != routing.AgentReady {
		if time.Now().After(deadline) {
			t.Fatal("the failed Finish was not retried: agent still talking")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestNodesShareEmbeddedStore runs two routers on one store with a LocalBus:
// an offer made by one node reaches the other's ticket, and a node whose
// heartbeat lapses is recovered by the other.
func TestNodesShareEmbeddedStore(t *testing.T) {
	clock := &manualClock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	store := memstore.New()
	bus := &routing.LocalBus{}
	newNode := func(name string) (*routing.Router, context.CancelFunc) {
		cfg := testConfig()
		cfg.Now, cfg.Node, cfg.Bus, cfg.NodeTTL = clock.Now, name, bus, time.Hour
		r, err := routing.NewRouter(cfg, store)
		must(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { r.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done; r.Close() })
		return r, cancel
	}
	n1, kill1 := newNode("n1")
	n2, _ := newNode("n2")
	ctx := t.Context()
	// Wait for both nodes to subscribe to the bus.
	deadline := time.Now().Add(10 * time.Second)
	for bus.Subscribers("n1") == 0 || bus.Subscribers("n2") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("nodes did not subscribe to the bus")
		}
		time.Sleep(time.Millisecond)
	}
	must(t, n2.SetAgentState(ctx, "1002", routing.AgentNotReady, ""))
	tk := enqueue(t, n1, routing.CallRequest{CallID: "c1", Queue: "billing"})
	// The agent goes ready through n2: n2's matching pass makes the offer,
	// which must travel to n1, the node holding the call.
	must(t, n2.SetAgentState(ctx, "1002", routing.AgentReady, ""))
	var o routing.Offer
	select {
	case e := <-tk.Events():
		o = e.Offer
		if e.Kind != routing.EventOffer || o.AgentID != "1002" {
			t.Fatalf("event %+v, want an offer to 1002", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the offer made on n2 never reached n1's ticket")
	}
	if o.Node != "n1" {
		t.Fatalf("offer node %q, want n1", o.Node)
	}
	must(t, n1.Answered(ctx, o))

	// n1 dies (no cleanup); once its heartbeat lapses, n2 recovers it.
	kill1()
	clock.Add(2 * time.Hour)
	must(t, n2.Tick(ctx))
	if a := agentState(t, n2, "1002"); a.State != routing.AgentNotReady || a.Reason != routing.ReasonNodeLost {
		t.Fatalf("agent talking on the lost node: %s (%q), want not_ready (node_lost)", a.State, a.Reason)
	}
	calls, err := n2.Calls(ctx)
	must(t, err)
	if len(calls) != 0 {
		t.Fatalf("calls of the lost node remain: %+v", calls)
	}
}

// flakyBus fails its first subscriptions, as a bus whose Redis is still
// starting does.
type flakyBus struct {
	*routing.LocalBus
	mu    sync.Mutex
	fails int
}

func (b *flakyBus) Subscribe(ctx context.Context, node string) (<-chan routing.Event, error) {
	b.mu.Lock()
	fail := b.fails > 0
	b.fails--
	b.mu.Unlock()
	if fail {
		return nil, errors.New("dial tcp: connection refused")
	}
	return b.LocalBus.Subscribe(ctx, node)
}

// TestRunSubscribesLater: a bus unreachable when the node starts does not
// stop Run; it subscribes at a later beat.
func TestRunSubscribesLater(t *testing.T) {
	bus := &flakyBus{LocalBus: &routing.LocalBus{}, fails: 3}
	cfg := testConfig()
	cfg.Node, cfg.NodeTTL, cfg.Bus = "n1", 40*time.Millisecond, bus
	r, err := routing.NewRouter(cfg, memstore.New())
	must(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- r.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for bus.Subscribers("n1") == 0 {
		select {
		case err := <-ran:
			t.Fatalf("Run ended with %v while the bus was unreachable", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the node never subscribed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-ran; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run ended with %v, want its cancellation", err)
	}
	r.Close()
}
