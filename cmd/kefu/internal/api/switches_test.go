package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"kefu/ivr/switchboard"
)

func TestSwitches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switches.json")
	board, err := switchboard.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	h := New(Deps{Router: &fakeRouter{}, Front: fakeFront{}, Switches: board}, nil)
	for _, tc := range []struct {
		name, path, ctype, body string
		code                    int
		want                    string // in the body
		on, set                 bool   // announce.outage afterwards
	}{
		{"switch on", "/api/switches/announce.outage", "application/json", `{"on": true, "by": "ops-li"}`, 200, `"by": "ops-li"`, true, true},
		{"switch off", "/api/switches/announce.outage", "application/json", `{"on": false}`, 200, `"on": false`, false, true},
		{"clear", "/api/switches/announce.outage", "application/json", `{"clear": true}`, 200, `[]`, false, false},
		{"not JSON", "/api/switches/announce.outage", "text/plain", `on`, 415, "Content-Type: application/json", false, false},
		{"nothing to do", "/api/switches/announce.outage", "application/json", `{}`, 400, "say what to do", false, false},
		{"both", "/api/switches/announce.outage", "application/json", `{"on": true, "clear": true}`, 400, "not both", false, false},
		{"bad name", "/api/switches/outage", "application/json", `{"on": true}`, 400, "announce.", false, false},
		{"unknown field", "/api/switches/announce.outage", "application/json", `{"onn": true}`, 400, "unknown field", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.ctype)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("%d %s, want %d with %q", rec.Code, rec.Body, tc.code, tc.want)
			}
			if on, set := board.State("announce.outage"); on != tc.on || set != tc.set {
				t.Errorf("state on=%v set=%v, want on=%v set=%v", on, set, tc.on, tc.set)
			}
		})
	}
	// The list, and the state kept on disk for the next start.
	if err := board.Set("emergency.hotline", true, "duty manager"); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/switches", nil))
	var list []switchboard.Switch
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || len(list) != 1 || list[0].Name != "emergency.hotline" || !list[0].On {
		t.Errorf("GET /api/switches = %s (%v)", rec.Body, err)
	}
	again, err := switchboard.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if on, set := again.State("emergency.hotline"); !on || !set {
		t.Error("the switch was not kept on disk")
	}
}
