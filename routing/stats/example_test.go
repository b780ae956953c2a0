package stats_test

import (
	"context"
	"fmt"
	"time"

	"kefu/routing"
	"kefu/routing/stats"
)

// Stats is a routing.EventLog: give it to routing.Config.Events (with
// routing.EventLogs beside the JSONL or stream log) and read Snapshot.
func Example() {
	now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	s, err := stats.New(stats.Config{
		Queues:  []routing.QueueConfig{{Name: "billing", Skill: "billing", ServiceLevel: 20 * time.Second, WrapUp: 30 * time.Second}},
		Windows: []time.Duration{15 * time.Minute},
		Now:     func() time.Time { return now },
	}, stats.NewMemory()) // or stats.NewRedis(client, "kefu:{prod}:")
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for _, e := range []routing.QueueEvent{
		{Time: now, Event: routing.LogEnterQueue, CallID: "c1", Queue: "billing", Tier: "vip"},
		{Time: now, Event: routing.LogConnect, CallID: "c1", Queue: "billing", Tier: "vip", WaitMS: 12_000},
		{Time: now, Event: routing.LogComplete, CallID: "c1", Queue: "billing", Tier: "vip", TalkMS: 90_000},
		{Time: now, Event: routing.LogEnterQueue, CallID: "c2", Queue: "billing"},
		{Time: now, Event: routing.LogAbandon, CallID: "c2", Queue: "billing", WaitMS: 45_000},
	} {
		if err := s.Append(ctx, e); err != nil {
			panic(err)
		}
	}
	snap, err := s.Snapshot(ctx)
	if err != nil {
		panic(err)
	}
	for _, q := range snap.Windows[0].Queues {
		fmt.Printf("%s: entered %d, service level %.2f, abandon rate %.2f, ASA %.0fs, AHT %.0fs\n", q.Queue,
			q.Entered, *q.ServiceLevel, *q.AbandonRate, *q.ASASeconds, *q.AHTSeconds)
	}
	// Output:
	// billing: entered 2, service level 0.50, abandon rate 0.50, ASA 12s, AHT 120s
}
