package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kefu/routing"
	"kefu/routing/callrecord"
	"kefu/sip/testphone"
)

// startRedis runs a redis-server of the test's own on a free port, keeping
// nothing on disk, and returns its URL.
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server not found: install Debian package redis-server (bash .ci/run does it)")
	}
	port := freePort(t)
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitFor(t, 10*time.Second, "redis-server", func() bool {
		o, err := exec.Command("redis-cli", "-p", fmt.Sprint(port), "ping").Output()
		return err == nil && strings.TrimSpace(string(o)) == "PONG"
	})
	return fmt.Sprintf("redis://127.0.0.1:%d/0?prefix=e2e", port)
}

// TestRedisRoutedCall routes a real call through a router whose state is in
// Redis: the caller queues before answer (10087), agent 1001 is offered the
// call, answers, the audio is bridged both ways, and the router's state is
// in Redis under the deployment's prefix.
func TestRedisRoutedCall(t *testing.T) {
	url := startRedis(t)
	k := startKefuWith(t, "", sampleFlows, url)
	agent := k.phone("1001", "pw1001", testphone.Options{Fill: 0x37})
	k.ready("1001")
	caller := k.phone("13800000001", "", testphone.Options{Fill: 0x42})
	c := dial(t, caller, k, "10087")
	ac := incoming(t, agent, 15*time.Second)
	waitFor(t, 10*time.Second, "agent talking", func() bool { return k.agent("1001").State == routing.AgentTalking })
	waitFor(t, 10*time.Second, "caller audio at the agent", func() bool { return ac.CountFill(0x42) >= 25 })
	waitFor(t, 10*time.Second, "agent audio at the caller", func() bool { return c.CountFill(0x37) >= 25 })

	port := url[strings.LastIndex(url, ":")+1 : strings.Index(url, "/0")]
	keys, err := exec.Command("redis-cli", "-p", port, "--scan", "--pattern", "kefu:{e2e}:*").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kefu:{e2e}:agent:1001", "kefu:{e2e}:call:" + c.CallID(), "kefu:{e2e}:events"} {
		if !strings.Contains(string(keys), want) {
			t.Errorf("Redis lacks %s; it has:\n%s", want, keys)
		}
	}
	events, err := exec.Command("redis-cli", "-p", port, "XRANGE", "kefu:{e2e}:events", "-", "+").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ADDMEMBER", "ENTERQUEUE", "AGENTCALLED", "CONNECT", c.CallID()} {
		if !strings.Contains(string(events), want) {
			t.Errorf("event stream lacks %s; it has:\n%s", want, events)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	k.idle()
	// The call's record is in the nodes' shared stream, not the file.
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port})
	defer rdb.Close()
	var recs []callrecord.Record
	waitFor(t, 10*time.Second, "the call record in the Redis Stream", func() bool {
		recs, err = callrecord.ReadStream(context.Background(), rdb, "kefu:{e2e}:records", time.Time{}, time.Time{})
		return err == nil && len(recs) == 1
	})
	if r := recs[0]; r.CallID != c.CallID() || r.Disposition != callrecord.Answered || r.Agent != "1001" || r.Queue != "billing" {
		t.Errorf("record in the stream: %+v", r)
	}
	if b, err := os.ReadFile(filepath.Join(k.data, "records.jsonl")); err != nil || len(b) != 0 {
		t.Errorf("the spool file holds %q (%v); with Redis reachable it stays empty", b, err)
	}
}
