package sip

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/google/uuid"

	"kefu/sip/media"
	"kefu/sip/sdp"
)

// errRingTimeout: the callee did not answer within the ring timeout (CANCEL
// was sent).
var errRingTimeout = errors.New("no answer within the ring timeout")

// dtmfPT is the telephone-event payload type Kefu offers on the legs it
// places.
const dtmfPT = 101

// responseError is a final non-2xx answer to an INVITE Kefu sent.
type responseError struct {
	who    string
	code   int
	reason string
}

func (e *responseError) Error() string {
	return fmt.Sprintf("%s answered %d %s", e.who, e.code, e.reason)
}

// outLeg is a call leg Kefu places: to an agent's phone, to a bridged
// transfer's target, or to a customer called back.
type outLeg struct {
	srv     *Server
	name    string // who was called, for logs
	callID  string
	dlg     *sipgo.DialogClientSession
	media   *media.Session
	local   *legSDP              // our offer, then our answers to the callee's re-INVITEs
	contact sipmsg.ContactHeader // ours, as the callee reaches us
	once    sync.Once
	// ready is set once media, local and contact are: a re-INVITE that
	// comes sooner is told to retry.
	ready atomic.Bool
}

// dialRequest says whom a leg calls and how.
type dialRequest struct {
	// name says who is called, for logs and errors ("agent 1001").
	name string
	// target is the Request-URI and To; transport, if not empty, forces the
	// transport ("UDP", "TCP"), else the URI's transport parameter or UDP.
	target    sipmsg.Uri
	transport string
	// fromUser is who the callee sees calling (From user and display name).
	fromUser string
	// codec is offered first; the other G.711 law follows, so a callee that
	// lacks it can still answer (Bridge transcodes).
	codec sdp.Codec
	// headers are added to the INVITE (screen-pop data).
	headers []sipmsg.Header
	// ringTimeout bounds the ringing; the INVITE is then cancelled.
	ringTimeout time.Duration
}

// dial calls dr.target with an offer for dr.codec and returns the answered
// leg. It gives up after the ring timeout (CANCEL, errRingTimeout), on a
// final non-2xx (*responseError) or when ctx ends (its cause).
func (s *Server) dial(ctx context.Context, dr dialRequest) (*outLeg, error) {
	conn, err := s.ports.Listen()
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", dr.name, err)
	}
	handedOff := false
	defer func() {
		if !handedOff {
			s.release(conn)
		}
	}()
	peer := netip.IPv4Unspecified()
	if ip, err := netip.ParseAddr(dr.target.Host); err == nil {
		peer = ip
	}
	localIP := s.localIPFor(peer)
	codecs := []sdp.Codec{dr.codec}
	if dr.codec.Name == sdp.PCMU.Name {
		codecs = append(codecs, sdp.PCMA)
	} else {
		codecs = append(codecs, sdp.PCMU)
	}
	local, err := newLegSDP(sdp.Origin{SessionID: rand.Uint64() >> 1, Version: 1, Username: "kefu"}, sdp.Session{
		Addr:            netip.AddrPortFrom(localIP, localPort(conn)),
		Codecs:          codecs,
		DTMFPayloadType: dtmfPT,
	})
	if err != nil {
		return nil, fmt.Errorf("offer to %s: %w", dr.name, err)
	}

	target := *dr.target.Clone()
	req := sipmsg.NewRequest(sipmsg.INVITE, target)
	transport := dr.transport
	if transport == "" && target.UriParams != nil {
		if tr, ok := target.UriParams.Get("transport"); ok && tr != "" {
			transport = tr
		}
	}
	if transport != "" {
		req.SetTransport(transport)
	}
	req.SetBody(local.current())
	req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	from := &sipmsg.FromHeader{
		DisplayName: dr.fromUser,
		Address:     sipmsg.Uri{Scheme: "sip", User: dr.fromUser, Host: localIP.String(), Port: int(s.cfg.Listen.Port())},
		Params:      sipmsg.NewParams(),
	}
	from.Params.Add("tag", uuid.NewString())
	req.AppendHeader(from)
	req.AppendHeader(&sipmsg.ToHeader{Address: target, Params: sipmsg.NewParams()})
	req.AppendHeader(sipmsg.NewHeader("Call-ID", uuid.NewString()))
	ct := s.contact(localIP)
	req.AppendHeader(&ct)
	// Our own Via, with the address the callee can reach us at.
	via := &sipmsg.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: req.Transport(),
		Host: localIP.String(), Port: int(s.cfg.Listen.Port()), Params: sipmsg.NewParams()}
	via.Params.Add("branch", sipmsg.GenerateBranchN(16))
	req.PrependHeader(via)
	for _, h := range dr.headers {
		req.AppendHeader(h)
	}

	// Ringing runs on its own goroutine: if ctx ends (the caller hung up),
	// the call goes on ending at once while that goroutine cancels the
	// callee properly (after its provisional, RFC 3261 §9.1) or hangs it up
	// if it answered.
	type rung struct {
		leg *outLeg
		err error
	}
	done := make(chan rung, 1)
	handedOff = true
	s.bg.Go(func() {
		leg, err := s.ring(ctx, dr, req, conn, localIP, local)
		done <- rung{leg, err}
	})
	select {
	case r := <-done:
		return r.leg, r.err
	case <-ctx.Done():
		s.bg.Go(func() {
			if r := <-done; r.leg != nil {
				r.leg.close()
			}
		})
		return nil, context.Cause(ctx)
	}
}

