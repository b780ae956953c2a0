package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kefu/ivr/reload"
	"kefu/sip/testphone"
)

// soakFlow is the flow the soak test's callers walk: a prompt, then Kefu
// hangs up. %d makes each reload a new version.
const soakFlow = `# soak edit %d
name: main
start: welcome
nodes:
  welcome:
    type: play
    prompt: welcome
    next: bye
  bye:
    type: hangup
    reason: soak
`

// TestReloadSoak reloads the flows 100 times, each time a new version,
// while callers keep calling: no call is dropped (every one is answered,
// walks its flow to the hangup node and is hung up by Kefu), and no reload
// fails.
func TestReloadSoak(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"direct.yaml"} {
		b, err := os.ReadFile(filepath.Join(sampleFlows, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(sampleFlows, "prompts"), filepath.Join(dir, "prompts")); err != nil {
		t.Fatal(err)
	}
	write := func(i int) {
		if err := os.WriteFile(filepath.Join(dir, "main.yaml"), fmt.Appendf(nil, soakFlow, i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(0)
	k := startKefuFlows(t, "", dir)

	const reloads, callers = 100, 6
	var stop atomic.Bool
	var calls, dropped atomic.Int64
	var wg sync.WaitGroup
	for i := range callers {
		p := k.phone(fmt.Sprintf("1390000%04d", i), "", testphone.Options{})
		wg.Go(func() {
			for !stop.Load() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				c, err := p.Dial(ctx, k.sip, "10086")
				cancel()
				calls.Add(1)
				if err != nil {
					dropped.Add(1)
					t.Errorf("call not answered: %v", err)
					continue
				}
				select {
				case <-c.Done():
					if !c.HungUpByPeer() {
						dropped.Add(1)
						t.Error("call ended without Kefu's BYE")
					}
				case <-time.After(20 * time.Second):
					dropped.Add(1)
					t.Error("call did not end")
				}
			}
		})
	}
	versions := map[string]bool{}
	for i := 1; i <= reloads; i++ {
		write(i)
		// The directory watcher may have swapped the edit in already; then
		// this reload finds it unchanged. Either way the edit is live.
		st := k.app.flows.Reload(fmt.Sprintf("soak %d", i))
		if st.LastReload == nil || (st.LastReload.Result != reload.ResultOK && st.LastReload.Result != reload.ResultUnchanged) || st.LastError != nil {
			t.Fatalf("reload %d: %+v %+v", i, st.LastReload, st.LastError)
		}
		if versions[st.Version] {
			t.Fatalf("reload %d: version %s was already served before this edit", i, st.Version)
		}
		versions[st.Version] = true
		time.Sleep(100 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if len(versions) != reloads {
		t.Errorf("%d distinct versions after %d reloads", len(versions), reloads)
	}
	if calls.Load() < 2*callers || dropped.Load() != 0 {
		t.Errorf("%d calls, %d dropped", calls.Load(), dropped.Load())
	}
	// Every run reached the hangup node of the version it started on.
	ended := regexp.MustCompile(`msg="ivr run ended".*flow_version=(\w+) end=(\w+) node=(\w+)`).FindAllStringSubmatch(k.log.String(), -1)
	if int64(len(ended)) != calls.Load() {
		t.Errorf("%d runs ended in the log, %d calls made", len(ended), calls.Load())
	}
	seen := map[string]bool{}
	for _, m := range ended {
		if m[2] != "hangup" || m[3] != "bye" {
			t.Errorf("a run ended %s in %s", m[2], m[3])
		}
		seen[m[1]] = true
	}
	t.Logf("%d calls over %d reloads, served on %d versions; none dropped", calls.Load(), reloads, len(seen))
	k.idle()
}
