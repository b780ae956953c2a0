package redisstore

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"kefu/routing"
)

// streamLog is the routing.EventLog on a Redis Stream (see Store.EventLog).
type streamLog struct {
	rdb    redis.UniversalClient
	key    string
	maxLen int64
}

// EventLog returns a routing.EventLog that appends each event to the Redis
// Stream "kefu:{prefix}:events" with XADD, trimmed approximately to maxLen
// entries (MAXLEN ~ maxLen; 0 or less: never trimmed). Each entry's fields
// are the event's non-empty fields (routing.QueueEvent.Fields: time,
// event, call_id, queue, agent, tier, caller, wait_ms, talk_ms, token,
// reason, node); entry ids order the events of all nodes sharing the
// store. It uses the store's client, so it stops working when the store is
// closed.
func (s *Store) EventLog(maxLen int64) routing.EventLog {
	return &streamLog{rdb: s.rdb, key: s.base + "events", maxLen: maxLen}
}

// Append adds e to the stream.
func (l *streamLog) Append(ctx context.Context, e routing.QueueEvent) error {
	args := &redis.XAddArgs{Stream: l.key, Values: e.Fields()}
	if l.maxLen > 0 {
		args.MaxLen, args.Approx = l.maxLen, true
	}
	if err := l.rdb.XAdd(ctx, args).Err(); err != nil {
		return fmt.Errorf("redisstore: XADD %s event to %s: %w (check that Redis is reachable)", e.Event, l.key, err)
	}
	return nil
}
