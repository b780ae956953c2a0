package nodetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kefu/routing"
	"kefu/routing/redisstore"
)

// testLogger discards the routers' logs unless KEFU_NODETEST_LOG is set
// (then they go to stderr, at debug level).
func testLogger() *slog.Logger {
	if os.Getenv("KEFU_NODETEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// seed returns the random seed of a test (KEFU_NODETEST_SEED, else the
// clock) and logs it, so a failing run can be repeated.
func seed(tb testing.TB) uint64 {
	tb.Helper()
	s := uint64(time.Now().UnixNano())
	if v := os.Getenv("KEFU_NODETEST_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			tb.Fatalf("KEFU_NODETEST_SEED=%q: %v", v, err)
		}
		s = n
	}
	tb.Logf("seed %d (repeat with KEFU_NODETEST_SEED=%d)", s, s)
	return s
}

// fastMisses makes a missed offer cost an agent milliseconds, and never
// makes it not responding, so that long runs keep every agent working.
var fastMisses = routing.MissRules{NoAnswer: 20 * time.Millisecond, Rejected: 10 * time.Millisecond,
	Busy: 10 * time.Millisecond, Other: 20 * time.Millisecond, MaxInRow: -1}

// testTiers are the tiers calls are given at random.
var testTiers = map[string]time.Duration{routing.TierDefault: 0, "silver": 100 * time.Millisecond, "gold": 300 * time.Millisecond}

// randomAgents returns n agents named prefix01… with one or two of skills
// each at random levels; every skill has at least one agent.
func randomAgents(rng *rand.Rand, prefix string, n int, skills []string) []routing.AgentConfig {
	agents := make([]routing.AgentConfig, n)
	for i := range agents {
		sk := map[string]int{skills[i%len(skills)]: 1 + rng.IntN(5)}
		if rng.IntN(2) == 0 {
			sk[skills[rng.IntN(len(skills))]] = 1 + rng.IntN(5)
		}
		agents[i] = routing.AgentConfig{ID: fmt.Sprintf("%s%02d", prefix, i+1), Skills: sk}
	}
	return agents
}

// node is one Kefu node: a Router with its own Redis client and Store, its
// Run going in a goroutine.
type node struct {
	id     string
	client *redis.Client
	store  *redisstore.Store
	bus    *countingBus
	router *routing.Router
	stop   context.CancelFunc // ends Run
	ran    chan error         // Run's result
}

// startNode starts a node named cfg.Node on srv under prefix: cfg.Bus is set
// to the store's bus (counted). tb.Cleanup ends Run, closes the router and
// the client, and reports a Run that ended with anything but its
// cancellation.
func startNode(tb testing.TB, srv *redisServer, prefix string, cfg routing.Config) *node {
	tb.Helper()
	n := &node{id: cfg.Node, client: srv.Client(tb, 64), ran: make(chan error, 1)}
	st, err := redisstore.New(n.client, prefix)
	if err != nil {
		tb.Fatalf("node %s: %v", n.id, err)
	}
	n.store = st
	n.bus = &countingBus{inner: st.Bus()}
	cfg.Bus = n.bus
	if cfg.Logger == nil {
		cfg.Logger = testLogger().With("node", n.id)
	}
	if n.router, err = routing.NewRouter(cfg, st); err != nil {
		tb.Fatalf("node %s: %v", n.id, err)
	}
	ctx, stop := context.WithCancel(context.Background())
	n.stop = stop
	go func() { n.ran <- n.router.Run(ctx) }()
	tb.Cleanup(func() {
		stop()
		if err := <-n.ran; !errors.Is(err, context.Canceled) {
			tb.Errorf("node %s: Run ended with %v, want its cancellation", n.id, err)
		}
		_ = n.router.Close()
	})
	return n
}

// running reports an error if the node's Run has returned.
func (n *node) running() error {
	select {
	case err := <-n.ran:
		n.ran <- err
		return fmt.Errorf("node %s: Run returned early: %w", n.id, err)
	default:
		return nil
	}
}

// countingBus counts the events a node publishes to other nodes and
// receives from them.
type countingBus struct {
	inner     routing.Bus
	published atomic.Int64
	received  atomic.Int64
}

func (b *countingBus) Publish(ctx context.Context, node string, e routing.Event) error {
	if e.Kind == routing.EventOffer {
		b.published.Add(1)
	}
	return b.inner.Publish(ctx, node, e)
}

func (b *countingBus) Subscribe(ctx context.Context, node string) (<-chan routing.Event, error) {
	in, err := b.inner.Subscribe(ctx, node)
	if err != nil {
		return nil, err
	}
	out := make(chan routing.Event)
	go func() {
		defer close(out)
		for e := range in {
			if e.Kind == routing.EventOffer {
				b.received.Add(1)
			}
			select {
			case out <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// loginAll makes every agent ready, each through one of nodes in turn.
func loginAll(tb testing.TB, nodes []*node, agents []routing.AgentConfig) {
	tb.Helper()
	for i, a := range agents {
		if err := nodes[i%len(nodes)].router.SetAgentState(tb.Context(), a.ID, routing.AgentReady, ""); err != nil {
			tb.Fatalf("agent %s ready: %v", a.ID, err)
		}
	}
}

// offerRecord is one offer as a Ticket delivered it, and how long the
// caller's side is known to have held the agent: from recv (the offer was
// made before) to end (the agent was released after: end is when the
// operation releasing it started, or when the node holding it crashed).
type offerRecord struct {
	offer routing.Offer
	node  string // the node whose Ticket received it
	recv  time.Time
	end   time.Time // zero: still held
}

// tracker keeps every offer any Ticket received.
type tracker struct {
	mu      sync.Mutex
	offers  []*offerRecord
	byToken map[uint64]*offerRecord
	dups    []string
}

func newTracker() *tracker { return &tracker{byToken: map[uint64]*offerRecord{}} }

// add records an offer received now by node's Ticket.
func (tr *tracker) add(o routing.Offer, node string) *offerRecord {
	rec := &offerRecord{offer: o, node: node, recv: time.Now()}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if prev, dup := tr.byToken[o.Token]; dup {
		tr.dups = append(tr.dups, fmt.Sprintf("token %d delivered twice: call %q agent %q (node %s), then call %q agent %q (node %s)",
			o.Token, prev.offer.CallID, prev.offer.AgentID, prev.node, o.CallID, o.AgentID, node))
	}
	tr.byToken[o.Token] = rec
	tr.offers = append(tr.offers, rec)
	return rec
}

// release records that the caller's side started releasing the offer's
// agent at.
func (tr *tracker) release(rec *offerRecord, at time.Time) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if rec.end.IsZero() {
		rec.end = at
	}
}

// releaseNode records that every offer node's Tickets still hold was
// released at (its node crashed).
func (tr *tracker) releaseNode(node string, at time.Time) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, rec := range tr.offers {
		if rec.node == node && rec.end.IsZero() {
			rec.end = at
		}
	}
}

// count returns how many offers were received.
func (tr *tracker) count() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.offers)
}

// doubleOffers returns every proof that an agent held two offers at once,
// and every token delivered twice. Each record's [recv, end) lies inside the
// time the store had the agent offered or talking for it (the offer was made
// before recv and withdrawn after end), so two such intervals of one agent
// that overlap prove a double offer; no timing guess is involved. Offers
// read after their call had left (recv ≥ end) prove nothing about holding
// and are left out.
func (tr *tracker) doubleOffers() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	problems := slices.Clone(tr.dups)
	far := time.Now().Add(time.Hour)
	byAgent := map[string][]*offerRecord{}
	for _, rec := range tr.offers {
		if rec.end.IsZero() || rec.recv.Before(rec.end) {
			byAgent[rec.offer.AgentID] = append(byAgent[rec.offer.AgentID], rec)
		}
	}
	endOf := func(rec *offerRecord) time.Time {
		if rec.end.IsZero() {
			return far
		}
		return rec.end
	}
	for agent, recs := range byAgent {
		slices.SortFunc(recs, func(a, b *offerRecord) int { return a.recv.Compare(b.recv) })
		var holder *offerRecord // the record so far whose hold reaches furthest
		for _, rec := range recs {
			if holder != nil && rec.recv.Before(endOf(holder)) {
				problems = append(problems, fmt.Sprintf("agent %s offered call %q (token %d, node %s) while still holding call %q (token %d, node %s): %v of overlap",
					agent, rec.offer.CallID, rec.offer.Token, rec.node, holder.offer.CallID, holder.offer.Token, holder.node,
					overlap(endOf(holder), endOf(rec), rec.recv)))
			}
			if holder == nil || endOf(rec).After(endOf(holder)) {
				holder = rec
			}
		}
	}
	return problems
}

