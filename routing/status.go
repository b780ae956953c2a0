package routing

import (
	"context"
	"fmt"
	"maps"
	"time"
)

// QueueStatus is the live state of one queue, for the HTTP API.
type QueueStatus struct {
	Name  string `json:"name"`
	Skill string `json:"skill"`
	// Waiting counts calls not yet answered: queued and ringing an agent.
	Waiting int `json:"waiting"`
	// LongestWaitSeconds is how long the oldest waiting call has waited.
	LongestWaitSeconds float64 `json:"longest_wait_s"`
	// Calls are the waiting calls in queue order (position 1 first).
	Calls []QueuedCall `json:"calls"`
	// Agents counts the agents having the queue's skill, by state.
	Agents map[AgentState]int `json:"agents"`
}

// QueuedCall is one waiting call in a QueueStatus.
type QueuedCall struct {
	Position   int       `json:"position"`
	CallID     string    `json:"call_id"`
	Caller     string    `json:"caller,omitempty"`
	Tier       string    `json:"tier"`
	State      CallState `json:"state"`
	AgentID    string    `json:"agent_id,omitempty"`
	EnqueuedAt time.Time `json:"enqueued_at"`
	Key        time.Time `json:"key"`
	// HeadStartSeconds is how far ahead of its real arrival the call is
	// placed: its tier's boost plus any supervisor priority.
	HeadStartSeconds float64 `json:"head_start_s"`
	WaitSeconds      float64 `json:"wait_s"`
	// PreferredAgent is the agent the call waits for first.
	PreferredAgent string `json:"preferred_agent,omitempty"`
	// Callback is the number to call back for a callback request.
	Callback string `json:"callback,omitempty"`
}

// AgentStatus is the live state of one agent, for the HTTP API.
// CallID and Queue name the agent's call while ringing or talking, and the
// call just finished during wrap-up.
type AgentStatus struct {
	ID        string         `json:"id"`
	State     AgentState     `json:"state"`
	Reason    string         `json:"reason,omitempty"`
	Since     time.Time      `json:"since"`
	IdleSince time.Time      `json:"idle_since,omitzero"`
	CallID    string         `json:"call_id,omitempty"`
	Queue     string         `json:"queue,omitempty"`
	WrapUntil time.Time      `json:"wrap_until,omitzero"`
	Pending   AgentState     `json:"pending,omitempty"`
	Skills    map[string]int `json:"skills"`
	// Misses counts the offers missed in a row.
	Misses int `json:"misses,omitempty"`
}

// CallStatus is the live state of one call, for the HTTP API.
type CallStatus struct {
	CallID         string    `json:"call_id"`
	Caller         string    `json:"caller,omitempty"`
	Queue          string    `json:"queue"`
	Tier           string    `json:"tier"`
	State          CallState `json:"state"`
	AgentID        string    `json:"agent_id,omitempty"`
	PreferredAgent string    `json:"preferred_agent,omitempty"`
	EnqueuedAt     time.Time `json:"enqueued_at"`
	Key            time.Time `json:"key"`
	// WaitSeconds is the time spent waiting: until now, or until the answer
	// for a talking call.
	WaitSeconds float64 `json:"wait_s"`
	Token       uint64  `json:"token,omitempty"`
	// Callback is the number to call back for a callback request.
	Callback string `json:"callback,omitempty"`
	// Node is the Kefu node holding the caller's dialog.
	Node string `json:"node,omitempty"`
	// HeadStartSeconds is the call's tier boost plus supervisor priority.
	HeadStartSeconds float64 `json:"head_start_s"`
}

// Queues returns every configured queue's live state, in configuration order.
func (r *Router) Queues(ctx context.Context) ([]QueueStatus, error) {
	calls, err := r.store.Calls(ctx)
	if err != nil {
		return nil, fmt.Errorf("routing: queues: %w", err)
	}
	agents, err := r.store.Agents(ctx)
	if err != nil {
		return nil, fmt.Errorf("routing: queues: %w", err)
	}
	now := r.clock()
	out := make([]QueueStatus, len(r.cfg.queues))
	for i, q := range r.cfg.queues {
		out[i] = QueueStatus{Name: q.Name, Skill: q.Skill, Calls: []QueuedCall{}, Agents: map[AgentState]int{}}
		for _, a := range agents {
			if _, ok := a.Skills[q.Skill]; ok {
				out[i].Agents[a.State]++
			}
		}
	}
	for _, c := range calls { // already in queue order
		i, ok := r.cfg.queueIndex[c.Queue]
		if !ok || c.State == CallTalking {
			continue
		}
		qs := &out[i]
		wait := now.Sub(c.EnqueuedAt)
		qs.Waiting++
		qs.LongestWaitSeconds = max(qs.LongestWaitSeconds, wait.Seconds())
		qs.Calls = append(qs.Calls, QueuedCall{
			Position: qs.Waiting, CallID: c.ID, Caller: c.Caller, Tier: c.Tier, State: c.State,
			AgentID: c.AgentID, EnqueuedAt: c.EnqueuedAt, Key: c.Key, WaitSeconds: wait.Seconds(),
			HeadStartSeconds: c.EnqueuedAt.Sub(c.Key).Seconds(), PreferredAgent: c.PreferredAgent,
			Callback: c.Callback,
		})
	}
	return out, nil
}

// Agents returns every agent's live state, by id.
func (r *Router) Agents(ctx context.Context) ([]AgentStatus, error) {
	agents, err := r.store.Agents(ctx)
	if err != nil {
		return nil, fmt.Errorf("routing: agents: %w", err)
	}
	out := make([]AgentStatus, len(agents))
	for i, a := range agents {
		out[i] = AgentStatus{
			ID: a.ID, State: a.State, Reason: a.Reason, Since: a.Since, IdleSince: a.IdleSince,
			WrapUntil: a.WrapUntil, Pending: a.Pending, Skills: maps.Clone(a.Skills), Misses: a.Misses,
		}
		switch a.State {
		case AgentOffered, AgentTalking, AgentWrapUp:
			out[i].CallID, out[i].Queue = a.CallID, a.Queue
		}
	}
	return out, nil
}

// Calls returns every call in the router (queued, ringing an agent, talking)
// in global queue order: key, then enqueue sequence.
func (r *Router) Calls(ctx context.Context) ([]CallStatus, error) {
	calls, err := r.store.Calls(ctx)
	if err != nil {
		return nil, fmt.Errorf("routing: calls: %w", err)
	}
	out := make([]CallStatus, len(calls))
	for i, c := range calls {
		out[i] = r.callStatus(c)
	}
	return out, nil
}

// callStatus describes c as of now.
func (r *Router) callStatus(c Call) CallStatus {
	end := r.clock()
	if c.State == CallTalking {
		end = c.AnsweredAt
	}
	return CallStatus{
		CallID: c.ID, Caller: c.Caller, Queue: c.Queue, Tier: c.Tier, State: c.State,
		AgentID: c.AgentID, PreferredAgent: c.PreferredAgent, EnqueuedAt: c.EnqueuedAt,
		Key: c.Key, WaitSeconds: end.Sub(c.EnqueuedAt).Seconds(), Token: c.Token,
		Callback: c.Callback, Node: c.Node, HeadStartSeconds: c.EnqueuedAt.Sub(c.Key).Seconds(),
	}
}
