package memstore

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// indexKey is an encoded index key or key prefix. Every query passes exactly
// one indexKey, built by the typed helpers below, so the schema needs no
// reflection on field names.
type indexKey []byte

// keyOf builds index keys field by field. Strings end with a NUL (ids and
// names never contain one; the router rejects them) so that a key is never a
// prefix of another; times and counters are fixed-width big-endian so that
// byte order is numeric order.
type keyOf []byte

func (k keyOf) str(s string) keyOf { return append(append(k, s...), 0) }

func (k keyOf) u64(v uint64) keyOf { return binary.BigEndian.AppendUint64(k, v) }

// time encodes t as nanoseconds since the Unix epoch with the sign bit
// flipped, so earlier times sort first (zero time sorts before all others).
func (k keyOf) time(t time.Time) keyOf {
	n := int64(math.MinInt64)
	if !t.IsZero() {
		n = t.UnixNano()
	}
	return k.u64(uint64(n) ^ (1 << 63))
}

// level encodes a skill level so that the best level sorts first.
func (k keyOf) level(l int) keyOf { return append(k, byte(255-min(max(l, 0), 255))) }

func (k keyOf) key() indexKey { return indexKey(k) }

// rowIndex indexes rows of type T by one key. Rows for which key reports false
// are not in the index (the schema sets AllowMissing), which makes conditional
// indexes such as "queued calls by skill" cheap to scan.
type rowIndex[T any] struct {
	key func(T) (keyOf, bool)
}

func (ix rowIndex[T]) FromObject(raw any) (bool, []byte, error) {
	row, ok := raw.(T)
	if !ok {
		return false, nil, fmt.Errorf("memstore: index got a %T, want %T", raw, row)
	}
	k, ok := ix.key(row)
	if !ok {
		// No key at all: memdb compares the old and new keys on update and
		// would keep a stale entry if we returned the unused key here.
		return false, nil, nil
	}
	return true, k, nil
}

func (ix rowIndex[T]) FromArgs(args ...any) ([]byte, error) { return keyArg(args) }

func (ix rowIndex[T]) PrefixFromArgs(args ...any) ([]byte, error) { return keyArg(args) }

// rowMultiIndex indexes rows of type T under several keys (none: not indexed).
type rowMultiIndex[T any] struct {
	keys func(T) []keyOf
}

func (ix rowMultiIndex[T]) FromObject(raw any) (bool, [][]byte, error) {
	row, ok := raw.(T)
	if !ok {
		return false, nil, fmt.Errorf("memstore: index got a %T, want %T", raw, row)
	}
	keys := ix.keys(row)
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return len(out) > 0, out, nil
}

func (ix rowMultiIndex[T]) FromArgs(args ...any) ([]byte, error) { return keyArg(args) }

func (ix rowMultiIndex[T]) PrefixFromArgs(args ...any) ([]byte, error) { return keyArg(args) }

func keyArg(args []any) ([]byte, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("memstore: index query takes one indexKey, got %d arguments", len(args))
	}
	k, ok := args[0].(indexKey)
	if !ok {
		return nil, fmt.Errorf("memstore: index query takes an indexKey, got %T", args[0])
	}
	return k, nil
}
