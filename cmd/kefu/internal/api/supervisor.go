package api

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"kefu/routing"
	"kefu/routing/stats"
)

// Supervisor is what the supervisor endpoints need of the router
// (*routing.Router).
type Supervisor interface {
	Calls(ctx context.Context) ([]routing.CallStatus, error)
	Reprioritize(ctx context.Context, callID, tier string, priority time.Duration) (routing.CallStatus, error)
	Move(ctx context.Context, callID, queue string) (routing.CallStatus, error)
	MoveToAgent(ctx context.Context, callID, agentID string, wait time.Duration) (routing.CallStatus, error)
	ForceAgentState(ctx context.Context, agentID string, state routing.AgentState, reason string) error
}

// Figures is the queue figures over sliding windows (*stats.Stats).
type Figures interface {
	Snapshot(ctx context.Context) (stats.Snapshot, error)
}

// Estimator estimates a caller's wait at a position (*routing.Router).
type Estimator interface {
	EstimatedWait(ctx context.Context, queue string, pos int) (time.Duration, error)
}

// LiveQueue is one queue's live figures.
type LiveQueue struct {
	Name               string                     `json:"name"`
	Waiting            int                        `json:"waiting"`
	LongestWaitSeconds float64                    `json:"longest_wait_s"`
	Agents             map[routing.AgentState]int `json:"agents"`
	// EWTSeconds is the estimated wait at positions 1, 5 and 10 (0: no
	// estimate yet).
	EWTSeconds map[int]float64 `json:"ewt_s"`
}

// LiveTier is one tier's live figures across queues.
type LiveTier struct {
	Tier               string  `json:"tier"`
	Waiting            int     `json:"waiting"`
	LongestWaitSeconds float64 `json:"longest_wait_s"`
}

// FiguresResponse is GET /api/figures.
type FiguresResponse struct {
	Live struct {
		Queues []LiveQueue `json:"queues"`
		Tiers  []LiveTier  `json:"tiers"`
	} `json:"live"`
	stats.Snapshot
}

// supervisorRoutes adds the supervisor endpoints:
//
//	GET  /api/router/calls              every call in the router, in line order, with its key
//	POST /api/calls/{id}/priority       {"tier":"vip","priority_s":30}
//	POST /api/calls/{id}/move           {"queue":"complaints"} or {"agent":"1002","wait_s":300}
//	POST /api/agents/{id}/force         {"state":"ready"} (also ends a wrap-up)
func (h *Handler) supervisorRoutes(s Supervisor) {
	h.sup = s
	h.mux.HandleFunc("GET /api/router/calls", h.routerCalls)
	h.mux.HandleFunc("POST /api/calls/{id}/priority", h.reprioritize)
	h.mux.HandleFunc("POST /api/calls/{id}/move", h.move)
	h.mux.HandleFunc("POST /api/agents/{id}/force", h.forceState)
}

