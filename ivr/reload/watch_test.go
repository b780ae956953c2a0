package reload

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestDebounce checks the batching on a fake clock: when a batch fires and
// with which names.
func TestDebounce(t *testing.T) {
	const quiet, longest = 250 * time.Millisecond, time.Second
	type change struct {
		after time.Duration // since the previous change
		name  string
	}
	type firing struct {
		at    time.Duration // since the start
		names []string
	}
	burst := func(n int, gap time.Duration, name string) []change {
		out := make([]change, n)
		for i := range out {
			out[i] = change{gap, name}
		}
		out[0].after = 0
		return out
	}
	for _, tc := range []struct {
		name    string
		changes []change
		want    []firing
	}{
		{"one change", []change{{0, "main.yaml"}}, []firing{{quiet, []string{"main.yaml"}}}},
		{"20 quick writes are one reload", burst(20, time.Millisecond, "main.yaml"),
			[]firing{{19*time.Millisecond + quiet, []string{"main.yaml"}}}},
		{"editor write-rename", []change{{0, ".main.yaml.tmp"}, {time.Millisecond, "main.yaml"}, {time.Millisecond, "main.yaml"}},
			[]firing{{2*time.Millisecond + quiet, []string{".main.yaml.tmp", "main.yaml"}}}},
		{"two edits apart", []change{{0, "a.yaml"}, {2 * time.Second, "b.yaml"}},
			[]firing{{quiet, []string{"a.yaml"}}, {2*time.Second + quiet, []string{"b.yaml"}}}},
		// Changes every 90 ms from 0 to 3.51 s: batches start at 0, 1.08,
		// 2.16 and 3.24 s; the last one ends 250 ms after the last change.
		{"a stream that never pauses fires at the longest wait", burst(40, 90*time.Millisecond, "log.txt"),
			[]firing{
				{longest, []string{"log.txt"}},
				{1080*time.Millisecond + longest, []string{"log.txt"}},
				{2160*time.Millisecond + longest, []string{"log.txt"}},
				{3510*time.Millisecond + quiet, []string{"log.txt"}},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				start := time.Now()
				changes := make(chan string)
				var got []firing
				done := make(chan struct{})
				go func() {
					defer close(done)
					debounce(ctx, changes, quiet, longest, func(names []string) {
						got = append(got, firing{time.Since(start), names})
					})
				}()
				for _, c := range tc.changes {
					time.Sleep(c.after)
					changes <- c.name
				}
				time.Sleep(time.Hour) // every batch fires
				cancel()
				<-done
				if len(got) != len(tc.want) {
					t.Fatalf("fired %d times: %v, want %v", len(got), got, tc.want)
				}
				for i := range got {
					if got[i].at != tc.want[i].at || !slices.Equal(got[i].names, tc.want[i].names) {
						t.Errorf("firing %d: %v, want %v", i, got[i], tc.want[i])
					}
				}
			})
		})
	}
}

