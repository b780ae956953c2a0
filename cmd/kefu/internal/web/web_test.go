package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"kefu/cmd/kefu/internal/api"
	"kefu/routing"
)

const supToken = "sup-secret-token-123"

type fakeDir map[string]string // agent → password

func (d fakeDir) CheckPassword(id, pw string) bool { p, ok := d[id]; return ok && p == pw }
func (d fakeDir) Name(id string) string            { return "Agent " + id }

type fakeLive struct {
	mu     sync.Mutex
	agents []routing.AgentStatus
	pop    map[string]*Pop
	chart  Chart
}

func (f *fakeLive) Agents(context.Context) ([]routing.AgentStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]routing.AgentStatus(nil), f.agents...), nil
}
func (f *fakeLive) Figures(context.Context) (api.FiguresResponse, error) {
	return api.FiguresResponse{}, nil
}
func (f *fakeLive) Calls(context.Context) ([]routing.CallStatus, error) { return nil, nil }
func (f *fakeLive) ScreenPop(_ context.Context, id string) (*Pop, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pop[id], nil
}
func (f *fakeLive) AgentDay(context.Context, string) (DayFigures, error) {
	return DayFigures{Answered: 3}, nil
}
func (f *fakeLive) TierChart(context.Context) (Chart, error) { return f.chart, nil }

func (f *fakeLive) setState(id string, st routing.AgentState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.agents {
		if f.agents[i].ID == id {
			f.agents[i].State = st
		}
	}
}

// fakeAPI answers 200 {"api":PATH} to everything.
var fakeAPI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"api": r.URL.Path})
})

type fixture struct {
	srv  *httptest.Server
	live *fakeLive
	logs *bytes.Buffer
	now  time.Time
	mu   sync.Mutex
	done chan struct{}
}

func (fx *fixture) clock() time.Time { fx.mu.Lock(); defer fx.mu.Unlock(); return fx.now }
func (fx *fixture) advance(d time.Duration) {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	fx.now = fx.now.Add(d)
}

type lockedBuf struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	fx := &fixture{now: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC), logs: &bytes.Buffer{}}
	fx.live = &fakeLive{
		agents: []routing.AgentStatus{{ID: "1001", State: routing.AgentNotReady}, {ID: "1002", State: routing.AgentReady}},
		pop:    map[string]*Pop{},
	}
	lb := &lockedBuf{b: fx.logs}
	fx.done = make(chan struct{})
	h, err := New(Deps{Done: fx.done, API: fakeAPI, Agents: fakeDir{"1001": "pw-1001", "1002": "pw-1002"}, SupervisorToken: supToken,
		Secret: []byte("0123456789abcdef0123456789abcdef"), Live: fx.live,
		Logger: slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), Now: fx.clock})
	if err != nil {
		t.Fatal(err)
	}
	h.(*server).heartbeat = 100 * time.Millisecond
	fx.srv = httptest.NewServer(h)
	t.Cleanup(fx.srv.Close)
	t.Cleanup(func() {
		lb.mu.Lock()
		defer lb.mu.Unlock()
		for _, secret := range []string{supToken, "pw-1001", "pw-1002", "wrong-pw"} {
			if strings.Contains(fx.logs.String(), secret) {
				t.Errorf("a secret (%q) appears in the log:\n%s", secret, fx.logs)
			}
		}
	})
	return fx
}

// do sends a request with an optional bearer token and JSON body.
func (fx *fixture) do(t *testing.T, method, path, token, body string) (int, map[string]any, *http.Response) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, fx.srv.URL+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m, res
}

func (fx *fixture) login(t *testing.T, agent, pw string) string {
	t.Helper()
	code, m, _ := fx.do(t, "POST", "/api/login", "", `{"agent":"`+agent+`","password":"`+pw+`"}`)
	if code != 200 {
		t.Fatalf("login %s: %d %v", agent, code, m)
	}
	return m["token"].(string)
}

