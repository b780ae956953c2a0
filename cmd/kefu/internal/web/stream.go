package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"kefu/cmd/kefu/internal/api"
	"kefu/routing"
)

// AgentView is an agent as the pages show it: the router's state and the
// agent's name.
type AgentView struct {
	routing.AgentStatus
	Name string `json:"name,omitempty"`
}

// agentSnapshot is one message of GET /api/stream/agent.
type agentSnapshot struct {
	Agent *AgentView `json:"agent"`
	Pop   *Pop       `json:"pop"`
	Day   DayFigures `json:"day"`
}

// wallboardSnapshot is one message of GET /api/stream/wallboard.
type wallboardSnapshot struct {
	Figures api.FiguresResponse  `json:"figures"`
	Agents  []AgentView          `json:"agents"`
	Calls   []routing.CallStatus `json:"calls"`
	Chart   chartView            `json:"chart"`
}

// chartView is a Chart with "no value" as null (JSON has no NaN).
type chartView struct {
	Hours  []string              `json:"hours"`
	Series map[string][]*float64 `json:"series"`
}

func viewChart(c Chart) chartView {
	v := chartView{Hours: c.Hours, Series: make(map[string][]*float64, len(c.Series))}
	if v.Hours == nil {
		v.Hours = []string{}
	}
	for tier, pts := range c.Series {
		out := make([]*float64, len(pts))
		for i, p := range pts {
			if !math.IsNaN(p) && !math.IsInf(p, 0) && p >= 0 {
				out[i] = &p
			}
		}
		v.Series[tier] = out
	}
	return v
}

// agentStatus is GET /api/agents/{id}: one agent's state (an agent may
// read its own).
func (s *server) agentStatus(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a, err := s.agentView(r.Context(), id)
	if err != nil {
		s.log.Error("web: agents", "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if a == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("%v: %s: agents are declared in the config file", routing.ErrUnknownAgent, id))
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *server) agentView(ctx context.Context, id string) (*AgentView, error) {
	as, err := s.live.Agents(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		if a.ID == id {
			return &AgentView{AgentStatus: a, Name: s.agents.Name(id)}, nil
		}
	}
	return nil, nil
}

// agentStream is GET /api/stream/agent: the session's agent's desktop
// (state, screen pop, figures of the day), sent whenever it changes. The
// supervisor names the agent with ?agent=ID.
func (s *server) agentStream(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	id := p.agent
	if p.role == roleSupervisor {
		if id = r.URL.Query().Get("agent"); id == "" {
			writeError(w, http.StatusBadRequest, "name the agent: /api/stream/agent?agent=ID")
			return
		}
	}
	s.stream(w, r, p, agentPoll, func(ctx context.Context, _ int) (any, error) {
		var snap agentSnapshot
		var err error
		if snap.Agent, err = s.agentView(ctx, id); err != nil {
			return nil, fmt.Errorf("agents: %w", err)
		}
		if snap.Pop, err = s.live.ScreenPop(ctx, id); err != nil {
			return nil, fmt.Errorf("screen pop: %w", err)
		}
		if snap.Day, err = s.live.AgentDay(ctx, id); err != nil {
			return nil, fmt.Errorf("figures of the day: %w", err)
		}
		return snap, nil
	})
}

// wallboardStream is GET /api/stream/wallboard (supervisor): figures,
// agents, calls in line order and the tier chart, sent whenever they change.
func (s *server) wallboardStream(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	var chart chartView
	s.stream(w, r, p, wallboardPoll, func(ctx context.Context, tick int) (any, error) {
		var snap wallboardSnapshot
		var err error
		if snap.Figures, err = s.live.Figures(ctx); err != nil {
			return nil, fmt.Errorf("figures: %w", err)
		}
		as, err := s.live.Agents(ctx)
		if err != nil {
			return nil, fmt.Errorf("agents: %w", err)
		}
		snap.Agents = make([]AgentView, len(as))
		for i, a := range as {
			snap.Agents[i] = AgentView{AgentStatus: a, Name: s.agents.Name(a.ID)}
		}
		slices.SortFunc(snap.Agents, func(a, b AgentView) int { return strings.Compare(a.ID, b.ID) })
		if snap.Calls, err = s.live.Calls(ctx); err != nil {
			return nil, fmt.Errorf("calls: %w", err)
		}
		if snap.Calls == nil {
			snap.Calls = []routing.CallStatus{}
		}
		if tick%chartEvery == 0 {
			c, err := s.live.TierChart(ctx)
			if err != nil {
				return nil, fmt.Errorf("tier chart: %w", err)
			}
			chart = viewChart(c)
		}
		snap.Chart = chart
		return snap, nil
	})
}

// stream polls build every interval and sends its result as a server-sent
// event whenever it differs from the last one sent, wrapped as
// {"now":UNIX_MS,"snapshot":…}; a comment line every heartbeat keeps
// proxies from closing a quiet stream. A failing build sends one "problem"
// event (until it succeeds again) and is retried at the next tick.
func (s *server) stream(w http.ResponseWriter, r *http.Request, p principal, interval time.Duration, build func(ctx context.Context, tick int) (any, error)) {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's WriteTimeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	ctx := r.Context()
	s.log.Debug("web: stream opened", "who", p.who(), "path", r.URL.Path)
	defer s.log.Debug("web: stream closed", "who", p.who(), "path", r.URL.Path)

	var last []byte
	lastProblem := ""
	lastWrite := time.Now()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for tick := 0; ; tick++ {
		var msg string
		v, err := build(ctx, tick)
		if err == nil {
			var b []byte
			if b, err = json.Marshal(v); err == nil && !bytes.Equal(b, last) {
				last, lastProblem = b, ""
				msg = fmt.Sprintf("data: {\"now\":%d,\"snapshot\":%s}\n\n", s.now().UnixMilli(), b)
			}
		}
		if err != nil && ctx.Err() == nil && err.Error() != lastProblem {
			lastProblem, last = err.Error(), nil
			s.log.Warn("web: stream data", "path", r.URL.Path, "err", err)
			eb, _ := json.Marshal(map[string]string{"error": err.Error()})
			msg = fmt.Sprintf("event: problem\ndata: %s\n\n", eb)
		}
		if msg == "" && time.Since(lastWrite) >= s.heartbeat {
			msg = ": heartbeat\n\n"
		}
		if msg != "" {
			if _, err := w.Write([]byte(msg)); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			lastWrite = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-ticker.C:
		}
	}
}
