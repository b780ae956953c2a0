package nodetest

import (
	"testing"
	"time"

	"kefu/routing"
)

// TestRedisRestartWithoutPersistence: a Redis restarted without
// persistence comes back empty, even when the restart is shorter than one
// heartbeat (or absorbed by go-redis's dial retries, so no heartbeat ever
// fails); Run registers the agents again, so they can log in and take calls.
func TestRedisRestartWithoutPersistence(t *testing.T) {
	srv := startRedis(t, false) // no AOF: a restart empties Redis
	cfg := routing.Config{Queues: []routing.QueueConfig{{Name: "support", Skill: "support"}},
		Agents: []routing.AgentConfig{{ID: "a1", Skills: map[string]int{"support": 3}}}, NodeTTL: 5 * time.Second, Node: "n1"}
	n := startNode(t, srv, "np", cfg)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	err := poll(time.Now().Add(10*time.Second), func() error { // 8 beats
		return n.router.SetAgentState(t.Context(), "a1", routing.AgentReady, "")
	})
	if err != nil {
		t.Fatalf("10s after a restart without persistence: %v", err)
	}
}
