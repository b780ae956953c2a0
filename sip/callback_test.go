package sip

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"kefu/ivr"
	"kefu/routing"
	"kefu/sip/testphone"
)

// callbackFlow queues the caller with a call-back offer (key 1, after
// 300 ms); a caller who takes it hears the confirmation and is hung up on.
// Outcomes go to results.
func callbackFlow(results chan<- ivr.QueueOutcome) flowFunc {
	return func(ctx context.Context, c ivr.Call) error {
		res, err := c.Queue(ctx, ivr.QueueRequest{
			Queue: "sales", Music: "music",
			Callback: &ivr.CallbackOffer{Key: '1', After: 300 * time.Millisecond, Prompts: []string{"offer"}},
		})
		if err != nil {
			return err
		}
		results <- res.Outcome
		if res.Outcome == ivr.QueueCallback {
			if err := c.Play(ctx, []string{"confirm"}, false); err != nil {
				return err
			}
		}
		return c.Hangup(ctx, "normal")
	}
}

// askCallback dials in as number, waits for the offer and presses 1. Then
// the caller hangs up at once (hangUp), or hears the confirmation and Kefu
// hangs up.
func askCallback(t *testing.T, ts *testServer, caller *testphone.Phone, results <-chan ivr.QueueOutcome, hangUp bool) {
	t.Helper()
	c := ts.dial(caller)
	waitFor(t, 10*time.Second, "the call-back offer", func() bool { return countCode(c, codeOffer) >= 5 })
	if err := c.SendDigit('1'); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, results, 10*time.Second, "the queue outcome"); got != ivr.QueueCallback {
		t.Fatalf("queue outcome %q, want %q", got, ivr.QueueCallback)
	}
	if hangUp {
		hangup(t, c)
		return
	}
	waitDone(t, c, "caller after asking for a call-back")
	if countCode(c, codeConfirm) == 0 {
		t.Error("the caller did not hear the confirmation")
	}
}

// TestCallbackKeepsPlace: a caller asks to be called back (key 1 after the
// offer) and hangs up; a second caller queues after. When the agent becomes ready, the call-back
// request comes first: the agent's phone rings (X-Kefu-Callback), the agent
// answers, Kefu calls the customer back through the trunk (INVITE to
// sip:<number>@<the caller's source address>, showing the access number),
// the customer answers, and the two hear each other. When the agent hangs
// up, the customer is hung up on; the second caller is offered next.
func TestCallbackKeepsPlace(t *testing.T) {
	results := make(chan ivr.QueueOutcome, 4)
	ts := startServer(t, callbackFlow(results), nil)
	agent := ts.phone(testAgent, testPassword, testphone.Options{Fill: 0x37})
	customer := ts.phone("13900000011", "", testphone.Options{Fill: 0x42})
	other := ts.phone("13900000012", "", testphone.Options{Fill: 0x43})

	askCallback(t, ts, customer, results, true)
	waitFor(t, 10*time.Second, "the caller's call to end", func() bool { return len(ts.srv.Calls()) == 0 })
	calls, err := ts.router.Calls(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0].Callback != "13900000011" || calls[0].State != routing.CallQueued {
		t.Fatalf("router after the request: %+v, want one queued call-back request for 13900000011", calls)
	}
	waiting := ts.dial(other)
	waitFor(t, 10*time.Second, "the second caller to queue", func() bool {
		calls, _ := ts.router.Calls(context.Background())
		return len(calls) == 2
	})

	ts.setAgent(routing.AgentReady)
	ac := incoming(t, agent, 10*time.Second)
	if got := ac.Header("X-Kefu-Callback"); got != "13900000011" {
		t.Fatalf("agent was offered a call with X-Kefu-Callback %q, want the call-back of 13900000011 first", got)
	}
	if got := ac.Header("From"); !strings.Contains(got, "13900000011") {
		t.Errorf("agent INVITE From = %q, want the customer's number", got)
	}
	cc := incoming(t, customer, 10*time.Second)
	if cc.Invite.Recipient.User != "13900000011" || cc.Invite.Recipient.Port != int(customer.Addr().Port()) {
		t.Errorf("call-back Request-URI %s, want sip:13900000011@%s", cc.Invite.Recipient.String(), customer.Addr())
	}
	if f := cc.Invite.From(); f == nil || f.Address.User != accessNumber {
		t.Errorf("call-back From %v, want the access number %s", f, accessNumber)
	}
	waitFor(t, 10*time.Second, "customer audio at the agent", func() bool { return ac.CountFill(0x42) >= 25 })
	waitFor(t, 10*time.Second, "agent audio at the customer", func() bool { return cc.CountFill(0x37) >= 25 })
	if n := ac.CountFill(0x43); n > 0 {
		t.Errorf("agent heard %d packets of the second caller during the call-back", n)
	}

	hangup(t, ac)
	waitDone(t, cc, "customer after the agent hung up")

	// The second caller is next.
	ac2 := incoming(t, agent, 10*time.Second)
	if got := ac2.Header("X-Kefu-Callback"); got != "" {
		t.Errorf("second offer is a call-back (%q), want the waiting caller", got)
	}
	waitFor(t, 10*time.Second, "the waiting caller's audio at the agent", func() bool { return ac2.CountFill(0x43) >= 10 })
	hangup(t, waiting)
	waitDone(t, ac2, "agent after the caller hung up")
	ts.idle()
}

