package sip

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"kefu/ivr"
	"kefu/routing"
	"kefu/routing/memstore"
	"kefu/sip/media"
	"kefu/sip/testphone"
)

// The end-to-end tests in this package run a real Server on loopback UDP
// with a real router (embedded store) and drive it with testphone phones:
// real SIP, real RTP at 20 ms. Flows are Go functions standing in for the
// IVR engine. Every wait has a bound only so that a broken test fails
// instead of hanging; no test asserts how long anything took.

// Test prompts: each 20 ms frame is one μ-law code repeated, so a phone can
// tell from a payload which prompt (and, for the music, which frame) it
// hears.
const (
	codeAnnounce byte = 0x90
	codeOffer    byte = 0xA0
	codeConfirm  byte = 0xB0
	codeAfter    byte = 0xD0
	// The music's frame i is code musicBase+i.
	musicBase   byte = 0x10
	musicFrames      = 100 // 2 s
)

// codePrompt is a prompt of frames frames, each of code.
func codePrompt(name string, code byte, frames int) *media.Prompt {
	pcm := make([]int16, frames*media.FrameSamples)
	for i := range pcm {
		pcm[i] = media.DecodeUlaw(code)
	}
	return media.NewPrompt(name, pcm)
}

// musicPrompt is the hold music: frame i is code musicBase+i.
func musicPrompt() *media.Prompt {
	pcm := make([]int16, musicFrames*media.FrameSamples)
	for i := range pcm {
		pcm[i] = media.DecodeUlaw(musicBase + byte(i/media.FrameSamples))
	}
	return media.NewPrompt("music", pcm)
}

func testPrompts() *media.Catalog {
	return media.NewCatalog(
		musicPrompt(),
		codePrompt("announce", codeAnnounce, 25),
		codePrompt("offer", codeOffer, 25),
		codePrompt("confirm", codeConfirm, 10),
		codePrompt("after", codeAfter, 25),
	)
}

// flowFunc is a test flow.
type flowFunc func(ctx context.Context, c ivr.Call) error

// testFlows runs one flow, "main", for every call.
type testFlows struct{ run flowFunc }

func (f testFlows) HasFlow(name string) bool { return name == "main" }
func (f testFlows) RunFlow(ctx context.Context, name string, c ivr.Call) error {
	return f.run(ctx, c)
}

// logBuffer collects the server's log for failure reports.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var rtpBlocks struct {
	mu   sync.Mutex
	next int
}

// rtpBlock gives each server its own 100 RTP ports.
func rtpBlock() (lo, hi int) {
	rtpBlocks.mu.Lock()
	defer rtpBlocks.mu.Unlock()
	if rtpBlocks.next == 0 {
		rtpBlocks.next = 42000 + (os.Getpid()%40)*500
	}
	lo = rtpBlocks.next
	rtpBlocks.next += 100
	return lo, lo + 99
}

// testAgent is the agent the test router knows: 2001, skill sales.
const (
	testAgent    = "2001"
	testPassword = "pw2001"
	accessNumber = "100"
)

type testServer struct {
	t      *testing.T
	srv    *Server
	router *routing.Router
	sip    netip.AddrPort
	log    *logBuffer
	dir    string // voicemail directory
}

