package routing

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// Queue log event names, as an Asterisk queue_log user knows them.
const (
	// LogEnterQueue: a caller joined a queue (Tier, Caller set).
	LogEnterQueue = "ENTERQUEUE"
	// LogCallback: a callback request was queued, or a waiting call became
	// one; Caller is the number to call back.
	LogCallback = "CALLBACK"
	// LogExitEmpty: a call was refused because no agent with the queue's
	// skill is logged in.
	LogExitEmpty = "EXITEMPTY"
	// LogFull: a call was refused because its queue held its maximum of
	// queued calls (Asterisk's QUEUESTATUS FULL).
	LogFull = "FULL"
	// LogMove: a supervisor moved a waiting call to another queue or agent
	// (Queue is the new queue, Agent the named agent, Reason the old queue).
	LogMove = "MOVE"
	// LogReprioritize: a supervisor changed a waiting call's tier or
	// priority (Tier is the new tier, WaitMS the head start now given).
	LogReprioritize = "REPRIORITIZE"
	// LogAgentCalled: the call is offered to (rings) Agent, with fencing
	// Token. queue_log has no line for this; the name is Asterisk AMI's.
	LogAgentCalled = "AGENTCALLED"
	// LogRingNoAnswer: Agent did not answer the offer (Reason: ring timeout,
	// busy, rejected…); the call is back in its queue and the agent is not
	// ready with that reason (or logged out if a logout was pending).
	LogRingNoAnswer = "RINGNOANSWER"
	// LogConnect: Agent answered the offer.
	LogConnect = "CONNECT"
	// LogComplete: an answered call ended and who hung up is not known.
	LogComplete = "COMPLETE"
	// LogCompleteCaller: an answered call ended because the caller hung up.
	LogCompleteCaller = "COMPLETECALLER"
	// LogCompleteAgent: an answered call ended because the agent hung up.
	// The router is not told who hung up in Finished, so it writes
	// LogComplete; the name is reserved for a caller that knows.
	LogCompleteAgent = "COMPLETEAGENT"
	// LogAbandon: the caller hung up or gave up before being answered
	// (Agent set when the call was ringing one).
	LogAbandon = "ABANDON"
	// LogExitWithTimeout: the call's maximum wait passed; it overflowed.
	LogExitWithTimeout = "EXITWITHTIMEOUT"
	// LogAddMember: an agent logged in.
	LogAddMember = "ADDMEMBER"
	// LogRemoveMember: an agent logged out.
	LogRemoveMember = "REMOVEMEMBER"
	// LogPause: an agent became not ready (Reason set).
	LogPause = "PAUSE"
	// LogUnpause: a not-ready agent became ready.
	LogUnpause = "UNPAUSE"
	// LogWrapUp: an agent started wrap-up after a call (Call, Queue set).
	LogWrapUp = "WRAPUP"
)

