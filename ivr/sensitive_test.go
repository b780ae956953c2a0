package ivr_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"kefu/ivr"
	"kefu/ivr/ivrtest"
)

// TestSensitiveValuesStayMasked checks a sensitive value shows nowhere a
// run reports: Result, trace, log; not even when it does not fit its
// variable or goes into a webhook's address.
func TestSensitiveValuesStayMasked(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	tests := []struct {
		name   string
		flow   string
		script []string
		secret string
	}{
		{
			name: "a computed value that does not fit",
			flow: `
start: ask
vars:
  entry: {type: string, sensitive: true}
  pin: {type: digits, sensitive: true}
nodes:
  ask:
    type: collect
    prompt: enter
    store: entry
    exits: {ok: s, failed: bye}
  s:
    type: set
    set: {pin: "= 'x' + entry"}
    next: bye
    exits: {error: bye}
  bye: {type: hangup}
`,
			script: []string{"97531#"}, secret: "97531",
		},
		{
			name: "a webhook that cannot be reached, its address holding the secret",
			flow: fmt.Sprintf(`
start: ask
vars:
  pin: {type: digits, sensitive: true}
nodes:
  ask:
    type: collect
    prompt: enter
    store: pin
    exits: {ok: crm, failed: bye}
  crm:
    type: lookup
    source: webhook
    url: "%s/check?pin=${pin}"
    exits: {ok: bye, not_found: bye, error: bye}
  bye: {type: hangup}
`, downURL),
			script: []string{"97531#"}, secret: "97531",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flow, err := ivr.LoadBytes("test.yaml", []byte(tt.flow), ivr.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			var tl traceLog
			var obs eventLog // what screen pops and call records are built from
			res, err := ivr.Run(t.Context(), flow, ivrtest.NewScriptedCall(tt.script...), ivr.RunOptions{
				Trace:    tl.add,
				Services: ivr.Services{Observer: &obs},
				Logger:   slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			})
			if err != nil {
				t.Fatal(err)
			}
			reported := map[string]string{
				"trace":  strings.Join(tl.texts(), "\n"),
				"log":    logs.String(),
				"result": fmt.Sprintf("%+v", res),
				"events": fmt.Sprintf("%+v", obs.events()),
			}
			for where, text := range reported {
				if strings.Contains(text, tt.secret) {
					t.Errorf("the %s shows the secret:\n%s", where, text)
				}
			}
			if res.Steps[1].Exit != "error" {
				t.Errorf("steps %+v: want the second node to take its error exit", res.Steps)
			}
		})
	}
}
