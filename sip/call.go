package sip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"kefu/ivr"
	"kefu/sip/media"
	"kefu/sip/sdp"
)

// onInvite admits a new call and runs it: the handler goroutine owns the call
// until it ends, which keeps the INVITE transaction alive until its final
// response (sipgo terminates it when the handler returns).
func (s *Server) onInvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if hasToTag(req) {
		s.onReInvite(req, tx)
		return
	}
	c, err := s.admit(req, tx)
	if err != nil {
		st := statusFor(err)
		lvl := slog.LevelInfo
		if st.code >= 500 && !errors.Is(err, errDraining) {
			lvl = slog.LevelError
		}
		s.log.Log(context.Background(), lvl, "call refused", "status", st.code, "err", err,
			"from", fromUser(req), "to", req.Recipient.User, "source", req.Source())
		var hdrs []sipmsg.Header
		if st.warning != "" {
			hdrs = append(hdrs, warningHeader(s.cfg.UserAgent, st.warning))
		}
		switch st.code {
		case sipmsg.StatusServiceUnavailable:
			hdrs = append(hdrs, sipmsg.NewHeader("Retry-After", "30"))
		case sipmsg.StatusBadExtension:
			hdrs = append(hdrs, sipmsg.NewHeader("Unsupported", "100rel"))
		case sipmsg.StatusUnsupportedMediaType:
			hdrs = append(hdrs, sipmsg.NewHeader("Accept", "application/sdp"))
		}
		s.reply(req, tx, st.code, st.reason, hdrs...)
		return
	}
	c.run()
}

// admit checks an initial INVITE and builds its call, or says why not.
func (s *Server) admit(req *sipmsg.Request, tx sipmsg.ServerTransaction) (*call, error) {
	if s.draining.Load() {
		return nil, errDraining
	}
	trunk, ok := s.trunkFor(req.Source())
	if !ok {
		return nil, fmt.Errorf("%w: %s", errForbiddenSource, req.Source())
	}
	number := req.Recipient.User
	flow, ok := s.flowFor(number)
	if !ok {
		return nil, fmt.Errorf("%w: %q", errUnknownNumber, number)
	}
	if !s.deps.Flows.HasFlow(flow) {
		return nil, fmt.Errorf("%w: %q for %q", errFlowMissing, flow, number)
	}
	for _, h := range req.GetHeaders("Require") {
		if strings.Contains(strings.ToLower(h.Value()), "100rel") {
			return nil, errNeeds100rel
		}
	}
	body := req.Body()
	if len(body) == 0 {
		return nil, errNoOffer
	}
	if ct := req.ContentType(); ct != nil && !strings.EqualFold(strings.TrimSpace(strings.Split(ct.Value(), ";")[0]), "application/sdp") {
		return nil, fmt.Errorf("%w: %s", errNotSDP, ct.Value())
	}
	offer, err := sdp.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("offer: %w", err)
	}
	ans, err := sdp.Negotiate(offer, []sdp.Codec{sdp.PCMU, sdp.PCMA})
	if err != nil {
		return nil, fmt.Errorf("offer: %w", err)
	}
	conn, err := s.ports.Listen()
	if err != nil {
		return nil, fmt.Errorf("caller leg: %w", err)
	}
	fail := func(err error) (*call, error) {
		s.release(conn)
		return nil, err
	}
	if req.Contact() == nil {
		return nil, errNoContact
	}
	var srcIP netip.Addr
	if ap, err := netip.ParseAddrPort(req.Source()); err == nil {
		srcIP = ap.Addr().Unmap()
	}
	localIP := s.localIPFor(ans.Remote.Addr())
	local, err := newLegSDP(sdp.Origin{SessionID: rand.Uint64() >> 1, Version: 1, Username: "kefu"}, sdp.Session{
		Addr:            netip.AddrPortFrom(localIP, localPort(conn)),
		Codecs:          []sdp.Codec{ans.Codec},
		DTMFPayloadType: ans.DTMFPayloadType,
	})
	if err != nil {
		return fail(fmt.Errorf("build answer: %w", err))
	}
	leg, err := media.NewSession(media.Config{
		Conn:            conn,
		Pool:            s.ports,
		Remote:          ans.Remote,
		Codec:           ans.Codec,
		DTMFPayloadType: ans.DTMFPayloadType,
		Totals:          &s.stats.media,
		Logger:          s.log,
	})
	if err != nil {
		return nil, fmt.Errorf("caller media: %w", err) // the session released the port
	}
	dlg, err := s.dialog.ReadInvite(req, tx)
	if err != nil {
		leg.Close()
		if errors.Is(err, sipgo.ErrDialogInviteNoContact) {
			return nil, errNoContact
		}
		return nil, fmt.Errorf("read invite: %w", err)
	}
	c := &call{
		srv:     s,
		id:      req.CallID().Value(),
		caller:  fromUser(req),
		called:  number,
		trunk:   trunk,
		source:  req.Source(),
		network: req.Transport(),
		flow:    flow,
		dlg:     dlg,
		answer:  ans,
		local:   local,
		leg:     leg,
		started: time.Now(),
		state:   "ringing",
		digitCh: make(chan struct{}),
		contact: s.contact(s.localIPFor(srcIP)),
	}
	c.log = s.log.With("call", c.id, "caller", c.caller, "called", c.called)
	c.ctx, c.cancel = context.WithCancelCause(dlg.Context())
	if err := s.calls.addCall(c); err != nil {
		leg.Close()
		return nil, err
	}
	return c, nil
}

