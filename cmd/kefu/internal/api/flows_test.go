package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"kefu/ivr/reload"
)

// fakeFlows is a reloader whose next reload result the test chooses.
type fakeFlows struct {
	st       reload.Status
	next     reload.Result // result of the next Reload
	issues   []string      // its issues, when it fails
	reasons  []string
	rolledTo []string
}

func (f *fakeFlows) Status() reload.Status { return f.st }

func (f *fakeFlows) Reload(reason string) reload.Status {
	f.reasons = append(f.reasons, reason)
	f.st.Reloads++
	f.st.LastReload = &reload.Attempt{Reason: reason, Result: f.next, Version: f.st.Version}
	switch f.next {
	case reload.ResultFailed:
		f.st.Failures++
		f.st.LastError = &reload.Failure{Reason: reason, Issues: f.issues}
	case reload.ResultOK:
		f.st.History = append([]reload.Kept{{Version: f.st.Version}}, f.st.History...)
		f.st.Version = "bbbbbbbbbbbb"
		f.st.LastReload.Version = f.st.Version
		f.st.LastError = nil
	}
	return f.st
}

func (f *fakeFlows) Rollback(version string) error {
	if version == f.st.Version {
		return nil
	}
	for _, k := range f.st.History {
		if k.Version == version {
			f.rolledTo = append(f.rolledTo, version)
			f.st.Version = version
			return nil
		}
	}
	return fmt.Errorf("reload: rollback to %q: %w", version, reload.ErrNotKept)
}

func newFlowTest() (*Handler, *fakeFlows) {
	f := &fakeFlows{st: reload.Status{
		Version:  "aaaaaaaaaaaa",
		LoadedAt: time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC),
		Reason:   "start",
		Flows:    []reload.FlowInfo{{Name: "main", Version: "1234", File: "flows/main.yaml"}},
		Warnings: []string{},
		History:  []reload.Kept{{Version: "999999999999"}},
	}}
	h := New(Deps{Router: &fakeRouter{}, Front: fakeFront{}, Flows: f}, nil)
	return h, f
}

func TestFlowStatus(t *testing.T) {
	h, _ := newFlowTest()
	rec := do(h, http.MethodGet, "/api/flows", "", "")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/flows = %d %s", rec.Code, rec.Body.String())
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	// The field names operators and scripts rely on.
	for _, k := range []string{"version", "loaded_at", "reason", "flows", "warnings", "reloads", "failures", "history"} {
		if _, ok := got[k]; !ok {
			t.Errorf("GET /api/flows has no %q: %s", k, rec.Body.String())
		}
	}
	if got["version"] != "aaaaaaaaaaaa" {
		t.Errorf("version = %v", got["version"])
	}
	flows, _ := got["flows"].([]any)
	if len(flows) != 1 || flows[0].(map[string]any)["file"] != "flows/main.yaml" {
		t.Errorf("flows = %v", got["flows"])
	}
	if _, ok := got["last_error"]; ok {
		t.Errorf("last_error shown with no error: %s", rec.Body.String())
	}
}

func TestFlowReload(t *testing.T) {
	issues := []string{"flows/main.yaml:14:11: node \"main_menu\": option \"1\" goes to unknown node \"biling\""}
	for _, tc := range []struct {
		name, ct, body string
		next           reload.Result
		code           int
		wantReason     string // "" when no reload may happen
		contains       []string
	}{
		{"ok", "application/json", `{}`, reload.ResultOK, 200, "api", []string{`"version": "bbbbbbbbbbbb"`, `"result": "ok"`}},
		{"empty body", "application/json", ``, reload.ResultUnchanged, 200, "api", []string{`"result": "unchanged"`, `"version": "aaaaaaaaaaaa"`}},
		{"with a reason", "application/json", `{"reason":" deploy 42 "}`, reload.ResultOK, 200, "api: deploy 42", []string{`"reason": "api: deploy 42"`}},
		{"failed", "application/json", `{}`, reload.ResultFailed, 422, "api",
			[]string{`"error": "the flows did not load (1 issues): fix them and reload again; version aaaaaaaaaaaa keeps serving"`, `flows/main.yaml:14:11: `, `"status": {`}},
		{"form post", "application/x-www-form-urlencoded", `reason=x`, reload.ResultOK, 415, "", []string{"Content-Type: application/json"}},
		{"bad json", "application/json", `{"reason":`, reload.ResultOK, 400, "", []string{"body must be JSON"}},
		{"unknown field", "application/json", `{"force":true}`, reload.ResultOK, 400, "", []string{"unknown field"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, f := newFlowTest()
			f.next, f.issues = tc.next, issues
			rec := do(h, http.MethodPost, "/api/flows/reload", tc.ct, tc.body)
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.code, rec.Body.String())
			}
			for _, c := range tc.contains {
				if !strings.Contains(rec.Body.String(), c) {
					t.Errorf("body does not contain %q:\n%s", c, rec.Body.String())
				}
			}
			var want []string
			if tc.wantReason != "" {
				want = []string{tc.wantReason}
			}
			if !slices.Equal(f.reasons, want) {
				t.Errorf("reloads %q, want %q", f.reasons, want)
			}
			if tc.code == 422 {
				var body ReloadFailure
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(body.Issues, issues) || body.Status.Version != "aaaaaaaaaaaa" || body.Status.LastError == nil {
					t.Errorf("422 body = %+v", body)
				}
			}
		})
	}
}

