package storetest

import (
	"testing"

	"kefu/routing"
)

// testCallbackKeepsPlace: a waiting call turned into a callback request keeps
// its key, sequence and current offer, stops overflowing, and is served
// before calls that arrived after it; a talking or unknown call cannot become
// one.
func testCallbackKeepsPlace(t *testing.T, f *fixture) {
	f.agents(routing.AgentConfig{ID: "a1", Skills: skills("billing", 5)})
	f.state("a1", routing.AgentNotReady, "", at(0))
	c1 := call("c1", "billing", at(0), 0)
	c1.Deadline = at(60)
	c1 = f.enqueue(c1)
	c2 := call("c2", "billing", at(10), 0)
	c2.Deadline = at(70)
	f.enqueue(c2)

	got, err := f.s.Callback(f.ctx, "c1", "13800000001", at(20))
	if err != nil {
		t.Fatalf("Callback(c1): %v", err)
	}
	if got.Callback != "13800000001" || !got.Deadline.IsZero() || !got.Key.Equal(c1.Key) || got.Seq != c1.Seq ||
		got.State != routing.CallQueued {
		t.Fatalf("Callback(c1) returned %+v, want queued, same key and seq, no deadline, number set", got)
	}
	if stored, ok := f.callByID("c1"); !ok || stored.Callback != "13800000001" || !stored.Deadline.IsZero() {
		t.Fatalf("c1 in the store after Callback = %+v (present %t)", stored, ok)
	}
	// c2 overflows at its deadline; the callback request does not.
	res := f.matchNone(at(100))
	if len(res.Overflowed) != 1 || res.Overflowed[0].ID != "c2" {
		t.Fatalf("Match at 100s overflowed %v, want only c2", callIDs(res.Overflowed))
	}
	f.enqueue(call("c3", "billing", at(101), 0))
	f.ready("a1", at(102))
	o := f.matchOne(at(102), "c1", "a1")

	// An offered call may still become a callback request: the offer stands.
	f.agents(routing.AgentConfig{ID: "a2", Skills: skills("billing", 3)})
	if _, err := f.s.Callback(f.ctx, "c1", "13800000009", at(103)); err != nil {
		t.Fatalf("Callback(c1) while offered: %v", err)
	}
	f.answer(o, at(104))
	wantErr(t, "Callback on a talking call", func() error {
		_, err := f.s.Callback(f.ctx, "c1", "13800000001", at(105))
		return err
	}(), routing.ErrNotWaiting)
	wantErr(t, "Callback on an unknown call", func() error {
		_, err := f.s.Callback(f.ctx, "nope", "13800000001", at(105))
		return err
	}(), routing.ErrUnknownCall)
	f.finish(o, at(110))
	if _, ok := f.callByID("c1"); ok {
		t.Fatal("c1 still in the store after Finish")
	}
}

// testCallbackNoAnswerKeepsCallback: an agent missing a callback request puts
// it back in its place, still a callback request without a deadline.
func testCallbackNoAnswerKeepsCallback(t *testing.T, f *fixture) {
	f.agents(routing.AgentConfig{ID: "a1", Skills: skills("billing", 5)})
	f.ready("a1", at(0))
	c1 := call("c1", "billing", at(1), 0)
	c1.Deadline = at(30)
	f.enqueue(c1)
	o := f.matchOne(at(1), "c1", "a1")
	if _, err := f.s.Callback(f.ctx, "c1", "13800000001", at(2)); err != nil {
		t.Fatalf("Callback: %v", err)
	}
	if err := f.s.NoAnswer(f.ctx, o, hold(""), at(10)); err != nil {
		t.Fatalf("NoAnswer: %v", err)
	}
	res := f.matchNone(at(100))
	if len(res.Overflowed) != 0 {
		t.Fatalf("callback request overflowed: %v", callIDs(res.Overflowed))
	}
	got, ok := f.callByID("c1")
	if !ok || got.State != routing.CallQueued || got.Callback != "13800000001" || !got.Deadline.IsZero() {
		t.Fatalf("c1 after NoAnswer = %+v (present %t), want a queued callback request", got, ok)
	}
}
