// Package memstore is the embedded routing.Store: calls and agents in a
// go-memdb database inside the process. Each Store method is one memdb write
// (or read) transaction, so every domain operation is atomic and concurrent
// callers are serialised by memdb's writer lock.
//
// Rows are never modified in place: an operation copies the row, changes the
// copy and inserts it, so readers holding an older row (or an older snapshot)
// never see a half-made change.
package memstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/go-memdb"

	"kefu/routing"
)

// Store is the go-memdb implementation of routing.Store. The zero value is not
// usable; call New.
type Store struct {
	db *memdb.MemDB
}

var _ routing.Store = (*Store)(nil)

// New returns an empty Store.
func New() *Store {
	db, err := memdb.NewMemDB(schema())
	if err != nil {
		// The schema is fixed and validated by TestSchemaGolden.
		panic(fmt.Sprintf("memstore: invalid schema: %v", err))
	}
	return &Store{db: db}
}

// write runs fn in a write transaction and commits it if fn succeeds.
func (s *Store) write(ctx context.Context, fn func(txn *memdb.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	txn := s.db.Txn(true)
	defer txn.Abort()
	if err := fn(txn); err != nil {
		return err
	}
	txn.Commit()
	return nil
}

// PutAgents implements routing.Store.
func (s *Store) PutAgents(ctx context.Context, agents []routing.AgentConfig, now time.Time) error {
	return s.write(ctx, func(txn *memdb.Txn) error {
		for _, cfg := range agents {
			if cfg.ID == "" {
				return errors.New("memstore: agent with an empty id")
			}
			old, err := getAgent(txn, cfg.ID)
			if err != nil {
				return err
			}
			var a routing.Agent
			if old != nil {
				a = *old
			} else {
				a = routing.Agent{ID: cfg.ID, State: routing.AgentLoggedOut, Since: now}
			}
			a.Skills = make(map[string]int, len(cfg.Skills))
			for skill, level := range cfg.Skills {
				if level < 1 || level > 5 {
					return fmt.Errorf("memstore: agent %q skill %q: level %d is not 1-5", cfg.ID, skill, level)
				}
				a.Skills[skill] = level
			}
			if err := txn.Insert(tableAgents, &a); err != nil {
				return fmt.Errorf("memstore: %w", err)
			}
		}
		return nil
	})
}

// Enqueue implements routing.Store.
func (s *Store) Enqueue(ctx context.Context, call routing.Call, opts routing.EnqueueOptions) (routing.Call, error) {
	switch {
	case call.ID == "":
		return routing.Call{}, errors.New("call has an empty id")
	case call.Skill == "" || call.Queue == "":
		return routing.Call{}, fmt.Errorf("call %q: queue and skill are required", call.ID)
	}
	err := s.write(ctx, func(txn *memdb.Txn) error {
		old, err := getCall(txn, call.ID)
		if err != nil {
			return err
		}
		if old != nil {
			return fmt.Errorf("call %q: %w", call.ID, routing.ErrDuplicateCall)
		}
		if !opts.JoinEmpty {
			if err := checkOnline(txn, &call); err != nil {
				return err
			}
		}
		if opts.MaxQueued > 0 {
			n, err := countQueued(txn, call.Queue, opts.MaxQueued)
			if err != nil {
				return err
			}
			if n >= opts.MaxQueued {
				return fmt.Errorf("queue %q holds %d calls: %w", call.Queue, n, routing.ErrQueueFull)
			}
		}
		if call.Seq, err = nextCounter(txn, counterSeq); err != nil {
			return err
		}
		call.State = routing.CallQueued
		call.AgentID, call.Token, call.OfferedAt, call.AnsweredAt = "", 0, time.Time{}, time.Time{}
		call.LeaseUntil = time.Time{}
		call = call.Clone()
		c := call.Clone()
		if err := txn.Insert(tableCalls, &c); err != nil {
			return fmt.Errorf("memstore: %w", err)
		}
		return nil
	})
	if err != nil {
		return routing.Call{}, err
	}
	return call, nil
}

// Answer implements routing.Store.
func (s *Store) Answer(ctx context.Context, offer routing.Offer, now time.Time) (routing.Call, error) {
	var out routing.Call
	err := s.write(ctx, func(txn *memdb.Txn) error {
		c, a, err := currentOffer(txn, offer, routing.CallOffered)
		if err != nil {
			return err
		}
		cc, ac := *c, *a
		cc.State, cc.AnsweredAt, cc.LeaseUntil = routing.CallTalking, now, time.Time{}
		ac.State, ac.Since, ac.Misses = routing.AgentTalking, now, 0
		out = cc.Clone()
		return insert(txn, &cc, &ac)
	})
	if err != nil {
		return routing.Call{}, err
	}
	return out, nil
}

// NoAnswer implements routing.Store.
func (s *Store) NoAnswer(ctx context.Context, offer routing.Offer, miss routing.Miss, now time.Time) error {
	if miss.Reason == "" {
		miss.Reason = routing.ReasonNoAnswer
	}
	return s.write(ctx, func(txn *memdb.Txn) error {
		c, a, err := currentOffer(txn, offer, routing.CallOffered)
		if err != nil {
			return err
		}
		cc, ac := *c, *a
		// Back in the queue: Key, Seq and Deadline are untouched.
		requeue(&cc)
		cc.Misses++
		if cc.PreferredAgent == a.ID && cc.PreferUntil.After(now) {
			cc.PreferUntil = now // the account manager had their chance
		}
		clearCall(&ac)
		ac.Since = now
		ac.Misses++
		switch {
		case applyPending(&ac):
		case miss.MaxMisses > 0 && ac.Misses >= miss.MaxMisses:
			ac.State, ac.Reason = routing.AgentNotReady, routing.ReasonNotResponding
		case miss.Until.After(now):
			ac.State, ac.Reason, ac.WrapUntil = routing.AgentNotReady, miss.Reason, miss.Until
		default:
			ac.State, ac.Reason, ac.IdleSince = routing.AgentReady, "", now
		}
		return insert(txn, &cc, &ac)
	})
}

// Finish implements routing.Store.
func (s *Store) Finish(ctx context.Context, offer routing.Offer, now time.Time) (routing.Call, error) {
	var out routing.Call
	err := s.write(ctx, func(txn *memdb.Txn) error {
		c, a, err := currentOffer(txn, offer, routing.CallTalking)
		if err != nil {
			return err
		}
		if err := txn.Delete(tableCalls, c); err != nil {
			return fmt.Errorf("memstore: %w", err)
		}
		out = c.Clone()
		ac := *a
		endCall(&ac, c.WrapUp, now)
		return insert(txn, nil, &ac)
	})
	if err != nil {
		return routing.Call{}, err
	}
	return out, nil
}

// Leave implements routing.Store.
func (s *Store) Leave(ctx context.Context, callID string, now time.Time) (routing.Call, error) {
	var left routing.Call
	err := s.write(ctx, func(txn *memdb.Txn) error {
		c, err := getCall(txn, callID)
		if err != nil {
			return err
		}
		if c == nil {
			return fmt.Errorf("call %q: %w", callID, routing.ErrUnknownCall)
		}
		left = c.Clone()
		if err := txn.Delete(tableCalls, c); err != nil {
			return fmt.Errorf("memstore: %w", err)
		}
		if c.State == routing.CallQueued {
			return nil
		}
		a, err := getAgent(txn, c.AgentID)
		if err != nil {
			return err
		}
		if a == nil || a.CallID != c.ID || a.Token != c.Token {
			return nil // not reachable while the invariants hold
		}
		ac := *a
		if c.State == routing.CallTalking {
			endCall(&ac, c.WrapUp, now)
		} else {
			// Ringing when the caller hung up: back to ready, keeping
			// IdleSince and so the agent's place among idle agents.
			release(&ac, now)
		}
		return insert(txn, nil, &ac)
	})
	if err != nil {
		return routing.Call{}, err
	}
	return left, nil
}

// Callback implements routing.Store.
func (s *Store) Callback(ctx context.Context, callID, number string, now time.Time) (routing.Call, error) {
	if number == "" {
		return routing.Call{}, fmt.Errorf("call %q: callback number is empty", callID)
	}
	var out routing.Call
	err := s.write(ctx, func(txn *memdb.Txn) error {
		c, err := getCall(txn, callID)
		if err != nil {
			return err
		}
		if c == nil {
			return fmt.Errorf("call %q: %w", callID, routing.ErrUnknownCall)
		}
		if c.State == routing.CallTalking {
			return fmt.Errorf("call %q is talking to agent %q: %w", callID, c.AgentID, routing.ErrNotWaiting)
		}
		cc := *c
		cc.Callback, cc.Deadline = number, time.Time{}
		out = cc.Clone()
		return insert(txn, &cc, nil)
	})
	if err != nil {
		return routing.Call{}, err
	}
	return out, nil
}

// SetAgentState implements routing.Store.
func (s *Store) SetAgentState(ctx context.Context, agentID string, state routing.AgentState, reason string, force bool, now time.Time) (routing.Agent, error) {
	var out routing.Agent
	err := s.write(ctx, func(txn *memdb.Txn) error {
		a, err := getAgent(txn, agentID)
		if err != nil {
			return err
		}
		if a == nil {
			return fmt.Errorf("agent %q: %w", agentID, routing.ErrUnknownAgent)
		}
		ac := *a
		busy := a.State == routing.AgentOffered || a.State == routing.AgentTalking
		switch state {
		case routing.AgentReady:
			switch a.State {
			case routing.AgentReady:
			case routing.AgentLoggedOut, routing.AgentNotReady:
				ac.State, ac.Reason, ac.Since, ac.IdleSince = routing.AgentReady, "", now, now
				ac.Misses, ac.WrapUntil = 0, time.Time{}
			case routing.AgentWrapUp:
				if !force {
					return fmt.Errorf("agent %q is %s: %w", agentID, a.State, routing.ErrAgentBusy)
				}
				clearCall(&ac)
				ac.State, ac.Reason, ac.Since, ac.IdleSince = routing.AgentReady, "", now, now
				ac.Misses, ac.Pending, ac.PendingReason = 0, "", ""
			default:
				return fmt.Errorf("agent %q is %s: %w", agentID, a.State, routing.ErrAgentBusy)
			}
		case routing.AgentNotReady, routing.AgentLoggedOut:
			if state == routing.AgentLoggedOut {
				reason = ""
			}
			switch {
			case busy:
				ac.Pending, ac.PendingReason = state, reason
			case a.State == state && a.Reason == reason && a.WrapUntil.IsZero():
			default:
				clearCall(&ac)
				ac.State, ac.Reason, ac.Since = state, reason, now
			}
		default:
			return fmt.Errorf("agent %q: state %q: %w", agentID, state, routing.ErrInvalidState)
		}
		out = ac.Clone()
		return insert(txn, nil, &ac)
	})
	if err != nil {
		return routing.Agent{}, err
	}
	return out, nil
}

// Calls implements routing.Store.
func (s *Store) Calls(ctx context.Context) ([]routing.Call, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	txn := s.db.Txn(false)
	it, err := txn.Get(tableCalls, indexOrder)
	if err != nil {
		return nil, fmt.Errorf("memstore: %w", err)
	}
	var out []routing.Call
	for raw := it.Next(); raw != nil; raw = it.Next() {
		out = append(out, raw.(callRow).Clone())
	}
	return out, nil
}

// Agents implements routing.Store.
func (s *Store) Agents(ctx context.Context) ([]routing.Agent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	txn := s.db.Txn(false)
	it, err := txn.Get(tableAgents, indexID)
	if err != nil {
		return nil, fmt.Errorf("memstore: %w", err)
	}
	var out []routing.Agent
	for raw := it.Next(); raw != nil; raw = it.Next() {
		out = append(out, raw.(agentRow).Clone())
	}
	return out, nil
}

// currentOffer returns the call and agent of offer if it is their current
// offer and the call is in state want (the agent's state goes with it).
func currentOffer(txn *memdb.Txn, o routing.Offer, want routing.CallState) (*routing.Call, *routing.Agent, error) {
	a, err := getAgent(txn, o.AgentID)
	if err != nil {
		return nil, nil, err
	}
	if a == nil {
		return nil, nil, fmt.Errorf("agent %q: %w", o.AgentID, routing.ErrUnknownAgent)
	}
	c, err := getCall(txn, o.CallID)
	if err != nil {
		return nil, nil, err
	}
	if c == nil {
		return nil, nil, fmt.Errorf("call %q has gone: %w: %w", o.CallID, routing.ErrStaleOffer, routing.ErrUnknownCall)
	}
	if o.Token == 0 || c.Token != o.Token || c.AgentID != o.AgentID || a.Token != o.Token || a.CallID != o.CallID {
		return nil, nil, fmt.Errorf("call %q is not offered to agent %q with token %d (current token %d): %w",
			o.CallID, o.AgentID, o.Token, c.Token, routing.ErrStaleOffer)
	}
	wantAgent := routing.AgentOffered
	if want == routing.CallTalking {
		wantAgent = routing.AgentTalking
	}
	if c.State != want || a.State != wantAgent {
		return nil, nil, fmt.Errorf("call %q is %s, not %s: %w", o.CallID, c.State, want, routing.ErrStaleOffer)
	}
	return c, a, nil
}

// Modify implements routing.Store.
func (s *Store) Modify(ctx context.Context, callID string, ch routing.CallChange, now time.Time) (routing.Call, error) {
	var out routing.Call
	err := s.write(ctx, func(txn *memdb.Txn) error {
		c, err := getCall(txn, callID)
		if err != nil {
			return err
		}
		if c == nil {
			return fmt.Errorf("call %q: %w", callID, routing.ErrUnknownCall)
		}
		if c.State != routing.CallQueued {
			return fmt.Errorf("call %q is %s with agent %q: %w", callID, c.State, c.AgentID, routing.ErrNotWaiting)
		}
		cc := c.Clone()
		applyChange(&cc, ch)
		out = cc.Clone()
		return insert(txn, &cc, nil)
	})
	if err != nil {
		return routing.Call{}, err
	}
	return out, nil
}

// applyChange sets the non-zero fields of ch on c.
func applyChange(c *routing.Call, ch routing.CallChange) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&c.Tier, ch.Tier)
	set(&c.Queue, ch.Queue)
	set(&c.Skill, ch.Skill)
	set(&c.PreferredAgent, ch.PreferredAgent)
	if !ch.Key.IsZero() {
		c.Key = ch.Key
	}
	if ch.Steps != nil {
		c.Steps = slices.Clone(ch.Steps)
	}
	if ch.WrapUp != 0 {
		c.WrapUp = ch.WrapUp
	}
	if ch.Lease != 0 {
		c.Lease = ch.Lease
	}
	if !ch.PreferUntil.IsZero() {
		c.PreferUntil = ch.PreferUntil
	}
}

