package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"kefu/routing"
	"kefu/routing/memstore"
	"kefu/routing/stats"
)

// supervisorWorld is a real router on the embedded store behind the API.
type supervisorWorld struct {
	t      *testing.T
	router *routing.Router
	srv    *httptest.Server
}

func newSupervisorWorld(t *testing.T) *supervisorWorld {
	t.Helper()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	r, err := routing.NewRouter(routing.Config{
		Queues: []routing.QueueConfig{{Name: "billing", Skill: "billing", WrapUp: time.Minute},
			{Name: "complaints", Skill: "complaints"}},
		Agents: []routing.AgentConfig{{ID: "1001", Skills: map[string]int{"billing": 3}},
			{ID: "1002", Skills: map[string]int{"complaints": 3}}},
		Now: func() time.Time { return now },
	}, memstore.New())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	h := New(Deps{Router: r, Front: &fakeFront{}, Supervisor: r}, nil)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &supervisorWorld{t: t, router: r, srv: srv}
}

func (w *supervisorWorld) post(path, body string) (int, map[string]any) {
	w.t.Helper()
	resp, err := http.Post(w.srv.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (w *supervisorWorld) callOrder() []string {
	w.t.Helper()
	resp, err := http.Get(w.srv.URL + "/api/router/calls")
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var calls []routing.CallStatus
	if err := json.NewDecoder(resp.Body).Decode(&calls); err != nil {
		w.t.Fatal(err)
	}
	ids := make([]string, len(calls))
	for i, c := range calls {
		ids[i] = c.CallID
	}
	return ids
}

func TestSupervisorOperations(t *testing.T) {
	w := newSupervisorWorld(t)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.router.SetAgentState(ctx, "1001", routing.AgentNotReady, "meeting"))
	must(w.router.SetAgentState(ctx, "1002", routing.AgentNotReady, "meeting"))
	for _, id := range []string{"c1", "c2", "c3"} {
		if _, err := w.router.Enqueue(ctx, routing.CallRequest{CallID: id, Queue: "billing"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(w.callOrder(), " "); got != "c1 c2 c3" {
		t.Fatalf("order %q", got)
	}

	code, body := w.post("/api/calls/c3/priority", `{"tier":"vip"}`)
	if code != http.StatusOK || body["tier"] != "vip" || body["head_start_s"] != 120.0 {
		t.Fatalf("reprioritize: %d %v", code, body)
	}
	if got := strings.Join(w.callOrder(), " "); got != "c3 c1 c2" {
		t.Fatalf("order after c3 became vip: %q, want c3 first", got)
	}
	code, body = w.post("/api/calls/c2/priority", `{"priority_s":300}`)
	if code != http.StatusOK || body["head_start_s"] != 300.0 {
		t.Fatalf("priority: %d %v", code, body)
	}
	if got := strings.Join(w.callOrder(), " "); got != "c2 c3 c1" {
		t.Fatalf("order after c2 got 300 s of priority: %q", got)
	}
	if code, body = w.post("/api/calls/c2/priority", `{"tier":"platinum"}`); code != http.StatusBadRequest {
		t.Fatalf("unknown tier: %d %v, want 400", code, body)
	}

	code, body = w.post("/api/calls/c1/move", `{"queue":"complaints"}`)
	if code != http.StatusOK || body["queue"] != "complaints" {
		t.Fatalf("move: %d %v", code, body)
	}
	must(w.router.SetAgentState(ctx, "1002", routing.AgentReady, ""))
	calls, _ := w.router.Calls(ctx)
	for _, c := range calls {
		if c.CallID == "c1" && (c.State != routing.CallOffered || c.AgentID != "1002") {
			t.Fatalf("moved call c1: %s to %q, want offered to 1002 (the complaints agent)", c.State, c.AgentID)
		}
	}
	code, body = w.post("/api/calls/c1/move", `{"queue":"billing"}`)
	if code != http.StatusConflict {
		t.Fatalf("moving a ringing call: %d %v, want 409", code, body)
	}
	if code, _ = w.post("/api/calls/nope/move", `{"queue":"billing"}`); code != http.StatusNotFound {
		t.Fatalf("moving an unknown call: %d, want 404", code)
	}
	if code, _ = w.post("/api/calls/c2/move", `{"queue":"nowhere"}`); code != http.StatusNotFound {
		t.Fatalf("moving to an unknown queue: %d, want 404", code)
	}
	if code, _ = w.post("/api/calls/c2/move", `{"queue":"billing","agent":"1001"}`); code != http.StatusBadRequest {
		t.Fatalf("move with queue and agent: %d, want 400", code)
	}
	code, body = w.post("/api/calls/c3/move", `{"agent":"1001","wait_s":600}`)
	if code != http.StatusOK || body["preferred_agent"] != "1001" {
		t.Fatalf("move to agent: %d %v", code, body)
	}
	must(w.router.Leave(ctx, "c2")) // c2 is ahead in line and would take 1001 first
	must(w.router.SetAgentState(ctx, "1001", routing.AgentReady, ""))
	calls, _ = w.router.Calls(ctx)
	for _, c := range calls {
		if c.CallID == "c3" && c.AgentID != "1001" {
			t.Fatalf("call sent to 1001 is with %q (%s)", c.AgentID, c.State)
		}
	}
}

func TestSupervisorForceState(t *testing.T) {
	w := newSupervisorWorld(t)
	ctx := context.Background()
	if err := w.router.SetAgentState(ctx, "1001", routing.AgentReady, ""); err != nil {
		t.Fatal(err)
	}
	tk, err := w.router.Enqueue(ctx, routing.CallRequest{CallID: "c1", Queue: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	o := (<-tk.Events()).Offer
	if err := w.router.Answered(ctx, o); err != nil {
		t.Fatal(err)
	}
	if err := w.router.Finished(ctx, o); err != nil {
		t.Fatal(err)
	}
	// In wrap-up: the agent's own ready is refused, a supervisor's is not.
	if err := w.router.SetAgentState(ctx, "1001", routing.AgentReady, ""); err == nil {
		t.Fatal("agent set ready during wrap-up")
	}
	code, body := w.post("/api/agents/1001/force", `{"state":"ready"}`)
	if code != http.StatusOK || body["state"] != "ready" {
		t.Fatalf("force ready: %d %v", code, body)
	}
	if code, _ = w.post("/api/agents/1001/force", `{"state":"talking"}`); code != http.StatusBadRequest {
		t.Fatalf("force talking: %d, want 400", code)
	}
	if code, _ = w.post("/api/agents/9999/force", `{"state":"ready"}`); code != http.StatusNotFound {
		t.Fatalf("force unknown agent: %d, want 404", code)
	}
}

func TestFigures(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	queues := []routing.QueueConfig{{Name: "billing", Skill: "billing", ServiceLevel: 20 * time.Second}}
	figs, err := stats.New(stats.Config{Queues: queues, Now: func() time.Time { return now }}, stats.NewMemory())
	if err != nil {
		t.Fatal(err)
	}
	r, err := routing.NewRouter(routing.Config{Queues: queues,
		Agents: []routing.AgentConfig{{ID: "1001", Skills: map[string]int{"billing": 3}}},
		Now:    func() time.Time { return now }, Events: figs}, memstore.New())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	srv := httptest.NewServer(New(Deps{Router: r, Front: &fakeFront{}, Figures: figs}, nil))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	if err := r.SetAgentState(ctx, "1001", routing.AgentNotReady, ""); err != nil {
		t.Fatal(err)
	}
	for _, c := range []routing.CallRequest{{CallID: "c1", Queue: "billing", Tier: "vip"}, {CallID: "c2", Queue: "billing"}} {
		if _, err := r.Enqueue(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(30 * time.Second)
	if err := r.Leave(ctx, "c2"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.URL + "/api/figures")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got FiguresResponse
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got.Live.Queues) != 1 || got.Live.Queues[0].Waiting != 1 || got.Live.Queues[0].LongestWaitSeconds != 30 ||
		got.Live.Queues[0].Agents[routing.AgentNotReady] != 1 {
		t.Fatalf("live queues %+v", got.Live.Queues)
	}
	if len(got.Live.Tiers) != 1 || got.Live.Tiers[0].Tier != "vip" || got.Live.Tiers[0].Waiting != 1 {
		t.Fatalf("live tiers %+v", got.Live.Tiers)
	}
	if len(got.Windows) == 0 {
		t.Fatal("no windows")
	}
	w := got.Windows[0]
	if len(w.Queues) != 1 || w.Queues[0].Entered != 2 || w.Queues[0].Abandoned != 1 {
		t.Fatalf("window %s queues %+v, want 2 entered and 1 abandoned", w.Name, w.Queues)
	}
}
