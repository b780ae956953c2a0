package redisstore_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"kefu/routing"
)

// v2 is a fixture for the focused tests of the Store v2 operations on Redis.
type v2 struct {
	t *testing.T
	r *testRedis
	s routing.Store
}

func newV2(t *testing.T) *v2 {
	r := startRedis(t)
	return &v2{t: t, r: r, s: r.store(t)}
}

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func sec(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func (f *v2) agents(skills map[string]map[string]int) {
	f.t.Helper()
	var cfgs []routing.AgentConfig
	for id, sk := range skills {
		cfgs = append(cfgs, routing.AgentConfig{ID: id, Skills: sk})
	}
	if err := f.s.PutAgents(f.t.Context(), cfgs, t0); err != nil {
		f.t.Fatal(err)
	}
}

func (f *v2) state(id string, st routing.AgentState, reason string, force bool, at time.Time) (routing.Agent, error) {
	return f.s.SetAgentState(f.t.Context(), id, st, reason, force, at)
}

func (f *v2) ready(id string, at time.Time) {
	f.t.Helper()
	if _, err := f.state(id, routing.AgentReady, "", false, at); err != nil {
		f.t.Fatalf("ready %s: %v", id, err)
	}
}

func newCall(id, skill string, enq time.Time) routing.Call {
	return routing.Call{ID: id, Queue: "q-" + skill, Skill: skill, EnqueuedAt: enq, Key: enq}
}

func (f *v2) enqueue(c routing.Call, opts routing.EnqueueOptions) (routing.Call, error) {
	return f.s.Enqueue(f.t.Context(), c, opts)
}

func (f *v2) mustEnqueue(c routing.Call) routing.Call {
	f.t.Helper()
	c, err := f.enqueue(c, routing.EnqueueOptions{})
	if err != nil {
		f.t.Fatalf("Enqueue %s: %v", c.ID, err)
	}
	return c
}

func (f *v2) match(at time.Time) routing.MatchResult {
	f.t.Helper()
	res, err := f.s.Match(f.t.Context(), at)
	if err != nil {
		f.t.Fatalf("Match: %v", err)
	}
	return res
}

// offers returns the result's offers as "call>agent".
func offers(res routing.MatchResult) []string {
	var out []string
	for _, o := range res.Offers {
		out = append(out, o.CallID+">"+o.AgentID)
	}
	return out
}

func (f *v2) wantOffers(res routing.MatchResult, want ...string) {
	f.t.Helper()
	if got := offers(res); !slices.Equal(got, want) {
		f.t.Fatalf("offers %v, want %v", got, want)
	}
}

func (f *v2) call(id string) (routing.Call, bool) {
	f.t.Helper()
	calls, err := f.s.Calls(f.t.Context())
	if err != nil {
		f.t.Fatal(err)
	}
	for _, c := range calls {
		if c.ID == id {
			return c, true
		}
	}
	return routing.Call{}, false
}

func (f *v2) callIDs() []string {
	f.t.Helper()
	calls, err := f.s.Calls(f.t.Context())
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, c := range calls {
		out = append(out, c.ID)
	}
	return out
}

func (f *v2) agent(id string) routing.Agent {
	f.t.Helper()
	agents, err := f.s.Agents(f.t.Context())
	if err != nil {
		f.t.Fatal(err)
	}
	for _, a := range agents {
		if a.ID == id {
			return a
		}
	}
	f.t.Fatalf("no agent %s", id)
	return routing.Agent{}
}

func (f *v2) wantAgent(id string, st routing.AgentState, reason string) routing.Agent {
	f.t.Helper()
	a := f.agent(id)
	if a.State != st || a.Reason != reason {
		f.t.Fatalf("agent %s is %s (%q), want %s (%q): %+v", id, a.State, a.Reason, st, reason, a)
	}
	return a
}

func wantIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error %v, want %v", what, err, target)
	}
}

// noIndexLeft checks that, with no calls left, the call indexes are empty
// (nothing leaked in q, qs, lease, stepat, nodecalls, deadline, …).
func (f *v2) noIndexLeft() {
	f.t.Helper()
	keys, err := f.r.client.Keys(f.t.Context(), "*").Result()
	if err != nil {
		f.t.Fatal(err)
	}
	for _, k := range keys {
		_, name, _ := strings.Cut(k, "}:")
		for _, p := range []string{"call:", "calls", "q:", "qs:", "pref:", "deadline", "preferuntil", "stepat", "lease", "nodecalls:"} {
			if strings.HasPrefix(name, p) {
				f.t.Errorf("key %s left with no calls", k)
			}
		}
	}
}

