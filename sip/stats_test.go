package sip

import (
	"context"
	"slices"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"kefu/ivr"
)

// TestStats runs a real exchange and reads the server's counters: an agent
// registers (401, then 200), a caller dials in (100, 200), presses 1 by RFC
// 4733 and 2 by SIP INFO (200), hears a prompt and hangs up (the 200 to the
// BYE is sent by sipgo's dialog, on the counted transaction).
func TestStats(t *testing.T) {
	digits := make(chan string, 1)
	ts := startServer(t, func(ctx context.Context, c ivr.Call) error {
		if err := c.Play(ctx, []string{"announce"}, false); err != nil {
			return err
		}
		var got []rune
		for range 2 {
			d, err := c.ReadDigit(ctx, 10*time.Second)
			if err != nil {
				return err
			}
			got = append(got, d)
		}
		digits <- string(got)
		<-ctx.Done() // the caller hangs up
		return ctx.Err()
	}, nil)
	ts.phone(testAgent, testPassword, silentCaller)
	c := ts.dial(ts.phone("13900000077", "", silentCaller))
	waitFor(t, 10*time.Second, "the announcement", func() bool { return countCode(c, codeAnnounce) >= 5 })
	if err := c.SendDigit('1'); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if code, err := c.SendInfoDigit(ctx, '2', "", ""); err != nil || code != 200 {
		t.Fatalf("INFO: %d %v", code, err)
	}
	if got := receive(t, digits, 10*time.Second, "the digits"); got != "12" {
		t.Fatalf("flow read %q, want 12", got)
	}
	heard := len(c.Received())
	hangup(t, c)
	ts.idle()

	st := ts.srv.Stats()
	for _, want := range []ResponseCount{
		{"INVITE", 100, 1}, {"INVITE", 200, 1}, {"INFO", 200, 1}, {"BYE", 200, 1},
		{"REGISTER", 401, 1}, {"REGISTER", 200, 1},
	} {
		if !slices.Contains(st.Responses, want) {
			t.Errorf("responses %+v: missing %+v", st.Responses, want)
		}
	}
	for _, r := range st.Responses {
		if r.Code >= 300 && r.Method != "REGISTER" {
			t.Errorf("unexpected error response counted: %+v", r)
		}
	}
	m := st.Media
	if m.DigitsRFC4733 != 1 || m.DigitsInfo != 1 {
		t.Errorf("digits: rfc4733 %d, info %d; want 1 and 1", m.DigitsRFC4733, m.DigitsInfo)
	}
	// The caller sent RTP from the answer on (its 20 ms fill and the
	// digit's events) and heard every packet Kefu sent.
	if m.PacketsIn < 10 {
		t.Errorf("packets in %d, want the caller's stream", m.PacketsIn)
	}
	if m.PacketsOut < uint64(heard) {
		t.Errorf("packets out %d, but the caller heard %d", m.PacketsOut, heard)
	}
}

// TestResponseCounts: the table counts by method and code, puts methods it
// does not know under OTHER, ignores codes out of range and lists only the
// pairs that were counted, in method then code order.
func TestResponseCounts(t *testing.T) {
	var r responseCounts
	r.add(methodIndex(sipmsg.INVITE), 200)
	r.add(methodIndex(sipmsg.INVITE), 100)
	r.add(methodIndex(sipmsg.INVITE), 200)
	r.add(methodIndex("FOO"), 405)
	r.add(methodIndex("INFO"), 415)
	r.add(methodIndex(sipmsg.INVITE), 99)
	r.add(methodIndex(sipmsg.INVITE), 700)
	want := []ResponseCount{{"INVITE", 100, 1}, {"INVITE", 200, 2}, {"INFO", 415, 1}, {"OTHER", 405, 1}}
	if got := r.snapshot(); !slices.Equal(got, want) {
		t.Errorf("snapshot %+v, want %+v", got, want)
	}
}
