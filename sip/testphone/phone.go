// Package testphone is a scriptable SIP phone for Kefu's tests: it registers
// with digest authentication, places and answers calls over real UDP sockets,
// sends RTP audio at 20 ms and RFC 4733 or SIP INFO key presses, and records
// the RTP it receives. Its RTP side is written directly on pion/rtp so that it
// checks Kefu's media code rather than sharing it.
package testphone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Answer decides what the phone does with an incoming INVITE.
type Answer struct {
	// Code is the final response: 200 answers, anything else rejects, 0 never
	// answers (rings until CANCEL).
	Code int
	// After delays the final response.
	After time.Duration
}

// ReferAnswer decides what the phone does with a REFER.
type ReferAnswer struct {
	// Code is the response to the REFER (202 accepts it).
	Code int
	// Notify, for an accepted REFER, is the status the phone then reports in
	// NOTIFY sipfrag bodies, as if it had called the target: a NOTIFY with
	// "100 Trying" first, then one with Notify. 0 sends no NOTIFY.
	Notify int
}

// Options configure a phone.
type Options struct {
	// Codec is "PCMU" (default) or "PCMA": what the phone offers or picks.
	Codec string
	// Fill is the byte the phone's audio payloads are filled with, so a test can
	// tell whose audio arrived where. Default 0x42.
	Fill byte
	// DTMFPayloadType is the telephone-event PT the phone offers. Default 101.
	DTMFPayloadType uint8
	// Answer is the policy for incoming calls. Default: answer at once.
	Answer func(req *sip.Request) Answer
	// Refer is the policy for REFER received in a call (a blind transfer).
	// Default: 603 Decline.
	Refer func(req *sip.Request) ReferAnswer
	// IP is the loopback address the phone binds to. Default 127.0.0.1.
	IP string
	// Logger; nil discards.
	Logger *slog.Logger
}

// Phone is a test SIP phone listening on a loopback UDP port.
type Phone struct {
	User string
	opts Options
	log  *slog.Logger

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	dua    *sipgo.DialogUA
	addr   netip.AddrPort
	cancel context.CancelFunc
	served chan struct{}

	incoming chan *Call
	mu       sync.Mutex
	calls    map[string]*Call
}

// Start starts a phone for user on 127.0.0.1 at a free port.
func Start(user string, opts Options) (*Phone, error) {
	if opts.Codec == "" {
		opts.Codec = "PCMU"
	}
	if opts.Fill == 0 {
		opts.Fill = 0x42
	}
	if opts.DTMFPayloadType == 0 {
		opts.DTMFPayloadType = 101
	}
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	if opts.Answer == nil {
		opts.Answer = func(*sip.Request) Answer { return Answer{Code: 200} }
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, err := net.ListenPacket("udp", net.JoinHostPort(opts.IP, "0"))
	if err != nil {
		return nil, err
	}
	addr := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("testphone-" + user))
	if err != nil {
		conn.Close()
		return nil, err
	}
	srv, _ := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(log),
		sipgo.WithClientHostname(opts.IP), sipgo.WithClientConnectionAddr(addr.String()))
	if err != nil {
		conn.Close()
		ua.Close()
		return nil, err
	}
	p := &Phone{
		User: user, opts: opts, log: log, ua: ua, srv: srv, client: client, addr: addr,
		incoming: make(chan *Call, 16), calls: map[string]*Call{}, served: make(chan struct{}),
	}
	p.dua = &sipgo.DialogUA{Client: client, ContactHDR: sip.ContactHeader{
		Address: sip.Uri{Scheme: "sip", User: user, Host: opts.IP, Port: int(addr.Port())},
	}}
	srv.OnInvite(p.onInvite)
	srv.OnAck(p.onAck)
	srv.OnBye(p.onBye)
	srv.OnInfo(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	srv.OnRefer(p.onRefer)
	srv.OnNotify(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() {
		defer close(p.served)
		go func() { <-ctx.Done(); conn.Close() }()
		_ = srv.ServeUDP(conn)
	}()
	// Requests leave from the listener only once it is in sipgo's pool.
	for range 200 {
		if c, err := ua.TransportLayer().GetConnection("udp", addr.String()); err == nil && c != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return p, nil
}

// Addr is the phone's SIP address.
func (p *Phone) Addr() netip.AddrPort { return p.addr }

// Close hangs up nothing; it stops the phone's listener and user agent.
func (p *Phone) Close() {
	p.cancel()
	<-p.served
	p.mu.Lock()
	calls := make([]*Call, 0, len(p.calls))
	for _, c := range p.calls {
		calls = append(calls, c)
	}
	p.mu.Unlock()
	for _, c := range calls {
		c.stopMedia()
	}
	p.ua.Close()
}

// Register registers the phone with the registrar at server, answering the
// digest challenge with password. expires 0 unregisters.
func (p *Phone) Register(ctx context.Context, server netip.AddrPort, password string, expires int) (int, error) {
	uri := sip.Uri{Scheme: "sip", User: p.User, Host: server.Addr().String(), Port: int(server.Port())}
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: server.Addr().String(), Port: int(server.Port())})
	req.AppendHeader(&sip.ToHeader{Address: uri, Params: sip.NewParams()})
	from := &sip.FromHeader{Address: uri, Params: sip.NewParams()}
	from.Params.Add("tag", strconv.FormatInt(time.Now().UnixNano(), 36))
	req.AppendHeader(from)
	ct := p.dua.ContactHDR
	req.AppendHeader(&ct)
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	res, err := p.client.Do(ctx, req)
	if err != nil {
		return 0, err
	}
	if res.StatusCode == 401 {
		res, err = p.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: p.User, Password: password})
		if err != nil {
			return 0, err
		}
	}
	return res.StatusCode, nil
}

