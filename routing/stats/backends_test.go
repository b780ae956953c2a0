package stats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kefu/routing"
)

func TestMemory(t *testing.T) {
	runSuite(t, func(testing.TB) Backend { return NewMemory() })
}

func TestRedis(t *testing.T) {
	r := startRedis(t)
	runSuite(t, r.backend)

	// Every key the suite wrote is under a prefix with a hash tag.
	keys, err := r.client.Keys(t.Context(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("the suite left no keys; was Redis used?")
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "kefu:{stats") || !strings.Contains(k, "}:stats:") {
			t.Errorf("key %q is not under a hash-tagged prefix", k)
		}
	}
}

// TestRedisCluster runs the suite on a one-node Redis Cluster (every slot
// on one server) through redis.ClusterClient: each event's MULTI and each
// snapshot's pipeline go to the slot of the prefix's hash tag.
func TestRedisCluster(t *testing.T) {
	addr := launchRedis(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	admin := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { admin.Close() })
	ctx := t.Context()
	if err := admin.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatalf("CLUSTER ADDSLOTSRANGE: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := admin.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster not ready after 10s: %q %v", info, err)
		}
		time.Sleep(20 * time.Millisecond) // waiting for the server, not for the code under test
	}
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}})
	t.Cleanup(func() { client.Close() })
	var n int
	runSuite(t, func(tb testing.TB) Backend {
		n++
		b, err := NewRedis(client, fmt.Sprintf("kefu:{cluster%d}:", n))
		if err != nil {
			tb.Fatal(err)
		}
		return b
	})
}

// TestBackendsAgree feeds the same random events and samples to both
// backends and a naive count, as the clock runs for three hours, and
// compares them.
func TestBackendsAgree(t *testing.T) {
	r := startRedis(t)
	clk := &fakeClock{t: t0}
	cfg := Config{Queues: testQueues, Now: clk.Now}
	mem, err := New(cfg, NewMemory())
	if err != nil {
		t.Fatal(err)
	}
	red, err := New(cfg, r.backend(t))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{routing.LogEnterQueue, routing.LogCallback, routing.LogConnect, routing.LogComplete,
		routing.LogCompleteCaller, routing.LogAbandon, routing.LogExitWithTimeout, routing.LogRingNoAnswer,
		routing.LogAgentCalled, routing.LogPause, routing.LogExitEmpty, routing.LogFull}
	queues := []string{"billing", "support", "unknown|odd%name", ""}
	tiers := []string{"vip", "", "default", "gold|x"}
	states := []routing.AgentState{routing.AgentLoggedOut, routing.AgentNotReady, routing.AgentReady,
		routing.AgentOffered, routing.AgentTalking, routing.AgentWrapUp}
	var all []routing.QueueEvent
	ctx := t.Context()
	for step := range 3000 {
		now := clk.Now().Add(time.Duration(rng.IntN(7000)) * time.Millisecond)
		clk.Set(now)
		e := qe(now.Add(-time.Duration(rng.IntN(3000))*time.Millisecond), names[rng.IntN(len(names))],
			fmt.Sprint("c", step), queues[rng.IntN(len(queues))], tiers[rng.IntN(len(tiers))],
			int64(rng.IntN(40_000)), int64(rng.IntN(300_000)))
		if e.Event == routing.LogCallback && rng.IntN(2) == 0 {
			e.WaitMS = 0
		}
		all = append(all, e)
		for _, s := range []*Stats{mem, red} {
			if err := s.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if step%3 == 0 {
			var agents []routing.AgentStatus
			for i := range 4 {
				agents = append(agents, agent(fmt.Sprint("a", i), states[rng.IntN(len(states))], "billing", "support"))
			}
			for _, s := range []*Stats{mem, red} {
				if err := s.Sample(ctx, time.Time{}, agents); err != nil {
					t.Fatal(err)
				}
			}
		}
		if step%250 != 249 {
			continue
		}
		ms, err := mem.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := red.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mj, _ := json.Marshal(ms)
		rj, _ := json.Marshal(rs)
		if string(mj) != string(rj) {
			t.Fatalf("step %d: memory and Redis differ:\nmemory %s\nredis  %s", step, mj, rj)
		}
		// The naive count: events with a queue, dated from the window's
		// first bucket to now.
		for _, w := range ms.Windows {
			var entered, answered, abandoned int64
			for _, e := range all {
				if e.Queue == "" || e.Time.Before(w.From) || e.Time.After(now) {
					continue
				}
				switch e.Event {
				case routing.LogEnterQueue:
					entered++
				case routing.LogCallback:
					if e.WaitMS == 0 {
						entered++
					}
				case routing.LogConnect:
					answered++
				case routing.LogAbandon:
					abandoned++
				}
			}
			if got := w.Total; got.Entered != entered || got.Answered != answered || got.Abandoned != abandoned {
				t.Fatalf("step %d window %s: entered/answered/abandoned %d/%d/%d, naive count %d/%d/%d", step, w.Name,
					got.Entered, got.Answered, got.Abandoned, entered, answered, abandoned)
			}
		}
	}
	if last, _ := mem.Snapshot(ctx); last.Windows[0].Total.Entered == 0 || last.Windows[0].Occupancy.Fraction == nil {
		t.Fatalf("the random run counted nothing in the last 5 minutes: %+v", last.Windows[0])
	}
}

// TestRedisShared: three nodes, each with its own client and Stats, on one
// Redis and prefix: every node sees every node's events, a slot sampled by
// all three counts once, and another prefix sees nothing.
func TestRedisShared(t *testing.T) {
	r := startRedis(t)
	prefix := r.prefix()
	clk := &fakeClock{t: t0}
	var nodes []*Stats
	for range 3 {
		c := redis.NewClient(&redis.Options{Addr: r.addr})
		t.Cleanup(func() { c.Close() })
		b, err := NewRedis(c, prefix)
		if err != nil {
			t.Fatal(err)
		}
		s, err := New(Config{Queues: testQueues, Now: clk.Now}, b)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, s)
	}
	ctx := t.Context()
	for i := range 30 {
		call := fmt.Sprint("c", i)
		node := nodes[i%3]
		if err := node.Append(ctx, qe(t0, routing.LogEnterQueue, call, "billing", "vip", 0, 0)); err != nil {
			t.Fatal(err)
		}
		// Answered on another node.
		if err := nodes[(i+1)%3].Append(ctx, qe(t0, routing.LogConnect, call, "billing", "vip", int64(i)*1000, 0)); err != nil {
			t.Fatal(err)
		}
	}
	for i, n := range nodes { // node 0 samples first: 2 staffed agents, 1 busy
		agents := []routing.AgentStatus{agent("a1", routing.AgentTalking, "billing"), agent("a2", routing.AgentReady, "billing")}
		if i > 0 {
			agents = append(agents, agent("a3", routing.AgentTalking, "billing"))
		}
		if err := n.Sample(ctx, t0.Add(time.Duration(i)*time.Second), agents); err != nil {
			t.Fatal(err)
		}
	}
	var first []byte
	for i, n := range nodes {
		snap, err := n.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Waits 0…29s: 21 of 30 within 20s, mean 14.5s.
		want := counts(30, 30, 21, 0, 0, 0, 0, 0, 0).with(fp(0.7), fp(0), fp(14.5), nil, fp(29))
		for _, w := range snap.Windows {
			checkFigures(t, fmt.Sprintf("node %d window %s", i, w.Name), w.Total, want)
			checkOcc(t, fmt.Sprintf("node %d window %s", i, w.Name), w.Occupancy, occ(30, 15))
		}
		b, _ := json.Marshal(snap)
		if first == nil {
			first = b
		} else if string(b) != string(first) {
			t.Errorf("node %d's snapshot differs from node 0's:\n%s\n%s", i, b, first)
		}
	}

	other, err := New(Config{Queues: testQueues, Now: clk.Now}, r.backend(t))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := other.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if e := snap.Windows[3].Total.Entered; e != 0 {
		t.Errorf("another prefix sees %d entered calls, want 0", e)
	}
}

