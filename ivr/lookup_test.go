package ivr_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"kefu/ivr"
	"kefu/ivr/ivrtest"
)

// stubDirectory is an ivr.Directory with one answer for every number.
type stubDirectory struct {
	c     ivr.Customer
	found bool
	err   error

	mu    sync.Mutex
	asked []string
}

func (d *stubDirectory) Lookup(_ context.Context, number string) (ivr.Customer, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.asked = append(d.asked, number)
	return d.c, d.found, d.err
}

// directoryFlow looks the caller up and routes by what the directory says.
const directoryFlow = `
start: who
nodes:
  who:
    type: lookup
    exits: {ok: grade, not_found: unknown, error: failed}
  grade:
    type: branch
    cases:
      - when: customer.vip && customer.manager != ""
        go: manager
      - when: customer.stars >= 4 && customer.brand == "GoTone"
        go: stars
      - when: customer.found && customer.tier == "key_account"
        go: key
    default: plain
  manager: {type: hangup, reason: manager}
  stars: {type: hangup, reason: stars}
  key: {type: hangup, reason: key}
  plain: {type: hangup, reason: plain}
  unknown:
    type: branch
    cases:
      - when: customer.found || customer.stars != 0
        go: plain
    default: unknown_end
  unknown_end: {type: hangup, reason: not_found}
  failed: {type: hangup, reason: error}
`

func TestLookupDirectory(t *testing.T) {
	flow := inlineFlow(t, directoryFlow)
	tests := []struct {
		name   string
		dir    ivr.Directory
		reason string
		exit   string
	}{
		{"vip with a manager", &stubDirectory{found: true, c: ivr.Customer{VIP: true, Manager: "m7", Stars: 5}}, "manager", "ok"},
		{"vip without a manager falls to the next case", &stubDirectory{found: true, c: ivr.Customer{VIP: true, Stars: 4, Brand: "GoTone"}}, "stars", "ok"},
		{"tier", &stubDirectory{found: true, c: ivr.Customer{Tier: "key_account"}}, "key", "ok"},
		{"found, nothing special", &stubDirectory{found: true, c: ivr.Customer{Stars: 3, Brand: "GoTone"}}, "plain", "ok"},
		{"not found: customer is empty", &stubDirectory{c: ivr.Customer{Stars: 5}}, "not_found", "not_found"},
		{"directory fails", &stubDirectory{err: errors.New("db down")}, "error", "error"},
		{"no directory configured", nil, "error", "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := ivrtest.NewScriptedCall()
			call.CallerNumber = "13912345678"
			res, err := runScripted(t, flow, call, ivr.RunOptions{Services: ivr.Services{Directory: tt.dir}})
			if err != nil {
				t.Fatal(err)
			}
			if res.HangupReason != tt.reason {
				t.Errorf("ended %q, want %q", res.HangupReason, tt.reason)
			}
			if len(res.Steps) == 0 || res.Steps[0].Exit != tt.exit {
				t.Errorf("steps %+v: want who to exit by %s", res.Steps, tt.exit)
			}
			if sd, ok := tt.dir.(*stubDirectory); ok && (len(sd.asked) != 1 || sd.asked[0] != "13912345678") {
				t.Errorf("directory asked for %q, want the caller's number once", sd.asked)
			}
		})
	}
}

// slowDirectory answers when its context ends.
type slowDirectory struct{}

func (slowDirectory) Lookup(ctx context.Context, _ string) (ivr.Customer, bool, error) {
	<-ctx.Done()
	return ivr.Customer{}, false, ctx.Err()
}

