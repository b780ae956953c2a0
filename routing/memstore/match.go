package memstore

import (
	"container/heap"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-memdb"

	"kefu/routing"
)

// Match implements routing.Store: timed transitions, then the greedy matching
// pass, then the next due time, all in one write transaction.
func (s *Store) Match(ctx context.Context, now time.Time) (routing.MatchResult, error) {
	var res routing.MatchResult
	err := s.write(ctx, func(txn *memdb.Txn) error {
		if err := recoverNodes(txn, now, &res); err != nil {
			return err
		}
		if err := expireLeases(txn, now, &res); err != nil {
			return err
		}
		if err := endWrapUps(txn, now, &res); err != nil {
			return err
		}
		if err := overflow(txn, now, &res); err != nil {
			return err
		}
		if err := match(txn, now, &res); err != nil {
			return err
		}
		next, err := nextDue(txn, now)
		res.Next = next
		return err
	})
	if err != nil {
		return routing.MatchResult{}, err
	}
	return res, nil
}

// recoverNodes removes the calls of the nodes whose heartbeat lapsed at or
// before now and frees their agents (see routing.Store.Match).
func recoverNodes(txn *memdb.Txn, now time.Time, res *routing.MatchResult) error {
	it, err := txn.Get(tableNodes, indexUntil)
	if err != nil {
		return fmt.Errorf("memstore: %w", err)
	}
	var lost []nodeRow
	for raw := it.Next(); raw != nil; raw = it.Next() {
		n := raw.(nodeRow)
		if n.Until.After(now) {
			break
		}
		lost = append(lost, n)
	}
	slices.SortFunc(lost, func(a, b nodeRow) int { return strings.Compare(a.ID, b.ID) })
	for _, n := range lost {
		it, err := txn.Get(tableCalls, indexNode+"_prefix", byNode(n.ID).key())
		if err != nil {
			return fmt.Errorf("memstore: %w", err)
		}
		var calls []callRow
		for raw := it.Next(); raw != nil; raw = it.Next() {
			calls = append(calls, raw.(callRow))
		}
		for _, c := range calls {
			if err := txn.Delete(tableCalls, c); err != nil {
				return fmt.Errorf("memstore: %w", err)
			}
			res.Lost = append(res.Lost, c.Clone())
			if c.State == routing.CallQueued {
				continue
			}
			a, err := getAgent(txn, c.AgentID)
			if err != nil {
				return err
			}
			if a == nil || a.CallID != c.ID || a.Token != c.Token {
				continue
			}
			ac := *a
			switch {
			case c.State == routing.CallOffered:
				release(&ac, now)
			case n.LostState == routing.AgentNotReady:
				clearCall(&ac)
				ac.Since = now
				if !applyPending(&ac) {
					ac.State, ac.Reason = routing.AgentNotReady, routing.ReasonNodeLost
				}
			default:
				endCall(&ac, c.WrapUp, now)
			}
			if err := insert(txn, nil, &ac); err != nil {
				return err
			}
		}
		if err := txn.Delete(tableNodes, n); err != nil {
			return fmt.Errorf("memstore: %w", err)
		}
		res.LostNodes = append(res.LostNodes, n.ID)
	}
	return nil
}

// expireLeases withdraws the offers whose lease passed at or before now.
func expireLeases(txn *memdb.Txn, now time.Time, res *routing.MatchResult) error {
	it, err := txn.Get(tableCalls, indexLease)
	if err != nil {
		return fmt.Errorf("memstore: %w", err)
	}
	var due []callRow
	for raw := it.Next(); raw != nil; raw = it.Next() {
		c := raw.(callRow)
		if c.LeaseUntil.After(now) {
			break
		}
		due = append(due, c)
	}
	for _, c := range due {
		res.Expired = append(res.Expired, c.Offer())
		cc := *c
		requeue(&cc)
		a, err := getAgent(txn, c.AgentID)
		if err != nil {
			return err
		}
		var ac *routing.Agent
		if a != nil && a.CallID == c.ID && a.Token == c.Token {
			cp := *a
			release(&cp, now)
			ac = &cp
		}
		if err := insert(txn, &cc, ac); err != nil {
			return err
		}
	}
	return nil
}

// endWrapUps frees the agents whose wrap-up or miss delay ends at or before
// now; they count as idle from the moment it ended.
func endWrapUps(txn *memdb.Txn, now time.Time, res *routing.MatchResult) error {
	it, err := txn.Get(tableAgents, indexWrap)
	if err != nil {
		return fmt.Errorf("memstore: %w", err)
	}
	var due []*routing.Agent
	for raw := it.Next(); raw != nil; raw = it.Next() {
		a := raw.(agentRow)
		if a.WrapUntil.After(now) {
			break
		}
		due = append(due, a)
	}
	for _, a := range due {
		ac := *a
		free(&ac, a.WrapUntil)
		ac.WrapUntil = time.Time{}
		if err := insert(txn, nil, &ac); err != nil {
			return err
		}
		res.WrapEnded = append(res.WrapEnded, a.ID)
	}
	return nil
}