func one(skill string, level int) map[string]int { return map[string]int{skill: level} }

func TestV2QueueFullAndJoinEmpty(t *testing.T) {
	f := newV2(t)
	f.agents(map[string]map[string]int{"a1": one("billing", 3)})
	_, err := f.enqueue(newCall("c0", "billing", sec(0)), routing.EnqueueOptions{})
	wantIs(t, "Enqueue with no agent logged in", err, routing.ErrNoAgents)
	// JoinEmpty skips the check; MaxQueued still applies.
	if _, err := f.enqueue(newCall("c1", "billing", sec(1)), routing.EnqueueOptions{JoinEmpty: true, MaxQueued: 2}); err != nil {
		t.Fatal(err)
	}
	// Duplicate comes before no-agents.
	_, err = f.enqueue(newCall("c1", "billing", sec(1)), routing.EnqueueOptions{})
	wantIs(t, "duplicate", err, routing.ErrDuplicateCall)
	f.ready("a1", sec(2))
	if _, err := f.enqueue(newCall("c2", "billing", sec(2)), routing.EnqueueOptions{MaxQueued: 2}); err != nil {
		t.Fatal(err)
	}
	_, err = f.enqueue(newCall("c3", "billing", sec(3)), routing.EnqueueOptions{MaxQueued: 2})
	wantIs(t, "third call in a queue of 2", err, routing.ErrQueueFull)
	// Other queues are not counted.
	c := newCall("x1", "billing", sec(3))
	c.Queue = "other"
	if _, err := f.enqueue(c, routing.EnqueueOptions{MaxQueued: 1}); err != nil {
		t.Fatal(err)
	}
	// An offered call does not count: c1 is offered to a1.
	f.wantOffers(f.match(sec(4)), "c1>a1")
	if _, err := f.enqueue(newCall("c3", "billing", sec(5)), routing.EnqueueOptions{MaxQueued: 2}); err != nil {
		t.Fatalf("Enqueue with one queued and one offered call in a queue of 2: %v", err)
	}
	// No agents is checked before queue full.
	c = newCall("c4", "data", sec(6))
	c.Queue = "q-billing"
	_, err = f.enqueue(c, routing.EnqueueOptions{MaxQueued: 1})
	wantIs(t, "full queue with nobody logged in", err, routing.ErrNoAgents)
	// A step's skill counts for the logged-in check.
	f.agents(map[string]map[string]int{"a2": one("data", 1)})
	f.ready("a2", sec(7))
	c = newCall("c5", "billing", sec(7))
	c.Steps = []routing.Step{{At: sec(7), Skill: "billing", MinLevel: 1}, {At: sec(9), Skill: "data", MinLevel: 1}}
	if _, err := f.enqueue(c, routing.EnqueueOptions{}); err != nil {
		t.Fatalf("Enqueue with a logged-in agent for the second step: %v", err)
	}
}