// StatusError is a final non-2xx response to the phone's INVITE.
type StatusError struct{ Code int }

func (e *StatusError) Error() string { return fmt.Sprintf("call refused with %d", e.Code) }

// Dial calls number at server with the phone's SDP offer, waits for the
// answer and ACKs it. Before the answer, ringing is reported on the returned
// call's Ringing channel, so a test can CANCEL by ending ctx.
func (p *Phone) Dial(ctx context.Context, server netip.AddrPort, number string, hdrs ...sip.Header) (*Call, error) {
	rtpConn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(p.opts.IP), 0)))
	if err != nil {
		return nil, err
	}
	c := newCall(p, rtpConn)
	offer := p.sdp(c.localRTP(), true)
	target := sip.Uri{Scheme: "sip", User: number, Host: server.Addr().String(), Port: int(server.Port())}
	req := sip.NewRequest(sip.INVITE, target)
	req.SetBody(offer)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: p.User, Host: p.opts.IP}, Params: sip.NewParams()}
	from.Params.Add("tag", strconv.FormatInt(time.Now().UnixNano(), 36))
	req.AppendHeader(from)
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	dlg, err := p.dua.WriteInvite(ctx, req)
	if err != nil {
		rtpConn.Close()
		return nil, err
	}
	c.uac = dlg
	c.callID = req.CallID().Value()
	p.track(c)
	err = waitAnswer(ctx, dlg, sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
		if r.StatusCode == 180 || r.StatusCode == 183 {
			c.signalRinging()
		}
		return nil
	}})
	if err != nil {
		p.untrack(c)
		rtpConn.Close()
		var dr *sipgo.ErrDialogResponse
		if errors.As(err, &dr) {
			return nil, &StatusError{Code: dr.Res.StatusCode}
		}
		if res := dlg.InviteResponse; res != nil && res.StatusCode >= 300 {
			return nil, &StatusError{Code: res.StatusCode}
		}
		return nil, err
	}
	if err := c.startMedia(dlg.InviteResponse.Body()); err != nil {
		p.untrack(c)
		return nil, err
	}
	if err := dlg.Ack(ctx); err != nil {
		return nil, err
	}
	c.ctx = dlg.Context()
	return c, nil
}

// DialNoWait sends an INVITE and returns at once; the call's Ringing and the
// returned error channel report progress. Ending ctx sends CANCEL.
func (p *Phone) DialNoWait(ctx context.Context, server netip.AddrPort, number string) (<-chan *Call, <-chan error) {
	calls, errs := make(chan *Call, 1), make(chan error, 1)
	go func() {
		c, err := p.Dial(ctx, server, number)
		if err != nil {
			errs <- err
			return
		}
		calls <- c
	}()
	return calls, errs
}

// Incoming delivers calls the phone answered (or is ringing with).
func (p *Phone) Incoming() <-chan *Call { return p.incoming }

func (p *Phone) track(c *Call) {
	p.mu.Lock()
	p.calls[c.callID] = c
	p.mu.Unlock()
}

func (p *Phone) untrack(c *Call) {
	p.mu.Lock()
	delete(p.calls, c.callID)
	p.mu.Unlock()
}

func (p *Phone) lookup(req *sip.Request) *Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[req.CallID().Value()]
}