// overlap is how long two holds ending at e1 and e2 overlap after from.
func overlap(e1, e2, from time.Time) time.Duration {
	if e2.Before(e1) {
		e1 = e2
	}
	return e1.Sub(from)
}

// callStats counts how calls ended.
type callStats struct {
	answered   atomic.Int64 // answered and finished
	missed     atomic.Int64 // offers not answered (NoAnswer)
	abandoned  atomic.Int64 // the caller gave up while queued (Leave)
	ringHangup atomic.Int64 // the caller hung up while an agent rang (Leave)
	overflowed atomic.Int64 // EventOverflow, or gone at Leave after its MaxWait
	offers     atomic.Int64 // offers received
}

func (s *callStats) ended() int64 {
	return s.answered.Load() + s.abandoned.Load() + s.ringHangup.Load() + s.overflowed.Load()
}

func (s *callStats) String() string {
	return fmt.Sprintf("%d answered+finished, %d abandoned while queued, %d hung up while ringing, %d overflowed; %d offers, %d missed",
		s.answered.Load(), s.abandoned.Load(), s.ringHangup.Load(), s.overflowed.Load(), s.offers.Load(), s.missed.Load())
}

// problems collects failures from many goroutines and reports the first
// ones (a broken run must not print ten thousand lines).
type problems struct {
	mu   sync.Mutex
	list []string
}

