package reload

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kefu/ivr"
)

// flowYAML is a small valid flow; %s is its description, so that each
// description gives another version.
const flowYAML = `name: main
description: %s
start: hello
nodes:
  hello:
    type: play
    prompt: welcome
    next: bye
  bye:
    type: hangup
    reason: normal
`

// brokenYAML names a node that does not exist (line 8, column 11).
const brokenYAML = `name: main
description: broken
start: hello
nodes:
  hello:
    type: play
    prompt: welcome
    next: nowhere
  bye:
    type: hangup
`

func writeFile(t testing.TB, dir, name, content string) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// clock is a fake clock that moves one second per reading.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func newReloader(t *testing.T, dir string, cfg Config) *Reloader {
	t.Helper()
	cfg.Dir = dir
	if cfg.Now == nil {
		cfg.Now = (&clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}).Now
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

// issueAt matches an issue line that starts with file:line:col.
var issueAt = regexp.MustCompile(`^.+\.yaml:\d+:\d+: `)

func TestReloadSequence(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.yaml", fmt.Sprintf(flowYAML, "one"))
	var activated []string
	r := newReloader(t, dir, Config{OnActivate: func(s *ivr.Set) { activated = append(activated, s.Version()) }})
	start := r.Status()
	if start.Reason != "start" || start.Version == "" || len(start.Flows) != 1 || start.LastReload != nil || start.LastError != nil {
		t.Fatalf("status after New = %+v", start)
	}

	steps := []struct {
		name   string
		write  map[string]string // file → content; "" removes
		result Result
		// changed: the version differs from the one before the step.
		changed   bool
		flows     []string
		issue     string // substring of an issue, for failed steps
		failures  int
		keptCount int
	}{
		{"good edit", map[string]string{"main.yaml": fmt.Sprintf(flowYAML, "two")}, ResultOK, true, []string{"main"}, "", 0, 1},
		{"same content", map[string]string{"main.yaml": fmt.Sprintf(flowYAML, "two")}, ResultUnchanged, false, []string{"main"}, "", 0, 1},
		{"non-flow file", map[string]string{"notes.txt": "hello"}, ResultUnchanged, false, []string{"main"}, "", 0, 1},
		{"broken edit", map[string]string{"main.yaml": brokenYAML}, ResultFailed, false, []string{"main"}, `main.yaml:8:11: `, 1, 1},
		{"still broken", map[string]string{"other.yaml": strings.Replace(fmt.Sprintf(flowYAML, "x"), "name: main", "name: other", 1)}, ResultFailed, false, []string{"main"}, `nowhere`, 2, 1},
		{"fix", map[string]string{"main.yaml": fmt.Sprintf(flowYAML, "three")}, ResultOK, true, []string{"main", "other"}, "", 2, 2},
		{"remove a flow", map[string]string{"other.yaml": ""}, ResultOK, true, []string{"main"}, "", 2, 3},
		{"remove every flow", map[string]string{"main.yaml": ""}, ResultFailed, false, []string{"main"}, "no flow files", 3, 3},
	}
	wantActivated := []string{start.Version}
	for i, st := range steps {
		before := r.Status()
		for name, content := range st.write {
			if content == "" {
				if err := os.Remove(filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
				continue
			}
			writeFile(t, dir, name, content)
		}
		got := r.Reload(st.name)
		if got.LastReload == nil || got.LastReload.Result != st.result || got.LastReload.Reason != st.name {
			t.Fatalf("step %q: last reload %+v, want result %s", st.name, got.LastReload, st.result)
		}
		if got.LastReload.Version != got.Version {
			t.Errorf("step %q: last reload names version %s, active is %s", st.name, got.LastReload.Version, got.Version)
		}
		if changed := got.Version != before.Version; changed != st.changed {
			t.Errorf("step %q: version %s → %s, want changed=%v", st.name, before.Version, got.Version, st.changed)
		}
		if r.Current().Version() != got.Version {
			t.Errorf("step %q: Current() is %s, status says %s", st.name, r.Current().Version(), got.Version)
		}
		var names []string
		for _, f := range got.Flows {
			names = append(names, f.Name)
			if f.Version == "" || !strings.HasSuffix(f.File, f.Name+".yaml") {
				t.Errorf("step %q: flow %+v", st.name, f)
			}
		}
		if !slices.Equal(names, st.flows) {
			t.Errorf("step %q: flows %v, want %v", st.name, names, st.flows)
		}
		if got.Reloads != i+1 || got.Failures != st.failures {
			t.Errorf("step %q: reloads %d failures %d, want %d and %d", st.name, got.Reloads, got.Failures, i+1, st.failures)
		}
		if len(got.History) != st.keptCount {
			t.Errorf("step %q: %d kept sets, want %d: %+v", st.name, len(got.History), st.keptCount, got.History)
		}
		switch {
		case st.result == ResultFailed:
			if got.LastError == nil || got.LastError.Reason != st.name {
				t.Fatalf("step %q: last error %+v", st.name, got.LastError)
			}
			joined := strings.Join(got.LastError.Issues, "\n")
			if !strings.Contains(joined, st.issue) {
				t.Errorf("step %q: issues %q, want one containing %q", st.name, got.LastError.Issues, st.issue)
			}
			if st.name == "broken edit" && !issueAt.MatchString(got.LastError.Issues[0]) {
				t.Errorf("step %q: issue %q is not file:line:col: …", st.name, got.LastError.Issues[0])
			}
		case got.LastError != nil:
			t.Errorf("step %q: last error %+v after a good load, want none", st.name, got.LastError)
		}
		if st.changed {
			wantActivated = append(wantActivated, got.Version)
			if got.Reason != st.name || !got.LoadedAt.After(before.LoadedAt) {
				t.Errorf("step %q: active reason %q loaded at %v (before %v)", st.name, got.Reason, got.LoadedAt, before.LoadedAt)
			}
			if got.History[0].Version != before.Version {
				t.Errorf("step %q: newest kept set %s, want the previous active %s", st.name, got.History[0].Version, before.Version)
			}
		} else if got.Reason != before.Reason || !got.LoadedAt.Equal(before.LoadedAt) {
			t.Errorf("step %q: active set's reason/loaded_at changed without a swap: %q %v → %q %v",
				st.name, before.Reason, before.LoadedAt, got.Reason, got.LoadedAt)
		}
		if got := r.Status(); got.Version != r.Current().Version() || got.Reloads != i+1 {
			t.Errorf("step %q: Status() disagrees with Reload's result: %+v", st.name, got)
		}
	}
	// OnActivate ran for the first load and for each swap, in order.
	if !slices.Equal(activated, wantActivated) {
		t.Errorf("OnActivate got %v, want %v", activated, wantActivated)
	}
}

func TestNew(t *testing.T) {
	good := t.TempDir()
	writeFile(t, good, "main.yaml", fmt.Sprintf(flowYAML, "one"))
	broken := t.TempDir()
	writeFile(t, broken, "main.yaml", brokenYAML)
	for _, tc := range []struct {
		name string
		cfg  Config
		err  string // "" for success
	}{
		{"good", Config{Dir: good}, ""},
		{"broken flows", Config{Dir: broken}, "main.yaml:8:11: "},
		{"missing directory", Config{Dir: filepath.Join(good, "nope")}, "no such file"},
		{"no directory", Config{}, "give the flows directory"},
		{"negative keep", Config{Dir: good, Keep: -1}, "how many previous sets"},
		{"loader error", Config{Dir: good, Load: func() (*ivr.Set, error) { return nil, errors.New("catalogue gone") }}, "catalogue gone"},
		{"loader panics", Config{Dir: good, Load: func() (*ivr.Set, error) { panic("boom") }}, "panicked: boom"},
		{"loader returns nothing", Config{Dir: good, Load: func() (*ivr.Set, error) { return nil, nil }}, "no set and no error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(tc.cfg)
			if tc.err == "" {
				if err != nil || r.Current() == nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("New error %v, want it to contain %q", err, tc.err)
			}
		})
	}
}

