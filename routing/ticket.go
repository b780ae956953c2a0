package routing

import (
	"sync"
	"time"
)

// ticketBuffer is the capacity of a Ticket's event channel. A call has at most
// one unanswered offer at a time (it cannot be offered again until the SIP
// layer, having read the offer, reports NoAnswer) and overflow ends the call,
// so two slots always suffice; the rest is margin.
const ticketBuffer = 4

// Ticket is a queued call's handle: the node that owns the call's dialog reads
// offers and overflow from Events. The router never blocks on a Ticket.
type Ticket struct {
	callID string
	queue  string
	key    time.Time

	mu     sync.Mutex
	ch     chan Event
	closed bool
}

func newTicket(callID, queue string) *Ticket {
	return &Ticket{callID: callID, queue: queue, ch: make(chan Event, ticketBuffer)}
}

// CallID returns the id of the call the ticket is for.
func (t *Ticket) CallID() string { return t.callID }

// Queue returns the queue the call joined.
func (t *Ticket) Queue() string { return t.queue }

// Key returns the call's place in line (its virtual arrival time). A
// callback retried after the customer did not answer is queued again with
// this key (CallRequest.Key), so it keeps its place.
func (t *Ticket) Key() time.Time { return t.key }

// Events delivers EventOffer for each offer of the call and EventOverflow when
// its maximum wait passes. The channel is closed once the call has left the
// router (finished, left, overflowed) or the router is closed.
func (t *Ticket) Events() <-chan Event { return t.ch }

// send delivers e without blocking; it reports false if the ticket is closed
// or its buffer is full.
func (t *Ticket) send(e Event) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	select {
	case t.ch <- e:
		return true
	default:
		return false
	}
}

func (t *Ticket) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closed {
		t.closed = true
		close(t.ch)
	}
}