func TestIgnored(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"main.yaml", false},
		{"welcome.wav", false},
		{"..data", false}, // Kubernetes ConfigMap swaps: must reload
		{".main.yaml.swp", true},
		{".main.yaml.swx", true},
		{"main.yaml~", true},
		{".#main.yaml", true},
		{"#main.yaml#", true},
		{"4913", true},
		{"main.yaml___jb_tmp___", true},
	} {
		if got := ignored(tc.name); got != tc.want {
			t.Errorf("ignored(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// watched is a Reloader under Watch with its reloads on a channel.
type watched struct {
	r       *Reloader
	dir     string
	reloads chan Status
}

// bound only stops a broken test from hanging; the debounce timing itself
// is checked on a fake clock in TestDebounce.
const bound = 10 * time.Second

func startWatch(t *testing.T) *watched {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "main.yaml", fmt.Sprintf(flowYAML, "start"))
	writeFile(t, dir, "prompts/welcome.wav", "RIFF")
	w := &watched{dir: dir, reloads: make(chan Status, 100)}
	w.r = newReloader(t, dir, Config{Now: time.Now, OnReload: func(st Status) { w.reloads <- st }})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var err error
	wg.Go(func() { err = w.r.Watch(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if err != nil {
			t.Errorf("Watch: %v", err)
		}
	})
	// Watch is ready once it has added its watches; a change made before
	// would be missed, so wait for a probe to come through.
	deadline := time.After(bound)
	for i := 0; ; i++ {
		writeFile(t, dir, "probe.txt", fmt.Sprint(i))
		select {
		case st := <-w.reloads:
			if !strings.Contains(st.LastReload.Reason, "probe.txt") {
				t.Fatalf("first reload %+v, want one for probe.txt", st.LastReload)
			}
			return w
		case <-time.After(time.Second): // the probe came before the watch: again
		case <-deadline:
			t.Fatal("Watch never reloaded")
		}
	}
}

// next waits for the next reload.
func (w *watched) next(t *testing.T) Status {
	t.Helper()
	select {
	case st := <-w.reloads:
		return st
	case <-time.After(bound):
		t.Fatal("no reload after a change")
		return Status{}
	}
}

// until waits for a reload whose reason mentions name, returning it and the
// reloads before it.
func (w *watched) until(t *testing.T, name string) (Status, []Status) {
	t.Helper()
	var before []Status
	for {
		st := w.next(t)
		if strings.Contains(st.LastReload.Reason, name) {
			return st, before
		}
		before = append(before, st)
	}
}

func TestWatchEdit(t *testing.T) {
	t.Parallel()
	w := startWatch(t)
	v0 := w.r.Current().Version()
	writeFile(t, w.dir, "main.yaml", fmt.Sprintf(flowYAML, "edited"))
	st, _ := w.until(t, "main.yaml")
	if st.LastReload.Result != ResultOK || st.Version == v0 || w.r.Current().Version() != st.Version {
		t.Fatalf("after an edit: %+v", st.LastReload)
	}
	if st.Reason != "file change: main.yaml" {
		t.Errorf("reason %q", st.Reason)
	}

	// A broken edit keeps the version; fixing it brings a new one.
	writeFile(t, w.dir, "main.yaml", brokenYAML)
	bad, _ := w.until(t, "main.yaml")
	if bad.LastReload.Result != ResultFailed || bad.Version != st.Version || bad.LastError == nil ||
		!strings.Contains(bad.LastError.Issues[0], "main.yaml:8:11: ") {
		t.Fatalf("after a broken edit: %+v %+v", bad.LastReload, bad.LastError)
	}
	writeFile(t, w.dir, "main.yaml", fmt.Sprintf(flowYAML, "fixed"))
	fixed, _ := w.until(t, "main.yaml")
	if fixed.LastReload.Result != ResultOK || fixed.Version == st.Version || fixed.LastError != nil {
		t.Fatalf("after the fix: %+v %+v", fixed.LastReload, fixed.LastError)
	}
}

// TestWatchQuickWrites: 20 writes in a row are at most two reloads (one,
// unless the debounce timer happens to fire in the middle), and the last
// content wins.
func TestWatchQuickWrites(t *testing.T) {
	t.Parallel()
	w := startWatch(t)
	for i := range 20 {
		writeFile(t, w.dir, "main.yaml", fmt.Sprintf(flowYAML, fmt.Sprintf("write %d", i)))
	}
	// A later change in another file marks the end: every event of the
	// writes has been handled by the time its reload comes.
	first := w.next(t)
	writeFile(t, w.dir, "sentinel.txt", "end")
	last, between := w.until(t, "sentinel.txt")
	all := append([]Status{first}, between...)
	all = append(all, last)
	n := 0
	for _, st := range all {
		if strings.Contains(st.LastReload.Reason, "main.yaml") {
			n++
		}
	}
	if n < 1 || n > 2 {
		var reasons []string
		for _, st := range all {
			reasons = append(reasons, st.LastReload.Reason)
		}
		t.Errorf("20 quick writes gave %d reloads, want 1 or 2: %q", n, reasons)
	}
	f, _ := w.r.Current().Flow("main")
	if f.Description != "write 19" {
		t.Errorf("active flow says %q, want the last write", f.Description)
	}
}

func TestWatchSubdirectories(t *testing.T) {
	t.Parallel()
	w := startWatch(t)
	for _, tc := range []struct {
		name, file string
	}{
		{"existing prompts directory", "prompts/goodbye.wav"},
		{"new directory", "tests/main.test.yaml"},
		{"new nested directory", "tests/more/deep.txt"},
		{"file in a directory created earlier", "tests/second.test.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeFile(t, w.dir, tc.file, "x")
			st, _ := w.until(t, tc.file)
			if st.LastReload.Result != ResultUnchanged {
				t.Errorf("reload for %s: %+v %+v", tc.file, st.LastReload, st.LastError)
			}
		})
	}
}

func TestWatchIgnoresEditorFiles(t *testing.T) {
	t.Parallel()
	w := startWatch(t)
	for _, name := range []string{".main.yaml.swp", "main.yaml~", ".#main.yaml", "4913"} {
		writeFile(t, w.dir, name, "x")
	}
	// Each temporary file above came before this change; none may show.
	writeFile(t, w.dir, "main.yaml", fmt.Sprintf(flowYAML, "real"))
	st, before := w.until(t, "main.yaml")
	for _, s := range append(before, st) {
		if r := s.LastReload.Reason; strings.Contains(r, "swp") || strings.Contains(r, "~") || strings.Contains(r, "#") || strings.Contains(r, "4913") {
			t.Errorf("reload for an editor file: %q", r)
		}
	}
	for _, s := range before {
		if !strings.Contains(s.LastReload.Reason, "probe.txt") {
			t.Errorf("reload before the real change: %q", s.LastReload.Reason)
		}
	}
}

// TestWatchStops: Watch returns when its context ends and fails when the
// directory cannot be watched.
func TestWatchStops(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.yaml", fmt.Sprintf(flowYAML, "x"))
	r := newReloader(t, dir, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Watch(ctx); err != nil {
		t.Errorf("Watch with an ended context: %v", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := r.Watch(context.Background()); err == nil || !strings.Contains(err.Error(), filepath.Base(dir)) {
		t.Errorf("Watch on a missing directory: %v", err)
	}
}
