package routing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"time"
)

// retryDelay is how soon matching is retried after the store failed to match.
const retryDelay = time.Second

// Router queues calls and offers them to agents. It keeps no routing state of
// its own: calls and agents live in the Store, so several Routers (on several
// nodes) can share one store. A Router keeps the Tickets of the calls it
// queued and one timer for the next timed transition.
//
// All methods are safe for concurrent use.
type Router struct {
	cfg    *compiled
	store  Store
	bus    Bus
	now    func() time.Time
	log    *slog.Logger
	events EventLog // nil: no event log

	mu       sync.Mutex
	closed   bool
	tickets  map[string]*Ticket
	timer    *time.Timer
	timerAt  time.Time // when timer fires; zero when no timer is pending
	timerGen uint64    // identifies the pending timer
	running  sync.WaitGroup

	// handled keeps recent handle times for wait estimates (Position).
	handled *handleTimes

	// retries are store operations that failed for a reason other than the
	// routing state (Redis unreachable) and must still happen: Run retries
	// them until they succeed or are refused for good.
	retries []retryOp
}

// retryOp is an operation to retry: what it is (for the log) and how.
type retryOp struct {
	what string
	fn   func(ctx context.Context) error
}

// NewRouter validates cfg, registers its agents in store and returns a Router.
// The caller keeps ownership of store (Close does not close it).
func NewRouter(cfg Config, store Store) (*Router, error) {
	c, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	if store == nil {
		return nil, errors.New("routing: NewRouter: store is nil")
	}
	r := &Router{
		cfg:     c,
		store:   store,
		now:     cfg.Now,
		log:     cfg.Logger,
		events:  cfg.Events,
		bus:     cfg.Bus,
		tickets: map[string]*Ticket{},
		handled: newHandleTimes(),
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if err := store.PutAgents(context.Background(), c.agents, r.clock()); err != nil {
		return nil, fmt.Errorf("routing: registering agents: %w", err)
	}
	return r, nil
}

// clock returns the current time without its monotonic reading, so times
// compare the same after a store round trip.
func (r *Router) clock() time.Time { return r.now().Round(0) }

// Close stops the router's timer, waits for a timed pass in progress, and
// closes every Ticket's event channel. Calls stay in the store. Later calls of
// other methods return ErrClosed. Close is idempotent and returns nil.
func (r *Router) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	tickets := r.tickets
	r.tickets = nil
	r.mu.Unlock()

	r.running.Wait()
	for _, t := range tickets {
		t.close()
	}
	return nil
}

func (r *Router) checkOpen() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	return nil
}

// QueueConfig returns the named queue's configuration with defaults applied.
func (r *Router) QueueConfig(name string) (QueueConfig, bool) { return r.cfg.queue(name) }

// Tiers returns the tier boosts in use (a copy), for choosing a caller's tier
// with directory.TierFor.
func (r *Router) Tiers() map[string]time.Duration { return maps.Clone(r.cfg.tiers) }

