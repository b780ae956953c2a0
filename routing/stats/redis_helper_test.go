package stats

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"kefu/routing/internal/redistest"
)

// testRedis is a redis-server this test binary started on a free port in a
// temporary directory; never the machine's own Redis.
type testRedis struct {
	addr   string
	client *redis.Client
	n      atomic.Int64 // prefixes handed out
}

// startRedis starts a redis-server for tb and a client for it; tb.Cleanup
// stops both. A missing redis-server fails the test: the Redis backend must
// be tested everywhere.
func startRedis(tb testing.TB) *testRedis {
	tb.Helper()
	addr := launchRedis(tb)
	client := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64})
	tb.Cleanup(func() { client.Close() })
	return &testRedis{addr: addr, client: client}
}

// prefix returns a key prefix, with a hash tag, no other caller got.
func (r *testRedis) prefix() string { return fmt.Sprintf("kefu:{stats%d}:", r.n.Add(1)) }

// backend returns a Redis backend under a fresh prefix.
func (r *testRedis) backend(tb testing.TB) Backend {
	tb.Helper()
	b, err := NewRedis(r.client, r.prefix())
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// launchRedis starts a redis-server without persistence, with extra
// arguments, and returns its address (see redistest).
func launchRedis(tb testing.TB, extra ...string) string {
	tb.Helper()
	return redistest.Launch(tb, redistest.Options{Args: extra}).Addr()
}
