package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"kefu/routing/callrecord"
	"kefu/sip/testphone"
)

// recordOf waits for the call record of callID in k's records file.
func recordOf(t *testing.T, k *testKefu, callID string) callrecord.Record {
	t.Helper()
	var rec callrecord.Record
	waitFor(t, 10*time.Second, "the call record of "+callID, func() bool {
		recs, err := callrecord.ReadJSONL(filepath.Join(k.data, "records.jsonl"), time.Time{}, time.Time{})
		if err != nil {
			return false
		}
		i := slices.IndexFunc(recs, func(r callrecord.Record) bool { return r.CallID == callID })
		if i >= 0 {
			rec = recs[i]
		}
		return i >= 0
	})
	return rec
}

// checkTimes checks the record's times are in order and within the call.
func checkTimes(t *testing.T, rec callrecord.Record) {
	t.Helper()
	last := rec.Start
	for _, at := range []struct {
		name string
		t    time.Time
	}{{"enqueued", rec.Enqueued}, {"offered", rec.Offered}, {"answered", rec.Answered}, {"agent_end", rec.AgentEnd}, {"end", rec.End}} {
		if at.t.IsZero() {
			continue
		}
		if at.t.Before(last) {
			t.Errorf("%s %s is before the previous time %s", at.name, at.t, last)
		}
		last = at.t
	}
	if err := rec.Validate(); err != nil {
		t.Errorf("record does not validate: %v", err)
	}
}

func pathNodes(rec callrecord.Record) []string {
	var out []string
	for _, s := range rec.Path {
		out = append(out, s.Node)
	}
	return out
}

