package routing

import (
	"context"
	"errors"
	"slices"
	"time"
)

// maxRetries bounds the operations kept for retry (the oldest go first).
const maxRetries = 10000

// Run keeps the node's part in a shared store going until ctx ends: it
// heartbeats every NodeTTL/4 (when Config.Node is set), hands events other
// nodes publish for this node's calls (Config.Bus) to their Tickets, retries
// store operations that failed because the store was unreachable, and runs a
// matching pass with each beat, so that lost nodes and lapsed leases are
// recovered even when nothing else happens.
//
// Run returns ctx's error when ctx ends, without any cleanup: a node whose
// Run stopped is, to the others, a lost node once its heartbeat lapses.
// That is what a crash looks like, and what tests do to simulate one.
func (r *Router) Run(ctx context.Context) error {
	if err := r.checkOpen(); err != nil {
		return err
	}
	var events <-chan Event
	subscribed := r.bus == nil || r.cfg.node == ""
	subscribe := func() {
		// The bus may be unreachable when the node starts (or Redis is
		// restarting): the node runs without it and tries again with each
		// beat; offers published meanwhile are recovered by their leases.
		ch, err := r.bus.Subscribe(ctx, r.cfg.node)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("not subscribed to the bus yet: offers made on other nodes reach this node's calls after their lease",
					"node", r.cfg.node, "err", err)
			}
			return
		}
		events, subscribed = ch, true
	}
	if !subscribed {
		subscribe()
	}
	beat := time.NewTicker(max(r.cfg.nodeTTL/4, time.Millisecond))
	defer beat.Stop()
	healthy := r.beat(ctx, true)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-events:
			if !ok {
				events, subscribed = nil, false
				continue
			}
			r.receive(e)
		case <-beat.C:
			if !subscribed {
				subscribe()
			}
			healthy = r.beat(ctx, healthy)
		}
	}
}

// beat sends one heartbeat, registers the agents again (a store that lost
// its data gets them back, logged out), retries pending operations and runs
// a matching pass. healthy says whether the last beat reached the store; it
// reports whether this beat reached the store.
func (r *Router) beat(ctx context.Context, healthy bool) bool {
	now := r.clock()
	if r.cfg.node != "" {
		err := r.store.Heartbeat(ctx, Node{ID: r.cfg.node, Until: now.Add(r.cfg.nodeTTL), LostState: r.cfg.lostState})
		if err != nil {
			if ctx.Err() == nil && healthy {
				r.log.Error("heartbeat failed: the store is unreachable; calls in progress go on, routing waits",
					"node", r.cfg.node, "err", err)
			}
			return false
		}
	}
	if !healthy {
		r.log.Info("store reachable again", "node", r.cfg.node)
	}
	// A store that lost its data (a Redis restarted without persistence,
	// however briefly) gets the agents back, logged out; PutAgents keeps
	// the state of agents it still has.
	if err := r.store.PutAgents(ctx, r.cfg.agents, now); err != nil && ctx.Err() == nil {
		r.log.Warn("registering the agents again failed", "err", err)
	}
	r.runRetries(ctx)
	if err := r.Tick(ctx); err != nil && !errors.Is(err, ErrClosed) && ctx.Err() == nil {
		r.log.Warn("matching pass failed", "err", err)
	}
	return true
}

// receive hands an event published by another node to the call's Ticket.
func (r *Router) receive(e Event) {
	var t *Ticket
	if e.Kind == EventOverflow {
		t = r.takeTicket(e.Offer.CallID)
	} else {
		r.mu.Lock()
		t = r.tickets[e.Offer.CallID]
		r.mu.Unlock()
	}
	if t == nil {
		r.log.Debug("bus event for a call with no ticket here", append(offerAttrs(e.Offer), "event", e.Kind)...)
		return
	}
	if !t.send(e) {
		r.log.Warn("bus event not delivered: ticket closed or full", append(offerAttrs(e.Offer), "event", e.Kind)...)
	}
	if e.Kind == EventOverflow {
		t.close()
	}
}

