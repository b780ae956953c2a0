package stats

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"kefu/routing"
)

// Defaults for Config fields left zero.
const (
	// DefaultShortAbandon is the wait under which an abandon is short.
	DefaultShortAbandon = 5 * time.Second
	// DefaultBuckets is how many buckets a window is divided into.
	DefaultBuckets = 60
	// DefaultSampleInterval is the length of one occupancy sampling slot.
	DefaultSampleInterval = 15 * time.Second
)

// DefaultWindows returns the standard windows (a new slice each call): 5
// minutes, 15 minutes, 1 hour and 24 hours.
func DefaultWindows() []time.Duration {
	return []time.Duration{5 * time.Minute, 15 * time.Minute, time.Hour, 24 * time.Hour}
}

// futureSkew is how far ahead of the clock an event may be dated and still
// be counted at its own time; a later one is counted at the clock's time, so
// a wrong clock cannot fill memory or Redis with buckets nobody reads.
const futureSkew = time.Minute

// Config configures Stats. Every node sharing one Redis backend must use the
// same Windows, Buckets and SampleInterval (they name the keys), and should
// use the same Queues and ShortAbandon (they decide what an event counts as
// when it is appended).
type Config struct {
	// Queues are the router's queues: ServiceLevel (0: routing's default,
	// 20s) is the service-level threshold, WrapUp (0: none) is added to every
	// completed call's talk time for the handle time, Skill selects the agents
	// whose time counts towards the queue's occupancy. Events naming a queue
	// not listed are counted with the default threshold and no wrap-up, and
	// the queue has no occupancy. Names must be unique and not empty.
	Queues []routing.QueueConfig
	// ShortAbandon is the wait under which an abandoned call is a short
	// abandon, left out of the service level and the abandon rate. Default
	// 5s; negative: no abandon is short.
	ShortAbandon time.Duration
	// Windows are the sliding windows figures are given for. nil or empty
	// means DefaultWindows(). Each must be positive, distinct, and divisible
	// into Buckets buckets of a whole number of seconds.
	Windows []time.Duration
	// Buckets is how many buckets each window is divided into: window/Buckets
	// is the window's granularity (5s for 5 minutes with the default 60).
	// Default 60.
	Buckets int
	// SampleInterval is the length of one occupancy slot: each slot is
	// sampled once (by the first Sample in it, on any node) and its agents
	// count for the whole slot. Default 15s; a whole number of milliseconds.
	SampleInterval time.Duration
	// Now is the clock for reads, for Sample's default time, and for deciding
	// which buckets are still in a window. nil means time.Now.
	Now func() time.Time
	// Logger receives the package's logs (Run's sampling failures, events
	// that cannot be counted). nil discards them.
	Logger *slog.Logger
}

// queueRules are the figures' parameters of one configured queue.
type queueRules struct {
	slMS   int64 // service-level threshold
	wrapMS int64 // wrap-up added to the talk time
	skill  string
}

// window is one configured window: Buckets buckets of gran each.
type window struct {
	size time.Duration
	gran time.Duration
}

// compiled is a validated, defaulted Config.
type compiled struct {
	queues       map[string]queueRules
	queueNames   []string // sorted
	shortMS      int64    // abandons with WaitMS < shortMS are short; 0: none
	windows      []window // ascending
	buckets      int64
	sample       time.Duration
	now          func() time.Time
	log          *slog.Logger
	defaultRules queueRules
}

// compile defaults and validates cfg; the error lists every problem.
func compile(cfg Config) (*compiled, error) {
	var problems []error
	bad := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }

	c := &compiled{
		queues:       map[string]queueRules{},
		defaultRules: queueRules{slMS: routing.DefaultServiceLevel.Milliseconds()},
		now:          cfg.Now,
		log:          cfg.Logger,
	}
	for i, q := range cfg.Queues {
		where := fmt.Sprintf("queues[%d] %q", i, q.Name)
		if strings.TrimSpace(q.Name) == "" {
			bad("queues[%d]: name is empty; give every queue a name", i)
			continue
		}
		if _, dup := c.queues[q.Name]; dup {
			bad("%s: duplicate queue name; queue names must be unique", where)
			continue
		}
		if q.ServiceLevel < 0 || q.WrapUp < 0 {
			bad("%s: service_level %v or wrap_up %v is negative; use 0 for the default", where, q.ServiceLevel, q.WrapUp)
		}
		r := queueRules{slMS: q.ServiceLevel.Milliseconds(), wrapMS: q.WrapUp.Milliseconds(), skill: q.Skill}
		if q.ServiceLevel == 0 {
			r.slMS = c.defaultRules.slMS
		}
		c.queues[q.Name] = r
		c.queueNames = append(c.queueNames, q.Name)
	}
	slices.Sort(c.queueNames)

	switch {
	case cfg.ShortAbandon == 0:
		c.shortMS = DefaultShortAbandon.Milliseconds()
	case cfg.ShortAbandon > 0:
		c.shortMS = cfg.ShortAbandon.Milliseconds()
	}

	c.buckets = int64(cfg.Buckets)
	if cfg.Buckets == 0 {
		c.buckets = DefaultBuckets
	}
	if c.buckets < 1 {
		bad("buckets %d is not positive; use 0 for the default (%d)", cfg.Buckets, DefaultBuckets)
		c.buckets = DefaultBuckets
	}
	sizes := slices.Clone(cfg.Windows)
	if len(sizes) == 0 {
		sizes = DefaultWindows()
	}
	slices.Sort(sizes)
	for i, w := range sizes {
		switch {
		case w <= 0:
			bad("window %v is not positive", w)
			continue
		case i > 0 && sizes[i-1] == w:
			bad("window %v is given twice", w)
			continue
		case w%time.Duration(c.buckets) != 0 || (w/time.Duration(c.buckets))%time.Second != 0:
			bad("window %v does not divide into %d buckets of whole seconds; use a multiple of %v", w, c.buckets,
				time.Duration(c.buckets)*time.Second)
			continue
		}
		c.windows = append(c.windows, window{size: w, gran: w / time.Duration(c.buckets)})
	}

	c.sample = cfg.SampleInterval
	if c.sample == 0 {
		c.sample = DefaultSampleInterval
	}
	if c.sample < time.Millisecond || c.sample%time.Millisecond != 0 {
		bad("sample_interval %v is not a positive whole number of milliseconds", cfg.SampleInterval)
		c.sample = DefaultSampleInterval
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("stats: invalid config: %w", errors.Join(problems...))
	}
	return c, nil
}

// rules returns the figures' parameters of queue name.
func (c *compiled) rules(name string) queueRules {
	if r, ok := c.queues[name]; ok {
		return r
	}
	return c.defaultRules
}
