package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"kefu/routing"
	"kefu/sip"
)

type fakeRouter struct {
	agents []routing.AgentStatus
	setErr error
	set    []string
}

func (f *fakeRouter) Queues(context.Context) ([]routing.QueueStatus, error) {
	return []routing.QueueStatus{{Name: "billing"}}, nil
}

func (f *fakeRouter) Agents(context.Context) ([]routing.AgentStatus, error) { return f.agents, nil }

func (f *fakeRouter) SetAgentState(_ context.Context, id string, st routing.AgentState, reason string) error {
	if f.setErr != nil {
		return f.setErr
	}
	f.set = append(f.set, id+"="+string(st)+"/"+reason)
	for i := range f.agents {
		if f.agents[i].ID == id {
			f.agents[i].State = st
		}
	}
	return nil
}

type fakeFront struct{ registered map[string]bool }

func (f fakeFront) Calls() []sip.CallInfo { return []sip.CallInfo{{ID: "c1", State: "ivr"}} }

func (f fakeFront) Registrations() map[string]sip.Registration {
	out := map[string]sip.Registration{}
	for id := range f.registered {
		out[id] = sip.Registration{Contact: "sip:" + id + "@127.0.0.1:5070"}
	}
	return out
}

func (f fakeFront) Registered(id string) bool { return f.registered[id] }

type fakeHealth bool

func (h fakeHealth) Draining() bool { return bool(h) }

func newTest(setErr error, draining bool) (*Handler, *fakeRouter) {
	r := &fakeRouter{
		agents: []routing.AgentStatus{{ID: "1002", State: routing.AgentLoggedOut}, {ID: "1001", State: routing.AgentNotReady}},
		setErr: setErr,
	}
	return New(Deps{Router: r, Front: fakeFront{registered: map[string]bool{"1001": true}}, Health: fakeHealth(draining)}, nil), r
}

func do(h http.Handler, method, path, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestSetState(t *testing.T) {
	for _, tc := range []struct {
		name, agent, ct, body string
		setErr                error
		code                  int
		errContains           string
		wantSet               string
	}{
		{"ready", "1001", "application/json", `{"state":"ready"}`, nil, 200, "", "1001=ready/"},
		{"not ready with reason", "1001", "application/json; charset=utf-8", `{"state":"not_ready","reason":"lunch"}`, nil, 200, "", "1001=not_ready/lunch"},
		{"ready without registration", "1002", "application/json", `{"state":"ready"}`, nil, 409, "has no SIP registration", ""},
		{"unknown agent", "9999", "application/json", `{"state":"ready"}`, nil, 404, "unknown agent", ""},
		{"unknown agent logging out", "9999", "application/json", `{"state":"logged_out"}`, fmt.Errorf("set: %w", routing.ErrUnknownAgent), 404, "declared in the config", ""},
		{"busy", "1001", "application/json", `{"state":"ready"}`, fmt.Errorf("x: %w", routing.ErrAgentBusy), 409, "try again when the call has ended", ""},
		{"router failure", "1001", "application/json", `{"state":"ready"}`, errors.New("store down"), 500, "store down", ""},
		{"bad state", "1001", "application/json", `{"state":"sleeping"}`, nil, 400, `"sleeping" is not one of`, ""},
		{"bad json", "1001", "application/json", `{"state":`, nil, 400, "body must be JSON", ""},
		{"unknown field", "1001", "application/json", `{"state":"ready","mood":"happy"}`, nil, 400, "unknown field", ""},
		{"form post", "1001", "application/x-www-form-urlencoded", `state=ready`, nil, 415, "Content-Type: application/json", ""},
		{"no content type", "1001", "", `{"state":"ready"}`, nil, 415, "Content-Type: application/json", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, r := newTest(tc.setErr, false)
			rec := do(h, http.MethodPost, "/api/agents/"+tc.agent+"/state", tc.ct, tc.body)
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.code, rec.Body.String())
			}
			if tc.errContains != "" {
				var e struct{ Error string }
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || !strings.Contains(e.Error, tc.errContains) {
					t.Errorf("error body %s, want it to contain %q", rec.Body.String(), tc.errContains)
				}
			}
			got := strings.Join(r.set, ",")
			if got != tc.wantSet {
				t.Errorf("router got %q, want %q", got, tc.wantSet)
			}
		})
	}
}

func TestReads(t *testing.T) {
	h, _ := newTest(nil, false)
	rec := do(h, http.MethodGet, "/api/agents", "", "")
	var agents []Agent
	if err := json.Unmarshal(rec.Body.Bytes(), &agents); err != nil {
		t.Fatal(err)
	}
	if len(agents) != 2 || agents[0].ID != "1001" || !agents[0].Registered || agents[0].Registration == nil || agents[1].Registered {
		t.Errorf("/api/agents = %s", rec.Body.String())
	}
	if rec := do(h, http.MethodGet, "/api/calls", "", ""); !strings.Contains(rec.Body.String(), `"id": "c1"`) {
		t.Errorf("/api/calls = %s", rec.Body.String())
	}
	if rec := do(h, http.MethodGet, "/api/queues", "", ""); !strings.Contains(rec.Body.String(), `"billing"`) {
		t.Errorf("/api/queues = %s", rec.Body.String())
	}
	if rec := do(h, http.MethodGet, "/healthz", "", ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"ok"`) {
		t.Errorf("/healthz = %d %s", rec.Code, rec.Body.String())
	}
	drainingH, _ := newTest(nil, true)
	if rec := do(drainingH, http.MethodGet, "/healthz", "", ""); rec.Code != 503 || !strings.Contains(rec.Body.String(), "draining") {
		t.Errorf("/healthz while draining = %d %s", rec.Code, rec.Body.String())
	}
	if rec := do(h, http.MethodDelete, "/api/agents", "", ""); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /api/agents = %d, want 405", rec.Code)
	}
}