func TestLookupDirectoryTimeout(t *testing.T) {
	flow := inlineFlow(t, strings.Replace(directoryFlow, "type: lookup", "type: lookup\n    timeout: 100ms", 1))
	start := time.Now()
	res, err := runScripted(t, flow, ivrtest.NewScriptedCall(), ivr.RunOptions{Services: ivr.Services{Directory: slowDirectory{}}})
	if err != nil || res.HangupReason != "error" {
		t.Errorf("ended %q (%v), want the error exit", res.HangupReason, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("lookup took %s; its timeout is 100ms", d)
	}
}

// TestLookupDirectoryCallEnds checks a lookup cut short by the call ending
// is a caller hangup, not the error exit.
func TestLookupDirectoryCallEnds(t *testing.T) {
	flow := inlineFlow(t, directoryFlow)
	ctx, cancel := context.WithCancel(context.Background())
	dir := cancellingDirectory{cancel}
	res, err := ivr.Run(ctx, flow, ivrtest.NewScriptedCall(), ivr.RunOptions{Services: ivr.Services{Directory: dir}})
	if err != nil || res.End != ivr.EndCallerHangup || res.Node != "who" {
		t.Errorf("end %s in %q, err %v; want a caller hangup in who", res.End, res.Node, err)
	}
}

type cancellingDirectory struct{ cancel context.CancelFunc }

func (d cancellingDirectory) Lookup(ctx context.Context, _ string) (ivr.Customer, bool, error) {
	d.cancel()
	<-ctx.Done()
	return ivr.Customer{}, false, ctx.Err()
}

// webhookFlowTmpl is a webhook lookup; %s is the server's address.
const webhookFlowTmpl = `
start: crm
vars:
  balance: string
  owner: {type: string, default: nobody}
  vip: bool
  stars: {type: int, default: -1}
  level: {type: int, default: -1}
  plan: {type: enum, values: [basic, unlimited], default: basic}
nodes:
  crm:
    type: lookup
    source: webhook
    url: "%s/customers/${caller}?number=${caller}&lang=${lang}"
    timeout: 200ms
    output:
      balance: account.balance
      owner: account.owner.name
      vip: vip
      stars: stars
      level: account.balance
      plan: plan
    exits: {ok: done, not_found: unknown, error: failed}
  done: {type: hangup, reason: ok}
  unknown: {type: hangup, reason: not_found}
  failed: {type: hangup, reason: error}
`

func TestLookupWebhook(t *testing.T) {
	type request struct {
		path, rawQuery, number, callID, accept string
	}
	tests := []struct {
		name   string
		status int
		body   string
		slow   bool
		reason string
		vars   map[string]string
	}{
		{
			name:   "200 with nested fields, converted to each variable's type",
			status: 200,
			body:   `{"account": {"balance": 12.50, "owner": {"name": "张三"}}, "vip": true, "stars": "4", "plan": "unlimited", "extra": [1, 2]}`,
			reason: "ok",
			// level: 12.50 is not a whole number: left as it was.
			vars: map[string]string{"balance": "12.50", "owner": "张三", "vip": "true", "stars": "4", "level": "-1", "plan": "unlimited"},
		},
		{
			name:   "fields missing or of the wrong type leave variables unchanged",
			status: 200,
			body:   `{"account": {"balance": 7, "owner": "not an object"}, "vip": "maybe", "stars": 4.5, "plan": "gold"}`,
			reason: "ok",
			vars:   map[string]string{"balance": "7", "owner": "nobody", "vip": "false", "stars": "-1", "level": "7", "plan": "basic"},
		},
		{name: "404 is not_found", status: 404, body: `{"error": "no such customer"}`, reason: "not_found", vars: map[string]string{"balance": ""}},
		{name: "500 is error", status: 500, body: `{"balance": "1"}`, reason: "error", vars: map[string]string{"balance": ""}},
		{name: "201 is error", status: 201, body: `{"account": {"balance": "1"}}`, reason: "error", vars: map[string]string{"balance": ""}},
		{name: "bad JSON is error", status: 200, body: `{"account": `, reason: "error"},
		{name: "a JSON list is error", status: 200, body: `[{"account": {"balance": "1"}}]`, reason: "error", vars: map[string]string{"balance": ""}},
		{name: "no answer within the timeout is error", status: 200, body: `{}`, slow: true, reason: "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu  sync.Mutex
				got []request
			)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				got = append(got, request{r.URL.EscapedPath(), r.URL.RawQuery, r.URL.Query().Get("number"), r.Header.Get("X-Kefu-Call-Id"), r.Header.Get("Accept")})
				mu.Unlock()
				if tt.slow {
					select {
					case <-r.Context().Done():
					case <-time.After(5 * time.Second):
					}
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			flow := inlineFlow(t, fmt.Sprintf(webhookFlowTmpl, srv.URL))
			call := ivrtest.NewScriptedCall()
			call.CallID = "call-42"
			res, err := runScripted(t, flow, call, ivr.RunOptions{Services: ivr.Services{HTTP: srv.Client()}})
			if err != nil {
				t.Fatal(err)
			}
			if res.HangupReason != tt.reason {
				t.Errorf("ended %q, want %q", res.HangupReason, tt.reason)
			}
			for k, want := range tt.vars {
				if got := res.Vars[k]; got != want {
					t.Errorf("var %s = %q, want %q", k, got, want)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			want := request{"/customers/13800138000", "number=13800138000&lang=zh", "13800138000", "call-42", "application/json"}
			if len(got) != 1 || got[0] != want {
				t.Errorf("requests %+v, want one %+v", got, want)
			}
		})
	}
}

// TestLookupWebhookEscapes checks a value put into the URL is one piece of
// data wherever it stands: the calling number comes from the far end, so
// it must not add path segments or query parameters, and a + must stay a +
// (a query parameter's + reads as a space).
func TestLookupWebhookEscapes(t *testing.T) {
	type seen struct {
		path, escaped, number, lang string
		params                      int
	}
	tests := []struct {
		caller  string
		escaped string // the path as sent
	}{
		{"+8613800138000", "/customers/%2B8613800138000"},
		{"13800138000&admin=1", "/customers/13800138000%26admin%3D1"},
		{"../admin?x=1#frag", "/customers/..%2Fadmin%3Fx%3D1%23frag"},
		{"..", "/customers/%2E%2E"},
		{"张三 %41", "/customers/%E5%BC%A0%E4%B8%89%20%2541"},
	}
	for _, tt := range tests {
		t.Run(tt.caller, func(t *testing.T) {
			var (
				mu  sync.Mutex
				got []seen
			)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				got = append(got, seen{r.URL.Path, r.URL.EscapedPath(), r.URL.Query().Get("number"), r.URL.Query().Get("lang"), len(r.URL.Query())})
				mu.Unlock()
				fmt.Fprint(w, `{}`)
			}))
			defer srv.Close()
			flow := inlineFlow(t, fmt.Sprintf(webhookFlowTmpl, srv.URL))
			call := ivrtest.NewScriptedCall()
			call.CallerNumber = tt.caller
			res, err := runScripted(t, flow, call, ivr.RunOptions{Services: ivr.Services{HTTP: srv.Client()}})
			if err != nil || res.HangupReason != "ok" {
				t.Fatalf("ended %q (%v)", res.HangupReason, err)
			}
			mu.Lock()
			defer mu.Unlock()
			want := seen{"/customers/" + tt.caller, tt.escaped, tt.caller, "zh", 2}
			if len(got) != 1 || got[0] != want {
				t.Errorf("server saw %+v, want %+v", got, want)
			}
		})
	}
}

