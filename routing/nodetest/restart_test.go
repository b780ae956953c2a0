package nodetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"kefu/routing"
)

// TestRedisRestart restarts Redis under two routers (NodeTTL 5s) holding
// three calls talking and three queued: redis-server gets SIGTERM, exits,
// and is started again on the same port and directory (the outage lasts
// well under a second). It asserts that the talking calls' Tickets are not
// closed, that the routers reconnect by themselves (go-redis redials; Run's
// heartbeat picks up again), that the store still has the talking calls
// and the queued ones, in their order, that Finished on each talking call
// succeeds (or is retried by Run) and its agent takes the next queued call
// in line, which is offered on the Ticket of the node that queued it, and
// that a new call routes.
//
// What a restart keeps, and why:
//   - With appendonly yes and appendfsync always (as here) Redis writes and
//     fsyncs every write before it replies, and loads the file when it
//     starts: every acknowledged store operation survives — calls, their
//     order (key and seq), offers and tokens, agent states and node
//     heartbeats. A shutdown by SIGTERM or a crash keeps the same.
//   - Pub/sub is not stored: an offer published on the bus while the
//     receiving node was disconnected or not yet subscribed again is lost.
//     The offer's lease (the queue's RingTimeout + LeaseGrace) recovers it:
//     when it passes, a matching pass withdraws the offer, the call goes
//     back in line in its place, and it is offered again. This test uses a
//     2s RingTimeout so a lost message costs at most 7s.
//   - The script cache is not stored: the store's first EVALSHA after the
//     restart gets NOSCRIPT and go-redis sends the script with EVAL.
//   - An outage longer than NodeTTL makes the nodes lose each other: the
//     first node back recovers the others as crashed (their calls go).
//   - Without persistence (or with a lost disk) a restart loses everything:
//     queued calls and the calls in progress are gone from the store (their
//     Finished then fails with ErrStaleOffer, and their Tickets wait for
//     nothing), and the agents are unknown. Run is meant to register them
//     again, logged_out, at its first beat after the outage, so they must
//     log in again; but it does so only when one of its heartbeats failed,
//     and a restart shorter than a beat (NodeTTL/4), or one absorbed by
//     go-redis's dial retries (about 3s), makes none fail: the agents then
//     stay unknown (ErrUnknownAgent) until the node restarts.
func TestRedisRestart(t *testing.T) {
	srv := startRedis(t, true)
	var agents []routing.AgentConfig
	for i := range 3 {
		agents = append(agents, routing.AgentConfig{ID: fmt.Sprintf("a%d", i+1), Skills: map[string]int{"support": 3}})
	}
	cfg := routing.Config{Queues: []routing.QueueConfig{{Name: "support", Skill: "support", RingTimeout: 2 * time.Second}},
		Agents: agents, Misses: fastMisses, NodeTTL: 5 * time.Second}
	var nodes []*node
	for _, id := range []string{"n1", "n2"} {
		c := cfg
		c.Node = id
		nodes = append(nodes, startNode(t, srv, "restart", c))
	}
	n1, n2 := nodes[0], nodes[1]
	loginAll(t, nodes, agents)
	ctx := t.Context()

	// Three calls talking (t1 on n1, t2 on n2, t3 on n1), then three queued
	// (q1 on n2, q2 on n1, q3 on n2): each queued call is owned by the node
	// that will not free its agent, so its offer crosses nodes.
	type call struct {
		id     string
		n      *node
		ticket *routing.Ticket
		offer  routing.Offer
	}
	enqueue := func(id string, n *node) *call {
		tk, err := n.router.Enqueue(ctx, routing.CallRequest{CallID: id, Queue: "support"})
		if err != nil {
			t.Fatal(err)
		}
		return &call{id: id, n: n, ticket: tk}
	}
	answer := func(c *call) {
		c.offer = waitOffer(t, c.ticket)
		if err := c.n.router.Answered(ctx, c.offer); err != nil {
			t.Fatalf("answered %s: %v", c.id, err)
		}
	}
	talking := []*call{enqueue("t1", n1), enqueue("t2", n2), enqueue("t3", n1)}
	for _, c := range talking {
		answer(c)
	}
	queued := []*call{enqueue("q1", n2), enqueue("q2", n1), enqueue("q3", n2)}
	wantOrder := []string{"t1", "t2", "t3", "q1", "q2", "q3"}
	checkCalls := func(when string) {
		t.Helper()
		calls, err := n1.store.Calls(ctx)
		if err != nil {
			t.Fatalf("%s: Calls: %v", when, err)
		}
		var order []string
		for _, c := range calls {
			order = append(order, c.ID)
			want := routing.CallQueued
			if c.ID[0] == 't' {
				want = routing.CallTalking
			}
			if c.State != want {
				t.Errorf("%s: call %s is %s, want %s", when, c.ID, c.State, want)
			}
		}
		if !slices.Equal(order, wantOrder) {
			t.Errorf("%s: calls %v, want %v", when, order, wantOrder)
		}
	}
	checkCalls("before the restart")
	publishedBefore := n1.bus.published.Load() + n2.bus.published.Load()
	receivedBefore := n1.bus.received.Load() + n2.bus.received.Load()

	stopAt := time.Now()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("starting redis-server again: %v", err)
	}
	t.Logf("redis-server stopped and started again in %v", time.Since(stopAt).Round(time.Millisecond))

	for _, c := range talking {
		select {
		case e, ok := <-c.ticket.Events():
			if !ok {
				t.Errorf("call %s: Ticket closed by the restart", c.id)
			} else {
				t.Errorf("call %s: %s event during the restart", c.id, e.Kind)
			}
		default:
		}
	}
	// Both nodes' clients reconnect by themselves.
	for _, n := range nodes {
		err := poll(time.Now().Add(30*time.Second), func() error {
			_, err := n.store.Agents(ctx)
			return err
		})
		if err != nil {
			t.Fatalf("node %s does not reach Redis again: %v", n.id, err)
		}
	}
	t.Logf("both nodes reach Redis again %v after the stop", time.Since(stopAt).Round(time.Millisecond))
	checkCalls("after the restart")

	// Each talking call finishes; its agent takes the next queued call.
	for i, c := range talking {
		if err := c.n.router.Finished(ctx, c.offer); err != nil {
			t.Logf("finished %s after the restart: %v (Run retries a store failure)", c.id, err)
		}
		q := queued[i]
		o := waitOfferWithin(t, q.ticket, 30*time.Second) // a lost bus message costs a lease (7s)
		if o.AgentID != c.offer.AgentID {
			t.Errorf("call %s offered to %s, want %s, whose call %s just ended", q.id, o.AgentID, c.offer.AgentID, c.id)
		}
		if o.Node != q.n.id {
			t.Errorf("call %s offered with node %q, want %s", q.id, o.Node, q.n.id)
		}
		select {
		case _, ok := <-c.ticket.Events():
			if ok {
				t.Errorf("call %s: event after Finished", c.id)
			}
		default:
			t.Errorf("call %s: Ticket still open after Finished", c.id)
		}
		q.offer = o
		if err := q.n.router.Answered(ctx, o); err != nil {
			t.Fatalf("answered %s: %v", q.id, err)
		}
	}
	t.Logf("offers published on the bus after the restart %d, received %d",
		n1.bus.published.Load()+n2.bus.published.Load()-publishedBefore, n1.bus.received.Load()+n2.bus.received.Load()-receivedBefore)

	// A new call routes, on each node.
	for _, c := range queued {
		if err := c.n.router.Finished(ctx, c.offer); err != nil {
			t.Errorf("finished %s: %v", c.id, err)
		}
	}
	for i, n := range nodes {
		c := enqueue(fmt.Sprintf("new%d", i), n)
		answer(c)
		if err := n.router.Finished(ctx, c.offer); err != nil {
			t.Errorf("finished %s: %v", c.id, err)
		}
	}
	checkSettled(t, n1.store)
	agentsNow, err := n1.store.Agents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range agentsNow {
		if a.State != routing.AgentReady {
			t.Errorf("agent %s is %s (%q), want ready", a.ID, a.State, a.Reason)
		}
	}
	for _, n := range nodes {
		if err := n.running(); err != nil {
			t.Error(err)
		}
	}
}

// waitOfferWithin waits up to d for the next event on t and fails unless it
// is an offer.
func waitOfferWithin(tb testing.TB, t *routing.Ticket, d time.Duration) routing.Offer {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	select {
	case e, ok := <-t.Events():
		if !ok {
			tb.Fatalf("call %s: ticket closed while waiting for an offer", t.CallID())
		}
		if e.Kind != routing.EventOffer {
			tb.Fatalf("call %s: %s event while waiting for an offer", t.CallID(), e.Kind)
		}
		return e.Offer
	case <-ctx.Done():
		tb.Fatalf("call %s: no offer within %v", t.CallID(), d)
	}
	return routing.Offer{}
}
