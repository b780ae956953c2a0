package storetest

import (
	"testing"
	"time"

	"kefu/routing"
)

// The v2 contract: queue limits, miss rules, supervisor changes, offer
// leases, node recovery and skill steps.

func testQueueFull(t *testing.T, f *fixture) {
	f.agents(routing.AgentConfig{ID: "a1", Skills: skills("billing", 3)})
	f.state("a1", routing.AgentNotReady, "lunch", at(0))
	full := routing.EnqueueOptions{MaxQueued: 2}
	for i, id := range []string{"c1", "c2"} {
		if _, err := f.s.Enqueue(f.ctx, call(id, "billing", at(float64(i)), 0), full); err != nil {
			t.Fatalf("Enqueue(%s) below the limit: %v", id, err)
		}
	}
	_, err := f.s.Enqueue(f.ctx, call("c3", "billing", at(2), 0), full)
	wantErr(t, "Enqueue at the limit", err, routing.ErrQueueFull)
	if _, ok := f.callByID("c3"); ok {
		t.Fatal("refused call c3 is in the store")
	}
	// Another queue is not limited by billing's count.
	other := call("x1", "billing2", at(2), 0)
	other.Skill = "billing"
	if _, err := f.s.Enqueue(f.ctx, other, full); err != nil {
		t.Fatalf("Enqueue in another queue: %v", err)
	}
	// A call ringing an agent does not count.
	f.ready("a1", at(3))
	f.matchOne(at(3), "c1", "a1")
	if _, err := f.s.Enqueue(f.ctx, call("c3", "billing", at(4), 0), full); err != nil {
		t.Fatalf("Enqueue with one call ringing: %v", err)
	}
}

func testJoinEmpty(t *testing.T, f *fixture) {
	f.agents(routing.AgentConfig{ID: "a1", Skills: skills("billing", 3)})
	_, err := f.s.Enqueue(f.ctx, call("c1", "billing", at(0), 0), routing.EnqueueOptions{})
	wantErr(t, "Enqueue with nobody logged in", err, routing.ErrNoAgents)
	if _, err := f.s.Enqueue(f.ctx, call("c1", "billing", at(0), 0), routing.EnqueueOptions{JoinEmpty: true}); err != nil {
		t.Fatalf("Enqueue with JoinEmpty: %v", err)
	}
	f.matchNone(at(1))
	f.ready("a1", at(2))
	f.matchOne(at(2), "c1", "a1")

	// A call with steps joins when an agent with a later step's skill is in.
	f.agents(routing.AgentConfig{ID: "g1", Skills: skills("general", 1)})
	f.state("g1", routing.AgentNotReady, "", at(3))
	c := call("c2", "vipq", at(3), 0)
	c.Steps = []routing.Step{{At: at(3), Skill: "vipq", MinLevel: 1}, {At: at(33), Skill: "general", MinLevel: 1}}
	f.enqueue(c)
}