// TestLoaderOptions: the loader the server passes decides what a set is
// checked against; a loader error is one issue per line.
func TestLoaderOptions(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.yaml", fmt.Sprintf(flowYAML, "one"))
	prompts := ivr.Names{"welcome"}
	var mu sync.Mutex
	load := func() (*ivr.Set, error) {
		mu.Lock()
		defer mu.Unlock()
		return ivr.Load(dir, ivr.LoadOptions{Prompts: prompts})
	}
	r := newReloader(t, dir, Config{Load: load})
	mu.Lock()
	prompts = ivr.Names{"hello"} // the catalogue lost "welcome"
	mu.Unlock()
	st := r.Reload("catalogue changed")
	if st.LastReload.Result != ResultFailed || st.LastError == nil || !strings.Contains(strings.Join(st.LastError.Issues, "\n"), `"welcome"`) {
		t.Errorf("reload after the prompt went away: %+v", st.LastError)
	}
}

func TestRollback(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.yaml", fmt.Sprintf(flowYAML, "v0"))
	var activated []string
	r := newReloader(t, dir, Config{Keep: 2, OnActivate: func(s *ivr.Set) { activated = append(activated, s.Version()) }})
	versions := []string{r.Current().Version()}
	for i := 1; i <= 3; i++ {
		writeFile(t, dir, "main.yaml", fmt.Sprintf(flowYAML, fmt.Sprintf("v%d", i)))
		st := r.Reload("edit")
		if st.LastReload.Result != ResultOK {
			t.Fatalf("edit %d: %+v", i, st.LastReload)
		}
		versions = append(versions, st.Version)
	}
	// Active v3; kept v2, v1 (Keep 2); v0 dropped.
	if h := r.Status().History; len(h) != 2 || h[0].Version != versions[2] || h[1].Version != versions[1] {
		t.Fatalf("history %+v, want %s, %s", h, versions[2], versions[1])
	}

	for _, tc := range []struct {
		name    string
		version string
		err     string // "" for success
		active  string
		kept    []string
	}{
		{"to the active version", versions[3], "", versions[3], []string{versions[2], versions[1]}},
		{"dropped version", versions[0], "choose one of " + versions[2] + ", " + versions[1], versions[3], []string{versions[2], versions[1]}},
		{"unknown", "nope", "not kept", versions[3], []string{versions[2], versions[1]}},
		{"to the oldest kept", versions[1], "", versions[1], []string{versions[3], versions[2]}},
		{"back again", versions[3], "", versions[3], []string{versions[1], versions[2]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := r.Rollback(tc.version)
			if tc.err == "" && err != nil {
				t.Fatalf("Rollback: %v", err)
			}
			if tc.err != "" && (err == nil || !errors.Is(err, ErrNotKept) || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("Rollback error %v, want ErrNotKept containing %q", err, tc.err)
			}
			st := r.Status()
			if st.Version != tc.active || r.Current().Version() != tc.active {
				t.Errorf("active %s (Current %s), want %s", st.Version, r.Current().Version(), tc.active)
			}
			var kept []string
			for _, h := range st.History {
				kept = append(kept, h.Version)
			}
			if !slices.Equal(kept, tc.kept) {
				t.Errorf("kept %v, want %v", kept, tc.kept)
			}
		})
	}
	st := r.Status()
	if st.Reason != "rollback" || st.LastReload == nil || st.LastReload.Result != ResultRollback {
		t.Errorf("after rollbacks: reason %q, last %+v", st.Reason, st.LastReload)
	}
	if got, want := activated[len(activated)-2:], []string{versions[1], versions[3]}; !slices.Equal(got, want) {
		t.Errorf("OnActivate for the rollbacks: %v, want %v", got, want)
	}
	// The directory still holds v3: reloading it is "unchanged", and after a
	// rollback to v2 it brings v3 back.
	if err := r.Rollback(versions[2]); err != nil {
		t.Fatal(err)
	}
	if st := r.Reload("after rollback"); st.LastReload.Result != ResultOK || st.Version != versions[3] {
		t.Errorf("reload after rollback: %+v", st.LastReload)
	}
}

