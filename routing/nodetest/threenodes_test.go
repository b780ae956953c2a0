package nodetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kefu/routing"
)

// totalCalls is how many calls TestThreeNodesTenThousandCalls plays.
const totalCalls = 10_000

// callerGoroutines is how many calls are in progress at once in it: more
// than the agents, so that queues build up and agents freed on one node take
// calls waiting on another.
const callerGoroutines = 60

// salesMaxWait is the sales queue's MaxWait: short, so that some calls
// overflow.
const salesMaxWait = 25 * time.Millisecond

// threeNodeQueues are three queues with distinct skills; sales overflows
// after a short wait.
func threeNodeQueues() []routing.QueueConfig {
	return []routing.QueueConfig{
		{Name: "support", Skill: "support", RingTimeout: 10 * time.Second},
		{Name: "billing", Skill: "billing", RingTimeout: 10 * time.Second},
		{Name: "sales", Skill: "sales", RingTimeout: 10 * time.Second, MaxWait: salesMaxWait},
	}
}

// TestThreeNodesTenThousandCalls routes 10,000 calls through three routers
// sharing one Redis, 60 at a time, spread over the nodes; each caller reads
// its Ticket as the SIP layer would and answers (then finishes after a few
// milliseconds), misses (no_answer, busy, rejected) or hangs up while
// ringing; some callers give up while queued, and sales calls overflow
// after 25ms. It asserts:
//   - no double offer: no agent is offered a call while the caller's side
//     still holds it for another (overlapping holds, see
//     tracker.doubleOffers), and no fencing token is delivered twice;
//   - every offer reaches the Ticket of the node that queued the call, with
//     tokens strictly increasing per call;
//   - no lost call: every call ends answered and finished, abandoned or
//     overflowed, no router or store operation fails, and at the end the
//     store holds no call and no agent is ringing or talking;
//   - the bus carried offers between nodes (their number is logged).
func TestThreeNodesTenThousandCalls(t *testing.T) {
	s := seed(t)
	rng := rand.New(rand.NewPCG(s, 1))
	srv := startRedis(t, true)
	agents := randomAgents(rng, "a", 50, []string{"support", "billing", "sales"})
	cfg := routing.Config{Queues: threeNodeQueues(), Agents: agents, Tiers: testTiers, Misses: fastMisses}
	var nodes []*node
	for _, id := range []string{"n1", "n2", "n3"} {
		c := cfg
		c.Node = id
		nodes = append(nodes, startNode(t, srv, "ten", c))
	}
	loginAll(t, nodes, agents)

	// The hard deadline: a call still going then is stuck.
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Second)
	defer cancel()
	tr, st, bad := newTracker(), &callStats{}, &problems{}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range callerGoroutines {
		c := &caller{n: nodes[w%len(nodes)], rng: rand.New(rand.NewPCG(s, uint64(w)+2)),
			queues:  []string{"support", "support", "billing", "sales"},
			maxWait: map[string]time.Duration{"sales": salesMaxWait},
			tr:      tr, st: st, bad: bad}
		wg.Go(func() {
			for i := next.Add(1); i <= totalCalls; i = next.Add(1) {
				_ = c.call(ctx, fmt.Sprintf("%s-%05d", c.n.id, i))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	bad.report(t, "call")
	if got := st.ended(); got != totalCalls {
		t.Errorf("%d calls ended, want %d: %d lost", got, totalCalls, totalCalls-got)
	}
	for _, p := range tr.doubleOffers() {
		t.Error(p)
	}
	checkSettled(t, nodes[0].store)
	var published, received int64
	for _, n := range nodes {
		if err := n.running(); err != nil {
			t.Error(err)
		}
		published += n.bus.published.Load()
		received += n.bus.received.Load()
		t.Logf("node %s: offers published to other nodes %d, received from them %d", n.id, n.bus.published.Load(), n.bus.received.Load())
	}
	t.Logf("%d calls in %v (%.0f calls/s): %v", totalCalls, elapsed.Round(time.Millisecond),
		float64(totalCalls)/elapsed.Seconds(), st)
	t.Logf("offers that crossed nodes: %d published on the bus, %d received, of %d offers received by Tickets",
		published, received, tr.count())
	if received == 0 {
		t.Error("no offer crossed nodes: the bus between the routers was not exercised")
	}
}
