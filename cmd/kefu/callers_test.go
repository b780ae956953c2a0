package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kefu/cmd/kefu/internal/config"
	"kefu/ivr"
	"kefu/routing/directory"
)

// TestCallersRoute: the preferred agent of a caller entering each queue —
// the account manager first, else the agent who answered the last call in a
// queue with last_agent_wait — and what the history records of a call.
func TestCallersRoute(t *testing.T) {
	path := filepath.Join(t.TempDir(), "customers.csv")
	if err := os.WriteFile(path, []byte("number,name,value_score,tenure_months,brand,vip,account_manager,stars\n"+
		"13800000005,王建国,1860.5,132,GoTone,yes,1001,5\n13800000001,李小梅,42,7,Easyown,no,,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	svc := directory.NewService(directory.Options{File: path,
		Policy: directory.Policy{Boosts: map[string]time.Duration{"vip": 2 * time.Minute, "one_star": 0}}})
	ctx := context.Background()
	if err := svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	c := newCallers(svc, []config.Queue{
		{Name: "billing", AccountManagerWait: config.Duration(30 * time.Second), LastAgentWait: config.Duration(20 * time.Second)},
		{Name: "data", AccountManagerWait: config.Duration(30 * time.Second)},
		{Name: "complaints"},
	}, slog.New(slog.DiscardHandler))

	if rt := c.Route(ctx, "+8613800000005", "billing"); rt.Tier != "vip" || rt.PreferredAgent != "1001" || rt.PreferWait != 30*time.Second {
		t.Errorf("VIP with an account manager: %+v", rt)
	}
	if rt := c.Route(ctx, "13800000005", "complaints"); rt.PreferredAgent != "" {
		t.Errorf("a queue without account-manager wait: %+v", rt)
	}
	if rt := c.Route(ctx, "13800000001", "billing"); rt.Tier != "one_star" || rt.PreferredAgent != "" {
		t.Errorf("first call of a one-star customer: %+v", rt)
	}

	// The one-star customer's call is answered by 1002 in billing.
	c.finished(ctx, "13800000001", &ivr.Result{Queue: "billing", QueueOutcome: ivr.QueueAnswered, AgentID: "1002", Survey: map[string]string{"satisfaction": "4"}})
	if rt := c.Route(ctx, "13800000001", "billing"); rt.PreferredAgent != "1002" || rt.PreferWait != 20*time.Second {
		t.Errorf("second call, queue with last_agent_wait: %+v, want 1002 for 20s", rt)
	}
	if rt := c.Route(ctx, "13800000001", "data"); rt.PreferredAgent != "" {
		t.Errorf("second call, queue without last_agent_wait: %+v", rt)
	}
	v, err := c.Explain(ctx, "13800000001")
	if err != nil || !v.Repeat || v.Last == nil || v.Last.Agent != "1002" || v.Last.Outcome != "answered" || v.Last.Survey["satisfaction"] != "4" {
		t.Fatalf("explain after a call: %+v %v", v, err)
	}
	if len(v.PreferredAgents) != 1 || v.PreferredAgents[0].Queue != "billing" || v.PreferredAgents[0].Reason != "last_agent" {
		t.Errorf("preferred agents: %+v", v.PreferredAgents)
	}

	// Outcomes: hung up in the queue, left without a queue, anonymous.
	c.finished(ctx, "13800000005", &ivr.Result{Queue: "billing"})
	c.finished(ctx, "13999999999", &ivr.Result{})
	c.finished(ctx, "anonymous", &ivr.Result{})
	for number, want := range map[string]string{"13800000005": "abandoned", "13999999999": "ivr"} {
		if v, _ := c.Explain(ctx, number); v.Last == nil || v.Last.Outcome != want {
			t.Errorf("%s: last contact %+v, want outcome %s", number, v.Last, want)
		}
	}
	if v, _ := c.Explain(ctx, "anonymous"); !v.Anonymous || v.Last != nil {
		t.Errorf("anonymous caller: %+v", v)
	}
	// Lookup nodes see the history too.
	cu, found, err := c.Lookup(ctx, "13999999999")
	if err != nil || found || cu.Last == nil || cu.Last.Outcome != "ivr" || !cu.Repeat {
		t.Errorf("lookup of an unknown repeat caller: %+v %v %v", cu, found, err)
	}
}