// Enqueue puts a call in its queue and returns the Ticket on which its offers
// arrive. The call's key is now − boost(tier) (or req.Key); with a MaxWait
// (the request's, else the queue's) its deadline is now + MaxWait, except for
// callback requests, which do not overflow. Errors: ErrUnknownQueue, ErrDuplicateCall, ErrNoAgents (no
// logged-in agent has the queue's skill; the call is not queued), ErrClosed.
func (r *Router) Enqueue(ctx context.Context, req CallRequest) (*Ticket, error) {
	q, ok := r.cfg.queue(req.Queue)
	if !ok {
		return nil, fmt.Errorf("routing: enqueue call %q: queue %q: %w", req.CallID, req.Queue, ErrUnknownQueue)
	}
	if req.CallID == "" || strings.ContainsRune(req.CallID, 0) {
		return nil, fmt.Errorf("routing: enqueue: call id %q is empty or contains NUL", req.CallID)
	}
	tier, boost := r.cfg.tier(req.Tier)
	if tier != req.Tier && req.Tier != "" {
		r.log.Warn("unknown tier, using default", "call", req.CallID, "tier", req.Tier)
	}
	pref := req.PreferredAgent
	if _, known := r.cfg.agentIndex[pref]; pref != "" && !known {
		r.log.Warn("preferred agent is not configured, ignoring it", "call", req.CallID, "agent", pref)
		pref = ""
	}
	now := r.clock()
	call := Call{
		Node:           r.cfg.node,
		Lease:          q.RingTimeout + LeaseGrace,
		Steps:          steps(q, now),
		ID:             req.CallID,
		Caller:         req.Caller,
		Queue:          q.Name,
		Skill:          q.Skill,
		Tier:           tier,
		EnqueuedAt:     now,
		Key:            now.Add(-boost),
		PreferredAgent: pref,
		WrapUp:         q.WrapUp,
	}
	wait := req.PreferWait
	if wait == 0 {
		wait = q.PreferWait
	}
	if pref != "" && wait > 0 {
		call.PreferUntil = now.Add(wait)
	}
	maxWait := q.MaxWait
	if req.MaxWait > 0 {
		maxWait = req.MaxWait
	}
	if maxWait > 0 && req.Callback == "" {
		call.Deadline = now.Add(maxWait)
	}
	if !req.Key.IsZero() {
		call.Key = req.Key.Round(0)
	}
	call.Callback = req.Callback

	t := newTicket(call.ID, q.Name)
	t.key = call.Key
	r.mu.Lock()
	switch {
	case r.closed:
		r.mu.Unlock()
		return nil, ErrClosed
	case r.tickets[call.ID] != nil:
		r.mu.Unlock()
		return nil, fmt.Errorf("routing: enqueue call %q: %w", call.ID, ErrDuplicateCall)
	}
	r.tickets[call.ID] = t
	r.mu.Unlock()

	stored, err := r.store.Enqueue(ctx, call, EnqueueOptions{MaxQueued: q.MaxQueued, JoinEmpty: q.JoinEmpty})
	if err != nil {
		r.removeTicket(call.ID)
		refused := QueueEvent{Time: now, CallID: call.ID, Queue: call.Queue, Tier: call.Tier, Caller: call.Caller}
		switch {
		case errors.Is(err, ErrNoAgents):
			refused.Event = LogExitEmpty
			r.logEvent(ctx, refused)
		case errors.Is(err, ErrQueueFull):
			refused.Event = LogFull
			r.logEvent(ctx, refused)
		}
		return nil, fmt.Errorf("routing: enqueue call %q in queue %q: %w", call.ID, q.Name, err)
	}
	r.log.Info("call queued", "call", stored.ID, "queue", stored.Queue, "tier", stored.Tier,
		"key", stored.Key, "seq", stored.Seq, "preferred_agent", stored.PreferredAgent,
		"deadline", stored.Deadline, "callback", stored.Callback)
	enter := QueueEvent{Time: now, Event: LogEnterQueue, CallID: stored.ID, Queue: stored.Queue,
		Tier: stored.Tier, Caller: stored.Caller}
	if stored.Callback != "" {
		enter.Event, enter.Caller = LogCallback, stored.Callback
	}
	r.logEvent(ctx, enter)
	r.dispatch(ctx)
	return t, nil
}

// Answered records that the agent answered the offer: agent and call are
// talking. Errors: ErrStaleOffer (also ErrUnknownCall when the call has gone:
// hang up the agent leg), ErrUnknownAgent, ErrClosed.
func (r *Router) Answered(ctx context.Context, offer Offer) error {
	if err := r.checkOpen(); err != nil {
		return err
	}
	now := r.clock()
	call, err := r.store.Answer(ctx, offer, now)
	if err != nil {
		return fmt.Errorf("routing: answered %s: %w", offerString(offer), err)
	}
	r.handled.answered(offer.CallID, now)
	r.log.Info("offer answered", offerAttrs(offer)...)
	e := offerEvent(LogConnect, offer, now)
	e.Tier, e.Caller, e.WaitMS = call.Tier, call.Caller, waitMS(call.EnqueuedAt, now)
	r.logEvent(ctx, e)
	return nil
}

// NoAnswer records that the agent did not answer the offer: the call goes
// back to its queue with its original key, and the agent is not ready for
// the delay of the miss's kind (reason ReasonNoAnswer — also for an empty
// reason —, ReasonRejected, ReasonBusy, anything else: Config.Misses), then
// ready again; after Misses.MaxInRow misses in a row it stays not ready with
// ReasonNotResponding. Errors as Answered; a store failure is retried by Run.
func (r *Router) NoAnswer(ctx context.Context, offer Offer, reason string) error {
	if err := r.checkOpen(); err != nil {
		return err
	}
	if reason == "" {
		reason = ReasonNoAnswer
	}
	now := r.clock()
	miss := Miss{Reason: reason, Until: now.Add(r.cfg.misses.delay(reason)), MaxMisses: r.cfg.misses.MaxInRow}
	if err := r.store.NoAnswer(ctx, offer, miss, now); err != nil {
		r.retryLater(err, "no answer "+offerString(offer), func(ctx context.Context) error {
			return r.store.NoAnswer(ctx, offer, miss, r.clock())
		})
		return fmt.Errorf("routing: no answer %s: %w", offerString(offer), err)
	}
	r.log.Info("offer not answered, call requeued", append(offerAttrs(offer), "reason", reason)...)
	e := offerEvent(LogRingNoAnswer, offer, now)
	e.Reason = reason
	r.logEvent(ctx, e)
	r.dispatch(ctx)
	return nil
}