func (h *Handler) routerCalls(w http.ResponseWriter, r *http.Request) {
	calls, err := h.sup.Calls(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if calls == nil {
		calls = []routing.CallStatus{}
	}
	writeJSON(w, http.StatusOK, calls)
}

type priorityRequest struct {
	Tier      string  `json:"tier"`
	PriorityS float64 `json:"priority_s"`
}

func (h *Handler) reprioritize(w http.ResponseWriter, r *http.Request) {
	var req priorityRequest
	if !decodeJSON(w, r, &req, false, `{"tier":"vip","priority_s":30}`) {
		return
	}
	id := r.PathValue("id")
	c, err := h.sup.Reprioritize(r.Context(), id, req.Tier, time.Duration(req.PriorityS*float64(time.Second)))
	if err != nil {
		h.failCall(w, r, err)
		return
	}
	h.log.Info("call reprioritized over HTTP", "call", id, "tier", req.Tier, "priority_s", req.PriorityS, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, c)
}

type moveRequest struct {
	Queue string  `json:"queue"`
	Agent string  `json:"agent"`
	WaitS float64 `json:"wait_s"`
}

func (h *Handler) move(w http.ResponseWriter, r *http.Request) {
	var req moveRequest
	if !decodeJSON(w, r, &req, false, `{"queue":"complaints"}`) {
		return
	}
	id := r.PathValue("id")
	var (
		c   routing.CallStatus
		err error
	)
	switch {
	case (req.Queue == "") == (req.Agent == ""):
		writeError(w, http.StatusBadRequest, `give exactly one of "queue" (move to another queue) or "agent" (send to a named agent)`)
		return
	case req.Queue != "":
		c, err = h.sup.Move(r.Context(), id, req.Queue)
	default:
		c, err = h.sup.MoveToAgent(r.Context(), id, req.Agent, time.Duration(req.WaitS*float64(time.Second)))
	}
	if err != nil {
		h.failCall(w, r, err)
		return
	}
	h.log.Info("call moved over HTTP", "call", id, "queue", req.Queue, "agent", req.Agent, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, c)
}

func (h *Handler) forceState(w http.ResponseWriter, r *http.Request) {
	var req stateRequest
	if !decodeJSON(w, r, &req, false, `{"state":"ready"}`) {
		return
	}
	id := r.PathValue("id")
	state := routing.AgentState(req.State)
	switch state {
	case routing.AgentReady, routing.AgentNotReady, routing.AgentLoggedOut:
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf(`state %q is not one of "ready", "not_ready", "logged_out"`, req.State))
		return
	}
	if err := h.sup.ForceAgentState(r.Context(), id, state, req.Reason); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("agent state forced over HTTP", "agent", id, "state", state, "reason", req.Reason, "remote", r.RemoteAddr)
	h.writeAgent(w, r, id, state)
}

// failCall maps the errors of call operations to HTTP statuses.
func (h *Handler) failCall(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, routing.ErrUnknownCall):
		writeError(w, http.StatusNotFound, err.Error()+": the call has left the queue (GET /api/router/calls lists the calls waiting)")
	case errors.Is(err, routing.ErrNotWaiting):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, routing.ErrUnknownTier):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, routing.ErrUnknownQueue):
		writeError(w, http.StatusNotFound, err.Error()+": queues are declared in the config file")
	default:
		h.fail(w, r, err)
	}
}

// figures serves the live figures (from the router) and the windowed ones
// (from the event stream).
func (h *Handler) figures(w http.ResponseWriter, r *http.Request) {
	out, err := BuildFigures(r.Context(), h.router, h.figs)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// BuildFigures is what GET /api/figures answers: the live figures of
// router's queues and tiers, and figs' windows. The router's estimated
// waits are included when it is an Estimator.
func BuildFigures(ctx context.Context, router Router, figs Figures) (FiguresResponse, error) {
	var out FiguresResponse
	snap, err := figs.Snapshot(ctx)
	if err != nil {
		return out, err
	}
	qs, err := router.Queues(ctx)
	if err != nil {
		return out, err
	}
	out.Snapshot = snap
	out.Live.Queues = []LiveQueue{}
	tiers := map[string]*LiveTier{}
	for _, q := range qs {
		lq := LiveQueue{Name: q.Name, Waiting: q.Waiting, LongestWaitSeconds: q.LongestWaitSeconds, Agents: q.Agents,
			EWTSeconds: map[int]float64{}}
		if est, ok := router.(Estimator); ok {
			for _, pos := range []int{1, 5, 10} {
				if d, err := est.EstimatedWait(ctx, q.Name, pos); err == nil {
					lq.EWTSeconds[pos] = d.Seconds()
				}
			}
		}
		out.Live.Queues = append(out.Live.Queues, lq)
		for _, c := range q.Calls {
			t := tiers[c.Tier]
			if t == nil {
				t = &LiveTier{Tier: c.Tier}
				tiers[c.Tier] = t
			}
			t.Waiting++
			t.LongestWaitSeconds = max(t.LongestWaitSeconds, c.WaitSeconds)
		}
	}
	out.Live.Tiers = []LiveTier{}
	for _, name := range slices.Sorted(maps.Keys(tiers)) {
		out.Live.Tiers = append(out.Live.Tiers, *tiers[name])
	}
	return out, nil
}
