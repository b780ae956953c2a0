package memstore

import (
	"context"
	"testing"
	"time"

	"kefu/routing"
)

// TestConditionalIndexForgetsRow: a row that stops qualifying for a
// conditional index (a queued call becoming offered) leaves that index.
// memdb keeps the old entry if FromObject returns the unused key with ok
// false, which once made calls be offered twice.
func TestConditionalIndexForgetsRow(t *testing.T) {
	s := New()
	ctx := context.Background()
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
	if res, err := s.Match(ctx, now); err != nil || len(res.Offers) != 1 {
		t.Fatalf("Match: %v %+v", err, res)
	}
	txn := s.db.Txn(false)
	for _, index := range []string{indexQueuedSkill, indexQueuedPreferred, indexDeadline, indexPreferUntil} {
		if raw, err := txn.First(tableCalls, index); err != nil || raw != nil {
			t.Errorf("index %s still holds %+v (err %v) after the call was offered", index, raw, err)
		}
	}
	for _, index := range []string{indexReadySkill, indexWrap} {
		if raw, err := txn.First(tableAgents, index); err != nil || raw != nil {
			t.Errorf("index %s still holds %+v (err %v) after the agent was offered", index, raw, err)
		}
	}
}