// onReInvite answers a re-INVITE (session refresh, hold, resume, new address)
// on a call we know (answerReInvite); 481 otherwise.
func (s *Server) onReInvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	var c *call
	switch d := s.calls.lookup(req).(type) {
	case *call:
		c = d
	case *outLeg:
		d.onReInvite(req, tx)
		return
	default:
		s.noDialog(req, tx)
		return
	}
	if err := c.dlg.ReadRequest(req, tx); err != nil {
		s.reply(req, tx, sipmsg.StatusInternalServerError, "Server Internal Error", sipmsg.NewHeader("Retry-After", "1"))
		return
	}
	s.answerReInvite(req, tx, c.local, c.leg, c.contactHeader(), c.log)
}

// answerReInvite answers a re-INVITE read on one of our dialogs, whose leg
// sends RTP with ms: 200 with our answer to its offer (legSDP.reanswer), or
// our current SDP as the offer when it has none; 488 when the offer drops the
// call's codec or its audio, 400 when the SDP cannot be read. A refused
// offer leaves the session as it was (RFC 3261 §14.2).
func (s *Server) answerReInvite(req *sipmsg.Request, tx sipmsg.ServerTransaction, local *legSDP,
	ms *media.Session, contact *sipmsg.ContactHeader, log *slog.Logger) {
	answer := local.current() // no offer: ours goes in the 200, the answer in the ACK
	if body := req.Body(); len(body) > 0 {
		offer, err := sdp.Parse(body)
		if err == nil {
			answer, err = local.reanswer(log, offer, ms, time.Now())
		}
		if err != nil {
			st := statusFor(err)
			switch {
			case errors.Is(err, errCodecChange):
				st.warning = "Incompatible media format: keep offering the call's codec"
			case errors.Is(err, errBuildAnswer):
				st = status{sipmsg.StatusInternalServerError, "Server Internal Error", ""}
			}
			log.Info("re-INVITE refused", "status", st.code, "err", err)
			var hdrs []sipmsg.Header
			if st.warning != "" {
				hdrs = append(hdrs, warningHeader(s.cfg.UserAgent, st.warning))
			}
			s.reply(req, tx, st.code, st.reason, hdrs...)
			return
		}
	}
	res := sipmsg.NewSDPResponseFromRequest(req, answer)
	res.AppendHeader(contact)
	s.respond(tx, res)
}

var (
	// errCodecChange: a re-INVITE offers a leg without the codec its media
	// runs with, which Kefu cannot switch mid-call (SIP: 488).
	errCodecChange = fmt.Errorf("%w: re-INVITE offer drops the call's codec", sdp.ErrNoCommonCodec)
	// errBuildAnswer: our answer could not be rendered (SIP: 500).
	errBuildAnswer = errors.New("cannot build the answer")
)