func TestFlowRollback(t *testing.T) {
	for _, tc := range []struct {
		name, ct, body string
		code           int
		contains       []string
		rolledTo       []string
	}{
		{"kept version", "application/json", `{"version":"999999999999"}`, 200, []string{`"version": "999999999999"`}, []string{"999999999999"}},
		{"active version", "application/json", `{"version":"aaaaaaaaaaaa"}`, 200, []string{`"version": "aaaaaaaaaaaa"`}, nil},
		{"unknown version", "application/json", `{"version":"nope"}`, 404,
			[]string{`version \"nope\" is not kept`, `"kept": [`, `"999999999999"`, `"active": "aaaaaaaaaaaa"`}, nil},
		{"no version", "application/json", `{}`, 400, []string{"give the version"}, nil},
		{"empty body", "application/json", ``, 400, []string{"body must be JSON"}, nil},
		{"form post", "application/x-www-form-urlencoded", `version=x`, 415, []string{"Content-Type: application/json"}, nil},
		{"unknown field", "application/json", `{"version":"x","hash":"y"}`, 400, []string{"unknown field"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, f := newFlowTest()
			rec := do(h, http.MethodPost, "/api/flows/rollback", tc.ct, tc.body)
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.code, rec.Body.String())
			}
			for _, c := range tc.contains {
				if !strings.Contains(rec.Body.String(), c) {
					t.Errorf("body does not contain %q:\n%s", c, rec.Body.String())
				}
			}
			if !slices.Equal(f.rolledTo, tc.rolledTo) {
				t.Errorf("rolled back to %v, want %v", f.rolledTo, tc.rolledTo)
			}
		})
	}
}

// TestOptionalEndpoints: without a reloader or metrics handler the
// endpoints are absent, and with them they answer.
func TestOptionalEndpoints(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "kefu_up 1\n") })
	bare := New(Deps{Router: &fakeRouter{}, Front: fakeFront{}}, nil)
	full := New(Deps{Router: &fakeRouter{}, Front: fakeFront{}, Flows: &fakeFlows{}, Metrics: metrics}, nil)
	for _, tc := range []struct {
		name         string
		h            http.Handler
		method, path string
		code         int
	}{
		{"no flows", bare, http.MethodGet, "/api/flows", 404},
		{"no reload", bare, http.MethodPost, "/api/flows/reload", 404},
		{"no metrics", bare, http.MethodGet, "/metrics", 404},
		{"healthz without health", bare, http.MethodGet, "/healthz", 200},
		{"flows", full, http.MethodGet, "/api/flows", 200},
		{"metrics", full, http.MethodGet, "/metrics", 200},
		{"reload is POST only", full, http.MethodGet, "/api/flows/reload", 405},
		{"metrics is GET only", full, http.MethodPost, "/metrics", 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if rec := do(tc.h, tc.method, tc.path, "", ""); rec.Code != tc.code {
				t.Errorf("%s %s = %d, want %d: %s", tc.method, tc.path, rec.Code, tc.code, rec.Body.String())
			}
		})
	}
}