func TestAuthMatrix(t *testing.T) {
	fx := newFixture(t)
	agent := fx.login(t, "1001", "pw-1001")
	other := fx.login(t, "1002", "pw-1002")
	cases := []struct {
		method, path, token, body string
		want                      int
	}{
		{"GET", "/healthz", "", "", 200},
		{"GET", "/metrics", "", "", 200},
		{"GET", "/static/style.css", "", "", 200},
		{"GET", "/agent", "", "", 200},
		{"GET", "/login", "", "", 200},
		{"GET", "/api/agents", "", "", 401},
		{"POST", "/api/agents/1001/state", "", `{"state":"ready"}`, 401},
		{"GET", "/api/stream/wallboard", "", "", 401},
		{"GET", "/api/agents", "garbage", "", 401},
		{"GET", "/api/agents", agent + "x", "", 401},
		{"GET", "/api/agents/1001", agent, "", 200},
		{"POST", "/api/agents/1001/state", agent, `{"state":"ready"}`, 200},
		{"GET", "/api/session", agent, "", 200},
		{"GET", "/api/agents/1002", agent, "", 403},
		{"POST", "/api/agents/1002/state", agent, `{"state":"ready"}`, 403},
		{"POST", "/api/agents/1001%2F..%2F1002/state", agent, `{"state":"ready"}`, 403},
		{"POST", "/api/agents/1001/force", agent, `{"state":"ready"}`, 403},
		{"GET", "/api/agents", agent, "", 403},
		{"GET", "/api/figures", agent, "", 403},
		{"GET", "/api/router/calls", agent, "", 403},
		{"POST", "/api/calls/c1/priority", agent, `{"tier":"vip"}`, 403},
		{"GET", "/api/stream/wallboard", agent, "", 403},
		{"GET", "/api/stream/agent?agent=1002", agent, "", 403},
		{"GET", "/api/agents/1001", other, "", 403},
		{"GET", "/api/agents", supToken, "", 200},
		{"GET", "/api/agents/1002", supToken, "", 200},
		{"GET", "/api/agents/9999", supToken, "", 404},
		{"POST", "/api/agents/1002/force", supToken, `{"state":"ready"}`, 200},
		{"POST", "/api/calls/c1/move", supToken, `{"queue":"vip"}`, 200},
		{"GET", "/api/figures", supToken, "", 200},
		{"GET", "/api/stream/agent", supToken, "", 400},
	}
	for _, c := range cases {
		code, m, _ := fx.do(t, c.method, c.path, c.token, c.body)
		if code != c.want {
			t.Errorf("%s %s (token %.8s…): %d %v, want %d", c.method, c.path, c.token, code, m, c.want)
		}
		if code == 401 && !strings.Contains(m["error"].(string), "log in") {
			t.Errorf("%s %s: 401 without a log-in hint: %v", c.method, c.path, m)
		}
	}
	// An expired session.
	fx.advance(sessionTTL + time.Second)
	if code, _, _ := fx.do(t, "GET", "/api/agents/1001", agent, ""); code != 401 {
		t.Errorf("expired agent token: %d, want 401", code)
	}
}

func TestWallboardPageNeedsSupervisor(t *testing.T) {
	fx := newFixture(t)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(fx.srv.URL + "/wallboard")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Errorf("wallboard without login: %d %s, want 303 /login", res.StatusCode, res.Header.Get("Location"))
	}
	// Supervisor login sets an HttpOnly cookie that opens the wallboard.
	code, _, lres := fx.do(t, "POST", "/api/supervisor/login", "", `{"token":"`+supToken+`"}`)
	if code != 200 {
		t.Fatalf("supervisor login: %d", code)
	}
	ck := sessionCookie(t, lres)
	if strings.Contains(ck.Value, supToken) {
		t.Error("the cookie holds the supervisor token itself")
	}
	req, _ := http.NewRequest("GET", fx.srv.URL+"/wallboard", nil)
	req.AddCookie(ck)
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Contains(body, []byte(`data-testid="agents"`)) {
		t.Errorf("wallboard with the supervisor cookie: %d", res.StatusCode)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP: %q", csp)
	}
	// Logout clears it.
	req, _ = http.NewRequest("POST", fx.srv.URL+"/api/logout", nil)
	req.AddCookie(ck)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var cleared bool
	for _, c := range res.Cookies() {
		cleared = cleared || (c.Name == cookieName && c.MaxAge < 0)
	}
	if !cleared {
		t.Error("logout did not clear the session cookie")
	}
	if code, _, _ := fx.do(t, "POST", "/api/supervisor/login", "", `{"token":"nope"}`); code != 401 {
		t.Errorf("wrong supervisor token: %d, want 401", code)
	}
}

func sessionCookie(t *testing.T, res *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == cookieName {
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				t.Errorf("session cookie not HttpOnly + SameSite=Strict: %+v", c)
			}
			return c
		}
	}
	t.Fatal("no session cookie")
	return nil
}

