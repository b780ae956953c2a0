package stats

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"
)

// Figures are the call figures of one window for a queue, a tier, a queue
// and tier, or everything. Counts are of events whose time falls in the
// window. The ratios and averages are null in JSON (nil) when their
// denominator is 0; see the package documentation for the formulas.
type Figures struct {
	// Entered counts calls offered to the queue: ENTERQUEUE, and CALLBACK
	// for a new callback request (WaitMS 0).
	Entered int64 `json:"entered"`
	// Answered counts CONNECT events.
	Answered int64 `json:"answered"`
	// AnsweredInSL counts CONNECT events with WaitMS ≤ the queue's
	// service-level threshold.
	AnsweredInSL int64 `json:"answered_in_sl"`
	// Abandoned counts ABANDON events, short ones included.
	Abandoned int64 `json:"abandoned"`
	// ShortAbandoned counts ABANDON events with WaitMS < ShortAbandon.
	ShortAbandoned int64 `json:"short_abandoned"`
	// Overflowed counts EXITWITHTIMEOUT events.
	Overflowed int64 `json:"overflowed"`
	// Callbacks counts CALLBACK events (new requests and waiting calls that
	// became one).
	Callbacks int64 `json:"callbacks"`
	// RingNoAnswer counts RINGNOANSWER events (offers an agent let ring out
	// or rejected).
	RingNoAnswer int64 `json:"ring_no_answer"`
	// ExitEmpty counts EXITEMPTY events: calls refused, or sent out of a
	// queue they waited in, because no agent with its skill was logged in.
	ExitEmpty int64 `json:"exit_empty"`
	// Full counts FULL events: calls refused because the queue was full.
	Full int64 `json:"full"`
	// Completed counts COMPLETE, COMPLETECALLER and COMPLETEAGENT events.
	Completed int64 `json:"completed"`

	// ServiceLevel is AnsweredInSL / (Answered + Abandoned − ShortAbandoned +
	// Overflowed), 0 to 1.
	ServiceLevel *float64 `json:"service_level"`
	// AbandonRate is (Abandoned − ShortAbandoned) / (Answered + Abandoned −
	// ShortAbandoned + Overflowed), 0 to 1.
	AbandonRate *float64 `json:"abandon_rate"`
	// ASASeconds is the average speed of answer: the mean WaitMS of the
	// CONNECT events, in seconds.
	ASASeconds *float64 `json:"asa_s"`
	// AHTSeconds is the average handle time: the mean of TalkMS plus the
	// queue's wrap-up over the COMPLETE* events, in seconds.
	AHTSeconds *float64 `json:"aht_s"`
	// LongestWaitAnsweredSeconds is the largest WaitMS of the CONNECT
	// events, in seconds.
	LongestWaitAnsweredSeconds *float64 `json:"longest_wait_answered_s"`
}

// Occupancy is how busy the staffed agents were over a window, from the
// occupancy samples (see Stats.Sample).
type Occupancy struct {
	// StaffedSeconds is agent time logged in and not on a break: ready,
	// offered, talking or wrap_up.
	StaffedSeconds float64 `json:"staffed_s"`
	// BusySeconds is agent time offered, talking or in wrap_up.
	BusySeconds float64 `json:"busy_s"`
	// Fraction is BusySeconds / StaffedSeconds, 0 to 1; nil (null) when
	// StaffedSeconds is 0.
	Fraction *float64 `json:"fraction"`
}

// QueueFigures are one queue's figures over all tiers, and the occupancy of
// the agents having its skill.
type QueueFigures struct {
	Queue string `json:"queue"`
	Figures
	Occupancy Occupancy `json:"occupancy"`
}

// TierFigures are one tier's figures over all queues.
type TierFigures struct {
	Tier string `json:"tier"`
	Figures
}

// QueueTierFigures are the figures of one tier in one queue.
type QueueTierFigures struct {
	Queue string `json:"queue"`
	Tier  string `json:"tier"`
	Figures
}

// Window holds every figure of one sliding window.
type Window struct {
	// Size is the window's configured length.
	Size time.Duration `json:"-"`
	// Name is Size as text ("5m0s").
	Name string `json:"window"`
	// Seconds is Size in seconds.
	Seconds float64 `json:"window_s"`
	// BucketSeconds is the window's granularity: Size / Config.Buckets.
	BucketSeconds float64 `json:"bucket_s"`
	// From is the start of the oldest bucket counted: the window covers the
	// events from From to the snapshot's time, between Size and Size plus one
	// bucket.
	From time.Time `json:"from"`
	// Total are the figures of every queue and tier together.
	Total Figures `json:"total"`
	// Occupancy is over all agents.
	Occupancy Occupancy `json:"occupancy"`
	// Queues holds every configured queue and every other queue having
	// events or occupancy samples in the window, by name.
	Queues []QueueFigures `json:"queues"`
	// Tiers holds the tiers having events in the window, by name.
	Tiers []TierFigures `json:"tiers"`
	// QueueTiers holds the queue and tier pairs having events in the window,
	// by queue then tier.
	QueueTiers []QueueTierFigures `json:"queue_tiers"`
}

// Snapshot holds the figures of every window at one time.
type Snapshot struct {
	// At is the time of the snapshot, by Config.Now.
	At time.Time `json:"at"`
	// Windows are the configured windows, shortest first.
	Windows []Window `json:"windows"`
}