func (p *problems) add(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func (p *problems) report(tb testing.TB, what string) {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, s := range p.list {
		if i == 20 {
			tb.Errorf("%s: … and %d more", what, len(p.list)-i)
			break
		}
		tb.Errorf("%s: %s", what, s)
	}
}

// errCrashed stops a caller whose node crashed.
var errCrashed = errors.New("node crashed")

// caller plays calls on one node the way the SIP layer does: it reads its
// Ticket's events and answers, misses or hangs up at random.
type caller struct {
	n       *node
	rng     *rand.Rand
	queues  []string                 // the queue of each call, at random
	maxWait map[string]time.Duration // queues with a MaxWait
	tr      *tracker
	st      *callStats
	bad     *problems
	crashed <-chan struct{} // closed when the node crashes: do nothing more
}

// down reports whether the caller's node has crashed.
func (c *caller) down() bool {
	select {
	case <-c.crashed:
		return true
	default:
		return false
	}
}

// call plays call id through until it ends, or until ctx (the test's
// deadline) ends, which makes it a stuck call. It returns errCrashed when
// the node crashed meanwhile.
func (c *caller) call(ctx context.Context, id string) error {
	if c.down() {
		return errCrashed
	}
	r, rng := c.n.router, c.rng
	queue := c.queues[rng.IntN(len(c.queues))]
	tiers := []string{routing.TierDefault, routing.TierDefault, "silver", "gold"}
	start := time.Now()
	t, err := r.Enqueue(ctx, routing.CallRequest{CallID: id, Caller: "1380000" + id, Queue: queue, Tier: tiers[rng.IntN(len(tiers))]})
	if err != nil {
		c.bad.add("enqueue %s: %v", id, err)
		return nil
	}
	var patience <-chan time.Time
	if rng.IntN(10) < 3 {
		tm := time.NewTimer(time.Duration(5+rng.IntN(300)) * time.Millisecond)
		defer tm.Stop()
		patience = tm.C
	}
	var last uint64
	for {
		select {
		case <-c.crashed:
			return errCrashed
		case <-ctx.Done():
			c.bad.add("call %s (node %s, queue %s) stuck: no end after %v", id, c.n.id, queue, time.Since(start).Round(time.Millisecond))
			return nil
		case <-patience:
			if c.down() {
				return errCrashed
			}
			err := r.Leave(ctx, id)
			switch {
			case err == nil:
				c.st.abandoned.Add(1)
			case errors.Is(err, routing.ErrUnknownCall) && c.maxWait[queue] > 0 && time.Since(start) >= c.maxWait[queue]:
				// It overflowed at the same moment; the event went with
				// the Ticket Leave closed.
				c.st.overflowed.Add(1)
			default:
				c.bad.add("leave %s: %v", id, err)
			}
			c.drain(t, id, true)
			return nil
		case e, ok := <-t.Events():
			if !ok {
				c.bad.add("call %s (node %s): ticket closed with the call in progress: call lost", id, c.n.id)
				return nil
			}
			if e.Kind == routing.EventOverflow {
				c.st.overflowed.Add(1)
				c.drain(t, id, false)
				return nil
			}
			o := e.Offer
			c.st.offers.Add(1)
			rec := c.tr.add(o, c.n.id)
			if o.CallID != id || o.Node != c.n.id || o.AgentID == "" || o.Queue != queue {
				c.bad.add("call %s on node %s got offer %+v", id, c.n.id, o)
			}
			if o.Token <= last {
				c.bad.add("call %s: token %d after token %d: fencing tokens must increase", id, o.Token, last)
			}
			last = o.Token
			done, err := c.offered(ctx, t, rec)
			if done || err != nil {
				return err
			}
		}
	}
}

// offered handles one offer: answer and finish (most), miss, or the caller
// hangs up while it rings. done reports that the call has ended.
func (c *caller) offered(ctx context.Context, t *routing.Ticket, rec *offerRecord) (done bool, err error) {
	r, rng, o := c.n.router, c.rng, rec.offer
	time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond) // ringing
	if c.down() {
		return true, errCrashed
	}
	switch p := rng.IntN(100); {
	case p < 5: // the caller hangs up while the agent's phone rings
		c.tr.release(rec, time.Now())
		if err := r.Leave(ctx, o.CallID); err != nil {
			c.bad.add("leave %s while ringing %s: %v", o.CallID, o.AgentID, err)
		}
		c.st.ringHangup.Add(1)
		c.drain(t, o.CallID, false)
		return true, nil
	case p < 30: // the agent misses it
		reasons := []string{routing.ReasonNoAnswer, routing.ReasonBusy, routing.ReasonRejected}
		c.tr.release(rec, time.Now())
		if err := r.NoAnswer(ctx, o, reasons[rng.IntN(len(reasons))]); err != nil {
			c.bad.add("no answer %s by %s (token %d): %v", o.CallID, o.AgentID, o.Token, err)
			return true, nil
		}
		c.st.missed.Add(1)
		return false, nil
	}
	if err := r.Answered(ctx, o); err != nil {
		c.bad.add("answered %s by %s (token %d): %v", o.CallID, o.AgentID, o.Token, err)
		return true, nil
	}
	time.Sleep(time.Duration(1000+rng.IntN(4000)) * time.Microsecond) // talking
	if c.down() {
		return true, errCrashed
	}
	c.tr.release(rec, time.Now())
	if err := r.Finished(ctx, o); err != nil {
		c.bad.add("finished %s by %s (token %d): %v", o.CallID, o.AgentID, o.Token, err)
		return true, nil
	}
	c.st.answered.Add(1)
	c.drain(t, o.CallID, false)
	return true, nil
}