// TestCallKeepsItsFlow: a call holds the *ivr.Flow it started with; a
// reload swaps the set for new calls only.
func TestCallKeepsItsFlow(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.yaml", fmt.Sprintf(flowYAML, "old"))
	r := newReloader(t, dir, Config{})
	inCall, ok := r.Current().Flow("main")
	if !ok {
		t.Fatal("no main flow")
	}
	oldVersion := inCall.Version

	writeFile(t, dir, "main.yaml", strings.Replace(fmt.Sprintf(flowYAML, "new"), "next: bye", "next: farewell", 1)+
		"  farewell:\n    type: hangup\n")
	if st := r.Reload("edit"); st.LastReload.Result != ResultOK {
		t.Fatalf("reload: %+v", st)
	}
	newFlow, _ := r.Current().Flow("main")
	if newFlow == inCall || newFlow.Version == oldVersion {
		t.Fatal("reload did not give new calls a new flow")
	}
	hello, _ := inCall.Node("hello")
	if inCall.Version != oldVersion || inCall.Description != "old" || hello.Exits[0].Target != "bye" {
		t.Errorf("the call's flow changed under it: version %s description %q hello→%s", inCall.Version, inCall.Description, hello.Exits[0].Target)
	}
	if _, ok := inCall.Node("farewell"); ok {
		t.Error("the call's flow grew the new node")
	}
	if h, _ := newFlow.Node("hello"); h.Exits[0].Target != "farewell" {
		t.Errorf("new flow's hello goes to %s", h.Exits[0].Target)
	}
}