// ring sends the INVITE (whose offer is local) and waits for the callee to
// answer, giving up after the ring timeout or when ctx ends. It owns conn:
// the answered leg's media session takes it, or it is released.
func (s *Server) ring(ctx context.Context, dr dialRequest, req *sipmsg.Request,
	conn *net.UDPConn, localIP netip.Addr, local *legSDP) (*outLeg, error) {
	closeConn := true
	defer func() {
		if closeConn {
			s.release(conn)
		}
	}()
	// Ringing ends on our timer or when ctx does. A CANCEL may only be sent
	// once the callee has answered provisionally (RFC 3261 §9.1), and sipgo
	// waits for that provisional before cancelling. Only when the ring
	// timeout passes with no response at all is the callee taken for dead
	// and the INVITE abandoned without waiting.
	ringCtx, stopRing := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stopRing(nil)
	var provisional atomic.Bool
	timer := time.AfterFunc(dr.ringTimeout, func() {
		if provisional.Load() {
			stopRing(errRingTimeout)
		} else {
			stopRing(sipgo.WaitAnswerForceCancelErr)
		}
	})
	defer timer.Stop()
	unwatch := context.AfterFunc(ctx, func() { stopRing(context.Cause(ctx)) })
	defer unwatch()

	dlg, err := s.dialog.WriteInvite(ringCtx, req)
	if err != nil {
		return nil, fmt.Errorf("invite %s: %w", dr.name, err)
	}
	err = waitAnswer(ringCtx, dlg, sipgo.AnswerOptions{OnResponse: func(r *sipmsg.Response) error {
		if r.StatusCode < 200 {
			provisional.Store(true) // a 100 Trying also allows CANCEL
		}
		return nil
	}})
	if err != nil {
		// A 2xx that crossed our CANCEL: the callee thinks it is connected;
		// acknowledge and hang up so it is not left off-hook.
		if res := dlg.InviteResponse; res != nil && res.IsSuccess() {
			bctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = dlg.Ack(bctx)
			_ = dlg.Bye(bctx)
			cancel()
		}
		dlg.Close()
		var dre *sipgo.ErrDialogResponse
		switch {
		case errors.As(err, &dre):
			return nil, &responseError{who: dr.name, code: dre.Res.StatusCode, reason: dre.Res.Reason}
		case ctx.Err() == nil && ringCtx.Err() != nil:
			return nil, fmt.Errorf("%s: %w", dr.name, errRingTimeout)
		case ctx.Err() != nil:
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("invite %s: %w", dr.name, err)
	}

	// Answered: from now on the callee may send BYE.
	leg := &outLeg{srv: s, name: dr.name, callID: req.CallID().Value(), dlg: dlg}
	s.calls.addDialog(leg.callID, leg)
	removeDialog := true
	defer func() {
		if removeDialog {
			s.calls.removeDialog(leg.callID, leg)
		}
	}()

	// Read the callee's SDP answer before acknowledging.
	ans, err := sdp.Parse(dlg.InviteResponse.Body())
	var chosen sdp.Codec
	if err == nil {
		chosen, err = pickAnswered(ans, local.session.Codecs)
	}
	if err != nil {
		bctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = dlg.Ack(bctx)
		_ = dlg.Bye(bctx)
		cancel()
		dlg.Close()
		return nil, fmt.Errorf("%s answered with unusable SDP: %w", dr.name, err)
	}
	actx, cancelAck := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelAck()
	if err := dlg.Ack(actx); err != nil {
		dlg.Close()
		return nil, fmt.Errorf("ack %s: %w", dr.name, err)
	}
	closeConn = false // from here the session owns the socket, even if NewSession fails
	ms, err := media.NewSession(media.Config{
		Conn:            conn,
		Pool:            s.ports,
		Remote:          ans.Addr,
		Codec:           chosen,
		DTMFPayloadType: ans.DTMFPayloadType,
		Totals:          &s.stats.media,
		Logger:          s.log,
	})
	if err != nil {
		bctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = dlg.Bye(bctx)
		cancel()
		dlg.Close()
		return nil, fmt.Errorf("media of %s: %w", dr.name, err)
	}
	removeDialog = false
	leg.media = ms
	// Our answers to the callee's re-INVITEs carry the codec it chose, in
	// the session (o= line) of our offer; body stays the offer until then.
	local.session.Codecs = []sdp.Codec{chosen}
	leg.local = local
	leg.contact = s.contact(localIP)
	leg.ready.Store(true)
	ms.Start()
	return leg, nil
}

// pickAnswered checks the callee chose one of the codecs we offered.
func pickAnswered(ans *sdp.Session, offered []sdp.Codec) (sdp.Codec, error) {
	for _, a := range ans.Codecs {
		for _, o := range offered {
			if a.Name == o.Name {
				return a, nil
			}
		}
	}
	return sdp.Codec{}, sdp.ErrNoCommonCodec
}

// ended is done when the callee has hung up (or the leg was closed).
func (l *outLeg) ended() <-chan struct{} { return l.dlg.Context().Done() }

// close hangs up the callee (unless it hung up first) and releases the
// leg's media and registry entry. Idempotent.
func (l *outLeg) close() {
	l.once.Do(func() {
		if l.dlg.Context().Err() == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := l.dlg.Bye(ctx); err != nil {
				l.srv.log.Debug("bye failed", "to", l.name, "err", err)
			}
			cancel()
		}
		l.media.Close()
		l.dlg.Close()
		l.srv.calls.removeDialog(l.callID, l)
	})
}

