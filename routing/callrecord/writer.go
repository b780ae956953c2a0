package callrecord

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Writer keeps call records.
type Writer interface {
	// Write keeps r, or returns why it could not.
	Write(ctx context.Context, r Record) error
	// Close flushes what was written to stable storage and releases the
	// writer. Closing twice is allowed.
	Close() error
}

var (
	_ Writer = (*JSONL)(nil)
	_ Writer = (*Stream)(nil)
	_ Writer = (*Fallback)(nil)
)

// JSONL appends records to a JSON Lines file, one line per record, each
// with a single write(2) under a mutex on a file opened with O_APPEND: a
// record Write returned nil for survives the process being killed, and
// concurrent Writes in one process never interleave. Two processes must not
// share a file. Close fsyncs and closes the file.
type JSONL struct {
	path string

	mu     sync.Mutex
	f      *os.File
	closed bool
}

// NewJSONL opens the file at path for appending, creating it (mode 0640)
// when missing.
func NewJSONL(path string) (*JSONL, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("callrecord: opening %s: %w (check that its directory exists and is writable)", path, err)
	}
	return &JSONL{path: path, f: f}, nil
}

// Path is the file the records go to.
func (j *JSONL) Path() string { return j.path }

// Write validates r and appends it as one line. ctx is not used: a local
// write is not cancelled half-way.
func (j *JSONL) Write(_ context.Context, r Record) error {
	b, err := Encode(r)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return fmt.Errorf("callrecord: writing %q to %s: %w (write before Close)", r.CallID, j.path, os.ErrClosed)
	}
	if _, err := j.f.Write(b); err != nil {
		return fmt.Errorf("callrecord: writing %q to %s: %w (check free disk space and permissions)", r.CallID, j.path, err)
	}
	return nil
}

// Close fsyncs the file and closes it; later Writes fail, a second Close
// returns nil.
func (j *JSONL) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	if err := errors.Join(j.f.Sync(), j.f.Close()); err != nil {
		return fmt.Errorf("callrecord: closing %s: %w (the last records may not be on disk)", j.path, err)
	}
	return nil
}

// StreamKey is the Redis Stream of the records for a store's key prefix
// ("kefu:{name}:", redisstore.Store.KeyPrefix): "kefu:{name}:records".
func StreamKey(keyPrefix string) string { return keyPrefix + "records" }

// Stream appends records to a Redis Stream: XADD key MAXLEN ~ maxLen *
// with one field, "record", holding the record's JSON. A failed XADD is
// returned; wrap a Stream in Fallback to spool such records to a file.
// The client belongs to the caller: Close does not close it.
type Stream struct {
	client redis.UniversalClient
	key    string
	maxLen int64
}

// NewStream returns a Stream writing to key, trimmed approximately to
// maxLen entries (0 or less: never trimmed).
func NewStream(client redis.UniversalClient, key string, maxLen int64) *Stream {
	return &Stream{client: client, key: key, maxLen: maxLen}
}

// Write validates r and XADDs it.
func (s *Stream) Write(ctx context.Context, r Record) error {
	b, err := Encode(r)
	if err != nil {
		return err
	}
	args := &redis.XAddArgs{Stream: s.key, ID: "*", Values: []string{"record", string(b[:len(b)-1])}}
	if s.maxLen > 0 {
		args.MaxLen, args.Approx = s.maxLen, true
	}
	if err := s.client.XAdd(ctx, args).Err(); err != nil {
		return fmt.Errorf("callrecord: XADD %s of %q: %w", s.key, r.CallID, err)
	}
	return nil
}

// Close does nothing: the client is the caller's.
func (s *Stream) Close() error { return nil }

// Fallback writes each record to Primary and, when that fails, to
// Secondary: typically a Stream backed by a local JSONL spool file, so that
// a Redis outage loses no record. Records in the spool are not copied back
// to Redis; report over them with "kefu report -records SPOOL".
type Fallback struct {
	primary, secondary Writer
	// onFallback, when set, is told of each primary failure that the
	// secondary absorbed (to log it).
	onFallback func(r Record, err error)
}

// NewFallback returns a Fallback over primary and secondary. onFallback may
// be nil; otherwise it is called, after the record is safe in secondary,
// with the primary's error.
func NewFallback(primary, secondary Writer, onFallback func(r Record, err error)) *Fallback {
	return &Fallback{primary: primary, secondary: secondary, onFallback: onFallback}
}

// Write writes r to the primary, else to the secondary. It fails only when
// both fail (or r is invalid, which no writer takes).
func (f *Fallback) Write(ctx context.Context, r Record) error {
	perr := f.primary.Write(ctx, r)
	if perr == nil {
		return nil
	}
	if errors.Is(perr, ErrInvalid) {
		return perr
	}
	// The secondary is local: write it even when ctx has ended, so a record
	// written during shutdown is not lost.
	if serr := f.secondary.Write(context.WithoutCancel(ctx), r); serr != nil {
		return errors.Join(perr, serr)
	}
	if f.onFallback != nil {
		f.onFallback(r, perr)
	}
	return nil
}

// Close closes both writers.
func (f *Fallback) Close() error {
	return errors.Join(f.primary.Close(), f.secondary.Close())
}
