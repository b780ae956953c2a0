package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"kefu/routing"
)

// BenchmarkEnqueueMatch measures a store's enqueue and match rate; a store
// package calls it from its own BenchmarkEnqueueMatch.
//
//   - offer: Enqueue + Match (one offer) + Answer + Finish, with 50 agents,
//     the full life of a call through the store (4 operations).
//   - backlog: Enqueue + Match with every agent busy, so the queue grows to
//     b.N calls; shows that a matching pass costs nothing per waiting call
//     when no agent is free.
//   - busy-queues: Enqueue + Match + Answer + Finish while 5,000 calls wait in
//     other skills' queues that have no ready agent.
func BenchmarkEnqueueMatch(b *testing.B, newStore func(b *testing.B) routing.Store) {
	b.Run("offer", func(b *testing.B) { benchOffer(b, newStore(b), 0) })
	b.Run("backlog", func(b *testing.B) { benchBacklog(b, newStore(b)) })
	b.Run("busy-queues", func(b *testing.B) { benchOffer(b, newStore(b), 5000) })
}

func benchAgents(b *testing.B, s routing.Store, n int, skill string, ready bool) {
	ctx := context.Background()
	for i := range n {
		id := fmt.Sprintf("%s-%03d", skill, i)
		if err := s.PutAgents(ctx, []routing.AgentConfig{{ID: id, Skills: map[string]int{skill: 1 + i%5}}}, t0()); err != nil {
			b.Fatal(err)
		}
		state := routing.AgentNotReady
		if ready {
			state = routing.AgentReady
		}
		if _, err := s.SetAgentState(ctx, id, state, "", false, t0()); err != nil {
			b.Fatal(err)
		}
	}
}

func benchOffer(b *testing.B, s routing.Store, waiting int) {
	ctx := context.Background()
	benchAgents(b, s, 50, "billing", true)
	if waiting > 0 {
		benchAgents(b, s, 5, "complaints", false)
		for i := range waiting {
			if _, err := s.Enqueue(ctx, call(fmt.Sprint("w", i), "complaints", t0(), 0), routing.EnqueueOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	now := t0()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		now = now.Add(time.Millisecond)
		if _, err := s.Enqueue(ctx, call(fmt.Sprint("c", i), "billing", now, 0), routing.EnqueueOptions{}); err != nil {
			b.Fatal(err)
		}
		res, err := s.Match(ctx, now)
		if err != nil || len(res.Offers) != 1 {
			b.Fatalf("Match: %v, offers %d", err, len(res.Offers))
		}
		if _, err := s.Answer(ctx, res.Offers[0], now); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Finish(ctx, res.Offers[0], now); err != nil {
			b.Fatal(err)
		}
	}
}

func benchBacklog(b *testing.B, s routing.Store) {
	ctx := context.Background()
	benchAgents(b, s, 50, "billing", false)
	now := t0()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		now = now.Add(time.Millisecond)
		if _, err := s.Enqueue(ctx, call(fmt.Sprint("c", i), "billing", now, 0), routing.EnqueueOptions{}); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Match(ctx, now); err != nil {
			b.Fatal(err)
		}
	}
}