// holdOn is legSDP.hold while the peer holds the leg.
const holdOn = -1

// legSDP is our side of one call leg's offer/answer (RFC 3264): the SDP we
// last sent with its o= line, and whether the peer holds the leg. Its mutex
// serialises re-INVITEs, so an answer and the media change it makes go
// together; the no-RTP watchdogs read only the atomic hold.
type legSDP struct {
	mu      sync.Mutex
	origin  sdp.Origin  // SessionID kept, Version bumped on each change (§8)
	session sdp.Session // what body describes; Codecs[0] is the leg's codec
	body    []byte

	// hold is 0 while the peer has never held the leg, holdOn while it does,
	// and otherwise when it last resumed (Unix ns).
	hold atomic.Int64
}

// newLegSDP renders our first SDP of a leg (offer or answer).
func newLegSDP(origin sdp.Origin, s sdp.Session) (*legSDP, error) {
	body, err := sdp.Build(origin, s)
	if err != nil {
		return nil, err
	}
	return &legSDP{origin: origin, session: s, body: body}, nil
}

// current is the SDP we last sent.
func (l *legSDP) current() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.body
}

// reanswer answers a re-INVITE's offer on the leg whose media is ms: the
// leg's codec, which the offer must still carry with the same payload type,
// our direction mirrored from the offer's (RFC 3264 §6.1: sendonly →
// recvonly, recvonly → sendonly, inactive → inactive), the offer's other m=
// lines rejected. The o= version grows only when the SDP changes (§8). RTP
// goes where the offer says, nowhere while the stream is inactive. An offer
// that is not sendrecv, or old-style c=0.0.0.0, puts the leg on hold
// (§8.4); sendrecv resumes it. A refused offer (errCodecChange) changes
// nothing.
func (l *legSDP) reanswer(log *slog.Logger, offer *sdp.Session, ms *media.Session, now time.Time) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	codec := l.session.Codecs[0]
	ans, err := sdp.Negotiate(offer, []sdp.Codec{codec})
	if err != nil || ans.Codec.PayloadType != codec.PayloadType {
		offered := make([]string, 0, len(offer.Codecs))
		for _, c := range offer.Codecs {
			offered = append(offered, fmt.Sprintf("%d %s/%d", c.PayloadType, c.Name, c.ClockRate))
		}
		return nil, fmt.Errorf("%w: offered %v, the call has %d %s/%d", errCodecChange,
			offered, codec.PayloadType, codec.Name, codec.ClockRate)
	}
	next := l.session
	next.Direction = ans.Direction
	next.AudioIndex, next.Others = offer.AudioIndex, offer.Others
	body, err := sdp.Build(l.origin, next)
	if err == nil && !bytes.Equal(body, l.body) {
		l.origin.Version++
		body, err = sdp.Build(l.origin, next)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBuildAnswer, err)
	}
	l.session, l.body = next, body

	if ans.Direction == sdp.Inactive {
		ms.SetRemote(netip.AddrPort{})
	} else {
		ms.SetRemote(offer.Addr)
	}
	held := (offer.Direction != "" && offer.Direction != sdp.SendRecv) || offer.Addr.Addr().IsUnspecified()
	switch {
	case held && l.hold.Swap(holdOn) != holdOn:
		log.Info("peer put the call on hold", "direction", offer.Direction, "remote", offer.Addr.String())
	case !held && l.hold.CompareAndSwap(holdOn, now.UnixNano()):
		log.Info("peer resumed the call", "remote", offer.Addr.String())
	}
	return body, nil
}

// rtpDueSince is when the peer's RTP became due, given that the last packet
// (or the watchdog's start) was at last: last, or the resume after it. ok is
// false while the peer holds the leg and owes no RTP.
func (l *legSDP) rtpDueSince(last time.Time) (due time.Time, ok bool) {
	switch v := l.hold.Load(); {
	case v == holdOn:
		return time.Time{}, false
	case v > 0:
		if r := time.Unix(0, v); r.After(last) {
			return r, true
		}
	}
	return last, true
}

