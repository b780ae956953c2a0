package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"kefu/ivr/reload"
	"kefu/routing"
	"kefu/sip/testphone"
)

// copyFlows copies ../../flows (prompts and all) to a temporary directory
// that a test may edit.
func copyFlows(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "flows")
	err := filepath.WalkDir("../../flows", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel("../../flows", path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// editFlow rewrites a flow file, replacing old (which must be there) by new.
func editFlow(t *testing.T, dir, file, old, new string) {
	t.Helper()
	path := filepath.Join(dir, file)
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), old) {
		t.Fatalf("%s has no %q to edit", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(src), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (k *testKefu) flows() reload.Status {
	k.t.Helper()
	var st reload.Status
	k.getJSON("/api/flows", &st)
	return st
}

// waitFlows polls GET /api/flows until cond holds.
func (k *testKefu) waitFlows(what string, cond func(reload.Status) bool) reload.Status {
	k.t.Helper()
	var st reload.Status
	waitFor(k.t, 10*time.Second, what, func() bool {
		st = k.flows()
		return cond(st)
	})
	return st
}

// metric reads one sample from GET /metrics: the series of family name
// with every one of the labels (k="v" pairs); 0 when there is none.
func metric(t *testing.T, base, name string, labels ...string) float64 {
	t.Helper()
	res, err := apiGet(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET /metrics: %s", res.Status)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		all := true
		for _, l := range labels {
			all = all && strings.Contains(line, l)
		}
		if !all {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		return v
	}
	return 0
}

// servedByAgent lets a waiting 10087 call reach the agent: the agent
// answers, audio flows, the agent hangs up and the flow ends the call.
func servedByAgent(t *testing.T, k *testKefu, agent *testphone.Phone, calls <-chan *testphone.Call, errs <-chan error) {
	t.Helper()
	k.ready("1001")
	ac := incoming(t, agent, 15*time.Second)
	var c *testphone.Call
	select {
	case c = <-calls:
	case err := <-errs:
		t.Fatalf("the caller's INVITE failed: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("the caller was not answered when the agent was")
	}
	waitFor(t, 10*time.Second, "caller audio at the agent", func() bool { return ac.CountFill(0x42) >= 10 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ac.Hangup(ctx); err != nil {
		t.Fatalf("agent hangup: %v", err)
	}
	select {
	case <-c.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("the flow did not end the call after the agent left")
	}
	if !c.HungUpByPeer() {
		t.Error("the caller's call ended, but not by Kefu's BYE")
	}
	k.idle()
	waitFor(t, 10*time.Second, "agent 1001 free again", func() bool { return k.agent("1001").State == routing.AgentReady })
	if code, body := k.setState("1001", "not_ready"); code != 200 {
		t.Fatalf("set not ready: %d %s", code, body)
	}
}

// issueAt is an issue line of direct.yaml: file:line:col: message.
var issueAt = regexp.MustCompile(`direct\.yaml:\d+:\d+: `)

// TestFlowReloadWhileServing edits the flows of a running Kefu: a good edit
// goes live within seconds for new calls while a call in progress finishes
// on the flow it started with; a broken edit is reported on /api/flows and
// by POST /api/flows/reload while calls keep being served on the last good
// set; a rollback over the API re-activates an earlier version.
func TestFlowReloadWhileServing(t *testing.T) {
	dir := copyFlows(t)
	k := startKefuFlows(t, "", dir)
	v1 := k.flows()
	if v1.Version == "" || v1.Reason != "start" || len(v1.Flows) < 2 || v1.LastError != nil {
		t.Fatalf("GET /api/flows at start = %+v", v1)
	}
	entered := func(node string) float64 {
		return metric(t, k.http, "kefu_ivr_node_entered_total", `flow="direct"`, `node="`+node+`"`)
	}

	// Call A waits in the billing queue (10087 queues before answering):
	// the agent is registered but not ready.
	agent := k.phone("1001", "pw1001", testphone.Options{Fill: 0x37})
	caller := k.phone("13900000009", "", testphone.Options{Fill: 0x42})
	callsA, errsA := caller.DialNoWait(context.Background(), k.sip, "10087")
	waitFor(t, 5*time.Second, "call A to be queued", func() bool {
		qs, _ := k.app.router.Calls(context.Background())
		return len(qs) == 1
	})

	// A good edit: after an agent, say sorry instead of hanging up at once.
	editFlow(t, dir, "direct.yaml", "after_agent: done", "after_agent: sorry_busy")
	v2 := k.waitFlows("the edit to go live", func(st reload.Status) bool { return st.Version != v1.Version })
	if v2.LastReload == nil || v2.LastReload.Result != reload.ResultOK || !strings.Contains(v2.Reason, "direct.yaml") {
		t.Errorf("after the edit: reason %q, last reload %+v", v2.Reason, v2.LastReload)
	}
	if len(v2.History) == 0 || v2.History[0].Version != v1.Version {
		t.Errorf("history %+v, want %s kept", v2.History, v1.Version)
	}

	// Call A finishes on the version it started with: straight to "done".
	servedByAgent(t, k, agent, callsA, errsA)
	if done, sorry := entered("done"), entered("sorry_busy"); done != 1 || sorry != 0 {
		t.Errorf("call A entered done %v times and sorry_busy %v times, want 1 and 0 (its own version)", done, sorry)
	}

	// A broken edit: reported, not activated.
	editFlow(t, dir, "direct.yaml", "next: goodbye", "next: nowhere")
	broken := k.waitFlows("the broken edit to be reported", func(st reload.Status) bool { return st.LastError != nil })
	if broken.Version != v2.Version || broken.Failures != 1 {
		t.Errorf("after the broken edit: version %s (want %s kept), failures %d", broken.Version, v2.Version, broken.Failures)
	}
	if issues := strings.Join(broken.LastError.Issues, "\n"); !issueAt.MatchString(issues) || !strings.Contains(issues, "nowhere") {
		t.Errorf("issues %q, want direct.yaml:line:col about nowhere", broken.LastError.Issues)
	}
	res, err := apiPost(k.http+"/api/flows/reload", "application/json", strings.NewReader(`{"reason":"test"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusUnprocessableEntity || !issueAt.Match(body) || !strings.Contains(string(body), "keeps serving") {
		t.Errorf("POST /api/flows/reload with a broken file = %d %s", res.StatusCode, body)
	}

	// Call B, while the files are broken, is served on the last good set
	// (the edited version: sorry_busy after the agent).
	callsB, errsB := caller.DialNoWait(context.Background(), k.sip, "10087")
	waitFor(t, 5*time.Second, "call B to be queued", func() bool {
		qs, _ := k.app.router.Calls(context.Background())
		return len(qs) == 1
	})
	servedByAgent(t, k, agent, callsB, errsB)
	if done, sorry := entered("done"), entered("sorry_busy"); done != 1 || sorry != 1 {
		t.Errorf("after call B: done %v, sorry_busy %v, want 1 and 1 (the new version)", done, sorry)
	}

	// Rollback over the API, then a fix on disk brings the new flows back.
	res, err = apiPost(k.http+"/api/flows/rollback", "application/json", strings.NewReader(`{"version":"`+v1.Version+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var rolled reload.Status
	if err := json.NewDecoder(res.Body).Decode(&rolled); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || rolled.Version != v1.Version || rolled.Reason != "rollback" {
		t.Errorf("POST /api/flows/rollback = %d %+v", res.StatusCode, rolled)
	}
	editFlow(t, dir, "direct.yaml", "next: nowhere", "next: goodbye")
	fixed := k.waitFlows("the fix to go live", func(st reload.Status) bool { return st.Version == v2.Version })
	if fixed.LastError != nil {
		t.Errorf("after the fix: last error %+v", fixed.LastError)
	}
	if got := metric(t, k.http, "kefu_flow_set_info", `version="`+v2.Version+`"`); got != 1 {
		t.Errorf("kefu_flow_set_info{version=%q} = %v, want 1", v2.Version, got)
	}
	if got := metric(t, k.http, "kefu_flow_reloads_total", `result="failed"`); got < 2 {
		t.Errorf("kefu_flow_reloads_total{result=failed} = %v, want at least 2 (the watcher's and the API's)", got)
	}
}

// TestSIGHUPReloads runs the kefu binary and sends it SIGHUP: the flows are
// reloaded (unchanged here) and the server keeps running.
func TestSIGHUPReloads(t *testing.T) {
	dir := copyFlows(t)
	k := startKefuProcessFlows(t, dir)
	var before reload.Status
	k.get(t, "/api/flows", &before)
	for i := range 2 {
		if err := k.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		var st reload.Status
		waitFor(t, 10*time.Second, "the SIGHUP reload", func() bool {
			k.get(t, "/api/flows", &st)
			return st.Reloads == i+1
		})
		if st.LastReload == nil || st.LastReload.Reason != "SIGHUP" || st.LastReload.Result != reload.ResultUnchanged || st.Version != before.Version {
			t.Errorf("after SIGHUP %d: %+v", i+1, st.LastReload)
		}
	}
	select {
	case <-k.done:
		t.Fatalf("kefu exited on SIGHUP: %v", k.err)
	default:
	}
	if !strings.Contains(k.log.String(), "flows reloaded: unchanged") {
		t.Errorf("no reload line in the log:\n%s", k.log.String())
	}
}