// TestRedisExpiry: bucket keys expire a minute after leaving their window.
func TestRedisExpiry(t *testing.T) {
	r := startRedis(t)
	prefix := r.prefix()
	b, err := NewRedis(r.client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	now := t0.Add(2 * time.Second)
	s, err := New(Config{Queues: testQueues, Now: func() time.Time { return now }}, b)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := s.Append(ctx, qe(now, routing.LogConnect, "c", "billing", "vip", 1, 0)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key  string
		left time.Duration // until the bucket leaves its window
	}{
		{fmt.Sprintf("stats:5:%d", t0.Unix()/5), 303 * time.Second},
		{fmt.Sprintf("stats:5:%d:max", t0.Unix()/5), 303 * time.Second},
		{fmt.Sprintf("stats:1440:%d", t0.Unix()/1440), 61*24*time.Minute - 2*time.Second},
	} {
		ttl, err := r.client.PTTL(ctx, prefix+c.key).Result()
		if err != nil {
			t.Fatal(err)
		}
		want := c.left + time.Minute
		if ttl > want || ttl < want-5*time.Second {
			t.Errorf("PTTL %s = %v, want about %v", c.key, ttl, want)
		}
	}
}

// TestRedisErrors: a Redis that cannot be reached makes every operation fail
// with the client's error wrapped.
func TestRedisErrors(t *testing.T) {
	r := startRedis(t)
	c := redis.NewClient(&redis.Options{Addr: r.addr})
	c.Close()
	b, err := NewRedis(c, "kefu:{dead}:")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Now: func() time.Time { return t0 }}, b)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Append(ctx, qe(t0, routing.LogEnterQueue, "c", "q", "", 0, 0)); !errors.Is(err, redis.ErrClosed) {
		t.Errorf("Append on a closed client: %v, want redis.ErrClosed wrapped", err)
	}
	if _, err := s.Snapshot(ctx); !errors.Is(err, redis.ErrClosed) {
		t.Errorf("Snapshot on a closed client: %v, want redis.ErrClosed wrapped", err)
	}
	if err := s.Sample(ctx, t0, nil); !errors.Is(err, redis.ErrClosed) {
		t.Errorf("Sample on a closed client: %v, want redis.ErrClosed wrapped", err)
	}
	if _, err := NewRedis(nil, "x"); err == nil {
		t.Error("NewRedis(nil) succeeded")
	}
	if _, err := NewRedis(c, ""); err == nil {
		t.Error(`NewRedis with prefix "" succeeded`)
	}
}

