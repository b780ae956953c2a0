// Package sip is Kefu's SIP front end: it answers calls from carrier trunks,
// runs them through IVR flows, registers agents' phones, offers queued calls to
// agents by INVITE and bridges the media, records voicemail, transfers calls
// (REFER or bridged) and calls customers back who asked for it in a queue. It
// is the only package that speaks SIP (through sipgo); media is in sip/media
// and SDP in sip/sdp.
package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"kefu/ivr"
	"kefu/routing"
	"kefu/sip/media"
)

// Config is the SIP front end's configuration.
type Config struct {
	// Listen is the UDP and TCP address to serve SIP on.
	Listen netip.AddrPort
	// Advertise is the IP put in Contact and SDP; zero means the listen IP, or
	// (when listening on 0.0.0.0/::) the local address that routes to each peer.
	Advertise netip.Addr
	// RTPLow and RTPHigh bound the media port range.
	RTPLow, RTPHigh int
	// MediaTimeout ends a call when no RTP arrives for this long; 0 means 30s.
	MediaTimeout time.Duration
	// Trunks are the networks allowed to send INVITEs.
	Trunks []Trunk
	// AccessNumbers maps a dialled number to the flow that answers it.
	AccessNumbers map[string]string
	// DefaultFlow answers numbers not in AccessNumbers; empty means 404.
	DefaultFlow string
	// Agents maps agent id to SIP digest password.
	Agents map[string]string
	// Realm is the digest realm; empty means "kefu".
	Realm string
	// RegisterExpiry caps the registration lifetime; 0 means 1h.
	RegisterExpiry time.Duration
	// UserAgent is the User-Agent/Server header; empty means "Kefu".
	UserAgent string
	// VoicemailDir is where recordings (Call.Record) are written, one folder
	// per mailbox; empty refuses recordings.
	VoicemailDir string
	// CallbackRingTimeout is how long a customer called back is rung; 0
	// means 30s.
	CallbackRingTimeout time.Duration
	// CallbackRetryDelay is how long after an unanswered call-back it is
	// tried again (once); 0 means 2m.
	CallbackRetryDelay time.Duration
	// Logger receives the front end's logs; nil discards them.
	Logger *slog.Logger
}

// Trunk is a named set of networks allowed to deliver calls.
type Trunk struct {
	Name     string
	Networks []netip.Prefix
}

// Flows runs IVR flows; the server asks it for the flow an access number names.
type Flows interface {
	// HasFlow reports whether a flow of that name is loaded.
	HasFlow(name string) bool
	// RunFlow runs the named flow on call until the flow ends or the call does.
	RunFlow(ctx context.Context, name string, call ivr.Call) error
}

// Router is what the front end needs of the call router.
type Router interface {
	Enqueue(ctx context.Context, req routing.CallRequest) (*routing.Ticket, error)
	Answered(ctx context.Context, o routing.Offer) error
	NoAnswer(ctx context.Context, o routing.Offer, reason string) error
	Finished(ctx context.Context, o routing.Offer) error
	Leave(ctx context.Context, callID string) error
	QueueConfig(name string) (routing.QueueConfig, bool)
	// Position is a waiting call's place in its queue and estimated wait.
	Position(ctx context.Context, callID string) (pos int, ewt time.Duration, err error)
	// Callback turns a waiting call into a callback request for number.
	Callback(ctx context.Context, callID, number string) error
}

// Directory tells the router's view of a caller entering a queue: their
// tier and the agent who should serve them first (an account manager, or the
// agent who served them last), if any.
type Directory interface {
	Route(ctx context.Context, number, queue string) Route
}

// Route is how a caller is queued.
type Route struct {
	// Tier is the caller's routing tier.
	Tier string
	// PreferredAgent is offered the call first, for PreferWait (0: the
	// queue's account-manager wait).
	PreferredAgent string
	PreferWait     time.Duration
}

// Prompts is the prompt catalogue.
type Prompts interface {
	Get(name string) (*media.Prompt, bool)
}

// Deps are the other parts of Kefu the front end works with.
type Deps struct {
	Flows     Flows
	Router    Router
	Directory Directory
	Prompts   Prompts
	// OnRegistration is told when an agent's phone registers (true) or its last
	// registration ends (false). May be nil.
	OnRegistration func(agentID string, registered bool)
}

