// Package reload keeps a running server's IVR flow set current: it loads the
// flows directory as one set, swaps the active set atomically when a reload
// succeeds, keeps the previous set serving when it fails (recording every
// issue as file:line:col), keeps the last few good sets for rollback, and
// watches the directory so that a saved edit goes live within seconds.
//
// Calls pin the flow they start with: the server picks Current() once at
// the start of each call and runs the *ivr.Flow it got until the call ends.
// A Flow is immutable, so a reload never changes a call in progress; the old
// set is freed when its last call ends.
package reload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"kefu/ivr"
)

// DefaultKeep is how many previous good sets are kept for rollback when
// Config.Keep is 0.
const DefaultKeep = 5

// DefaultDebounce is how long Watch waits after the last change in the
// directory before it reloads, when Config.Debounce is 0.
const DefaultDebounce = 250 * time.Millisecond

// ErrNotKept is wrapped by the error Rollback returns for a version that is
// neither active nor kept.
var ErrNotKept = errors.New("flow set version not kept")

// Config configures a Reloader.
type Config struct {
	// Dir is the flows directory: Watch watches it and its subdirectories
	// (prompts/, tests/, …). Required.
	Dir string
	// Load loads and validates the whole directory as one set. The server
	// passes a closure calling ivr.Load with its options, so that what the
	// options hold (the prompt catalogue, the queues) is refreshed on every
	// reload too. Default nil: ivr.Load(Dir, ivr.LoadOptions{}), which
	// checks neither prompts nor queues.
	Load func() (*ivr.Set, error)
	// Keep is how many previous good sets are kept for Rollback. Default 0
	// means DefaultKeep (5); negative is an error.
	Keep int
	// Debounce is how long Watch waits after the last change before it
	// reloads, so that an editor's write-and-rename is one reload. A stream
	// of changes that never pauses is reloaded at the latest 4×Debounce
	// after its first change. Default 0 means DefaultDebounce (250 ms).
	Debounce time.Duration
	// Logger gets one line per reload outcome: Info with the version, the
	// number of flows and each warning on success; one Error line per
	// issue, saying which version keeps serving, on failure. Default nil:
	// nothing is logged.
	Logger *slog.Logger
	// OnActivate is called after each swap, with the set that has just
	// become active: the first load in New, each successful reload that
	// changes the version, and each rollback. It runs while reloads are held
	// back, so it may take its time (pre-rendering text-to-speech, for
	// example) but must not call Reload or Rollback. Calls already use the
	// set when it runs. Default nil.
	OnActivate func(*ivr.Set)
	// OnReload is called after each Reload, whatever its result, with the
	// status that Reload returns (Status.LastReload says how it went): for
	// metrics. Same rules as OnActivate. Default nil.
	OnReload func(Status)
	// Now is the clock for the times in Status. Default nil: time.Now.
	Now func() time.Time
}

// Result says how a reload or rollback went.
type Result string

// Results of a Reload or Rollback.
const (
	// ResultOK: the directory loaded with a new version, which is now active.
	ResultOK Result = "ok"
	// ResultUnchanged: the directory loaded with the version already active;
	// nothing was swapped.
	ResultUnchanged Result = "unchanged"
	// ResultFailed: the directory did not load; the active set keeps serving
	// and Status.LastError says why.
	ResultFailed Result = "failed"
	// ResultRollback: Rollback re-activated a kept version.
	ResultRollback Result = "rollback"
)