func (l *outLeg) onAck(*sipmsg.Request, sipmsg.ServerTransaction) {}

// matches checks the request's tags against the dialog (we are its UAC).
func (l *outLeg) matches(req *sipmsg.Request) bool {
	id, err := sipmsg.DialogIDFromRequestUAC(req)
	return err == nil && id == l.dlg.ID
}

// onReInvite answers a re-INVITE from the callee (hold, resume, refresh,
// new address) as answerReInvite does for callers, so the callee does not
// drop the call.
func (l *outLeg) onReInvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if !l.ready.Load() {
		l.srv.reply(req, tx, sipmsg.StatusInternalServerError, "Server Internal Error", sipmsg.NewHeader("Retry-After", "1"))
		return
	}
	if err := l.dlg.ReadRequest(req, tx); err != nil {
		l.srv.reply(req, tx, sipmsg.StatusInternalServerError, "Server Internal Error", sipmsg.NewHeader("Retry-After", "1"))
		return
	}
	l.srv.answerReInvite(req, tx, l.local, l.media, l.contact.Clone(), l.srv.log.With("leg", l.name, "leg_call", l.callID))
}

// onBye: the callee hung up.
func (l *outLeg) onBye(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if err := l.dlg.ReadBye(req, tx); err != nil {
		l.srv.log.Debug("bye from callee", "leg", l.name, "err", err)
	}
}

// onInfo: key presses from the callee are acknowledged and not acted on.
func (l *outLeg) onInfo(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	l.srv.reply(req, tx, sipmsg.StatusOK, "OK")
}

// onNotify: Kefu subscribes to nothing on the legs it places (RFC 6665
// §4.1.3: 481 for a NOTIFY matching no subscription).
func (l *outLeg) onNotify(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	l.srv.noDialog(req, tx)
}

// waitAnswer is dlg.WaitAnswer, with the panic sipgo v1.7.2 raises when the
// INVITE transaction ends while it waits for a provisional response before
// cancelling (it reads a nil response from the closed channel) turned into
// an error: one call's leg fails, not the process.
func waitAnswer(ctx context.Context, dlg *sipgo.DialogClientSession, opts sipgo.AnswerOptions) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sipgo: waiting for the answer: %v", p)
		}
	}()
	return dlg.WaitAnswer(ctx, opts)
}
