package callrecord

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// MaxLine is the longest record line the readers accept (1 MiB).
const MaxLine = 1 << 20

// LineError is a record that could not be read: where it is and why.
type LineError struct {
	// File is the file name, or the stream key.
	File string
	// Line is the line number (from 1) in File; 0 for a stream entry.
	Line int
	// ID is the stream entry ID, for a stream.
	ID  string
	Err error
}

func (e *LineError) Error() string {
	if e.ID != "" {
		return fmt.Sprintf("%s entry %s: %v", e.File, e.ID, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// In reports whether r ended in [from, to). A zero from or to leaves that
// side open.
func (r *Record) In(from, to time.Time) bool {
	return (from.IsZero() || !r.End.Before(from)) && (to.IsZero() || r.End.Before(to))
}

// ReadJSONL reads the records of the JSON Lines file at path whose End is in
// [from, to) (a zero bound is open). A line that is not a valid record
// stops it with a *LineError naming path:line; blank lines are skipped.
func ReadJSONL(path string, from, to time.Time) ([]Record, error) {
	return ReadJSONLSkipping(path, from, to, nil)
}

// ReadJSONLSkipping is ReadJSONL that, when bad is not nil, passes each bad
// line's *LineError to bad and goes on instead of stopping.
func ReadJSONLSkipping(path string, from, to time.Time, bad func(*LineError)) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("callrecord: %w", err)
	}
	defer f.Close()
	return ScanJSONL(f, path, from, to, bad)
}

// ScanJSONL reads records from rd as ReadJSONLSkipping does; name is used
// in errors.
func ScanJSONL(rd io.Reader, name string, from, to time.Time, bad func(*LineError)) ([]Record, error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
	var out []Record
	line := 0
	for sc.Scan() {
		line++
		text := sc.Bytes()
		if len(strings.TrimSpace(string(text))) == 0 {
			continue
		}
		r, err := Decode(text)
		if err != nil {
			le := &LineError{File: name, Line: line, Err: err}
			if bad == nil {
				return nil, le
			}
			bad(le)
			continue
		}
		if r.In(from, to) {
			out = append(out, r)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line longer than %d bytes: %w", MaxLine, err)
		}
		return nil, &LineError{File: name, Line: line + 1, Err: err}
	}
	return out, nil
}

// StreamSlack is how far outside [from, to) ReadStream looks: an entry's ID
// is Redis's clock when the record was written, shortly after the call's
// End (later when the writer retried, and off by the clock skew between
// the Kefu node and Redis).
const StreamSlack = 5 * time.Minute

// pageSize is how many entries each XRANGE asks for.
const pageSize = 1000

// ReadStream reads the records in the Redis Stream key whose End is in
// [from, to): XRANGE over the entry IDs from from−StreamSlack to
// to+StreamSlack, COUNT 1000 at a time. An entry that is not a valid record
// stops it with a *LineError naming the key and entry ID.
func ReadStream(ctx context.Context, client redis.UniversalClient, key string, from, to time.Time) ([]Record, error) {
	start, end := "-", "+"
	if !from.IsZero() {
		start = strconv.FormatInt(max(from.Add(-StreamSlack).UnixMilli(), 0), 10)
	}
	if !to.IsZero() {
		end = strconv.FormatInt(to.Add(StreamSlack).UnixMilli()-1, 10)
	}
	var out []Record
	for {
		msgs, err := client.XRangeN(ctx, key, start, end, pageSize).Result()
		if err != nil {
			return nil, fmt.Errorf("callrecord: XRANGE %s %s %s: %w", key, start, end, err)
		}
		for _, m := range msgs {
			raw, ok := m.Values["record"].(string)
			if !ok {
				return nil, &LineError{File: key, ID: m.ID, Err: errors.New(`no "record" field`)}
			}
			r, err := Decode([]byte(raw))
			if err != nil {
				return nil, &LineError{File: key, ID: m.ID, Err: err}
			}
			if r.In(from, to) {
				out = append(out, r)
			}
		}
		if len(msgs) < pageSize {
			return out, nil
		}
		next, err := nextID(msgs[len(msgs)-1].ID)
		if err != nil {
			return nil, fmt.Errorf("callrecord: %s: %w", key, err)
		}
		start = next
	}
}

// nextID is the smallest stream ID after id ("ms-seq").
func nextID(id string) (string, error) {
	msS, seqS, ok := strings.Cut(id, "-")
	ms, err1 := strconv.ParseUint(msS, 10, 64)
	seq, err2 := strconv.ParseUint(seqS, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return "", fmt.Errorf("stream entry ID %q is not ms-seq", id)
	}
	if seq == ^uint64(0) {
		return strconv.FormatUint(ms+1, 10) + "-0", nil
	}
	return strconv.FormatUint(ms, 10) + "-" + strconv.FormatUint(seq+1, 10), nil
}
