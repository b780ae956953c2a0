package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
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

// minOfferRepeat is the shortest time between two call-back offers in a
// queue without announcements.
const minOfferRepeat = 30 * time.Second

// Queue implements ivr.Call: it puts the call in the router's queue and works
// the offers the router sends until an agent has served the caller, the queue
// overflows, the caller asks to be called back, or the caller hangs up.
//
// While the call waits it hears req.Music from where it last stopped,
// interrupted every req.Announce.Every by the announcement (and, once the
// call has waited req.Callback.After and the estimated wait is at least
// req.Callback.MinWait, by the call-back offer: first at After, then with
// every announcement; without announcements it is repeated every After, at
// most every 30 s). The call-back key counts once its offer has started to
// play. A call with an announcement or a call-back offer is answered first;
// otherwise an unanswered call hears ring-back. Callers without a usable
// number (anonymous) are not offered a call-back.
func (c *call) Queue(ctx context.Context, req ivr.QueueRequest) (ivr.QueueResult, error) {
	r := c.srv.deps.Router
	qc, ok := r.QueueConfig(req.Queue)
	if !ok {
		return ivr.QueueResult{}, fmt.Errorf("queue %q is not configured: add it under queues in the config or fix the flow", req.Queue)
	}
	tier, preferred, preferWait := routing.TierDefault, "", qc.PreferWait
	if d := c.srv.deps.Directory; d != nil {
		rt := d.Route(ctx, c.caller, req.Queue)
		tier, preferred = rt.Tier, rt.PreferredAgent
		if rt.PreferWait > 0 {
			preferWait = rt.PreferWait
		}
	}
	if req.Tier != "" {
		tier = req.Tier
	}
	if req.PreferredAgent != "" {
		preferred, preferWait = req.PreferredAgent, req.PreferredWait
	}
	offerCallback := req.Callback != nil && callbackNumber(c.caller) != ""
	if req.Callback != nil && !offerCallback {
		c.log.Info("no call-back offer: the caller's number is withheld or unusable")
	}
	if req.Announce != nil || offerCallback {
		if err := c.ensureAnswered(); err != nil {
			return ivr.QueueResult{}, err
		}
	}
	ticket, err := r.Enqueue(ctx, routing.CallRequest{
		CallID: c.id, Caller: c.caller, Queue: req.Queue, Tier: tier,
		PreferredAgent: preferred, PreferWait: preferWait, MaxWait: req.MaxWait,
	})
	if errors.Is(err, routing.ErrNoAgents) {
		c.log.Info("queue has no agents logged in", "queue", req.Queue)
		return ivr.QueueResult{Outcome: ivr.QueueNoAgents}, nil
	}
	if errors.Is(err, routing.ErrQueueFull) {
		c.log.Info("queue is full", "queue", req.Queue)
		return ivr.QueueResult{Outcome: ivr.QueueFull}, nil
	}
	if err != nil {
		return ivr.QueueResult{}, fmt.Errorf("enqueue: %w", err)
	}
	c.log.Info("queued", "queue", req.Queue, "tier", tier, "preferred_agent", preferred, "max_wait", req.MaxWait)
	c.mu.Lock()
	c.state, c.queue = "queued", req.Queue
	seen := len(c.digits) // keys pressed before now do not ask for a call-back
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

	plan := holdPlan{music: req.Music, announce: req.Announce, since: time.Now()}
	if offerCallback {
		plan.callback = req.Callback
	}
	hold := c.startHold(ctx, plan)
	defer hold.stop()
	for {
		c.mu.Lock()
		sig := c.digitCh
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return ivr.QueueResult{}, c.ended()
		case <-sig:
			if !offerCallback || !c.takeKey(string(req.Callback.Key), &seen, hold.offered.Load()) {
				continue
			}
			if err := r.Callback(context.WithoutCancel(ctx), c.id, c.caller); err != nil {
				// The call left meanwhile (overflow): the ticket says so next.
				c.log.Info("call-back not taken", "err", err)
				continue
			}
			inQueue = false
			hold.stop()
			c.log.Info("caller asked to be called back", "queue", req.Queue, "number", c.caller)
			c.srv.startCallback(&callbackJob{
				id: c.id, number: c.caller, called: c.called, queue: req.Queue, tier: tier,
				trunk: c.source, transport: c.network, codec: c.answer.Codec, ticket: ticket,
			})
			return ivr.QueueResult{Outcome: ivr.QueueCallback}, nil
		case ev, ok := <-ticket.Events():
			if !ok {
				// The router closed the ticket (it is shutting down).
				inQueue = false
				return ivr.QueueResult{}, fmt.Errorf("%w: router closed the queue", ivr.ErrHangup)
			}
			switch ev.Kind {
			case routing.EventOverflow:
				inQueue = false
				c.log.Info("queue max wait reached", "queue", req.Queue, "reason", ev.Reason)
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

// takeKey looks at the keys pressed since *seen: when armed and one of them
// is in keys, it takes it out of the buffer and reports true. Other keys
// stay buffered for the flow.
func (c *call) takeKey(keys string, seen *int, armed bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	from := min(*seen, len(c.digits))
	*seen = len(c.digits)
	if !armed || keys == "" {
		return false
	}
	for i := from; i < len(c.digits); i++ {
		if strings.ContainsRune(keys, c.digits[i]) {
			c.digits = append(c.digits[:i], c.digits[i+1:]...)
			*seen = len(c.digits)
			return true
		}
	}
	return false
}

// callbackNumber is the number a caller can be called back on, or "" when
// the trunk withheld it.
func callbackNumber(caller string) string {
	if caller == "" || caller == "anonymous" {
		return ""
	}
	for _, r := range caller {
		if !(r >= '0' && r <= '9' || r == '+' || r == '*' || r == '#') {
			return ""
		}
	}
	return caller
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

	leg, err := c.srv.dialAgent(ctx, agentCall{id: c.id, caller: c.caller, codec: c.answer.Codec}, o, qc.RingTimeout)
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
	agentHungUp := c.srv.bridge(ctx, c.leg, leg, log)
	finished()
	c.mu.Lock()
	c.state = "ivr"
	c.mu.Unlock()
	if ctx.Err() != nil && !agentHungUp {
		log.Info("caller hung up during the conversation")
		return ivr.QueueResult{Outcome: ivr.QueueAnswered, AgentID: o.AgentID}, true, c.ended()
	}
	log.Info("agent hung up")
	return ivr.QueueResult{Outcome: ivr.QueueAnswered, AgentID: o.AgentID}, true, nil
}

// bridge relays media between a (a caller's or a customer's leg) and leg
// until ctx ends, the callee of leg hangs up or stops sending RTP for the
// media timeout. It reports whether leg's side ended the conversation. It
// does not hang up either side.
func (s *Server) bridge(ctx context.Context, a *media.Session, leg *outLeg, log *slog.Logger) (legEnded bool) {
	bctx, stop := context.WithCancel(ctx)
	defer stop()
	unwatch := context.AfterFunc(leg.dlg.Context(), stop)
	defer unwatch()
	var wg sync.WaitGroup
	var silent atomic.Bool
	wg.Go(func() {
		s.watchRTP(bctx, leg.media, leg.local, func(silence time.Duration) {
			log.Warn("media timeout: no RTP", "leg", leg.name, "for", silence.Round(time.Second))
			silent.Store(true)
			stop()
		})
	})
	before := a.Stats()
	err := media.Bridge(bctx, a, leg.media)
	stop()
	wg.Wait()
	after, legAfter := a.Stats(), leg.media.Stats()
	attrs := []any{"leg", leg.name, "caller_rtp_in", after.PacketsIn - before.PacketsIn, "leg_rtp_in", legAfter.PacketsIn}
	if err != nil && !errors.Is(err, context.Canceled) {
		attrs = append(attrs, "err", err)
	}
	log.Info("bridge ended", attrs...)
	return leg.dlg.Context().Err() != nil || silent.Load()
}

// missReason names why an offer failed, for the router's not-ready reason.
func missReason(err error) string {
	var re *responseError
	switch {
	case errors.Is(err, errNotRegistered):
		return "not_registered"
	case errors.Is(err, errRingTimeout):
		return "no_answer"
	case errors.As(err, &re) && (re.code == sipmsg.StatusBusyHere || re.code == sipmsg.StatusGlobalBusyEverywhere):
		return "busy"
	case errors.As(err, &re):
		return "rejected"
	default:
		return "failed"
	}
}

// holdPlan is what a waiting caller hears.
type holdPlan struct {
	music    string
	announce *ivr.QueueAnnounce
	callback *ivr.CallbackOffer // nil: no call-back offer
	since    time.Time          // when the call joined the queue
}

// holdMedia is what a queued caller hears: music with announcements
// (answered calls) or ring-back (calls still ringing).
type holdMedia struct {
	cancel context.CancelFunc
	done   chan struct{}
	// offered is set once the call-back offer has started to play.
	offered atomic.Bool
}

func (h *holdMedia) stop() {
	h.cancel()
	<-h.done
}

func (c *call) startHold(ctx context.Context, plan holdPlan) *holdMedia {
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
		c.hold(hctx, plan, h)
	}()
	return h
}

// hold plays the music in a loop, resuming where it was interrupted, and
// the announcements and call-back offers when due, until ctx ends. The
// music goes on while a due announcement is prepared (the router asked for
// the position, the flow for its prompts, which may mean speech synthesis)
// and stops only once there is something to play instead, so the caller
// does not hear that time as silence.
func (c *call) hold(ctx context.Context, plan holdPlan, h *holdMedia) {
	var music *media.Prompt
	if plan.music != "" {
		p, ok := c.srv.deps.Prompts.Get(plan.music)
		if !ok {
			c.log.Warn("hold music is not in the prompt catalogue: playing silence", "prompt", plan.music)
		}
		music = p
	}
	s := holdSchedule{plan: plan}
	s.announces = plan.announce != nil && plan.announce.Every > 0 && plan.announce.Prompts != nil
	if s.announces {
		s.nextAnnounce = plan.since.Add(plan.announce.Every)
	}
	if plan.callback != nil {
		s.nextOffer = plan.since.Add(plan.callback.After)
	}
	pos := 0
	for ctx.Err() == nil {
		stopMusic := playMusic(ctx, c.leg, music, &pos)
		cue, ok := c.nextCue(ctx, &s)
		stopMusic()
		if !ok {
			return
		}
		if cue.offering {
			h.offered.Store(true)
		}
		if err := c.leg.Play(ctx, cue.prompts...); err != nil {
			return
		}
		s.played(cue, time.Now())
	}
}

// holdSchedule is when the next announcement and call-back offer are due.
type holdSchedule struct {
	plan                    holdPlan
	announces               bool
	nextAnnounce, nextOffer time.Time // zero: none
}

// holdCue is what interrupts the music.
type holdCue struct {
	prompts         []*media.Prompt
	announce, offer bool // an announcement or a call-back offer was due
	offering        bool // prompts include the call-back offer
}

// played moves the schedule on after cue ended at after (or was skipped).
func (s *holdSchedule) played(cue holdCue, after time.Time) {
	if cue.announce {
		s.nextAnnounce = after.Add(s.plan.announce.Every)
	}
	if cue.offer {
		if s.announces {
			s.nextOffer = time.Time{} // from now on the offer comes with the announcements
		} else {
			s.nextOffer = after.Add(max(s.plan.callback.After, minOfferRepeat))
		}
	}
}

// nextCue waits until an announcement or call-back offer is due and has
// prompts to play, and returns them; ok is false when ctx ended first. Due
// ones without prompts are skipped (rescheduled).
func (c *call) nextCue(ctx context.Context, s *holdSchedule) (cue holdCue, ok bool) {
	plan := s.plan
	for {
		due := earliest(s.nextAnnounce, s.nextOffer)
		if due.IsZero() {
			<-ctx.Done()
			return holdCue{}, false
		}
		if wait := time.Until(due); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return holdCue{}, false
			case <-t.C:
			}
		}
		now := time.Now()
		cue = holdCue{
			announce: !s.nextAnnounce.IsZero() && !now.Before(s.nextAnnounce),
			offer:    !s.nextOffer.IsZero() && !now.Before(s.nextOffer),
		}
		if !cue.announce && !cue.offer {
			continue
		}
		var names []string
		st, known := c.queueStatus(ctx, plan.since)
		if cue.announce && known {
			ps, err := plan.announce.Prompts(ctx, st)
			if err != nil {
				c.log.Debug("announcement skipped", "err", err)
			}
			names = append(names, ps...)
		}
		if plan.callback != nil && (cue.offer || cue.announce && !now.Before(plan.since.Add(plan.callback.After))) &&
			known && st.EstimatedWait >= plan.callback.MinWait {
			names = append(names, plan.callback.Prompts...)
			cue.offering = true
		}
		if ctx.Err() != nil {
			return holdCue{}, false
		}
		if cue.prompts = c.prompts(names); len(cue.prompts) > 0 {
			return cue, true
		}
		s.played(cue, time.Now())
	}
}