func TestV2LeaseExpiry(t *testing.T) {
	f := newV2(t)
	f.agents(map[string]map[string]int{"a1": one("billing", 3), "a2": one("billing", 2)})
	f.ready("a1", sec(0))
	c := newCall("c1", "billing", sec(1))
	c.Lease, c.Node, c.Deadline = 5*time.Second+7, "n1", sec(100)
	c = f.mustEnqueue(c)
	res := f.match(sec(2))
	f.wantOffers(res, "c1>a1")
	o := res.Offers[0]
	if o.Node != "n1" || !o.At.Equal(sec(2)) {
		t.Fatalf("offer %+v, want node n1 at %v", o, sec(2))
	}
	got, _ := f.call("c1")
	if want := sec(7).Add(7); !got.LeaseUntil.Equal(want) {
		t.Fatalf("LeaseUntil %v, want %v", got.LeaseUntil, want)
	}
	if want := sec(7).Add(7); !res.Next.Equal(want) {
		t.Fatalf("Next %v, want the lease's end %v", res.Next, want)
	}
	// Not yet: one nanosecond before.
	if res := f.match(sec(7).Add(6)); len(res.Expired) != 0 {
		t.Fatalf("expired early: %+v", res.Expired)
	}
	f.ready("a2", sec(3))
	res = f.match(sec(7).Add(7))
	if len(res.Expired) != 1 || !reflect.DeepEqual(res.Expired[0], o) {
		t.Fatalf("Expired %+v, want %+v", res.Expired, o)
	}
	// a1 is ready again with its old idle time, so it is still the longest
	// idle... but a1 has level 3: the call is offered to a1 again.
	f.wantOffers(res, "c1>a1")
	again, _ := f.call("c1")
	if again.Misses != 0 || again.Seq != c.Seq || !again.Key.Equal(c.Key) || !again.Deadline.Equal(c.Deadline) {
		t.Fatalf("call after expiry %+v", again)
	}
	if again.Token == o.Token {
		t.Fatal("token not renewed")
	}
	// Answer clears the lease and returns the call.
	ans, err := f.s.Answer(t.Context(), res.Offers[0], sec(8))
	if err != nil {
		t.Fatal(err)
	}
	if ans.State != routing.CallTalking || !ans.AnsweredAt.Equal(sec(8)) || !ans.LeaseUntil.IsZero() || ans.Node != "n1" {
		t.Fatalf("Answer returned %+v", ans)
	}
	if res := f.match(sec(20)); len(res.Expired) != 0 {
		t.Fatalf("a talking call's lease expired: %+v", res)
	}
	fin, err := f.s.Finish(t.Context(), res.Offers[0], sec(30))
	if err != nil {
		t.Fatal(err)
	}
	ans.State = routing.CallTalking
	if !reflect.DeepEqual(fin, ans) {
		t.Fatalf("Finish returned %+v, want %+v", fin, ans)
	}
	f.noIndexLeft()
}

// TestV2LeaseExpiryAgentIdle: the agent of an expired offer is ready with its
// idle time unchanged, or takes its pending state.
func TestV2LeaseExpiryAgentIdle(t *testing.T) {
	f := newV2(t)
	f.agents(map[string]map[string]int{"a1": one("billing", 3), "a2": one("billing", 3)})
	f.ready("a1", sec(0))
	c := newCall("c1", "billing", sec(1))
	c.Lease = time.Second
	f.mustEnqueue(c)
	f.wantOffers(f.match(sec(1)), "c1>a1")
	if _, err := f.state("a1", routing.AgentLoggedOut, "", false, sec(1.5)); err != nil {
		t.Fatal(err)
	}
	res := f.match(sec(2))
	if len(res.Expired) != 1 || len(res.Offers) != 0 {
		t.Fatalf("result %+v", res)
	}
	a := f.wantAgent("a1", routing.AgentLoggedOut, "")
	if a.Pending != "" || !a.Since.Equal(sec(2)) || a.CallID != "" {
		t.Fatalf("a1 %+v", a)
	}
	f.ready("a2", sec(3))
	f.ready("a1", sec(4))
	res = f.match(sec(5))
	f.wantOffers(res, "c1>a2")
	if _, err := f.s.Leave(t.Context(), "c1", sec(5)); err != nil {
		t.Fatal(err)
	}
	a = f.wantAgent("a2", routing.AgentReady, "")
	if !a.IdleSince.Equal(sec(3)) {
		t.Fatalf("a2 idle since %v, want %v", a.IdleSince, sec(3))
	}
	f.noIndexLeft()
}

