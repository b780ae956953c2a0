package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"kefu/routing"
)

func testRequeueKeepsKey(t *testing.T, f *fixture) {
	f.agents(
		routing.AgentConfig{ID: "a1", Skills: skills("billing", 5)},
		routing.AgentConfig{ID: "a2", Skills: skills("billing", 3)},
	)
	f.state("a2", routing.AgentNotReady, "", at(0))
	c1 := call("c1", "billing", at(0), 30*time.Second)
	c1.Deadline = at(600)
	c1 = f.enqueue(c1)
	f.enqueue(call("c2", "billing", at(5), 0))
	f.ready("a1", at(10))
	o := f.matchOne(at(10), "c1", "a1")

	if err := f.s.NoAnswer(f.ctx, o, hold(""), at(25)); err != nil {
		t.Fatalf("NoAnswer: %v", err)
	}
	f.wantAgent("a1", routing.AgentNotReady, routing.ReasonNoAnswer)
	got, ok := f.callByID("c1")
	switch {
	case !ok:
		t.Fatal("c1 gone after NoAnswer")
	case got.State != routing.CallQueued || !got.Key.Equal(c1.Key) || got.Seq != c1.Seq ||
		!got.EnqueuedAt.Equal(c1.EnqueuedAt) || !got.Deadline.Equal(c1.Deadline):
		t.Fatalf("c1 after NoAnswer = %+v, want queued with key %v seq %d deadline %v", got, c1.Key, c1.Seq, c1.Deadline)
	case got.Misses != 1 || got.AgentID != "" || got.Token != 0:
		t.Fatalf("c1 after NoAnswer: misses %d agent %q token %d, want 1, none, 0", got.Misses, got.AgentID, got.Token)
	}
	// Not re-offered to the agent who missed it; the next agent gets c1,
	// still ahead of c2.
	f.matchNone(at(25))
	f.ready("a2", at(26))
	o = f.matchOne(at(26), "c1", "a2")

	// A reason given by the SIP layer is kept.
	if err := f.s.NoAnswer(f.ctx, o, hold("busy"), at(27)); err != nil {
		t.Fatalf("NoAnswer: %v", err)
	}
	f.wantAgent("a2", routing.AgentNotReady, "busy")
}

func testNoDoubleOffer(t *testing.T, f *fixture) {
	f.agents(
		routing.AgentConfig{ID: "a1", Skills: skills("billing", 3)},
		routing.AgentConfig{ID: "a2", Skills: skills("billing", 3)},
	)
	f.ready("a1", at(0))
	f.ready("a2", at(1))
	f.enqueue(call("c1", "billing", at(2), 0))
	f.matchOne(at(2), "c1", "a1")
	for i := range 3 {
		f.matchNone(at(3 + float64(i)))
	}
	f.wantAgent("a2", routing.AgentReady, "")
	offered := 0
	for _, a := range []string{"a1", "a2"} {
		if f.agent(a).State == routing.AgentOffered {
			offered++
		}
	}
	if offered != 1 {
		t.Fatalf("%d agents offered, want 1", offered)
	}
}

