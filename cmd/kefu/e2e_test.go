package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"kefu/routing"
	"kefu/sip/testphone"
)

// testConfig is the configuration in-process tests run Kefu with: loopback
// only, port 0, short ring timeout. %s is replaced by the customers file and
// the media timeout.
const testConfig = `
sip:
  listen: 127.0.0.1:0
  rtp_ports: %s
  media_timeout: %s
trunks:
  - name: test
    networks: [127.0.0.1/32]
access_numbers:
  "10086": main
  "10087": direct
customers: %s
tiers: {vip: 120s, key_account: 120s, five_star: 120s, four_star: 60s, one_star: 0s, default: 0s}
agents:
  - {id: "1001", password: pw1001, skills: {billing: 5, data: 2, complaints: 2, vip: 5}}
  - {id: "1002", password: pw1002, skills: {billing: 3, data: 5, complaints: 2, vip: 3}}
queues:
  - {name: billing, ring_timeout: 2s, account_manager_wait: 1s}
  - {name: data, ring_timeout: 2s}
  - {name: complaints, ring_timeout: 2s}
  - {name: vip, ring_timeout: 2s, account_manager_wait: 1s}
auth: {supervisor_token: %s}
`

// testToken is the supervisor token of the test configurations.
const testToken = "kefu-test-supervisor-token-7f3a"

// apiGet and apiPost are http.Get and http.Post with the supervisor token.
func apiGet(url string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	return http.DefaultClient.Do(req)
}

func apiPost(url, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+testToken)
	return http.DefaultClient.Do(req)
}

// syncBuffer collects Kefu's log for the failure report.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testKefu struct {
	t    *testing.T
	app  *app
	sip  netip.AddrPort
	http string
	log  *syncBuffer
	data string // the data directory (-data)
}

var portBlock struct {
	mu   sync.Mutex
	next int
}

// rtpRange hands each test its own RTP port block so parallel runs don't meet.
func rtpRange() string {
	portBlock.mu.Lock()
	defer portBlock.mu.Unlock()
	if portBlock.next == 0 {
		portBlock.next = 32000 + (os.Getpid()%50)*200
	}
	lo := portBlock.next
	portBlock.next += 100
	return fmt.Sprintf("%d-%d", lo, lo+99)
}

func startKefu(t *testing.T, mediaTimeout string) *testKefu {
	t.Helper()
	return startKefuFlows(t, mediaTimeout, sampleFlows)
}

// startKefuFlows starts Kefu on the flows in flowsDir.
func startKefuFlows(t *testing.T, mediaTimeout, flowsDir string) *testKefu {
	t.Helper()
	return startKefuWith(t, mediaTimeout, flowsDir, "")
}

// startKefuWith starts Kefu on the flows in flowsDir, with its routing
// state in the Redis at redisURL (empty: the embedded store).
func startKefuWith(t *testing.T, mediaTimeout, flowsDir, redisURL string) *testKefu {
	t.Helper()
	dir := t.TempDir()
	customers, err := filepath.Abs("../../testdata/customers.csv")
	if err != nil {
		t.Fatal(err)
	}
	if mediaTimeout == "" {
		mediaTimeout = "30s"
	}
	cfgPath := filepath.Join(dir, "kefu.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, testConfig, rtpRange(), mediaTimeout, customers, testToken), 0o644); err != nil {
		t.Fatal(err)
	}
	var (
		logs *syncBuffer
		a    *app
	)
	// The SIP port is chosen by the kernel for UDP and then bound for TCP
	// too; another process on this machine may hold that TCP port. Try again
	// on a new port then, as an operator would with -sip.
	for attempt := 1; ; attempt++ {
		logs = &syncBuffer{}
		a, err = newApp(serveOptions{config: cfgPath, flows: flowsDir, logLevel: "debug", data: filepath.Join(dir, "data"), ttsCache: ttsCache, redis: redisURL}, logs)
		if err != nil {
			t.Fatalf("newApp: %v", err)
		}
		err = a.start("127.0.0.1:0")
		if err == nil {
			break
		}
		a.sip.Close()
		_ = a.records.Close(time.Second)
		a.router.Close()
		_ = a.dir.close()
		_ = a.closeStore()
		a.warm.close()
		if !errors.Is(err, syscall.EADDRINUSE) || attempt == 5 {
			t.Fatalf("start: %v", err)
		}
	}
	k := &testKefu{t: t, app: a, log: logs, http: "http://" + a.httpLn.Addr().String(), data: filepath.Join(dir, "data")}
	for _, ad := range a.sip.Addrs() {
		if ad.Network() == "udp" {
			k.sip = netip.MustParseAddrPort(ad.String())
		}
	}
	t.Cleanup(func() {
		a.hangupAll()
		a.shutdown()
		if t.Failed() {
			t.Logf("kefu log:\n%s", logs.String())
		}
	})
	return k
}

