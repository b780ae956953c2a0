package sip

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"kefu/ivr"
	"kefu/sip/testphone"
)

// transferred is what a transferring flow reports.
type transferred struct {
	res ivr.TransferResult
	err error
}

// transferFlow answers (plays the confirmation), transfers as req says,
// reports, and when the call is still in the flow plays "after" and hangs
// up.
func transferFlow(req ivr.TransferRequest, out chan<- transferred) flowFunc {
	return func(ctx context.Context, c ivr.Call) error {
		if err := c.Play(ctx, []string{"confirm"}, false); err != nil {
			return err
		}
		res, err := c.Transfer(ctx, req)
		out <- transferred{res, err}
		if err != nil || res.Outcome == ivr.TransferDone {
			return err
		}
		if err := c.Play(ctx, []string{"after"}, false); err != nil {
			return err
		}
		return c.Hangup(ctx, "normal")
	}
}

// TestBlindTransfer: Kefu sends REFER in the caller's dialog with the
// number made into a URI at the trunk's host. A transferee that accepts and
// reports 200 in its NOTIFY leaves Kefu (TransferDone, Kefu hangs up); one
// that refuses (603), or accepts but reports that the target was busy,
// stays in the flow (TransferFailed) and hears what follows.
func TestBlindTransfer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer testphone.ReferAnswer
		want   ivr.TransferResult
	}{
		{"accepted", testphone.ReferAnswer{Code: 202, Notify: 200}, ivr.TransferResult{Outcome: ivr.TransferDone, Status: 200}},
		{"refused", testphone.ReferAnswer{Code: 603}, ivr.TransferResult{Outcome: ivr.TransferFailed, Status: 603}},
		{"target busy", testphone.ReferAnswer{Code: 202, Notify: 486}, ivr.TransferResult{Outcome: ivr.TransferFailed, Status: 486}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := make(chan transferred, 1)
			ts := startServer(t, transferFlow(ivr.TransferRequest{To: "4000", Mode: ivr.TransferBlind, Timeout: 5 * time.Second}, out), nil)
			caller := ts.phone("13900000041", "", testphone.Options{Refer: func(*sip.Request) testphone.ReferAnswer { return tc.answer }})
			c := ts.dial(caller)
			got := receive(t, out, 15*time.Second, "the transfer")
			if got.err != nil || got.res != tc.want {
				t.Fatalf("Transfer = %+v, %v; want %+v", got.res, got.err, tc.want)
			}
			refers := c.Refers()
			if len(refers) != 1 {
				t.Fatalf("caller got %d REFERs, want 1", len(refers))
			}
			if h := refers[0].GetHeader("Refer-To"); h == nil || h.Value() != "<sip:4000@127.0.0.1>" {
				t.Errorf("Refer-To %v, want <sip:4000@127.0.0.1>", h)
			}
			waitDone(t, c, "caller after the transfer")
			if tc.want.Outcome == ivr.TransferFailed && countCode(c, codeAfter) < 20 {
				t.Errorf("caller heard %d frames of the prompt after the failed transfer, want it all", countCode(c, codeAfter))
			}
			if tc.want.Outcome == ivr.TransferDone && countCode(c, codeAfter) > 0 {
				t.Error("the flow went on after a successful blind transfer")
			}
			ts.idle()
		})
	}
}

// TestBridgeTransfer: Kefu calls the target (a SIP URI), the target answers
// and the two hear each other; when the target hangs up the caller is still
// connected and hears the flow go on (after_agent).
func TestBridgeTransfer(t *testing.T) {
	out := make(chan transferred, 1)
	desk, err := testphone.Start("desk", testphone.Options{Fill: 0x37})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(desk.Close)
	to := fmt.Sprintf("sip:desk@%s", desk.Addr())
	ts := startServer(t, transferFlow(ivr.TransferRequest{To: to, Mode: ivr.TransferBridge, Timeout: 5 * time.Second}, out), nil)
	c := ts.dial(ts.phone("13900000042", "", testphone.Options{Fill: 0x42}))
	dc := incoming(t, desk, 10*time.Second)
	if got := dc.Header("X-Kefu-Call"); got != c.CallID() {
		t.Errorf("target's INVITE X-Kefu-Call %q, want the caller's call %q", got, c.CallID())
	}
	waitFor(t, 10*time.Second, "caller audio at the target", func() bool { return dc.CountFill(0x42) >= 25 })
	waitFor(t, 10*time.Second, "target audio at the caller", func() bool { return c.CountFill(0x37) >= 25 })
	hangup(t, dc)
	got := receive(t, out, 10*time.Second, "the transfer")
	if got.err != nil || got.res.Outcome != ivr.TransferAfterAgent {
		t.Fatalf("Transfer = %+v, %v; want after_agent", got.res, got.err)
	}
	waitDone(t, c, "caller after the flow")
	if n := countCode(c, codeAfter); n < 20 {
		t.Errorf("caller heard %d frames of the prompt after the transfer, want it all (still connected)", n)
	}
	ts.idle()
}

