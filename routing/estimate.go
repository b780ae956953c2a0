package routing

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// handleSamples is how many recent handle times per queue the wait estimate
// averages.
const handleSamples = 20

// handleTimes remembers, per queue, how long the last handleSamples calls
// this Router saw answered were handled (answer to end of the conversation),
// for Position's wait estimate. It is figures, not routing state: each node
// keeps its own, and a fresh node has none (its estimate is 0 until calls
// finish).
type handleTimes struct {
	mu     sync.Mutex
	start  map[string]time.Time       // answer time by call id, while talking
	recent map[string][]time.Duration // by queue, oldest first
}

func newHandleTimes() *handleTimes {
	return &handleTimes{start: map[string]time.Time{}, recent: map[string][]time.Duration{}}
}

// answered notes that a call's conversation started at at.
func (h *handleTimes) answered(callID string, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.start[callID] = at
}

// finished records the handle time of a conversation that ended at at.
func (h *handleTimes) finished(callID, queue string, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	start, ok := h.start[callID]
	delete(h.start, callID)
	if !ok || at.Before(start) {
		return
	}
	s := append(h.recent[queue], at.Sub(start))
	if len(s) > handleSamples {
		s = s[len(s)-handleSamples:]
	}
	h.recent[queue] = s
}

// forget drops a call that ended without a conversation.
func (h *handleTimes) forget(callID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.start, callID)
}

// average is the mean recent handle time in queue; 0 with no samples.
func (h *handleTimes) average(queue string) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.recent[queue]
	if len(s) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return sum / time.Duration(len(s))
}

// Position tells a waiting call where it stands in its queue.
//
// pos is 1 plus the number of calls of the same queue that are still waiting
// (queued, ringing an agent, or callback requests) with a lower virtual
// arrival key (then enqueue sequence): 1 is the next call to be served. A call
// already talking to an agent has position 0.
//
// ewt is a deliberately simple estimate of the remaining wait:
//
//	ewt = pos × average handle time ÷ agents logged in
//
// where the average handle time is over the last 20 conversations of the
// queue that this Router saw end (answer to hang-up; per node, not shared
// through the store), and the agents logged in are those with the queue's
// skill in any state but logged_out. ewt is 0 when there is no estimate yet
// (no finished conversation, or nobody logged in). It ignores calls of other
// queues competing for the same agents and agents' wrap-up, so treat it as a
// rough figure to tell callers, not a promise.
//
// Errors: ErrUnknownCall, ErrClosed.
func (r *Router) Position(ctx context.Context, callID string) (pos int, ewt time.Duration, err error) {
	if err := r.checkOpen(); err != nil {
		return 0, 0, err
	}
	calls, err := r.store.Calls(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("routing: position of call %q: %w", callID, err)
	}
	// calls are in global key order: every call before ours is ahead of it.
	self, found := Call{}, false
	for _, c := range calls {
		if c.ID == callID {
			self, found = c, true
			break
		}
	}
	if !found {
		return 0, 0, fmt.Errorf("routing: position of call %q: %w", callID, ErrUnknownCall)
	}
	if self.State == CallTalking {
		return 0, 0, nil
	}
	queue := self.Queue
	ahead := 0
	for _, c := range calls {
		if c.ID == callID {
			break
		}
		if c.Queue == queue && c.State != CallTalking {
			ahead++
		}
	}
	pos = ahead + 1

	ewt, err = r.EstimatedWait(ctx, queue, pos)
	if err != nil {
		return pos, 0, fmt.Errorf("routing: position of call %q: %w", callID, err)
	}
	return pos, ewt, nil
}

// EstimatedWait is the rough wait of a caller at position pos in queue
// (see Position for the formula); 0 when there is no estimate yet.
// Errors: ErrUnknownQueue, a store failure.
func (r *Router) EstimatedWait(ctx context.Context, queue string, pos int) (time.Duration, error) {
	q, ok := r.cfg.queue(queue)
	if !ok {
		return 0, fmt.Errorf("routing: estimated wait: queue %q: %w", queue, ErrUnknownQueue)
	}
	aht := r.handled.average(queue)
	if aht == 0 || pos <= 0 {
		return 0, nil
	}
	agents, err := r.store.Agents(ctx)
	if err != nil {
		return 0, fmt.Errorf("routing: estimated wait in %q: %w", queue, err)
	}
	in := 0
	for _, a := range agents {
		if _, has := a.Skills[q.Skill]; has && a.State.LoggedIn() {
			in++
		}
	}
	if in == 0 {
		return 0, nil
	}
	return time.Duration(pos) * aht / time.Duration(in), nil
}

// Callback turns a waiting call into a callback request for number: the
// caller has asked to be called back and is about to hang up. The call keeps
// its place in line (its key) and its Ticket, on which its offer will
// arrive; it no longer overflows. The node that holds the Ticket rings the
// agent, then calls number, and reports Answered and Finished as for any
// call (Leave to give up). Errors: ErrUnknownCall (the call has left, for
// example overflowed meanwhile), ErrNotWaiting (it is talking), ErrClosed.
func (r *Router) Callback(ctx context.Context, callID, number string) error {
	if err := r.checkOpen(); err != nil {
		return err
	}
	if number == "" {
		return fmt.Errorf("routing: callback for call %q: the number to call back is empty; pass the caller's number", callID)
	}
	now := r.clock()
	c, err := r.store.Callback(ctx, callID, number, now)
	if err != nil {
		return fmt.Errorf("routing: callback for call %q: %w", callID, err)
	}
	r.log.Info("call became a callback request", "call", c.ID, "queue", c.Queue, "number", number,
		"key", c.Key, "state", c.State)
	r.logEvent(ctx, QueueEvent{Time: now, Event: LogCallback, CallID: c.ID, Queue: c.Queue, Agent: c.AgentID,
		Tier: c.Tier, Caller: number, WaitMS: waitMS(c.EnqueuedAt, now)})
	return nil
}