// drain reads what is left on a Ticket the call's end closed. Offers made
// just before a caller gave up are recorded (they still count for the token
// checks); anything else after the end is a failure.
func (c *caller) drain(t *routing.Ticket, id string, gaveUp bool) {
	for e := range t.Events() {
		if gaveUp && e.Kind == routing.EventOffer {
			rec := c.tr.add(e.Offer, c.n.id)
			c.tr.release(rec, rec.recv)
			continue
		}
		if gaveUp && e.Kind == routing.EventOverflow {
			continue
		}
		c.bad.add("call %s: %s event after the call ended: %+v", id, e.Kind, e.Offer)
	}
}

// checkSettled checks the store shows no call and no agent with a call:
// every agent is ready, not_ready or logged_out.
func checkSettled(tb testing.TB, s routing.Store) {
	tb.Helper()
	ctx := context.WithoutCancel(tb.Context())
	calls, err := s.Calls(ctx)
	if err != nil {
		tb.Fatalf("Calls: %v", err)
	}
	for i, c := range calls {
		if i == 20 {
			tb.Errorf("… and %d more calls left", len(calls)-i)
			break
		}
		tb.Errorf("call left in the store: %s %s on node %s (agent %q, token %d)", c.ID, c.State, c.Node, c.AgentID, c.Token)
	}
	agents, err := s.Agents(ctx)
	if err != nil {
		tb.Fatalf("Agents: %v", err)
	}
	for _, a := range agents {
		switch a.State {
		case routing.AgentReady, routing.AgentNotReady, routing.AgentLoggedOut:
		default:
			tb.Errorf("agent %s is %s with call %q (token %d): nothing should be ringing or talking", a.ID, a.State, a.CallID, a.Token)
		}
	}
}

// poll calls check every 10ms until it returns nil or deadline passes, and
// returns the last error.
func poll(deadline time.Time, check func() error) error {
	for {
		err := check()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}
