// Package api is Kefu's HTTP interface: health, the live state of queues,
// agents and calls as JSON, agent state changes, the flow set (status,
// reload, rollback) and the Prometheus metrics.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"kefu/ivr/reload"
	"kefu/routing"
	"kefu/sip"
)

// Router is what the API needs of the router.
type Router interface {
	Queues(ctx context.Context) ([]routing.QueueStatus, error)
	Agents(ctx context.Context) ([]routing.AgentStatus, error)
	SetAgentState(ctx context.Context, agentID string, state routing.AgentState, reason string) error
}

// Front is what the API needs of the SIP front end.
type Front interface {
	Calls() []sip.CallInfo
	Registrations() map[string]sip.Registration
	Registered(agentID string) bool
}

// Health reports whether the server is taking calls.
type Health interface {
	Draining() bool
}

// Flows is what the API needs of the flow reloader (*reload.Reloader).
type Flows interface {
	Status() reload.Status
	Reload(reason string) reload.Status
	Rollback(version string) error
}

// Deps are what the API serves.
type Deps struct {
	// Router and Front are required.
	Router Router
	Front  Front
	// Health may be nil: /healthz then always says ok.
	Health Health
	// Flows may be nil: the /api/flows endpoints then answer 404.
	Flows Flows
	// Metrics serves GET /metrics (promhttp on the server's registry);
	// nil: no /metrics.
	Metrics http.Handler
	// Switches may be nil: the /api/switches endpoints then answer 404.
	Switches Switches
	// Supervisor may be nil: the supervisor endpoints then answer 404.
	Supervisor Supervisor
	// Figures may be nil: GET /api/figures then answers 404.
	Figures Figures
	// Customers may be nil: the /api/customers endpoints then answer 404.
	Customers Customers
	// Reports may be nil: GET /api/reports then answers 404.
	Reports Reports
}

// Handler serves the API.
type Handler struct {
	router    Router
	front     Front
	health    Health
	flows     Flows
	switches  Switches
	sup       Supervisor
	figs      Figures
	customers Customers
	log       *slog.Logger
	mux       *http.ServeMux
}

// New builds the API handler.
func New(d Deps, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{router: d.Router, front: d.Front, health: d.Health, flows: d.Flows, log: log, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /healthz", h.healthz)
	h.mux.HandleFunc("GET /api/queues", h.queues)
	h.mux.HandleFunc("GET /api/agents", h.agents)
	h.mux.HandleFunc("GET /api/calls", h.calls)
	h.mux.HandleFunc("POST /api/agents/{id}/state", h.setState)
	if d.Flows != nil {
		h.mux.HandleFunc("GET /api/flows", h.flowStatus)
		h.mux.HandleFunc("POST /api/flows/reload", h.flowReload)
		h.mux.HandleFunc("POST /api/flows/rollback", h.flowRollback)
	}
	if d.Switches != nil {
		h.switches = d.Switches
		h.mux.HandleFunc("GET /api/switches", h.switchList)
		h.mux.HandleFunc("POST /api/switches/{name}", h.switchSet)
	}
	if d.Metrics != nil {
		h.mux.Handle("GET /metrics", d.Metrics)
	}
	if d.Supervisor != nil {
		h.supervisorRoutes(d.Supervisor)
	}
	if d.Figures != nil {
		h.figs = d.Figures
		h.mux.HandleFunc("GET /api/figures", h.figures)
	}
	if d.Customers != nil {
		h.customerRoutes(d.Customers)
	}
	if d.Reports != nil {
		h.reportRoutes(d.Reports)
	}
	return h
}

// ServeHTTP routes a request to its endpoint.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	status, code := "ok", http.StatusOK
	if h.health != nil && h.health.Draining() {
		status, code = "draining", http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"status": status, "calls": len(h.front.Calls())})
}

func (h *Handler) queues(w http.ResponseWriter, r *http.Request) {
	qs, err := h.router.Queues(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, qs)
}

// Agent is an agent as the API shows it: the router's view plus the phone's
// registration.
type Agent struct {
	routing.AgentStatus
	Registered   bool              `json:"registered"`
	Registration *sip.Registration `json:"registration,omitempty"`
}

func (h *Handler) agents(w http.ResponseWriter, r *http.Request) {
	as, err := h.router.Agents(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	regs := h.front.Registrations()
	out := make([]Agent, 0, len(as))
	for _, a := range as {
		ag := Agent{AgentStatus: a}
		if reg, ok := regs[a.ID]; ok {
			ag.Registered = true
			ag.Registration = &reg
		}
		out = append(out, ag)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) calls(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.front.Calls())
}

type stateRequest struct {
	State  string `json:"state"`
	Reason string `json:"reason"`
}

func (h *Handler) setState(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req stateRequest
	if !decodeJSON(w, r, &req, false, `{"state":"ready"}`) {
		return
	}
	state := routing.AgentState(req.State)
	switch state {
	case routing.AgentReady, routing.AgentNotReady, routing.AgentLoggedOut:
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf(`state %q is not one of "ready", "not_ready", "logged_out"`, req.State))
		return
	}
	if state == routing.AgentReady && !h.front.Registered(id) {
		if err := h.knownAgent(r.Context(), id); err != nil {
			h.fail(w, r, err)
			return
		}
		writeError(w, http.StatusConflict, fmt.Sprintf("agent %s has no SIP registration: register the phone (user %s) with Kefu first, then set ready", id, id))
		return
	}
	if err := h.router.SetAgentState(r.Context(), id, state, req.Reason); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("agent state set over HTTP", "agent", id, "state", state, "reason", req.Reason, "remote", r.RemoteAddr)
	h.writeAgent(w, r, id, state)
}

// writeAgent answers with the agent's status after a change of state (just
// the id and state when the status cannot be read).
func (h *Handler) writeAgent(w http.ResponseWriter, r *http.Request, id string, state routing.AgentState) {
	for _, a := range h.mustAgents(r.Context()) {
		if a.ID == id {
			writeJSON(w, http.StatusOK, a)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id, "state": string(state)})
}

func (h *Handler) knownAgent(ctx context.Context, id string) error {
	for _, a := range h.mustAgents(ctx) {
		if a.ID == id {
			return nil
		}
	}
	return fmt.Errorf("%w: %s", routing.ErrUnknownAgent, id)
}

func (h *Handler) mustAgents(ctx context.Context) []routing.AgentStatus {
	as, err := h.router.Agents(ctx)
	if err != nil {
		return nil
	}
	return as
}

// fail maps router errors to HTTP statuses.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, routing.ErrUnknownAgent):
		writeError(w, http.StatusNotFound, err.Error()+": agents are declared in the config file")
	case errors.Is(err, routing.ErrAgentBusy):
		writeError(w, http.StatusConflict, err.Error()+": try again when the call has ended")
	default:
		h.log.Error("api error", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

// decodeJSON reads a small JSON body into v, answering 415 or 400 itself
// (and returning false) when it is not one. JSON only: a browser cannot
// send it cross-site without a CORS preflight, so a web page cannot act
// behind an operator's back. With emptyOK, an empty body leaves v as it is.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, emptyOK bool, example string) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf(`send the body as Content-Type: application/json, e.g. curl -H 'Content-Type: application/json' -d '%s'`, example))
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if emptyOK && errors.Is(err, io.EOF) {
		return true
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf(`body must be JSON like %s: %v`, example, err))
		return false
	}
	return true
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// Timeouts for the HTTP server.
const (
	ReadHeaderTimeout = 5 * time.Second
	IdleTimeout       = 60 * time.Second
)