// TestConcurrentUse runs calls picking Current() and readers of Status
// against reloads and rollbacks, for the race detector.
func TestConcurrentUse(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.yaml", fmt.Sprintf(flowYAML, "v0"))
	r := newReloader(t, dir, Config{Now: time.Now})
	first := r.Current().Version()
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				set := r.Current()
				f, ok := set.Flow("main")
				if !ok || f.Start != "hello" {
					t.Error("a call found no usable main flow")
					return
				}
				_ = r.Status()
			}
		})
	}
	for i := 1; i <= 20; i++ {
		if i%5 == 0 {
			writeFile(t, dir, "main.yaml", brokenYAML)
		} else {
			writeFile(t, dir, "main.yaml", fmt.Sprintf(flowYAML, fmt.Sprintf("v%d", i)))
		}
		r.Reload("edit")
		if i%7 == 0 {
			_ = r.Rollback(first) // may have been dropped already
		}
	}
	close(done)
	wg.Wait()
	if st := r.Status(); st.Reloads != 20 || st.Failures != 4 {
		t.Errorf("reloads %d failures %d, want 20 and 4", st.Reloads, st.Failures)
	}
}

func TestOnReload(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.yaml", fmt.Sprintf(flowYAML, "one"))
	var got []Result
	var r *Reloader
	r = newReloader(t, dir, Config{OnReload: func(st Status) {
		got = append(got, st.LastReload.Result)
		if r.Status().Version != st.Version { // hooks may read the status
			t.Errorf("hook: Status() %s, given %s", r.Status().Version, st.Version)
		}
	}})
	r.Reload("same")
	writeFile(t, dir, "main.yaml", brokenYAML)
	r.Reload("broken")
	writeFile(t, dir, "main.yaml", fmt.Sprintf(flowYAML, "two"))
	r.Reload("fixed")
	if want := []Result{ResultUnchanged, ResultFailed, ResultOK}; !slices.Equal(got, want) {
		t.Errorf("OnReload results %v, want %v", got, want)
	}
}