func TestV2NodeLost(t *testing.T) {
	for _, lostState := range []routing.AgentState{routing.AgentReady, routing.AgentNotReady} {
		t.Run(string(lostState), func(t *testing.T) {
			f := newV2(t)
			f.agents(map[string]map[string]int{"a1": one("billing", 5), "a2": one("billing", 4), "a3": one("billing", 3)})
			ctx := t.Context()
			if err := f.s.Heartbeat(ctx, routing.Node{ID: "n1", Until: sec(10), LostState: lostState}); err != nil {
				t.Fatal(err)
			}
			if err := f.s.Heartbeat(ctx, routing.Node{ID: "n2", Until: sec(10).Add(3), LostState: lostState}); err != nil {
				t.Fatal(err)
			}
			if err := f.s.Heartbeat(ctx, routing.Node{}); err == nil {
				t.Fatal("Heartbeat of a node without id succeeded")
			}
			f.ready("a1", sec(0))
			f.ready("a2", sec(0))
			var want []routing.Call
			for i, id := range []string{"talk", "ring", "wait"} {
				c := newCall(id, "billing", sec(float64(i)))
				c.Node, c.WrapUp = "n1", 4*time.Second
				want = append(want, f.mustEnqueue(c))
			}
			other := newCall("other", "billing", sec(3))
			other.Node = "n2"
			f.mustEnqueue(other)
			local := newCall("local", "billing", sec(4))
			f.mustEnqueue(local)
			res := f.match(sec(5))
			f.wantOffers(res, "talk>a1", "ring>a2")
			if !res.Next.Equal(sec(10)) {
				t.Fatalf("Next %v, want the heartbeat's end %v", res.Next, sec(10))
			}
			ans, err := f.s.Answer(ctx, res.Offers[0], sec(6))
			if err != nil {
				t.Fatal(err)
			}
			want[0] = ans
			want[1], _ = f.call("ring")
			if _, err := f.state("a2", routing.AgentNotReady, "lunch", false, sec(7)); err != nil {
				t.Fatal(err)
			}
			// n1 beats again: not lost at its old until.
			if err := f.s.Heartbeat(ctx, routing.Node{ID: "n1", Until: sec(20), LostState: lostState}); err != nil {
				t.Fatal(err)
			}
			if res := f.match(sec(10)); len(res.Lost) != 0 || len(res.LostNodes) != 0 || !res.Next.Equal(sec(10).Add(3)) {
				t.Fatalf("at 10s: %+v", res)
			}
			f.ready("a3", sec(10))
			res = f.match(sec(20))
			if !slices.Equal(res.LostNodes, []string{"n1", "n2"}) {
				t.Fatalf("LostNodes %v", res.LostNodes)
			}
			var lostIDs []string
			for _, c := range res.Lost {
				lostIDs = append(lostIDs, c.ID)
			}
			if !slices.Equal(lostIDs, []string{"talk", "ring", "wait", "other"}) {
				t.Fatalf("Lost %v", lostIDs)
			}
			if !reflect.DeepEqual(res.Lost[:3], want) {
				t.Fatalf("Lost %+v\nwant %+v", res.Lost[:3], want)
			}
			// The call without a node stays and is offered to a3 (a2 took
			// its pending not_ready).
			f.wantOffers(res, "local>a3")
			if ids := f.callIDs(); !slices.Equal(ids, []string{"local"}) {
				t.Fatalf("calls left %v", ids)
			}
			a2 := f.wantAgent("a2", routing.AgentNotReady, "lunch")
			if !a2.Since.Equal(sec(20)) || a2.CallID != "" {
				t.Fatalf("a2 %+v", a2)
			}
			if lostState == routing.AgentNotReady {
				a1 := f.wantAgent("a1", routing.AgentNotReady, routing.ReasonNodeLost)
				if !a1.Since.Equal(sec(20)) || a1.CallID != "" || !a1.WrapUntil.IsZero() {
					t.Fatalf("a1 %+v", a1)
				}
			} else {
				a1 := f.wantAgent("a1", routing.AgentWrapUp, "")
				if !a1.WrapUntil.Equal(sec(24)) {
					t.Fatalf("a1 %+v", a1)
				}
				if !res.Next.Equal(sec(24)) {
					t.Fatalf("Next %v, want the wrap-up's end", res.Next)
				}
			}
			// The records are gone: nothing more is lost.
			if res := f.match(sec(30)); len(res.LostNodes) != 0 {
				t.Fatalf("at 30s: %+v", res)
			}
			if _, err := f.s.Leave(ctx, "local", sec(31)); err != nil {
				t.Fatal(err)
			}
			f.noIndexLeft()
			if n, _ := f.r.client.Keys(ctx, "*node*").Result(); len(n) != 0 {
				t.Fatalf("node keys left: %v", n)
			}
		})
	}
}