// Finished records the end of an answered call: the call leaves the router
// (its Ticket is closed) and the agent starts the queue's wrap-up, then is
// ready again. Errors as Answered; a store failure is retried by Run.
func (r *Router) Finished(ctx context.Context, offer Offer) error {
	if err := r.checkOpen(); err != nil {
		return err
	}
	now := r.clock()
	call, err := r.store.Finish(ctx, offer, now)
	if err != nil {
		r.closeTicket(offer.CallID)
		r.retryLater(err, "finish "+offerString(offer), func(ctx context.Context) error {
			_, err := r.store.Finish(ctx, offer, r.clock())
			return err
		})
		return fmt.Errorf("routing: finished %s: %w", offerString(offer), err)
	}
	r.handled.finished(offer.CallID, offer.Queue, now)
	r.closeTicket(offer.CallID)
	r.log.Info("call finished", offerAttrs(offer)...)
	e := offerEvent(LogComplete, offer, now)
	e.Tier, e.Caller = call.Tier, call.Caller
	e.WaitMS, e.TalkMS = waitMS(call.EnqueuedAt, call.AnsweredAt), waitMS(call.AnsweredAt, now)
	r.logEvent(ctx, e)
	if q, ok := r.cfg.queue(offer.Queue); ok && q.WrapUp > 0 {
		r.logEvent(ctx, QueueEvent{Time: now, Event: LogWrapUp, CallID: offer.CallID, Queue: offer.Queue, Agent: offer.AgentID})
	}
	r.dispatch(ctx)
	return nil
}

// Leave removes a call wherever it is, because the caller hung up or gave up.
// An agent the call was ringing goes back to ready without penalty; an agent
// talking to it starts wrap-up. The call's Ticket is closed. Errors:
// ErrUnknownCall, ErrClosed.
func (r *Router) Leave(ctx context.Context, callID string) error {
	if err := r.checkOpen(); err != nil {
		return err
	}
	now := r.clock()
	call, err := r.store.Leave(ctx, callID, now)
	r.closeTicket(callID)
	if err != nil {
		r.handled.forget(callID)
		r.retryLater(err, fmt.Sprintf("leave call %q", callID), func(ctx context.Context) error {
			_, err := r.store.Leave(ctx, callID, r.clock())
			return err
		})
		return fmt.Errorf("routing: leave call %q: %w", callID, err)
	}
	if call.State == CallTalking {
		r.handled.finished(callID, call.Queue, now)
	} else {
		r.handled.forget(callID)
	}
	r.log.Info("call left", "call", call.ID, "queue", call.Queue, "state", call.State, "agent", call.AgentID)
	e := QueueEvent{Time: now, Event: LogAbandon, CallID: call.ID, Queue: call.Queue,
		Tier: call.Tier, Caller: call.Caller, WaitMS: waitMS(call.EnqueuedAt, now)}
	if call.State != CallQueued { // ringing or talking to an agent
		e.Agent, e.Token = call.AgentID, call.Token
	}
	if call.State == CallTalking {
		e.Event, e.WaitMS = LogCompleteCaller, waitMS(call.EnqueuedAt, call.AnsweredAt)
		e.TalkMS = waitMS(call.AnsweredAt, now)
	}
	r.logEvent(ctx, e)
	if call.State == CallTalking && call.WrapUp > 0 {
		r.logEvent(ctx, QueueEvent{Time: now, Event: LogWrapUp, CallID: call.ID, Queue: call.Queue, Agent: call.AgentID})
	}
	r.dispatch(ctx)
	return nil
}

// SetAgentState sets an agent ready, not_ready (with a reason) or logged_out.
// While the agent is ringing or talking, not_ready and logged_out are kept as
// pending and take effect when the call ends (after wrap-up); ready then
// returns ErrAgentBusy, as it does during wrap-up. not_ready and logged_out
// end a wrap-up at once. Errors: ErrUnknownAgent, ErrInvalidState,
// ErrAgentBusy, ErrClosed.
func (r *Router) SetAgentState(ctx context.Context, agentID string, state AgentState, reason string) error {
	return r.setAgentState(ctx, agentID, state, reason, false)
}

