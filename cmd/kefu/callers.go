package main

import (
	"context"
	"log/slog"
	"time"

	"kefu/cmd/kefu/internal/api"
	"kefu/cmd/kefu/internal/config"
	"kefu/ivr"
	"kefu/routing/directory"
	"kefu/sip"
)

// callers answers "who is calling" for the flows (lookup nodes), the SIP
// front end (the tier and preferred agent a caller is queued with) and the
// API, from the customer directory and the caller history; and records each
// finished call as its caller's last contact.
type callers struct {
	svc *directory.Service
	// queues are the queues' settings by name, order their names.
	queues map[string]config.Queue
	order  []string
	log    *slog.Logger
	// close releases the directory's store.
	close func() error
}

// lookupTimeout bounds the directory lookup made when a call is queued.
const lookupTimeout = 2 * time.Second

func newCallers(svc *directory.Service, queues []config.Queue, log *slog.Logger) *callers {
	c := &callers{svc: svc, queues: map[string]config.Queue{}, log: log, close: func() error { return nil }}
	for _, q := range queues {
		c.queues[q.Name] = q
		c.order = append(c.order, q.Name)
	}
	return c
}

// Lookup implements ivr.Directory for lookup nodes: the caller's grade,
// brand, VIP flag, account manager, the directory's extra columns and the
// last contact, with the routing tier the router will use.
func (c *callers) Lookup(ctx context.Context, number string) (ivr.Customer, bool, error) {
	who, err := c.svc.Caller(ctx, number)
	if err != nil && !who.Found && who.Last == nil {
		return ivr.Customer{Number: who.Number}, false, err
	}
	if err != nil {
		c.log.Warn("caller history unavailable", "caller", number, "err", err)
	}
	out := ivr.Customer{Number: who.Number, Tier: who.Tier, Repeat: who.Repeat}
	if l := who.Last; l != nil {
		out.Last = &ivr.Contact{At: l.At, Queue: l.Queue, Agent: l.Agent, Outcome: l.Outcome, Survey: l.Survey}
	}
	if !who.Found {
		return out, false, nil
	}
	cu := who.Customer
	out.Stars, out.Brand, out.VIP, out.Manager, out.Extra = cu.Stars, cu.Brand, cu.VIP, cu.AccountManager, cu.Extra
	return out, true, nil
}

// Route implements sip.Directory: the caller's tier and preferred agent
// (see preferred). A directory that cannot be asked leaves the caller with
// the unknown tier: the call is queued all the same.
func (c *callers) Route(ctx context.Context, number, queue string) sip.Route {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	who, err := c.svc.Caller(ctx, number)
	if err != nil {
		c.log.Warn("customer directory unavailable: queued with what is known", "caller", number, "tier", who.Tier, "err", err)
	}
	p := c.preferred(who, queue)
	return sip.Route{Tier: who.Tier, PreferredAgent: p.agent, PreferWait: p.wait}
}

// preference is the agent a caller waits for first, why, and how long.
type preference struct {
	agent, reason string
	wait          time.Duration
}

// preferred returns the agent a caller waits for first in queue: the
// account manager (for the queue's account_manager_wait), else, when the
// queue has last_agent_wait, the agent who answered the caller's last call.
func (c *callers) preferred(who directory.Caller, queue string) preference {
	q := c.queues[queue]
	switch {
	case who.Found && who.Customer.AccountManager != "" && q.AccountManagerWait > 0:
		return preference{who.Customer.AccountManager, "account_manager", q.AccountManagerWait.D()}
	case q.LastAgentWait > 0 && who.Last != nil && who.Last.Agent != "":
		return preference{who.Last.Agent, "last_agent", q.LastAgentWait.D()}
	}
	return preference{}
}

// Explain implements api.Customers: what the router will use for a caller.
func (c *callers) Explain(ctx context.Context, number string) (api.CustomerView, error) {
	who, err := c.svc.Caller(ctx, number)
	if err != nil {
		return api.CustomerView{}, err
	}
	v := api.CustomerView{Caller: who, HeadStartSeconds: who.HeadStart.Seconds()}
	for _, name := range c.order {
		p := c.preferred(who, name)
		if p.agent != "" {
			v.PreferredAgents = append(v.PreferredAgents, api.PreferredAgent{Queue: name, Agent: p.agent, Reason: p.reason, WaitSeconds: p.wait.Seconds()})
		}
	}
	return v, nil
}

// Status implements api.Customers.
func (c *callers) Status() directory.Status { return c.svc.Status() }

// Reload implements api.Customers.
func (c *callers) Reload(ctx context.Context) error { return c.svc.Reload(ctx, "API") }

// finished records a call that ended as its caller's last contact, and
// returns what the directory knows of the caller (for the call record).
func (c *callers) finished(ctx context.Context, number string, res *ivr.Result) directory.Caller {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupTimeout)
	defer cancel()
	who, err := c.svc.Caller(lctx, number)
	if err != nil {
		c.log.Warn("customer directory unavailable for the call record", "caller", number, "err", err)
	}
	ct := directory.Contact{Number: number, Queue: res.Queue, Agent: res.AgentID, Survey: res.Survey}
	switch {
	case res.AgentID != "":
		ct.Outcome = "answered"
	case res.Queue != "" && res.QueueOutcome == "":
		ct.Outcome = "abandoned" // hung up while waiting
	case res.Queue != "":
		ct.Outcome = string(res.QueueOutcome)
	default:
		ct.Outcome = "ivr"
	}
	if err := c.svc.Record(lctx, ct); err != nil {
		c.log.Warn("caller history not updated", "caller", number, "err", err)
	}
	return who
}
