package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Sessions and login throttling.
const (
	// sessionTTL is how long a session token (agent or supervisor) lasts.
	sessionTTL = 12 * time.Hour
	// cookieName holds the browser's session token (HttpOnly,
	// SameSite=Strict). One browser profile is one person in one role:
	// logging in again replaces it.
	cookieName = "kefu_session"
	// loginFailures failed logins per loginWindow and per agent id (or for
	// the supervisor) make the next attempts answer 429 until the oldest
	// failure leaves the window.
	loginFailures = 5
	loginWindow   = time.Minute
	// supervisorKey is the throttle key of the supervisor login; agent ids
	// cannot contain NUL.
	supervisorKey = "\x00supervisor"
	maxAgentID    = 64
)

type role int

const (
	roleNone role = iota
	roleAgent
	roleSupervisor
)

// principal is who a request is from.
type principal struct {
	role  role
	agent string // for roleAgent
}

// who names the principal for the logs: the agent id or "supervisor",
// never a token.
func (p principal) who() string {
	switch p.role {
	case roleSupervisor:
		return "supervisor"
	case roleAgent:
		return "agent " + p.agent
	}
	return "nobody"
}

type principalKey struct{}

func principalFrom(ctx context.Context) principal {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p
}

func hashToken(tok string) [32]byte { return sha256.Sum256([]byte("kefu-supervisor\x00" + tok)) }

// isSupervisorToken compares tok with the supervisor token in constant time
// (both hashed first, so the length does not show either).
func (s *server) isSupervisorToken(tok string) bool {
	h := hashToken(tok)
	return s.hasSup && subtle.ConstantTimeCompare(h[:], s.supHash[:]) == 1
}

// issue makes a session token: base64url(role \n agent \n expiry) "."
// base64url(HMAC-SHA256).
func (s *server) issue(p principal, exp time.Time) string {
	r := "a"
	if p.role == roleSupervisor {
		r = "s"
	}
	payload := r + "\n" + p.agent + "\n" + strconv.FormatInt(exp.Unix(), 10)
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(s.mac(payload))
}

func (s *server) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("kefu-session\x00" + payload))
	return m.Sum(nil)
}

var errBadToken = errors.New("invalid or expired token")

// verify checks a session token's MAC and expiry.
func (s *server) verify(tok string) (principal, time.Time, error) {
	b64, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return principal{}, time.Time{}, errBadToken
	}
	payload, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil {
		return principal{}, time.Time{}, errBadToken
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(string(payload))) {
		return principal{}, time.Time{}, errBadToken
	}
	parts := strings.Split(string(payload), "\n")
	if len(parts) != 3 {
		return principal{}, time.Time{}, errBadToken
	}
	sec, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return principal{}, time.Time{}, errBadToken
	}
	exp := time.Unix(sec, 0)
	if !s.now().Before(exp) {
		return principal{}, time.Time{}, errBadToken
	}
	switch {
	case parts[0] == "s" && parts[1] == "":
		return principal{role: roleSupervisor}, exp, nil
	case parts[0] == "a" && parts[1] != "":
		return principal{role: roleAgent, agent: parts[1]}, exp, nil
	}
	return principal{}, time.Time{}, errBadToken
}

// identify finds who sent r: the Authorization bearer token (the supervisor
// token or a session token) or else the session cookie.
func (s *server) identify(r *http.Request) (principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return principal{}, errors.New("the Authorization header must be: Bearer <token>")
		}
		tok = strings.TrimSpace(tok)
		if s.isSupervisorToken(tok) {
			return principal{role: roleSupervisor}, nil
		}
		p, _, err := s.verify(tok)
		return p, err
	}
	c, err := r.Cookie(cookieName)
	if err != nil {
		return principal{}, errors.New("no token")
	}
	p, _, err := s.verify(c.Value)
	return p, err
}