// ForceAgentState is a supervisor's SetAgentState: as SetAgentState, except
// that ready also ends a wrap-up at once. A not_ready or logged_out forced on
// an agent who is ringing or talking still waits for the call to end: a
// supervisor never cuts a customer off this way.
func (r *Router) ForceAgentState(ctx context.Context, agentID string, state AgentState, reason string) error {
	return r.setAgentState(ctx, agentID, state, reason, true)
}

func (r *Router) setAgentState(ctx context.Context, agentID string, state AgentState, reason string, force bool) error {
	if err := r.checkOpen(); err != nil {
		return err
	}
	switch state {
	case AgentReady, AgentNotReady, AgentLoggedOut:
	default:
		return fmt.Errorf("routing: agent %q: state %q: %w (use ready, not_ready or logged_out)", agentID, state, ErrInvalidState)
	}
	// The state before is read only for the event log; under concurrent
	// changes of the same agent (from several nodes) it may be out of date.
	var before Agent
	if r.events != nil {
		agents, err := r.store.Agents(ctx)
		if err != nil {
			r.log.Warn("reading the agent's state for the event log failed; its change will not be logged", "agent", agentID, "err", err)
		}
		for _, a := range agents {
			if a.ID == agentID {
				before = a
			}
		}
	}
	now := r.clock()
	a, err := r.store.SetAgentState(ctx, agentID, state, reason, force, now)
	if err != nil {
		return fmt.Errorf("routing: agent %q to %s: %w", agentID, state, err)
	}
	r.log.Info("agent state", "agent", a.ID, "requested", state, "state", a.State, "pending", a.Pending,
		"reason", reason, "forced", force)
	if before.ID != "" {
		r.logAgentChange(ctx, before.State, before.Reason, a, now)
	}
	if a.State == AgentLoggedOut {
		r.leaveEmptyQueues(ctx, a.Skills)
	}
	r.dispatch(ctx)
	return nil
}

// Tick applies the timed transitions due now (wrap-up ends, max-wait
// overflows, preferred-agent wait expiries) and re-runs matching, delivering
// the results to Tickets. The router's timer calls it; tests driving an
// injected clock call it after moving the clock.
func (r *Router) Tick(ctx context.Context) error {
	if err := r.checkOpen(); err != nil {
		return err
	}
	now := r.clock()
	res, err := r.store.Match(ctx, now)
	if err != nil {
		r.schedule(r.clock().Add(retryDelay))
		return fmt.Errorf("routing: match: %w", err)
	}
	r.deliver(ctx, res, now)
	r.schedule(res.Next)
	return nil
}

// dispatch re-runs matching after a state change. The change has already
// happened, so a failure is logged and retried by the timer rather than
// returned, and the caller's cancellation does not stop it.
func (r *Router) dispatch(ctx context.Context) {
	if err := r.Tick(context.WithoutCancel(ctx)); err != nil && !errors.Is(err, ErrClosed) {
		r.log.Error("matching failed, will retry", "err", err, "retry_in", retryDelay)
	}
}

// deliver hands the results of a matching pass made at now to the Tickets
// and the event log.
func (r *Router) deliver(ctx context.Context, res MatchResult, now time.Time) {
	for _, id := range res.LostNodes {
		r.log.Warn("node lost: its heartbeat lapsed; its calls are closed and its agents freed", "node", id)
	}
	for _, c := range res.Lost {
		r.log.Warn("call closed: its node was lost", "call", c.ID, "node", c.Node, "state", c.State, "agent", c.AgentID)
		e := QueueEvent{Time: now, Event: LogAbandon, CallID: c.ID, Queue: c.Queue, Agent: c.AgentID, Tier: c.Tier,
			Caller: c.Caller, WaitMS: waitMS(c.EnqueuedAt, now), Token: c.Token, Reason: ReasonNodeLost}
		if c.State == CallTalking {
			e.Event, e.WaitMS, e.TalkMS = LogComplete, waitMS(c.EnqueuedAt, c.AnsweredAt), waitMS(c.AnsweredAt, now)
		}
		r.logEvent(ctx, e)
		r.closeTicket(c.ID) // this node's own calls, when it was the one thought lost
	}
	for _, o := range res.Expired {
		r.log.Warn("offer withdrawn: its lease passed unanswered; call back in line", offerAttrs(o)...)
		e := offerEvent(LogRingNoAnswer, o, now)
		e.Reason = "lease_expired"
		r.logEvent(ctx, e)
	}
	for _, c := range res.Overflowed {
		r.log.Info("call overflowed", "call", c.ID, "queue", c.Queue, "waited", c.Deadline.Sub(c.EnqueuedAt))
		r.logEvent(ctx, QueueEvent{Time: now, Event: LogExitWithTimeout, CallID: c.ID, Queue: c.Queue,
			Tier: c.Tier, Caller: c.Caller, WaitMS: waitMS(c.EnqueuedAt, c.Deadline)})
		r.send(ctx, c.Node, Event{Kind: EventOverflow, Offer: Offer{CallID: c.ID, Queue: c.Queue, At: c.Deadline, Node: c.Node}, Reason: "max_wait"})
	}
	for _, id := range res.WrapEnded {
		r.log.Debug("wrap-up ended", "agent", id)
	}
	for _, o := range res.Offers {
		r.log.Info("call offered", offerAttrs(o)...)
		r.logEvent(ctx, offerEvent(LogAgentCalled, o, now))
		r.send(ctx, o.Node, Event{Kind: EventOffer, Offer: o})
	}
}