// overflow removes the queued calls whose deadline is at or before now.
// Offered calls are not overflowed; if such a call comes back to the queue
// after its deadline, the next pass overflows it.
func overflow(txn *memdb.Txn, now time.Time, res *routing.MatchResult) error {
	it, err := txn.Get(tableCalls, indexDeadline)
	if err != nil {
		return fmt.Errorf("memstore: %w", err)
	}
	var due []*routing.Call
	for raw := it.Next(); raw != nil; raw = it.Next() {
		c := raw.(callRow)
		if c.Deadline.After(now) {
			break
		}
		due = append(due, c)
	}
	for _, c := range due {
		if err := txn.Delete(tableCalls, c); err != nil {
			return fmt.Errorf("memstore: %w", err)
		}
		res.Overflowed = append(res.Overflowed, *c)
	}
	return nil
}

// match is the greedy pass: queued calls in global key order, each taking the
// best available agent for it. Only calls some ready agent could take are
// visited: the queued calls of each skill that a ready agent has, and the
// queued calls that prefer a ready agent, merged in key order.
func match(txn *memdb.Txn, now time.Time, res *routing.MatchResult) error {
	it, err := txn.Get(tableAgents, indexState+"_prefix", byState(routing.AgentReady).key())
	if err != nil {
		return fmt.Errorf("memstore: %w", err)
	}
	var ready []*routing.Agent
	skills := map[string]bool{}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		a := raw.(agentRow)
		ready = append(ready, a)
		for skill := range a.Skills {
			skills[skill] = true
		}
	}
	readyLeft := len(ready)
	if readyLeft == 0 {
		return nil
	}
	var sources sourceHeap
	anyPreferred, err := txn.First(tableCalls, indexQueuedPreferred)
	if err != nil {
		return fmt.Errorf("memstore: %w", err)
	}
	for _, a := range ready {
		if anyPreferred == nil {
			break // no queued call has a preferred agent
		}
		src, err := newSource(txn, indexQueuedPreferred, byPreferred(a.ID), "", a.ID)
		if err != nil {
			return err
		}
		if src != nil {
			sources = append(sources, src)
		}
	}
	for skill := range skills {
		src, err := newSource(txn, indexQueuedSkill, bySkill(skill), skill, "")
		if err != nil {
			return err
		}
		if src != nil {
			sources = append(sources, src)
		}
	}
	heap.Init(&sources)

	seen := map[string]bool{}
	for len(sources) > 0 && readyLeft > 0 {
		src := sources[0]
		c := src.head
		// A source whose agents are all taken has nothing left to give; its
		// calls that prefer a ready agent are in that agent's source.
		live, err := src.live(txn)
		if err != nil {
			return err
		}
		if !live {
			heap.Pop(&sources)
			continue
		}
		if src.advance() {
			heap.Fix(&sources, 0)
		} else {
			heap.Pop(&sources)
		}
		if seen[c.ID] {
			continue
		}
		seen[c.ID] = true

		a, err := pickAgent(txn, c, now)
		if err != nil {
			return err
		}
		if a == nil {
			continue
		}
		offer, err := makeOffer(txn, c, a, now)
		if err != nil {
			return err
		}
		res.Offers = append(res.Offers, offer)
		readyLeft--
	}
	return nil
}

// pickAgent returns the best ready agent for c, or nil if there is none or c
// is waiting for its preferred agent.
func pickAgent(txn *memdb.Txn, c *routing.Call, now time.Time) (*routing.Agent, error) {
	if c.PreferredAgent != "" {
		p, err := getAgent(txn, c.PreferredAgent)
		if err != nil {
			return nil, err
		}
		if p != nil && p.State == routing.AgentReady {
			return p, nil
		}
		if p != nil && p.State.LoggedIn() && now.Before(c.PreferUntil) {
			return nil, nil // waits for the account manager
		}
	}
	for _, st := range c.CallSteps() {
		if st.At.After(now) {
			break
		}
		a, err := bestReady(txn, st.Skill)
		if err != nil {
			return nil, err
		}
		if a != nil && a.Skills[st.Skill] >= st.MinLevel {
			return a, nil
		}
	}
	return nil, nil
}

// bestReady returns the ready agent with skill at the highest level, the
// longest idle among equals (then the lowest id), or nil.
func bestReady(txn *memdb.Txn, skill string) (*routing.Agent, error) {
	raw, err := txn.First(tableAgents, indexReadySkill+"_prefix", bySkill(skill).key())
	if err != nil {
		return nil, fmt.Errorf("memstore: %w", err)
	}
	a, _ := raw.(agentRow)
	return a, nil
}

// makeOffer records the offer of c to a under a new fencing token.
func makeOffer(txn *memdb.Txn, c *routing.Call, a *routing.Agent, now time.Time) (routing.Offer, error) {
	token, err := nextCounter(txn, counterToken)
	if err != nil {
		return routing.Offer{}, err
	}
	cc, ac := *c, *a
	cc.State, cc.AgentID, cc.Token, cc.OfferedAt = routing.CallOffered, a.ID, token, now
	if c.Lease > 0 {
		cc.LeaseUntil = now.Add(c.Lease)
	}
	ac.State, ac.Reason, ac.Since = routing.AgentOffered, "", now
	ac.CallID, ac.Queue, ac.Token = c.ID, c.Queue, token
	if err := insert(txn, &cc, &ac); err != nil {
		return routing.Offer{}, err
	}
	return cc.Offer(), nil
}

// nextDue returns the earliest time after now at which Match has timed work:
// an agent timer (wrap-up, miss delay), a queued call's deadline, a
// preferred-agent wait expiry, a skill step, an offer lease or a node's
// heartbeat expiry.
func nextDue(txn *memdb.Txn, now time.Time) (time.Time, error) {
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	raw, err := txn.First(tableAgents, indexWrap)
	if err != nil {
		return time.Time{}, fmt.Errorf("memstore: %w", err)
	}
	if a, ok := raw.(agentRow); ok {
		consider(a.WrapUntil)
	}
	raw, err = txn.First(tableCalls, indexDeadline)
	if err != nil {
		return time.Time{}, fmt.Errorf("memstore: %w", err)
	}
	if c, ok := raw.(callRow); ok {
		consider(c.Deadline)
	}
	it, err := txn.LowerBound(tableCalls, indexPreferUntil, after(now).key())
	if err != nil {
		return time.Time{}, fmt.Errorf("memstore: %w", err)
	}
	if c, ok := it.Next().(callRow); ok {
		consider(c.PreferUntil)
	}
	it, err = txn.LowerBound(tableCalls, indexStepAt, after(now).key())
	if err != nil {
		return time.Time{}, fmt.Errorf("memstore: %w", err)
	}
	if c, ok := it.Next().(callRow); ok {
		for _, st := range c.Steps {
			if st.At.After(now) {
				consider(st.At)
			}
		}
	}
	raw, err = txn.First(tableCalls, indexLease)
	if err != nil {
		return time.Time{}, fmt.Errorf("memstore: %w", err)
	}
	if c, ok := raw.(callRow); ok {
		consider(c.LeaseUntil)
	}
	raw, err = txn.First(tableNodes, indexUntil)
	if err != nil {
		return time.Time{}, fmt.Errorf("memstore: %w", err)
	}
	if n, ok := raw.(nodeRow); ok {
		consider(n.Until)
	}
	return next, nil
}

// source iterates one index prefix of queued calls in key order.
type source struct {
	it    memdb.ResultIterator
	head  *routing.Call
	skill string // queued_skill source: live while a ready agent has skill
	agent string // queued_preferred source: live while agent is ready
}

func newSource(txn *memdb.Txn, index string, prefix keyOf, skill, agent string) (*source, error) {
	it, err := txn.Get(tableCalls, index+"_prefix", prefix.key())
	if err != nil {
		return nil, fmt.Errorf("memstore: %w", err)
	}
	s := &source{it: it, skill: skill, agent: agent}
	if !s.advance() {
		return nil, nil
	}
	return s, nil
}

// advance moves to the next call and reports whether there is one. The
// iterator reads the index as it was when the pass began; calls the pass has
// since offered are skipped by the caller's seen set.
func (s *source) advance() bool {
	raw := s.it.Next()
	if raw == nil {
		s.head = nil
		return false
	}
	s.head = raw.(callRow)
	return true
}

func (s *source) live(txn *memdb.Txn) (bool, error) {
	if s.agent != "" {
		a, err := getAgent(txn, s.agent)
		return err == nil && a != nil && a.State == routing.AgentReady, err
	}
	a, err := bestReady(txn, s.skill)
	return a != nil, err
}

// sourceHeap orders sources by their head call's (Key, Seq).
type sourceHeap []*source

func (h sourceHeap) Len() int { return len(h) }
func (h sourceHeap) Less(i, j int) bool {
	a, b := h[i].head, h[j].head
	if !a.Key.Equal(b.Key) {
		return a.Key.Before(b.Key)
	}
	return a.Seq < b.Seq
}
func (h sourceHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *sourceHeap) Push(x any)   { *h = append(*h, x.(*source)) }
func (h *sourceHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	return s
}