// Heartbeat implements routing.Store.
func (s *Store) Heartbeat(ctx context.Context, node routing.Node) error {
	if node.ID == "" {
		return errors.New("memstore: heartbeat of a node with an empty id")
	}
	return s.write(ctx, func(txn *memdb.Txn) error {
		n := node
		if err := txn.Insert(tableNodes, &n); err != nil {
			return fmt.Errorf("memstore: %w", err)
		}
		return nil
	})
}

// checkOnline returns ErrNoAgents unless a logged-in agent has a skill of
// call's steps.
func checkOnline(txn *memdb.Txn, call *routing.Call) error {
	skills := stepSkills(call)
	for _, skill := range skills {
		online, err := txn.First(tableAgents, indexOnlineSkill+"_prefix", bySkill(skill).key())
		if err != nil {
			return fmt.Errorf("memstore: %w", err)
		}
		if online != nil {
			return nil
		}
	}
	return fmt.Errorf("skills %q: %w", skills, routing.ErrNoAgents)
}

// countQueued counts the queued calls of queue, stopping at limit.
func countQueued(txn *memdb.Txn, queue string, limit int) (int, error) {
	it, err := txn.Get(tableCalls, indexQueuedQueue+"_prefix", byQueue(queue).key())
	if err != nil {
		return 0, fmt.Errorf("memstore: %w", err)
	}
	n := 0
	for raw := it.Next(); raw != nil && n < limit; raw = it.Next() {
		n++
	}
	return n, nil
}

