package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"kefu/routing"
)

// propertySeeds and propertySteps size the randomised run.
const (
	propertySeeds = 4
	propertySteps = 1500
)

// testProperties drives the store with random arrivals, tiers, agent state
// changes, answers, misses, finishes, hang-ups and clock jumps (seeded, so a
// failure is reproducible), and checks the routing invariants after every
// step.
func testProperties(t *testing.T, newStore func(t *testing.T) routing.Store) {
	for seed := range uint64(propertySeeds) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			p := &propRun{
				f:     &fixture{t: t, s: newStore(t), ctx: t.Context()},
				rng:   rand.New(rand.NewPCG(seed, 0x6b656675)),
				now:   t0(),
				known: map[string]routing.Call{},
			}
			p.run(propertySteps)
		})
	}
}

type propTier struct {
	name  string
	boost time.Duration
}

type propRun struct {
	f         *fixture
	rng       *rand.Rand
	now       time.Time
	tiers     []propTier
	maxBoost  time.Duration
	skills    []string
	agents    []string
	known     map[string]routing.Call // calls as enqueued
	offers    []routing.Offer         // every offer made
	lastToken uint64
	nextID    int
	step      int
	stats     map[string]int
	// alive says which nodes heartbeat; a node stops now and then (a
	// crash) and its calls must be recovered.
	alive map[string]bool
}

var propNodes = []string{"n1", "n2"}

