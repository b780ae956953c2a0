package sip

import (
	"context"
	"sort"
	"sync"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// dialog is anything in-dialog requests are routed to: a caller's call or a
// leg Kefu placed (agent, transfer target, customer called back).
type dialog interface {
	// matches reports whether an in-dialog request carries this dialog's tags.
	matches(req *sipmsg.Request) bool
	onAck(req *sipmsg.Request, tx sipmsg.ServerTransaction)
	onBye(req *sipmsg.Request, tx sipmsg.ServerTransaction)
	onInfo(req *sipmsg.Request, tx sipmsg.ServerTransaction)
	onNotify(req *sipmsg.Request, tx sipmsg.ServerTransaction)
}

// registry holds the calls in progress and routes in-dialog requests to them by
// Call-ID. Every path that ends a call removes it (the call's run method does,
// in a defer), so a leak test can check that it empties.
type registry struct {
	mu      sync.Mutex
	dialogs map[string]dialog // by Call-ID: callers' calls and the legs Kefu placed
	calls   map[string]*call  // callers' calls by Call-ID
	empty   chan struct{}     // closed while calls is empty
	closed  bool              // draining: no new calls
}

func newRegistry() *registry {
	r := &registry{dialogs: map[string]dialog{}, calls: map[string]*call{}, empty: make(chan struct{})}
	close(r.empty)
	return r
}

// addCall registers a new call; it fails once the registry is draining, in
// the same critical section WaitIdle's emptiness is judged in.
func (r *registry) addCall(c *call) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errDraining
	}
	if _, dup := r.dialogs[c.id]; dup {
		return errDuplicateCall
	}
	if len(r.calls) == 0 {
		r.empty = make(chan struct{})
	}
	r.calls[c.id] = c
	r.dialogs[c.id] = c
	return nil
}

// drain refuses new calls from now on.
func (r *registry) drain() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
}

func (r *registry) removeCall(c *call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls[c.id] != c {
		return
	}
	delete(r.calls, c.id)
	delete(r.dialogs, c.id)
	if len(r.calls) == 0 {
		close(r.empty)
	}
}

func (r *registry) addDialog(callID string, d dialog) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dialogs[callID] = d
}

func (r *registry) removeDialog(callID string, d dialog) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dialogs[callID] == d {
		delete(r.dialogs, callID)
	}
}

// lookup finds the dialog an in-dialog request belongs to: same Call-ID and
// the dialog's tags, so knowing a Call-ID is not enough to act on a call.
func (r *registry) lookup(req *sipmsg.Request) dialog {
	cid := req.CallID()
	if cid == nil {
		return nil
	}
	r.mu.Lock()
	d := r.dialogs[cid.Value()]
	r.mu.Unlock()
	if d == nil || !d.matches(req) {
		return nil
	}
	return d
}

func (r *registry) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// dialogCount counts every routed dialog, placed legs included (for leak tests).
func (r *registry) dialogCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.dialogs)
}

func (r *registry) waitEmpty(ctx context.Context) error {
	r.mu.Lock()
	ch := r.empty
	r.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CallInfo is a call in progress as the HTTP API shows it.
type CallInfo struct {
	ID       string    `json:"id"`
	Caller   string    `json:"caller"`
	Called   string    `json:"called"`
	Trunk    string    `json:"trunk"`
	Flow     string    `json:"flow"`
	State    string    `json:"state"`
	Queue    string    `json:"queue,omitempty"`
	Agent    string    `json:"agent,omitempty"`
	Codec    string    `json:"codec"`
	Started  time.Time `json:"started"`
	Answered time.Time `json:"answered,omitzero"`
}

func (r *registry) snapshot() []CallInfo {
	r.mu.Lock()
	calls := make([]*call, 0, len(r.calls))
	for _, c := range r.calls {
		calls = append(calls, c)
	}
	r.mu.Unlock()
	out := make([]CallInfo, 0, len(calls))
	for _, c := range calls {
		out = append(out, c.info())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out
}

// PortsInUse counts RTP ports held by call legs; zero when idle.
func (s *Server) PortsInUse() int { return s.ports.InUse() }

// DialogCount counts the dialogs the server routes requests to (calls and
// the legs Kefu placed); zero when idle.
func (s *Server) DialogCount() int { return s.calls.dialogCount() }
