package callrecord

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kefu/routing/internal/redistest"
)

func TestStream(t *testing.T) {
	srv := redistest.Launch(t, redistest.Options{})
	client := srv.Client(t, 4)
	key := StreamKey("kefu:{test}:")
	if key != "kefu:{test}:records" {
		t.Fatalf("StreamKey = %q", key)
	}
	s := NewStream(client, key, 0)
	// More than two pages; ends one second apart, from t0 - 1000 s. The
	// stream IDs are the writing time (now), far from the End times, so
	// read with the clock's period and filter on End.
	const n = 2*pageSize + 5
	base := time.Now().Add(-time.Hour)
	pipe := client.Pipeline()
	for i := range n {
		b, err := Encode(answered(fmt.Sprintf("c%d", i), base.Add(time.Duration(i)*time.Millisecond)))
		if err != nil {
			t.Fatal(err)
		}
		// Write with IDs at End, as a writer at the call's end would.
		pipe.XAdd(t.Context(), &redis.XAddArgs{Stream: key, ID: fmt.Sprintf("%d-*", base.Add(time.Duration(i)*time.Millisecond).UnixMilli()), Values: []string{"record", string(b[:len(b)-1])}})
	}
	if _, err := pipe.Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), answered("now", time.Now())); err != nil {
		t.Fatal(err)
	}
	all, err := ReadStream(t.Context(), client, key, base, base.Add(n*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n || all[0].CallID != "c0" || all[n-1].CallID != fmt.Sprintf("c%d", n-1) {
		t.Fatalf("read %d records, want %d in order", len(all), n)
	}
	some, err := ReadStream(t.Context(), client, key, base.Add(10*time.Millisecond), base.Add(20*time.Millisecond))
	if err != nil || len(some) != 10 || some[0].CallID != "c10" {
		t.Errorf("read %d records (%v), want 10 from c10", len(some), err)
	}
	recent, err := ReadStream(t.Context(), client, key, time.Now().Add(-time.Minute), time.Now().Add(time.Minute))
	if err != nil || len(recent) != 1 || recent[0].CallID != "now" {
		t.Errorf("recent: %v (%v), want the one written by Write", recent, err)
	}
	// A bad entry is named by its ID.
	id, _ := client.XAdd(t.Context(), &redis.XAddArgs{Stream: key, Values: []string{"record", `{"v":9}`}}).Result()
	_, err = ReadStream(t.Context(), client, key, time.Time{}, time.Time{})
	var le *LineError
	if !errors.As(err, &le) || le.ID != id {
		t.Errorf("bad entry: %v, want a LineError with ID %s", err, id)
	}
}

func TestStreamTrims(t *testing.T) {
	srv := redistest.Launch(t, redistest.Options{})
	client := srv.Client(t, 2)
	s := NewStream(client, "k", 10)
	for i := range 500 {
		if err := s.Write(t.Context(), answered(fmt.Sprint(i), t0)); err != nil {
			t.Fatal(err)
		}
	}
	if n := client.XLen(t.Context(), "k").Val(); n >= 500 || n < 10 {
		t.Errorf("XLEN = %d: want it trimmed to about 10", n)
	}
}

func TestFallback(t *testing.T) {
	srv := redistest.Launch(t, redistest.Options{})
	client := srv.Client(t, 2)
	spoolPath := filepath.Join(t.TempDir(), "spool.jsonl")
	spool, err := NewJSONL(spoolPath)
	if err != nil {
		t.Fatal(err)
	}
	var fellBack []string
	w := NewFallback(NewStream(client, "k", 0), spool, func(r Record, err error) { fellBack = append(fellBack, r.CallID) })
	if err := w.Write(t.Context(), answered("up", t0)); err != nil {
		t.Fatal(err)
	}
	// Redis goes away: the record goes to the spool, even with the
	// context ended.
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := w.Write(ctx, answered("down", t0)); err != nil {
		t.Fatalf("Write during the outage = %v, want nil (spooled)", err)
	}
	if err := w.Write(t.Context(), Record{CallID: "bad"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid record: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	spooled, err := ReadJSONL(spoolPath, time.Time{}, time.Time{})
	if err != nil || len(spooled) != 1 || spooled[0].CallID != "down" || len(fellBack) != 1 {
		t.Errorf("spool %v (%v), fell back %v; want just \"down\"", spooled, err, fellBack)
	}
}

func TestNextID(t *testing.T) {
	for in, want := range map[string]string{"5-0": "5-1", "5-18446744073709551615": "6-0"} {
		if got, err := nextID(in); err != nil || got != want {
			t.Errorf("nextID(%s) = %s, %v", in, got, err)
		}
	}
	if _, err := nextID("x"); err == nil {
		t.Error("nextID(x) did not fail")
	}
}
