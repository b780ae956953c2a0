package storetest

import (
	"slices"
	"testing"
	"time"

	"kefu/routing"
)

func testEnqueueNeedsLoggedInAgent(t *testing.T, f *fixture) {
	f.agents(routing.AgentConfig{ID: "a1", Skills: skills("billing", 3)})
	_, err := f.s.Enqueue(f.ctx, call("c1", "billing", at(0), 0), routing.EnqueueOptions{})
	wantErr(t, "enqueue with the only agent logged out", err, routing.ErrNoAgents)

	f.state("a1", routing.AgentNotReady, "lunch", at(1))
	f.enqueue(call("c1", "billing", at(2), 0)) // not_ready counts as logged in

	_, err = f.s.Enqueue(f.ctx, call("c2", "complaints", at(3), 0), routing.EnqueueOptions{})
	wantErr(t, "enqueue for a skill nobody has", err, routing.ErrNoAgents)
	if got := callIDs(f.calls()); !slices.Equal(got, []string{"c1"}) {
		t.Fatalf("calls %v, want [c1]: a refused call must leave nothing behind", got)
	}
}

func testDuplicateCall(t *testing.T, f *fixture) {
	f.agents(routing.AgentConfig{ID: "a1", Skills: skills("billing", 3)})
	f.state("a1", routing.AgentNotReady, "", at(0))
	f.enqueue(call("c1", "billing", at(1), 0))
	_, err := f.s.Enqueue(f.ctx, call("c1", "billing", at(2), 0), routing.EnqueueOptions{})
	wantErr(t, "second enqueue of c1", err, routing.ErrDuplicateCall)
}

// testOrderByVirtualArrival: key = arrival − boost; lowest first; FIFO within
// a tier; a boost only jumps callers who arrived less than the boost earlier.
func testOrderByVirtualArrival(t *testing.T, f *fixture) {
	f.agents(routing.AgentConfig{ID: "a1", Skills: skills("billing", 3)})
	f.state("a1", routing.AgentNotReady, "", at(0))
	for _, c := range []routing.Call{
		call("plain1", "billing", at(0), 0),
		call("plain2", "billing", at(1), 0),
		call("vip", "billing", at(10), 120*time.Second),      // key −110: ahead of both
		call("plain3", "billing", at(130), 0),                // key 130
		call("fourstar", "billing", at(200), 60*time.Second), // key 140: after plain3 (arrived 70s earlier)
		call("twostar", "billing", at(135), 10*time.Second),  // key 125: ahead of plain3 (arrived 5s earlier)
	} {
		f.enqueue(c)
	}
	want := []string{"vip", "plain1", "plain2", "twostar", "plain3", "fourstar"}
	if got := callIDs(f.calls()); !slices.Equal(got, want) {
		t.Fatalf("Calls() order %v, want %v", got, want)
	}
	f.ready("a1", at(300))
	now := 300.0
	for _, id := range want {
		o := f.matchOne(at(now), id, "a1")
		if !o.At.Equal(at(now)) {
			t.Fatalf("offer At %v, want %v", o.At, at(now))
		}
		now++
		f.serve(o, at(now))
	}
	if n := len(f.calls()); n != 0 {
		t.Fatalf("%d calls left after serving all", n)
	}
}

func testTieOnKeyBySeq(t *testing.T, f *fixture) {
	f.agents(routing.AgentConfig{ID: "a1", Skills: skills("billing", 3)})
	f.state("a1", routing.AgentNotReady, "", at(0))
	// Same key t0+60s: the four-star caller enqueued first wins the tie.
	first := f.enqueue(call("fourstar", "billing", at(120), 60*time.Second))
	second := f.enqueue(call("plain", "billing", at(60), 0))
	if !first.Key.Equal(second.Key) || first.Seq >= second.Seq {
		t.Fatalf("keys %v/%v seqs %d/%d: want equal keys, increasing seq", first.Key, second.Key, first.Seq, second.Seq)
	}
	f.ready("a1", at(130))
	f.matchOne(at(130), "fourstar", "a1")
}

// testCrossQueue: an agent serving two queues takes the lowest key across
// both. Includes asterisk#1691: a caller entering one queue at position 1
// must neither jump older callers of the other queue nor stop offers.
func testCrossQueue(t *testing.T, f *fixture) {
	f.agents(
		routing.AgentConfig{ID: "both", Skills: skills("billing", 3, "complaints", 3)},
		routing.AgentConfig{ID: "complaintsOnly", Skills: skills("complaints", 5)},
	)
	f.state("both", routing.AgentNotReady, "", at(0))
	f.state("complaintsOnly", routing.AgentNotReady, "", at(0))
	f.enqueue(call("b1", "billing", at(0), 0))
	f.enqueue(call("b2", "billing", at(10), 0))
	f.enqueue(call("c1", "complaints", at(60), 0))                 // position 1 of complaints
	f.enqueue(call("cvip", "complaints", at(70), 120*time.Second)) // key −50: position 1 of complaints, globally first

	f.ready("both", at(100))
	o := f.matchOne(at(100), "cvip", "both")
	f.serve(o, at(101))
	o = f.matchOne(at(101), "b1", "both") // billing's older caller before complaints' c1
	f.serve(o, at(102))
	o = f.matchOne(at(102), "b2", "both")

	// The complaints-only agent never gets billing calls.
	f.ready("complaintsOnly", at(103))
	f.matchOne(at(103), "c1", "complaintsOnly")
	f.serve(o, at(104))
	f.matchNone(at(104))
}

func testLevelThenLongestIdle(t *testing.T, f *fixture) {
	f.agents(
		routing.AgentConfig{ID: "a3", Skills: skills("billing", 3)},
		routing.AgentConfig{ID: "b5", Skills: skills("billing", 5)},
		routing.AgentConfig{ID: "c5", Skills: skills("billing", 5)},
		routing.AgentConfig{ID: "d5", Skills: skills("billing", 5)},
		routing.AgentConfig{ID: "e1", Skills: skills("billing", 1, "complaints", 5)},
		routing.AgentConfig{ID: "f3", Skills: skills("billing", 3)},
	)
	f.ready("a3", at(0))
	f.ready("b5", at(10))
	f.ready("c5", at(5))
	f.ready("d5", at(5)) // same idle time as c5: lower id first
	f.ready("e1", at(1))
	f.ready("f3", at(10))
	f.state("a3", routing.AgentReady, "", at(20)) // ready again while ready: still idle since 0, ahead of f3

	want := []string{"c5", "d5", "b5", "a3", "f3", "e1"}
	for i, agent := range want {
		id := string(rune('A' + i))
		f.enqueue(call(id, "billing", at(30+float64(i)), 0))
		f.matchOne(at(30+float64(i)), id, agent)
	}

	// With no wrap-up an agent is idle from the moment the call finished.
	c5 := f.agent("c5")
	offer := routing.Offer{CallID: "A", AgentID: "c5", Queue: "billing", Token: c5.Token}
	f.answer(offer, at(40))
	f.finish(offer, at(41))
	if a := f.wantAgent("c5", routing.AgentReady, ""); !a.IdleSince.Equal(at(41)) {
		t.Fatalf("c5 idle since %v, want %v", a.IdleSince, at(41))
	}
}
