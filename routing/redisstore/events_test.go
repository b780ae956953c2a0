package redisstore_test

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kefu/routing"
	"kefu/routing/redisstore"
)

// TestEventLogStream routes one call through a Router on the Redis store with
// the store's EventLog, and reads the stream back with XRANGE: the events in
// order, each field a stream field, empty fields left out.
func TestEventLogStream(t *testing.T) {
	r := startRedis(t)
	store, err := redisstore.New(r.client, "events")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Date(2025, 3, 1, 9, 0, 0, 5, time.UTC)
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	router, err := routing.NewRouter(routing.Config{
		Queues: []routing.QueueConfig{{Name: "billing", Skill: "billing"}},
		Agents: []routing.AgentConfig{{ID: "1001", Skills: map[string]int{"billing": 5}}},
		Now:    func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		Events: store.EventLog(1000),
	}, store)
	if err != nil {
		t.Fatal(err)
	}
	defer router.Close()
	ctx := t.Context()
	if err := router.SetAgentState(ctx, "1001", routing.AgentReady, ""); err != nil {
		t.Fatal(err)
	}
	tk, err := router.Enqueue(ctx, routing.CallRequest{CallID: "c1", Queue: "billing", Tier: "vip", Caller: "+4930123"})
	if err != nil {
		t.Fatal(err)
	}
	var o routing.Offer
	select {
	case e := <-tk.Events():
		o = e.Offer
	default:
		t.Fatal("no offer")
	}
	advance(2 * time.Second)
	if err := router.Answered(ctx, o); err != nil {
		t.Fatal(err)
	}
	advance(time.Minute)
	if err := router.Finished(ctx, o); err != nil {
		t.Fatal(err)
	}

	tok := strconv.FormatUint(o.Token, 10)
	t0, t2, t62 := "2025-03-01T09:00:00.000000005Z", "2025-03-01T09:00:02.000000005Z", "2025-03-01T09:01:02.000000005Z"
	want := []map[string]any{
		{"time": t0, "event": "ADDMEMBER", "agent": "1001"},
		{"time": t0, "event": "ENTERQUEUE", "call_id": "c1", "queue": "billing", "tier": "vip", "caller": "+4930123"},
		{"time": t0, "event": "AGENTCALLED", "call_id": "c1", "queue": "billing", "agent": "1001", "token": tok},
		{"time": t2, "event": "CONNECT", "call_id": "c1", "queue": "billing", "agent": "1001", "tier": "vip",
			"caller": "+4930123", "wait_ms": "2000", "token": tok},
		{"time": t62, "event": "COMPLETE", "call_id": "c1", "queue": "billing", "agent": "1001", "tier": "vip",
			"caller": "+4930123", "wait_ms": "2000", "talk_ms": "60000", "token": tok},
	}
	msgs, err := r.client.XRange(ctx, "kefu:{events}:events", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != len(want) {
		t.Fatalf("%d stream entries, want %d: %v", len(msgs), len(want), msgs)
	}
	for i, m := range msgs {
		if !equalFields(m.Values, want[i]) {
			t.Errorf("entry %d (%s) = %v, want %v", i, m.ID, m.Values, want[i])
		}
	}
	// Field order within an entry follows QueueEvent.Fields.
	raw, err := r.client.Do(ctx, "XRANGE", "kefu:{events}:events", "-", "+", "COUNT", "1").Slice()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i, v := range raw[0].([]any)[1].([]any) {
		if i%2 == 0 {
			names = append(names, v.(string))
		}
	}
	if !slices.Equal(names, []string{"time", "event", "agent"}) {
		t.Errorf("first entry's field names %v, want time, event, agent", names)
	}
}

func equalFields(got, want map[string]any) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// TestEventLogStreamTrimmed: with MAXLEN ~ 10 the stream does not keep every
// one of 1,000 events (Redis trims whole nodes of up to 100 entries, so
// about maxLen to maxLen+100 are kept), and the newest is kept; errors
// from a closed client are returned.
func TestEventLogStreamTrimmed(t *testing.T) {
	r := startRedis(t)
	store, err := redisstore.New(r.client, "trim")
	if err != nil {
		t.Fatal(err)
	}
	log := store.EventLog(10)
	ctx := t.Context()
	for i := range 1000 {
		if err := log.Append(ctx, routing.QueueEvent{Time: time.Unix(0, 0).UTC(), Event: routing.LogEnterQueue, CallID: strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := r.client.XLen(ctx, "kefu:{trim}:events").Result()
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 || n > 110 {
		t.Fatalf("XLEN = %d after 1000 appends with MAXLEN ~ 10, want 10 to 110", n)
	}
	last, err := r.client.XRevRangeN(ctx, "kefu:{trim}:events", "+", "-", 1).Result()
	if err != nil || len(last) != 1 || last[0].Values["call_id"] != "999" {
		t.Fatalf("newest entry %v (%v), want call 999", last, err)
	}

	closedClient := redis.NewClient(&redis.Options{Addr: r.client.Options().Addr})
	closedClient.Close()
	dead, err := redisstore.New(closedClient, "dead")
	if err != nil {
		t.Fatal(err)
	}
	if err := dead.EventLog(10).Append(context.Background(), routing.QueueEvent{Event: routing.LogPause}); err == nil {
		t.Fatal("Append on a closed client succeeded")
	}
}
