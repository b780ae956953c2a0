// Package web is Kefu's browser front end: the agent desktop (state buttons
// and the screen pop of the call being offered), the supervisor wallboard
// (queue and tier figures, agents, the waiting calls and the supervisor
// operations), their server-sent event streams, and the authentication that
// guards every /api/* endpoint of the JSON API it wraps.
//
// The pages are plain HTML, CSS and JavaScript embedded in the binary; they
// load nothing from elsewhere.
package web

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"kefu/cmd/kefu/internal/api"
	"kefu/routing"
)

// Deps are what the web front end serves and checks against.
type Deps struct {
	// API is the JSON API (*api.Handler). /healthz and /metrics reach it
	// without credentials; every /api/* request goes through the auth
	// check first. Required.
	API http.Handler
	// Agents checks agent passwords at login. Required.
	Agents AgentDirectory
	// SupervisorToken is the supervisor's token. It is compared in
	// constant time and never logged. Empty: nobody can act as supervisor.
	SupervisorToken string
	// Secret is the HMAC key of the session tokens. Nil: 32 random bytes
	// (sessions then end when the process does); otherwise at least 16
	// bytes.
	Secret []byte
	// Live is the data of the pages and streams. Required.
	Live Live
	// Logger gets the logins, refusals and stream errors. Nil: discarded.
	Logger *slog.Logger
	// Now is the clock (tests). Nil: time.Now.
	Now func() time.Time
	// Done, when closed, ends every open event stream (browsers reconnect
	// by themselves). Close it from http.Server.RegisterOnShutdown, or
	// Shutdown waits for the streams' clients to leave. Nil: streams end
	// only with their requests.
	Done <-chan struct{}
}

// AgentDirectory is what login needs to know about agents.
type AgentDirectory interface {
	// CheckPassword reports whether password is agentID's. It must compare
	// in constant time and answer false for an unknown agent.
	CheckPassword(agentID, password string) bool
	// Name is the agent's display name ("" when none).
	Name(agentID string) string
}

// Live is the data behind the pages and streams.
type Live interface {
	// Agents is every agent's state.
	Agents(ctx context.Context) ([]routing.AgentStatus, error)
	// Figures is what GET /api/figures returns.
	Figures(ctx context.Context) (api.FiguresResponse, error)
	// Calls is every call in the router, in line order.
	Calls(ctx context.Context) ([]routing.CallStatus, error)
	// ScreenPop is the agent's current call (offered, talking or in
	// wrap-up); nil when the agent has none.
	ScreenPop(ctx context.Context, agentID string) (*Pop, error)
	// AgentDay is the agent's figures for the day so far.
	AgentDay(ctx context.Context, agentID string) (DayFigures, error)
	// TierChart is the service level per tier per hour today.
	TierChart(ctx context.Context) (Chart, error)
}

// Pop is the screen pop of an agent's call.
type Pop struct {
	CallID string `json:"call_id"`
	Caller string `json:"caller"`
	Queue  string `json:"queue"`
	// State is offered, talking or wrap_up.
	State          string `json:"state"`
	Tier           string `json:"tier"`
	Stars          int    `json:"stars"`
	Brand          string `json:"brand,omitempty"`
	VIP            bool   `json:"vip"`
	AccountManager string `json:"account_manager,omitempty"`
	Repeat         bool   `json:"repeat"`
	// LastContact describes the caller's previous contact, e.g.
	// "3 h ago, billing, abandoned".
	LastContact string `json:"last_contact,omitempty"`
	// Extra holds the customer's extra columns.
	Extra map[string]string `json:"extra,omitempty"`
	// Path is the IVR nodes and digits, sensitive digits already masked.
	Path          []PopStep       `json:"path"`
	WaitedSeconds float64         `json:"waited_s"`
	Timeline      []TimelineEntry `json:"timeline"`
}

// PopStep is one IVR node of a call's path.
type PopStep struct {
	Node   string `json:"node"`
	Exit   string `json:"exit,omitempty"`
	Digits string `json:"digits,omitempty"`
}

