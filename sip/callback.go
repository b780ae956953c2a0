package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"kefu/routing"
	"kefu/sip/sdp"
)

// callbackAttempts is how often Kefu calls a customer back before it gives
// up: the first call and one retry.
const callbackAttempts = 2

// errAgentLeft: the agent hung up while the customer was being called back.
var errAgentLeft = errors.New("the agent hung up before the customer answered")

// callbackJob is a caller's request to be called back, waiting in its queue
// with the place in line the caller had. It outlives the caller's call: the
// server runs it until the customer has been served, or given up on.
type callbackJob struct {
	id        string // the original call's id, the request's id in the router
	number    string // the customer's number
	called    string // the access number the customer dialled, shown to them
	queue     string
	tier      string
	trunk     string // host:port of the trunk the call came from
	transport string // the transport it came over
	codec     sdp.Codec
	ticket    *routing.Ticket
	attempts  int
	log       *slog.Logger
}

// startCallback runs a call-back request in the background until it is
// served or dropped (or Kefu shuts down, which drops it).
func (s *Server) startCallback(j *callbackJob) {
	j.log = s.log.With("callback", j.id, "number", j.number, "queue", j.queue)
	s.bg.Go(func() { s.runCallback(s.stopCtx, j) })
}

// runCallback works the offers of a call-back request: ring the agent, call
// the customer back through the trunk, bridge them.
func (s *Server) runCallback(ctx context.Context, j *callbackJob) {
	for {
		select {
		case <-ctx.Done():
			s.dropCallback(j, context.Cause(ctx))
			return
		case ev, ok := <-j.ticket.Events():
			if !ok {
				j.log.Warn("call-back dropped: the router closed its request")
				return
			}
			if ev.Kind != routing.EventOffer {
				j.log.Warn("call-back dropped by the router", "event", ev.Kind.String())
				return
			}
			next, done := s.serveCallback(ctx, j, ev.Offer)
			if done {
				return
			}
			if next != nil {
				j.ticket = next
			}
		}
	}
}

// dropCallback takes a request Kefu gives up on out of the router.
func (s *Server) dropCallback(j *callbackJob, cause error) {
	lctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.deps.Router.Leave(lctx, j.id); err != nil && !errors.Is(err, routing.ErrUnknownCall) && !errors.Is(err, routing.ErrClosed) {
		j.log.Warn("leave queue", "err", err)
	}
	j.log.Warn("call-back dropped", "cause", cause)
}

// serveCallback handles one offer of a call-back request. done is true when
// the request is over (served or dropped); next is the new ticket when it
// was queued again for a retry.
func (s *Server) serveCallback(ctx context.Context, j *callbackJob, o routing.Offer) (next *routing.Ticket, done bool) {
	r := s.deps.Router
	qc, _ := r.QueueConfig(j.queue)
	log := j.log.With("agent", o.AgentID, "token", o.Token)
	log.Info("offering call-back to agent")
	agent, err := s.dialAgent(ctx, agentCall{id: j.id, caller: j.number, codec: j.codec, callback: j.number}, o, qc.RingTimeout)
	if err != nil {
		if ctx.Err() != nil {
			s.dropCallback(j, context.Cause(ctx))
			return nil, true
		}
		reason := missReason(err)
		log.Info("agent did not take the call-back", "reason", reason, "err", err)
		if err := r.NoAnswer(context.WithoutCancel(ctx), o, reason); err != nil {
			log.Warn("no-answer not recorded", "err", err)
		}
		return nil, false
	}
	defer agent.close()
	if err := r.Answered(context.WithoutCancel(ctx), o); err != nil {
		log.Warn("answer refused by router", "err", err)
		return nil, errors.Is(err, routing.ErrUnknownCall)
	}
	finished := func() {
		if err := r.Finished(context.WithoutCancel(ctx), o); err != nil {
			log.Warn("finish not recorded", "err", err)
		}
	}

	// The agent is on the line: now call the customer.
	j.attempts++
	cctx, stop := context.WithCancelCause(ctx)
	unwatch := context.AfterFunc(agent.dlg.Context(), func() { stop(errAgentLeft) })
	cust, err := s.dialCustomer(cctx, j)
	unwatch()
	stop(nil)
	if err != nil {
		agent.close()
		finished()
		log.Info("call-back not answered", "attempt", j.attempts, "err", err)
		if ctx.Err() != nil {
			j.log.Warn("call-back dropped", "cause", context.Cause(ctx))
			return nil, true
		}
		if j.attempts >= callbackAttempts {
			j.log.Warn("call-back dropped: the customer did not answer", "attempts", j.attempts, "err", err)
			return nil, true
		}
		return s.requeueCallback(ctx, j)
	}
	defer cust.close()
	log.Info("customer answered the call-back: bridging")

	// The conversation ends when either hangs up or stops sending RTP.
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopWatch := context.AfterFunc(cust.dlg.Context(), cancel)
	defer stopWatch()
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		s.watchRTP(bctx, cust.media, cust.local, func(silence time.Duration) {
			log.Warn("customer media timeout: no RTP", "for", silence.Round(time.Second))
			cancel()
		})
	}()
	s.bridge(bctx, cust.media, agent, log)
	cancel()
	<-watched
	finished()
	log.Info("call-back served")
	return nil, true
}

// dialCustomer calls the customer back through the trunk the call came
// from: sip:<number>@<trunk host:port> over the same transport, showing
// the access number they dialled.
func (s *Server) dialCustomer(ctx context.Context, j *callbackJob) (*outLeg, error) {
	target, err := trunkURI(j.number, j.trunk)
	if err != nil {
		return nil, err
	}
	return s.dial(ctx, dialRequest{
		name:        "customer " + j.number,
		target:      target,
		transport:   j.transport,
		fromUser:    j.called,
		codec:       j.codec,
		headers:     []sipmsg.Header{sipmsg.NewHeader("X-Kefu-Callback", j.id)},
		ringTimeout: s.cfg.CallbackRingTimeout,
	})
}

// requeueCallback waits the retry delay, then queues the request again at
// its original place in line.
func (s *Server) requeueCallback(ctx context.Context, j *callbackJob) (*routing.Ticket, bool) {
	j.log.Info("call-back will be retried", "in", s.cfg.CallbackRetryDelay)
	t := time.NewTimer(s.cfg.CallbackRetryDelay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		j.log.Warn("call-back dropped", "cause", context.Cause(ctx))
		return nil, true
	case <-t.C:
	}
	next, err := s.deps.Router.Enqueue(ctx, routing.CallRequest{
		CallID: j.id, Caller: j.number, Queue: j.queue, Tier: j.tier,
		Callback: j.number, Key: j.ticket.Key(),
	})
	if err != nil {
		j.log.Warn("call-back dropped: it cannot be queued again", "err", err)
		return nil, true
	}
	return next, false
}

// trunkURI is sip:<user>@<trunk>, trunk being the host:port a call came
// from.
func trunkURI(user, trunk string) (sipmsg.Uri, error) {
	host, port, err := net.SplitHostPort(trunk)
	if err != nil {
		return sipmsg.Uri{}, fmt.Errorf("trunk address %q: %w", trunk, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return sipmsg.Uri{}, fmt.Errorf("trunk address %q: bad port: %w", trunk, err)
	}
	return sipmsg.Uri{Scheme: "sip", User: user, Host: host, Port: p}, nil
}