func TestV2MissRules(t *testing.T) {
	f := newV2(t)
	f.agents(map[string]map[string]int{"a1": one("billing", 3)})
	ctx := t.Context()
	f.ready("a1", sec(0))
	c := newCall("c1", "billing", sec(0))
	c.Lease = time.Minute
	f.mustEnqueue(c)
	offer := func(at time.Time) routing.Offer {
		t.Helper()
		res := f.match(at)
		f.wantOffers(res, "c1>a1")
		return res.Offers[0]
	}
	miss := func(o routing.Offer, m routing.Miss, at time.Time) {
		t.Helper()
		if err := f.s.NoAnswer(ctx, o, m, at); err != nil {
			t.Fatalf("NoAnswer: %v", err)
		}
	}
	// d) Until not after now: ready at once, idle now.
	miss(offer(sec(1)), routing.Miss{Until: sec(2)}, sec(2))
	a := f.wantAgent("a1", routing.AgentReady, "")
	if a.Misses != 1 || !a.IdleSince.Equal(sec(2)) || !a.Since.Equal(sec(2)) {
		t.Fatalf("a1 after rule d: %+v", a)
	}
	got, _ := f.call("c1")
	if got.Misses != 1 || got.State != routing.CallQueued || !got.LeaseUntil.IsZero() || got.AgentID != "" {
		t.Fatalf("c1 after a miss: %+v", got)
	}
	// c) a delay: not_ready with the reason until Until, in the timer index.
	miss(offer(sec(3)), routing.Miss{Reason: "rna", Until: sec(10).Add(5), MaxMisses: 3}, sec(4))
	a = f.wantAgent("a1", routing.AgentNotReady, "rna")
	if a.Misses != 2 || !a.WrapUntil.Equal(sec(10).Add(5)) {
		t.Fatalf("a1 after rule c: %+v", a)
	}
	res := f.match(sec(5))
	if len(res.Offers) != 0 || !res.Next.Equal(sec(10).Add(5)) {
		t.Fatalf("during the delay: %+v", res)
	}
	res = f.match(sec(10).Add(5))
	if !slices.Equal(res.WrapEnded, []string{"a1"}) {
		t.Fatalf("WrapEnded %v", res.WrapEnded)
	}
	f.wantOffers(res, "c1>a1")
	a = f.wantAgent("a1", routing.AgentOffered, "")
	if !a.IdleSince.Equal(sec(10).Add(5)) || a.Misses != 2 {
		t.Fatalf("a1 after the delay: %+v", a)
	}
	// b) the third miss in a row with MaxMisses 3: not_responding, no timer.
	miss(res.Offers[0], routing.Miss{Until: sec(30), MaxMisses: 3}, sec(11))
	a = f.wantAgent("a1", routing.AgentNotReady, routing.ReasonNotResponding)
	if a.Misses != 3 || !a.WrapUntil.IsZero() {
		t.Fatalf("a1 after rule b: %+v", a)
	}
	if res := f.match(sec(40)); len(res.Offers) != 0 || len(res.WrapEnded) != 0 || !res.Next.IsZero() {
		t.Fatalf("not_responding agent: %+v", res)
	}
	// Ready resets misses.
	f.ready("a1", sec(41))
	if a := f.agent("a1"); a.Misses != 0 {
		t.Fatalf("misses after ready: %d", a.Misses)
	}
	// a) a pending state comes first; Answer resets misses.
	o := offer(sec(42))
	miss(o, routing.Miss{Until: sec(50)}, sec(43))
	o = offer(sec(50))
	if _, err := f.state("a1", routing.AgentLoggedOut, "", false, sec(51)); err != nil {
		t.Fatal(err)
	}
	miss(o, routing.Miss{Until: sec(60), MaxMisses: 1}, sec(52))
	a = f.wantAgent("a1", routing.AgentLoggedOut, "")
	if a.Misses != 2 || !a.WrapUntil.IsZero() || a.Pending != "" {
		t.Fatalf("a1 after rule a: %+v", a)
	}
	f.ready("a1", sec(53))
	o = offer(sec(53))
	miss(o, routing.Miss{}, sec(54))
	o = offer(sec(55))
	if _, err := f.state("a1", routing.AgentNotReady, "break", false, sec(55)); err != nil {
		t.Fatal(err)
	}
	miss(o, routing.Miss{Until: sec(70)}, sec(56))
	f.wantAgent("a1", routing.AgentNotReady, "break")
	f.ready("a1", sec(57))
	o = offer(sec(57))
	miss(o, routing.Miss{}, sec(58))
	if a := f.agent("a1"); a.Misses != 1 {
		t.Fatalf("misses %d", a.Misses)
	}
	o = offer(sec(58))
	if _, err := f.s.Answer(ctx, o, sec(59)); err != nil {
		t.Fatal(err)
	}
	if a := f.agent("a1"); a.Misses != 0 {
		t.Fatalf("misses after Answer: %d", a.Misses)
	}
}