// requeue puts an offered call back in line: Key, Seq and Deadline are kept.
func requeue(c *routing.Call) {
	c.State, c.AgentID, c.Token, c.OfferedAt, c.LeaseUntil = routing.CallQueued, "", 0, time.Time{}, time.Time{}
}

// release frees an agent whose offer ended through no fault of its own (the
// caller hung up, the offer's lease passed, its node was lost): ready again
// with IdleSince unchanged, or its pending state.
func release(a *routing.Agent, now time.Time) {
	clearCall(a)
	a.Since = now
	if !applyPending(a) {
		a.State, a.Reason = routing.AgentReady, ""
	}
}

// endCall moves an agent whose conversation ended into wrap-up, or straight
// to ready (or its pending state) when there is no wrap-up.
func endCall(a *routing.Agent, wrapUp time.Duration, now time.Time) {
	if wrapUp > 0 {
		a.State, a.Since, a.WrapUntil = routing.AgentWrapUp, now, now.Add(wrapUp)
		return
	}
	free(a, now)
}

// free makes an agent whose call and wrap-up are over available at time at:
// ready (idle since at), or the state requested while busy.
func free(a *routing.Agent, at time.Time) {
	clearCall(a)
	a.Since = at
	if applyPending(a) {
		return
	}
	a.State, a.Reason, a.IdleSince = routing.AgentReady, "", at
}

