package switchboard_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kefu/ivr"
	"kefu/ivr/switchboard"
)

var _ ivr.Switches = (*switchboard.Board)(nil)

func open(t *testing.T, path string) *switchboard.Board {
	t.Helper()
	b, err := switchboard.Open(path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	return b
}

func TestSetClearState(t *testing.T) {
	for _, path := range []string{"", filepath.Join(t.TempDir(), "switches.json")} {
		t.Run(fmt.Sprintf("file=%v", path != ""), func(t *testing.T) {
			b := open(t, path)
			if on, set := b.State("announce.outage"); on || set {
				t.Fatalf("fresh board: State = %v, %v; want false, false", on, set)
			}
			before := time.Now().UTC()
			steps := []struct {
				op     string // set-on, set-off, clear
				name   string
				wantOn bool
				wantSt bool
			}{
				{"set-on", "announce.outage", true, true},
				{"set-off", "announce.outage", false, true},
				{"set-on", "emergency.hotline", true, true},
				{"clear", "announce.outage", false, false},
				{"clear", "announce.outage", false, false}, // clearing twice is fine
				{"set-on", "announce.outage", true, true},
			}
			for i, s := range steps {
				var err error
				switch s.op {
				case "set-on":
					err = b.Set(s.name, true, "ops:li")
				case "set-off":
					err = b.Set(s.name, false, "ops:wang")
				case "clear":
					err = b.Clear(s.name)
				}
				if err != nil {
					t.Fatalf("step %d %s %s: %v", i, s.op, s.name, err)
				}
				if on, set := b.State(s.name); on != s.wantOn || set != s.wantSt {
					t.Fatalf("step %d %s %s: State = %v, %v; want %v, %v", i, s.op, s.name, on, set, s.wantOn, s.wantSt)
				}
			}
			after := time.Now().UTC()
			list := b.List()
			if len(list) != 2 || list[0].Name != "announce.outage" || list[1].Name != "emergency.hotline" {
				t.Fatalf("List = %+v; want announce.outage, emergency.hotline in that order", list)
			}
			for _, sw := range list {
				if !sw.On || sw.By != "ops:li" || sw.At.Before(before) || sw.At.After(after) {
					t.Errorf("List entry %+v: want on, by ops:li, at between %v and %v", sw, before, after)
				}
			}
		})
	}
}

func TestNames(t *testing.T) {
	b := open(t, "")
	tests := []struct {
		name string
		ok   bool
	}{
		{"announce.outage", true},
		{"emergency.hotline", true},
		{"announce.outage_2026-q4", true},
		{"announce.a", true},
		{"announce." + strings.Repeat("a", 64), true},
		{"announce." + strings.Repeat("a", 65), false},
		{"announce.", false},
		{"announce", false},
		{"outage", false},
		{"Announce.outage", false},
		{"announce.Outage", false},
		{"announce.1outage", false},
		{"announce._x", false},
		{"announce.out age", false},
		{"announce.out.age", false},
		{"emergency.热线", false},
		{"calendar.hotline", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := b.Set(tt.name, true, "test")
			if tt.ok != (err == nil) {
				t.Fatalf("Set(%q) = %v; want ok %v", tt.name, err, tt.ok)
			}
			if err != nil && !errors.Is(err, switchboard.ErrBadName) {
				t.Errorf("Set(%q) = %v; want ErrBadName", tt.name, err)
			}
			if err := b.Clear(tt.name); tt.ok != (err == nil) || (err != nil && !errors.Is(err, switchboard.ErrBadName)) {
				t.Errorf("Clear(%q) = %v; want ok %v or ErrBadName", tt.name, err, tt.ok)
			}
		})
	}
}

func TestBy(t *testing.T) {
	b := open(t, "")
	for _, tt := range []struct {
		by string
		ok bool
	}{
		{"ops:li", true},
		{"李雷", true},
		{"", false},
		{"   ", false},
		{"li\nlei", false},
		{"\xff", false},
		{strings.Repeat("x", 201), false},
		{strings.Repeat("x", 200), true},
	} {
		err := b.Set("announce.x", true, tt.by)
		if tt.ok != (err == nil) || (err != nil && !errors.Is(err, switchboard.ErrBadBy)) {
			t.Errorf("Set by %q = %v; want ok %v or ErrBadBy", tt.by, err, tt.ok)
		}
	}
}

