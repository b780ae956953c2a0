package routing

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
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