// call is one caller's call from INVITE to its end, as the IVR sees it.
type call struct {
	maskDigits atomic.Bool // a flow reads a secret: keys are logged as *

	srv     *Server
	log     *slog.Logger
	id      string
	caller  string
	called  string
	trunk   string
	source  string // host:port the INVITE came from: the trunk, for call-backs and transfers
	network string // transport the INVITE came over ("UDP", "TCP")
	flow    string
	dlg     *sipgo.DialogServerSession
	answer  sdp.Answer
	local   *legSDP // our SDP, for the 200 and re-INVITEs
	leg     *media.Session
	started time.Time
	contact sipmsg.ContactHeader // ours, with the address the trunk reaches us at

	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup // goroutines this call started

	answerOnce sync.Once
	answerErr  error

	mu         sync.Mutex
	state      string
	queue      string
	agent      string
	answered   bool
	answeredAt time.Time
	hangup     string // reason given by the flow's hangup
	digits     []rune
	digitCh    chan struct{} // closed (and replaced) when a digit arrives
	// referCh, while a blind transfer waits, gets the status of each
	// NOTIFY's sipfrag (RFC 3515 §2.4.5).
	referCh chan int
}

// contactHeader is a fresh copy of our Contact for one response.
func (c *call) contactHeader() *sipmsg.ContactHeader { return c.contact.Clone() }

// matches checks the request's tags against the dialog (we are its UAS).
func (c *call) matches(req *sipmsg.Request) bool {
	id, err := sipmsg.DialogIDFromRequestUAS(req)
	return err == nil && id == c.dlg.ID
}

// flowHangup is the cause a call ends with when its flow hangs up.
type flowHangup struct{ reason string }

func (f flowHangup) Error() string { return "flow hung up: " + f.reason }

// run drives the call from admission to its end.
func (c *call) run() {
	defer c.cleanup()
	stop := context.AfterFunc(c.srv.stopCtx, func() { c.cancel(errShutdown) })
	defer stop()

	// Trying at once, so a trunk on UDP stops retransmitting the INVITE.
	if err := c.dlg.Respond(sipmsg.StatusTrying, "Trying", nil, c.contactHeader()); err != nil {
		c.log.Debug("100 failed", "err", err)
	}
	c.log.Info("call started", "flow", c.flow, "trunk", c.trunk, "codec", c.answer.Codec.Name)
	err := c.srv.deps.Flows.RunFlow(c.ctx, c.flow, c)
	c.finish(err)
}

// finish ends the call on the wire: BYE when answered, a final response when
// not, nothing when the caller already hung up.
func (c *call) finish(flowErr error) {
	cause := context.Cause(c.ctx)
	c.cancel(nil) // stop the call's goroutines; the first cause stays
	remoteEnded := c.dlg.Context().Err() != nil || errors.Is(cause, errCallerCancelled)
	c.mu.Lock()
	answered := c.answered
	c.state = "ending"
	c.mu.Unlock()

	switch {
	case remoteEnded:
		if cause == nil || errors.Is(cause, context.Canceled) {
			cause = errors.New("caller hung up")
		}
	case answered:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := c.dlg.Bye(ctx); err != nil {
			c.log.Debug("bye failed", "err", err)
		}
		cancel()
	default:
		var st status
		if fh := (flowHangup{}); errors.As(cause, &fh) && fh.reason == "busy" {
			st = status{sipmsg.StatusBusyHere, "Busy Here", ""}
		} else if cause == nil || errors.As(cause, &fh) {
			st = statusFor(errFlowHangupBefore)
		} else {
			st = statusFor(cause)
		}
		if err := c.dlg.Respond(st.code, st.reason, nil, c.contactHeader()); err != nil {
			c.log.Debug("final response failed", "err", err)
		}
	}
	if cause == nil {
		cause = errors.New("flow ended")
	}
	attrs := []any{"cause", cause.Error(), "duration", time.Since(c.started).Round(time.Millisecond)}
	if flowErr != nil && !errors.Is(flowErr, ivr.ErrHangup) && !errors.Is(flowErr, context.Canceled) {
		attrs = append(attrs, "flow_err", flowErr.Error())
	}
	st := c.leg.Stats()
	attrs = append(attrs, "rtp_in", st.PacketsIn, "rtp_out", st.PacketsOut)
	c.log.Info("call ended", attrs...)
}

