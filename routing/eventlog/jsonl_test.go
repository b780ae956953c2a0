package eventlog_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"kefu/routing"
	"kefu/routing/eventlog"
)

// TestJSONLConcurrent: 8 goroutines append at once; every line is one
// whole JSON event, none lost or doubled, and each writer's events keep
// their order.
func TestJSONLConcurrent(t *testing.T) {
	const writers, each = 8, 500
	path := filepath.Join(t.TempDir(), "events.jsonl")
	j, err := eventlog.NewJSONL(path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 1, 9, 0, 0, 123456789, time.UTC)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e := routing.QueueEvent{Time: at, Event: routing.LogEnterQueue, CallID: fmt.Sprintf("w%d-%d", w, i),
					Queue: "billing", Caller: "+49 \"quoted\"\n", WaitMS: int64(i)}
				if err := j.Append(t.Context(), e); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	next := make([]int64, writers) // next WaitMS expected per writer
	lines := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines++
		var e routing.QueueEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %d is not JSON: %v: %q", lines, err, sc.Text())
		}
		var w, i int
		if _, err := fmt.Sscanf(e.CallID, "w%d-%d", &w, &i); err != nil || w < 0 || w >= writers {
			t.Fatalf("line %d: call id %q", lines, e.CallID)
		}
		if int64(i) != next[w] || e.WaitMS != int64(i) || !e.Time.Equal(at) || e.Caller != "+49 \"quoted\"\n" {
			t.Fatalf("line %d: %+v, want writer %d's event %d", lines, e, w, next[w])
		}
		next[w]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if lines != writers*each {
		t.Fatalf("%d lines, want %d", lines, writers*each)
	}
}

// TestJSONLFormat checks one line byte for byte: RFC 3339 nano time, empty
// fields left out, and that a reopened file is appended to.
func TestJSONLFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	at := time.Date(2025, 3, 1, 9, 0, 5, 250000000, time.UTC)
	tests := []struct {
		e    routing.QueueEvent
		want string
	}{
		{routing.QueueEvent{Time: at, Event: routing.LogAddMember, Agent: "1001"},
			`{"time":"2025-03-01T09:00:05.25Z","event":"ADDMEMBER","agent":"1001"}`},
		{routing.QueueEvent{Time: at, Event: routing.LogAbandon, CallID: "c1", Queue: "q", Agent: "1002", Tier: "vip",
			Caller: "+4930", WaitMS: 1500, Token: 7, Reason: "r"},
			`{"time":"2025-03-01T09:00:05.25Z","event":"ABANDON","call_id":"c1","queue":"q","agent":"1002","tier":"vip","caller":"+4930","wait_ms":1500,"token":7,"reason":"r"}`},
	}
	var want string
	for _, tt := range tests { // one open per event: reopening appends
		j, err := eventlog.NewJSONL(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Append(t.Context(), tt.e); err != nil {
			t.Fatal(err)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		if err := j.Append(t.Context(), tt.e); !errors.Is(err, os.ErrClosed) {
			t.Fatalf("Append after Close: %v, want os.ErrClosed", err)
		}
		if err := j.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		want += tt.want + "\n"
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("file:\n%s\nwant:\n%s", got, want)
	}
}

func TestNewJSONLMissingDir(t *testing.T) {
	_, err := eventlog.NewJSONL(filepath.Join(t.TempDir(), "no", "such", "events.jsonl"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("NewJSONL in a missing directory: %v, want ErrNotExist", err)
	}
}