// Status is what the Reloader knows: the active set, the last reload, the
// last error and the kept sets. It is a copy; changing it changes nothing.
type Status struct {
	// Version is the active set's version (ivr.Set.Version).
	Version string `json:"version"`
	// LoadedAt is when the active set became active.
	LoadedAt time.Time `json:"loaded_at"`
	// Reason is why it was activated: "start", "SIGHUP", "api",
	// "file change: main.yaml", "rollback", …
	Reason string `json:"reason"`
	// Flows are the active set's flows, by name.
	Flows []FlowInfo `json:"flows"`
	// Warnings are the active set's warnings, as file:line:col: warning: …
	Warnings []string `json:"warnings"`
	// LastReload is the last Reload or Rollback; nil before the first.
	LastReload *Attempt `json:"last_reload,omitempty"`
	// LastError is set while the directory does not load: the issues of the
	// last reload, which failed. The next successful reload (ok or
	// unchanged) clears it.
	LastError *Failure `json:"last_error,omitempty"`
	// Reloads counts Reload calls since the start (every result); Failures
	// counts those that failed.
	Reloads  int `json:"reloads"`
	Failures int `json:"failures"`
	// History lists the previous good sets kept for Rollback, newest first;
	// the active set is not in it.
	History []Kept `json:"history"`
}

// FlowInfo describes one flow of the active set.
type FlowInfo struct {
	// Name is the flow's name (ivr.Flow.Name).
	Name string `json:"name"`
	// Version is the flow's own version (ivr.Flow.Version).
	Version string `json:"version"`
	// File is the file it was loaded from.
	File string `json:"file"`
}

// Attempt is one Reload or Rollback.
type Attempt struct {
	// At is when it happened.
	At time.Time `json:"at"`
	// Reason is what asked for it.
	Reason string `json:"reason"`
	// Result is how it went.
	Result Result `json:"result"`
	// Version is the version that was active after it.
	Version string `json:"version"`
}

// Failure is a reload that failed.
type Failure struct {
	// At is when it failed.
	At time.Time `json:"at"`
	// Reason is what asked for the reload.
	Reason string `json:"reason"`
	// Issues are the problems found, one line each, as
	// file:line:col: message (warnings say "warning:").
	Issues []string `json:"issues"`
}

// Kept is a previous good set that Rollback can re-activate.
type Kept struct {
	// Version is the set's version, to give Rollback.
	Version string `json:"version"`
	// LoadedAt is when it was last activated.
	LoadedAt time.Time `json:"loaded_at"`
}

// Reloader holds the active flow set. Create it with New; it is safe for
// concurrent use.
type Reloader struct {
	cfg  Config
	log  *slog.Logger
	keep int

	cur atomic.Pointer[ivr.Set]

	// reloading serialises Reload and Rollback, hooks included.
	reloading sync.Mutex

	// mu guards the fields below; it is never held while loading or while
	// a hook runs, so Status answers at once.
	mu       sync.Mutex
	active   active
	kept     []active // newest first
	last     *Attempt
	lastErr  *Failure
	reloads  int
	failures int
}

// active is a set and what Status says about it.
type active struct {
	set      *ivr.Set
	loadedAt time.Time
	reason   string
	flows    []FlowInfo
	warnings []string
}

