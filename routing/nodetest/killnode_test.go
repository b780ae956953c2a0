package nodetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kefu/routing"
)

// lostLog keeps the queue events about calls closed because their node was
// lost.
type lostLog struct {
	mu     sync.Mutex
	events []routing.QueueEvent
}

func (l *lostLog) Append(_ context.Context, e routing.QueueEvent) error {
	if e.Reason == routing.ReasonNodeLost {
		l.mu.Lock()
		l.events = append(l.events, e)
		l.mu.Unlock()
	}
	return nil
}

func (l *lostLog) list() []routing.QueueEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// waitOffer waits up to 10s for the next event on t and fails unless it is
// an offer.
func waitOffer(tb testing.TB, t *routing.Ticket) routing.Offer {
	tb.Helper()
	return waitOfferWithin(tb, t, 10*time.Second)
}

// TestKillNode crashes node n2 of three (NodeTTL 1s) in the middle of
// traffic on all three: its Run is cancelled and its Redis connections
// closed, without Close or any other cleanup, while it holds two sales
// calls talking, two ringing agents and two queued, besides whatever its
// random callers had going. It asserts that, within 10×NodeTTL (the time
// taken is logged):
//   - the other nodes recover it: no call of n2 is left in the store, and
//     each was reported lost exactly once in n1's and n3's event logs;
//   - every agent that was talking on an n2 call is not_ready with reason
//     node_lost (routing.ReasonNodeLost, the default LostAgentState);
//   - the agents that were ringing for n2's calls are ready again, none
//     stays offered or talking for n2, and no agent was ever offered two
//     calls at once;
//   - traffic on n1 and n3 goes on and completes: the node_lost agents log
//     in again and take sales calls from n1 and n3, every call of n1 and n3
//     ends, and the store ends empty.
func TestKillNode(t *testing.T) {
	const ttl = time.Second
	s := seed(t)
	rng := rand.New(rand.NewPCG(s, 1))
	srv := startRedis(t, true)
	general := randomAgents(rng, "g", 24, []string{"support", "billing"})
	var sales []routing.AgentConfig
	for i := range 4 {
		sales = append(sales, routing.AgentConfig{ID: fmt.Sprintf("s%d", i+1), Skills: map[string]int{"sales": 3}})
	}
	queues := []routing.QueueConfig{
		{Name: "support", Skill: "support", RingTimeout: 10 * time.Second},
		{Name: "billing", Skill: "billing", RingTimeout: 10 * time.Second},
		// n2's sales agents ring until n2 is recovered: their offers'
		// lease (RingTimeout + LeaseGrace) must not lapse first.
		{Name: "sales", Skill: "sales", RingTimeout: 30 * time.Second},
	}
	lost := &lostLog{}
	cfg := routing.Config{Queues: queues, Agents: append(slices.Clone(general), sales...), Tiers: testTiers,
		Misses: fastMisses, NodeTTL: ttl}
	var nodes []*node
	for _, id := range []string{"n1", "n2", "n3"} {
		c := cfg
		c.Node = id
		if id != "n2" {
			c.Events = lost
		}
		nodes = append(nodes, startNode(t, srv, "kill", c))
	}
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	loginAll(t, nodes, cfg.Agents)

	// Random traffic on support and billing, 8 callers per node, until
	// stopTraffic; n2's callers stop dead when it crashes.
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	tr, st, bad := newTracker(), &callStats{}, &problems{}
	stopTraffic, crashed := make(chan struct{}), make(chan struct{})
	var live, dying sync.WaitGroup
	startCallers := func(wg *sync.WaitGroup, n *node, k int, queues []string, crash <-chan struct{}, calls int) {
		c := &caller{n: n, rng: rand.New(rand.NewPCG(s, uint64(k)+2)), queues: queues, tr: tr, st: st, bad: bad, crashed: crash}
		wg.Go(func() {
			for i := 0; calls == 0 || i < calls; i++ {
				select {
				case <-stopTraffic:
					if calls == 0 {
						return
					}
				default:
				}
				if err := c.call(ctx, fmt.Sprintf("%s-%d-%d", n.id, k, i)); errors.Is(err, errCrashed) {
					return
				}
			}
		})
	}
	for k := range 24 {
		n := nodes[k%3]
		if n == n2 {
			startCallers(&dying, n, k, []string{"support", "billing"}, crashed, 0)
		} else {
			startCallers(&live, n, k, []string{"support", "billing"}, nil, 0)
		}
	}

	// n2's sales calls: two talking, two ringing, two queued.
	var talkingAgents, ringingAgents []string
	for i := range 4 {
		id := fmt.Sprintf("n2-sales-%d", i)
		tk, err := n2.router.Enqueue(ctx, routing.CallRequest{CallID: id, Queue: "sales"})
		if err != nil {
			t.Fatal(err)
		}
		o := waitOffer(t, tk)
		tr.add(o, n2.id)
		if i < 2 {
			if err := n2.router.Answered(ctx, o); err != nil {
				t.Fatal(err)
			}
			talkingAgents = append(talkingAgents, o.AgentID)
		} else {
			ringingAgents = append(ringingAgents, o.AgentID)
		}
	}
	for i := range 2 {
		// A crashed node's Tickets are simply abandoned.
		if _, err := n2.router.Enqueue(ctx, routing.CallRequest{CallID: fmt.Sprintf("n2-sales-queued-%d", i), Queue: "sales"}); err != nil {
			t.Fatal(err)
		}
	}

	// Let the traffic run a little, then crash n2.
	if err := poll(time.Now().Add(30*time.Second), func() error {
		if got := st.ended(); got < 300 {
			return fmt.Errorf("only %d calls ended", got)
		}
		return nil
	}); err != nil {
		t.Fatalf("traffic before the crash: %v", err)
	}
	close(crashed)
	dying.Wait() // n2's callers are between operations: stopped dead
	_ = n2.client.Close()
	n2.stop()
	if err := <-n2.ran; !errors.Is(err, context.Canceled) {
		t.Errorf("n2: Run ended with %v", err)
	}
	n2.ran <- context.Canceled // for the cleanup
	crashAt := time.Now()
	tr.releaseNode(n2.id, crashAt)

	calls, err := n1.store.Calls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n2Calls := map[string]routing.Call{}
	states := map[routing.CallState]int{}
	for _, c := range calls {
		if c.Node == n2.id {
			n2Calls[c.ID] = c
			states[c.State]++
		}
	}
	t.Logf("n2 crashed with %d calls in the store: %v; talking agents %v, ringing agents %v",
		len(n2Calls), states, talkingAgents, ringingAgents)
	for _, c := range calls {
		if strings.HasPrefix(c.ID, "n2-sales") && c.Node != n2.id {
			t.Errorf("call %s has node %q, want n2", c.ID, c.Node)
		}
	}
	if states[routing.CallQueued] < 2 || states[routing.CallOffered] < 2 || states[routing.CallTalking] < 2 {
		t.Fatalf("n2's calls at the crash: %v; want at least 2 queued, 2 offered, 2 talking", states)
	}

	// n1 and n3 recover n2 once its heartbeat lapses.
	err = poll(crashAt.Add(10*ttl), func() error {
		calls, err := n1.store.Calls(ctx)
		if err != nil {
			return err
		}
		for _, c := range calls {
			if c.Node == n2.id {
				return fmt.Errorf("call %s of n2 is still %s", c.ID, c.State)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("n2 not recovered within %v: %v", 10*ttl, err)
	}
	t.Logf("n2's calls gone from the store %v after the crash (NodeTTL %v)", time.Since(crashAt).Round(time.Millisecond), ttl)
	endedAtRecovery := st.ended()

	agents, err := n1.store.Agents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]routing.Agent{}
	for _, a := range agents {
		byID[a.ID] = a
		if (a.State == routing.AgentOffered || a.State == routing.AgentTalking) && strings.HasPrefix(a.CallID, "n2-") {
			t.Errorf("agent %s is still %s for n2's call %s", a.ID, a.State, a.CallID)
		}
	}
	for _, id := range talkingAgents {
		if a := byID[id]; a.State != routing.AgentNotReady || a.Reason != routing.ReasonNodeLost || a.CallID != "" {
			t.Errorf("agent %s talked on an n2 call: it is %s (%q) with call %q, want not_ready (node_lost)", id, a.State, a.Reason, a.CallID)
		}
	}
	for _, id := range ringingAgents {
		if a := byID[id]; a.State != routing.AgentReady {
			t.Errorf("agent %s rang for an n2 call: it is %s (%q), want ready", id, a.State, a.Reason)
		}
	}
	// Every call of n2 was reported lost once, by n1 or n3; its talking
	// agents are not_ready (node_lost), its ringing ones are not.
	reported := map[string]int{}
	var nodeLost []string
	for _, e := range lost.list() {
		reported[e.CallID]++
		if _, ok := n2Calls[e.CallID]; !ok {
			t.Errorf("call %s reported lost, but it was not n2's at the crash: %+v", e.CallID, e)
		}
		a := byID[e.Agent]
		switch {
		case e.Agent == "":
		case e.Event == routing.LogComplete:
			nodeLost = append(nodeLost, e.Agent)
			if a.State != routing.AgentNotReady || a.Reason != routing.ReasonNodeLost {
				t.Errorf("agent %s talked on lost call %s: it is %s (%q), want not_ready (node_lost)", e.Agent, e.CallID, a.State, a.Reason)
			}
		case a.Reason == routing.ReasonNodeLost:
			t.Errorf("agent %s rang for lost call %s: it is %s (node_lost), want it released", e.Agent, e.CallID, a.State)
		}
	}
	for id := range n2Calls {
		if reported[id] != 1 {
			t.Errorf("call %s of n2 reported lost %d times, want once", id, reported[id])
		}
	}
	for _, id := range talkingAgents {
		if !slices.Contains(nodeLost, id) {
			t.Errorf("agent %s talked on an n2 call, but no node_lost COMPLETE names it", id)
		}
	}
	t.Logf("recovery: %d calls reported lost, %d agents made not_ready (node_lost)", len(reported), len(nodeLost))

	// Traffic goes on: the node_lost agents log in again, and n1 and n3
	// queue sales calls too.
	for i, id := range nodeLost {
		if err := []*node{n1, n3}[i%2].router.SetAgentState(ctx, id, routing.AgentReady, ""); err != nil {
			t.Errorf("agent %s ready after node_lost: %v", id, err)
		}
	}
	var salesCallers sync.WaitGroup
	for k := range 4 {
		startCallers(&salesCallers, []*node{n1, n3}[k%2], 100+k, []string{"sales"}, nil, 10)
	}
	salesCallers.Wait()
	close(stopTraffic)
	live.Wait()

	bad.report(t, "call")
	if got := st.ended() - endedAtRecovery; got < 40 {
		t.Errorf("only %d calls ended on n1 and n3 after the recovery, want at least the 40 sales calls", got)
	}
	for _, p := range tr.doubleOffers() {
		t.Error(p)
	}
	checkSettled(t, n1.store)
	for _, n := range []*node{n1, n3} {
		if err := n.running(); err != nil {
			t.Error(err)
		}
	}
	t.Logf("traffic: %v", st)
}
