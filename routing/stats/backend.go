package stats

import (
	"context"
	"strings"
	"time"
)

// Backend stores the buckets behind Stats: *Memory for a single node,
// *Redis for nodes sharing one Redis. Backends store opaque counters; what
// an event counts as is decided by Stats, so both give identical figures.
type Backend interface {
	// apply adds u's increments to each of u's buckets (creating them) and
	// raises u's maxima in them, all at once.
	apply(ctx context.Context, u update) error
	// read returns the contents of the buckets refs, in order; a missing
	// bucket reads as empty.
	read(ctx context.Context, refs []bucketRef) ([]bucketData, error)
	// claim reports whether the caller is the first to claim slot, on any
	// node sharing the backend; the claim is kept at least until expires.
	claim(ctx context.Context, slot string, now, expires time.Time) (bool, error)
}

// bucketRef names one bucket: the idx-th stretch of gran since the Unix
// epoch, [idx·gran, (idx+1)·gran).
type bucketRef struct {
	gran time.Duration
	idx  int64
}

// bucketWrite is a bucket an update goes to, and when it leaves its window
// (after which it is never read).
type bucketWrite struct {
	bucketRef
	expires time.Time
}

// update is what one event or one occupancy sample adds.
type update struct {
	now     time.Time // the Stats clock when the update was made
	buckets []bucketWrite
	incr    []fieldIncr // added to every bucket
	max     []fieldMax  // raised in every bucket
}

type fieldIncr struct {
	field string
	n     int64
}

type fieldMax struct {
	member string
	v      int64
}

// bucketData is one bucket's contents: counters by field, maxima by member.
type bucketData struct {
	fields map[string]int64
	max    map[string]int64
}

// bucketIndex returns the index of the bucket of granularity gran holding t.
func bucketIndex(t time.Time, gran time.Duration) int64 {
	ns, g := t.UnixNano(), int64(gran)
	q := ns / g
	if ns%g != 0 && ns < 0 {
		q--
	}
	return q
}

// bucketStart returns when bucket idx of granularity gran begins.
func bucketStart(idx int64, gran time.Duration) time.Time {
	return time.Unix(0, idx*int64(gran)).UTC()
}

// Counter fields. A bucket's fields are named
//
//	COUNTER|QUEUE|TIER   call counters of one queue and tier
//	OCC|QUEUE            occupancy milliseconds of one queue's agents
//	OCC                  occupancy milliseconds of all agents
//
// with '%' and '|' in QUEUE and TIER escaped as %25 and %7C. Maxima are
// named QUEUE|TIER.
type counter int

const (
	cEntered counter = iota
	cAnswered
	cAnsweredInSL
	cAbandoned
	cShortAbandoned
	cOverflowed
	cCallbacks
	cRingNoAnswer
	cExitEmpty
	cFull
	cCompleted
	cWaitAnsweredMS // sum of CONNECT WaitMS
	cHandleMS       // sum of COMPLETE* TalkMS + wrap-up
	numCounters
)

var counterNames = [numCounters]string{
	cEntered:        "entered",
	cAnswered:       "answered",
	cAnsweredInSL:   "answered_in_sl",
	cAbandoned:      "abandoned",
	cShortAbandoned: "short_abandoned",
	cOverflowed:     "overflowed",
	cCallbacks:      "callbacks",
	cRingNoAnswer:   "ring_no_answer",
	cExitEmpty:      "exit_empty",
	cFull:           "full",
	cCompleted:      "completed",
	cWaitAnsweredMS: "wait_answered_ms",
	cHandleMS:       "handle_ms",
}

var counterByName = func() map[string]counter {
	m := make(map[string]counter, numCounters)
	for i, n := range counterNames {
		m[n] = counter(i)
	}
	return m
}()

// Occupancy fields.
const (
	occStaffed = "staffed_ms"
	occBusy    = "busy_ms"
)

var (
	escaper   = strings.NewReplacer("%", "%25", "|", "%7C")
	unescaper = strings.NewReplacer("%7C", "|", "%25", "%")
)

// cell is one queue and tier.
type cell struct{ queue, tier string }

func (c cell) member() string { return escaper.Replace(c.queue) + "|" + escaper.Replace(c.tier) }

func callField(c counter, at cell) string { return counterNames[c] + "|" + at.member() }

func queueOccField(name, queue string) string { return name + "|" + escaper.Replace(queue) }

// parseMember is the inverse of cell.member.
func parseMember(m string) (cell, bool) {
	q, t, ok := strings.Cut(m, "|")
	if !ok || strings.Contains(t, "|") {
		return cell{}, false
	}
	return cell{unescaper.Replace(q), unescaper.Replace(t)}, true
}