func testMissDelay(t *testing.T, f *fixture) {
	f.agents(routing.AgentConfig{ID: "a1", Skills: skills("billing", 3)},
		routing.AgentConfig{ID: "a2", Skills: skills("billing", 1)})
	f.ready("a1", at(0))
	f.enqueue(call("c1", "billing", at(0), 0))
	o := f.matchOne(at(0), "c1", "a1")
	miss := routing.Miss{Reason: "busy", Until: at(15), MaxMisses: 3}
	if err := f.s.NoAnswer(f.ctx, o, miss, at(5)); err != nil {
		t.Fatalf("NoAnswer: %v", err)
	}
	a := f.wantAgent("a1", routing.AgentNotReady, "busy")
	if !a.WrapUntil.Equal(at(15)) || a.Misses != 1 || !a.Since.Equal(at(5)) {
		t.Fatalf("agent after a miss: until %v, misses %d, since %v; want %v, 1, %v", a.WrapUntil, a.Misses, a.Since, at(15), at(5))
	}
	// Not offered the call it just missed while its delay runs.
	res := f.matchNone(at(5))
	if !res.Next.Equal(at(15)) {
		t.Fatalf("Next = %v, want the end of the miss delay %v", res.Next, at(15))
	}
	res = f.match(at(15))
	if len(res.WrapEnded) != 1 || res.WrapEnded[0] != "a1" || len(res.Offers) != 1 || res.Offers[0].AgentID != "a1" {
		t.Fatalf("Match at the end of the delay: wrap ended %v, offers %s; want a1 ready and offered c1", res.WrapEnded, offersString(res.Offers))
	}
	// Answering ends the run of misses.
	f.answer(res.Offers[0], at(16))
	if a := f.agent("a1"); a.Misses != 0 {
		t.Fatalf("misses after an answer = %d, want 0", a.Misses)
	}
	f.finish(res.Offers[0], at(17))
	if a := f.agent("a1"); !a.IdleSince.Equal(at(17)) {
		t.Fatalf("idle since %v, want %v", a.IdleSince, at(17))
	}

	// A miss whose delay has already passed: ready at once.
	f.enqueue(call("c2", "billing", at(20), 0))
	o = f.matchOne(at(20), "c2", "a1")
	if err := f.s.NoAnswer(f.ctx, o, routing.Miss{Until: at(21)}, at(21)); err != nil {
		t.Fatalf("NoAnswer: %v", err)
	}
	if a := f.wantAgent("a1", routing.AgentReady, ""); !a.IdleSince.Equal(at(21)) || !a.WrapUntil.IsZero() {
		t.Fatalf("agent after a miss with no delay: idle since %v, until %v; want %v and no timer", a.IdleSince, a.WrapUntil, at(21))
	}

	// Setting not_ready during the delay cancels the timer.
	o = f.matchOne(at(22), "c2", "a1")
	if err := f.s.NoAnswer(f.ctx, o, routing.Miss{Until: at(40)}, at(23)); err != nil {
		t.Fatalf("NoAnswer: %v", err)
	}
	f.wantAgent("a1", routing.AgentNotReady, routing.ReasonNoAnswer)
	f.state("a1", routing.AgentNotReady, "lunch", at(24))
	res = f.match(at(40))
	if len(res.WrapEnded) != 0 {
		t.Fatalf("timer of a cancelled delay fired: %v", res.WrapEnded)
	}
	if a := f.wantAgent("a1", routing.AgentNotReady, "lunch"); !a.WrapUntil.IsZero() {
		t.Fatalf("not_ready by choice keeps a timer %v", a.WrapUntil)
	}
	// Ready by choice during a delay is allowed and ends it.
	f.ready("a1", at(41))
	if a := f.agent("a1"); a.Misses != 0 {
		t.Fatalf("misses after asking to be ready = %d, want 0", a.Misses)
	}
}

func testNotResponding(t *testing.T, f *fixture) {
	f.agents(routing.AgentConfig{ID: "a1", Skills: skills("billing", 3)})
	f.ready("a1", at(0))
	f.enqueue(call("c1", "billing", at(0), 0))
	miss := func(n int, when float64) {
		t.Helper()
		o := f.matchOne(at(when), "c1", "a1")
		if err := f.s.NoAnswer(f.ctx, o, routing.Miss{Reason: "no_answer", Until: at(when + 5), MaxMisses: 3}, at(when+1)); err != nil {
			t.Fatalf("NoAnswer %d: %v", n, err)
		}
	}
	miss(1, 0)
	f.wantAgent("a1", routing.AgentNotReady, "no_answer")
	miss(2, 6)
	miss(3, 12)
	a := f.wantAgent("a1", routing.AgentNotReady, routing.ReasonNotResponding)
	if !a.WrapUntil.IsZero() || a.Misses != 3 {
		t.Fatalf("not responding agent: until %v, misses %d; want no timer, 3", a.WrapUntil, a.Misses)
	}
	res := f.matchNone(at(100))
	if len(res.WrapEnded) != 0 {
		t.Fatalf("not responding agent came back by itself: %v", res.WrapEnded)
	}
	if c, _ := f.callByID("c1"); c.Misses != 3 || c.State != routing.CallQueued {
		t.Fatalf("call after 3 misses: %s with %d misses; want queued, 3", c.State, c.Misses)
	}
	f.ready("a1", at(101))
	f.matchOne(at(101), "c1", "a1")
}