// phone starts a test phone and registers it as agent id when password is set.
func (k *testKefu) phone(user, password string, opts testphone.Options) *testphone.Phone {
	k.t.Helper()
	p, err := testphone.Start(user, opts)
	if err != nil {
		k.t.Fatal(err)
	}
	k.t.Cleanup(p.Close)
	if password != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		code, err := p.Register(ctx, k.sip, password, 300)
		if err != nil || code != 200 {
			k.t.Fatalf("register %s: %d %v", user, code, err)
		}
	}
	return p
}

func (k *testKefu) setState(agent, state string) (int, string) {
	k.t.Helper()
	res, err := apiPost(k.http+"/api/agents/"+agent+"/state", "application/json",
		strings.NewReader(`{"state":"`+state+`"}`))
	if err != nil {
		k.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (k *testKefu) ready(agent string) {
	k.t.Helper()
	if code, body := k.setState(agent, "ready"); code != 200 {
		k.t.Fatalf("set %s ready: %d %s", agent, code, body)
	}
}

func (k *testKefu) agent(id string) routing.AgentStatus {
	k.t.Helper()
	as, err := k.app.router.Agents(context.Background())
	if err != nil {
		k.t.Fatal(err)
	}
	for _, a := range as {
		if a.ID == id {
			return a
		}
	}
	k.t.Fatalf("no agent %s", id)
	return routing.AgentStatus{}
}

func (k *testKefu) getJSON(path string, v any) {
	k.t.Helper()
	res, err := apiGet(k.http + path)
	if err != nil {
		k.t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		k.t.Fatal(err)
	}
}

// idle waits until Kefu holds no call, no dialog, no queued call and no RTP
// port: what every call path must give back.
func (k *testKefu) idle() {
	k.t.Helper()
	waitFor(k.t, 10*time.Second, "kefu to be idle", func() bool {
		calls, _ := k.app.router.Calls(context.Background())
		return k.app.sip.DialogCount() == 0 && len(calls) == 0 && len(k.app.sip.Calls()) == 0 &&
			k.app.sip.PortsInUse() == 0
	})
}

// waitFor polls cond; the bound only stops a broken test from hanging.
func waitFor(t *testing.T, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func dial(t *testing.T, p *testphone.Phone, k *testKefu, number string) *testphone.Call {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := p.Dial(ctx, k.sip, number)
	if err != nil {
		t.Fatalf("dial %s: %v", number, err)
	}
	return c
}

func incoming(t *testing.T, p *testphone.Phone, bound time.Duration) *testphone.Call {
	t.Helper()
	select {
	case c := <-p.Incoming():
		return c
	case <-time.After(bound):
		t.Fatalf("agent %s was not offered a call", p.User)
		return nil
	}
}

// TestCallBridgedToAgent walks the whole path: the caller hears the IVR,
// presses 1 (RFC 4733), is queued for billing, agent 1001's phone is rung and
// answers, audio flows both ways through Kefu, the agent hangs up, the flow
// thanks the caller and hangs up, and nothing is left behind.
func TestCallBridgedToAgent(t *testing.T) {
	k := startKefu(t, "")
	agent := k.phone("1001", "pw1001", testphone.Options{Fill: 0x37})
	k.ready("1001")
	caller := k.phone("13800000001", "", testphone.Options{Fill: 0x42})

	c := dial(t, caller, k, "10086")
	// The welcome prompt arrives as RTP before we press anything.
	waitFor(t, 5*time.Second, "prompt audio", func() bool { return len(c.Received()) > 10 })
	if err := c.SendDigit('1'); err != nil {
		t.Fatal(err)
	}
	ac := incoming(t, agent, 15*time.Second)
	if got := ac.Header("X-Kefu-Queue"); got != "billing" {
		t.Errorf("agent INVITE X-Kefu-Queue = %q, want billing", got)
	}
	if got := ac.Header("From"); !strings.Contains(got, "13800000001") {
		t.Errorf("agent INVITE From = %q, want the caller's number", got)
	}
	waitFor(t, 10*time.Second, "agent state talking", func() bool { return k.agent("1001").State == routing.AgentTalking })
	// Audio both ways: the agent hears the caller's fill byte and vice versa.
	waitFor(t, 10*time.Second, "caller audio at the agent", func() bool { return ac.CountFill(0x42) >= 25 })
	waitFor(t, 10*time.Second, "agent audio at the caller", func() bool { return c.CountFill(0x37) >= 25 })

	var calls []map[string]any
	k.getJSON("/api/calls", &calls)
	if len(calls) != 1 || calls[0]["state"] != "talking" || calls[0]["agent"] != "1001" {
		t.Errorf("/api/calls during the conversation = %v", calls)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ac.Hangup(ctx); err != nil {
		t.Fatalf("agent hangup: %v", err)
	}
	// The flow plays its thanks and hangs up on the caller.
	select {
	case <-c.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("caller was not hung up after the agent left")
	}
	if !c.HungUpByPeer() {
		t.Error("caller's call ended but not by Kefu's BYE")
	}
	k.idle()
	if st := k.agent("1001").State; st != routing.AgentReady && st != routing.AgentWrapUp {
		t.Errorf("agent after the call: %s, want ready or wrap_up", st)
	}
	checkRTPStream(t, c.Received())
	checkEventLog(t, filepath.Join(k.data, "events.jsonl"), c.CallID())
}

// checkEventLog checks that the JSONL event log at path has agent 1001's
// state changes and call's queue events, exactly and in order.
func checkEventLog(t *testing.T, path, call string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("event log: %v", err)
	}
	var got []string
	for line := range strings.Lines(string(b)) {
		var e routing.QueueEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("event log line %q: %v", line, err)
		}
		if e.CallID == call || (e.CallID == "" && e.Agent == "1001") {
			got = append(got, e.Event)
		}
	}
	// Registering logs the agent in not ready (PAUSE); k.ready makes it
	// ready (UNPAUSE); the agent hangs up: Finished, who hung up unknown.
	want := []string{"ADDMEMBER", "PAUSE", "UNPAUSE", "ENTERQUEUE", "AGENTCALLED", "CONNECT", "COMPLETE"}
	if !slices.Equal(got, want) {
		t.Errorf("event log for agent 1001 and call %s: %v, want %v\n%s", call, got, want, b)
	}
}

// checkRTPStream checks Kefu's RTP towards a caller: one SSRC before the
// bridge, sequence numbers without gaps, timestamps advancing 160 per 20 ms
// packet within a prompt — or a whole number of frames more, where the
// pacer, woken late on a loaded machine, skipped ahead instead of sending a
// burst — marker on each prompt's first packet only.
func checkRTPStream(t *testing.T, pkts []testphone.Packet) {
	t.Helper()
	if len(pkts) < 50 {
		t.Fatalf("only %d packets received", len(pkts))
	}
	ssrc := pkts[0].SSRC
	for i := 1; i < len(pkts); i++ {
		p, q := pkts[i-1], pkts[i]
		if q.SSRC != ssrc {
			t.Errorf("packet %d: SSRC changed %x → %x", i, ssrc, q.SSRC)
			return
		}
		if q.Seq != p.Seq+1 {
			t.Errorf("packet %d: sequence %d after %d", i, q.Seq, p.Seq)
			return
		}
		if step := q.Timestamp - p.Timestamp; !q.Marker && q.PayloadType == p.PayloadType && (step == 0 || step%160 != 0) {
			t.Errorf("packet %d: timestamp step %d, want 160 (or whole frames more after a late wake-up)", i, step)
			return
		}
		if q.Timestamp-p.Timestamp > 1<<31 {
			t.Errorf("packet %d: timestamp went back", i)
			return
		}
	}
}

// TestAgentNoAnswerRequeues: the best agent lets the phone ring out, is set
// not ready, and the call goes to the next agent from its place in line.
func TestAgentNoAnswerRequeues(t *testing.T) {
	k := startKefu(t, "")
	lazy := k.phone("1001", "pw1001", testphone.Options{Answer: func(*sip.Request) testphone.Answer { return testphone.Answer{Code: 0} }})
	good := k.phone("1002", "pw1002", testphone.Options{Fill: 0x37})
	k.ready("1001")
	k.ready("1002")
	caller := k.phone("13900000009", "", testphone.Options{})

	// 10087 queues before answering: the caller hears ring-back.
	c := dial(t, caller, k, "10087")
	rung := incoming(t, lazy, 5*time.Second)
	select {
	case <-rung.Done(): // CANCELled after the 2 s ring timeout
	case <-time.After(10 * time.Second):
		t.Fatal("Kefu did not cancel the unanswered offer")
	}
	a := k.agent("1001")
	if a.State != routing.AgentNotReady || a.Reason != "no_answer" {
		t.Errorf("agent 1001 after ringing out: %s (%s), want not_ready (no_answer)", a.State, a.Reason)
	}
	ac := incoming(t, good, 10*time.Second)
	waitFor(t, 10*time.Second, "caller audio at agent 1002", func() bool { return ac.CountFill(0x42) >= 10 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Hangup(ctx); err != nil {
		t.Fatalf("caller hangup: %v", err)
	}
	select {
	case <-ac.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("agent 1002 was not hung up when the caller left")
	}
	k.idle()
}

// TestCancelWhileQueued: a caller waiting unanswered in a queue gives up;
// Kefu answers CANCEL with 487 and forgets the call.
func TestCancelWhileQueued(t *testing.T) {
	k := startKefu(t, "")
	k.phone("1001", "pw1001", testphone.Options{}) // registered, not ready
	caller := k.phone("13900000009", "", testphone.Options{})

	ctx, cancel := context.WithCancel(context.Background())
	calls, errs := caller.DialNoWait(ctx, k.sip, "10087")
	waitFor(t, 5*time.Second, "the call to be queued", func() bool {
		qs, _ := k.app.router.Calls(context.Background())
		return len(qs) == 1
	})
	var got []map[string]any
	k.getJSON("/api/calls", &got)
	if len(got) != 1 || got[0]["state"] != "queued" {
		t.Errorf("/api/calls while queued = %v", got)
	}
	cancel()
	select {
	case err := <-errs:
		var se *testphone.StatusError
		if !errors.As(err, &se) || se.Code != 487 {
			t.Errorf("after CANCEL the INVITE ended with %v, want 487", err)
		}
	case c := <-calls:
		t.Fatalf("call was answered: %v", c)
	case <-time.After(10 * time.Second):
		t.Fatal("no final response after CANCEL")
	}
	k.idle()
}

// TestCallerHangsUpWhileAgentRings: the agent's phone is cancelled and the
// agent is not penalised.
func TestCallerHangsUpWhileAgentRings(t *testing.T) {
	k := startKefu(t, "")
	agent := k.phone("1001", "pw1001", testphone.Options{Answer: func(*sip.Request) testphone.Answer { return testphone.Answer{Code: 200, After: time.Hour} }})
	k.ready("1001")
	caller := k.phone("13900000009", "", testphone.Options{})
	c := dial(t, caller, k, "10086")
	waitFor(t, 5*time.Second, "prompt audio", func() bool { return len(c.Received()) > 5 })
	if err := c.SendDigit('1'); err != nil {
		t.Fatal(err)
	}
	ac := incoming(t, agent, 15*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ac.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("agent's phone kept ringing after the caller hung up")
	}
	k.idle()
	if st := k.agent("1001").State; st != routing.AgentReady {
		t.Errorf("agent after an abandoned offer: %s, want ready", st)
	}
}

// TestInfoDigits: a trunk that sends DTMF as SIP INFO navigates the menu.
func TestInfoDigits(t *testing.T) {
	k := startKefu(t, "")
	agent := k.phone("1002", "pw1002", testphone.Options{})
	k.ready("1002")
	caller := k.phone("13900000009", "", testphone.Options{})
	c := dial(t, caller, k, "10086")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, tc := range []struct {
		ct, body string
		want     int
	}{
		{"text/plain", "2", 415},
		{"application/dtmf-relay", "Signal=\r\n", 400},
		{"application/dtmf-relay", "Signal=2\r\nDuration=160\r\n", 200},
	} {
		code, err := c.SendInfoDigit(ctx, '2', tc.ct, tc.body)
		if err != nil || code != tc.want {
			t.Errorf("INFO %s %q: %d %v, want %d", tc.ct, tc.body, code, err, tc.want)
		}
	}
	ac := incoming(t, agent, 15*time.Second)
	if got := ac.Header("X-Kefu-Queue"); got != "data" {
		t.Errorf("pressing 2 by INFO queued the call to %q, want data", got)
	}
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	k.idle()
}

// TestMediaTimeout: a caller whose RTP stops is hung up with BYE.
func TestMediaTimeout(t *testing.T) {
	k := startKefu(t, "2s")
	caller := k.phone("13900000009", "", testphone.Options{})
	c := dial(t, caller, k, "10086")
	c.Mute(true)
	select {
	case <-c.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("silent call was not ended")
	}
	if !c.HungUpByPeer() {
		t.Error("silent call ended without Kefu's BYE")
	}
	k.idle()
}

// TestPriorityByTier: a five-star VIP who calls after a one-star caller is
// answered first (within the VIP's head start).
func TestPriorityByTier(t *testing.T) {
	k := startKefu(t, "")
	agent := k.phone("1002", "pw1002", testphone.Options{})
	one := k.phone("13800000001", "", testphone.Options{})
	vip := k.phone("13800000005", "", testphone.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	one.DialNoWait(ctx, k.sip, "10087")
	waitFor(t, 5*time.Second, "first caller queued", func() bool {
		qs, _ := k.app.router.Calls(context.Background())
		return len(qs) == 1
	})
	vip.DialNoWait(ctx, k.sip, "10087")
	waitFor(t, 5*time.Second, "second caller queued", func() bool {
		qs, _ := k.app.router.Calls(context.Background())
		return len(qs) == 2
	})
	k.ready("1002")
	ac := incoming(t, agent, 10*time.Second)
	if from := ac.Header("From"); !strings.Contains(from, "13800000005") {
		t.Errorf("first call offered came from %q, want the VIP 13800000005", from)
	}
	cancel()
}

// TestSIPErrors: bad or unwanted requests get the right SIP answer.
func TestSIPErrors(t *testing.T) {
	k := startKefu(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := k.phone("13900000009", "", testphone.Options{})

	t.Run("unknown number 404", func(t *testing.T) {
		_, err := p.Dial(ctx, k.sip, "99999")
		var se *testphone.StatusError
		if !errors.As(err, &se) || se.Code != 404 {
			t.Errorf("got %v, want 404", err)
		}
	})
	t.Run("source outside trunks 403", func(t *testing.T) {
		outsider := k.phone("13900000009", "", testphone.Options{IP: "127.0.0.2"})
		_, err := outsider.Dial(ctx, k.sip, "10086")
		var se *testphone.StatusError
		if !errors.As(err, &se) || se.Code != 403 {
			t.Errorf("got %v, want 403", err)
		}
	})
	t.Run("register wrong password 401", func(t *testing.T) {
		ph, err := testphone.Start("1001", testphone.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer ph.Close()
		code, err := ph.Register(ctx, k.sip, "wrong", 300)
		if err != nil || code != 401 {
			t.Errorf("got %d %v, want 401", code, err)
		}
		if k.app.sip.Registered("1001") {
			t.Error("agent registered with a wrong password")
		}
		if code, _ := k.setState("1001", "ready"); code != http.StatusConflict {
			t.Errorf("ready without registration: %d, want 409", code)
		}
	})
	for _, tc := range []struct {
		name, raw string
		want      int
	}{
		{"no common codec 488", invite(k, "10086", "application/sdp", sdpOffer("18 G729/8000")), 488},
		{"malformed SDP 400", invite(k, "10086", "application/sdp", "v=0\r\nthis is not sdp\r\n"), 400},
		{"not SDP 415", invite(k, "10086", "text/plain", "hello"), 415},
		{"no offer 488", invite(k, "10086", "", ""), 488},
		{"BYE for unknown call 481", request(k, "BYE", "sip:kefu@127.0.0.1", "x;tag=abc", "", ""), 481},
		{"INFO for unknown call 481", request(k, "INFO", "sip:kefu@127.0.0.1", "x;tag=abc", "application/dtmf", "5"), 481},
		{"UPDATE for unknown call 481", request(k, "UPDATE", "sip:kefu@127.0.0.1", "x;tag=abc", "", ""), 481},
		{"SUBSCRIBE outside dialog 405", request(k, "SUBSCRIBE", "sip:kefu@127.0.0.1", "", "", ""), 405},
		{"OPTIONS 200", request(k, "OPTIONS", "sip:kefu@127.0.0.1", "", "", ""), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, network := range []string{"udp", "tcp"} {
				if got := rawExchange(t, network, k.sip, tc.raw); got != tc.want {
					t.Errorf("%s: got %d, want %d", network, got, tc.want)
				}
			}
		})
	}
	k.idle()
}

// TestDrain: after Drain new calls get 503 and calls in progress go on.
func TestDrain(t *testing.T) {
	k := startKefu(t, "")
	p := k.phone("13900000009", "", testphone.Options{})
	c := dial(t, p, k, "10086")
	k.app.draining.Store(true)
	k.app.sip.Drain()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := p.Dial(ctx, k.sip, "10086")
	var se *testphone.StatusError
	if !errors.As(err, &se) || se.Code != 503 {
		t.Errorf("new call while draining: %v, want 503", err)
	}
	res, err := apiGet(k.http + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/healthz while draining: %d, want 503", res.StatusCode)
	}
	if got := rawExchange(t, "udp", k.sip, request(k, "OPTIONS", "sip:kefu@127.0.0.1", "", "", "")); got != 503 {
		t.Errorf("OPTIONS while draining: %d, want 503 so trunks fail over", got)
	}
	n := len(c.Received())
	waitFor(t, 5*time.Second, "the call in progress to go on", func() bool { return len(c.Received()) > n+20 })
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := k.app.sip.WaitIdle(ctx); err != nil {
		t.Fatal("WaitIdle did not return after the last call ended")
	}
}

// TestAgentReInvite: a re-INVITE from the agent's phone mid-call (hold,
// session timer) is answered 200 and the conversation goes on.
func TestAgentReInvite(t *testing.T) {
	k := startKefu(t, "")
	agent := k.phone("1001", "pw1001", testphone.Options{Fill: 0x37})
	k.ready("1001")
	caller := k.phone("13900000009", "", testphone.Options{})
	c := dial(t, caller, k, "10087")
	ac := incoming(t, agent, 10*time.Second)
	waitFor(t, 10*time.Second, "talking", func() bool { return k.agent("1001").State == routing.AgentTalking })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	code, err := ac.ReInvite(ctx)
	if err != nil || code != 200 {
		t.Fatalf("agent re-INVITE: %d %v, want 200", code, err)
	}
	n := c.CountFill(0x37)
	waitFor(t, 5*time.Second, "audio after the re-INVITE", func() bool { return c.CountFill(0x37) > n+10 })
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	k.idle()
}

// TestInDialogNeedsTags: a request with a live call's Call-ID but not its
// tags is refused with 481 and does not end the call.
func TestInDialogNeedsTags(t *testing.T) {
	k := startKefu(t, "")
	caller := k.phone("13900000009", "", testphone.Options{})
	c := dial(t, caller, k, "10086")
	raw := strings.Replace(request(k, "BYE", "sip:kefu@127.0.0.1", "x;tag=forged", "", ""),
		"Call-ID: raw-", "Call-ID: "+c.CallID()+"\r\nX-Was: raw-", 1)
	if got := rawExchange(t, "udp", k.sip, raw); got != 481 {
		t.Errorf("forged BYE: %d, want 481", got)
	}
	if len(k.app.sip.Calls()) != 1 {
		t.Fatal("forged BYE ended the call")
	}
	// Our Contact is an address the caller can reach, never 0.0.0.0.
	if ct := c.RemoteContact(); !strings.Contains(ct, "127.0.0.1") {
		t.Errorf("Contact in 200 OK = %q", ct)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	k.idle()
}

// TestEarlyBye: a caller waiting unanswered in a queue may hang up with BYE on
// the early dialog (RFC 3261 §15); Kefu accepts it and ends the INVITE with 487.
func TestEarlyBye(t *testing.T) {
	k := startKefu(t, "")
	k.phone("1001", "pw1001", testphone.Options{}) // logged in, not ready: the call waits
	conn, err := net.Dial("udp", k.sip.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	inv := strings.NewReplacer("{local}", local, "{proto}", "UDP").Replace(
		invite(k, "10087", "application/sdp", sdpOffer("0 PCMU/8000")))
	if _, err := conn.Write([]byte(inv)); err != nil {
		t.Fatal(err)
	}
	read := func() string {
		t.Helper()
		buf := make([]byte, 65535)
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no response: %v", err)
		}
		return string(buf[:n])
	}
	var ringing string
	for ringing == "" {
		if m := read(); strings.HasPrefix(m, "SIP/2.0 180") {
			ringing = m
		}
	}
	bye := "BYE sip:kefu@" + k.sip.String() + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bKearlybye;rport\r\n" +
		"From: " + sipHeader(ringing, "From") + "\r\nTo: " + sipHeader(ringing, "To") + "\r\n" +
		"Call-ID: " + sipHeader(ringing, "Call-ID") + "\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := conn.Write([]byte(bye)); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for !(got["BYE"] && got["INVITE"]) {
		m := read()
		code := strings.Fields(m)[1]
		method := strings.Fields(sipHeader(m, "CSeq"))[1]
		if code == "100" || code == "180" {
			continue
		}
		want := map[string]string{"BYE": "200", "INVITE": "487"}[method]
		if code != want {
			t.Fatalf("%s got %s, want %s", method, code, want)
		}
		got[method] = true
		if method == "INVITE" { // ACK the 487, as the transaction requires
			ack := "ACK sip:10087@" + k.sip.String() + " SIP/2.0\r\nVia: " + sipHeader(m, "Via") + "\r\n" +
				"From: " + sipHeader(m, "From") + "\r\nTo: " + sipHeader(m, "To") + "\r\nCall-ID: " + sipHeader(m, "Call-ID") +
				"\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
			if _, err := conn.Write([]byte(ack)); err != nil {
				t.Fatal(err)
			}
		}
	}
	k.idle()
}

// TestStateNeedsJSON: the state API refuses non-JSON bodies, so a web page
// cannot post a form at it.
func TestStateNeedsJSON(t *testing.T) {
	k := startKefu(t, "")
	k.phone("1001", "pw1001", testphone.Options{})
	res, err := apiPost(k.http+"/api/agents/1001/state", "text/plain", strings.NewReader(`{"state":"ready"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain body: %d, want 415", res.StatusCode)
	}
	if st := k.agent("1001").State; st == routing.AgentReady {
		t.Error("agent made ready by a non-JSON request")
	}
}

// TestNoAckGetsBye: a trunk that never ACKs our 200 OK gets the 200
// retransmitted and, when the transaction times out (64×T1, about 32 s, after
// which RFC 3261 §13.3.1.4 allows it), a BYE; the call is then gone.
func TestNoAckGetsBye(t *testing.T) {
	t.Parallel()
	k := startKefu(t, "")
	conn, err := net.Dial("udp", k.sip.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	inv := strings.NewReplacer("{local}", local, "{proto}", "UDP").Replace(
		invite(k, "10086", "application/sdp", sdpOffer("0 PCMU/8000")))
	if _, err := conn.Write([]byte(inv)); err != nil {
		t.Fatal(err)
	}
	oks := 0
	buf := make([]byte, 65535)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(45 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no BYE after an unacknowledged 200 (saw %d 200s): %v", oks, err)
		}
		m := string(buf[:n])
		if strings.HasPrefix(m, "SIP/2.0 200") {
			oks++
			continue
		}
		if strings.HasPrefix(m, "BYE ") {
			// Answer it, as the trunk would.
			res := "SIP/2.0 200 OK\r\nVia: " + sipHeader(m, "Via") + "\r\nFrom: " + sipHeader(m, "From") +
				"\r\nTo: " + sipHeader(m, "To") + "\r\nCall-ID: " + sipHeader(m, "Call-ID") +
				"\r\nCSeq: " + sipHeader(m, "CSeq") + "\r\nContent-Length: 0\r\n\r\n"
			if _, err := conn.Write([]byte(res)); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if oks < 2 {
		t.Errorf("200 OK sent %d times before giving up, want retransmissions", oks)
	}
	k.idle()
}

// TestReInviteHold: hold and resume by re-INVITE on both legs. The answer
// mirrors the offer's direction (RFC 3264 §6.1) with an o= version that grows
// only when our SDP changes (§8); a held leg may fall silent without the
// media timeout ending the call, which counts again from the resume; an offer
// without the call's codec gets 488 and leaves the call as it was.
func TestReInviteHold(t *testing.T) {
	const timeout = 2 * time.Second // startKefu(t, "2s")
	// sdpOf reads the direction and the o= version of an SDP body.
	sdpOf := func(t *testing.T, body []byte) (dir string, version uint64) {
		t.Helper()
		dir = "sendrecv"
		for _, l := range strings.Split(string(body), "\r\n") {
			switch l {
			case "a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive":
				dir = l[2:]
			}
			if f := strings.Fields(l); len(f) >= 3 && strings.HasPrefix(l, "o=") {
				if _, err := fmt.Sscan(f[2], &version); err != nil {
					t.Fatalf("o= line %q: %v", l, err)
				}
			}
		}
		if version == 0 {
			t.Fatalf("no o= version in\n%s", body)
		}
		return dir, version
	}
	// reInvite sends offer from c and checks the answer: code, and for a 200
	// its direction and o= version.
	reInvite := func(t *testing.T, c *testphone.Call, offer testphone.Offer, code int, dir string, version uint64) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := c.ReInviteOffer(ctx, offer)
		if err != nil {
			t.Fatalf("re-INVITE %+v: %v", offer, err)
		}
		if res.StatusCode != code {
			t.Fatalf("re-INVITE %+v: %d, want %d", offer, res.StatusCode, code)
		}
		if code != 200 {
			return
		}
		if d, v := sdpOf(t, res.Body()); d != dir || v != version {
			t.Errorf("re-INVITE %+v: answered %s version %d, want %s version %d", offer, d, v, dir, version)
		}
	}
	// alive fails if c ends within d.
	alive := func(t *testing.T, c *testphone.Call, d time.Duration, what string) {
		t.Helper()
		select {
		case <-c.Done():
			t.Fatalf("%s: call ended (by Kefu: %v)", what, c.HungUpByPeer())
		case <-time.After(d):
		}
	}
	// hungUpAfter waits for Kefu's BYE and checks the media timeout counted
	// from resumed.
	hungUpAfter := func(t *testing.T, k *testKefu, c *testphone.Call, resumed time.Time) {
		t.Helper()
		select {
		case <-c.Done():
		case <-time.After(timeout + 5*time.Second):
			t.Fatal("silent call not hung up after the resume")
		}
		if !c.HungUpByPeer() {
			t.Error("call ended without Kefu's BYE")
		}
		if d := time.Since(resumed); d < timeout {
			t.Errorf("hung up %s after the resume: the media timeout must count from it", d)
		}
		if !strings.Contains(k.log.String(), "media timeout: no RTP") {
			t.Error("Kefu did not log a media timeout")
		}
	}

	t.Run("caller", func(t *testing.T) {
		t.Parallel()
		k := startKefu(t, "2s")
		caller := k.phone("13900000009", "", testphone.Options{})
		c := dial(t, caller, k, "10086")
		_, v := sdpOf(t, c.RemoteSDP())

		reInvite(t, c, testphone.Offer{}, 200, "sendrecv", v) // refresh: same SDP, same version
		reInvite(t, c, testphone.Offer{Codecs: []string{"G729"}}, 488, "", 0)
		n := len(c.Received())
		waitFor(t, 5*time.Second, "audio after the refused re-INVITE", func() bool { return len(c.Received()) > n+10 })
		reInvite(t, c, testphone.Offer{}, 200, "sendrecv", v)

		reInvite(t, c, testphone.Offer{Direction: "sendonly"}, 200, "recvonly", v+1)
		c.Mute(true)
		// Refused while held: still held.
		reInvite(t, c, testphone.Offer{Codecs: []string{"G729"}, Direction: "sendrecv"}, 488, "", 0)
		alive(t, c, timeout+time.Second, "held and silent")
		reInvite(t, c, testphone.Offer{Direction: "sendonly"}, 200, "recvonly", v+1)

		resumed := time.Now()
		reInvite(t, c, testphone.Offer{Direction: "sendrecv"}, 200, "sendrecv", v+2)
		reInvite(t, c, testphone.Offer{}, 200, "sendrecv", v+2)
		hungUpAfter(t, k, c, resumed)
		k.idle()
	})

	t.Run("agent", func(t *testing.T) {
		t.Parallel()
		k := startKefu(t, "2s")
		agent := k.phone("1001", "pw1001", testphone.Options{Fill: 0x37})
		k.ready("1001")
		caller := k.phone("13900000009", "", testphone.Options{})
		c := dial(t, caller, k, "10087")
		ac := incoming(t, agent, 10*time.Second)
		waitFor(t, 10*time.Second, "talking", func() bool { return k.agent("1001").State == routing.AgentTalking })
		_, v := sdpOf(t, ac.RemoteSDP()) // our offer: PCMU and PCMA

		// Our answer names the one codec the phone chose: a new SDP.
		reInvite(t, ac, testphone.Offer{Direction: "sendonly"}, 200, "recvonly", v+1)
		ac.Mute(true)
		alive(t, ac, timeout+time.Second, "agent held and silent")
		if st := k.agent("1001").State; st != routing.AgentTalking {
			t.Errorf("agent on hold: %s, want talking", st)
		}
		reInvite(t, ac, testphone.Offer{Codecs: []string{"G729"}}, 488, "", 0)

		resumed := time.Now()
		reInvite(t, ac, testphone.Offer{}, 200, "sendrecv", v+2)
		n := ac.CountFill(0x42)
		waitFor(t, 5*time.Second, "caller audio at the agent after the resume", func() bool { return ac.CountFill(0x42) > n+10 })
		// The phone stays silent: the bridge ends a media timeout after the resume.
		hungUpAfter(t, k, ac, resumed)
		select {
		case <-c.Done(): // the flow thanks the caller and hangs up
		case <-time.After(15 * time.Second):
			t.Fatal("caller not hung up after the agent leg ended")
		}
		k.idle()
	})
}
