package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"kefu/routing/callrecord"
	"kefu/sip/testphone"
)

// The tests in this file run the real kefu binary and drive it with sipp
// (Debian package sip-tester), the way a carrier trunk and an agent's phone
// would. sipp replays RFC 2833 digits from pcap files with a raw socket, so
// these tests need root or CAP_NET_RAW; bash .ci/run installs sipp.

// Set up once by TestMain for every test of the package.
var (
	kefuBin string
	// sampleFlows is a flows directory with the fixed three-queue menu of
	// ivr/testdata/sample and the recordings of flows/prompts: the calls of
	// most tests walk it, so that edits to the real sample flows do not move
	// them. Tests of the real flows use hotlineFlows.
	sampleFlows string
	// ttsCache is shared by every Kefu the tests start, so each text is
	// rendered once per run.
	ttsCache string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kefu-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if sampleFlows, err = makeSampleFlows(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ttsCache = filepath.Join(dir, "tts-cache")
	kefuBin = filepath.Join(dir, "kefu")
	out, err := exec.Command("go", "build", "-race", "-o", kefuBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building kefu: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freePort returns a port free for both UDP and TCP on 127.0.0.1 right now.
func freePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		u.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

type kefuProc struct {
	cmd  *exec.Cmd
	sip  netip.AddrPort
	http string
	log  *syncBuffer
	// token is the supervisor token of the process's configuration; data
	// its -data directory.
	token string
	data  string
	done  chan struct{} // closed when the process has exited
	err   error         // its exit status, once done is closed
}

const sippConfig = `
sip:
  listen: 127.0.0.1:%d
  rtp_ports: %s
trunks:
  - name: sipp
    networks: [127.0.0.1/32]
access_numbers:
  "10086": main
  "10087": direct
customers: %s
agents:
  - {id: "1001", password: kefu-1001, skills: {billing: 5, data: 3, complaints: 3, vip: 5}}
  - {id: "1002", password: kefu-1002, skills: {billing: 3, data: 5, complaints: 3, vip: 3}}
queues:
  - {name: billing, ring_timeout: 3s}
  - {name: data, ring_timeout: 3s}
  - {name: complaints, ring_timeout: 3s}
  - {name: vip, ring_timeout: 3s}
auth: {supervisor_token: %s}
`

// startKefuProcess runs the kefu binary and waits for /healthz.
func startKefuProcess(t *testing.T) *kefuProc {
	t.Helper()
	return startKefuProcessFlows(t, sampleFlows)
}

// makeSampleFlows builds the flows directory of sampleFlows under dir.
func makeSampleFlows(dir string) (string, error) {
	out := filepath.Join(dir, "sample-flows")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	files, err := filepath.Glob("../../ivr/testdata/sample/*.yaml")
	if err != nil || len(files) == 0 {
		return "", fmt.Errorf("no sample flows in ivr/testdata/sample: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(out, filepath.Base(f)), b, 0o644); err != nil {
			return "", err
		}
	}
	prompts, err := filepath.Abs("../../flows/prompts")
	if err != nil {
		return "", err
	}
	return out, os.Symlink(prompts, filepath.Join(out, "prompts"))
}

// hotlineFlows copies the real sample flows (flows/) into a temporary
// directory with the agents' calendar open around the clock, so that a
// test does not depend on the time of day it runs at.
func hotlineFlows(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	files, err := filepath.Glob("../../flows/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no flows in ../../flows: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) == "calendars.yaml" {
			b = []byte("kind: calendars\ncalendars:\n  hotline:\n    timezone: Asia/Shanghai\n    weekly: {daily: [\"00:00-24:00\"]}\n")
		}
		if err := os.WriteFile(filepath.Join(out, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	prompts, _ := filepath.Abs("../../flows/prompts")
	if err := os.Symlink(prompts, filepath.Join(out, "prompts")); err != nil {
		t.Fatal(err)
	}
	return out
}

// startKefuProcessFlows runs the kefu binary on the flows in flowsDir.
func startKefuProcessFlows(t *testing.T, flowsDir string) *kefuProc {
	t.Helper()
	customers, _ := filepath.Abs("../../testdata/customers.csv")
	return startKefuProcessCustomers(t, flowsDir, customers)
}

// startKefuProcessCustomers runs the kefu binary on the flows in flowsDir
// with customers as the configuration's customers: value.
func startKefuProcessCustomers(t *testing.T, flowsDir, customers string) *kefuProc {
	t.Helper()
	dir := t.TempDir()
	sipPort, httpPort := freePort(t), freePort(t)
	cfg := filepath.Join(dir, "kefu.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, sippConfig, sipPort, rtpRange(), customers, testToken), 0o644); err != nil {
		t.Fatal(err)
	}
	k := &kefuProc{
		sip:   netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(sipPort)),
		http:  fmt.Sprintf("http://127.0.0.1:%d", httpPort),
		log:   &syncBuffer{},
		token: testToken,
		data:  filepath.Join(dir, "data"),
		done:  make(chan struct{}),
	}
	k.cmd = exec.Command(kefuBin, "serve", "-config", cfg, "-flows", flowsDir, "-data", filepath.Join(dir, "data"), "-tts-cache", ttsCache,
		"-http", fmt.Sprintf("127.0.0.1:%d", httpPort), "-log-level", "debug")
	k.cmd.Stdout, k.cmd.Stderr = k.log, k.log
	if err := k.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { k.err = k.cmd.Wait(); close(k.done) }()
	t.Cleanup(func() {
		select {
		case <-k.done:
		default:
			_ = k.cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-k.done:
			case <-time.After(15 * time.Second):
				_ = k.cmd.Process.Kill()
				<-k.done
			}
		}
		if t.Failed() {
			t.Logf("kefu log:\n%s", k.log.String())
		}
	})
	waitFor(t, 30*time.Second, "kefu /healthz", func() bool {
		res, err := apiGet(k.http + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	return k
}

func (k *kefuProc) post(t *testing.T, path, body string) int {
	t.Helper()
	res, err := apiPost(k.http+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func (k *kefuProc) get(t *testing.T, path string, v any) {
	t.Helper()
	res, err := apiGet(k.http + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func (k *kefuProc) agentState(t *testing.T, id string) (state, reason string) {
	var agents []struct {
		ID, State, Reason string
		Registered        bool
	}
	k.get(t, "/api/agents", &agents)
	for _, a := range agents {
		if a.ID == id {
			return a.State, a.Reason
		}
	}
	t.Fatalf("agent %s not listed", id)
	return "", ""
}

// sipp runs one sipp scenario from testdata/sipp in its own directory (sipp
// writes trace files to the working directory) and returns its result.
type sippRun struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

func startSipp(t *testing.T, scenario string, args ...string) *sippRun {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatal("sipp not found: install Debian package sip-tester (bash .ci/run does it)")
	}
	sf, _ := filepath.Abs(filepath.Join("../../testdata/sipp", scenario))
	all := append([]string{"-sf", sf, "-i", "127.0.0.1", "-nostdin", "-trace_err", "-timeout", "60s", "-timeout_error"}, args...)
	r := &sippRun{out: &syncBuffer{}, done: make(chan struct{})}
	r.cmd = exec.Command(bin, all...)
	r.cmd.Dir = t.TempDir()
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// wait waits for sipp to finish and fails the test unless it passed.
func (r *sippRun) wait(t *testing.T, what string) {
	t.Helper()
	select {
	case <-r.done:
		if err := r.err; err != nil {
			errs, _ := filepath.Glob(filepath.Join(r.cmd.Dir, "*_errors.log"))
			var detail string
			for _, e := range errs {
				b, _ := os.ReadFile(e)
				detail += string(b)
			}
			t.Fatalf("sipp %s failed: %v\n%s\n%s", what, err, tail(r.out.String(), 3000), detail)
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("sipp %s did not finish", what)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func register(t *testing.T, k *kefuProc, agent, password string, contactPort int) {
	t.Helper()
	reg := startSipp(t, "register.xml", k.sip.String(), "-p", strconv.Itoa(freePort(t)), "-m", "1",
		"-key", "agent", agent, "-au", agent, "-ap", password, "-key", "contact_port", strconv.Itoa(contactPort))
	reg.wait(t, "register "+agent)
}

// TestSippCallBridged: sipp calls 10086 over UDP, presses 1 with RFC 2833
// events replayed from sipp's own pcap, is routed to agent 1001 (a sipp UAS
// registered with digest auth, echoing RTP), talks, and hangs up; both legs
// end cleanly and Kefu keeps nothing.
func TestSippCallBridged(t *testing.T) {
	k := startKefuProcess(t)
	agentPort := freePort(t)
	agent := startSipp(t, "agent_answer.xml", "-p", strconv.Itoa(agentPort), "-m", "1",
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(t)), "-rtp_echo")
	register(t, k, "1001", "kefu-1001", agentPort)
	if code := k.post(t, "/api/agents/1001/state", `{"state":"ready"}`); code != 200 {
		t.Fatalf("ready: %d", code)
	}
	caller := startSipp(t, "caller_dtmf.xml", k.sip.String(), "-s", "10086", "-p", strconv.Itoa(freePort(t)),
		"-m", "1", "-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(t)), "-key", "caller", "13800000001")
	caller.wait(t, "caller")
	agent.wait(t, "agent")

	log := k.log.String()
	if !regexp.MustCompile(`msg=digit .*key=1 source=rfc4733`).MatchString(log) {
		t.Error("kefu did not decode the digit 1 from sipp's RFC 2833 pcap")
	}
	m := regexp.MustCompile(`msg="bridge ended".*caller_rtp_in=(\d+) leg_rtp_in=(\d+)`).FindStringSubmatch(log)
	if m == nil {
		t.Fatal("no bridge in kefu's log")
	}
	callerIn, _ := strconv.Atoi(m[1])
	agentIn, _ := strconv.Atoi(m[2])
	// sipp plays ~7 s of A-law audio; the agent echoes it back.
	if callerIn < 100 || agentIn < 100 {
		t.Errorf("bridged media: caller sent %d packets, agent %d; want both ≥ 100", callerIn, agentIn)
	}
	waitFor(t, 10*time.Second, "no calls left", func() bool {
		var calls []any
		k.get(t, "/api/calls", &calls)
		return len(calls) == 0
	})
}

// TestSippAgentNoAnswerAndCancel: sipp calls 10087 (queue before answer),
// agent 1001's sipp phone rings and never answers; after the ring timeout
// Kefu cancels it (200, 487, ACK), sets the agent not ready (no_answer) and
// keeps the caller queued; the caller then gives up with CANCEL and gets 487.
func TestSippAgentNoAnswerAndCancel(t *testing.T) {
	k := startKefuProcess(t)
	agentPort := freePort(t)
	agent := startSipp(t, "agent_noanswer.xml", "-p", strconv.Itoa(agentPort), "-m", "1")
	register(t, k, "1001", "kefu-1001", agentPort)
	if code := k.post(t, "/api/agents/1001/state", `{"state":"ready"}`); code != 200 {
		t.Fatalf("ready: %d", code)
	}
	caller := startSipp(t, "caller_cancel.xml", k.sip.String(), "-s", "10087", "-p", strconv.Itoa(freePort(t)),
		"-m", "1", "-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(t)), "-key", "caller", "13900000009", "-d", "6000")
	agent.wait(t, "agent")
	if st, reason := k.agentState(t, "1001"); st != "not_ready" || reason != "no_answer" {
		t.Errorf("agent 1001 after ringing out: %s (%s), want not_ready (no_answer)", st, reason)
	}
	var calls []map[string]any
	k.get(t, "/api/calls", &calls)
	if len(calls) != 1 || calls[0]["state"] != "queued" {
		t.Errorf("after the missed offer the caller should be queued again: %v", calls)
	}
	caller.wait(t, "caller")
	waitFor(t, 10*time.Second, "no calls left", func() bool {
		var calls []any
		k.get(t, "/api/calls", &calls)
		return len(calls) == 0
	})
}

// TestBinarySIGTERM: SIGTERM makes the real process refuse new calls with 503
// while the call in progress goes on; when it hangs up, kefu exits 0.
func TestBinarySIGTERM(t *testing.T) {
	k := startKefuProcess(t)
	p, err := testphone.Start("13900000009", testphone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := p.Dial(ctx, k.sip, "10086")
	if err != nil {
		t.Fatal(err)
	}
	if err := k.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "draining", func() bool { return strings.Contains(k.log.String(), "SIGTERM: draining") })
	_, err = p.Dial(ctx, k.sip, "10086")
	if se, ok := err.(*testphone.StatusError); !ok || se.Code != 503 {
		t.Errorf("new call during drain: %v, want 503", err)
	}
	n := len(c.Received())
	waitFor(t, 5*time.Second, "the call in progress to go on", func() bool { return len(c.Received()) > n+25 })
	select {
	case <-k.done:
		t.Fatalf("kefu exited with a call in progress: %v", k.err)
	default:
	}
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-k.done:
		if k.err != nil {
			t.Errorf("kefu exit after drain: %v", k.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("kefu did not exit after the last call ended")
	}
	// The call that was in progress at SIGTERM has its record.
	recs, err := callrecord.ReadJSONL(filepath.Join(k.data, "records.jsonl"), time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].CallID != c.CallID() || recs[0].Disposition != callrecord.AbandonedIVR || recs[0].Caller != "13900000009" {
		t.Errorf("records after SIGTERM: %+v, want the one call, abandoned in the IVR", recs)
	}
}

// TestSippTCP: a trunk on TCP. An answered IVR call ended by the caller's
// BYE, and a caller who cancels while queued before answer.
func TestSippTCP(t *testing.T) {
	k := startKefuProcess(t)
	agent, err := testphone.Start("1001", testphone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if code, err := agent.Register(ctx, k.sip, "kefu-1001", 300); err != nil || code != 200 {
		t.Fatalf("register: %d %v", code, err)
	}
	// Answered call: INVITE → 200 → ACK, 2 s of IVR audio (echoed), BYE.
	call := startSipp(t, "load_call.xml", k.sip.String(), "-t", "t1", "-s", "10086", "-p", strconv.Itoa(freePort(t)),
		"-m", "1", "-d", "2000", "-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(t)), "-rtp_echo", "-key", "caller", "13900000009")
	call.wait(t, "TCP call")
	// Agent 1001 is logged in but not ready: a 10087 caller waits ringing.
	cancelled := startSipp(t, "caller_cancel.xml", k.sip.String(), "-t", "t1", "-s", "10087", "-p", strconv.Itoa(freePort(t)),
		"-m", "1", "-d", "1500", "-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(t)), "-key", "caller", "13900000009")
	cancelled.wait(t, "TCP cancel")
	if !regexp.MustCompile(`msg="call ended".*caller=13900000009 called=10086.*cause="caller hung up"`).MatchString(k.log.String()) {
		t.Error("no record of the TCP call ending by the caller's BYE")
	}
	waitFor(t, 10*time.Second, "no calls left", func() bool {
		var calls []any
		k.get(t, "/api/calls", &calls)
		return len(calls) == 0
	})
}

// TestSippSurvey drives the real hotline flow (flows/, with the agents'
// calendar open around the clock) from sipp as the trunk: the caller chooses
// English, bills, types an account number, is served by agent 1001 (a SIP
// phone that answers and hangs up), answers the two survey questions and is
// thanked and hung up on. Every key is an RFC 2833 event made by sipp.
func TestSippSurvey(t *testing.T) {
	k := startKefuFlows(t, "", hotlineFlows(t))
	waitFor(t, 120*time.Second, "text prompts rendered", func() bool {
		return strings.Contains(k.log.String(), `msg="text prompts ready"`)
	})
	agent := k.phone("1001", "pw1001", testphone.Options{Fill: 0x37})
	k.ready("1001")
	caller := startSipp(t, "caller_survey.xml", k.sip.String(), "-s", "10086", "-p", strconv.Itoa(freePort(t)),
		"-m", "1", "-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(t)),
		"-key", "caller", "13800000001")

	ac := incoming(t, agent, 30*time.Second)
	if got := ac.Header("X-Kefu-Queue"); got != "billing" {
		t.Errorf("agent INVITE X-Kefu-Queue = %q, want billing", got)
	}
	time.Sleep(2 * time.Second) // the conversation
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ac.Hangup(ctx); err != nil {
		t.Fatalf("agent hangup: %v", err)
	}
	caller.wait(t, "caller")

	log := k.log.String()
	end := regexp.MustCompile(`msg="ivr run ended".*`).FindString(log)
	if end == "" {
		t.Fatal("no ivr run ended line in kefu's log")
	}
	for _, want := range []string{
		"end=hangup", "node=thanks", "lang=en",
		"path=choose_language,who_is_calling,priority_check,notices,main_menu,billing,account,ask,done,agents_hours,route,billing_queue,survey,thanks",
		`survey="satisfaction=5 solved=solved"`,
		"account_no=****", "intent=billing",
	} {
		if !strings.Contains(end, want) {
			t.Errorf("run ended without %s:\n%s", want, end)
		}
	}
	if strings.Contains(log, "12345678") {
		t.Error("the account number (a sensitive variable) appears in kefu's log")
	}
	k.idle()
}
