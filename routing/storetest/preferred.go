package storetest

import (
	"testing"
	"time"

	"kefu/routing"
)

// preferredFixture: manager "m" (level 1, the account manager) and "x"
// (level 5). Returns a call preferring m for 30s from t.
func preferredFixture(f *fixture) func(id string, enq time.Time) routing.Call {
	f.agents(
		routing.AgentConfig{ID: "m", Skills: skills("billing", 1)},
		routing.AgentConfig{ID: "x", Skills: skills("billing", 5)},
	)
	return func(id string, enq time.Time) routing.Call {
		c := call(id, "billing", enq, 0)
		c.PreferredAgent, c.PreferUntil = "m", enq.Add(30*time.Second)
		return c
	}
}

func testPreferredAgent(t *testing.T, f *fixture) {
	vipCall := preferredFixture(f)
	f.ready("x", at(0))
	f.ready("m", at(5)) // less idle and a lower level, but the account manager
	f.enqueue(call("other", "billing", at(-200), 0))
	f.enqueue(vipCall("c1", at(10)))
	res := f.match(at(10))
	if len(res.Offers) != 2 {
		t.Fatalf("offers %s, want other→x and c1→m", offersString(res.Offers))
	}
	for _, o := range res.Offers {
		if want := map[string]string{"other": "x", "c1": "m"}[o.CallID]; o.AgentID != want {
			t.Fatalf("offers %s, want other→x and c1→m", offersString(res.Offers))
		}
	}

	// After the wait the manager is still preferred whenever ready.
	f.agents(routing.AgentConfig{ID: "n", Skills: skills("complaints", 5)}) // no billing skill
	f.ready("n", at(11))
	c := vipCall("c2", at(100))
	c.PreferredAgent = "n" // account managers need not have the skill
	f.enqueue(c)
	f.matchOne(at(100), "c2", "n")
}

func testPreferredAgentWaitExpiry(t *testing.T, f *fixture) {
	vipCall := preferredFixture(f)
	f.state("m", routing.AgentNotReady, "meeting", at(0))
	f.ready("x", at(0))
	f.enqueue(vipCall("c1", at(10)))
	res := f.matchNone(at(10))
	if !res.Next.Equal(at(40)) {
		t.Fatalf("Next = %v, want the prefer-wait expiry %v", res.Next, at(40))
	}
	// A later plain call is not held up by the waiting one.
	f.enqueue(call("c2", "billing", at(20), 0))
	o := f.matchOne(at(20), "c2", "x")
	f.serve(o, at(21))
	f.matchNone(at(39.999))
	f.matchOne(at(40), "c1", "x")
}

func testPreferredAgentLoggedOutNoWait(t *testing.T, f *fixture) {
	vipCall := preferredFixture(f)
	f.ready("x", at(0)) // m stays logged out: nobody to wait for
	f.enqueue(vipCall("c1", at(10)))
	f.matchOne(at(10), "c1", "x")
}

func testPreferredAgentMissEndsWait(t *testing.T, f *fixture) {
	vipCall := preferredFixture(f)
	f.ready("m", at(0))
	f.state("x", routing.AgentNotReady, "", at(0))
	f.enqueue(vipCall("c1", at(10)))
	o := f.matchOne(at(10), "c1", "m")
	if err := f.s.NoAnswer(f.ctx, o, hold(""), at(25)); err != nil {
		t.Fatalf("NoAnswer: %v", err)
	}
	f.ready("x", at(26)) // before the 30s are over: the call no longer waits for m
	f.matchOne(at(26), "c1", "x")
}