func (p *Phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil {
		if _, ok := to.Params.Get("tag"); ok {
			tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", p.sdpFor(req)))
			return
		}
	}
	rtpConn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(p.opts.IP), 0)))
	if err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, 500, "No RTP port", nil))
		return
	}
	dlg, err := p.dua.ReadInvite(req, tx)
	if err != nil {
		rtpConn.Close()
		return
	}
	c := newCall(p, rtpConn)
	c.uas = dlg
	c.callID = req.CallID().Value()
	c.Invite = req
	c.ctx = dlg.Context()
	p.track(c)
	defer func() {
		<-dlg.Context().Done()
		c.stopMedia()
		p.untrack(c)
		dlg.Close()
	}()
	dlg.Respond(180, "Ringing", nil)
	c.signalRinging()
	select {
	case p.incoming <- c:
	default:
	}
	ans := p.opts.Answer(req)
	if ans.After > 0 {
		select {
		case <-time.After(ans.After):
		case <-dlg.Context().Done():
			return
		}
	}
	switch ans.Code {
	case 0:
		<-dlg.Context().Done() // ring until CANCEL
		return
	case 200:
		if err := c.startMedia(req.Body()); err != nil {
			dlg.Respond(488, "Not Acceptable Here", nil)
			return
		}
		if err := dlg.RespondSDP(p.sdp(c.localRTP(), false)); err != nil {
			p.log.Debug("answer failed", "err", err)
		}
		close(c.answered)
	default:
		dlg.Respond(ans.Code, "Rejected", nil)
	}
}

// onRefer answers a REFER in one of the phone's calls by the Refer policy
// and, when it accepts, reports the outcome in NOTIFYs (RFC 3515).
func (p *Phone) onRefer(req *sip.Request, tx sip.ServerTransaction) {
	c := p.lookup(req)
	if c == nil {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	c.mu.Lock()
	c.refers = append(c.refers, req)
	c.mu.Unlock()
	ans := ReferAnswer{Code: 603}
	if p.opts.Refer != nil {
		ans = p.opts.Refer(req)
	}
	reason := "Declined"
	if ans.Code >= 200 && ans.Code < 300 {
		reason = "Accepted"
	}
	tx.Respond(sip.NewResponseFromRequest(req, ans.Code, reason, nil))
	if ans.Code < 200 || ans.Code >= 300 || ans.Notify == 0 {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.notify(ctx, 100, "active;expires=60"); err != nil {
			p.log.Debug("notify failed", "err", err)
			return
		}
		if err := c.notify(ctx, ans.Notify, "terminated;reason=noresource"); err != nil {
			p.log.Debug("notify failed", "err", err)
		}
	}()
}

func (p *Phone) sdpFor(req *sip.Request) []byte {
	if c := p.lookup(req); c != nil {
		return p.sdp(c.localRTP(), false)
	}
	return nil
}

func (p *Phone) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if c := p.lookup(req); c != nil && c.uas != nil {
		c.uas.ReadAck(req, tx)
	}
}

func (p *Phone) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := p.lookup(req)
	if c == nil {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	c.byeReceived.Store(true)
	if c.uas != nil {
		c.uas.ReadBye(req, tx)
	} else {
		c.uac.ReadBye(req, tx)
	}
	c.stopMedia()
	p.untrack(c)
}

// sdp is the phone's offer (all of PCMU, PCMA, telephone-event, with its
// preferred codec first) or its answer (its codec alone).
func (p *Phone) sdp(rtp netip.AddrPort, offer bool) []byte {
	codecs := []string{p.opts.Codec}
	if offer {
		if p.opts.Codec == "PCMU" {
			codecs = append(codecs, "PCMA")
		} else {
			codecs = append(codecs, "PCMU")
		}
	}
	return p.sdpWith(rtp, codecs, "")
}

// sdpWith is the phone's SDP with codecs (PCMU, PCMA, G729) and
// telephone-event, in direction (default sendrecv).
func (p *Phone) sdpWith(rtp netip.AddrPort, codecs []string, direction string) []byte {
	if direction == "" {
		direction = "sendrecv"
	}
	pts := []string{}
	lines := []string{}
	for _, name := range codecs {
		pt := "0"
		switch name {
		case "PCMA":
			pt = "8"
		case "G729":
			pt = "18"
		}
		pts = append(pts, pt)
		lines = append(lines, "a=rtpmap:"+pt+" "+name+"/8000")
	}
	te := strconv.Itoa(int(p.opts.DTMFPayloadType))
	pts = append(pts, te)
	lines = append(lines, "a=rtpmap:"+te+" telephone-event/8000", "a=fmtp:"+te+" 0-16", "a=ptime:20", "a="+direction)
	// Written by hand on purpose: the phone is an independent peer.
	s := "v=0\r\no=phone 1 1 IN IP4 " + p.opts.IP + "\r\ns=-\r\nc=IN IP4 " + p.opts.IP + "\r\nt=0 0\r\n" +
		"m=audio " + strconv.Itoa(int(rtp.Port())) + " RTP/AVP " + strings.Join(pts, " ") + "\r\n" +
		strings.Join(lines, "\r\n") + "\r\n"
	return []byte(s)
}

// waitAnswer is dlg.WaitAnswer with the panic sipgo v1.7.2 raises when the
// INVITE transaction ends while a CANCEL waits for a provisional response
// turned into an error.
func waitAnswer(ctx context.Context, dlg *sipgo.DialogClientSession, opts sipgo.AnswerOptions) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sipgo: waiting for the answer: %v", p)
		}
	}()
	return dlg.WaitAnswer(ctx, opts)
}