// TestPersisted checks that a second Open of the same file sees the state,
// including a clear.
func TestPersisted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switches.json")
	b := open(t, path)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open created the file before any change: %v", err)
	}
	if err := b.Set("announce.outage", true, "ops:li"); err != nil {
		t.Fatal(err)
	}
	if err := b.Set("emergency.hotline", false, "ops:wang"); err != nil {
		t.Fatal(err)
	}
	if err := b.Set("announce.old", true, "ops:wang"); err != nil {
		t.Fatal(err)
	}
	if err := b.Clear("announce.old"); err != nil {
		t.Fatal(err)
	}
	again := open(t, path)
	if got, want := fmt.Sprint(again.List()), fmt.Sprint(b.List()); got != want {
		t.Fatalf("reopened List = %s; want %s", got, want)
	}
	for name, want := range map[string][2]bool{
		"announce.outage":   {true, true},
		"emergency.hotline": {false, true},
		"announce.old":      {false, false},
	} {
		if on, set := again.State(name); on != want[0] || set != want[1] {
			t.Errorf("reopened State(%s) = %v, %v; want %v, %v", name, on, set, want[0], want[1])
		}
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d files; want only the state file (no temporary files left)", len(entries))
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string // "" with create false: no file
		create  bool
		wantErr string // "" for success
	}{
		{"missing file", "", false, ""},
		{"empty file", "", true, ""},
		{"blank file", " \n", true, ""},
		{"valid", `{"version":1,"switches":[{"name":"announce.x","on":true,"by":"li","at":"2026-01-02T03:04:05Z"}]}`, true, ""},
		{"half written", `{"version":1,"switches":[{"name":"announce.x","on":tr`, true, "is not valid (JSON: unexpected EOF); fix it or delete it"},
		{"not json", "announce.x=on\n", true, "is not valid (JSON: invalid character 'a' looking for beginning of value); fix it or delete it"},
		{"unknown field", `{"version":1,"switches":[],"extra":1}`, true, `is not valid (JSON: json: unknown field "extra")`},
		{"wrong version", `{"version":2,"switches":[]}`, true, "is not valid (version 2, this Kefu reads version 1)"},
		{"no version", `{"switches":[]}`, true, "is not valid (version 0, this Kefu reads version 1)"},
		{"trailing data", `{"version":1,"switches":[]} {}`, true, "more data after the state object"},
		{"bad name", `{"version":1,"switches":[{"name":"outage","on":true}]}`, true, `not a switch name: "outage"`},
		{"duplicate", `{"version":1,"switches":[{"name":"announce.x","on":true},{"name":"announce.x","on":false}]}`, true, `switch "announce.x" is listed twice`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("s%d.json", i))
			if tt.create {
				if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := switchboard.Open(path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Open succeeded; want an error containing %q", tt.wantErr)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantErr) || !strings.Contains(msg, path) || !strings.Contains(msg, "fix it or delete it") {
				t.Errorf("Open error %q; want it to name %s, contain %q and say to fix or delete the file", msg, path, tt.wantErr)
			}
		})
	}
	if _, err := switchboard.Open(filepath.Join(dir, "no", "such", "dir", "s.json")); err == nil || !strings.Contains(err.Error(), "create the directory") {
		t.Errorf("Open in a missing directory = %v; want an error saying to create the directory", err)
	}
}

// TestSaveFailure checks that a change that cannot be saved is refused and
// leaves the board as it was.
func TestSaveFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "switches.json")
	b := open(t, path)
	if err := b.Set("announce.outage", true, "li"); err != nil {
		t.Fatal(err)
	}
	// Replace the file by a non-empty directory: the rename must fail.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := b.Set("announce.outage", false, "li"); err == nil {
		t.Fatal("Set succeeded although the file cannot be replaced")
	}
	if err := b.Clear("announce.outage"); err == nil {
		t.Fatal("Clear succeeded although the file cannot be replaced")
	}
	if on, set := b.State("announce.outage"); !on || !set {
		t.Errorf("after failed changes State = %v, %v; want the old true, true", on, set)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries; want no temporary file left", len(entries))
	}
}

// TestConcurrent runs Set, Clear, State and List from many goroutines (run
// with -race) and checks that the file ends with the last state of each
// switch.
func TestConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switches.json")
	b := open(t, path)
	const workers, rounds = 8, 20
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			name := fmt.Sprintf("announce.w%d", w)
			for r := range rounds {
				if err := b.Set(name, r%2 == 0, fmt.Sprintf("worker%d", w)); err != nil {
					t.Error(err)
					return
				}
				b.State(name)
				b.List()
				if r%5 == 4 {
					if err := b.Clear("emergency.shared"); err != nil {
						t.Error(err)
						return
					}
				} else if err := b.Set("emergency.shared", true, "any"); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	again := open(t, path)
	if got, want := fmt.Sprint(again.List()), fmt.Sprint(b.List()); got != want {
		t.Fatalf("file and memory differ:\nfile   %s\nmemory %s", got, want)
	}
	for w := range workers {
		// rounds is even, so the last Set of each worker was off.
		if on, set := again.State(fmt.Sprintf("announce.w%d", w)); on || !set {
			t.Errorf("announce.w%d = %v, %v; want false, true", w, on, set)
		}
	}
}
