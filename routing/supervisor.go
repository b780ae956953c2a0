package routing

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// DefaultMoveWait is how long a call moved to a named agent waits for them
// (while they are logged in) when MoveToAgent is given no wait.
const DefaultMoveWait = 10 * time.Minute

// Reprioritize changes a waiting call's tier and priority: its place in
// line becomes enqueued_at − boost(tier) − priority, at once. An empty tier
// keeps the call's; priority is an extra head start (negative: a handicap).
// Errors: ErrUnknownCall, ErrNotWaiting (ringing an agent or talking: try
// again when it is back in line), ErrClosed.
func (r *Router) Reprioritize(ctx context.Context, callID, tier string, priority time.Duration) (CallStatus, error) {
	c, err := r.waitingCall(ctx, callID)
	if err != nil {
		return CallStatus{}, fmt.Errorf("routing: reprioritize call %q: %w", callID, err)
	}
	if tier == "" {
		tier = c.Tier
	}
	name, boost := r.cfg.tier(tier)
	if name != tier {
		return CallStatus{}, fmt.Errorf("routing: reprioritize call %q: tier %q: %w (known: %v)", callID, tier, ErrUnknownTier, tierNames(r.cfg.tiers))
	}
	key := c.EnqueuedAt.Add(-boost - priority)
	if key.Equal(c.Key) && name == c.Tier {
		return r.callStatus(c), nil
	}
	now := r.clock()
	changed, err := r.store.Modify(ctx, callID, CallChange{Tier: name, Key: key}, now)
	if err != nil {
		return CallStatus{}, fmt.Errorf("routing: reprioritize call %q: %w", callID, err)
	}
	r.mu.Lock()
	if t := r.tickets[callID]; t != nil {
		t.key = key
	}
	r.mu.Unlock()
	r.log.Info("call reprioritized", "call", callID, "tier", name, "priority", priority, "key", key)
	r.logEvent(ctx, QueueEvent{Time: now, Event: LogReprioritize, CallID: callID, Queue: changed.Queue, Tier: name,
		Caller: changed.Caller, WaitMS: changed.EnqueuedAt.Sub(key).Milliseconds()})
	r.dispatch(ctx)
	return r.callStatus(changed), nil
}

// Move sends a waiting call to another queue: it keeps its place in line
// (its key), its maximum wait and its preferred agent, and takes the new
// queue's skill, skill steps (counted from its first arrival), wrap-up and
// ring lease. Errors: ErrUnknownQueue, ErrUnknownCall, ErrNotWaiting,
// ErrClosed.
func (r *Router) Move(ctx context.Context, callID, queue string) (CallStatus, error) {
	q, ok := r.cfg.queue(queue)
	if !ok {
		return CallStatus{}, fmt.Errorf("routing: move call %q: queue %q: %w", callID, queue, ErrUnknownQueue)
	}
	c, err := r.waitingCall(ctx, callID)
	if err != nil {
		return CallStatus{}, fmt.Errorf("routing: move call %q: %w", callID, err)
	}
	st := steps(q, c.EnqueuedAt)
	if st == nil {
		st = []Step{{At: c.EnqueuedAt, Skill: q.Skill, MinLevel: 1}}
	}
	now := r.clock()
	changed, err := r.store.Modify(ctx, callID, CallChange{Queue: q.Name, Skill: q.Skill, Steps: st,
		WrapUp: q.WrapUp, Lease: q.RingTimeout + LeaseGrace}, now)
	if err != nil {
		return CallStatus{}, fmt.Errorf("routing: move call %q: %w", callID, err)
	}
	r.log.Info("call moved", "call", callID, "from", c.Queue, "to", q.Name)
	r.logEvent(ctx, QueueEvent{Time: now, Event: LogMove, CallID: callID, Queue: q.Name, Tier: changed.Tier,
		Caller: changed.Caller, Reason: c.Queue})
	r.dispatch(ctx)
	return r.callStatus(changed), nil
}

// MoveToAgent sends a waiting call to a named agent: the agent is offered it
// as soon as they are ready, and the call waits for them for wait (0:
// DefaultMoveWait) while they are logged in, then anyone qualified may take
// it. Errors: ErrUnknownAgent, ErrUnknownCall, ErrNotWaiting, ErrClosed.
func (r *Router) MoveToAgent(ctx context.Context, callID, agentID string, wait time.Duration) (CallStatus, error) {
	if _, ok := r.cfg.agentIndex[agentID]; !ok {
		return CallStatus{}, fmt.Errorf("routing: move call %q to agent %q: %w", callID, agentID, ErrUnknownAgent)
	}
	if wait <= 0 {
		wait = DefaultMoveWait
	}
	if _, err := r.waitingCall(ctx, callID); err != nil {
		return CallStatus{}, fmt.Errorf("routing: move call %q to agent %q: %w", callID, agentID, err)
	}
	now := r.clock()
	changed, err := r.store.Modify(ctx, callID, CallChange{PreferredAgent: agentID, PreferUntil: now.Add(wait)}, now)
	if err != nil {
		return CallStatus{}, fmt.Errorf("routing: move call %q to agent %q: %w", callID, agentID, err)
	}
	r.log.Info("call moved to agent", "call", callID, "agent", agentID, "wait", wait)
	r.logEvent(ctx, QueueEvent{Time: now, Event: LogMove, CallID: callID, Queue: changed.Queue, Agent: agentID,
		Tier: changed.Tier, Caller: changed.Caller, Reason: changed.Queue})
	r.dispatch(ctx)
	return r.callStatus(changed), nil
}

// waitingCall returns the call if it is queued.
func (r *Router) waitingCall(ctx context.Context, callID string) (Call, error) {
	if err := r.checkOpen(); err != nil {
		return Call{}, err
	}
	calls, err := r.store.Calls(ctx)
	if err != nil {
		return Call{}, err
	}
	for _, c := range calls {
		if c.ID != callID {
			continue
		}
		if c.State != CallQueued {
			return Call{}, fmt.Errorf("it is %s with agent %q: %w (try again once it is back in line)", c.State, c.AgentID, ErrNotWaiting)
		}
		return c, nil
	}
	return Call{}, ErrUnknownCall
}

func tierNames(tiers map[string]time.Duration) []string {
	var out []string
	for name := range tiers {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}
