package routing

import (
	"context"
	"sync"
)

// Bus carries Ticket events between Kefu nodes. Any node's matching pass may
// offer a call whose SIP dialog another node holds (Offer.Node); the router
// publishes such events on the bus, and the owning node's router, subscribed
// to its own id, hands them to the call's Ticket.
//
// A bus may lose a message (a node reconnecting to Redis misses what was
// published meanwhile): offer leases make that safe, as an undelivered offer
// is withdrawn when its lease passes and the call is matched again.
type Bus interface {
	// Publish sends e to node.
	Publish(ctx context.Context, node string, e Event) error
	// Subscribe returns the events published to node from now on. The
	// channel is closed when ctx ends.
	Subscribe(ctx context.Context, node string) (<-chan Event, error)
}

// LocalBus is a Bus inside one process: for several Routers sharing one
// embedded store (tests, or one process running several nodes). The zero
// value is ready to use.
type LocalBus struct {
	mu   sync.Mutex
	subs map[string][]chan Event
}

// localBusBuffer is how many events a subscriber may fall behind by before
// events to it are dropped (leases recover dropped offers).
const localBusBuffer = 1024

// Publish implements Bus. It never blocks: an event to a subscriber whose
// buffer is full is dropped, as a network bus would lose it.
func (b *LocalBus) Publish(_ context.Context, node string, e Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ch := range b.subs[node] {
		select {
		case ch <- e:
		default:
		}
	}
	return nil
}

// Subscribe implements Bus.
func (b *LocalBus) Subscribe(ctx context.Context, node string) (<-chan Event, error) {
	ch := make(chan Event, localBusBuffer)
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[string][]chan Event{}
	}
	b.subs[node] = append(b.subs[node], ch)
	b.mu.Unlock()
	context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		subs := b.subs[node]
		for i, c := range subs {
			if c == ch {
				b.subs[node] = append(subs[:i:i], subs[i+1:]...)
				break
			}
		}
		close(ch)
	})
	return ch, nil
}

// Subscribers returns how many subscriptions node has.
func (b *LocalBus) Subscribers(node string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs[node])
}