// send hands e to the call's Ticket if this node holds it, else publishes it
// to node on the bus. An overflow closes the Ticket.
func (r *Router) send(ctx context.Context, node string, e Event) {
	id := e.Offer.CallID
	var t *Ticket
	if e.Kind == EventOverflow {
		t = r.takeTicket(id)
	} else {
		r.mu.Lock()
		t = r.tickets[id]
		r.mu.Unlock()
	}
	if t != nil {
		if !t.send(e) {
			r.log.Warn("event not delivered: ticket closed or full", append(offerAttrs(e.Offer), "event", e.Kind)...)
		}
		if e.Kind == EventOverflow {
			t.close()
		}
		return
	}
	if node == "" || node == r.cfg.node {
		// The call left meanwhile (its offer is void) or its ticket is gone.
		r.log.Debug("event for a call with no ticket here", append(offerAttrs(e.Offer), "event", e.Kind)...)
		return
	}
	if r.bus == nil {
		r.log.Warn("event for another node's call and no bus to send it on; its lease will recover it",
			append(offerAttrs(e.Offer), "node", node, "event", e.Kind)...)
		return
	}
	if err := r.bus.Publish(context.WithoutCancel(ctx), node, e); err != nil {
		r.log.Warn("publishing an event to another node failed; its lease will recover it",
			append(offerAttrs(e.Offer), "node", node, "event", e.Kind, "err", err)...)
	}
}

func (r *Router) takeTicket(callID string) *Ticket {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.tickets[callID]
	delete(r.tickets, callID)
	return t
}

func (r *Router) removeTicket(callID string) { r.takeTicket(callID) }

func (r *Router) closeTicket(callID string) {
	if t := r.takeTicket(callID); t != nil {
		t.close()
	}
}

// schedule makes sure the timer fires no later than next (zero: nothing to do).
func (r *Router) schedule(next time.Time) {
	if next.IsZero() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || (!r.timerAt.IsZero() && !next.Before(r.timerAt)) {
		return
	}
	if r.timer != nil {
		r.timer.Stop()
	}
	r.timerGen++
	gen := r.timerGen
	r.timerAt = next
	r.timer = time.AfterFunc(max(next.Sub(r.clock()), 0), func() { r.onTimer(gen) })
}

func (r *Router) onTimer(gen uint64) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	if gen == r.timerGen {
		r.timerAt = time.Time{}
		r.timer = nil
	}
	r.running.Add(1)
	r.mu.Unlock()
	defer r.running.Done()
	if err := r.Tick(context.Background()); err != nil && !errors.Is(err, ErrClosed) {
		r.log.Error("timed matching failed", "err", err)
	}
}

func offerString(o Offer) string {
	return fmt.Sprintf("offer of call %q to agent %q (token %d)", o.CallID, o.AgentID, o.Token)
}

// offerEvent returns the event named name about offer o at now.
func offerEvent(name string, o Offer, now time.Time) QueueEvent {
	return QueueEvent{Time: now, Event: name, CallID: o.CallID, Queue: o.Queue, Agent: o.AgentID, Token: o.Token}
}

// steps returns queue q's skill steps for a call enqueued at now.
func steps(q QueueConfig, now time.Time) []Step {
	if len(q.Steps) == 0 {
		return nil
	}
	out := make([]Step, len(q.Steps))
	for i, st := range q.Steps {
		out[i] = Step{At: now.Add(st.After), Skill: st.Skill, MinLevel: st.MinLevel}
	}
	return out
}

func offerAttrs(o Offer) []any {
	return []any{"call", o.CallID, "agent", o.AgentID, "queue", o.Queue, "token", o.Token}
}
