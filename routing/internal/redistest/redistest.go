// Package redistest starts a real redis-server for tests: on a free port of
// 127.0.0.1, in the test's temporary directory, never the machine's own
// Redis. The Redis store, the Redis figures and the multi-node tests all use
// it. A missing redis-server fails the test, with the package to install:
// these tests must run everywhere, CI included.
package redistest

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

// InstallHint is what a machine without Redis needs.
const InstallHint = "install redis-server: apt-get install redis-server (bash .ci/run does it)"

// Options configure a Server.
type Options struct {
	// Persist keeps an append-only file fsynced on every write, so Stop
	// and Start bring back every acknowledged write. Default: nothing kept.
	Persist bool
	// Args are extra redis-server arguments ("--cluster-enabled", "yes").
	Args []string
}

// Server is a redis-server started by a test.
type Server struct {
	bin  string
	port int
	dir  string
	opts Options

	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

// Launch starts a redis-server for tb and kills it in tb.Cleanup. A port
// taken between choosing and binding it is chosen again.
func Launch(tb testing.TB, opts Options) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatalf("redis-server not found (%v): %s", err, InstallHint)
	}
	var lastErr error
	for range 3 {
		s := &Server{bin: bin, port: freePort(tb), dir: tb.TempDir(), opts: opts}
		if lastErr = s.Start(); lastErr == nil {
			tb.Cleanup(s.kill)
			return s
		}
	}
	tb.Fatalf("redis-server did not start: %v", lastErr)
	return nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port is the server's port.
func (s *Server) Port() int { return s.port }

// Client returns a go-redis client for the server, closed in tb.Cleanup.
func (s *Server) Client(tb testing.TB, poolSize int) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), PoolSize: poolSize})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Start starts the server on its port and directory (again, after Stop) and
// waits until it answers PING, which it does only once it has loaded its
// append-only file.
func (s *Server) Start() error {
	if s.cmd != nil {
		return errors.New("redis-server is already running")
	}
	persist := []string{"--appendonly", "no"}
	if s.opts.Persist {
		persist = []string{"--appendonly", "yes", "--appendfsync", "always"}
	}
	logFile := filepath.Join(s.dir, "redis.log")
	args := append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "",
		"--dir", s.dir, "--logfile", logFile}, persist...)
	cmd := exec.Command(s.bin, append(args, s.opts.Args...)...)
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
func (s *Server) Stop() error {
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
func (s *Server) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
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