// startServer runs a server whose access number 100 runs flow. edit may
// change the configuration.
func startServer(t *testing.T, flow flowFunc, edit func(*Config)) *testServer {
	t.Helper()
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	router, err := routing.NewRouter(routing.Config{
		Queues: []routing.QueueConfig{{Name: "sales", Skill: "sales", RingTimeout: 3 * time.Second}},
		Agents: []routing.AgentConfig{{ID: testAgent, Skills: map[string]int{"sales": 3}}},
		Logger: log.With("part", "router"),
	}, memstore.New())
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := rtpBlock()
	dir := t.TempDir()
	cfg := Config{
		Listen:              netip.MustParseAddrPort("127.0.0.1:0"),
		RTPLow:              lo,
		RTPHigh:             hi,
		Trunks:              []Trunk{{Name: "test", Networks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}},
		AccessNumbers:       map[string]string{accessNumber: "main"},
		Agents:              map[string]string{testAgent: testPassword},
		VoicemailDir:        dir,
		CallbackRingTimeout: 2 * time.Second,
		CallbackRetryDelay:  300 * time.Millisecond,
		Logger:              log.With("part", "sip"),
	}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := New(cfg, Deps{
		Flows:   testFlows{run: flow},
		Router:  router,
		Prompts: testPrompts(),
		OnRegistration: func(agent string, registered bool) {
			state := routing.AgentLoggedOut
			if registered {
				state = routing.AgentNotReady
			}
			if err := router.SetAgentState(context.Background(), agent, state, "registration"); err != nil {
				log.Warn("agent state", "err", err)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, func(udp, _ net.Addr) { ready <- udp }) }()
	ts := &testServer{t: t, srv: srv, router: router, log: logs, dir: dir}
	select {
	case a := <-ready:
		ts.sip = netip.MustParseAddrPort(a.String())
	case err := <-served:
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(func() {
		srv.HangupAll()
		wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = srv.WaitIdle(wctx)
		wcancel()
		cancel()
		<-served
		srv.Close()
		router.Close()
		if t.Failed() || os.Getenv("KEFU_TEST_LOG") != "" {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return ts
}

// phone starts a phone; with a password it registers as that agent.
func (ts *testServer) phone(user, password string, opts testphone.Options) *testphone.Phone {
	ts.t.Helper()
	p, err := testphone.Start(user, opts)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.t.Cleanup(p.Close)
	if password != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		code, err := p.Register(ctx, ts.sip, password, 300)
		if err != nil || code != 200 {
			ts.t.Fatalf("register %s: %d %v", user, code, err)
		}
	}
	return p
}

func (ts *testServer) setAgent(state routing.AgentState) {
	ts.t.Helper()
	if err := ts.router.SetAgentState(context.Background(), testAgent, state, "test"); err != nil {
		ts.t.Fatalf("agent %s to %s: %v", testAgent, state, err)
	}
}

func (ts *testServer) dial(p *testphone.Phone) *testphone.Call {
	ts.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := p.Dial(ctx, ts.sip, accessNumber)
	if err != nil {
		ts.t.Fatalf("dial %s: %v", accessNumber, err)
	}
	return c
}

// idle waits until the server holds no call, dialog, queued call or RTP
// port.
func (ts *testServer) idle() {
	ts.t.Helper()
	waitFor(ts.t, 15*time.Second, "the server to be idle", func() bool {
		calls, _ := ts.router.Calls(context.Background())
		return ts.srv.DialogCount() == 0 && len(calls) == 0 && len(ts.srv.Calls()) == 0 && ts.srv.PortsInUse() == 0
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

// receive waits for a value on ch.
func receive[T any](t *testing.T, ch <-chan T, bound time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(bound):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

func incoming(t *testing.T, p *testphone.Phone, bound time.Duration) *testphone.Call {
	t.Helper()
	return receive(t, p.Incoming(), bound, fmt.Sprintf("a call to %s", p.User))
}

func hangup(t *testing.T, c *testphone.Call) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Hangup(ctx); err != nil {
		t.Fatalf("hang up: %v", err)
	}
}

// uniform reports whether a payload is one byte repeated, and which.
func uniform(p []byte) (byte, bool) {
	if len(p) == 0 {
		return 0, false
	}
	return p[0], bytes.Count(p, p[:1]) == len(p)
}

// countCode counts received packets that are frames of the code prompt.
func countCode(c *testphone.Call, code byte) int {
	n := 0
	for _, p := range c.Received() {
		if b, ok := uniform(p.Payload); ok && b == code {
			n++
		}
	}
	return n
}

// waitDone waits for a phone's call to end and checks Kefu ended it.
func waitDone(t *testing.T, c *testphone.Call, what string) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(15 * time.Second):
		t.Fatalf("%s: call not ended", what)
	}
	if !c.HungUpByPeer() {
		t.Errorf("%s: call ended, but not by Kefu's BYE", what)
	}
}