// Server is the SIP front end. Create it with New, run it with Serve; Drain
// stops taking calls, HangupAll ends the ones in progress.
type Server struct {
	cfg   Config
	deps  Deps
	log   *slog.Logger
	stack *slog.Logger // for sipgo's own messages

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	dialog *sipgo.DialogUA
	ports  *media.PortPool
	reg    *registrar
	calls  *registry
	beep   *media.Prompt // played before a recording
	stats  serverStats   // responses sent, media totals (Stats)

	draining atomic.Bool
	bg       sync.WaitGroup // work that outlives a call: cancelling an agent's phone
	// stopCalls ends every call at once (SIGINT); its cause is errShutdown.
	stopCtx   context.Context
	stopCalls context.CancelCauseFunc

	mu        sync.Mutex
	listeners []net.Addr
}

// New builds a server; nothing listens until Serve.
func New(cfg Config, deps Deps) (*Server, error) {
	if deps.Flows == nil || deps.Router == nil || deps.Prompts == nil {
		return nil, errors.New("sip: flows, router and prompts are required")
	}
	if cfg.MediaTimeout == 0 {
		cfg.MediaTimeout = 30 * time.Second
	}
	if cfg.Realm == "" {
		cfg.Realm = "kefu"
	}
	if cfg.RegisterExpiry == 0 {
		cfg.RegisterExpiry = time.Hour
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "Kefu"
	}
	if cfg.CallbackRingTimeout == 0 {
		cfg.CallbackRingTimeout = 30 * time.Second
	}
	if cfg.CallbackRetryDelay == 0 {
		cfg.CallbackRetryDelay = 2 * time.Minute
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mediaIP := cfg.Advertise
	if !mediaIP.IsValid() {
		mediaIP = cfg.Listen.Addr()
	}
	ports, err := media.NewPortPool(bindAddr(mediaIP), cfg.RTPLow, cfg.RTPHigh)
	if err != nil {
		return nil, fmt.Errorf("sip: rtp ports: %w", err)
	}
	stackLog := log.With("stack", "sipgo")
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgentTransactionLayerOptions(
			sipmsg.WithTransactionLayerLogger(stackLog),
			// Retransmitted 2xx after the client transaction ended: ignored quietly.
			sipmsg.WithTransactionLayerUnhandledResponseHandler(func(*sipmsg.Response) {}),
		),
		sipgo.WithUserAgentTransportLayerOptions(sipmsg.WithTransportLayerLogger(stackLog)),
	)
	if err != nil {
		return nil, fmt.Errorf("sip: user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(stackLog))
	if err != nil {
		ua.Close()
		return nil, fmt.Errorf("sip: server: %w", err)
	}
	// The client is built again in Serve once the listener is bound, so that
	// requests leave from the listening socket; this one serves until then.
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(stackLog))
	if err != nil {
		ua.Close()
		return nil, fmt.Errorf("sip: client: %w", err)
	}
	s := &Server{
		cfg:    cfg,
		deps:   deps,
		log:    log,
		stack:  stackLog,
		ua:     ua,
		srv:    srv,
		client: client,
		ports:  ports,
		calls:  newRegistry(),
		beep:   media.NewPrompt("kefu-beep", media.Tone(beepHz, beepLength, beepAmplitude)),
	}
	s.stopCtx, s.stopCalls = context.WithCancelCause(context.Background())
	s.dialog = &sipgo.DialogUA{
		Client:     client,
		ContactHDR: s.contact(cfg.Listen.Addr()),
	}
	s.reg = newRegistrar(cfg.Agents, cfg.Realm, cfg.RegisterExpiry, log, deps.OnRegistration)

	// Every handler's transaction counts the responses sent on it (Stats).
	srv.OnInvite(s.counted(s.onInvite))
	srv.OnAck(s.counted(s.onAck))
	srv.OnBye(s.counted(s.inDialog(dialog.onBye)))
	srv.OnCancel(s.counted(s.onCancel))
	srv.OnOptions(s.counted(s.onOptions))
	srv.OnInfo(s.counted(s.inDialog(dialog.onInfo)))
	srv.OnNotify(s.counted(s.inDialog(dialog.onNotify)))
	srv.OnRegister(s.counted(s.reg.onRegister))
	srv.OnNoRoute(s.counted(s.onOther))
	return s, nil
}

// bindAddr is where media sockets bind: the advertised IP when it is local,
// otherwise every address.
func bindAddr(ip netip.Addr) netip.Addr {
	if ip.IsUnspecified() || !ip.IsValid() {
		return netip.IPv4Unspecified()
	}
	return ip
}

// contact is our Contact header for dialogs, with host as its address.
func (s *Server) contact(host netip.Addr) sipmsg.ContactHeader {
	h := host
	if h.IsUnspecified() && s.cfg.Advertise.IsValid() {
		h = s.cfg.Advertise
	}
	return sipmsg.ContactHeader{Address: sipmsg.Uri{
		Scheme: "sip",
		User:   "kefu",
		Host:   h.String(),
		Port:   int(s.cfg.Listen.Port()),
	}}
}

// listen opens the UDP and TCP listeners on the configured address. With
// port 0 the OS picks the UDP port and TCP takes the same one; when another
// process holds that port for TCP, a new one is picked (a few times).
func (s *Server) listen(ctx context.Context) (net.PacketConn, net.Listener, error) {
	lc := net.ListenConfig{}
	for attempt := 1; ; attempt++ {
		udp, err := lc.ListenPacket(ctx, "udp", s.cfg.Listen.String())
		if err != nil {
			return nil, nil, fmt.Errorf("sip: listen udp %s: %w (is another SIP server running? choose another address with -sip)", s.cfg.Listen, err)
		}
		tcpAddr := s.cfg.Listen.String()
		if s.cfg.Listen.Port() == 0 {
			tcpAddr = udp.LocalAddr().String() // same port for both when picked by the OS
		}
		tcp, err := lc.Listen(ctx, "tcp", tcpAddr)
		if err == nil {
			return udp, tcp, nil
		}
		udp.Close()
		if s.cfg.Listen.Port() != 0 || !errors.Is(err, syscall.EADDRINUSE) || attempt == 5 {
			return nil, nil, fmt.Errorf("sip: listen tcp %s: %w (is another SIP server running? choose another address with -sip)", tcpAddr, err)
		}
	}
}

// Serve listens on UDP and TCP at the configured address and serves until ctx
// ends. ready, if not nil, is called once both listeners are bound.
func (s *Server) Serve(ctx context.Context, ready func(udp, tcp net.Addr)) error {
	udp, tcp, err := s.listen(ctx)
	if err != nil {
		return err
	}
	if s.cfg.Listen.Port() == 0 {
		// Tests listen on port 0: from now on advertise the port we got.
		port := udp.LocalAddr().(*net.UDPAddr).Port
		s.cfg.Listen = netip.AddrPortFrom(s.cfg.Listen.Addr(), uint16(port))
	}
	// Requests leave from the listening socket (sipgo finds it in its pool by
	// the socket's own address string), with our address in Via.
	c, err := sipgo.NewClient(s.ua, sipgo.WithClientLogger(s.stack),
		sipgo.WithClientHostname(s.primaryIP().String()),
		sipgo.WithClientPort(int(s.cfg.Listen.Port())),
		sipgo.WithClientConnectionAddr(udp.LocalAddr().String()))
	if err != nil {
		udp.Close()
		tcp.Close()
		return fmt.Errorf("sip: client: %w", err)
	}
	s.client = c
	s.dialog.Client = c
	s.mu.Lock()
	s.listeners = []net.Addr{udp.LocalAddr(), tcp.Addr()}
	s.mu.Unlock()

	errc := make(chan error, 2)
	go func() { errc <- s.srv.ServeUDP(udp) }()
	go func() { errc <- s.srv.ServeTCP(tcp) }()
	// Requests we send leave from the UDP listener only once sipgo has put it
	// in its connection pool, which ServeUDP does on its own goroutine.
	waitListening(s.ua, udp.LocalAddr().String())
	s.dialog.ContactHDR = s.contact(s.primaryIP())
	s.log.Info("sip listening", "udp", udp.LocalAddr().String(), "tcp", tcp.Addr().String())
	if ready != nil {
		ready(udp.LocalAddr(), tcp.Addr())
	}
	// A serve loop that returns before ctx ends has lost its socket, whatever
	// it returned (sipgo's UDP loop returns nil on a read error).
	returned := 0
	select {
	case <-ctx.Done():
	case err = <-errc:
		returned++
		if err == nil {
			err = errors.New("listener stopped")
		}
	}
	udp.Close()
	tcp.Close()
	for ; returned < 2; returned++ {
		<-errc
	}
	if ctx.Err() == nil {
		return fmt.Errorf("sip: serve: %w", err)
	}
	return nil
}

// waitListening waits (briefly) until the UDP listener at addr is in the user
// agent's connection pool.
func waitListening(ua *sipgo.UserAgent, addr string) {
	for range 200 {
		if c, err := ua.TransportLayer().GetConnection("udp", addr); err == nil && c != nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Drain stops taking new calls: INVITEs get 503 Service Unavailable with
// Retry-After. Calls in progress go on.
func (s *Server) Drain() {
	s.calls.drain()
	if !s.draining.Swap(true) {
		s.log.Info("draining: new calls get 503", "calls", s.calls.len())
	}
}

// WaitIdle blocks until no call is in progress or ctx ends.
func (s *Server) WaitIdle(ctx context.Context) error {
	return s.calls.waitEmpty(ctx)
}

// HangupAll ends every call in progress with BYE (or a final response for
// calls not yet answered).
func (s *Server) HangupAll() {
	s.stopCalls(errShutdown)
}

// Close releases the server's resources. Call it after Serve has returned and
// the calls have ended; it is idempotent.
func (s *Server) Close() error {
	s.stopCalls(errShutdown)
	s.reg.close()
	err := s.ua.Close() // ends pending transactions, so background work returns
	s.bg.Wait()
	return err
}

// Calls lists the calls in progress.
func (s *Server) Calls() []CallInfo { return s.calls.snapshot() }

// Registered reports whether the agent's phone has a live registration.
func (s *Server) Registered(agentID string) bool {
	_, ok := s.reg.lookup(agentID)
	return ok
}

// Registrations lists live registrations by agent id.
func (s *Server) Registrations() map[string]Registration { return s.reg.snapshot() }

// Addrs returns the bound listener addresses (UDP, TCP) once serving.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]net.Addr(nil), s.listeners...)
}

// onOptions answers keep-alive and capability probes.
func (s *Server) onOptions(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if s.draining.Load() && !hasToTag(req) {
		// Trunks that probe with OPTIONS fail over before sending calls.
		s.reply(req, tx, sipmsg.StatusServiceUnavailable, "Service Unavailable", sipmsg.NewHeader("Retry-After", "30"))
		return
	}
	res := sipmsg.NewResponseFromRequest(req, sipmsg.StatusOK, "OK", nil)
	res.AppendHeader(sipmsg.NewHeader("Allow", s.allow()))
	res.AppendHeader(sipmsg.NewHeader("Accept", "application/sdp, application/dtmf-relay, application/dtmf"))
	s.respond(tx, res)
}

func (s *Server) allow() string {
	return strings.Join([]string{"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "NOTIFY", "REGISTER"}, ", ")
}

// onAck routes the ACK for our 2xx to its call.
func (s *Server) onAck(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if d := s.calls.lookup(req); d != nil {
		d.onAck(req, tx)
	}
	// ACKs for non-2xx are absorbed by the transaction layer; stray ones are dropped.
}

// inDialog routes a request (BYE, INFO, NOTIFY) to the call or placed leg whose dialog
// it belongs to, and answers 481 when there is none.
func (s *Server) inDialog(handle func(d dialog, req *sipmsg.Request, tx sipmsg.ServerTransaction)) sipgo.RequestHandler {
	return func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		d := s.calls.lookup(req)
		if d == nil {
			s.noDialog(req, tx)
			return
		}
		handle(d, req, tx)
	}
}

// noDialog answers 481: the request names a dialog we do not have.
func (s *Server) noDialog(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	s.reply(req, tx, sipmsg.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
}

// onCancel sees only CANCELs that matched no pending INVITE (the transaction
// layer answers the others with 200 and 487).
func (s *Server) onCancel(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	s.noDialog(req, tx)
}

// onOther answers methods Kefu does not handle: 481 inside a dialog we do not
// know, 501 inside one we do, 405 outside dialogs.
func (s *Server) onOther(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if hasToTag(req) {
		if s.calls.lookup(req) == nil {
			s.noDialog(req, tx)
			return
		}
		s.reply(req, tx, sipmsg.StatusNotImplemented, "Not Implemented")
		return
	}
	res := sipmsg.NewResponseFromRequest(req, sipmsg.StatusMethodNotAllowed, "Method Not Allowed", nil)
	res.AppendHeader(sipmsg.NewHeader("Allow", s.allow()))
	s.respond(tx, res)
}

// reply sends a bodiless response.
func (s *Server) reply(req *sipmsg.Request, tx sipmsg.ServerTransaction, code int, reason string, hdrs ...sipmsg.Header) {
	res := sipmsg.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	s.respond(tx, res)
}

func (s *Server) respond(tx sipmsg.ServerTransaction, res *sipmsg.Response) {
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip: respond failed", "status", res.StatusCode, "err", err)
	}
}

func hasToTag(req *sipmsg.Request) bool {
	to := req.To()
	if to == nil {
		return false
	}
	_, ok := to.Params.Get("tag")
	return ok
}

// trunkFor returns the trunk a source address belongs to.
func (s *Server) trunkFor(src string) (string, bool) {
	ap, err := netip.ParseAddrPort(src)
	if err != nil {
		return "", false
	}
	ip := ap.Addr().Unmap()
	for _, t := range s.cfg.Trunks {
		for _, n := range t.Networks {
			if n.Contains(ip) {
				return t.Name, true
			}
		}
	}
	return "", false
}

// flowFor returns the flow answering a dialled number.
func (s *Server) flowFor(number string) (string, bool) {
	if f, ok := s.cfg.AccessNumbers[number]; ok {
		return f, true
	}
	if s.cfg.DefaultFlow != "" {
		return s.cfg.DefaultFlow, true
	}
	return "", false
}

// primaryIP is the address put in Via and Contact when no peer is in view:
// the advertised or listen IP, or the local address of the default route.
func (s *Server) primaryIP() netip.Addr {
	// 192.0.2.1 (TEST-NET-1) only selects a route: no packet is sent.
	return s.localIPFor(netip.MustParseAddr("192.0.2.1"))
}

// localIPFor is the address peers should send to: the advertised or listen IP,
// or the local address that routes to the peer.
func (s *Server) localIPFor(peer netip.Addr) netip.Addr {
	if s.cfg.Advertise.IsValid() {
		return s.cfg.Advertise
	}
	if ip := s.cfg.Listen.Addr(); !ip.IsUnspecified() {
		return ip
	}
	// A connected UDP socket sends nothing but tells which source the kernel picks.
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(peer, 9)))
	if err == nil {
		defer c.Close()
		if la, ok := c.LocalAddr().(*net.UDPAddr); ok {
			if ip, ok := netip.AddrFromSlice(la.IP); ok {
				return ip.Unmap()
			}
		}
	}
	return netip.MustParseAddr("127.0.0.1")
}

// release closes a media socket that never became a session and returns its
// port to the pool.
func (s *Server) release(conn *net.UDPConn) {
	port := localPort(conn)
	conn.Close()
	s.ports.Release(int(port))
}

func localPort(conn *net.UDPConn) uint16 {
	return conn.LocalAddr().(*net.UDPAddr).AddrPort().Port()
}

// SetStackLogger sends the SIP stack's (sipgo's) process-wide log output,
// which it otherwise writes to slog's default logger, to log. Call it once at
// program start.
func SetStackLogger(log *slog.Logger) {
	sipmsg.SetDefaultLogger(log)
}

// Errors that end calls, logged as the call's end cause.
var (
	errShutdown     = errors.New("kefu is shutting down")
	errMediaTimeout = errors.New("no RTP received within the media timeout")
	errNoAck        = errors.New("no ACK for our 200 OK")
)

var _ ivr.Call = (*call)(nil)
