package sip

import (
	"context"
	"errors"
	"fmt"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"kefu/ivr"
	"kefu/routing"
	"kefu/sip/media"
)

// ringbackInterval re-sends 180 Ringing to a caller waiting unanswered in a
// queue, so proxies on the way keep the transaction alive (RFC 3261 §13.3.1.1
// asks for a provisional at least every minute).
const ringbackInterval = 50 * time.Second

// Queue implements ivr.Call: it puts the call in the router's queue and works
// the offers the router sends until an agent has served the caller, the queue
// overflows, or the caller hangs up.
func (c *call) Queue(ctx context.Context, req ivr.QueueRequest) (ivr.QueueResult, error) {
	r := c.srv.deps.Router
	qc, ok := r.QueueConfig(req.Queue)
	if !ok {
		return ivr.QueueResult{}, fmt.Errorf("queue %q is not configured", req.Queue)
	}
	tier, preferred := "default", ""
	if d := c.srv.deps.Directory; d != nil {
		tier, preferred = d.Caller(c.caller)
	}
	ticket, err := r.Enqueue(ctx, routing.CallRequest{
		CallID: c.id, Caller: c.caller, Queue: req.Queue, Tier: tier,
		PreferredAgent: preferred, PreferWait: qc.PreferWait,
	})
	if errors.Is(err, routing.ErrNoAgents) {
		c.log.Info("queue has no agents logged in", "queue", req.Queue)
		return ivr.QueueResult{Outcome: ivr.QueueNoAgents}, nil
	}
	if err != nil {
		return ivr.QueueResult{}, fmt.Errorf("enqueue: %w", err)
	}
	c.log.Info("queued", "queue", req.Queue, "tier", tier, "preferred_agent", preferred)
	c.mu.Lock()
	c.state, c.queue = "queued", req.Queue
	c.mu.Unlock()

	inQueue := true
	defer func() {
		if inQueue {
			// The caller left (hung up, or the call is ending): take it out of
			// line and free any agent it was offered to.
			if err := r.Leave(context.WithoutCancel(ctx), c.id); err != nil && !errors.Is(err, routing.ErrUnknownCall) {
				c.log.Warn("leave queue", "err", err)
			}
		}
	}()

	hold := c.startHold(ctx, req.Music)
	defer hold.stop()
	for {
		select {
		case <-ctx.Done():
			return ivr.QueueResult{}, c.ended()
		case ev, ok := <-ticket.Events():
			if !ok {
				// The router closed the ticket (it is shutting down).
				inQueue = false
				return ivr.QueueResult{}, fmt.Errorf("%w: router closed the queue", ivr.ErrHangup)
			}
			switch ev.Kind {
			case routing.EventOverflow:
				inQueue = false
				c.log.Info("queue max wait reached", "queue", req.Queue)
				return ivr.QueueResult{Outcome: ivr.QueueMaxWait}, nil
			case routing.EventOffer:
				res, served, err := c.offer(ctx, ev.Offer, qc, hold)
				if served {
					inQueue = false
					return res, err
				}
				if ctx.Err() != nil {
					return ivr.QueueResult{}, c.ended()
				}
			}
		}
	}
}