// retryLater keeps op for Run to retry when err says the store could not be
// reached, rather than that the routing state refused the operation.
func (r *Router) retryLater(err error, what string, fn func(ctx context.Context) error) {
	if !transient(err) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.retries) >= maxRetries {
		r.log.Error("too many store operations waiting for retry; dropping the oldest", "dropped", r.retries[0].what)
		r.retries = r.retries[1:]
	}
	r.retries = append(r.retries, retryOp{what: what, fn: fn})
	r.log.Warn("store operation failed; it will be retried", "op", what, "err", err)
}

// runRetries retries the kept operations in order, keeping those that fail
// again for a transient reason.
func (r *Router) runRetries(ctx context.Context) {
	r.mu.Lock()
	ops := r.retries
	r.retries = nil
	r.mu.Unlock()
	var keep []retryOp
	for i, op := range ops {
		err := op.fn(ctx)
		switch {
		case err == nil:
			r.log.Info("store operation retried", "op", op.what)
		case transient(err):
			keep = append(keep, ops[i:]...)
		default:
			r.log.Warn("store operation retried and refused; dropped", "op", op.what, "err", err)
			continue
		}
		if err != nil {
			break
		}
	}
	if len(keep) > 0 {
		r.mu.Lock()
		r.retries = append(keep, r.retries...)
		r.mu.Unlock()
	}
}

// transient reports whether err is a failure to reach the store rather than
// a routing answer.
func transient(err error) bool {
	if err == nil {
		return false
	}
	for _, domain := range []error{ErrStaleOffer, ErrUnknownCall, ErrUnknownAgent, ErrUnknownQueue,
		ErrDuplicateCall, ErrAgentBusy, ErrInvalidState, ErrNotWaiting, ErrClosed, ErrNoAgents, ErrQueueFull} {
		if errors.Is(err, domain) {
			return false
		}
	}
	return !errors.Is(err, context.Canceled)
}

// leaveEmptyQueues makes the queued calls of every LeaveWhenEmpty queue
// served by skills leave when no agent with the queue's skills is logged in
// any more: each leaves with an overflow (reason "empty") on its Ticket.
func (r *Router) leaveEmptyQueues(ctx context.Context, skills map[string]int) {
	var queues []QueueConfig
	for _, q := range r.cfg.queues {
		if !q.LeaveWhenEmpty {
			continue
		}
		for _, st := range queueSkills(q) {
			if _, ok := skills[st]; ok {
				queues = append(queues, q)
				break
			}
		}
	}
	if len(queues) == 0 {
		return
	}
	agents, err := r.store.Agents(ctx)
	if err != nil {
		r.log.Warn("checking for empty queues failed", "err", err)
		return
	}
	calls, err := r.store.Calls(ctx)
	if err != nil {
		r.log.Warn("checking for empty queues failed", "err", err)
		return
	}
	for _, q := range queues {
		staffed := false
		for _, a := range agents {
			for _, st := range queueSkills(q) {
				if _, ok := a.Skills[st]; ok && a.State.LoggedIn() {
					staffed = true
				}
			}
		}
		if staffed {
			continue
		}
		now := r.clock()
		for _, c := range calls {
			if c.Queue != q.Name || c.State != CallQueued {
				continue
			}
			left, err := r.store.Leave(ctx, c.ID, now)
			if err != nil {
				continue // answered or gone meanwhile
			}
			r.log.Info("call left an empty queue", "call", left.ID, "queue", q.Name)
			r.logEvent(ctx, QueueEvent{Time: now, Event: LogExitEmpty, CallID: left.ID, Queue: left.Queue,
				Tier: left.Tier, Caller: left.Caller, WaitMS: waitMS(left.EnqueuedAt, now)})
			r.send(ctx, left.Node, Event{Kind: EventOverflow, Offer: Offer{CallID: left.ID, Queue: left.Queue, At: now,
				Node: left.Node}, Reason: "empty"})
		}
	}
}

// queueSkills returns the skills that can serve queue q.
func queueSkills(q QueueConfig) []string {
	out := []string{q.Skill}
	for _, st := range q.Steps {
		if !slices.Contains(out, st.Skill) {
			out = append(out, st.Skill)
		}
	}
	return out
}