// applyPending moves a to its pending state, if any, and reports whether it did.
func applyPending(a *routing.Agent) bool {
	if a.Pending == "" {
		return false
	}
	a.State, a.Reason = a.Pending, a.PendingReason
	a.Pending, a.PendingReason = "", ""
	return true
}

func clearCall(a *routing.Agent) {
	a.CallID, a.Queue, a.Token, a.WrapUntil = "", "", 0, time.Time{}
}

// insert writes the rows that are not nil.
func insert(txn *memdb.Txn, c *routing.Call, a *routing.Agent) error {
	if c != nil {
		if err := txn.Insert(tableCalls, c); err != nil {
			return fmt.Errorf("memstore: %w", err)
		}
	}
	if a != nil {
		if err := txn.Insert(tableAgents, a); err != nil {
			return fmt.Errorf("memstore: %w", err)
		}
	}
	return nil
}

func getCall(txn *memdb.Txn, id string) (*routing.Call, error) {
	raw, err := txn.First(tableCalls, indexID, callByID(id).key())
	if err != nil {
		return nil, fmt.Errorf("memstore: %w", err)
	}
	c, _ := raw.(callRow)
	return c, nil
}

func getAgent(txn *memdb.Txn, id string) (*routing.Agent, error) {
	raw, err := txn.First(tableAgents, indexID, agentByID(id).key())
	if err != nil {
		return nil, fmt.Errorf("memstore: %w", err)
	}
	a, _ := raw.(agentRow)
	return a, nil
}

// nextCounter increments the named counter and returns its new value (the
// first value is 1).
func nextCounter(txn *memdb.Txn, name string) (uint64, error) {
	raw, err := txn.First(tableCounters, indexID, counterByName(name).key())
	if err != nil {
		return 0, fmt.Errorf("memstore: %w", err)
	}
	next := counter{Name: name, Value: 1}
	if old, ok := raw.(*counter); ok {
		next.Value = old.Value + 1
	}
	if err := txn.Insert(tableCounters, &next); err != nil {
		return 0, fmt.Errorf("memstore: %w", err)
	}
	return next.Value, nil
}