// offer rings the offered agent; when they answer it bridges caller and agent
// until one hangs up. served is false when the call stays in the queue.
func (c *call) offer(ctx context.Context, o routing.Offer, qc routing.QueueConfig, hold *holdMedia) (res ivr.QueueResult, served bool, err error) {
	r := c.srv.deps.Router
	c.mu.Lock()
	c.state, c.agent = "offering", o.AgentID
	c.mu.Unlock()
	log := c.log.With("agent", o.AgentID, "token", o.Token)
	log.Info("offering call to agent")

	leg, err := c.srv.dialAgent(ctx, c, o, qc.RingTimeout)
	if err != nil {
		if ctx.Err() != nil {
			return ivr.QueueResult{}, false, c.ended() // Leave (deferred in Queue) frees the agent
		}
		reason := missReason(err)
		log.Info("agent did not take the call", "reason", reason, "err", err)
		if err := r.NoAnswer(context.WithoutCancel(ctx), o, reason); err != nil {
			log.Warn("no-answer not recorded", "err", err)
		}
		c.mu.Lock()
		c.state, c.agent = "queued", ""
		c.mu.Unlock()
		return ivr.QueueResult{}, false, nil
	}
	defer leg.close()

	if err := r.Answered(context.WithoutCancel(ctx), o); err != nil {
		// The offer was withdrawn meanwhile (stale token): do not connect.
		log.Warn("answer refused by router", "err", err)
		return ivr.QueueResult{}, false, nil
	}
	finished := func() {
		if err := r.Finished(context.WithoutCancel(ctx), o); err != nil {
			log.Warn("finish not recorded", "err", err)
		}
	}
	hold.stop()
	if err := c.ensureAnswered(); err != nil {
		finished()
		return ivr.QueueResult{}, true, err
	}
	c.setState("talking")
	log.Info("agent answered: bridging")

	bctx, stop := context.WithCancel(ctx)
	defer stop()
	unwatch := context.AfterFunc(leg.dlg.Context(), stop)
	defer unwatch()
	c.wg.Go(func() {
		c.srv.watchRTP(bctx, leg.media, leg.local, func(silence time.Duration) {
			log.Warn("agent media timeout: no RTP", "for", silence.Round(time.Second))
			stop()
		})
	})
	callerBefore := c.leg.Stats()
	bridgeErr := media.Bridge(bctx, c.leg, leg.media)
	stop()
	callerAfter, agentAfter := c.leg.Stats(), leg.media.Stats()
	attrs := []any{"caller_rtp_in", callerAfter.PacketsIn - callerBefore.PacketsIn, "agent_rtp_in", agentAfter.PacketsIn}
	if bridgeErr != nil && !errors.Is(bridgeErr, context.Canceled) {
		attrs = append(attrs, "err", bridgeErr)
	}
	log.Info("bridge ended", attrs...)
	finished()
	agentHungUp := leg.dlg.Context().Err() != nil
	c.mu.Lock()
	c.state = "ivr"
	c.mu.Unlock()
	if ctx.Err() != nil && !agentHungUp {
		log.Info("caller hung up during the conversation")
		return ivr.QueueResult{}, true, c.ended()
	}
	log.Info("agent hung up")
	return ivr.QueueResult{Outcome: ivr.QueueAnswered, AgentID: o.AgentID}, true, nil
}

// missReason names why an offer failed, for the router's not-ready reason.
func missReason(err error) string {
	var dr *sipgoResponseError
	switch {
	case errors.Is(err, errNotRegistered):
		return "not_registered"
	case errors.Is(err, errRingTimeout):
		return "no_answer"
	case errors.As(err, &dr) && (dr.code == sipmsg.StatusBusyHere || dr.code == 600):
		return "busy"
	case errors.As(err, &dr):
		return "rejected"
	default:
		return "failed"
	}
}

// holdMedia is what a queued caller hears: music (answered calls) or ring-back
// (calls still ringing).
type holdMedia struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (h *holdMedia) stop() {
	h.cancel()
	<-h.done
}

func (c *call) startHold(ctx context.Context, music string) *holdMedia {
	hctx, cancel := context.WithCancel(ctx)
	h := &holdMedia{cancel: cancel, done: make(chan struct{})}
	c.mu.Lock()
	answered := c.answered
	c.mu.Unlock()
	go func() {
		defer close(h.done)
		if !answered {
			c.ringback(hctx)
			return
		}
		p, ok := c.srv.deps.Prompts.Get(music)
		if music == "" || !ok {
			<-hctx.Done() // silence: the pacer sends comfort silence
			return
		}
		for hctx.Err() == nil {
			if err := c.leg.Play(hctx, p); err != nil {
				return
			}
		}
	}()
	return h
}

// ringback sends 180 Ringing now and again every ringbackInterval.
func (c *call) ringback(ctx context.Context) {
	t := time.NewTicker(ringbackInterval)
	defer t.Stop()
	for {
		if err := c.dlg.Respond(sipmsg.StatusRinging, "Ringing", nil, c.contactHeader()); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
