// Package storetest is the contract of routing.Store: a test suite every store
// implementation runs (the embedded go-memdb store now, the Redis store later)
// and must pass with identical results, plus the shared benchmarks.
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) routing.Store { return newStore(t) })
//	}
//
// Every test drives the store with explicit times (there is no clock and no
// sleeping) and checks results through the Store interface only.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"kefu/routing"
)

// Run runs the whole suite; newStore must return an empty store each time it
// is called (it is called once per subtest) and clean up with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) routing.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"EnqueueNeedsLoggedInAgent", testEnqueueNeedsLoggedInAgent},
		{"DuplicateCall", testDuplicateCall},
		{"OrderByVirtualArrival", testOrderByVirtualArrival},
		{"TieOnKeyBySeq", testTieOnKeyBySeq},
		{"RequeueKeepsKey", testRequeueKeepsKey},
		{"NoDoubleOffer", testNoDoubleOffer},
		{"ConcurrentMatchNoDoubleOffer", testConcurrentMatchNoDoubleOffer},
		{"OneCallPerAgent", testOneCallPerAgent},
		{"LeaveFreesAgent", testLeaveFreesAgent},
		{"LeaveWhileTalking", testLeaveWhileTalking},
		{"StaleOffer", testStaleOffer},
		{"TokensIncrease", testTokensIncrease},
		{"CrossQueue", testCrossQueue},
		{"PreferredAgent", testPreferredAgent},
		{"PreferredAgentWaitExpiry", testPreferredAgentWaitExpiry},
		{"PreferredAgentLoggedOutNoWait", testPreferredAgentLoggedOutNoWait},
		{"PreferredAgentMissEndsWait", testPreferredAgentMissEndsWait},
		{"LevelThenLongestIdle", testLevelThenLongestIdle},
		{"WrapUp", testWrapUp},
		{"MaxWaitOverflow", testMaxWaitOverflow},
		{"AgentStateTransitions", testAgentStateTransitions},
		{"PendingStateAfterCall", testPendingStateAfterCall},
		{"PutAgentsKeepsState", testPutAgentsKeepsState},
		{"CallbackKeepsPlace", testCallbackKeepsPlace},
		{"CallbackNoAnswerKeepsCallback", testCallbackNoAnswerKeepsCallback},
		{"QueueFull", testQueueFull},
		{"JoinEmpty", testJoinEmpty},
		{"MissDelay", testMissDelay},
		{"NotResponding", testNotResponding},
		{"ForceReadyInWrapUp", testForceReadyInWrapUp},
		{"LeaseExpiry", testLeaseExpiry},
		{"NodeLost", testNodeLost},
		{"Modify", testModify},
		{"SkillSteps", testSkillSteps},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, &fixture{t: t, s: newStore(t), ctx: t.Context()})
		})
	}
	t.Run("Properties", func(t *testing.T) { testProperties(t, newStore) })
}

// t0 is the suite's epoch.
func t0() time.Time { return time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC) }

// at returns t0 plus s seconds.
func at(s float64) time.Time { return t0().Add(time.Duration(s * float64(time.Second))) }

// fixture wraps a store with helpers that fail the test on unexpected errors.
type fixture struct {
	t   *testing.T
	s   routing.Store
	ctx context.Context
}

func skills(kv ...any) map[string]int {
	m := map[string]int{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(int)
	}
	return m
}

func (f *fixture) agents(cfgs ...routing.AgentConfig) {
	f.t.Helper()
	if err := f.s.PutAgents(f.ctx, cfgs, t0()); err != nil {
		f.t.Fatalf("PutAgents: %v", err)
	}
}

func (f *fixture) state(id string, s routing.AgentState, reason string, when time.Time) routing.Agent {
	f.t.Helper()
	a, err := f.s.SetAgentState(f.ctx, id, s, reason, false, when)
	if err != nil {
		f.t.Fatalf("SetAgentState(%s, %s) at %v: %v", id, s, when, err)
	}
	return a
}

func (f *fixture) ready(id string, when time.Time) {
	f.t.Helper()
	f.state(id, routing.AgentReady, "", when)
}

// call builds a call for queue q (whose skill is q too) arriving at enq with
// the given boost.
func call(id, q string, enq time.Time, boost time.Duration) routing.Call {
	return routing.Call{ID: id, Caller: "1380000" + id, Queue: q, Skill: q, Tier: "t", EnqueuedAt: enq, Key: enq.Add(-boost)}
}