// playMusic plays music from *pos in a loop (or leaves the leg silent) in
// the background until stop is called; after stop, *pos is where the music
// stopped.
func playMusic(ctx context.Context, leg *media.Session, music *media.Prompt, pos *int) (stop func()) {
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if music == nil {
			return
		}
		for {
			next, err := leg.PlayFrom(mctx, music, *pos)
			*pos = next
			if *pos >= music.FrameCount() {
				*pos = 0
			}
			if err != nil {
				return
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// earliest is the earlier of two times, ignoring zero ones.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	default:
		return b
	}
}

// queueStatus asks the router where the call stands; known is false when it
// cannot tell (the call is no longer waiting).
func (c *call) queueStatus(ctx context.Context, since time.Time) (st ivr.QueueStatus, known bool) {
	pos, ewt, err := c.srv.deps.Router.Position(ctx, c.id)
	if err != nil || pos == 0 {
		if err != nil && ctx.Err() == nil {
			c.log.Debug("queue position unknown", "err", err)
		}
		return ivr.QueueStatus{}, false
	}
	return ivr.QueueStatus{Position: pos, EstimatedWait: ewt, Waited: time.Since(since)}, true
}

// prompts resolves prompt names, skipping (and logging) unknown ones.
func (c *call) prompts(names []string) []*media.Prompt {
	out := make([]*media.Prompt, 0, len(names))
	for _, n := range names {
		p, ok := c.srv.deps.Prompts.Get(n)
		if !ok {
			c.log.Warn("prompt is not in the prompt catalogue: skipped", "prompt", n)
			continue
		}
		out = append(out, p)
	}
	return out
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
