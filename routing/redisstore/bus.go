package redisstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"

	"kefu/routing"
)

// bus is the routing.Bus on Redis pub/sub (see Store.Bus).
type bus struct {
	rdb  redis.UniversalClient
	base string // "kefu:{prefix}:"
}

// Bus returns a routing.Bus on Redis pub/sub: an event for node is PUBLISHed
// on the channel "kefu:{prefix}:node:<node>" as its JSON encoding
// (routing.Event, the kind as its String form), and Subscribe listens on
// that channel. Pub/sub delivers only to subscribers connected at the time:
// a node reconnecting misses what was published meanwhile (go-redis
// resubscribes by itself), which offer leases make safe. It uses the
// store's client, so it stops working when the store is closed.
func (s *Store) Bus() routing.Bus {
	return &bus{rdb: s.rdb, base: s.base}
}

func (b *bus) channel(node string) string { return b.base + "node:" + node }

// busEvent is routing.Event on the wire. routing.EventKind marshals as its
// String form but has no UnmarshalText, so the kind is decoded by name.
type busEvent struct {
	Kind  string        `json:"kind"`
	Offer routing.Offer `json:"offer"`
}

// parseKind returns the EventKind whose String form is s.
func parseKind(s string) (routing.EventKind, bool) {
	for k := routing.EventKind(1); k <= 64; k++ {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// Publish implements routing.Bus.
func (b *bus) Publish(ctx context.Context, node string, e routing.Event) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("redisstore: bus: encoding %s event for node %q: %w", e.Kind, node, err)
	}
	if err := b.rdb.Publish(ctx, b.channel(node), raw).Err(); err != nil {
		return fmt.Errorf("redisstore: bus: PUBLISH %s event to node %q: %w (check that Redis is reachable)", e.Kind, node, err)
	}
	return nil
}

// subscribeBuffer is how many decoded events may wait for the subscriber.
const subscribeBuffer = 1024

// Subscribe implements routing.Bus. It returns once Redis has confirmed the
// subscription, so every event published after it returns is delivered
// (while the connection holds). Messages that do not decode as an Event are
// dropped.
func (b *bus) Subscribe(ctx context.Context, node string) (<-chan routing.Event, error) {
	ch := b.channel(node)
	ps := b.rdb.Subscribe(ctx, ch)
	if _, err := ps.Receive(ctx); err != nil {
		ps.Close()
		return nil, fmt.Errorf("redisstore: bus: SUBSCRIBE %s: %w (check that Redis is reachable)", ch, err)
	}
	in := ps.Channel()
	out := make(chan routing.Event, subscribeBuffer)
	go func() {
		defer close(out)
		defer ps.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case msg, ok := <-in:
				if !ok {
					return
				}
				var w busEvent
				if err := json.Unmarshal([]byte(msg.Payload), &w); err != nil {
					continue
				}
				kind, ok := parseKind(w.Kind)
				if !ok {
					continue
				}
				select {
				case out <- routing.Event{Kind: kind, Offer: w.Offer}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}