func (f *fixture) enqueue(c routing.Call) routing.Call {
	f.t.Helper()
	got, err := f.s.Enqueue(f.ctx, c, routing.EnqueueOptions{})
	if err != nil {
		f.t.Fatalf("Enqueue(%s): %v", c.ID, err)
	}
	return got
}

func (f *fixture) match(when time.Time) routing.MatchResult {
	f.t.Helper()
	res, err := f.s.Match(f.ctx, when)
	if err != nil {
		f.t.Fatalf("Match at %v: %v", when, err)
	}
	return res
}

// matchOne runs Match and requires exactly one offer, of callID to agentID.
func (f *fixture) matchOne(when time.Time, callID, agentID string) routing.Offer {
	f.t.Helper()
	res := f.match(when)
	if len(res.Offers) != 1 || res.Offers[0].CallID != callID || res.Offers[0].AgentID != agentID {
		f.t.Fatalf("Match at %v: offers %s, want exactly %s→%s", when, offersString(res.Offers), callID, agentID)
	}
	return res.Offers[0]
}

func (f *fixture) matchNone(when time.Time) routing.MatchResult {
	f.t.Helper()
	res := f.match(when)
	if len(res.Offers) != 0 {
		f.t.Fatalf("Match at %v: offers %s, want none", when, offersString(res.Offers))
	}
	return res
}

func (f *fixture) answer(o routing.Offer, when time.Time) {
	f.t.Helper()
	if _, err := f.s.Answer(f.ctx, o, when); err != nil {
		f.t.Fatalf("Answer(%s→%s): %v", o.CallID, o.AgentID, err)
	}
}

func (f *fixture) finish(o routing.Offer, when time.Time) {
	f.t.Helper()
	if _, err := f.s.Finish(f.ctx, o, when); err != nil {
		f.t.Fatalf("Finish(%s→%s): %v", o.CallID, o.AgentID, err)
	}
}

// serve answers and finishes o at when.
func (f *fixture) serve(o routing.Offer, when time.Time) {
	f.t.Helper()
	f.answer(o, when)
	f.finish(o, when)
}

func (f *fixture) agent(id string) routing.Agent {
	f.t.Helper()
	agents, err := f.s.Agents(f.ctx)
	if err != nil {
		f.t.Fatalf("Agents: %v", err)
	}
	for _, a := range agents {
		if a.ID == id {
			return a
		}
	}
	f.t.Fatalf("agent %s not in Agents()", id)
	return routing.Agent{}
}

func (f *fixture) calls() []routing.Call {
	f.t.Helper()
	calls, err := f.s.Calls(f.ctx)
	if err != nil {
		f.t.Fatalf("Calls: %v", err)
	}
	return calls
}

// callByID returns the call and whether it is in the store.
func (f *fixture) callByID(id string) (routing.Call, bool) {
	f.t.Helper()
	for _, c := range f.calls() {
		if c.ID == id {
			return c, true
		}
	}
	return routing.Call{}, false
}

func (f *fixture) wantAgent(id string, state routing.AgentState, reason string) routing.Agent {
	f.t.Helper()
	a := f.agent(id)
	if a.State != state || a.Reason != reason {
		f.t.Fatalf("agent %s is %s (reason %q), want %s (reason %q)", id, a.State, a.Reason, state, reason)
	}
	return a
}

func wantErr(t *testing.T, what string, err error, targets ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %v", what, targets)
	}
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Fatalf("%s: error %q does not wrap %q", what, err, target)
		}
	}
}

func offersString(offers []routing.Offer) string {
	s := make([]string, len(offers))
	for i, o := range offers {
		s[i] = fmt.Sprintf("%s→%s#%d", o.CallID, o.AgentID, o.Token)
	}
	return fmt.Sprint(s)
}

func callIDs(calls []routing.Call) []string {
	ids := make([]string, len(calls))
	for i, c := range calls {
		ids[i] = c.ID
	}
	return ids
}

// hold is the v1 miss: the agent stays not ready with reason for an hour.
func hold(reason string) routing.Miss {
	return routing.Miss{Reason: reason, Until: t0().Add(time.Hour)}
}

// second returns the error of a (value, error) pair.
func second[T any](_ T, err error) error { return err }