// New loads the flows once and returns a Reloader serving them. It fails
// when that load fails: a server must not start on broken flows.
func New(cfg Config) (*Reloader, error) {
	if cfg.Dir == "" {
		return nil, errors.New("reload: Config.Dir is empty: give the flows directory")
	}
	if cfg.Keep < 0 {
		return nil, fmt.Errorf("reload: Config.Keep is %d: give how many previous sets to keep (0 means %d)", cfg.Keep, DefaultKeep)
	}
	r := &Reloader{cfg: cfg, log: cfg.Logger, keep: cfg.Keep}
	if r.keep == 0 {
		r.keep = DefaultKeep
	}
	if r.cfg.Debounce <= 0 {
		r.cfg.Debounce = DefaultDebounce
	}
	if r.cfg.Now == nil {
		r.cfg.Now = time.Now
	}
	if r.cfg.Load == nil {
		dir := cfg.Dir
		r.cfg.Load = func() (*ivr.Set, error) { return ivr.Load(dir, ivr.LoadOptions{}) }
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	set, err := r.load()
	if err != nil {
		return nil, fmt.Errorf("reload: load %s: %w", cfg.Dir, err)
	}
	r.active = describe(set, r.cfg.Now(), "start")
	r.cur.Store(set)
	r.logLoaded(set, "start", "")
	if r.cfg.OnActivate != nil {
		r.cfg.OnActivate(set)
	}
	return r, nil
}

// Current returns the active set. It is one atomic load, cheap enough for
// every call; the caller keeps what it got for the whole call.
func (r *Reloader) Current() *ivr.Set { return r.cur.Load() }

// Reload loads the directory again as one set and, when it loads with a new
// version, makes it active (the previous one is kept for Rollback). When it
// loads with the active version nothing is swapped (result "unchanged").
// When it fails the active set keeps serving and the issues are recorded in
// Status.LastError. reason says what asked for the reload ("SIGHUP", "api",
// "file change: main.yaml"). The returned Status is the one right after
// this reload; its LastReload is this reload.
func (r *Reloader) Reload(reason string) Status {
	r.reloading.Lock()
	defer r.reloading.Unlock()

	set, err := r.load()
	now := r.cfg.Now()
	prev := r.cur.Load()

	r.mu.Lock()
	r.reloads++
	at := &Attempt{At: now, Reason: reason, Version: prev.Version()}
	switch {
	case err != nil:
		r.failures++
		at.Result = ResultFailed
		r.lastErr = &Failure{At: now, Reason: reason, Issues: issueLines(err)}
	case set.Version() == prev.Version():
		at.Result = ResultUnchanged
		r.lastErr = nil
	default:
		at.Result = ResultOK
		at.Version = set.Version()
		r.lastErr = nil
		r.activateLocked(describe(set, now, reason))
	}
	r.last = at
	st := r.statusLocked()
	r.mu.Unlock()

	switch at.Result {
	case ResultFailed:
		r.logFailed(err, reason, prev.Version())
	case ResultUnchanged:
		r.log.Info("flows reloaded: unchanged", "version", prev.Version(), "reason", reason)
	case ResultOK:
		r.logLoaded(set, reason, prev.Version())
		if r.cfg.OnActivate != nil {
			r.cfg.OnActivate(set)
		}
	}
	if r.cfg.OnReload != nil {
		r.cfg.OnReload(st)
	}
	return st
}

// Rollback re-activates a kept set (see Status.History) by its version.
// The active set is kept in its place, so a rollback can be undone the same
// way. Rolling back to the active version does nothing. A rollback lasts
// until the next reload: revert the files too, or the next change in the
// directory brings the newer flows back. An unknown version is an error
// wrapping ErrNotKept that lists the kept versions.
func (r *Reloader) Rollback(version string) error {
	r.reloading.Lock()
	defer r.reloading.Unlock()

	prev := r.cur.Load()
	if version == prev.Version() {
		return nil
	}
	r.mu.Lock()
	i := slices.IndexFunc(r.kept, func(a active) bool { return a.set.Version() == version })
	if i < 0 {
		kept := r.keptVersionsLocked()
		r.mu.Unlock()
		if len(kept) == 0 {
			return fmt.Errorf("reload: rollback to %q: %w: no earlier version is kept yet (active: %s)", version, ErrNotKept, prev.Version())
		}
		return fmt.Errorf("reload: rollback to %q: %w: choose one of %s (active: %s)", version, ErrNotKept, strings.Join(kept, ", "), prev.Version())
	}
	now := r.cfg.Now()
	a := r.kept[i]
	a.loadedAt, a.reason = now, "rollback"
	r.activateLocked(a)
	r.last = &Attempt{At: now, Reason: "rollback", Result: ResultRollback, Version: version}
	r.mu.Unlock()

	r.log.Warn("flows rolled back: the files in the directory are not this version; the next reload loads them again",
		"version", version, "previous", prev.Version(), "flows", len(a.flows))
	if r.cfg.OnActivate != nil {
		r.cfg.OnActivate(a.set)
	}
	return nil
}

// activateLocked makes a the active set and keeps the one it replaces.
func (r *Reloader) activateLocked(a active) {
	old := r.active
	r.kept = slices.DeleteFunc(r.kept, func(k active) bool {
		v := k.set.Version()
		return v == a.set.Version() || v == old.set.Version()
	})
	r.kept = slices.Insert(r.kept, 0, old)
	if len(r.kept) > r.keep {
		clear(r.kept[r.keep:]) // let the dropped sets go
		r.kept = r.kept[:r.keep]
	}
	r.active = a
	r.cur.Store(a.set)
}

// Status returns what the Reloader knows now.
func (r *Reloader) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.statusLocked()
}