// cleanup releases everything the call holds; it runs on every path out.
func (c *call) cleanup() {
	c.cancel(nil)
	c.wg.Wait()
	c.leg.Close()
	c.dlg.Close()
	c.srv.calls.removeCall(c)
}

// ended is the error a Call method returns once the call is over.
func (c *call) ended() error {
	return fmt.Errorf("%w: %v", ivr.ErrHangup, context.Cause(c.ctx))
}

func (c *call) ID() string     { return c.id }
func (c *call) Caller() string { return c.caller }
func (c *call) Called() string { return c.called }

func (c *call) setState(state string) {
	c.mu.Lock()
	c.state = state
	c.mu.Unlock()
}

func (c *call) info() CallInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CallInfo{
		ID: c.id, Caller: c.caller, Called: c.called, Trunk: c.trunk, Flow: c.flow,
		State: c.state, Queue: c.queue, Agent: c.agent, Codec: c.answer.Codec.Name,
		Started: c.started, Answered: c.answeredAt,
	}
}

// ensureAnswered answers the call (200 OK with our SDP) the first time media is
// needed, and waits for the ACK.
func (c *call) ensureAnswered() error {
	c.answerOnce.Do(func() { c.answerErr = c.answerNow() })
	if c.answerErr != nil {
		return c.answerErr
	}
	if c.ctx.Err() != nil {
		return c.ended()
	}
	return nil
}

func (c *call) answerNow() error {
	if c.ctx.Err() != nil {
		return c.ended()
	}
	c.mu.Lock()
	c.answered = true
	c.mu.Unlock()
	c.leg.Start()
	c.wg.Go(c.pumpDigits)
	res := sipmsg.NewSDPResponseFromRequest(c.dlg.InviteRequest, c.local.current())
	res.AppendHeader(c.contactHeader())
	if err := c.dlg.WriteResponse(res); err != nil {
		switch {
		case errors.Is(err, sipmsg.ErrTransactionCanceled):
			// The caller's CANCEL crossed our 200: the transaction layer has
			// answered it with 487, so nothing is left to send.
			c.mu.Lock()
			c.answered = false
			c.mu.Unlock()
			c.cancel(errCallerCancelled)
		case c.dlg.Context().Err() == nil:
			c.cancel(fmt.Errorf("%w: %v", errNoAck, err))
		}
		return c.ended()
	}
	c.mu.Lock()
	c.answeredAt = time.Now()
	if c.state == "ringing" {
		c.state = "ivr"
	}
	c.mu.Unlock()
	c.wg.Go(func() {
		c.srv.watchRTP(c.ctx, c.leg, c.local, func(silence time.Duration) {
			c.log.Warn("media timeout: no RTP", "for", silence.Round(time.Second))
			c.cancel(errMediaTimeout)
		})
	})
	return nil
}

// watchRTP calls expire when m has received no RTP for the media timeout,
// not counting time the peer holds the call (see legSDP); it returns when ctx
// ends or after calling expire.
func (s *Server) watchRTP(ctx context.Context, m *media.Session, held *legSDP, expire func(silence time.Duration)) {
	timeout := s.cfg.MediaTimeout
	since := time.Now()
	t := time.NewTicker(min(timeout/4, time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			last := m.LastReceived()
			if last.Before(since) {
				last = since
			}
			last, due := held.rtpDueSince(last)
			if due && now.Sub(last) > timeout {
				expire(now.Sub(last))
				return
			}
		}
	}
}

// pumpDigits moves key presses from the media session into the call's buffer.
func (c *call) pumpDigits() {
	for {
		select {
		case <-c.ctx.Done():
			return
		case d, ok := <-c.leg.Digits():
			if !ok {
				return
			}
			key := string(d.Key)
			if c.maskDigits.Load() {
				key = "*"
			}
			c.log.Debug("digit", "key", key, "source", d.Source)
			c.mu.Lock()
			c.digits = append(c.digits, d.Key)
			close(c.digitCh)
			c.digitCh = make(chan struct{})
			c.mu.Unlock()
		}
	}
}

