package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"kefu/ivr"
	"kefu/routing"
)

// trails follows each call in progress on this node: the IVR nodes it went
// through with the keys pressed (masked where sensitive), and its queue
// times, for agents' screen pops and for the call record written when it
// ends. It is an ivr.Observer and a routing.EventLog.
type trails struct {
	mu    sync.Mutex
	calls map[string]*trail
	now   func() time.Time
}

// trail is what is known of one call.
type trail struct {
	Start time.Time
	Steps []trailStep
	// Timeline lists what happened, in order.
	Timeline []timelineEntry
	// Queue is the last queue entered; Tier the tier it was queued with.
	Queue, Tier string
	// Enqueued, Offered (first offer), Answered and AgentEnd are zero
	// until they happen.
	Enqueued, Offered, Answered, AgentEnd time.Time
	Agent                                 string
	// Rings counts the offers made to agents.
	Rings int
}

type trailStep struct{ Node, Exit, Digits string }

type timelineEntry struct {
	At   time.Time
	What string
}

func newTrails() *trails {
	return &trails{calls: map[string]*trail{}, now: time.Now}
}

// begin starts following a call.
func (t *trails) begin(callID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.calls[callID] = &trail{Start: now, Timeline: []timelineEntry{{now, "call started"}}}
}

// end stops following a call and returns what was known of it.
func (t *trails) end(callID string) (trail, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr, ok := t.calls[callID]
	if !ok {
		return trail{}, false
	}
	delete(t.calls, callID)
	return *tr, true
}

// get returns a copy of a call's trail.
func (t *trails) get(callID string) (trail, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr, ok := t.calls[callID]
	if !ok {
		return trail{}, false
	}
	c := *tr
	c.Steps = append([]trailStep(nil), tr.Steps...)
	c.Timeline = append([]timelineEntry(nil), tr.Timeline...)
	return c, true
}

// maxSteps bounds a trail (a caller looping in a menu).
const maxSteps = 200

// Observe implements ivr.Observer.
func (t *trails) Observe(e ivr.Event) {
	if e.Type != ivr.EventExit {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	tr, ok := t.calls[e.CallID]
	if !ok || len(tr.Steps) >= maxSteps {
		return
	}
	tr.Steps = append(tr.Steps, trailStep{Node: e.Node, Exit: e.Exit, Digits: e.Digits})
	what := "IVR " + e.Node + " → " + e.Exit
	if e.Digits != "" {
		what += " (keys " + e.Digits + ")"
	}
	tr.Timeline = append(tr.Timeline, timelineEntry{t.now(), what})
}

// Append implements routing.EventLog: the queue events of calls on this
// node.
func (t *trails) Append(_ context.Context, e routing.QueueEvent) error {
	if e.CallID == "" {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	tr, ok := t.calls[e.CallID]
	if !ok {
		return nil
	}
	at := e.Time
	if at.IsZero() {
		at = t.now()
	}
	var what string
	switch e.Event {
	case routing.LogEnterQueue:
		tr.Queue, tr.Tier = e.Queue, e.Tier
		if tr.Enqueued.IsZero() {
			tr.Enqueued = at
		}
		what = fmt.Sprintf("queued in %s as %s", e.Queue, e.Tier)
	case routing.LogMove:
		if e.Queue != "" {
			tr.Queue = e.Queue
		}
		what = "moved by a supervisor"
	case routing.LogReprioritize:
		if e.Tier != "" {
			tr.Tier = e.Tier
		}
		what = "re-prioritised by a supervisor"
	case routing.LogAgentCalled:
		tr.Rings++
		if tr.Offered.IsZero() {
			tr.Offered = at
		}
		what = "offered to agent " + e.Agent
	case routing.LogRingNoAnswer:
		what = "agent " + e.Agent + " missed it (" + e.Reason + ")"
	case routing.LogConnect:
		tr.Answered, tr.Agent = at, e.Agent
		what = "answered by agent " + e.Agent
	case routing.LogComplete, routing.LogCompleteAgent, routing.LogCompleteCaller:
		tr.AgentEnd = at
		what = "conversation ended"
	case routing.LogAbandon:
		what = "caller gave up waiting"
	case routing.LogExitWithTimeout:
		what = "left the queue after its maximum wait"
	case routing.LogCallback:
		what = "call-back requested"
	default:
		return nil
	}
	if len(tr.Timeline) < maxSteps {
		tr.Timeline = append(tr.Timeline, timelineEntry{at, what})
	}
	return nil
}

// observers sends ivr events to several observers.
type observers []ivr.Observer

func (o observers) Observe(e ivr.Event) {
	for _, x := range o {
		x.Observe(e)
	}
}