func (r *Reloader) statusLocked() Status {
	st := Status{
		Version:  r.active.set.Version(),
		LoadedAt: r.active.loadedAt,
		Reason:   r.active.reason,
		Flows:    slices.Clone(r.active.flows),
		Warnings: slices.Clone(r.active.warnings),
		Reloads:  r.reloads,
		Failures: r.failures,
		History:  make([]Kept, 0, len(r.kept)),
	}
	if r.last != nil {
		last := *r.last
		st.LastReload = &last
	}
	if r.lastErr != nil {
		f := *r.lastErr
		f.Issues = slices.Clone(f.Issues)
		st.LastError = &f
	}
	for _, k := range r.kept {
		st.History = append(st.History, Kept{Version: k.set.Version(), LoadedAt: k.loadedAt})
	}
	return st
}

func (r *Reloader) keptVersionsLocked() []string {
	out := make([]string, len(r.kept))
	for i, k := range r.kept {
		out[i] = k.set.Version()
	}
	return out
}

// load runs the loader; a panic in it is an error, not the end of every
// call in progress.
func (r *Reloader) load() (set *ivr.Set, err error) {
	defer func() {
		if p := recover(); p != nil {
			set, err = nil, fmt.Errorf("the flow loader panicked: %v; this is a bug in Kefu: report it with the flow files", p)
		}
	}()
	set, err = r.cfg.Load()
	if err == nil && set == nil {
		err = errors.New("the flow loader returned no set and no error; this is a bug in Kefu")
	}
	return set, err
}

func (r *Reloader) logLoaded(set *ivr.Set, reason, previous string) {
	args := []any{"version", set.Version(), "flows", len(set.Names()), "warnings", len(set.Warnings()), "reason", reason}
	if previous != "" {
		args = append(args, "previous", previous)
	}
	r.log.Info("flows loaded", args...)
	for _, w := range set.Warnings() {
		r.log.Warn("flow warning", "issue", w.String(), "version", set.Version())
	}
}

func (r *Reloader) logFailed(err error, reason, keeping string) {
	msg := "flows not reloaded, keeping version " + keeping
	var le *ivr.LoadError
	if !errors.As(err, &le) {
		r.log.Error(msg, "err", err, "reason", reason)
		return
	}
	for _, is := range le.Issues {
		level := slog.LevelError
		if is.Severity == ivr.SeverityWarning {
			level = slog.LevelWarn
		}
		r.log.Log(context.Background(), level, msg, "issue", is.String(), "reason", reason)
	}
}

// describe builds what Status says about set.
func describe(set *ivr.Set, at time.Time, reason string) active {
	a := active{set: set, loadedAt: at, reason: reason, flows: []FlowInfo{}, warnings: []string{}}
	for _, name := range set.Names() {
		f, _ := set.Flow(name)
		a.flows = append(a.flows, FlowInfo{Name: name, Version: f.Version, File: f.File})
	}
	for _, w := range set.Warnings() {
		a.warnings = append(a.warnings, w.String())
	}
	return a
}

// issueLines turns a load error into one line per issue.
func issueLines(err error) []string {
	var le *ivr.LoadError
	if errors.As(err, &le) && len(le.Issues) > 0 {
		out := make([]string, len(le.Issues))
		for i, is := range le.Issues {
			out[i] = is.String()
		}
		return out
	}
	return strings.Split(err.Error(), "\n")
}