// TestLookupWebhookUnreachable checks a webhook that cannot be reached
// takes the error exit.
func TestLookupWebhookUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	flow := inlineFlow(t, fmt.Sprintf(webhookFlowTmpl, url))
	var tl traceLog
	res, err := runScripted(t, flow, ivrtest.NewScriptedCall(), ivr.RunOptions{Trace: tl.add})
	if err != nil || res.HangupReason != "error" {
		t.Errorf("ended %q (%v), want the error exit", res.HangupReason, err)
	}
	if !strings.Contains(strings.Join(tl.texts(), "\n"), "lookup crm: webhook failed") {
		t.Errorf("trace does not say the webhook failed:\n%s", strings.Join(tl.texts(), "\n"))
	}
}

// repeatFlow branches on the caller's last contact.
const repeatFlow = `
start: who
nodes:
  who:
    type: lookup
    exits: {ok: check, not_found: check, error: failed}
  check:
    type: branch
    cases:
      - when: customer.repeat && customer.last.outcome == "abandoned"
        go: gave_up
      - when: customer.last.found && customer.last.hours_ago < 48 && customer.last.survey["solved"] == "no"
        go: unsolved
      - when: customer.last.found
        go: known
    default: first
  gave_up: {type: hangup, reason: gave_up}
  unsolved: {type: hangup, reason: unsolved}
  known: {type: hangup, reason: known}
  first: {type: hangup, reason: first}
  failed: {type: hangup, reason: error}
`

// TestLookupLastContact: customer.repeat and customer.last.* come from the
// directory's caller history, for customers in the directory and not.
func TestLookupLastContact(t *testing.T) {
	flow := inlineFlow(t, repeatFlow)
	now := time.Now()
	last := func(ago time.Duration, outcome string, survey map[string]string) *ivr.Contact {
		return &ivr.Contact{At: now.Add(-ago), Queue: "billing", Agent: "1001", Outcome: outcome, Survey: survey}
	}
	for _, tt := range []struct {
		name   string
		dir    *stubDirectory
		reason string
	}{
		{"repeat caller who gave up", &stubDirectory{c: ivr.Customer{Repeat: true, Last: last(time.Hour, "abandoned", nil)}}, "gave_up"},
		{"customer whose problem was not solved 30 h ago", &stubDirectory{found: true, c: ivr.Customer{Stars: 3, Last: last(30*time.Hour, "answered", map[string]string{"solved": "no"})}}, "unsolved"},
		{"not solved, but 3 days ago", &stubDirectory{found: true, c: ivr.Customer{Last: last(72*time.Hour, "answered", map[string]string{"solved": "no"})}}, "known"},
		{"first call", &stubDirectory{found: true, c: ivr.Customer{Stars: 5}}, "first"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := runScripted(t, flow, ivrtest.NewScriptedCall(), ivr.RunOptions{Services: ivr.Services{Directory: tt.dir}})
			if err != nil {
				t.Fatal(err)
			}
			if res.HangupReason != tt.reason {
				t.Errorf("ended %q, want %q", res.HangupReason, tt.reason)
			}
		})
	}
}