// TestBridgeTransferCallerHangsUp: the caller hanging up during a bridged
// transfer ends the target's leg with BYE, and Transfer returns the
// hang-up.
func TestBridgeTransferCallerHangsUp(t *testing.T) {
	out := make(chan transferred, 1)
	desk, err := testphone.Start("desk", testphone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(desk.Close)
	ts := startServer(t, transferFlow(ivr.TransferRequest{To: fmt.Sprintf("sip:desk@%s", desk.Addr()), Mode: ivr.TransferBridge}, out), nil)
	c := ts.dial(ts.phone("13900000043", "", testphone.Options{}))
	dc := incoming(t, desk, 10*time.Second)
	waitFor(t, 10*time.Second, "caller audio at the target", func() bool { return dc.CountFill(0x42) >= 10 })
	hangup(t, c)
	got := receive(t, out, 10*time.Second, "the transfer")
	if !errors.Is(got.err, ivr.ErrHangup) {
		t.Errorf("Transfer = %+v, %v; want the hang-up error", got.res, got.err)
	}
	waitDone(t, dc, "target after the caller hung up")
	ts.idle()
}

// TestBridgeTransferNotReached: busy (486, 600), no answer (480, or ringing
// past the timeout, which CANCELs the INVITE) and other refusals (503) give
// their outcomes, and the caller stays in the flow.
func TestBridgeTransferNotReached(t *testing.T) {
	for _, tc := range []struct {
		answer testphone.Answer
		want   ivr.TransferResult
	}{
		{testphone.Answer{Code: 486}, ivr.TransferResult{Outcome: ivr.TransferBusy, Status: 486}},
		{testphone.Answer{Code: 600}, ivr.TransferResult{Outcome: ivr.TransferBusy, Status: 600}},
		{testphone.Answer{Code: 480}, ivr.TransferResult{Outcome: ivr.TransferNoAnswer, Status: 480}},
		{testphone.Answer{Code: 0}, ivr.TransferResult{Outcome: ivr.TransferNoAnswer}},
		{testphone.Answer{Code: 503}, ivr.TransferResult{Outcome: ivr.TransferFailed, Status: 503}},
	} {
		t.Run(fmt.Sprint(tc.answer.Code), func(t *testing.T) {
			out := make(chan transferred, 1)
			desk, err := testphone.Start("desk", testphone.Options{Answer: func(*sip.Request) testphone.Answer { return tc.answer }})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(desk.Close)
			ts := startServer(t, transferFlow(ivr.TransferRequest{
				To: fmt.Sprintf("sip:desk@%s", desk.Addr()), Mode: ivr.TransferBridge, Timeout: time.Second,
			}, out), nil)
			c := ts.dial(ts.phone("13900000044", "", testphone.Options{}))
			dc := incoming(t, desk, 10*time.Second)
			got := receive(t, out, 10*time.Second, "the transfer")
			if got.err != nil || got.res != tc.want {
				t.Fatalf("Transfer = %+v, %v; want %+v", got.res, got.err, tc.want)
			}
			if tc.answer.Code == 0 {
				select {
				case <-dc.Done(): // cancelled
				case <-time.After(10 * time.Second):
					t.Error("the target still rings after the timeout: no CANCEL")
				}
			}
			waitDone(t, c, "caller after the flow")
			if n := countCode(c, codeAfter); n < 20 {
				t.Errorf("caller heard %d frames of the prompt after the transfer, want it all", n)
			}
			ts.idle()
		})
	}
}

// TestTransferTargetNumber: a number is called at the trunk the call came
// from (its address and port).
func TestTransferTargetNumber(t *testing.T) {
	c := &call{source: "192.0.2.7:5070", network: "UDP"}
	u, tr, err := c.transferTarget("95555", true)
	if err != nil || u.String() != "sip:95555@192.0.2.7:5070" || tr != "UDP" {
		t.Errorf("bridged target = %s %s %v, want sip:95555@192.0.2.7:5070 over UDP", u.String(), tr, err)
	}
	u, _, err = c.transferTarget("95555", false)
	if err != nil || u.String() != "sip:95555@192.0.2.7" {
		t.Errorf("blind target = %s %v, want sip:95555@192.0.2.7", u.String(), err)
	}
	u, tr, err = c.transferTarget("sip:desk@pbx.example;transport=tcp", true)
	if err != nil || u.Host != "pbx.example" || tr != "" {
		t.Errorf("URI target = %s %q %v", u.String(), tr, err)
	}
	if _, _, err := c.transferTarget("desk 1", true); err == nil {
		t.Error("a target that is neither a URI nor a number was accepted")
	}
}

// TestSipfragStatus reads NOTIFY bodies as transferees send them.
func TestSipfragStatus(t *testing.T) {
	for body, want := range map[string]int{
		"SIP/2.0 200 OK\r\n":                             200,
		"SIP/2.0 100 Trying":                             100,
		"sip/2.0 486 Busy Here\r\nContent-Length: 0\r\n": 486,
		"":                     0,
		"200 OK":               0,
		"SIP/2.0 abc":          0,
		"SIP/2.0 99 Too Low":   0,
		"INVITE sip:x SIP/2.0": 0,
	} {
		got, ok := sipfragStatus([]byte(body))
		if got != want || ok != (want != 0) {
			t.Errorf("sipfragStatus(%q) = %d %t, want %d", body, got, ok, want)
		}
	}
}