// raw is the counters of a cell, queue, tier or total, before the ratios.
type raw struct {
	c       [numCounters]int64
	maxWait int64
	hasMax  bool
}

func (r *raw) add(o *raw) {
	for i, n := range o.c {
		r.c[i] += n
	}
	r.addMax(o.maxWait, o.hasMax)
}

func (r *raw) addMax(v int64, has bool) {
	if has && (!r.hasMax || v > r.maxWait) {
		r.maxWait, r.hasMax = v, true
	}
}

func ratio(num, den int64) *float64 {
	if den <= 0 {
		return nil
	}
	v := float64(num) / float64(den)
	return &v
}

func seconds(ms, n int64) *float64 {
	if n <= 0 {
		return nil
	}
	v := float64(ms) / float64(n) / 1000
	return &v
}

func (r *raw) figures() Figures {
	c := r.c
	f := Figures{
		Entered:        c[cEntered],
		Answered:       c[cAnswered],
		AnsweredInSL:   c[cAnsweredInSL],
		Abandoned:      c[cAbandoned],
		ShortAbandoned: c[cShortAbandoned],
		Overflowed:     c[cOverflowed],
		Callbacks:      c[cCallbacks],
		RingNoAnswer:   c[cRingNoAnswer],
		ExitEmpty:      c[cExitEmpty],
		Full:           c[cFull],
		Completed:      c[cCompleted],
	}
	counted := c[cAbandoned] - c[cShortAbandoned]
	resolved := c[cAnswered] + counted + c[cOverflowed]
	f.ServiceLevel = ratio(c[cAnsweredInSL], resolved)
	f.AbandonRate = ratio(counted, resolved)
	f.ASASeconds = seconds(c[cWaitAnsweredMS], c[cAnswered])
	f.AHTSeconds = seconds(c[cHandleMS], c[cCompleted])
	if r.hasMax && c[cAnswered] > 0 {
		f.LongestWaitAnsweredSeconds = seconds(r.maxWait, 1)
	}
	return f
}

// occRaw is occupancy milliseconds.
type occRaw struct{ staffed, busy int64 }

func (o *occRaw) add(name string, n int64) {
	switch name {
	case occStaffed:
		o.staffed += n
	case occBusy:
		o.busy += n
	}
}

func (o occRaw) occupancy() Occupancy {
	return Occupancy{
		StaffedSeconds: float64(o.staffed) / 1000,
		BusySeconds:    float64(o.busy) / 1000,
		Fraction:       ratio(o.busy, o.staffed),
	}
}

// aggregate sums the buckets of window w (read at now) into its figures.
// Fields it does not know are skipped.
func (c *compiled) aggregate(w window, from time.Time, data []bucketData) Window {
	cells := map[cell]*raw{}
	get := func(at cell) *raw {
		r := cells[at]
		if r == nil {
			r = &raw{}
			cells[at] = r
		}
		return r
	}
	queueOcc := map[string]*occRaw{}
	var allOcc occRaw
	for _, d := range data {
		for f, n := range d.fields {
			parts := strings.Split(f, "|")
			switch len(parts) {
			case 1:
				allOcc.add(parts[0], n)
			case 2:
				q := unescaper.Replace(parts[1])
				o := queueOcc[q]
				if o == nil {
					o = &occRaw{}
					queueOcc[q] = o
				}
				o.add(parts[0], n)
			case 3:
				if k, ok := counterByName[parts[0]]; ok {
					get(cell{unescaper.Replace(parts[1]), unescaper.Replace(parts[2])}).c[k] += n
				}
			}
		}
		for m, v := range d.max {
			if at, ok := parseMember(m); ok {
				get(at).addMax(v, true)
			}
		}
	}

	var total raw
	queues, tiers := map[string]*raw{}, map[string]*raw{}
	for _, q := range c.queueNames {
		queues[q] = &raw{}
	}
	for q := range queueOcc { // sampled by a node configured with other queues
		if queues[q] == nil {
			queues[q] = &raw{}
		}
	}
	sum := func(m map[string]*raw, k string, r *raw) {
		if m[k] == nil {
			m[k] = &raw{}
		}
		m[k].add(r)
	}
	out := Window{
		Size: w.size, Name: w.size.String(), Seconds: w.size.Seconds(), BucketSeconds: w.gran.Seconds(),
		From: from, Occupancy: allOcc.occupancy(),
		Queues: []QueueFigures{}, Tiers: []TierFigures{}, QueueTiers: []QueueTierFigures{},
	}
	for _, at := range slices.SortedFunc(maps.Keys(cells), func(a, b cell) int {
		return cmp.Or(strings.Compare(a.queue, b.queue), strings.Compare(a.tier, b.tier))
	}) {
		r := cells[at]
		total.add(r)
		sum(queues, at.queue, r)
		sum(tiers, at.tier, r)
		out.QueueTiers = append(out.QueueTiers, QueueTierFigures{Queue: at.queue, Tier: at.tier, Figures: r.figures()})
	}
	out.Total = total.figures()
	for _, q := range slices.Sorted(maps.Keys(queues)) {
		var o occRaw
		if p := queueOcc[q]; p != nil {
			o = *p
		}
		out.Queues = append(out.Queues, QueueFigures{Queue: q, Figures: queues[q].figures(), Occupancy: o.occupancy()})
	}
	for _, t := range slices.Sorted(maps.Keys(tiers)) {
		out.Tiers = append(out.Tiers, TierFigures{Tier: t, Figures: tiers[t].figures()})
	}
	return out
}
