package callrecord

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestJSONLConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.jsonl")
	w, err := NewJSONL(path)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 4, 25
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				if err := w.Write(t.Context(), answered(fmt.Sprintf("c%d-%d", g, i), t0.Add(time.Duration(i)*time.Second))); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := w.Write(t.Context(), answered("late", t0)); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close = %v, want os.ErrClosed", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v (%v), want 0640", fi.Mode(), err)
	}
	all, err := ReadJSONL(path, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != writers*each {
		t.Fatalf("read %d records, want %d", len(all), writers*each)
	}
	seen := map[string]bool{}
	for _, r := range all {
		seen[r.CallID] = true
	}
	if len(seen) != writers*each {
		t.Errorf("%d distinct records, want %d", len(seen), writers*each)
	}
	// [from, to) by End: seconds 10…19 of each writer's 25.
	some, err := ReadJSONL(path, t0.Add(10*time.Second), t0.Add(20*time.Second))
	if err != nil || len(some) != writers*10 {
		t.Errorf("read %d records in the period (%v), want %d", len(some), err, writers*10)
	}
	// Reopening appends.
	w2, err := NewJSONL(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.Write(context.Background(), answered("more", t0)); err != nil {
		t.Fatal(err)
	}
	w2.Close()
	if all, _ := ReadJSONL(path, time.Time{}, time.Time{}); len(all) != writers*each+1 {
		t.Errorf("after reopening: %d records", len(all))
	}
}

func TestJSONLRefusesInvalid(t *testing.T) {
	w, err := NewJSONL(filepath.Join(t.TempDir(), "r.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write(t.Context(), Record{CallID: "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Write of an invalid record = %v, want ErrInvalid", err)
	}
}

func TestNewJSONLMissingDir(t *testing.T) {
	_, err := NewJSONL(filepath.Join(t.TempDir(), "no", "r.jsonl"))
	if err == nil || !strings.Contains(err.Error(), "directory exists") {
		t.Errorf("NewJSONL in a missing directory = %v", err)
	}
}

func TestReadJSONLBadLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.jsonl")
	a, _ := Encode(answered("a", t0))
	b, _ := Encode(answered("b", t0))
	content := string(a) + "\n" + `{"v":1,"call_id":"broken"` + "\n" + string(b)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ReadJSONL(path, time.Time{}, time.Time{})
	var le *LineError
	if !errors.As(err, &le) || le.Line != 3 || !strings.HasPrefix(err.Error(), path+":3: ") {
		t.Errorf("ReadJSONL = %v, want an error at %s:3", err, path)
	}
	var bad []int
	rs, err := ReadJSONLSkipping(path, time.Time{}, time.Time{}, func(e *LineError) { bad = append(bad, e.Line) })
	if err != nil || len(rs) != 2 || len(bad) != 1 || bad[0] != 3 {
		t.Errorf("skipping: %d records, bad lines %v, err %v; want 2, [3], nil", len(rs), bad, err)
	}
	if _, err := ReadJSONL(filepath.Join(t.TempDir(), "none"), time.Time{}, time.Time{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