// testConcurrentMatchNoDoubleOffer: enqueues and matches from many goroutines
// at once; every call and every agent is in at most one offer.
func testConcurrentMatchNoDoubleOffer(t *testing.T, f *fixture) {
	const agents, workers, perWorker = 12, 8, 25
	for i := range agents {
		f.agents(routing.AgentConfig{ID: fmt.Sprintf("a%02d", i), Skills: skills("billing", 1+i%5)})
		f.ready(fmt.Sprintf("a%02d", i), at(float64(i)))
	}
	var (
		mu     sync.Mutex
		offers []routing.Offer
		wg     sync.WaitGroup
		errs   = make(chan error, workers)
	)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				c := call(fmt.Sprintf("w%d-%d", w, i), "billing", at(100+float64(i)), 0)
				if _, err := f.s.Enqueue(f.ctx, c, routing.EnqueueOptions{}); err != nil {
					errs <- err
					return
				}
				res, err := f.s.Match(f.ctx, at(200))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				offers = append(offers, res.Offers...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(offers) != agents {
		t.Fatalf("%d offers, want %d (one per agent)", len(offers), agents)
	}
	calls, agentsSeen := map[string]bool{}, map[string]bool{}
	for _, o := range offers {
		if calls[o.CallID] || agentsSeen[o.AgentID] {
			t.Fatalf("double offer: %s", offersString(offers))
		}
		calls[o.CallID], agentsSeen[o.AgentID] = true, true
	}
	f.matchNone(at(201))
}

func testOneCallPerAgent(t *testing.T, f *fixture) {
	f.agents(routing.AgentConfig{ID: "a1", Skills: skills("billing", 3, "complaints", 3)})
	f.ready("a1", at(0))
	f.enqueue(call("c1", "billing", at(1), 0))
	f.enqueue(call("c2", "complaints", at(2), 0))
	o := f.matchOne(at(2), "c1", "a1")
	f.matchNone(at(3))
	f.answer(o, at(4))
	f.matchNone(at(5))
	if c2, _ := f.callByID("c2"); c2.State != routing.CallQueued {
		t.Fatalf("c2 is %s while a1 talks to c1, want queued", c2.State)
	}
	f.finish(o, at(6))
	f.matchOne(at(6), "c2", "a1")
}

func testLeaveFreesAgent(t *testing.T, f *fixture) {
	f.agents(
		routing.AgentConfig{ID: "a1", Skills: skills("billing", 3)},
		routing.AgentConfig{ID: "a2", Skills: skills("billing", 3)},
	)
	f.ready("a1", at(0))
	f.ready("a2", at(5))
	f.enqueue(call("c1", "billing", at(10), 0))
	o := f.matchOne(at(10), "c1", "a1")

	left, err := f.s.Leave(f.ctx, "c1", at(12))
	if err != nil {
		t.Fatalf("Leave: %v", err)
	}
	if left.ID != "c1" || left.State != routing.CallOffered || left.AgentID != "a1" {
		t.Fatalf("Leave returned %+v, want c1 offered to a1", left)
	}
	a := f.wantAgent("a1", routing.AgentReady, "")
	if !a.IdleSince.Equal(at(0)) || a.CallID != "" || a.Token != 0 {
		t.Fatalf("a1 after the caller left: idle since %v call %q token %d; want idle since %v, no call", a.IdleSince, a.CallID, a.Token, at(0))
	}
	if n := len(f.calls()); n != 0 {
		t.Fatalf("%d calls left behind", n)
	}
	wantErr(t, "Answer after the caller left", second(f.s.Answer(f.ctx, o, at(13))), routing.ErrStaleOffer, routing.ErrUnknownCall)
	_, err = f.s.Leave(f.ctx, "c1", at(13))
	wantErr(t, "second Leave", err, routing.ErrUnknownCall)

	// a1 kept its place: still the longest idle.
	f.enqueue(call("c2", "billing", at(14), 0))
	f.matchOne(at(14), "c2", "a1")

	// A queued call just goes.
	f.enqueue(call("c3", "billing", at(15), 0))
	f.matchOne(at(15), "c3", "a2")
	f.state("a1", routing.AgentNotReady, "", at(16)) // pending
	f.enqueue(call("c4", "billing", at(16), 0))
	if _, err := f.s.Leave(f.ctx, "c4", at(17)); err != nil {
		t.Fatalf("Leave queued: %v", err)
	}
	if _, ok := f.callByID("c4"); ok {
		t.Fatal("c4 still there after Leave")
	}
	// Caller hangs up while ringing an agent with a pending not_ready: the
	// agent goes to the pending state.
	if _, err := f.s.Leave(f.ctx, "c2", at(18)); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	f.wantAgent("a1", routing.AgentNotReady, "")
}

func testLeaveWhileTalking(t *testing.T, f *fixture) {
	f.agents(routing.AgentConfig{ID: "a1", Skills: skills("billing", 3)})
	f.ready("a1", at(0))
	c := call("c1", "billing", at(1), 0)
	c.WrapUp = 30 * time.Second
	f.enqueue(c)
	o := f.matchOne(at(1), "c1", "a1")
	f.answer(o, at(2))
	if _, err := f.s.Leave(f.ctx, "c1", at(60)); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	a := f.wantAgent("a1", routing.AgentWrapUp, "")
	if !a.WrapUntil.Equal(at(90)) {
		t.Fatalf("wrap until %v, want %v", a.WrapUntil, at(90))
	}
	if n := len(f.calls()); n != 0 {
		t.Fatalf("%d calls left behind", n)
	}
	wantErr(t, "Finish after Leave", second(f.s.Finish(f.ctx, o, at(61))), routing.ErrStaleOffer, routing.ErrUnknownCall)
}

func testStaleOffer(t *testing.T, f *fixture) {
	f.agents(
		routing.AgentConfig{ID: "a1", Skills: skills("billing", 5)},
		routing.AgentConfig{ID: "a2", Skills: skills("billing", 3)},
	)
	f.ready("a1", at(0))
	f.enqueue(call("c1", "billing", at(1), 0))
	o := f.matchOne(at(1), "c1", "a1")

	bad := o
	bad.Token++
	wantErr(t, "Answer with a newer token", second(f.s.Answer(f.ctx, bad, at(2))), routing.ErrStaleOffer)
	bad = o
	bad.Token = 0
	wantErr(t, "Answer with token 0", second(f.s.Answer(f.ctx, bad, at(2))), routing.ErrStaleOffer)
	bad = o
	bad.AgentID = "a2"
	wantErr(t, "Answer by another agent", second(f.s.Answer(f.ctx, bad, at(2))), routing.ErrStaleOffer)
	bad.AgentID = "nobody"
	wantErr(t, "Answer by an unknown agent", second(f.s.Answer(f.ctx, bad, at(2))), routing.ErrUnknownAgent)
	bad = o
	bad.CallID = "nocall"
	wantErr(t, "Answer of an unknown call", second(f.s.Answer(f.ctx, bad, at(2))), routing.ErrStaleOffer, routing.ErrUnknownCall)
	wantErr(t, "Finish before Answer", second(f.s.Finish(f.ctx, o, at(2))), routing.ErrStaleOffer)

	// Missed, then offered again: the first offer is dead.
	if err := f.s.NoAnswer(f.ctx, o, hold(""), at(3)); err != nil {
		t.Fatalf("NoAnswer: %v", err)
	}
	wantErr(t, "second NoAnswer", f.s.NoAnswer(f.ctx, o, hold(""), at(3)), routing.ErrStaleOffer)
	f.ready("a1", at(4))
	o2 := f.matchOne(at(4), "c1", "a1") // same agent, new token
	if o2.Token <= o.Token {
		t.Fatalf("re-offer token %d, want > %d", o2.Token, o.Token)
	}
	wantErr(t, "Answer with the first offer", second(f.s.Answer(f.ctx, o, at(5))), routing.ErrStaleOffer)

	f.answer(o2, at(5))
	wantErr(t, "second Answer (double answer)", second(f.s.Answer(f.ctx, o2, at(6))), routing.ErrStaleOffer)
	wantErr(t, "NoAnswer after Answer", f.s.NoAnswer(f.ctx, o2, hold(""), at(6)), routing.ErrStaleOffer)
	f.wantAgent("a1", routing.AgentTalking, "")
	f.finish(o2, at(7))
	wantErr(t, "second Finish", second(f.s.Finish(f.ctx, o2, at(8))), routing.ErrStaleOffer, routing.ErrUnknownCall)
	f.wantAgent("a1", routing.AgentReady, "")
}

func testTokensIncrease(t *testing.T, f *fixture) {
	f.agents(
		routing.AgentConfig{ID: "a1", Skills: skills("billing", 3)},
		routing.AgentConfig{ID: "a2", Skills: skills("billing", 3)},
	)
	f.ready("a1", at(0))
	f.ready("a2", at(0))
	var last uint64
	for i := range 10 {
		f.enqueue(call(fmt.Sprint("c", i), "billing", at(float64(i)), 0))
		f.enqueue(call(fmt.Sprint("d", i), "billing", at(float64(i)), 0))
		res := f.match(at(float64(i)))
		if len(res.Offers) != 2 {
			t.Fatalf("round %d: offers %s, want 2", i, offersString(res.Offers))
		}
		for _, o := range res.Offers {
			if o.Token <= last {
				t.Fatalf("token %d after %d: tokens must strictly increase", o.Token, last)
			}
			last = o.Token
			f.serve(o, at(float64(i)))
		}
	}
}