// Play implements ivr.Call.
func (c *call) Play(ctx context.Context, names []string, bargeIn bool) error {
	if err := c.ensureAnswered(); err != nil {
		return err
	}
	prompts := make([]*media.Prompt, 0, len(names))
	for _, n := range names {
		p, ok := c.srv.deps.Prompts.Get(n)
		if !ok {
			return fmt.Errorf("prompt %q is not in the prompt catalogue", n)
		}
		prompts = append(prompts, p)
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if bargeIn {
		c.mu.Lock()
		typed, sig := len(c.digits) > 0, c.digitCh
		c.mu.Unlock()
		if typed {
			return nil // the caller already chose: skip the prompt
		}
		c.wg.Go(func() {
			select {
			case <-sig:
				cancel()
			case <-pctx.Done():
			}
		})
	}
	err := c.leg.Play(pctx, prompts...)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil || c.ctx.Err() != nil:
		return c.ended()
	case pctx.Err() != nil:
		return nil // barge-in
	default:
		return fmt.Errorf("play %v: %w", names, err)
	}
}

// ReadDigit implements ivr.Call.
func (c *call) ReadDigit(ctx context.Context, timeout time.Duration) (rune, error) {
	if err := c.ensureAnswered(); err != nil {
		return 0, err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		c.mu.Lock()
		if len(c.digits) > 0 {
			d := c.digits[0]
			c.digits = c.digits[1:]
			c.mu.Unlock()
			return d, nil
		}
		sig := c.digitCh
		c.mu.Unlock()
		select {
		case <-sig:
		case <-t.C:
			return 0, fmt.Errorf("%w after %s", ivr.ErrNoInput, timeout)
		case <-ctx.Done():
			return 0, c.ended()
		}
	}
}

// FlushDigits implements ivr.Call.
func (c *call) FlushDigits() {
	c.mu.Lock()
	c.digits = nil
	c.mu.Unlock()
}

// Hangup implements ivr.Call: the call ends when the flow returns.
func (c *call) Hangup(ctx context.Context, reason string) error {
	if reason == "" {
		reason = "normal"
	}
	c.mu.Lock()
	c.hangup = reason
	c.mu.Unlock()
	c.cancel(flowHangup{reason})
	return nil
}

// onAck confirms our 2xx.
func (c *call) onAck(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if err := c.dlg.ReadAck(req, tx); err != nil {
		c.log.Debug("ack not for our 2xx", "err", err)
	}
}

// onBye ends the call from the caller's side.
func (c *call) onBye(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if c.dlg.LoadState() < sipmsg.DialogStateEstablished {
		// BYE on the early dialog (the caller gives up while hearing
		// ring-back): accept it; finish then answers the INVITE with 487.
		c.srv.reply(req, tx, sipmsg.StatusOK, "OK")
		c.cancel(errEarlyBye)
		return
	}
	if err := c.dlg.ReadBye(req, tx); err != nil {
		c.log.Debug("bye refused", "err", err)
		c.srv.reply(req, tx, sipmsg.StatusInternalServerError, "Server Internal Error")
		return
	}
	c.log.Debug("caller sent BYE")
}

// onInfo takes a key press sent as SIP INFO.
func (c *call) onInfo(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	mt := strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	if mt != "application/dtmf-relay" && mt != "application/dtmf" {
		c.srv.reply(req, tx, sipmsg.StatusUnsupportedMediaType, "Unsupported Media Type",
			sipmsg.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
		return
	}
	key, err := media.ParseDTMFInfo(ct, req.Body())
	if err != nil {
		c.srv.reply(req, tx, sipmsg.StatusBadRequest, "Bad Request", warningHeader(c.srv.cfg.UserAgent, err.Error()))
		return
	}
	c.leg.InjectDigit(key, "info")
	c.srv.reply(req, tx, sipmsg.StatusOK, "OK")
}

func fromUser(req *sipmsg.Request) string {
	if f := req.From(); f != nil && f.Address.User != "" {
		return f.Address.User
	}
	return "anonymous"
}

// MaskDigits implements ivr.DigitMasker: while on, key presses are logged
// as "*".
func (c *call) MaskDigits(on bool) { c.maskDigits.Store(on) }
