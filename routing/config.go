package routing

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
)

// TierDefault is the tier of callers with no better tier, and the tier an
// empty or unknown tier name in a CallRequest is treated as.
const TierDefault = "default"

// Config configures a Router.
type Config struct {
	// Queues are the queues calls can join. Names must be unique.
	Queues []QueueConfig
	// Agents are the agents who may log in. Ids must be unique. A queue whose
	// skill no agent has is allowed (its calls get ErrNoAgents).
	Agents []AgentConfig
	// Tiers maps a tier name to its boost: how much earlier than its real
	// arrival a call of that tier is placed in the queue. Boosts must not be
	// negative. nil means DefaultTiers(); an empty map means no boosts.
	Tiers map[string]time.Duration
	// Now is the clock. nil means time.Now.
	Now func() time.Time
	// Logger receives the router's logs. nil discards them.
	Logger *slog.Logger
	// Events, when set, receives every queue event (see QueueEvent). An
	// Append error is logged as a warning and never fails the routing
	// operation. nil keeps no event log.
	Events EventLog

	// Node names this Kefu node when several share one store: calls it
	// queues are marked as its own (Call.Node), Run heartbeats under this
	// name, and offers other nodes make for its calls reach it on Bus.
	// Empty: a single node (no heartbeat, no recovery).
	Node string
	// NodeTTL is how long the node counts as alive after a heartbeat; Run
	// beats every NodeTTL/4. When it lapses, another node recovers its calls
	// and agents. Default 5s.
	NodeTTL time.Duration
	// LostAgentState is what agents talking on this node's calls become if
	// the node is lost: AgentNotReady (default; the agent checks the line
	// before taking calls again) or AgentReady (after the call's wrap-up).
	LostAgentState AgentState
	// Bus carries offers to the node holding the caller's dialog; nil with
	// a Node set means offers for other nodes' calls are left to their
	// lease.
	Bus Bus
	// Misses are the rules for agents who do not take an offer.
	Misses MissRules
}

// MissRules says what happens to an agent who misses an offer. Each kind of
// miss makes the agent not ready for its own delay, after which it is ready
// again; MaxInRow misses in a row make it not ready ("not_responding") until
// it asks to be ready. A delay is never zero, so the call just missed is
// never offered again at once to the same agent.
type MissRules struct {
	// NoAnswer follows a ring timeout. Default 10s.
	NoAnswer time.Duration
	// Rejected follows a declined offer (the phone answered 4xx/6xx other
	// than busy). Default 5s.
	Rejected time.Duration
	// Busy follows 486 Busy Here / 600 Busy Everywhere. Default 5s.
	Busy time.Duration
	// Other follows any other failure to reach the agent (phone not
	// registered, network error). Default 10s.
	Other time.Duration
	// MaxInRow is how many misses in a row make the agent not responding.
	// Default 3; negative: no limit.
	MaxInRow int
}

// Defaults for MissRules and node settings.
const (
	DefaultNoAnswerDelay = 10 * time.Second
	DefaultRejectDelay   = 5 * time.Second
	DefaultBusyDelay     = 5 * time.Second
	DefaultOtherDelay    = 10 * time.Second
	DefaultMaxMisses     = 3
	DefaultNodeTTL       = 5 * time.Second
	// LeaseGrace is added to a queue's RingTimeout to make an offer's lease:
	// the SIP layer reports the outcome well before the lease passes.
	LeaseGrace = 5 * time.Second
)

// delay returns the not-ready delay for a miss with reason.
func (m MissRules) delay(reason string) time.Duration {
	switch reason {
	case ReasonNoAnswer:
		return m.NoAnswer
	case ReasonRejected:
		return m.Rejected
	case ReasonBusy:
		return m.Busy
	}
	return m.Other
}

// DefaultTiers returns the standard tier boosts (a new map each call): vip,
// key_account and five_star 120s, four_star 60s, three_star 30s, two_star 10s,
// one_star and default 0.
func DefaultTiers() map[string]time.Duration {
	return map[string]time.Duration{
		"vip":         120 * time.Second,
		"key_account": 120 * time.Second,
		"five_star":   120 * time.Second,
		"four_star":   60 * time.Second,
		"three_star":  30 * time.Second,
		"two_star":    10 * time.Second,
		"one_star":    0,
		TierDefault:   0,
	}
}

// compiled is a validated, defaulted Config.
type compiled struct {
	queues     []QueueConfig
	queueIndex map[string]int
	agents     []AgentConfig
	agentIndex map[string]int
	tiers      map[string]time.Duration
	maxBoost   time.Duration
	misses     MissRules
	node       string
	nodeTTL    time.Duration
	lostState  AgentState
}