// TestCallRecordsDispositions produces answered, abandoned-in-queue,
// overflowed (no agents) and abandoned-in-IVR calls with real SIP and RTP,
// and checks each call's record field by field.
func TestCallRecordsDispositions(t *testing.T) {
	k := startKefu(t, "")
	agent := k.phone("1002", "pw1002", testphone.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Answered: a one-star customer on 10087 (the direct flow), agent 1002
	// ready; the agent hangs up after a moment.
	k.ready("1002")
	caller := k.phone("13800000001", "", testphone.Options{})
	calls, errs := caller.DialNoWait(ctx, k.sip, "10087")
	ac := incoming(t, agent, 10*time.Second)
	var c *testphone.Call
	select {
	case c = <-calls:
	case err := <-errs:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("the caller was not answered")
	}
	time.Sleep(500 * time.Millisecond)
	if err := ac.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	rec := recordOf(t, k, c.CallID())
	checkTimes(t, rec)
	if rec.Disposition != callrecord.Answered || rec.Agent != "1002" || rec.Queue != "billing" || rec.Called != "10087" ||
		rec.Caller != "13800000001" || rec.Tier != "one_star" || rec.Stars != 1 || rec.Flow != "direct" || rec.FlowVersion == "" ||
		rec.RingAttempts != 1 || rec.Enqueued.IsZero() || rec.Offered.IsZero() || rec.Answered.IsZero() || rec.AgentEnd.IsZero() {
		t.Errorf("answered call's record: %+v", rec)
	}
	if got := pathNodes(rec); !slices.Equal(got, []string{"billing_queue", "done"}) {
		t.Errorf("answered call's path %v", got)
	}

	// Abandoned in the queue: the agent is logged in but not ready; the
	// caller gives up (CANCEL) after being queued.
	waitFor(t, 10*time.Second, "agent 1002 free", func() bool { return k.agent("1002").CallID == "" })
	if code, body := k.setState("1002", "not_ready"); code != 200 {
		t.Fatalf("not ready: %d %s", code, body)
	}
	qctx, qcancel := context.WithCancel(ctx)
	caller2 := k.phone("13800000004", "", testphone.Options{})
	calls2, errs2 := caller2.DialNoWait(qctx, k.sip, "10087")
	var queuedID string
	waitFor(t, 10*time.Second, "the caller queued", func() bool {
		qs, _ := k.app.router.Calls(context.Background())
		if len(qs) == 1 {
			queuedID = qs[0].CallID
		}
		return len(qs) == 1
	})
	time.Sleep(300 * time.Millisecond)
	qcancel()
	select {
	case <-calls2:
	case <-errs2:
	case <-time.After(10 * time.Second):
	}
	rec = recordOf(t, k, queuedID)
	checkTimes(t, rec)
	if rec.Disposition != callrecord.AbandonedQueue || rec.Queue != "billing" || rec.Enqueued.IsZero() || !rec.Answered.IsZero() ||
		rec.Agent != "" || rec.RingAttempts != 0 || rec.Tier != "four_star" || rec.Stars != 4 {
		t.Errorf("abandoned-in-queue record: %+v", rec)
	}

	// Overflowed: nobody logged in for the queue; the flow says sorry.
	if code, body := k.setState("1002", "logged_out"); code != 200 {
		t.Fatalf("log out: %d %s", code, body)
	}
	c = dial(t, caller, k, "10087")
	select {
	case <-c.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the sorry-busy call did not end")
	}
	rec = recordOf(t, k, c.CallID())
	checkTimes(t, rec)
	if rec.Disposition != callrecord.Overflowed || rec.OverflowReason != "no_agents" || rec.Queue != "billing" || !rec.Answered.IsZero() {
		t.Errorf("overflowed record: %+v", rec)
	}
	if got := pathNodes(rec); !slices.Equal(got, []string{"billing_queue", "sorry_busy", "goodbye"}) {
		t.Errorf("overflowed call's path %v", got)
	}

	// Abandoned in the IVR: the caller hangs up during the welcome.
	c = dial(t, caller, k, "10086")
	waitFor(t, 5*time.Second, "prompt audio", func() bool { return len(c.Received()) > 10 })
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	rec = recordOf(t, k, c.CallID())
	checkTimes(t, rec)
	if rec.Disposition != callrecord.AbandonedIVR || rec.Queue != "" || !rec.Enqueued.IsZero() || rec.Flow != "main" || len(rec.Path) == 0 {
		t.Errorf("abandoned-in-IVR record: %+v", rec)
	}
}

// callbackFlows is the sample flows with a direct flow that offers a call
// back at once and takes messages when nobody can take the queue.
func callbackFlows(t *testing.T) string {
	t.Helper()
	dir, err := makeSampleFlows(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const direct = `name: direct
description: call-back and voicemail
start: billing_queue
nodes:
  billing_queue:
    type: queue
    queue: billing
    callback: {key: "1", after: 1s, min_wait: 0s, prompt: please_hold}
    exits:
      after_agent: done
      callback: callback_ok
      max_wait: voicemail
      no_agents: voicemail
  voicemail:
    type: record
    prompt: please_hold
    mailbox: hotline
    max_length: 10s
    silence: 2s
    exits: {ok: goodbye, no_audio: goodbye}
  callback_ok: {type: hangup, prompt: thanks, reason: callback}
  goodbye: {type: hangup, prompt: goodbye}
  done: {type: hangup, reason: served}
`
	if err := os.WriteFile(filepath.Join(dir, "direct.yaml"), []byte(direct), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCallRecordsCallbackAndVoicemail: a caller who asks to be called back
// and one who leaves a message, by real calls; their records.
func TestCallRecordsCallbackAndVoicemail(t *testing.T) {
	k := startKefuFlows(t, "", callbackFlows(t))
	k.phone("1002", "pw1002", testphone.Options{}) // logged in, not ready
	caller := k.phone("13800000005", "", testphone.Options{Fill: 0xff})

	// Call-back: the offer plays after 1 s; the caller presses 1.
	c := dial(t, caller, k, "10087")
	waitFor(t, 15*time.Second, "the call-back offer", func() bool {
		return len(c.Received()) > 60 // past a second of waiting, into the offer
	})
	time.Sleep(time.Second)
	if err := c.SendDigit('1'); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the call-back call did not end")
	}
	rec := recordOf(t, k, c.CallID())
	checkTimes(t, rec)
	if rec.Disposition != callrecord.Callback || rec.Queue != "billing" || rec.Enqueued.IsZero() || rec.Tier != "vip" || rec.Stars != 5 {
		t.Errorf("call-back record: %+v", rec)
	}

	// Voicemail: nobody logged in; the caller speaks (a tone) for 2 s.
	if code, body := k.setState("1002", "logged_out"); code != 200 {
		t.Fatalf("log out: %d %s", code, body)
	}
	c = dial(t, caller, k, "10087")
	time.Sleep(3 * time.Second) // the prompt before the recording
	c.SetPayload(tone)
	time.Sleep(2 * time.Second)
	c.SetPayload(silence)
	select {
	case <-c.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the voicemail call did not end")
	}
	rec = recordOf(t, k, c.CallID())
	checkTimes(t, rec)
	if rec.Disposition != callrecord.Voicemail || rec.OverflowReason != "no_agents" || len(rec.Recordings) != 1 {
		t.Errorf("voicemail record: %+v", rec)
	}
	if len(rec.Recordings) == 1 {
		if _, err := os.Stat(rec.Recordings[0]); err != nil {
			t.Errorf("the recording named in the record: %v", err)
		}
	}
}
