package nodetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// installHint is what a machine without Redis needs.
const installHint = "install redis-server: apt-get install redis-server"

// redisServer is a redis-server this test started on a free port of
// 127.0.0.1 in a temporary directory: never the machine's own Redis. With
// persistence it keeps an append-only file fsynced on every write, so Stop
// and Start on the same port and directory bring back every acknowledged
// write.
type redisServer struct {
	tb      testing.TB
	bin     string
	port    int
	dir     string
	persist bool

	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

// startRedis starts a redis-server for tb and stops it (SIGKILL) in
// tb.Cleanup. persist turns the append-only file on (appendfsync always);
// without it the server keeps nothing across a restart. A missing
// redis-server fails the test: these tests must run everywhere.
func startRedis(tb testing.TB, persist bool) *redisServer {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatalf("redis-server not found (%v): %s", err, installHint)
	}
	var lastErr error
	for range 3 { // a port taken between choosing and binding it: choose again
		s := &redisServer{tb: tb, bin: bin, port: freePort(tb), dir: tb.TempDir(), persist: persist}
		if lastErr = s.Start(); lastErr == nil {
			tb.Cleanup(s.kill)
			return s
		}
	}
	tb.Fatalf("redis-server did not start: %v", lastErr)
	return nil
}

// Addr is the server's host:port.
func (s *redisServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Start starts the server on its port and directory (again, after Stop) and
// waits until it answers PING, which it does only once it has loaded its
// append-only file.
func (s *redisServer) Start() error {
	if s.cmd != nil {
		return errors.New("redis-server is already running")
	}
	persist := []string{"--appendonly", "no"}
	if s.persist {
		persist = []string{"--appendonly", "yes", "--appendfsync", "always"}
	}
	logFile := filepath.Join(s.dir, "redis.log")
	args := append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "",
		"--dir", s.dir, "--logfile", logFile}, persist...)
	cmd := exec.Command(s.bin, args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	if err := waitPing(s.Addr(), exited); err != nil {
		s.kill()
		log, _ := os.ReadFile(logFile)
		return fmt.Errorf("%w; its log:\n%s", err, lastLines(string(log), 20))
	}
	return nil
}

// Stop sends SIGTERM (Redis writes and fsyncs its append-only file and
// exits) and waits for the process to exit.
func (s *redisServer) Stop() error {
	if s.cmd == nil {
		return errors.New("redis-server is not running")
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("SIGTERM to redis-server: %w", err)
	}
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.kill()
		return errors.New("redis-server did not exit within 30s of SIGTERM; killed it")
	}
	s.cmd = nil
	return nil
}

// kill ends the server at once, if it runs.
func (s *redisServer) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// client returns a go-redis client for the server, closed in tb.Cleanup.
func (s *redisServer) client(tb testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), PoolSize: 64})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// waitPing waits up to 10s for the server at addr to answer PING, or for it
// to exit.
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
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
