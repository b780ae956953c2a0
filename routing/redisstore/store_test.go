package redisstore_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kefu/routing/internal/redistest"

	"kefu/routing"
	"kefu/routing/redisstore"
	"kefu/routing/storetest"
)

// testRedis is a redis-server the test started on a free port in a temporary
// directory; never the machine's own Redis.
type testRedis struct {
	client *redis.Client
	n      atomic.Int64 // prefixes handed out
}

// startRedis starts a plain redis-server for tb (see launchRedis) and a
// client for it.
func startRedis(tb testing.TB) *testRedis {
	tb.Helper()
	client := redis.NewClient(&redis.Options{Addr: launchRedis(tb), PoolSize: 32})
	tb.Cleanup(func() { client.Close() })
	return &testRedis{client: client}
}

// launchRedis starts a redis-server without persistence, with extra
// arguments, and returns its address (see redistest).
func launchRedis(tb testing.TB, extra ...string) string {
	tb.Helper()
	return redistest.Launch(tb, redistest.Options{Args: extra}).Addr()
}

// store returns a Store under a prefix no other store of this server uses.
func (r *testRedis) store(tb testing.TB) routing.Store {
	tb.Helper()
	s, err := redisstore.New(r.client, fmt.Sprintf("test%d", r.n.Add(1)))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestStore(t *testing.T) {
	r := startRedis(t)
	storetest.Run(t, func(t *testing.T) routing.Store { return r.store(t) })

	// Every key the whole suite wrote carries its store's hash tag, so every
	// script touches one Cluster slot only.
	keys, err := r.client.Keys(t.Context(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	tagged := regexp.MustCompile(`^kefu:\{test[0-9]+\}:`)
	for _, k := range keys {
		if !tagged.MatchString(k) {
			t.Errorf("key %q lacks the store's hash tag", k)
		}
	}
	if len(keys) == 0 {
		t.Error("the suite left no keys at all; was the store used?")
	}
}

func TestNewRejectsBadPrefix(t *testing.T) {
	for _, p := range []string{"", "a{b", "a}b"} {
		if _, err := redisstore.New(redis.NewClient(&redis.Options{}), p); err == nil {
			t.Errorf("New(%q) accepted the prefix", p)
		}
	}
	if _, err := redisstore.New(nil, "x"); err == nil {
		t.Error("New(nil client) succeeded")
	}
}

// TestScriptCacheFlushed: after SCRIPT FLUSH (a Redis restart or failover
// empties the script cache) the store reloads its scripts on NOSCRIPT.
func TestScriptCacheFlushed(t *testing.T) {
	r := startRedis(t)
	s := r.store(t)
	ctx := t.Context()
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	if err := s.PutAgents(ctx, []routing.AgentConfig{{ID: "a1", Skills: map[string]int{"billing": 3}}}, now); err != nil {
		t.Fatal(err)
	}
	if err := r.client.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetAgentState(ctx, "a1", routing.AgentReady, "", false, now); err != nil {
		t.Fatalf("SetAgentState after SCRIPT FLUSH: %v", err)
	}
}

// TestKeysShareHashTag: every key a store writes carries its hash tag, so the
// scripts run on Redis Cluster.
func TestKeysShareHashTag(t *testing.T) {
	r := startRedis(t)
	s, err := redisstore.New(r.client, "tag")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	if err := s.PutAgents(ctx, []routing.AgentConfig{{ID: "a1", Skills: map[string]int{"billing": 3}}}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetAgentState(ctx, "a1", routing.AgentReady, "", false, now); err != nil {
		t.Fatal(err)
	}
	c := routing.Call{ID: "c1", Queue: "billing", Skill: "billing", EnqueuedAt: now, Key: now, Deadline: now.Add(time.Hour),
		PreferredAgent: "a1", PreferUntil: now.Add(time.Minute)}
	if _, err := s.Enqueue(ctx, c, routing.EnqueueOptions{}); err != nil {
		t.Fatal(err)
	}
	keys, err := r.client.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("no keys written")
	}
	for _, k := range keys {
		if len(k) < len("kefu:{tag}:") || k[:len("kefu:{tag}:")] != "kefu:{tag}:" {
			t.Errorf("key %q does not start with kefu:{tag}:", k)
		}
	}
}

func BenchmarkEnqueueMatch(b *testing.B) {
	r := startRedis(b)
	storetest.BenchmarkEnqueueMatch(b, func(b *testing.B) routing.Store { return r.store(b) })
}

// TestStoreOnCluster runs the suite on a one-node Redis Cluster (every slot
// on one server) through redis.ClusterClient, which sends each script to the
// node owning its KEYS' slot. (A one-node cluster of Redis 7.0 does not
// refuse a script touching an undeclared key of another slot, so the
// one-slot layout itself is checked by TestStore's key scan.)
func TestStoreOnCluster(t *testing.T) {
	addr := launchRedis(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	admin := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { admin.Close() })
	ctx := t.Context()
	if err := admin.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatalf("CLUSTER ADDSLOTSRANGE: %v", err)
	}
	waitFor(t, "cluster_state:ok", func() error {
		info, err := admin.ClusterInfo(ctx).Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return fmt.Errorf("cluster not ready: %q", info)
		}
		return nil
	})
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}})
	t.Cleanup(func() { client.Close() })
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) routing.Store {
		s, err := redisstore.New(client, fmt.Sprintf("cluster%d", n.Add(1)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// waitFor retries check for up to 10s.
func waitFor(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkQueuedCallMemory enqueues b.N calls (none can be matched) and
// reports Redis's used_memory growth per queued call; run it with
// -benchtime=100000x for the figure at 100,000 queued calls.
func BenchmarkQueuedCallMemory(b *testing.B) {
	r := startRedis(b)
	s := r.store(b)
	ctx := b.Context()
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	if err := s.PutAgents(ctx, []routing.AgentConfig{{ID: "a1", Skills: map[string]int{"billing": 3}}}, now); err != nil {
		b.Fatal(err)
	}
	if _, err := s.SetAgentState(ctx, "a1", routing.AgentNotReady, "", false, now); err != nil {
		b.Fatal(err)
	}
	before := usedMemory(b, r.client)
	b.ResetTimer()
	for i := range b.N {
		at := now.Add(time.Duration(i) * time.Millisecond)
		c := routing.Call{ID: fmt.Sprintf("call-%08d", i), Caller: "13800000000", Queue: "billing", Skill: "billing",
			Tier: "default", EnqueuedAt: at, Key: at, Deadline: at.Add(5 * time.Minute)}
		if _, err := s.Enqueue(ctx, c, routing.EnqueueOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(usedMemory(b, r.client)-before)/float64(b.N), "redis-bytes/call")
}

func usedMemory(b *testing.B, c *redis.Client) int64 {
	b.Helper()
	info, err := c.Info(b.Context(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatalf("no used_memory in INFO memory: %q", info)
	return 0
}