func TestAgentLogin(t *testing.T) {
	fx := newFixture(t)
	code, m, res := fx.do(t, "POST", "/api/login", "", `{"agent":"1001","password":"pw-1001"}`)
	if code != 200 || m["token"] == "" || m["name"] != "Agent 1001" {
		t.Fatalf("login: %d %v", code, m)
	}
	ck := sessionCookie(t, res)
	// The cookie alone authenticates.
	req, _ := http.NewRequest("GET", fx.srv.URL+"/api/session", nil)
	req.AddCookie(ck)
	sres, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sess map[string]string
	_ = json.NewDecoder(sres.Body).Decode(&sess)
	sres.Body.Close()
	if sess["role"] != "agent" || sess["agent"] != "1001" {
		t.Errorf("session from cookie: %v", sess)
	}
	if code, _, _ := fx.do(t, "POST", "/api/login", "", `{"agent":"1001","password":"wrong-pw"}`); code != 401 {
		t.Errorf("wrong password: %d, want 401", code)
	}
	if code, _, _ := fx.do(t, "POST", "/api/login", "", `{"agent":"7777","password":"x"}`); code != 401 {
		t.Errorf("unknown agent: %d, want 401", code)
	}
	req, _ = http.NewRequest("POST", fx.srv.URL+"/api/login", strings.NewReader("agent=1001"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 415 {
		t.Errorf("form-encoded login: %v %v, want 415", r.StatusCode, err)
	}
	if !strings.Contains(fx.logs.String(), "agent=1001") {
		t.Errorf("the log does not name the agent:\n%s", fx.logs)
	}
}

func TestLoginThrottle(t *testing.T) {
	fx := newFixture(t)
	for i := range loginFailures {
		if code, _, _ := fx.do(t, "POST", "/api/login", "", `{"agent":"1001","password":"wrong-pw"}`); code != 401 {
			t.Fatalf("failure %d: %d, want 401", i+1, code)
		}
	}
	code, _, res := fx.do(t, "POST", "/api/login", "", `{"agent":"1001","password":"pw-1001"}`)
	if code != 429 || res.Header.Get("Retry-After") == "" {
		t.Errorf("after %d failures even the right password: %d (Retry-After %q), want 429", loginFailures, code, res.Header.Get("Retry-After"))
	}
	// Another agent is not affected.
	fx.login(t, "1002", "pw-1002")
	// The window passes.
	fx.advance(loginWindow)
	fx.login(t, "1001", "pw-1001")
}

func TestTokenTampering(t *testing.T) {
	fx := newFixture(t)
	s := &server{secret: []byte("0123456789abcdef0123456789abcdef"), now: fx.clock}
	tok := s.issue(principal{role: roleAgent, agent: "1001"}, fx.clock().Add(time.Hour))
	if p, _, err := s.verify(tok); err != nil || p.agent != "1001" {
		t.Fatalf("verify: %v %v", p, err)
	}
	// Same MAC, payload naming another agent.
	_, sig, _ := strings.Cut(tok, ".")
	forged := s.issue(principal{role: roleAgent, agent: "1002"}, fx.clock().Add(time.Hour))
	b64, _, _ := strings.Cut(forged, ".")
	if _, _, err := s.verify(b64 + "." + sig); err == nil {
		t.Error("a payload with another MAC verified")
	}
	other := &server{secret: []byte("another-secret-of-32-bytes......"), now: fx.clock}
	if _, _, err := other.verify(tok); err == nil {
		t.Error("a token verified under another secret")
	}
}

// readEvents reads SSE data lines from body into ch.
func readEvents(body io.Reader, ch chan<- string) {
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "data: "):
			ch <- strings.TrimPrefix(line, "data: ")
		case strings.HasPrefix(line, ":"):
			ch <- "heartbeat"
		}
	}
	close(ch)
}

func next(t *testing.T, ch <-chan string, skipHeartbeats bool) string {
	t.Helper()
	for {
		select {
		case s, ok := <-ch:
			if !ok {
				t.Fatal("stream ended")
			}
			if s == "heartbeat" && skipHeartbeats {
				continue
			}
			return s
		case <-time.After(3 * time.Second):
			t.Fatal("no event within 3 s")
			return ""
		}
	}
}

