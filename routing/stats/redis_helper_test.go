package stats

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
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

// launchRedis starts redis-server with extra arguments on a free port of
// 127.0.0.1 without persistence, waits until it answers PING, and returns
// its address. A port taken between choosing and binding it is retried.
func launchRedis(tb testing.TB, extra ...string) string {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatalf("redis-server not found: install Debian package redis-server (bash .ci/run does it): %v", err)
	}
	var lastErr error
	for range 3 {
		port, dir := freePort(tb), tb.TempDir()
		logFile := filepath.Join(dir, "redis.log")
		args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
			"--appendonly", "no", "--dir", dir, "--logfile", logFile}, extra...)
		cmd := exec.Command(bin, args...)
		if err := cmd.Start(); err != nil {
			tb.Fatalf("starting redis-server: %v", err)
		}
		exited := make(chan struct{})
		go func() {
			_ = cmd.Wait()
			close(exited)
		}()
		stop := func() {
			_ = cmd.Process.Kill()
			<-exited
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if lastErr = waitPing(addr, exited); lastErr == nil {
			tb.Cleanup(stop)
			return addr
		}
		stop()
		log, _ := os.ReadFile(logFile)
		lastErr = fmt.Errorf("%w; its log:\n%s", lastErr, log)
	}
	tb.Fatalf("redis-server did not start: %v", lastErr)
	return ""
}

// waitPing waits up to 10s for the server at addr to answer PING, or to exit.
func waitPing(addr string, exited <-chan struct{}) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		switch {
		case err == nil:
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("no answer to PING at %s within 10s: %w", addr, err)
		}
		select {
		case <-exited:
			return fmt.Errorf("redis-server at %s exited: %w", addr, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// freePort returns a TCP port that was free a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