func (p *propRun) run(steps int) {
	t := p.f.t
	p.stats = map[string]int{}
	for name, boost := range routing.DefaultTiers() {
		p.tiers = append(p.tiers, propTier{name, boost})
		p.maxBoost = max(p.maxBoost, boost)
	}
	slices.SortFunc(p.tiers, func(a, b propTier) int { return cmpString(a.name, b.name) })
	p.skills = []string{"billing", "complaints", "data"}
	var cfgs []routing.AgentConfig
	for i := range 7 {
		id := fmt.Sprintf("a%d", i)
		s := map[string]int{}
		for _, skill := range p.skills {
			if p.rng.IntN(2) == 0 || len(s) == 0 && skill == "data" {
				s[skill] = 1 + p.rng.IntN(5)
			}
		}
		cfgs = append(cfgs, routing.AgentConfig{ID: id, Skills: s})
		p.agents = append(p.agents, id)
	}
	p.f.agents(cfgs...)
	p.alive = map[string]bool{"n1": true, "n2": true}

	for p.step = range steps {
		p.now = p.now.Add(time.Duration(p.rng.IntN(3000)) * time.Millisecond)
		if p.rng.IntN(20) == 0 {
			p.now = p.now.Add(time.Duration(p.rng.IntN(90)) * time.Second)
		}
		p.beat()
		p.randomOp()
		res, err := p.f.s.Match(p.f.ctx, p.now)
		if err != nil {
			t.Fatalf("step %d: Match: %v", p.step, err)
		}
		p.check(res)
		if t.Failed() {
			t.FailNow()
		}
	}
	t.Logf("stats: %v", p.stats)
	for _, must := range []string{"enqueue", "offer", "answer", "noanswer", "finish", "leave", "overflow", "stale", "wrapEnded", "orderChecks",
		"missDelay", "notResponding", "expired", "lost", "lostNode"} {
		if p.stats[must] == 0 {
			t.Errorf("the random run never exercised %s (stats %v)", must, p.stats)
		}
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (p *propRun) fatalf(format string, args ...any) {
	p.f.t.Helper()
	p.f.t.Fatalf("step %d at +%v: %s", p.step, p.now.Sub(t0()), fmt.Sprintf(format, args...))
}

// pickCall returns a random call in state s, if any.
func (p *propRun) pickCall(s routing.CallState) (routing.Call, bool) {
	var pick []routing.Call
	for _, c := range p.f.calls() {
		if c.State == s || s == "" {
			pick = append(pick, c)
		}
	}
	if len(pick) == 0 {
		return routing.Call{}, false
	}
	return pick[p.rng.IntN(len(pick))], true
}

func (p *propRun) randomOp() {
	ctx, s := p.f.ctx, p.f.s
	switch r := p.rng.IntN(100); {
	case r < 30:
		p.enqueue()
	case r < 50:
		id := p.agents[p.rng.IntN(len(p.agents))]
		want := []routing.AgentState{routing.AgentReady, routing.AgentReady, routing.AgentReady,
			routing.AgentNotReady, routing.AgentNotReady, routing.AgentLoggedOut}[p.rng.IntN(6)]
		before := p.f.agent(id)
		_, err := s.SetAgentState(ctx, id, want, "r", false, p.now)
		busy := before.State == routing.AgentOffered || before.State == routing.AgentTalking || before.State == routing.AgentWrapUp
		if wantBusy := want == routing.AgentReady && busy; wantBusy != errors.Is(err, routing.ErrAgentBusy) || (err != nil && !wantBusy) {
			p.fatalf("SetAgentState(%s %s → %s): %v", id, before.State, want, err)
		}
	case r < 62:
		if c, ok := p.pickCall(routing.CallOffered); ok {
			if _, err := s.Answer(ctx, c.Offer(), p.now); err != nil {
				p.fatalf("Answer(%s): %v", c.ID, err)
			}
			p.stats["answer"]++
		}
	case r < 70:
		if c, ok := p.pickCall(routing.CallOffered); ok {
			miss := hold("")
			if p.rng.IntN(2) == 0 {
				miss = routing.Miss{Reason: "busy", Until: p.now.Add(time.Duration(p.rng.IntN(15000)) * time.Millisecond), MaxMisses: 3}
			}
			if err := s.NoAnswer(ctx, c.Offer(), miss, p.now); err != nil {
				p.fatalf("NoAnswer(%s): %v", c.ID, err)
			}
			a := p.f.agent(c.AgentID)
			switch {
			case a.State == routing.AgentNotReady && a.Reason == routing.ReasonNotResponding:
				p.stats["notResponding"]++
			case a.State == routing.AgentNotReady && !a.WrapUntil.IsZero():
				p.stats["missDelay"]++
			}
			p.stats["noanswer"]++
		}
	case r < 82:
		if c, ok := p.pickCall(routing.CallTalking); ok {
			if _, err := s.Finish(ctx, c.Offer(), p.now); err != nil {
				p.fatalf("Finish(%s): %v", c.ID, err)
			}
			delete(p.known, c.ID)
			p.stats["finish"]++
		}
	case r < 90:
		if c, ok := p.pickCall(""); ok {
			if _, err := s.Leave(ctx, c.ID, p.now); err != nil {
				p.fatalf("Leave(%s): %v", c.ID, err)
			}
			delete(p.known, c.ID)
			p.stats["leave"]++
		}
	default:
		p.replayOldOffer()
	}
}

func (p *propRun) enqueue() {
	p.nextID++
	skill := p.skills[p.rng.IntN(len(p.skills))]
	tier := p.tiers[p.rng.IntN(len(p.tiers))]
	c := routing.Call{
		ID: fmt.Sprintf("c%d", p.nextID), Queue: "q-" + skill, Skill: skill, Tier: tier.name,
		EnqueuedAt: p.now, Key: p.now.Add(-tier.boost),
		WrapUp: []time.Duration{0, 0, 5 * time.Second, 15 * time.Second}[p.rng.IntN(4)],
	}
	if p.rng.IntN(7) == 0 {
		c.PreferredAgent = p.agents[p.rng.IntN(len(p.agents))]
		c.PreferUntil = p.now.Add(time.Duration(p.rng.IntN(40)) * time.Second)
	}
	if p.rng.IntN(3) == 0 {
		c.Deadline = p.now.Add(time.Duration(30+p.rng.IntN(270)) * time.Second)
	}
	if p.rng.IntN(2) == 0 {
		c.Lease = time.Duration(5+p.rng.IntN(20)) * time.Second
	}
	if n := propNodes[p.rng.IntN(len(propNodes))]; p.alive[n] && p.rng.IntN(3) > 0 {
		c.Node = n
	}
	online := false
	for _, a := range p.agentsNow() {
		if _, ok := a.Skills[skill]; ok && a.State.LoggedIn() {
			online = true
		}
	}
	got, err := p.f.s.Enqueue(p.f.ctx, c, routing.EnqueueOptions{})
	switch {
	case !online && errors.Is(err, routing.ErrNoAgents):
		p.stats["noagents"]++
		return
	case err != nil || !online:
		p.fatalf("Enqueue(%s, %s) with logged-in agents %v: %v", c.ID, skill, online, err)
	}
	if got.Seq == 0 || got.State != routing.CallQueued || !got.Key.Equal(c.Key) {
		p.fatalf("Enqueue returned %+v", got)
	}
	p.known[c.ID] = got
	p.stats["enqueue"]++
}

// beat sends the heartbeats of the nodes alive; now and then one stops
// (crashes) or a stopped one starts again.
func (p *propRun) beat() {
	for _, n := range propNodes {
		if p.rng.IntN(400) == 0 {
			p.alive[n] = !p.alive[n]
		}
		if !p.alive[n] {
			continue
		}
		if err := p.f.s.Heartbeat(p.f.ctx, routing.Node{ID: n, Until: p.now.Add(30 * time.Second),
			LostState: []routing.AgentState{routing.AgentReady, routing.AgentNotReady}[p.rng.IntN(2)]}); err != nil {
			p.fatalf("Heartbeat(%s): %v", n, err)
		}
	}
}

// replayOldOffer quotes an old offer that is no longer current and expects
// ErrStaleOffer.
func (p *propRun) replayOldOffer() {
	if len(p.offers) == 0 {
		return
	}
	o := p.offers[p.rng.IntN(len(p.offers))]
	if c, ok := p.f.callByID(o.CallID); ok && c.Token == o.Token {
		return // still current
	}
	var err error
	switch p.rng.IntN(3) {
	case 0:
		_, err = p.f.s.Answer(p.f.ctx, o, p.now)
	case 1:
		err = p.f.s.NoAnswer(p.f.ctx, o, hold(""), p.now)
	default:
		_, err = p.f.s.Finish(p.f.ctx, o, p.now)
	}
	if !errors.Is(err, routing.ErrStaleOffer) {
		p.fatalf("old offer %s→%s#%d: %v, want ErrStaleOffer", o.CallID, o.AgentID, o.Token, err)
	}
	p.stats["stale"]++
}

func (p *propRun) agentsNow() []routing.Agent {
	agents, err := p.f.s.Agents(p.f.ctx)
	if err != nil {
		p.fatalf("Agents: %v", err)
	}
	return agents
}

func before(a, b routing.Call) bool {
	if !a.Key.Equal(b.Key) {
		return a.Key.Before(b.Key)
	}
	return a.Seq < b.Seq
}

// check verifies the invariants after a step and its Match.
func (p *propRun) check(res routing.MatchResult) {
	calls := p.f.calls()
	agentList := p.agentsNow()
	agents := map[string]routing.Agent{}
	for _, a := range agentList {
		agents[a.ID] = a
	}
	callsByID := map[string]routing.Call{}

	for i, c := range calls {
		// No call in two places; the listing is in key order.
		if _, dup := callsByID[c.ID]; dup {
			p.fatalf("call %s listed twice", c.ID)
		}
		callsByID[c.ID] = c
		if i > 0 && !before(calls[i-1], c) {
			p.fatalf("Calls() out of order at %s", c.ID)
		}
		// Keys never change, not even on re-queue.
		k, ok := p.known[c.ID]
		switch {
		case !ok:
			p.fatalf("call %s in the store but finished, left or overflowed", c.ID)
		case !k.Key.Equal(c.Key) || k.Seq != c.Seq || !k.EnqueuedAt.Equal(c.EnqueuedAt) ||
			!k.Deadline.Equal(c.Deadline) || k.Queue != c.Queue || k.Skill != c.Skill:
			p.fatalf("call %s changed: %+v, was %+v", c.ID, c, k)
		}
		switch c.State {
		case routing.CallQueued:
			if c.AgentID != "" || c.Token != 0 {
				p.fatalf("queued call %s still names agent %q token %d", c.ID, c.AgentID, c.Token)
			}
		case routing.CallOffered, routing.CallTalking:
			if c.State == routing.CallOffered && c.Lease > 0 && !c.LeaseUntil.Equal(c.OfferedAt.Add(c.Lease)) {
				p.fatalf("offered call %s has lease until %v, want offered at %v + %v", c.ID, c.LeaseUntil, c.OfferedAt, c.Lease)
			}
			if !c.LeaseUntil.IsZero() && !c.LeaseUntil.After(p.now) {
				p.fatalf("call %s's lease passed at %v and it is still %s", c.ID, c.LeaseUntil, c.State)
			}
			// The call's agent has this call and no other.
			a, ok := agents[c.AgentID]
			want := map[routing.CallState]routing.AgentState{routing.CallOffered: routing.AgentOffered, routing.CallTalking: routing.AgentTalking}[c.State]
			if !ok || a.CallID != c.ID || a.Token != c.Token || a.State != want {
				p.fatalf("call %s is %s to %s#%d but the agent is %+v", c.ID, c.State, c.AgentID, c.Token, a)
			}
		default:
			p.fatalf("call %s in state %q", c.ID, c.State)
		}
	}
	in := func(list []routing.Call, id string) bool {
		return slices.ContainsFunc(list, func(c routing.Call) bool { return c.ID == id })
	}
	for id, k := range p.known {
		if _, ok := callsByID[id]; !ok && !in(res.Overflowed, id) && !in(res.Lost, id) {
			p.fatalf("call %s (%+v) vanished", id, k)
		}
	}
	// Only the calls of lost nodes are lost, and all of them.
	for _, c := range res.Lost {
		if c.Node == "" || !slices.Contains(res.LostNodes, c.Node) {
			p.fatalf("call %s of node %q lost with nodes %v", c.ID, c.Node, res.LostNodes)
		}
		delete(p.known, c.ID)
		p.stats["lost"]++
	}
	for _, n := range res.LostNodes {
		if p.alive[n] {
			p.fatalf("node %s lost while it beats", n)
		}
		for _, c := range calls {
			if c.Node == n {
				p.fatalf("call %s of lost node %s is still in the store", c.ID, n)
			}
		}
		p.stats["lostNode"]++
	}
	for _, o := range res.Expired {
		if c, ok := callsByID[o.CallID]; ok && c.Token == o.Token {
			p.fatalf("expired offer %s→%s#%d is still current", o.CallID, o.AgentID, o.Token)
		}
		p.stats["expired"]++
	}
	for _, a := range agentList {
		switch a.State {
		case routing.AgentOffered, routing.AgentTalking:
			c, ok := callsByID[a.CallID]
			if !ok || c.AgentID != a.ID || c.Token != a.Token {
				p.fatalf("agent %s is %s with call %s#%d, which is %+v", a.ID, a.State, a.CallID, a.Token, c)
			}
		case routing.AgentWrapUp:
			if !a.WrapUntil.After(p.now) {
				p.fatalf("agent %s still in wrap-up until %v after Match", a.ID, a.WrapUntil)
			}
		case routing.AgentNotReady:
			if !a.WrapUntil.IsZero() && !a.WrapUntil.After(p.now) {
				p.fatalf("agent %s still in its miss delay until %v after Match", a.ID, a.WrapUntil)
			}
		}
	}

	// Overflow only past the deadline.
	for _, c := range res.Overflowed {
		if c.Deadline.IsZero() || c.Deadline.After(p.now) {
			p.fatalf("call %s overflowed with deadline %v", c.ID, c.Deadline)
		}
		delete(p.known, c.ID)
		p.stats["overflow"]++
	}
	p.stats["wrapEnded"] += len(res.WrapEnded)
	if !res.Next.IsZero() && !res.Next.After(p.now) {
		p.fatalf("Next %v is not after now", res.Next)
	}

	// Offers: fresh tokens, one per call and per agent.
	offeredCalls, offeredAgents := map[string]bool{}, map[string]bool{}
	for _, o := range res.Offers {
		if o.Token <= p.lastToken {
			p.fatalf("offer token %d after %d", o.Token, p.lastToken)
		}
		p.lastToken = o.Token
		if offeredCalls[o.CallID] || offeredAgents[o.AgentID] {
			p.fatalf("double offer in %s", offersString(res.Offers))
		}
		offeredCalls[o.CallID], offeredAgents[o.AgentID] = true, true
		p.offers = append(p.offers, o)
		p.stats["offer"]++
	}

	exclusive := func(c routing.Call) bool { // waiting for its account manager
		pa, ok := agents[c.PreferredAgent]
		return c.PreferredAgent != "" && ok && pa.State.LoggedIn() && p.now.Before(c.PreferUntil)
	}
	for _, c := range calls {
		if c.State != routing.CallQueued {
			continue
		}
		// Work-conserving: a queued call has no ready agent it could take.
		if pa, ok := agents[c.PreferredAgent]; ok && pa.State == routing.AgentReady {
			p.fatalf("queued call %s while its preferred agent %s is ready", c.ID, pa.ID)
		}
		if !exclusive(c) {
			for _, a := range agentList {
				if _, ok := a.Skills[c.Skill]; ok && a.State == routing.AgentReady {
					p.fatalf("queued call %s (%s) while agent %s is ready", c.ID, c.Skill, a.ID)
				}
			}
		}
	}
	for _, o := range res.Offers {
		b := callsByID[o.CallID]
		x := agents[o.AgentID]
		// A call waiting for its account manager goes to nobody else.
		if b.PreferredAgent != x.ID && exclusive(b) {
			p.fatalf("%s offered to %s while waiting for its preferred agent %s until %v", b.ID, x.ID, b.PreferredAgent, b.PreferUntil)
		}
		if _, qualified := x.Skills[b.Skill]; !qualified {
			continue // an account manager outside the skill
		}
		// Agent choice: the highest level, then the longest idle.
		for _, y := range agentList {
			ly, ok := y.Skills[b.Skill]
			if !ok || y.State != routing.AgentReady || x.ID == b.PreferredAgent {
				continue
			}
			if lx := x.Skills[b.Skill]; ly > lx || ly == lx && y.IdleSince.Before(x.IdleSince) {
				p.fatalf("%s offered to %s (level %d, idle since %v) while %s (level %d, idle since %v) is ready",
					b.ID, x.ID, lx, x.IdleSince, y.ID, ly, y.IdleSince)
			}
		}
		for _, a := range calls {
			if a.State != routing.CallQueued || exclusive(a) {
				continue
			}
			p.stats["orderChecks"]++
			// Greedy order: no call the agent could have taken, ahead of
			// the one it got, is left waiting (this is the cross-queue rule).
			if _, ok := x.Skills[a.Skill]; ok && before(a, b) {
				p.fatalf("%s offered to %s while %s (key %v) is ahead of it (key %v) and still queued",
					b.ID, x.ID, a.ID, a.Key, b.Key)
			}
			// Starvation bound: a caller who arrived more than the largest
			// boost earlier is served first.
			if a.Queue == b.Queue && a.EnqueuedAt.Before(b.EnqueuedAt.Add(-p.maxBoost)) {
				p.fatalf("%s (arrived %v) offered while %s (arrived %v) waits", b.ID, b.EnqueuedAt, a.ID, a.EnqueuedAt)
			}
		}
	}
}