// TestV2MissDelayEndedBySetAgentState: not_ready or logged_out during a miss
// delay clears its timer; ready ends it early.
func TestV2MissDelayEndedBySetAgentState(t *testing.T) {
	f := newV2(t)
	f.agents(map[string]map[string]int{"a1": one("billing", 3)})
	f.ready("a1", sec(0))
	f.mustEnqueue(newCall("c1", "billing", sec(0)))
	for i, next := range []routing.AgentState{routing.AgentNotReady, routing.AgentLoggedOut, routing.AgentReady} {
		res := f.match(sec(float64(10 * i)))
		f.wantOffers(res, "c1>a1")
		if err := f.s.NoAnswer(t.Context(), res.Offers[0], routing.Miss{Until: sec(100)}, sec(float64(10*i+1))); err != nil {
			t.Fatal(err)
		}
		// The same state and reason still clears the timer.
		a, err := f.state("a1", next, map[routing.AgentState]string{routing.AgentNotReady: routing.ReasonNoAnswer}[next], false, sec(float64(10*i+2)))
		if err != nil {
			t.Fatal(err)
		}
		if a.State != next || !a.WrapUntil.IsZero() || !a.Since.Equal(sec(float64(10*i+2))) {
			t.Fatalf("after %s: %+v", next, a)
		}
		if res := f.match(sec(float64(10*i + 3))); len(res.WrapEnded) != 0 || !res.Next.IsZero() && next != routing.AgentReady {
			t.Fatalf("timer left after %s: %+v", next, res)
		}
		if next != routing.AgentReady {
			f.ready("a1", sec(float64(10*i+4)))
		}
	}
	if n, err := f.r.client.Keys(t.Context(), "*:wrap").Result(); err != nil || len(n) != 0 {
		t.Fatalf("wrap index left: %v %v", n, err)
	}
}

