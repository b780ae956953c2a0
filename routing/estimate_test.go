package routing_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"kefu/routing"
)

// TestMaxWaitPerCall: a request's MaxWait replaces the queue's (billing has
// none, complaints 60 s), and a callback request never overflows.
func TestMaxWaitPerCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRouter(t, testConfig())
		ctx := t.Context()
		must(t, r.SetAgentState(ctx, "1001", routing.AgentNotReady, "meeting"))
		must(t, r.SetAgentState(ctx, "1002", routing.AgentNotReady, "meeting"))
		short := enqueue(t, r, routing.CallRequest{CallID: "short", Queue: "billing", MaxWait: 10 * time.Second})
		long := enqueue(t, r, routing.CallRequest{CallID: "long", Queue: "complaints", MaxWait: 90 * time.Second})
		cb := enqueue(t, r, routing.CallRequest{CallID: "cb", Queue: "complaints", MaxWait: 5 * time.Second, Callback: "13800000001"})
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if e := event(t, short); e.Kind != routing.EventOverflow {
			t.Fatalf("short: event %+v, want overflow at 10s", e)
		}
		time.Sleep(55 * time.Second) // past the queue's 60 s
		synctest.Wait()
		noEvent(t, long)
		time.Sleep(25 * time.Second)
		synctest.Wait()
		if e := event(t, long); e.Kind != routing.EventOverflow {
			t.Fatalf("long: event %+v, want overflow at 90s", e)
		}
		noEvent(t, cb)
		calls, err := r.Calls(ctx)
		must(t, err)
		if len(calls) != 1 || calls[0].CallID != "cb" || calls[0].Callback != "13800000001" {
			t.Fatalf("calls %+v, want the callback request alone", calls)
		}
	})
}

// TestPosition: position counts the waiting calls of the same queue ahead by
// key (a VIP who came later is ahead; other queues and talking calls are
// not counted), and the wait estimate is position × average handle time ÷
// agents logged in, 0 until a conversation has finished.
func TestPosition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRouter(t, testConfig())
		ctx := t.Context()
		must(t, r.SetAgentState(ctx, "1001", routing.AgentReady, ""))
		must(t, r.SetAgentState(ctx, "1002", routing.AgentNotReady, "lunch"))
		// One conversation of 120 s sets the average handle time.
		first := enqueue(t, r, routing.CallRequest{CallID: "first", Queue: "billing"})
		o := offerTo(t, first, "1001")
		must(t, r.Answered(ctx, o))
		enqueue(t, r, routing.CallRequest{CallID: "early", Queue: "billing"})
		pos, ewt, err := r.Position(ctx, "early")
		must(t, err)
		if pos != 1 || ewt != 0 {
			t.Fatalf("before any conversation ended: position %d ewt %v, want 1 and 0 (no data)", pos, ewt)
		}
		if pos, _, err := r.Position(ctx, "first"); err != nil || pos != 0 {
			t.Fatalf("talking call: position %d err %v, want 0", pos, err)
		}
		must(t, r.Leave(ctx, "early"))
		time.Sleep(120 * time.Second)
		must(t, r.SetAgentState(ctx, "1001", routing.AgentNotReady, "break")) // pending until the call ends
		must(t, r.Finished(ctx, o))

		time.Sleep(time.Second)
		enqueue(t, r, routing.CallRequest{CallID: "a", Queue: "billing"})
		enqueue(t, r, routing.CallRequest{CallID: "b", Queue: "billing"})
		enqueue(t, r, routing.CallRequest{CallID: "other", Queue: "complaints"})
		enqueue(t, r, routing.CallRequest{CallID: "vip", Queue: "billing", Tier: "vip"})
		for _, tc := range []struct {
			id  string
			pos int
		}{{"vip", 1}, {"a", 2}, {"b", 3}, {"other", 1}} {
			pos, ewt, err := r.Position(ctx, tc.id)
			must(t, err)
			// billing: 1001 and 1002 logged in (not ready); complaints: 1001.
			want := time.Duration(tc.pos) * 120 * time.Second / 2
			if tc.id == "other" {
				want = 0 // no complaints conversation yet
			}
			if pos != tc.pos || ewt != want {
				t.Errorf("%s: position %d ewt %v, want %d and %v", tc.id, pos, ewt, tc.pos, want)
			}
		}
		must(t, r.SetAgentState(ctx, "1002", routing.AgentLoggedOut, ""))
		if _, ewt, _ := r.Position(ctx, "b"); ewt != 3*120*time.Second {
			t.Errorf("b with one agent logged in: ewt %v, want 6m", ewt)
		}
		if _, _, err := r.Position(ctx, "nope"); !errors.Is(err, routing.ErrUnknownCall) {
			t.Errorf("unknown call: %v", err)
		}
	})
}

// TestCallbackKeepsPlace: a caller who asks for a callback stays ahead of
// those who came later, keeps its ticket (the offer arrives there), and
// after a failed call-back is queued again with its ticket's key, still
// ahead.
func TestCallbackKeepsPlace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRouter(t, testConfig())
		ctx := t.Context()
		must(t, r.SetAgentState(ctx, "1001", routing.AgentNotReady, "meeting"))
		cb := enqueue(t, r, routing.CallRequest{CallID: "cb", Queue: "complaints", Tier: "one_star"})
		time.Sleep(10 * time.Second)
		later := enqueue(t, r, routing.CallRequest{CallID: "later", Queue: "complaints"})
		time.Sleep(10 * time.Second)
		if err := r.Callback(ctx, "cb", ""); err == nil {
			t.Fatal("callback without a number accepted")
		}
		must(t, r.Callback(ctx, "cb", "13800000001"))
		if err := r.Callback(ctx, "nope", "1"); !errors.Is(err, routing.ErrUnknownCall) {
			t.Fatalf("callback of an unknown call: %v", err)
		}
		time.Sleep(50 * time.Second) // past complaints' max wait of 60 s
		synctest.Wait()
		noEvent(t, cb)
		if e := event(t, later); e.Kind != routing.EventOverflow {
			t.Fatalf("later: %+v, want overflow", e)
		}

		enqueue(t, r, routing.CallRequest{CallID: "third", Queue: "complaints"})
		must(t, r.SetAgentState(ctx, "1001", routing.AgentReady, ""))
		o := offerTo(t, cb, "1001")
		must(t, r.Answered(ctx, o))
		// The customer does not answer the call-back: the agent is released
		// and the request is queued again at its original key.
		must(t, r.Finished(ctx, o))
		closed(t, cb)
		again := enqueue(t, r, routing.CallRequest{CallID: "cb", Queue: "complaints", Callback: "13800000001", Key: cb.Key()})
		if !again.Key().Equal(cb.Key()) {
			t.Fatalf("retry key %v, want %v", again.Key(), cb.Key())
		}
		if pos, _, err := r.Position(ctx, "cb"); err != nil || pos != 1 {
			t.Fatalf("retried callback: position %d err %v, want 1 (ahead of third)", pos, err)
		}
	})
}
