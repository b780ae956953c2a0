package stats

import (
	"context"
	"maps"
	"sync"
	"time"
)

// Memory is the Backend of a single node: buckets in maps under a mutex.
// Its size is bounded: a bucket is dropped once it has left its window (at
// most Buckets+1 buckets per window are kept, plus any dated up to a minute
// ahead), and sampling claims once their slot is over.
type Memory struct {
	mu      sync.Mutex
	buckets map[bucketRef]*memBucket
	claims  map[string]time.Time // slot → expires
	pruneAt time.Time            // earliest expiry of a bucket or claim
}

type memBucket struct {
	fields  map[string]int64
	max     map[string]int64
	expires time.Time
}

var _ Backend = (*Memory)(nil)

// NewMemory returns an empty in-memory backend.
func NewMemory() *Memory {
	return &Memory{buckets: map[bucketRef]*memBucket{}, claims: map[string]time.Time{}}
}

func (m *Memory) apply(_ context.Context, u update) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prune(u.now)
	for _, w := range u.buckets {
		b := m.buckets[w.bucketRef]
		if b == nil {
			b = &memBucket{fields: map[string]int64{}, max: map[string]int64{}}
			m.buckets[w.bucketRef] = b
		}
		if w.expires.After(b.expires) {
			b.expires = w.expires
		}
		m.expiresAt(b.expires)
		for _, f := range u.incr {
			b.fields[f.field] += f.n
		}
		for _, f := range u.max {
			if v, ok := b.max[f.member]; !ok || f.v > v {
				b.max[f.member] = f.v
			}
		}
	}
	return nil
}

func (m *Memory) read(_ context.Context, refs []bucketRef) ([]bucketData, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]bucketData, len(refs))
	for i, r := range refs {
		if b := m.buckets[r]; b != nil {
			out[i] = bucketData{fields: maps.Clone(b.fields), max: maps.Clone(b.max)}
		}
	}
	return out, nil
}

func (m *Memory) claim(_ context.Context, slot string, now, expires time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prune(now)
	if _, taken := m.claims[slot]; taken {
		return false, nil
	}
	m.claims[slot] = expires
	m.expiresAt(expires)
	return true, nil
}

// expiresAt notes that something expires at t.
func (m *Memory) expiresAt(t time.Time) {
	if m.pruneAt.IsZero() || t.Before(m.pruneAt) {
		m.pruneAt = t
	}
}

// prune drops the buckets and claims expired at now; it scans only when
// the earliest expiry has passed.
func (m *Memory) prune(now time.Time) {
	if m.pruneAt.IsZero() || now.Before(m.pruneAt) {
		return
	}
	m.pruneAt = time.Time{}
	for r, b := range m.buckets {
		if !now.Before(b.expires) {
			delete(m.buckets, r)
		} else {
			m.expiresAt(b.expires)
		}
	}
	for s, exp := range m.claims {
		if !now.Before(exp) {
			delete(m.claims, s)
		} else {
			m.expiresAt(exp)
		}
	}
}