// compile defaults and validates cfg; the error lists every problem found,
// each naming the entry at fault.
func compile(cfg Config) (*compiled, error) {
	var problems []error
	bad := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }

	c := &compiled{queueIndex: map[string]int{}, agentIndex: map[string]int{}}
	for i, q := range cfg.Queues {
		where := fmt.Sprintf("queues[%d] %q", i, q.Name)
		switch {
		case strings.TrimSpace(q.Name) == "":
			bad("queues[%d]: name is empty; give every queue a name", i)
			continue
		case strings.ContainsRune(q.Name, 0):
			bad("%s: name contains a NUL byte", where)
			continue
		}
		if j, dup := c.queueIndex[q.Name]; dup {
			bad("%s: duplicate queue name (first defined at queues[%d]); queue names must be unique", where, j)
			continue
		}
		if strings.TrimSpace(q.Skill) == "" || strings.ContainsRune(q.Skill, 0) {
			bad("%s: skill %q is not valid; name the skill agents need to serve this queue", where, q.Skill)
		}
		for _, d := range []struct {
			name string
			v    time.Duration
		}{{"service_level", q.ServiceLevel}, {"max_wait", q.MaxWait}, {"ring_timeout", q.RingTimeout}, {"wrap_up", q.WrapUp}, {"prefer_wait", q.PreferWait}} {
			if d.v < 0 {
				bad("%s: %s %v is negative; use 0 for the default", where, d.name, d.v)
			}
		}
		if q.MaxQueued < 0 {
			bad("%s: max_queued %d is negative; use 0 for no limit", where, q.MaxQueued)
		}
		q.Steps = slices.Clone(q.Steps)
		for j := range q.Steps {
			st := &q.Steps[j]
			if st.Skill == "" {
				st.Skill = q.Skill
			}
			if st.MinLevel == 0 {
				st.MinLevel = 1
			}
			switch {
			case j == 0 && st.After != 0:
				bad("%s: steps[0]: after is %v; the first step applies from the start, give it after 0", where, st.After)
			case st.After < 0:
				bad("%s: steps[%d]: after %v is negative", where, j, st.After)
			case j > 0 && st.After < q.Steps[j-1].After:
				bad("%s: steps[%d]: after %v comes before the previous step's %v; list steps in order of waiting time", where, j, st.After, q.Steps[j-1].After)
			}
			if st.MinLevel < 1 || st.MinLevel > 5 {
				bad("%s: steps[%d]: min_level %d is out of range; levels go from 1 to 5", where, j, st.MinLevel)
			}
			if strings.ContainsRune(st.Skill, 0) || strings.TrimSpace(st.Skill) == "" {
				bad("%s: steps[%d]: skill %q is not valid", where, j, st.Skill)
			}
		}
		if q.ServiceLevel == 0 {
			q.ServiceLevel = DefaultServiceLevel
		}
		if q.RingTimeout == 0 {
			q.RingTimeout = DefaultRingTimeout
		}
		c.queueIndex[q.Name] = len(c.queues)
		c.queues = append(c.queues, q)
	}
	for i, a := range cfg.Agents {
		where := fmt.Sprintf("agents[%d] %q", i, a.ID)
		switch {
		case strings.TrimSpace(a.ID) == "":
			bad("agents[%d]: id is empty; give every agent an id", i)
			continue
		case strings.ContainsRune(a.ID, 0):
			bad("%s: id contains a NUL byte", where)
			continue
		}
		if j, dup := c.agentIndex[a.ID]; dup {
			bad("%s: duplicate agent id (first defined at agents[%d]); agent ids must be unique", where, j)
			continue
		}
		for skill, level := range a.Skills {
			if strings.TrimSpace(skill) == "" || strings.ContainsRune(skill, 0) {
				bad("%s: skill name %q is not valid", where, skill)
			}
			if level < 1 || level > 5 {
				bad("%s: skill %q level %d is out of range; levels go from 1 to 5 (5 best)", where, skill, level)
			}
		}
		a.Skills = maps.Clone(a.Skills)
		c.agentIndex[a.ID] = len(c.agents)
		c.agents = append(c.agents, a)
	}
	c.tiers = cfg.Tiers
	if c.tiers == nil {
		c.tiers = DefaultTiers()
	}
	c.tiers = maps.Clone(c.tiers)
	for name, boost := range c.tiers {
		if boost < 0 {
			bad("tiers %q: boost %v is negative; boosts move callers ahead, use 0 for none", name, boost)
		}
		c.maxBoost = max(c.maxBoost, boost)
	}
	c.misses = cfg.Misses
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{{"no_answer", &c.misses.NoAnswer, DefaultNoAnswerDelay}, {"rejected", &c.misses.Rejected, DefaultRejectDelay},
		{"busy", &c.misses.Busy, DefaultBusyDelay}, {"other", &c.misses.Other, DefaultOtherDelay}} {
		switch {
		case *d.v < 0:
			bad("misses: %s delay %v is negative; the agent must stay not ready for a while after a miss", d.name, *d.v)
		case *d.v == 0:
			*d.v = d.def
		}
	}
	switch {
	case c.misses.MaxInRow == 0:
		c.misses.MaxInRow = DefaultMaxMisses
	case c.misses.MaxInRow < 0:
		c.misses.MaxInRow = 0
	}
	c.node, c.nodeTTL, c.lostState = cfg.Node, cfg.NodeTTL, cfg.LostAgentState
	if c.nodeTTL == 0 {
		c.nodeTTL = DefaultNodeTTL
	}
	if c.nodeTTL < 0 {
		bad("node_ttl %v is negative", c.nodeTTL)
	}
	switch c.lostState {
	case "":
		c.lostState = AgentNotReady
	case AgentNotReady, AgentReady:
	default:
		bad("lost_agent_state %q: use ready or not_ready", c.lostState)
	}
	if strings.ContainsRune(c.node, 0) {
		bad("node %q contains a NUL byte", c.node)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("routing: invalid config: %w", errors.Join(problems...))
	}
	return c, nil
}

// tier returns the tier name a request's tier is treated as, and its boost.
func (c *compiled) tier(name string) (string, time.Duration) {
	if boost, ok := c.tiers[name]; ok && name != "" {
		return name, boost
	}
	return TierDefault, c.tiers[TierDefault]
}

func (c *compiled) queue(name string) (QueueConfig, bool) {
	i, ok := c.queueIndex[name]
	if !ok {
		return QueueConfig{}, false
	}
	return c.queues[i], true
}