// TestMemoryBounded: three days of events and samples keep no more buckets
// than the windows can read.
func TestMemoryBounded(t *testing.T) {
	m := NewMemory()
	clk := &fakeClock{t: t0}
	s, err := New(Config{Queues: testQueues, Now: clk.Now}, m)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	most := 0
	for i := range 3 * 24 * 360 { // every 10s
		now := t0.Add(time.Duration(i) * 10 * time.Second)
		clk.Set(now)
		if err := s.Append(ctx, qe(now, routing.LogEnterQueue, "c", "billing", "", 0, 0)); err != nil {
			t.Fatal(err)
		}
		if err := s.Sample(ctx, time.Time{}, []routing.AgentStatus{agent("a", routing.AgentReady, "billing")}); err != nil {
			t.Fatal(err)
		}
		m.mu.Lock()
		most = max(most, len(m.buckets)+len(m.claims))
		m.mu.Unlock()
	}
	// 61 buckets per window in a window, plus the claims of the last two
	// slots.
	if limit := 4*61 + 3; most > limit {
		t.Errorf("memory held up to %d buckets and claims, want at most %d", most, limit)
	}
	if most <= 3*61 { // events every 10s fill every bucket but some of 5s
		t.Errorf("memory held at most %d buckets and claims; a full day should fill the windows", most)
	}
}

func TestNewErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Queues: []routing.QueueConfig{{Name: ""}}}, "name is empty"},
		{Config{Queues: []routing.QueueConfig{{Name: "a"}, {Name: "a"}}}, "duplicate queue name"},
		{Config{Queues: []routing.QueueConfig{{Name: "a", WrapUp: -1}}}, "negative"},
		{Config{Windows: []time.Duration{time.Minute, time.Minute}}, "given twice"},
		{Config{Windows: []time.Duration{-time.Minute}}, "not positive"},
		{Config{Windows: []time.Duration{90 * time.Second}}, "does not divide into 60 buckets"},
		{Config{Buckets: -1}, "buckets -1"},
		{Config{SampleInterval: -time.Second}, "sample_interval"},
	} {
		_, err := New(c.cfg, NewMemory())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, want an error with %q", c.cfg, err, c.want)
		}
	}
	if _, err := New(Config{}, nil); err == nil {
		t.Error("New with a nil backend succeeded")
	}
	s, err := New(Config{Buckets: 10, Windows: []time.Duration{10 * time.Second, time.Hour}}, NewMemory())
	if err != nil {
		t.Fatal(err)
	}
	if g := s.cfg.windows; len(g) != 2 || g[0].gran != time.Second || g[1].gran != 6*time.Minute {
		t.Errorf("windows %+v, want 1s and 6m buckets", g)
	}
}

// benchEvents is a mix of a call's events.
func benchEvents(i int, at time.Time) [4]routing.QueueEvent {
	call := fmt.Sprint("c", i)
	tier := []string{"vip", "default", "gold"}[i%3]
	return [4]routing.QueueEvent{
		qe(at, routing.LogEnterQueue, call, "billing", tier, 0, 0),
		qe(at, routing.LogConnect, call, "billing", tier, int64(i%40_000), 0),
		qe(at, routing.LogComplete, call, "billing", tier, 0, 120_000),
		qe(at, routing.LogAbandon, call, "support", tier, int64(i%10_000), 0),
	}
}

func benchmarkAppend(b *testing.B, backend Backend) {
	now := t0
	s, err := New(Config{Queues: testQueues, Now: func() time.Time { return now }}, backend)
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	i := 0
	for b.Loop() {
		ev := benchEvents(i/4, now)
		if err := s.Append(ctx, ev[i%4]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkAppendMemory(b *testing.B) { benchmarkAppend(b, NewMemory()) }

func BenchmarkAppendRedis(b *testing.B) {
	r := startRedis(b)
	benchmarkAppend(b, r.backend(b))
}

func benchmarkSnapshot(b *testing.B, backend Backend) {
	clk := &fakeClock{t: t0}
	s, err := New(Config{Queues: testQueues, Now: clk.Now}, backend)
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	// A day of traffic: four events every 20s.
	for i := range 24 * 180 {
		at := t0.Add(time.Duration(i) * 20 * time.Second)
		clk.Set(at)
		for _, e := range benchEvents(i, at) {
			if err := s.Append(ctx, e); err != nil {
				b.Fatal(err)
			}
		}
	}
	for b.Loop() {
		if _, err := s.Snapshot(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSnapshotMemory(b *testing.B) { benchmarkSnapshot(b, NewMemory()) }

func BenchmarkSnapshotRedis(b *testing.B) {
	r := startRedis(b)
	benchmarkSnapshot(b, r.backend(b))
}
