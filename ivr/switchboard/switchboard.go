// Package switchboard keeps the switches operations turn on and off while
// Kefu runs — announcements ("announce.<name>") and emergency closures of
// calendars ("emergency.<calendar>") — and persists them in a JSON file so
// they survive a restart. A *Board implements ivr.Switches.
//
// A switch that operations have not set has no state here: the flow files'
// default (an announcement's active:, a calendar's emergency:) applies.
// Set records the state with who set it and when; Clear goes back to the
// default.
//
// Every change is written to the file before it takes effect, atomically
// (a temporary file in the same directory, flushed to disk, renamed over
// the old one), so a crash leaves either the old or the new state, never a
// half-written file. The file is read once, by Open: one process should
// have one Board per file.
package switchboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Switch is the state of one switch operations have set.
type Switch struct {
	// Name is the switch's name: "announce.<name>" or "emergency.<calendar>".
	Name string `json:"name"`
	// On is the state operations set.
	On bool `json:"on"`
	// By says who set it (a user name, "api:<token id>", …).
	By string `json:"by"`
	// At is when it was set.
	At time.Time `json:"at"`
}

// ErrBadName is returned (wrapped) by Set and Clear for a name that is not
// a switch name; an HTTP API answers it with 400.
var ErrBadName = errors.New("not a switch name")

// ErrBadBy is returned (wrapped) by Set when by does not say who sets the
// switch; an HTTP API answers it with 400.
var ErrBadBy = errors.New("who sets the switch is missing or not valid")

// fileVersion is the version of the file format; Open refuses others.
const fileVersion = 1

// file is the JSON file's content.
type file struct {
	Version  int      `json:"version"`
	Switches []Switch `json:"switches"`
}

// Board holds the switches. Its methods are safe for concurrent use.
type Board struct {
	path string // "" keeps the state in memory only

	mu    sync.RWMutex
	state map[string]Switch
}

// Open returns the board stored at path, reading the file if it exists (a
// missing file is a board with no switch set; the file is created on the
// first change). An empty path keeps the state in memory only. A file that
// cannot be read as a switch file is an error: Open never starts with every
// switch silently back at its default.
func Open(path string) (*Board, error) {
	b := &Board{path: path, state: map[string]Switch{}}
	if path == "" {
		return b, nil
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("switchboard: state file %s: %w; create the directory or choose another path", path, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("switchboard: state file %s: %s is not a directory; choose another path", path, dir)
	}
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return nil, fmt.Errorf("switchboard: read state file %s: %w; check its permissions", path, err)
	}
	if len(bytes.TrimSpace(src)) == 0 {
		return b, nil
	}
	if err := b.decode(src); err != nil {
		return nil, fmt.Errorf("switchboard: state file %s is not valid (%w); fix it or delete it to start with every switch at its flow-file default", path, err)
	}
	return b, nil
}

// decode reads a state file into b.state.
func (b *Board) decode(src []byte) error {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("JSON: %w", err)
	}
	if dec.More() {
		return errors.New("JSON: more data after the state object")
	}
	if f.Version != fileVersion {
		return fmt.Errorf("version %d, this Kefu reads version %d", f.Version, fileVersion)
	}
	for _, sw := range f.Switches {
		if err := checkName(sw.Name); err != nil {
			return err
		}
		if _, dup := b.state[sw.Name]; dup {
			return fmt.Errorf("switch %q is listed twice", sw.Name)
		}
		b.state[sw.Name] = sw
	}
	return nil
}

// State returns a switch's state; set is false when operations have not
// set it (or cleared it). It implements ivr.Switches.
func (b *Board) State(name string) (on, set bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	sw, set := b.state[name]
	return sw.On, set
}

// Set turns a switch on or off; by says who (kept with the time, shown by
// List). The change is saved before it takes effect: on error the board is
// unchanged.
func (b *Board) Set(name string, on bool, by string) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("switchboard: set: %w", err)
	}
	if err := checkBy(by); err != nil {
		return fmt.Errorf("switchboard: set %s: %w", name, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	next := maps.Clone(b.state)
	next[name] = Switch{Name: name, On: on, By: by, At: time.Now().UTC().Round(0)}
	if err := b.save(next); err != nil {
		return fmt.Errorf("switchboard: set %s: %w", name, err)
	}
	b.state = next
	return nil
}

// Clear puts a switch back to its flow-file default. Clearing a switch that
// is not set does nothing.
func (b *Board) Clear(name string) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("switchboard: clear: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, set := b.state[name]; !set {
		return nil
	}
	next := maps.Clone(b.state)
	delete(next, name)
	if err := b.save(next); err != nil {
		return fmt.Errorf("switchboard: clear %s: %w", name, err)
	}
	b.state = next
	return nil
}

// List returns the switches operations have set, sorted by name.
func (b *Board) List() []Switch {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return sorted(b.state)
}

func sorted(state map[string]Switch) []Switch {
	out := make([]Switch, 0, len(state))
	for _, name := range slices.Sorted(maps.Keys(state)) {
		out = append(out, state[name])
	}
	return out
}

// save writes state to the file atomically: a temporary file in the same
// directory, flushed, renamed over the old file, and the directory flushed
// so the rename survives a crash.
func (b *Board) save(state map[string]Switch) (err error) {
	if b.path == "" {
		return nil
	}
	data, err := json.MarshalIndent(file{Version: fileVersion, Switches: sorted(state)}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	data = append(data, '\n')
	dir, base := filepath.Split(b.path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("save state: %w; check that the directory of %s is writable", err, b.path)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("save state: write %s: %w; check the free disk space", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("save state: flush %s: %w; check the disk", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save state: close %s: %w; check the disk", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), b.path); err != nil {
		return fmt.Errorf("save state: replace %s: %w; check the permissions of its directory", b.path, err)
	}
	syncDir(dir)
	return nil
}

// syncDir flushes a directory so a rename in it is on disk. It is best
// effort: the rename has happened, the state is saved as far as the
// operating system goes, and some file systems cannot flush a directory.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// Switch name rules.
const (
	maxNameLen = 64 // of the part after the kind, as for flow names
	maxByLen   = 200
	nameRule   = `a switch is named announce.<announcement> or emergency.<calendar>, the name in lower-case letters, digits, _ and -, starting with a letter (at most 64)`
)

// checkName checks a switch name: "announce.<name>" or "emergency.<name>".
func checkName(name string) error {
	kind, rest, ok := strings.Cut(name, ".")
	if !ok || (kind != "announce" && kind != "emergency") || !validPart(rest) {
		return fmt.Errorf("%w: %q; %s", ErrBadName, name, nameRule)
	}
	return nil
}

func validPart(s string) bool {
	if len(s) == 0 || len(s) > maxNameLen || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// checkBy checks the "who": present, printable, not too long.
func checkBy(by string) error {
	switch {
	case strings.TrimSpace(by) == "":
		return fmt.Errorf("%w: say who sets the switch (a user name)", ErrBadBy)
	case len(by) > maxByLen:
		return fmt.Errorf("%w: %d bytes; keep it to %d", ErrBadBy, len(by), maxByLen)
	case !utf8.ValidString(by) || strings.IndexFunc(by, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: %q has control characters or is not UTF-8; give a plain name", ErrBadBy, by)
	}
	return nil
}
