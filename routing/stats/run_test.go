package stats

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"kefu/routing"
)

// TestRun: Run samples at once and every half slot, so every 15s slot is
// sampled once even when a tick fails; it stops when its context ends.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logs, nil))
		s, err := New(Config{Queues: testQueues, Logger: log}, NewMemory()) // Now: the bubble's time.Now
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		agents := func(context.Context) ([]routing.AgentStatus, error) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if calls == 3 { // the tick at 15s fails; the one at 22.5s samples slot 15s
				return nil, errors.New("store unreachable")
			}
			return []routing.AgentStatus{agent("a1", routing.AgentTalking, "billing"), agent("a2", routing.AgentReady, "support")}, nil
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			s.Run(ctx, 0, agents)
			close(done)
		}()
		time.Sleep(61 * time.Second) // ticks at 0, 7.5s, … 60s: slots 0, 15s, 30s, 45s, 60s
		cancel()
		<-done
		snap, err := s.Snapshot(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		w := snap.Windows[0]
		checkOcc(t, "all", w.Occupancy, occ(150, 75))
		checkOcc(t, "billing", w.Queues[0].Occupancy, occ(75, 75))
		if calls != 9 {
			t.Errorf("agents listed %d times in 61s, want 9", calls)
		}
		if !strings.Contains(logs.String(), "occupancy sample failed") || !strings.Contains(logs.String(), "store unreachable") {
			t.Errorf("the failed tick was not logged: %q", logs.String())
		}
	})
}
