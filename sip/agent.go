package sip

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/google/uuid"

	"kefu/routing"
	"kefu/sip/media"
	"kefu/sip/sdp"
)

var errRingTimeout = errors.New("agent did not answer within the ring timeout")

// dtmfPT is the telephone-event payload type Kefu offers to agents' phones.
const dtmfPT = 101

// sipgoResponseError is a final non-2xx answer from an agent's phone.
type sipgoResponseError struct {
	code   int
	reason string
}

func (e *sipgoResponseError) Error() string {
	return fmt.Sprintf("agent phone answered %d %s", e.code, e.reason)
}

// agentLeg is the call leg from Kefu to an agent's phone.
type agentLeg struct {
	srv     *Server
	callID  string
	dlg     *sipgo.DialogClientSession
	media   *media.Session
	local   *legSDP              // our offer, then our answers to the phone's re-INVITEs
	contact sipmsg.ContactHeader // ours, as the phone reaches us
	once    sync.Once
	// ready is set once media, local and contact are: a re-INVITE that
	// comes sooner is told to retry.
	ready atomic.Bool
}

// dialAgent rings the agent's registered phone with an offer that puts the
// caller's codec first, and returns the answered leg. It gives up after
// ringTimeout (CANCEL) or when ctx ends (the caller hung up).
func (s *Server) dialAgent(ctx context.Context, c *call, o routing.Offer, ringTimeout time.Duration) (*agentLeg, error) {
	target, ok := s.reg.lookup(o.AgentID)
	if !ok {
		return nil, fmt.Errorf("%w: agent %s", errNotRegistered, o.AgentID)
	}
	conn, err := s.ports.Listen()
	if err != nil {
		return nil, fmt.Errorf("agent leg: %w", err)
	}
	handedOff := false
	defer func() {
		if !handedOff {
			s.release(conn)
		}
	}()
	peer := netip.IPv4Unspecified()
	if ip, err := netip.ParseAddr(target.Host); err == nil {
		peer = ip
	}
	localIP := s.localIPFor(peer)
	port := localPort(conn)
	codecs := []sdp.Codec{c.answer.Codec}
	if c.answer.Codec.Name == sdp.PCMU.Name {
		codecs = append(codecs, sdp.PCMA)
	} else {
		codecs = append(codecs, sdp.PCMU)
	}
	local, err := newLegSDP(sdp.Origin{SessionID: rand.Uint64() >> 1, Version: 1, Username: "kefu"}, sdp.Session{
		Addr:            netip.AddrPortFrom(localIP, port),
		Codecs:          codecs,
		DTMFPayloadType: dtmfPT,
	})
	if err != nil {
		return nil, fmt.Errorf("agent offer: %w", err)
	}

	req := sipmsg.NewRequest(sipmsg.INVITE, target)
	req.SetBody(local.current())
	req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	// The agent's phone shows the caller's number.
	from := &sipmsg.FromHeader{
		DisplayName: c.caller,
		Address:     sipmsg.Uri{Scheme: "sip", User: c.caller, Host: localIP.String(), Port: int(s.cfg.Listen.Port())},
		Params:      sipmsg.NewParams(),
	}
	from.Params.Add("tag", uuid.NewString())
	req.AppendHeader(from)
	req.AppendHeader(&sipmsg.ToHeader{Address: *target.Clone(), Params: sipmsg.NewParams()})
	req.AppendHeader(sipmsg.NewHeader("Call-ID", uuid.NewString()))
	ct := s.contact(localIP)
	req.AppendHeader(&ct)
	// Our own Via, with the address this phone can reach us at.
	via := &sipmsg.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: req.Transport(),
		Host: localIP.String(), Port: int(s.cfg.Listen.Port()), Params: sipmsg.NewParams()}
	via.Params.Add("branch", sipmsg.GenerateBranchN(16))
	req.PrependHeader(via)
	// Screen-pop data for phones and desktops that read it.
	req.AppendHeader(sipmsg.NewHeader("X-Kefu-Call", c.id))
	req.AppendHeader(sipmsg.NewHeader("X-Kefu-Queue", o.Queue))
	req.AppendHeader(sipmsg.NewHeader("X-Kefu-Offer", strconv.FormatUint(o.Token, 10)))
	if target.UriParams != nil {
		if tr, ok := target.UriParams.Get("transport"); ok && tr != "" {
			req.SetTransport(tr)
		}
	}

	// Ringing runs on its own goroutine: if the caller hangs up, the call
	// goes on ending at once while that goroutine cancels the phone properly
	// (after its provisional, RFC 3261 §9.1) or hangs it up if it answered.
	type rung struct {
		leg *agentLeg
		err error
	}
	done := make(chan rung, 1)
	handedOff = true
	s.bg.Go(func() {
		leg, err := s.ring(ctx, o, ringTimeout, req, conn, localIP, local)
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

// ring sends the INVITE (whose offer is local) and waits for the phone to
// answer, giving up after ringTimeout or when ctx ends. It owns conn: the
// answered leg's media session takes it, or it is released.
func (s *Server) ring(ctx context.Context, o routing.Offer, ringTimeout time.Duration, req *sipmsg.Request,
	conn *net.UDPConn, localIP netip.Addr, local *legSDP) (*agentLeg, error) {
	closeConn := true
	defer func() {
		if closeConn {
			s.release(conn)
		}
	}()
	// Ringing ends on our timer or when the caller goes. A CANCEL may only be
	// sent once the phone has answered provisionally (RFC 3261 §9.1), and
	// sipgo waits for that provisional before cancelling. Only when the ring
	// timeout passes with no response at all is the phone taken for dead and
	// the INVITE abandoned without waiting.
	ringCtx, stopRing := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stopRing(nil)
	var provisional atomic.Bool
	timer := time.AfterFunc(ringTimeout, func() {
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
		return nil, fmt.Errorf("invite agent %s: %w", o.AgentID, err)
	}
	err = dlg.WaitAnswer(ringCtx, sipgo.AnswerOptions{OnResponse: func(r *sipmsg.Response) error {
		if r.StatusCode < 200 {
			provisional.Store(true) // a 100 Trying also allows CANCEL
		}
		return nil
	}})
	if err != nil {
		// A 2xx that crossed our CANCEL: the phone thinks it is connected;
		// acknowledge and hang up so it is not left off-hook.
		if res := dlg.InviteResponse; res != nil && res.IsSuccess() {
			bctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = dlg.Ack(bctx)
			_ = dlg.Bye(bctx)
			cancel()
		}
		dlg.Close()
		var dr *sipgo.ErrDialogResponse
		switch {
		case errors.As(err, &dr):
			return nil, &sipgoResponseError{code: dr.Res.StatusCode, reason: dr.Res.Reason}
		case ctx.Err() == nil && ringCtx.Err() != nil:
			return nil, errRingTimeout
		case ctx.Err() != nil:
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("invite agent %s: %w", o.AgentID, err)
	}

	// Answered: from now on the phone may send BYE.
	leg := &agentLeg{srv: s, callID: req.CallID().Value(), dlg: dlg}
	s.calls.addDialog(leg.callID, leg)
	removeDialog := true
	defer func() {
		if removeDialog {
			s.calls.removeDialog(leg.callID, leg)
		}
	}()

	// Read the phone's SDP answer before acknowledging.
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
		return nil, fmt.Errorf("agent %s answered with unusable SDP: %w", o.AgentID, err)
	}
	actx, cancelAck := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelAck()
	if err := dlg.Ack(actx); err != nil {
		dlg.Close()
		return nil, fmt.Errorf("ack agent %s: %w", o.AgentID, err)
	}
	dtmf := ans.DTMFPayloadType
	closeConn = false // from here the session owns the socket, even if NewSession fails
	ms, err := media.NewSession(media.Config{
		Conn:            conn,
		Pool:            s.ports,
		Remote:          ans.Addr,
		Codec:           chosen,
		DTMFPayloadType: dtmf,
		Logger:          s.log,
	})
	if err != nil {
		bctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = dlg.Bye(bctx)
		cancel()
		dlg.Close()
		return nil, fmt.Errorf("agent media: %w", err)
	}
	removeDialog = false
	leg.media = ms
	// Our answers to the phone's re-INVITEs carry the codec it chose, in the
	// session (o= line) of our offer; body stays the offer until then.
	local.session.Codecs = []sdp.Codec{chosen}
	leg.local = local
	leg.contact = s.contact(localIP)
	leg.ready.Store(true)
	ms.Start()
	return leg, nil
}

// pickAnswered checks the phone chose one of the codecs we offered.
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

// close hangs up the agent's phone (unless it hung up first) and releases the
// leg's media and registry entry. Idempotent.
func (l *agentLeg) close() {
	l.once.Do(func() {
		if l.dlg.Context().Err() == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := l.dlg.Bye(ctx); err != nil {
				l.srv.log.Debug("bye to agent failed", "err", err)
			}
			cancel()
		}
		l.media.Close()
		l.dlg.Close()
		l.srv.calls.removeDialog(l.callID, l)
	})
}

func (l *agentLeg) onAck(*sipmsg.Request, sipmsg.ServerTransaction) {}

// matches checks the request's tags against the dialog (we are its UAC).
func (l *agentLeg) matches(req *sipmsg.Request) bool {
	id, err := sipmsg.DialogIDFromRequestUAC(req)
	return err == nil && id == l.dlg.ID
}

// onReInvite answers a re-INVITE from the agent's phone (hold, resume,
// refresh, new address) as answerReInvite does for callers, so the phone
// does not drop the caller.
func (l *agentLeg) onReInvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if !l.ready.Load() {
		l.srv.reply(req, tx, sipmsg.StatusInternalServerError, "Server Internal Error", sipmsg.NewHeader("Retry-After", "1"))
		return
	}
	if err := l.dlg.ReadRequest(req, tx); err != nil {
		l.srv.reply(req, tx, sipmsg.StatusInternalServerError, "Server Internal Error", sipmsg.NewHeader("Retry-After", "1"))
		return
	}
	l.srv.answerReInvite(req, tx, l.local, l.media, l.contact.Clone(), l.srv.log.With("agent_call", l.callID))
}

// onBye: the agent hung up.
func (l *agentLeg) onBye(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if err := l.dlg.ReadBye(req, tx); err != nil {
		l.srv.log.Debug("agent bye", "err", err)
	}
}

// onInfo: key presses from the agent's phone are acknowledged and not acted on.
func (l *agentLeg) onInfo(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	l.srv.reply(req, tx, sipmsg.StatusOK, "OK")
}
