package storetest

import (
	"slices"
	"testing"
	"time"

	"kefu/routing"
)

func testWrapUp(t *testing.T, f *fixture) {
	f.agents(
		routing.AgentConfig{ID: "a1", Skills: skills("billing", 5)},
		routing.AgentConfig{ID: "a2", Skills: skills("billing", 3)},
	)
	f.ready("a1", at(0))
	c := call("c1", "billing", at(1), 0)
	c.WrapUp = 30 * time.Second
	f.enqueue(c)
	o := f.matchOne(at(1), "c1", "a1")
	f.answer(o, at(2))
	f.enqueue(call("c2", "billing", at(3), 0))
	f.finish(o, at(60))
	a := f.wantAgent("a1", routing.AgentWrapUp, "")
	if !a.WrapUntil.Equal(at(90)) || !a.Since.Equal(at(60)) {
		t.Fatalf("a1 wrap until %v since %v, want %v and %v", a.WrapUntil, a.Since, at(90), at(60))
	}
	res := f.matchNone(at(60))
	if !res.Next.Equal(at(90)) {
		t.Fatalf("Next = %v, want wrap-up end %v", res.Next, at(90))
	}
	f.matchNone(at(89.5))
	wantErr(t, "ready during wrap-up", func() error {
		_, err := f.s.SetAgentState(f.ctx, "a1", routing.AgentReady, "", false, at(70))
		return err
	}(), routing.ErrAgentBusy)

	// The timer may fire late: wrap-up still ends at 90s, and the agent
	// counts as idle from then.
	res = f.match(at(100))
	if !slices.Equal(res.WrapEnded, []string{"a1"}) {
		t.Fatalf("Match at 100s: wrap ended %v, want [a1]", res.WrapEnded)
	}
	if len(res.Offers) != 1 || res.Offers[0].AgentID != "a1" || res.Offers[0].CallID != "c2" {
		t.Fatalf("Match at 100s: offers %s, want c2→a1", offersString(res.Offers))
	}
	if a := f.wantAgent("a1", routing.AgentOffered, ""); !a.IdleSince.Equal(at(90)) {
		t.Fatalf("a1 idle since %v, want the wrap-up end %v", a.IdleSince, at(90))
	}
}

func testMaxWaitOverflow(t *testing.T, f *fixture) {
	f.agents(routing.AgentConfig{ID: "a1", Skills: skills("billing", 5)})
	f.state("a1", routing.AgentNotReady, "", at(0))
	c := call("c1", "billing", at(0), 0)
	c.Deadline = at(60)
	f.enqueue(c)
	c = call("c2", "billing", at(10), 0)
	c.Deadline = at(70)
	f.enqueue(c)
	f.enqueue(call("c3", "billing", at(10), 0)) // no max wait

	res := f.match(at(1))
	if !res.Next.Equal(at(60)) {
		t.Fatalf("Next = %v, want the first deadline %v", res.Next, at(60))
	}
	if res = f.match(at(59)); len(res.Overflowed) != 0 {
		t.Fatalf("overflowed %v before the deadline", callIDs(res.Overflowed))
	}
	res = f.match(at(60))
	if got := callIDs(res.Overflowed); !slices.Equal(got, []string{"c1"}) {
		t.Fatalf("overflowed %v at 60s, want [c1]", got)
	}
	if !res.Next.Equal(at(70)) {
		t.Fatalf("Next = %v, want %v", res.Next, at(70))
	}
	if _, ok := f.callByID("c1"); ok {
		t.Fatal("c1 still in the store after overflowing")
	}

	// An offered call is not overflowed; if it comes back after its
	// deadline, it overflows at the next pass.
	f.ready("a1", at(65))
	o := f.matchOne(at(65), "c2", "a1")
	if res = f.match(at(80)); len(res.Overflowed) != 0 {
		t.Fatalf("overflowed %v while ringing an agent", callIDs(res.Overflowed))
	}
	if err := f.s.NoAnswer(f.ctx, o, hold(""), at(80)); err != nil {
		t.Fatalf("NoAnswer: %v", err)
	}
	res = f.match(at(80))
	if got := callIDs(res.Overflowed); !slices.Equal(got, []string{"c2"}) {
		t.Fatalf("overflowed %v, want [c2]", got)
	}
	if got := callIDs(f.calls()); !slices.Equal(got, []string{"c3"}) {
		t.Fatalf("calls %v, want [c3]", got)
	}
}