// QueueEvent is one line of the router's event log. Empty fields are
// omitted, in JSON and in QueueEvent.Fields.
//
// (The name Event is taken by the offers and overflows delivered on a
// Ticket.)
type QueueEvent struct {
	// Time is when it happened, by the router's clock.
	Time time.Time `json:"time"`
	// Event is one of the Log* names.
	Event  string `json:"event"`
	CallID string `json:"call_id,omitempty"`
	Queue  string `json:"queue,omitempty"`
	Agent  string `json:"agent,omitempty"`
	Tier   string `json:"tier,omitempty"`
	Caller string `json:"caller,omitempty"`
	// WaitMS is the caller's wait in milliseconds: until the end for
	// ABANDON and EXITWITHTIMEOUT, until the answer for COMPLETECALLER,
	// until now for CALLBACK.
	WaitMS int64 `json:"wait_ms,omitempty"`
	// TalkMS is the conversation's length in milliseconds, from the answer
	// to the end (COMPLETE, COMPLETECALLER, COMPLETEAGENT).
	TalkMS int64 `json:"talk_ms,omitempty"`
	// Token is the offer's fencing token.
	Token  uint64 `json:"token,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Node is the Kefu node that wrote the event.
	Node string `json:"node,omitempty"`
}

// Fields returns the event as alternating field names and values, in a
// fixed order (the JSON names), without the empty ones; Time is written in
// RFC 3339 with nanoseconds. A Redis Stream writer sends them as its entry's
// fields.
func (e QueueEvent) Fields() []string {
	f := []string{"time", e.Time.Format(time.RFC3339Nano), "event", e.Event}
	add := func(name, v string) {
		if v != "" {
			f = append(f, name, v)
		}
	}
	add("call_id", e.CallID)
	add("queue", e.Queue)
	add("agent", e.Agent)
	add("tier", e.Tier)
	add("caller", e.Caller)
	if e.WaitMS != 0 {
		add("wait_ms", strconv.FormatInt(e.WaitMS, 10))
	}
	if e.TalkMS != 0 {
		add("talk_ms", strconv.FormatInt(e.TalkMS, 10))
	}
	if e.Token != 0 {
		add("token", strconv.FormatUint(e.Token, 10))
	}
	add("reason", e.Reason)
	add("node", e.Node)
	return f
}

// EventLogs returns an EventLog that appends each event to every log in
// turn (nil entries are skipped); its error joins theirs, and one failing log
// does not keep the event from the others.
func EventLogs(logs ...EventLog) EventLog {
	var live teeLog
	for _, l := range logs {
		if l != nil {
			live = append(live, l)
		}
	}
	return live
}

type teeLog []EventLog

func (t teeLog) Append(ctx context.Context, e QueueEvent) error {
	var errs []error
	for _, l := range t {
		if err := l.Append(ctx, e); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// EventLog receives the router's queue events, in the order the router
// saw them happen. Implementations: eventlog.JSONL (a file) and the Redis
// store's EventLog (a Redis Stream). Append must be safe for concurrent use.
type EventLog interface {
	Append(ctx context.Context, e QueueEvent) error
}

// waitMS returns the milliseconds from since to until, 0 when either is zero.
func waitMS(since, until time.Time) int64 {
	if since.IsZero() || until.IsZero() {
		return 0
	}
	return until.Sub(since).Milliseconds()
}

// logEvent appends e to the configured event log. The thing it records has
// already happened, so a failure is logged and never returned, and the
// caller's cancellation does not stop it: a broken log must not drop calls.
func (r *Router) logEvent(ctx context.Context, e QueueEvent) {
	if r.events == nil {
		return
	}
	if err := r.events.Append(context.WithoutCancel(ctx), e); err != nil {
		r.log.Warn("event log append failed; routing goes on without it", "event", e.Event,
			"call", e.CallID, "agent", e.Agent, "err", err)
	}
}

// logAgentChange appends the events for agent a going from state before
// (with reason beforeReason) to its current state: ADDMEMBER when it logs
// in (then PAUSE if it logged in not ready), REMOVEMEMBER when it logs out,
// PAUSE when it becomes not ready or changes its reason, UNPAUSE when it
// becomes ready. A request recorded as pending writes nothing.
func (r *Router) logAgentChange(ctx context.Context, before AgentState, beforeReason string, a Agent, now time.Time) {
	e := QueueEvent{Time: now, Agent: a.ID}
	emit := func(name, reason string) {
		e.Event, e.Reason = name, reason
		r.logEvent(ctx, e)
	}
	switch {
	case before == a.State && (a.State != AgentNotReady || beforeReason == a.Reason):
		// no change, or a pending request
	case a.State == AgentLoggedOut:
		emit(LogRemoveMember, "")
	case before == AgentLoggedOut:
		emit(LogAddMember, "")
		if a.State == AgentNotReady {
			emit(LogPause, a.Reason)
		}
	case a.State == AgentNotReady:
		emit(LogPause, a.Reason)
	case a.State == AgentReady:
		emit(LogUnpause, "")
	}
}