// TimelineEntry is one moment of a call: start, IVR steps, queued, offered,
// answered…
type TimelineEntry struct {
	At   time.Time `json:"at"`
	What string    `json:"what"`
}

// DayFigures are an agent's figures for the day.
type DayFigures struct {
	Answered   int     `json:"answered"`
	ASASeconds float64 `json:"asa_s"`
	AHTSeconds float64 `json:"aht_s"`
	Missed     int     `json:"missed"`
	// Survey is the average answer per survey question.
	Survey map[string]float64 `json:"survey,omitempty"`
}

// Chart is the service level per tier over the day.
type Chart struct {
	// Hours labels the points ("08:00", …).
	Hours []string `json:"hours"`
	// Series maps a tier to its service level (0–1) per hour; NaN or a
	// negative value: no calls that hour.
	Series map[string][]float64 `json:"series"`
}

// server is the web front end.
type server struct {
	api     http.Handler
	agents  AgentDirectory
	supHash [32]byte
	hasSup  bool
	secret  []byte
	live    Live
	log     *slog.Logger
	now     func() time.Time
	done    <-chan struct{}
	static  fs.FS
	limit   *throttle
	// heartbeat is the longest a stream stays silent.
	heartbeat time.Duration
	mux       *http.ServeMux
}

// Poll intervals of the streams and the heartbeat.
const (
	agentPoll     = 200 * time.Millisecond
	wallboardPoll = 250 * time.Millisecond
	chartEvery    = 8 // wallboard polls per chart poll (2 s)
	heartbeat     = 15 * time.Second
)

// New builds the web front end: pages, streams, login and the auth check in
// front of the API.
func New(d Deps) (http.Handler, error) {
	switch {
	case d.API == nil:
		return nil, errors.New("web: Deps.API is required")
	case d.Agents == nil:
		return nil, errors.New("web: Deps.Agents is required")
	case d.Live == nil:
		return nil, errors.New("web: Deps.Live is required")
	case d.Secret != nil && len(d.Secret) < 16:
		return nil, fmt.Errorf("web: Deps.Secret has %d bytes, want at least 16", len(d.Secret))
	}
	s := &server{api: d.API, agents: d.Agents, live: d.Live, log: d.Logger, now: d.Now, secret: d.Secret, done: d.Done}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.secret == nil {
		s.secret = make([]byte, 32)
		_, _ = rand.Read(s.secret) // never fails (crypto/rand)
	}
	if d.SupervisorToken != "" {
		s.supHash, s.hasSup = hashToken(d.SupervisorToken), true
	}
	st, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, fmt.Errorf("web: embedded files: %w", err)
	}
	s.static = st
	s.limit = newThrottle(loginFailures, loginWindow)
	s.heartbeat = heartbeat
	s.routes()
	return s, nil
}

func (s *server) routes() {
	m := http.NewServeMux()
	// Open.
	m.Handle("GET /healthz", s.api)
	m.Handle("GET /metrics", s.api)
	m.HandleFunc("GET /{$}", s.page("index.html", roleNone))
	m.HandleFunc("GET /agent", s.page("agent.html", roleNone))
	m.HandleFunc("GET /login", s.page("login.html", roleNone))
	m.HandleFunc("GET /wallboard", s.page("wallboard.html", roleSupervisor))
	m.Handle("GET /static/", s.assets())
	m.HandleFunc("POST /api/login", s.agentLogin)
	m.HandleFunc("POST /api/supervisor/login", s.supervisorLogin)
	m.HandleFunc("POST /api/logout", s.logout)
	// Behind the auth check.
	m.Handle("GET /api/session", s.auth(http.HandlerFunc(s.session)))
	m.Handle("GET /api/agents/{id}", s.auth(http.HandlerFunc(s.agentStatus)))
	m.Handle("GET /api/stream/agent", s.auth(http.HandlerFunc(s.agentStream)))
	m.Handle("GET /api/stream/wallboard", s.auth(http.HandlerFunc(s.wallboardStream)))
	m.Handle("/api/", s.auth(s.api))
	s.mux = m
}

// ServeHTTP serves the pages, the streams and, after the auth check, the API.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }
