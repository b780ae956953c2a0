package redisstore_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"kefu/routing"
	"kefu/routing/memstore"
)

// errKinds lists the errors callers branch on that err wraps; the two stores
// must agree on them (messages may differ).
func errKinds(err error) string {
	if err == nil {
		return "nil"
	}
	s := "error"
	for _, e := range []error{routing.ErrNoAgents, routing.ErrStaleOffer, routing.ErrUnknownCall, routing.ErrUnknownAgent,
		routing.ErrDuplicateCall, routing.ErrAgentBusy, routing.ErrInvalidState, routing.ErrNotWaiting, routing.ErrQueueFull} {
		if errors.Is(err, e) {
			s += "|" + e.Error()
		}
	}
	return s
}

// TestSameAsMemstore drives memstore and the Redis store with one random
// sequence of operations — nanosecond times, tiers, preferred agents,
// deadlines, callbacks, stale and unknown offers, skill changes — and
// requires identical results from every call: return values, errors (by the
// sentinels they wrap), and Calls and Agents after every step.
func TestSameAsMemstore(t *testing.T) {
	r := startRedis(t)
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			d := &differ{t: t, mem: memstore.New(), red: r.store(t), rng: rand.New(rand.NewPCG(seed, 7)),
				now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
			d.run(1200)
			if d.lost == 0 || d.expired == 0 {
				t.Errorf("the run lost %d calls and expired %d offers; want some of each", d.lost, d.expired)
			}
		})
	}
}

type differ struct {
	t        *testing.T
	mem, red routing.Store
	rng      *rand.Rand
	now      time.Time
	step     int
	offers   []routing.Offer
	n        int
	lastKey  time.Time
	// What the run exercised, checked at its end.
	lost, expired int
}

func (d *differ) same(what string, m, r any, em, er error) {
	d.t.Helper()
	if ek, rk := errKinds(em), errKinds(er); ek != rk {
		d.t.Fatalf("step %d %s: memstore error %v, redis error %v", d.step, what, em, er)
	}
	if em == nil && !reflect.DeepEqual(m, r) {
		d.t.Fatalf("step %d %s:\nmemstore %+v\nredis    %+v", d.step, what, m, r)
	}
}

// The differential run's agents (the last one is never registered) and skills.
const agentCount = 6

func agentIDs() []string   { return []string{"a0", "a1", "a2", "a3", "a4", "a5", "nobody"} }
func skillNames() []string { return []string{"billing", "complaints", "data"} }

func (d *differ) randSkills() map[string]int {
	s := map[string]int{}
	for _, k := range skillNames() {
		if d.rng.IntN(2) == 0 {
			s[k] = 1 + d.rng.IntN(5)
		}
	}
	return s
}

func (d *differ) run(steps int) {
	ctx := d.t.Context()
	var cfgs []routing.AgentConfig
	for _, id := range agentIDs()[:agentCount] {
		cfgs = append(cfgs, routing.AgentConfig{ID: id, Skills: d.randSkills()})
	}
	d.same("PutAgents", nil, nil, d.mem.PutAgents(ctx, cfgs, d.now), d.red.PutAgents(ctx, cfgs, d.now))
	for d.step = range steps {
		// Nanosecond steps, so sub-millisecond order matters.
		d.now = d.now.Add(time.Duration(d.rng.Int64N(int64(3 * time.Second))))
		if d.rng.IntN(25) == 0 {
			d.now = d.now.Add(time.Duration(d.rng.IntN(90)) * time.Second)
		}
		d.op()
		rm, em := d.mem.Match(ctx, d.now)
		rr, er := d.red.Match(ctx, d.now)
		d.same("Match", rm, rr, em, er)
		d.offers = append(d.offers, rm.Offers...)
		d.lost += len(rm.Lost)
		d.expired += len(rm.Expired)
		cm, em := d.mem.Calls(ctx)
		cr, er := d.red.Calls(ctx)
		d.same("Calls", cm, cr, em, er)
		am, em := d.mem.Agents(ctx)
		ar, er := d.red.Agents(ctx)
		d.same("Agents", am, ar, em, er)
	}
}

func (d *differ) pickOffer() routing.Offer {
	if len(d.offers) == 0 {
		return routing.Offer{CallID: "none", AgentID: "a0", Token: 1}
	}
	o := d.offers[d.rng.IntN(len(d.offers))]
	if d.rng.IntN(10) == 0 {
		o.AgentID = agentIDs()[d.rng.IntN(len(agentIDs()))]
	}
	return o
}

func (d *differ) callID() string { return fmt.Sprint("c", d.rng.IntN(d.n+2)) }

func (d *differ) op() {
	ctx := d.t.Context()
	switch r := d.rng.IntN(100); {
	case r < 30:
		d.n++
		skill := skillNames()[d.rng.IntN(len(skillNames()))]
		c := routing.Call{ID: fmt.Sprint("c", d.n), Caller: "138", Queue: "q-" + skill, Skill: skill, Tier: "t",
			EnqueuedAt: d.now, Key: d.now.Add(-time.Duration(d.rng.IntN(4)) * 30 * time.Second),
			WrapUp: []time.Duration{0, 0, 5 * time.Second, 15*time.Second + 7}[d.rng.IntN(4)]}
		if d.rng.IntN(5) == 0 {
			c.Queue = "shared" // a queue holding calls of several skills
		}
		if d.rng.IntN(3) == 0 && !d.lastKey.IsZero() {
			// The same millisecond as an earlier key, in random order
			// below it: the sorted-set score alone cannot order these.
			c.Key = d.lastKey.Truncate(time.Millisecond).Add(time.Duration(d.rng.IntN(int(time.Millisecond))))
		}
		d.lastKey = c.Key
		if d.rng.IntN(6) == 0 {
			c.PreferredAgent = agentIDs()[d.rng.IntN(len(agentIDs()))]
			c.PreferUntil = d.now.Add(time.Duration(d.rng.Int64N(int64(40 * time.Second))))
		}
		if d.rng.IntN(3) == 0 {
			c.Deadline = d.now.Add(time.Duration(d.rng.Int64N(int64(200 * time.Second))))
		}
		if d.rng.IntN(30) == 0 {
			c.ID = d.callID() // maybe a duplicate
		}
		d.extend(&c)
		opts := routing.EnqueueOptions{}
		if d.rng.IntN(4) == 0 {
			opts.MaxQueued = 1 + d.rng.IntN(4)
		}
		opts.JoinEmpty = d.rng.IntN(5) == 0
		m, em := d.mem.Enqueue(ctx, c, opts)
		rr, er := d.red.Enqueue(ctx, c, opts)
		d.same("Enqueue", m, rr, em, er)
	case r < 50:
		id := agentIDs()[d.rng.IntN(len(agentIDs()))]
		st := []routing.AgentState{routing.AgentReady, routing.AgentReady, routing.AgentReady, routing.AgentNotReady,
			routing.AgentLoggedOut, routing.AgentTalking}[d.rng.IntN(6)]
		reason := []string{"", "lunch"}[d.rng.IntN(2)]
		force := d.rng.IntN(3) == 0
		m, em := d.mem.SetAgentState(ctx, id, st, reason, force, d.now)
		rr, er := d.red.SetAgentState(ctx, id, st, reason, force, d.now)
		d.same("SetAgentState", m, rr, em, er)
	case r < 62:
		o := d.pickOffer()
		m, em := d.mem.Answer(ctx, o, d.now)
		rr, er := d.red.Answer(ctx, o, d.now)
		d.same("Answer", m, rr, em, er)
	case r < 70:
		o := d.pickOffer()
		miss := routing.Miss{Reason: []string{"", "busy"}[d.rng.IntN(2)], MaxMisses: d.rng.IntN(4)}
		if d.rng.IntN(2) == 0 {
			// Sometimes in the past or now: ready at once.
			miss.Until = d.now.Add(time.Duration(d.rng.Int64N(int64(20*time.Second))) - 2*time.Second)
		}
		d.same("NoAnswer", nil, nil, d.mem.NoAnswer(ctx, o, miss, d.now), d.red.NoAnswer(ctx, o, miss, d.now))
	case r < 82:
		o := d.pickOffer()
		m, em := d.mem.Finish(ctx, o, d.now)
		rr, er := d.red.Finish(ctx, o, d.now)
		d.same("Finish", m, rr, em, er)
	case r < 88:
		id := d.callID()
		m, em := d.mem.Leave(ctx, id, d.now)
		rr, er := d.red.Leave(ctx, id, d.now)
		d.same("Leave", m, rr, em, er)
	case r < 91:
		id := d.callID()
		m, em := d.mem.Callback(ctx, id, "13800000000", d.now)
		rr, er := d.red.Callback(ctx, id, "13800000000", d.now)
		d.same("Callback", m, rr, em, er)
	case r < 94:
		id := d.callID()
		ch := d.randChange()
		m, em := d.mem.Modify(ctx, id, ch, d.now)
		rr, er := d.red.Modify(ctx, id, ch, d.now)
		d.same("Modify", m, rr, em, er)
	case r < 97:
		n := routing.Node{ID: nodeNames()[d.rng.IntN(len(nodeNames()))],
			Until:     d.now.Add(time.Duration(d.rng.Int64N(int64(60*time.Second))) - 5*time.Second),
			LostState: []routing.AgentState{"", routing.AgentReady, routing.AgentNotReady}[d.rng.IntN(3)]}
		d.same("Heartbeat", nil, nil, d.mem.Heartbeat(ctx, n), d.red.Heartbeat(ctx, n))
	default:
		cfg := []routing.AgentConfig{{ID: agentIDs()[d.rng.IntN(agentCount)], Skills: d.randSkills()}}
		d.same("PutAgents", nil, nil, d.mem.PutAgents(ctx, cfg, d.now), d.red.PutAgents(ctx, cfg, d.now))
	}
}

func nodeNames() []string { return []string{"n1", "n2", "n3"} }

// randSteps returns nil (the implicit step), or one to three steps over
// the skills with levels widening over the next minute.
func (d *differ) randSteps(skill string) []routing.Step {
	if d.rng.IntN(2) == 0 {
		return nil
	}
	steps := []routing.Step{{At: d.now, Skill: skill, MinLevel: 2 + d.rng.IntN(4)}}
	at := d.now
	for range d.rng.IntN(3) {
		at = at.Add(time.Duration(d.rng.Int64N(int64(30 * time.Second))))
		steps = append(steps, routing.Step{At: at, Skill: skillNames()[d.rng.IntN(len(skillNames()))],
			MinLevel: 1 + d.rng.IntN(5)})
	}
	return steps
}

// extend gives a new call the v2 fields at random: node, lease, steps.
func (d *differ) extend(c *routing.Call) {
	if d.rng.IntN(3) != 0 {
		c.Node = nodeNames()[d.rng.IntN(len(nodeNames()))]
	}
	if d.rng.IntN(2) == 0 {
		c.Lease = time.Duration(1+d.rng.IntN(8))*time.Second + time.Duration(d.rng.IntN(1000))
	}
	c.Steps = d.randSteps(c.Skill)
}

// randChange returns a random supervisor change.
func (d *differ) randChange() routing.CallChange {
	var ch routing.CallChange
	if d.rng.IntN(3) == 0 {
		ch.Tier = "vip"
	}
	if d.rng.IntN(3) == 0 {
		ch.Key = d.now.Add(-time.Duration(d.rng.Int64N(int64(3 * time.Minute))))
	}
	if d.rng.IntN(3) == 0 {
		skill := skillNames()[d.rng.IntN(len(skillNames()))]
		ch.Queue, ch.Skill, ch.Steps = "q-"+skill, skill, d.randSteps(skill)
		ch.WrapUp = time.Duration(d.rng.IntN(3)) * 5 * time.Second
		ch.Lease = time.Duration(d.rng.IntN(3)) * 3 * time.Second
	}
	if d.rng.IntN(4) == 0 {
		ch.PreferredAgent = agentIDs()[d.rng.IntN(len(agentIDs()))]
		ch.PreferUntil = d.now.Add(time.Duration(d.rng.Int64N(int64(30 * time.Second))))
	}
	return ch
}
