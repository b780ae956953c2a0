package storetest

import (
	"testing"
	"time"

	"kefu/routing"
)

func testAgentStateTransitions(t *testing.T, f *fixture) {
	f.agents(routing.AgentConfig{ID: "a1", Skills: skills("billing", 3)})
	f.wantAgent("a1", routing.AgentLoggedOut, "")

	set := func(s routing.AgentState, reason string, when time.Time) error {
		_, err := f.s.SetAgentState(f.ctx, "a1", s, reason, false, when)
		return err
	}
	_, err := f.s.SetAgentState(f.ctx, "nobody", routing.AgentReady, "", false, at(0))
	wantErr(t, "unknown agent", err, routing.ErrUnknownAgent)
	wantErr(t, "set talking", set(routing.AgentTalking, "", at(0)), routing.ErrInvalidState)
	wantErr(t, "set nonsense", set("dancing", "", at(0)), routing.ErrInvalidState)

	a := f.state("a1", routing.AgentNotReady, "training", at(1))
	if a.State != routing.AgentNotReady || a.Reason != "training" || !a.Since.Equal(at(1)) {
		t.Fatalf("after not_ready: %+v", a)
	}
	a = f.state("a1", routing.AgentReady, "", at(2))
	if a.State != routing.AgentReady || a.Reason != "" || !a.IdleSince.Equal(at(2)) || !a.Since.Equal(at(2)) {
		t.Fatalf("after ready: %+v", a)
	}
	f.state("a1", routing.AgentLoggedOut, "", at(3))
	f.wantAgent("a1", routing.AgentLoggedOut, "")
	f.ready("a1", at(4))

	f.enqueue(call("c1", "billing", at(5), 0))
	o := f.matchOne(at(5), "c1", "a1")
	wantErr(t, "ready while ringing", set(routing.AgentReady, "", at(6)), routing.ErrAgentBusy)
	f.answer(o, at(6))
	wantErr(t, "ready while talking", set(routing.AgentReady, "", at(7)), routing.ErrAgentBusy)
	f.finish(o, at(8))

	// not_ready ends a wrap-up at once.
	c := call("c2", "billing", at(9), 0)
	c.WrapUp = time.Minute
	f.enqueue(c)
	o = f.matchOne(at(9), "c2", "a1")
	f.serve(o, at(10))
	f.wantAgent("a1", routing.AgentWrapUp, "")
	f.state("a1", routing.AgentNotReady, "break", at(11))
	a = f.wantAgent("a1", routing.AgentNotReady, "break")
	if !a.WrapUntil.IsZero() {
		t.Fatalf("wrap until %v after leaving wrap-up", a.WrapUntil)
	}
	if res := f.match(at(200)); len(res.WrapEnded) != 0 {
		t.Fatalf("wrap-up ended for %v after it was cut short", res.WrapEnded)
	}
	f.wantAgent("a1", routing.AgentNotReady, "break")
}

func testPendingStateAfterCall(t *testing.T, f *fixture) {
	f.agents(
		routing.AgentConfig{ID: "a1", Skills: skills("billing", 3)},
		routing.AgentConfig{ID: "a2", Skills: skills("billing", 3)},
	)
	f.ready("a1", at(0))
	f.state("a2", routing.AgentNotReady, "", at(0))

	// logged_out while talking: the call goes on, logout after the call.
	f.enqueue(call("c1", "billing", at(1), 0))
	o := f.matchOne(at(1), "c1", "a1")
	f.answer(o, at(2))
	a := f.state("a1", routing.AgentLoggedOut, "", at(3))
	if a.State != routing.AgentTalking || a.Pending != routing.AgentLoggedOut {
		t.Fatalf("after logout request while talking: state %s pending %q", a.State, a.Pending)
	}
	f.finish(o, at(4))
	f.wantAgent("a1", routing.AgentLoggedOut, "")
	if a := f.agent("a1"); a.Pending != "" {
		t.Fatalf("pending %q left after it applied", a.Pending)
	}

	// not_ready while talking with wrap-up: after the wrap-up.
	f.ready("a1", at(5))
	c := call("c2", "billing", at(5), 0)
	c.WrapUp = 10 * time.Second
	f.enqueue(c)
	o = f.matchOne(at(5), "c2", "a1")
	f.answer(o, at(6))
	f.state("a1", routing.AgentNotReady, "coaching", at(7))
	f.finish(o, at(8))
	f.wantAgent("a1", routing.AgentWrapUp, "")
	res := f.match(at(18))
	if len(res.WrapEnded) != 1 {
		t.Fatalf("wrap ended %v, want [a1]", res.WrapEnded)
	}
	f.wantAgent("a1", routing.AgentNotReady, "coaching")

	// logged_out while ringing, then no answer: logged out, not not_ready.
	f.ready("a1", at(20))
	f.enqueue(call("c3", "billing", at(20), 0))
	o = f.matchOne(at(20), "c3", "a1")
	f.state("a1", routing.AgentLoggedOut, "", at(21))
	if err := f.s.NoAnswer(f.ctx, o, hold(""), at(22)); err != nil {
		t.Fatalf("NoAnswer: %v", err)
	}
	f.wantAgent("a1", routing.AgentLoggedOut, "")

	// not_ready while ringing, then no answer: the agent's own request wins
	// (a miss delay would put them back to ready; they asked for a break).
	f.ready("a1", at(23))
	o = f.matchOne(at(23), "c3", "a1")
	f.state("a1", routing.AgentNotReady, "lunch", at(24))
	if err := f.s.NoAnswer(f.ctx, o, hold(""), at(25)); err != nil {
		t.Fatalf("NoAnswer: %v", err)
	}
	if a := f.wantAgent("a1", routing.AgentNotReady, "lunch"); !a.WrapUntil.IsZero() || a.Misses != 1 {
		t.Fatalf("agent after a miss with a pending not_ready: wrap until %v, misses %d; want no timer, 1 miss", a.WrapUntil, a.Misses)
	}
}

func testPutAgentsKeepsState(t *testing.T, f *fixture) {
	f.agents(routing.AgentConfig{ID: "a1", Skills: skills("billing", 3)})
	f.ready("a1", at(0))
	f.enqueue(call("c1", "billing", at(1), 0))
	o := f.matchOne(at(1), "c1", "a1")
	f.agents(routing.AgentConfig{ID: "a1", Skills: skills("billing", 5, "complaints", 2)})
	a := f.wantAgent("a1", routing.AgentOffered, "")
	if a.Skills["billing"] != 5 || a.Skills["complaints"] != 2 || a.CallID != "c1" {
		t.Fatalf("after PutAgents: %+v", a)
	}
	f.answer(o, at(2))

	// The returned skills are a copy.
	a.Skills["billing"] = 1
	if f.agent("a1").Skills["billing"] != 5 {
		t.Fatal("changing a returned agent's skills changed the store")
	}
	if err := f.s.PutAgents(f.ctx, []routing.AgentConfig{{ID: "bad", Skills: skills("billing", 9)}}, at(3)); err == nil {
		t.Fatal("PutAgents accepted level 9")
	}
}