func openStream(t *testing.T, fx *fixture, path, token string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", fx.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream %s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
	}
	ch := make(chan string, 64)
	go readEvents(res.Body, ch)
	t.Cleanup(func() { res.Body.Close() })
	return ch
}

func TestAgentStream(t *testing.T) {
	fx := newFixture(t)
	tok := fx.login(t, "1001", "pw-1001")
	ch := openStream(t, fx, "/api/stream/agent", tok)
	var msg struct {
		Now      int64         `json:"now"`
		Snapshot agentSnapshot `json:"snapshot"`
	}
	if err := json.Unmarshal([]byte(next(t, ch, true)), &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Snapshot.Agent == nil || msg.Snapshot.Agent.ID != "1001" || msg.Snapshot.Agent.State != routing.AgentNotReady ||
		msg.Snapshot.Pop != nil || msg.Snapshot.Day.Answered != 3 || msg.Now != fx.clock().UnixMilli() {
		t.Errorf("first snapshot: %+v", msg)
	}
	// Nothing changes: only heartbeats.
	if s := next(t, ch, false); s != "heartbeat" {
		t.Errorf("unchanged state sent again: %s", s)
	}
	// A call is offered: the pop arrives.
	fx.live.mu.Lock()
	fx.live.pop["1001"] = &Pop{CallID: "c1", Caller: "13800000005", State: "offered", Tier: "vip", Stars: 5,
		Path: []PopStep{{Node: "main_menu", Exit: "1", Digits: "1"}}}
	fx.live.mu.Unlock()
	fx.live.setState("1001", routing.AgentOffered)
	start := time.Now()
	if err := json.Unmarshal([]byte(next(t, ch, true)), &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Snapshot.Pop == nil {
		// The state and the pop may land in separate polls.
		if err := json.Unmarshal([]byte(next(t, ch, true)), &msg); err != nil {
			t.Fatal(err)
		}
	}
	if p := msg.Snapshot.Pop; p == nil || p.Caller != "13800000005" || p.Stars != 5 || p.Path[0].Digits != "1" {
		t.Errorf("pop: %+v", msg.Snapshot.Pop)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("pop took %v", d)
	}
}

func TestWallboardStream(t *testing.T) {
	fx := newFixture(t)
	fx.live.chart = Chart{Hours: []string{"08:00", "09:00"}, Series: map[string][]float64{"vip": {math.NaN(), 0.9}, "default": {-1, 0.5}}}
	ch := openStream(t, fx, "/api/stream/wallboard", supToken)
	var msg struct {
		Snapshot struct {
			Agents []AgentView `json:"agents"`
			Chart  chartView   `json:"chart"`
		} `json:"snapshot"`
	}
	if err := json.Unmarshal([]byte(next(t, ch, true)), &msg); err != nil {
		t.Fatal(err)
	}
	if len(msg.Snapshot.Agents) != 2 || msg.Snapshot.Agents[1].State != routing.AgentReady || msg.Snapshot.Agents[0].Name != "Agent 1001" {
		t.Errorf("agents: %+v", msg.Snapshot.Agents)
	}
	if v := msg.Snapshot.Chart.Series["vip"]; len(v) != 2 || v[0] != nil || *v[1] != 0.9 {
		t.Errorf("chart: %+v", msg.Snapshot.Chart)
	}
	fx.live.setState("1001", routing.AgentReady)
	if err := json.Unmarshal([]byte(next(t, ch, true)), &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Snapshot.Agents[0].State != routing.AgentReady {
		t.Errorf("after the change: %+v", msg.Snapshot.Agents[0])
	}
}

func TestNewChecksDeps(t *testing.T) {
	if _, err := New(Deps{}); err == nil {
		t.Error("New without deps succeeded")
	}
	if _, err := New(Deps{API: fakeAPI, Agents: fakeDir{}, Live: &fakeLive{}, Secret: []byte("short")}); err == nil {
		t.Error("New with a 5-byte secret succeeded")
	}
	if _, err := New(Deps{API: fakeAPI, Agents: fakeDir{}, Live: &fakeLive{}}); err != nil {
		t.Errorf("New with a random secret: %v", err)
	}
}

func TestStreamsEndOnDone(t *testing.T) {
	fx := newFixture(t)
	ch := openStream(t, fx, "/api/stream/wallboard", supToken)
	next(t, ch, true)
	close(fx.done)
	deadline := time.After(3 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the stream did not end when Done was closed")
		}
	}
}
