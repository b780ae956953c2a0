// Package eventlog writes the router's queue events (routing.QueueEvent) to
// a JSON Lines file: the event log of a single-node Kefu on the embedded
// store. The Redis store writes its events to a Redis Stream instead (see
// redisstore.Store.EventLog).
package eventlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"kefu/routing"
)

// JSONL appends one JSON object per line to a file opened with O_APPEND. It
// is safe for concurrent use: each event is written whole, with one write,
// under a mutex. Close syncs the file to disk and closes it.
type JSONL struct {
	path string

	mu     sync.Mutex
	f      *os.File
	closed bool
}

var _ routing.EventLog = (*JSONL)(nil)

// NewJSONL opens (creating it when missing, mode 0640) the file at path for
// appending events.
func NewJSONL(path string) (*JSONL, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("eventlog: opening %s: %w (check that its directory exists and is writable)", path, err)
	}
	return &JSONL{path: path, f: f}, nil
}

// Append writes e as one line. ctx is not used: a write to a local file is
// not cancelled half-way.
func (j *JSONL) Append(_ context.Context, e routing.QueueEvent) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("eventlog: encoding %s event: %w", e.Event, err)
	}
	b = append(b, '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return fmt.Errorf("eventlog: appending to %s: %w (the log was closed; append before Close)", j.path, os.ErrClosed)
	}
	if _, err := j.f.Write(b); err != nil {
		return fmt.Errorf("eventlog: appending to %s: %w (check free disk space and permissions)", j.path, err)
	}
	return nil
}

// Close syncs the file to disk and closes it. Later Appends fail; Close
// again returns nil.
func (j *JSONL) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	err := errors.Join(j.f.Sync(), j.f.Close())
	if err != nil {
		return fmt.Errorf("eventlog: closing %s: %w (the last events may not be on disk)", j.path, err)
	}
	return nil
}