// auth lets a request through to next when its sender may make it: the
// supervisor anything, an agent only what concerns that agent.
func (s *server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.identify(r)
		if err != nil {
			s.log.Debug("web: request without valid credentials", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
			writeError(w, http.StatusUnauthorized, fmt.Sprintf("%v: log in (agents at /agent, supervisors at /login) or send Authorization: Bearer <token>", err))
			return
		}
		if !agentMay(p, r) {
			s.log.Info("web: request refused", "who", p.who(), "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
			writeError(w, http.StatusForbidden, fmt.Sprintf("%s may not %s %s: agents may only read and set their own state; the rest needs the supervisor token", p.who(), r.Method, r.URL.Path))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// agentMay reports whether p may make r: the supervisor may do anything;
// an agent may read its session, its own status and stream, and set its own
// state. Anything else is refused.
func agentMay(p principal, r *http.Request) bool {
	if p.role == roleSupervisor {
		return true
	}
	if p.role != roleAgent {
		return false
	}
	seg := segments(r.URL)
	switch {
	case r.Method == http.MethodGet && len(seg) == 2 && seg[1] == "session":
		return true
	case r.Method == http.MethodGet && len(seg) == 3 && seg[1] == "stream" && seg[2] == "agent":
		return r.URL.Query().Get("agent") == "" || r.URL.Query().Get("agent") == p.agent
	case r.Method == http.MethodGet && len(seg) == 3 && seg[1] == "agents":
		return seg[2] == p.agent
	case r.Method == http.MethodPost && len(seg) == 4 && seg[1] == "agents" && seg[3] == "state":
		return seg[2] == p.agent
	}
	return false
}

// segments splits the escaped path and unescapes each segment, so that
// "1001%2F..%2F1002" stays one segment (and matches no agent id).
func segments(u *url.URL) []string {
	raw := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	out := make([]string, len(raw))
	for i, s := range raw {
		v, err := url.PathUnescape(s)
		if err != nil {
			v = "\x00invalid"
		}
		out[i] = v
	}
	return out
}

type loginRequest struct {
	Agent    string `json:"agent"`
	Password string `json:"password"`
}

// agentLogin is POST /api/login {"agent":"1001","password":"…"}.
func (s *server) agentLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if !decodeJSON(w, r, &req, `{"agent":"1001","password":"…"}`) {
		return
	}
	if !validAgentID(req.Agent) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("agent id must be 1 to %d printable characters", maxAgentID))
		return
	}
	now := s.now()
	if wait, blocked := s.limit.blocked(req.Agent, now); blocked {
		s.log.Warn("web: agent login throttled", "agent", req.Agent, "remote", r.RemoteAddr)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf("too many failed logins for agent %s: try again in %d s", req.Agent, int(wait.Seconds()+0.999)))
		return
	}
	if !s.agents.CheckPassword(req.Agent, req.Password) {
		s.limit.fail(req.Agent, now)
		s.log.Warn("web: agent login failed", "agent", req.Agent, "remote", r.RemoteAddr)
		writeError(w, http.StatusUnauthorized, "wrong agent id or password: log in again")
		return
	}
	s.limit.reset(req.Agent)
	p := principal{role: roleAgent, agent: req.Agent}
	exp := now.Add(sessionTTL)
	tok := s.issue(p, exp)
	setSessionCookie(w, r, tok, exp)
	s.log.Info("web: agent logged in", "agent", req.Agent, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "agent": req.Agent, "name": s.agents.Name(req.Agent), "expires": exp.UTC()})
}

type supervisorLoginRequest struct {
	Token string `json:"token"`
}

// supervisorLogin is POST /api/supervisor/login {"token":"…"}: the token is
// pasted once and exchanged for a session cookie (the cookie holds a
// session token, not the supervisor token).
func (s *server) supervisorLogin(w http.ResponseWriter, r *http.Request) {
	var req supervisorLoginRequest
	if !decodeJSON(w, r, &req, `{"token":"…"}`) {
		return
	}
	now := s.now()
	if wait, blocked := s.limit.blocked(supervisorKey, now); blocked {
		s.log.Warn("web: supervisor login throttled", "remote", r.RemoteAddr)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf("too many failed supervisor logins: try again in %d s", int(wait.Seconds()+0.999)))
		return
	}
	if !s.isSupervisorToken(strings.TrimSpace(req.Token)) {
		s.limit.fail(supervisorKey, now)
		s.log.Warn("web: supervisor login failed", "remote", r.RemoteAddr)
		writeError(w, http.StatusUnauthorized, "wrong supervisor token: log in again with the token of the configuration's auth section")
		return
	}
	s.limit.reset(supervisorKey)
	exp := now.Add(sessionTTL)
	setSessionCookie(w, r, s.issue(principal{role: roleSupervisor}, exp), exp)
	s.log.Info("web: supervisor logged in", "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, map[string]any{"role": "supervisor", "expires": exp.UTC()})
}

// logout is POST /api/logout: it clears the session cookie.
func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	if p, err := s.identify(r); err == nil {
		s.log.Info("web: logged out", "who", p.who(), "remote", r.RemoteAddr)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// session is GET /api/session: who the credentials are for.
func (s *server) session(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	if p.role == roleSupervisor {
		writeJSON(w, http.StatusOK, map[string]string{"role": "supervisor"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"role": "agent", "agent": p.agent, "name": s.agents.Name(p.agent)})
}

func setSessionCookie(w http.ResponseWriter, r *http.Request, tok string, exp time.Time) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: tok, Path: "/", Expires: exp, MaxAge: int(sessionTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

func validAgentID(id string) bool {
	if id == "" || len(id) > maxAgentID {
		return false
	}
	for _, c := range id {
		if !unicode.IsPrint(c) || c == '/' {
			return false
		}
	}
	return true
}

// throttle counts failures per key over a sliding window.
type throttle struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	fails  map[string][]time.Time
}

func newThrottle(max int, window time.Duration) *throttle {
	return &throttle{max: max, window: window, fails: map[string][]time.Time{}}
}

// blocked reports whether key has had max failures within the window, and
// how long until the oldest of them leaves it.
func (t *throttle) blocked(key string, now time.Time) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.recent(key, now)
	if len(f) < t.max {
		return 0, false
	}
	return f[len(f)-t.max].Add(t.window).Sub(now), true
}

func (t *throttle) fail(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.fails) > 4096 { // keep memory bounded under a spray of ids
		for k := range t.fails {
			t.recent(k, now)
		}
	}
	t.fails[key] = append(t.recent(key, now), now)
}

func (t *throttle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, key)
}

// recent drops key's failures older than the window; t.mu is held.
func (t *throttle) recent(key string, now time.Time) []time.Time {
	f := t.fails[key]
	i := 0
	for i < len(f) && now.Sub(f[i]) >= t.window {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(t.fails, key)
		return nil
	}
	t.fails[key] = f
	return f
}

// decodeJSON reads a small JSON body into v, answering 415 or 400 itself
// (and returning false) when it is not one.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, example string) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "send the body as Content-Type: application/json, e.g. "+example)
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("empty body")
		}
		writeError(w, http.StatusBadRequest, fmt.Sprintf("body must be JSON like %s: %v", example, err))
		return false
	}
	return true
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