func testForceReadyInWrapUp(t *testing.T, f *fixture) {
	f.agents(routing.AgentConfig{ID: "a1", Skills: skills("billing", 3)})
	f.ready("a1", at(0))
	c := call("c1", "billing", at(0), 0)
	c.WrapUp = time.Minute
	f.enqueue(c)
	o := f.matchOne(at(0), "c1", "a1")
	f.serve(o, at(10))
	_, err := f.s.SetAgentState(f.ctx, "a1", routing.AgentReady, "", false, at(11))
	wantErr(t, "ready in wrap-up", err, routing.ErrAgentBusy)
	a, err := f.s.SetAgentState(f.ctx, "a1", routing.AgentReady, "", true, at(12))
	if err != nil {
		t.Fatalf("forced ready in wrap-up: %v", err)
	}
	if a.State != routing.AgentReady || !a.IdleSince.Equal(at(12)) || !a.WrapUntil.IsZero() || a.CallID != "" {
		t.Fatalf("forced ready: %+v", a)
	}
	if res := f.match(at(70)); len(res.WrapEnded) != 0 {
		t.Fatalf("wrap-up ended after being forced off: %v", res.WrapEnded)
	}
	// Force does not interrupt a call.
	f.enqueue(call("c2", "billing", at(80), 0))
	f.matchOne(at(80), "c2", "a1")
	_, err = f.s.SetAgentState(f.ctx, "a1", routing.AgentReady, "", true, at(81))
	wantErr(t, "forced ready while ringing", err, routing.ErrAgentBusy)
}

func testLeaseExpiry(t *testing.T, f *fixture) {
	f.agents(routing.AgentConfig{ID: "a1", Skills: skills("billing", 3)},
		routing.AgentConfig{ID: "a2", Skills: skills("billing", 3)})
	f.ready("a1", at(0))
	c := call("c1", "billing", at(0), 0)
	c.Lease = 20 * time.Second
	f.enqueue(c)
	res := f.match(at(1))
	if len(res.Offers) != 1 || !res.Next.Equal(at(21)) {
		t.Fatalf("offers %s, next %v; want one offer and next = lease end %v", offersString(res.Offers), res.Next, at(21))
	}
	o := res.Offers[0]
	if got, _ := f.callByID("c1"); !got.LeaseUntil.Equal(at(21)) {
		t.Fatalf("lease until %v, want %v", got.LeaseUntil, at(21))
	}
	f.ready("a2", at(5)) // a2 is idle since 5, a1 since 0
	res = f.match(at(21))
	if len(res.Expired) != 1 || res.Expired[0].CallID != "c1" || res.Expired[0].Token != o.Token {
		t.Fatalf("expired %v, want the offer of c1", res.Expired)
	}
	// a1 is back and still the longest idle: the call goes to a1 again,
	// under a new token (the lease was not the agent's fault).
	if len(res.Offers) != 1 || res.Offers[0].AgentID != "a1" || res.Offers[0].Token <= o.Token {
		t.Fatalf("offers after the lease %s, want c1→a1 with a new token", offersString(res.Offers))
	}
	if got, _ := f.callByID("c1"); got.Misses != 0 || !got.Key.Equal(at(0)) {
		t.Fatalf("call after lease expiry: misses %d key %v, want 0 and %v", got.Misses, got.Key, at(0))
	}
	wantErr(t, "Answer with the expired offer", second(f.s.Answer(f.ctx, o, at(22))), routing.ErrStaleOffer)
	f.answer(res.Offers[0], at(22))
	if got, _ := f.callByID("c1"); !got.LeaseUntil.IsZero() {
		t.Fatalf("talking call keeps lease %v", got.LeaseUntil)
	}
	if res := f.match(at(100)); len(res.Expired) != 0 {
		t.Fatalf("a talking call's lease expired: %v", res.Expired)
	}
}

func testNodeLost(t *testing.T, f *fixture) {
	f.agents(routing.AgentConfig{ID: "a1", Skills: skills("billing", 3)},
		routing.AgentConfig{ID: "a2", Skills: skills("billing", 3)},
		routing.AgentConfig{ID: "a3", Skills: skills("billing", 3)})
	beat := func(id string, until time.Time, lost routing.AgentState) {
		t.Helper()
		if err := f.s.Heartbeat(f.ctx, routing.Node{ID: id, Until: until, LostState: lost}); err != nil {
			t.Fatalf("Heartbeat(%s): %v", id, err)
		}
	}
	beat("n1", at(10), routing.AgentNotReady)
	beat("n2", at(10), routing.AgentReady)
	mk := func(id, node string, enq float64) {
		c := call(id, "billing", at(enq), 0)
		c.Node = node
		c.WrapUp = 30 * time.Second
		f.enqueue(c)
	}
	f.ready("a1", at(0))
	f.ready("a2", at(0))
	mk("t1", "n1", 0) // will be talking to a1
	o1 := f.matchOne(at(0), "t1", "a1")
	f.answer(o1, at(1))
	mk("t2", "n2", 0) // will be talking to a2
	o2 := f.matchOne(at(1), "t2", "a2")
	f.answer(o2, at(2))
	f.ready("a3", at(2))
	mk("r1", "n1", 2) // ringing a3
	f.matchOne(at(2), "r1", "a3")
	mk("q1", "n1", 3) // queued
	mk("q2", "", 3)   // no node: never recovered
	mk("q3", "n3", 3) // a node that never beat: never recovered

	res := f.match(at(9))
	if len(res.Lost) != 0 || !res.Next.Equal(at(10)) {
		t.Fatalf("before the heartbeats lapse: lost %v, next %v; want none, %v", callIDs(res.Lost), res.Next, at(10))
	}
	beat("n2", at(20), routing.AgentReady) // n2 lives on
	res = f.match(at(10))
	if got := callIDs(res.Lost); len(got) != 3 || got[0] != "t1" || got[1] != "r1" || got[2] != "q1" {
		t.Fatalf("lost calls %v, want [t1 r1 q1] (node n1's, in line order)", got)
	}
	if len(res.LostNodes) != 1 || res.LostNodes[0] != "n1" {
		t.Fatalf("lost nodes %v, want [n1]", res.LostNodes)
	}
	f.wantAgent("a1", routing.AgentNotReady, routing.ReasonNodeLost) // n1's policy
	a3 := f.agent("a3")
	if a3.State != routing.AgentOffered || a3.CallID == "r1" {
		// a3 was freed (ready, idle since 2) and then offered q2 in the same pass.
		t.Fatalf("agent a3 after n1 was lost: %s with %q; want offered another call", a3.State, a3.CallID)
	}
	if a2 := f.agent("a2"); a2.State != routing.AgentTalking || a2.CallID != "t2" {
		t.Fatalf("agent a2 on a live node: %s with %q; want talking t2", a2.State, a2.CallID)
	}
	for _, id := range []string{"t1", "r1", "q1"} {
		if _, ok := f.callByID(id); ok {
			t.Fatalf("call %s of the lost node is still in the store", id)
		}
	}
	if len(res.Offers) != 1 || res.Offers[0].CallID != "q2" || res.Offers[0].AgentID != "a3" {
		t.Fatalf("offers %s, want q2→a3", offersString(res.Offers))
	}
	// n2 lapses too: its talking agent goes to wrap-up (policy ready).
	res = f.match(at(20))
	if got := callIDs(res.Lost); len(got) != 1 || got[0] != "t2" {
		t.Fatalf("lost %v, want [t2]", got)
	}
	if a2 := f.wantAgent("a2", routing.AgentWrapUp, ""); !a2.WrapUntil.Equal(at(50)) {
		t.Fatalf("a2 wraps up until %v, want %v", a2.WrapUntil, at(50))
	}
	if res := f.match(at(21)); len(res.Lost) != 0 || len(res.LostNodes) != 0 {
		t.Fatalf("a recovered node was recovered again: %v %v", res.LostNodes, callIDs(res.Lost))
	}
	if _, ok := f.callByID("q3"); !ok {
		t.Fatal("call q3 of a node with no heartbeat was removed")
	}
	// A node that beats again after recovery starts afresh.
	beat("n1", at(40), routing.AgentNotReady)
	mk("n1c", "n1", 22)
	if res := f.match(at(30)); len(res.Lost) != 0 {
		t.Fatalf("live node n1 lost calls: %v", callIDs(res.Lost))
	}
}

func testModify(t *testing.T, f *fixture) {
	f.agents(routing.AgentConfig{ID: "a1", Skills: skills("billing", 3)},
		routing.AgentConfig{ID: "a2", Skills: skills("complaints", 3)})
	f.state("a1", routing.AgentNotReady, "", at(0))
	f.state("a2", routing.AgentNotReady, "", at(0))
	for i, id := range []string{"c1", "c2", "c3"} {
		f.enqueue(call(id, "billing", at(float64(i)), 0))
	}
	got, err := f.s.Modify(f.ctx, "c3", routing.CallChange{Tier: "vip", Key: at(-120)}, at(5))
	if err != nil {
		t.Fatalf("Modify: %v", err)
	}
	if got.Tier != "vip" || !got.Key.Equal(at(-120)) || !got.EnqueuedAt.Equal(at(2)) || got.State != routing.CallQueued {
		t.Fatalf("modified call %+v", got)
	}
	if ids := callIDs(f.calls()); ids[0] != "c3" {
		t.Fatalf("order after re-prioritising c3: %v, want c3 first", ids)
	}
	f.ready("a1", at(6))
	f.matchOne(at(6), "c3", "a1")
	_, err = f.s.Modify(f.ctx, "c3", routing.CallChange{Tier: "default"}, at(7))
	wantErr(t, "Modify a ringing call", err, routing.ErrNotWaiting)
	_, err = f.s.Modify(f.ctx, "nope", routing.CallChange{Tier: "default"}, at(7))
	wantErr(t, "Modify an unknown call", err, routing.ErrUnknownCall)

	// Move c2 to complaints: a2 takes it, though c1 is older.
	got, err = f.s.Modify(f.ctx, "c2", routing.CallChange{Queue: "complaints", Skill: "complaints",
		Steps: []routing.Step{{At: at(1), Skill: "complaints", MinLevel: 1}}, WrapUp: time.Second, Lease: time.Minute}, at(8))
	if err != nil {
		t.Fatalf("Modify (move): %v", err)
	}
	if got.Queue != "complaints" || got.Skill != "complaints" || !got.Key.Equal(at(1)) || got.Lease != time.Minute {
		t.Fatalf("moved call %+v", got)
	}
	f.ready("a2", at(9))
	f.matchOne(at(9), "c2", "a2")

	// Send c1 to a named agent: it waits for a2 although a1 is ready.
	got, err = f.s.Modify(f.ctx, "c1", routing.CallChange{PreferredAgent: "a2", PreferUntil: at(60)}, at(10))
	if err != nil || got.PreferredAgent != "a2" {
		t.Fatalf("Modify (to agent): %+v, %v", got, err)
	}
	f.agents(routing.AgentConfig{ID: "a3", Skills: skills("billing", 5)})
	f.ready("a3", at(10))
	if res := f.matchNone(at(11)); !res.Next.Equal(at(60)) {
		t.Fatalf("next %v, want the wait for a2 to end at %v", res.Next, at(60))
	}
	f.matchOne(at(60), "c1", "a3")
}

func testSkillSteps(t *testing.T, f *fixture) {
	f.agents(routing.AgentConfig{ID: "junior", Skills: skills("vip", 2)},
		routing.AgentConfig{ID: "senior", Skills: skills("vip", 4)},
		routing.AgentConfig{ID: "general", Skills: skills("billing", 3)})
	stepped := func(id string, enq float64) routing.Call {
		c := call(id, "vip", at(enq), 0)
		c.Steps = []routing.Step{
			{At: at(enq), Skill: "vip", MinLevel: 4},
			{At: at(enq + 30), Skill: "vip", MinLevel: 1},
			{At: at(enq + 60), Skill: "billing", MinLevel: 1},
		}
		return f.enqueue(c)
	}
	f.ready("junior", at(0))
	f.ready("general", at(0))
	f.state("senior", routing.AgentNotReady, "", at(0))
	stepped("v1", 0)
	res := f.matchNone(at(0))
	if !res.Next.Equal(at(30)) {
		t.Fatalf("next %v, want the second step at %v", res.Next, at(30))
	}
	// The senior agent, when ready, takes it at once in step 1.
	f.ready("senior", at(10))
	o := f.matchOne(at(10), "v1", "senior")
	f.serve(o, at(11))
	f.state("senior", routing.AgentNotReady, "", at(12))

	stepped("v2", 12)
	f.matchNone(at(41))
	f.matchOne(at(42), "v2", "junior") // step 2 reached: any vip level
	stepped("v3", 50)
	res = f.matchNone(at(109))
	if !res.Next.Equal(at(110)) {
		t.Fatalf("next %v, want the third step at %v", res.Next, at(110))
	}
	o = f.matchOne(at(110), "v3", "general") // step 3: a second skill
	f.serve(o, at(111))

	// Earlier steps choose first: with all steps reached, the vip agent
	// takes the call although the general agent has been idle longer.
	f.ready("senior", at(112))
	stepped("v6", 20)
	if res := f.match(at(112)); len(res.Offers) != 1 || res.Offers[0].CallID != "v6" || res.Offers[0].AgentID != "senior" {
		t.Fatalf("offers %s, want v6→senior (the first step's agent before the third's)", offersString(res.Offers))
	}
}