// TestCallbackRetried: the customer does not answer the call-back (486):
// the agent's leg is hung up, the request is tried once more after the retry
// delay, then dropped with a log line; the customer was called exactly
// twice and nothing is left behind.
func TestCallbackRetried(t *testing.T) {
	results := make(chan ivr.QueueOutcome, 4)
	ts := startServer(t, callbackFlow(results), nil)
	agent := ts.phone(testAgent, testPassword, testphone.Options{})
	var rung atomic.Int32
	customer := ts.phone("13900000021", "", testphone.Options{Answer: func(req *sip.Request) testphone.Answer {
		rung.Add(1)
		return testphone.Answer{Code: 486}
	}})
	askCallback(t, ts, customer, results, false)
	ts.setAgent(routing.AgentReady)

	for attempt := 1; attempt <= 2; attempt++ {
		ac := incoming(t, agent, 10*time.Second)
		if got := ac.Header("X-Kefu-Callback"); got != "13900000021" {
			t.Fatalf("attempt %d: agent offered %q, want the call-back", attempt, got)
		}
		waitDone(t, ac, "agent leg after the customer did not answer")
	}
	ts.idle()
	waitFor(t, 5*time.Second, "the drop to be logged", func() bool {
		return strings.Contains(ts.log.String(), "call-back dropped: the customer did not answer")
	})
	if n := rung.Load(); n != 2 {
		t.Errorf("customer called back %d times, want 2", n)
	}
	if a := agentStatus(t, ts); a.State != routing.AgentReady {
		t.Errorf("agent after the dropped call-back: %s, want ready", a.State)
	}
}

func agentStatus(t *testing.T, ts *testServer) routing.AgentStatus {
	t.Helper()
	as, err := ts.router.Agents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.ID == testAgent {
			return a
		}
	}
	t.Fatalf("no agent %s", testAgent)
	return routing.AgentStatus{}
}

// TestCallbackNumber: withheld or odd caller ids are not called back.
func TestCallbackNumber(t *testing.T) {
	for caller, want := range map[string]string{
		"13900000001": "13900000001", "+8613900000001": "+8613900000001",
		"anonymous": "", "": "", "alice": "", "139 0000": "",
	} {
		if got := callbackNumber(caller); got != want {
			t.Errorf("callbackNumber(%q) = %q, want %q", caller, got, want)
		}
	}
}
