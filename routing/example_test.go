package routing_test

import (
	"context"
	"fmt"
	"time"

	"kefu/routing"
	"kefu/routing/memstore"
)

// The SIP layer's side of a call: enqueue, wait for an offer, ring the agent,
// report the outcome.
func Example() {
	ctx := context.Background()
	r, err := routing.NewRouter(routing.Config{
		Queues: []routing.QueueConfig{{Name: "billing", Skill: "billing", WrapUp: 10 * time.Second}},
		Agents: []routing.AgentConfig{{ID: "1001", Skills: map[string]int{"billing": 5}}},
	}, memstore.New())
	if err != nil {
		panic(err)
	}
	defer r.Close()

	r.SetAgentState(ctx, "1001", routing.AgentReady, "")
	ticket, err := r.Enqueue(ctx, routing.CallRequest{CallID: "call-1", Caller: "13800000005", Queue: "billing", Tier: "vip"})
	if err != nil {
		panic(err) // errors.Is(err, routing.ErrNoAgents): take the flow's no_agents exit
	}
	ev := <-ticket.Events()
	fmt.Println(ev.Kind, ev.Offer.CallID, "→", ev.Offer.AgentID)
	// ... INVITE the agent; on 200 OK:
	r.Answered(ctx, ev.Offer)
	// ... bridge; on BYE from either side:
	r.Finished(ctx, ev.Offer)
	_, open := <-ticket.Events()
	fmt.Println("ticket open:", open)
	agents, _ := r.Agents(ctx)
	fmt.Println(agents[0].ID, agents[0].State)
	// Output:
	// offer call-1 → 1001
	// ticket open: false
	// 1001 wrap_up
}