func TestV2ForceReadyInWrapUp(t *testing.T) {
	f := newV2(t)
	f.agents(map[string]map[string]int{"a1": one("billing", 3)})
	f.ready("a1", sec(0))
	c := newCall("c1", "billing", sec(0))
	c.WrapUp = time.Minute
	f.mustEnqueue(c)
	res := f.match(sec(1))
	if _, err := f.s.Answer(t.Context(), res.Offers[0], sec(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.state("a1", routing.AgentLoggedOut, "", false, sec(3)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Finish(t.Context(), res.Offers[0], sec(4)); err != nil {
		t.Fatal(err)
	}
	f.wantAgent("a1", routing.AgentWrapUp, "")
	_, err := f.state("a1", routing.AgentReady, "", false, sec(5))
	wantIs(t, "ready in wrap-up without force", err, routing.ErrAgentBusy)
	a, err := f.state("a1", routing.AgentReady, "", true, sec(6))
	if err != nil {
		t.Fatal(err)
	}
	want := routing.Agent{ID: "a1", Skills: one("billing", 3), State: routing.AgentReady, Since: sec(6), IdleSince: sec(6)}
	if !reflect.DeepEqual(a, want) {
		t.Fatalf("after force ready: %+v, want %+v", a, want)
	}
	if res := f.match(sec(70)); len(res.WrapEnded) != 0 || !res.Next.IsZero() {
		t.Fatalf("wrap-up timer left: %+v", res)
	}
	// Force does not make an offered or talking agent ready.
	f.mustEnqueue(newCall("c2", "billing", sec(71)))
	f.wantOffers(f.match(sec(71)), "c2>a1")
	_, err = f.state("a1", routing.AgentReady, "", true, sec(72))
	wantIs(t, "force ready while offered", err, routing.ErrAgentBusy)
}

func TestV2ModifyReorders(t *testing.T) {
	f := newV2(t)
	f.agents(map[string]map[string]int{"a1": one("billing", 3), "a2": one("sales", 3)})
	ctx := t.Context()
	if _, err := f.state("a1", routing.AgentNotReady, "", false, sec(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.state("a2", routing.AgentNotReady, "", false, sec(0)); err != nil {
		t.Fatal(err)
	}
	var calls []routing.Call
	for i, id := range []string{"c1", "c2", "c3"} {
		c := newCall(id, "billing", sec(float64(i)))
		c.Deadline = sec(float64(100 + i))
		calls = append(calls, f.mustEnqueue(c))
	}
	_, err := f.s.Modify(ctx, "nope", routing.CallChange{Tier: "vip"}, sec(5))
	wantIs(t, "Modify unknown", err, routing.ErrUnknownCall)
	// c3 jumps the line.
	got, err := f.s.Modify(ctx, "c3", routing.CallChange{Tier: "vip", Key: sec(-10)}, sec(5))
	if err != nil {
		t.Fatal(err)
	}
	want := calls[2]
	want.Tier, want.Key = "vip", sec(-10)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Modify returned %+v, want %+v", got, want)
	}
	if ids := f.callIDs(); !slices.Equal(ids, []string{"c3", "c1", "c2"}) {
		t.Fatalf("Calls order %v", ids)
	}
	// c1 moves to sales, with steps; keeps its key.
	steps := []routing.Step{{At: sec(0), Skill: "sales", MinLevel: 1}}
	got, err = f.s.Modify(ctx, "c1", routing.CallChange{Queue: "q-sales", Skill: "sales", Steps: steps, WrapUp: time.Second,
		Lease: time.Second, PreferredAgent: "a2", PreferUntil: sec(6)}, sec(5))
	if err != nil {
		t.Fatal(err)
	}
	want = calls[0]
	want.Queue, want.Skill, want.Steps, want.WrapUp, want.Lease, want.PreferredAgent, want.PreferUntil =
		"q-sales", "sales", steps, time.Second, time.Second, "a2", sec(6)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Modify returned %+v, want %+v", got, want)
	}
	f.ready("a1", sec(7))
	f.ready("a2", sec(7))
	res := f.match(sec(7))
	f.wantOffers(res, "c3>a1", "c1>a2")
	if res.Offers[1].Queue != "q-sales" {
		t.Fatalf("offer %+v", res.Offers[1])
	}
	_, err = f.s.Modify(ctx, "c3", routing.CallChange{Tier: "x"}, sec(8))
	wantIs(t, "Modify offered", err, routing.ErrNotWaiting)
	// An empty, non-nil Steps survives the round trip.
	got, err = f.s.Modify(ctx, "c2", routing.CallChange{Steps: []routing.Step{}}, sec(8))
	if err != nil || got.Steps == nil || len(got.Steps) != 0 {
		t.Fatalf("Modify with empty steps: %+v %v", got, err)
	}
	if c, _ := f.call("c2"); c.Steps == nil {
		t.Fatal("empty steps read back as nil")
	}
	for _, id := range []string{"c1", "c2", "c3"} {
		if _, err := f.s.Leave(ctx, id, sec(9)); err != nil {
			t.Fatal(err)
		}
	}
	f.noIndexLeft()
}

// TestV2SkillSteps: a call whose steps widen the agents it may take over
// time (a lower level, then a second skill); Next names each step's time.
func TestV2SkillSteps(t *testing.T) {
	f := newV2(t)
	f.agents(map[string]map[string]int{"junior": one("billing", 2), "other": one("sales", 1)})
	f.ready("junior", sec(0))
	f.ready("other", sec(0))
	c := newCall("c1", "billing", sec(0))
	c.Steps = []routing.Step{
		{At: sec(0), Skill: "billing", MinLevel: 4},
		{At: sec(20).Add(3), Skill: "billing", MinLevel: 2},
		{At: sec(40), Skill: "sales", MinLevel: 1},
	}
	c = f.mustEnqueue(c)
	res := f.match(sec(1))
	if len(res.Offers) != 0 || !res.Next.Equal(sec(20).Add(3)) {
		t.Fatalf("at 1s: %+v, want no offer and Next at the second step", res)
	}
	// junior busy: at the second step nobody qualifies; Next is the third.
	if _, err := f.state("junior", routing.AgentNotReady, "", false, sec(2)); err != nil {
		t.Fatal(err)
	}
	res = f.match(sec(20).Add(3))
	if len(res.Offers) != 0 || !res.Next.Equal(sec(40)) {
		t.Fatalf("at the second step: %+v", res)
	}
	res = f.match(sec(40))
	f.wantOffers(res, "c1>other")
	if err := f.s.NoAnswer(t.Context(), res.Offers[0], routing.Miss{}, sec(41)); err != nil {
		t.Fatal(err)
	}
	// Both ready: the earliest step reached with a qualified agent chooses.
	f.ready("junior", sec(42))
	res = f.match(sec(43))
	f.wantOffers(res, "c1>junior")
	got, _ := f.call("c1")
	if !reflect.DeepEqual(got.Steps, c.Steps) {
		t.Fatalf("steps %+v, want %+v", got.Steps, c.Steps)
	}
	if _, err := f.s.Leave(t.Context(), "c1", sec(44)); err != nil {
		t.Fatal(err)
	}
	f.noIndexLeft()
}

// TestV2SecondSkillSource: a call is visible to agents of every skill of its
// steps, in key order among the calls of that skill.
func TestV2SecondSkillSource(t *testing.T) {
	f := newV2(t)
	f.agents(map[string]map[string]int{"s1": one("sales", 3)})
	if _, err := f.state("s1", routing.AgentNotReady, "", false, sec(0)); err != nil {
		t.Fatal(err)
	}
	b := newCall("b1", "billing", sec(0))
	b.Steps = []routing.Step{{At: sec(0), Skill: "billing", MinLevel: 1}, {At: sec(5), Skill: "sales", MinLevel: 2}}
	f.mustEnqueue(b)
	f.mustEnqueue(newCall("s-late", "sales", sec(1)))
	f.ready("s1", sec(2))
	f.wantOffers(f.match(sec(3)), "s-late>s1") // b1's sales step is not reached
	f.agents(map[string]map[string]int{"s2": one("sales", 2)})
	f.ready("s2", sec(4))
	f.mustEnqueue(newCall("s-later", "sales", sec(4)))
	f.wantOffers(f.match(sec(5)), "b1>s2")
}

// TestV2NextSources: Next is the earliest of prefer-until, deadline, step,
// lease, node and agent timers.
func TestV2NextSources(t *testing.T) {
	f := newV2(t)
	f.agents(map[string]map[string]int{"a1": one("billing", 3), "a2": one("sales", 3)})
	ctx := t.Context()
	f.ready("a1", sec(0))
	if _, err := f.state("a2", routing.AgentNotReady, "", false, sec(0)); err != nil {
		t.Fatal(err)
	}
	if res := f.match(sec(0)); !res.Next.IsZero() {
		t.Fatalf("Next %v with nothing due", res.Next)
	}
	wantNext := func(at, want time.Time) {
		t.Helper()
		if res := f.match(at); !res.Next.Equal(want) {
			t.Fatalf("Next at %v = %v, want %v", at, res.Next, want)
		}
	}
	if err := f.s.Heartbeat(ctx, routing.Node{ID: "n", Until: sec(90).Add(1)}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Heartbeat(ctx, routing.Node{ID: "m", Until: sec(90).Add(2)}); err != nil {
		t.Fatal(err)
	}
	wantNext(sec(1), sec(90).Add(1))
	c := newCall("s", "sales", sec(1))
	c.Deadline = sec(80)
	c.Steps = []routing.Step{{At: sec(1), Skill: "sales", MinLevel: 1}, {At: sec(70).Add(9), Skill: "billing", MinLevel: 5}}
	f.mustEnqueue(c)
	wantNext(sec(2), sec(70).Add(9))
	l := newCall("l", "billing", sec(2))
	l.Lease = 50 * time.Second
	f.mustEnqueue(l)
	wantNext(sec(3), sec(53)) // offered to a1 at 3s
	p := newCall("p", "sales", sec(3))
	p.PreferredAgent, p.PreferUntil = "a2", sec(30)
	f.mustEnqueue(p)
	wantNext(sec(4), sec(30))
	o := f.match(sec(4))
	_ = o
	calls, _ := f.s.Calls(ctx)
	var offer routing.Offer
	for _, c := range calls {
		if c.ID == "l" {
			offer = c.Offer()
		}
	}
	if err := f.s.NoAnswer(ctx, offer, routing.Miss{Until: sec(20)}, sec(5)); err != nil {
		t.Fatal(err)
	}
	wantNext(sec(6), sec(20))
}
