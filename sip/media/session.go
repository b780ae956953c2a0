package media

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"kefu/sip/sdp"
)

// ErrClosed is returned by Play and Bridge when the session is closed.
var ErrClosed = errors.New("media: session closed")

// Payload type of comfort noise (RFC 3389), accepted and ignored.
const ptCN = 13

// maxLagFrames: the pacer catches up (sends at once) when it is at most this
// many frames late, and skips ahead beyond that.
const maxLagFrames = 3

// dtmfExpireEvery is how often the pacer checks for DTMF events whose end
// packets were lost.
const dtmfExpireEvery = 100 * time.Millisecond

// Config configures one RTP leg.
type Config struct {
	// Conn is the leg's RTP socket, usually from PortPool.Listen. The
	// Session owns it from NewSession on (even when NewSession fails) and
	// closes it. Required.
	Conn *net.UDPConn
	// Pool, if set, gets Conn's port back (Release) when the Session is
	// closed or NewSession fails. Default nil: nothing to release.
	Pool *PortPool
	// Remote is where to send RTP, from the peer's SDP. The zero value
	// (unknown) or an unspecified address (0.0.0.0, hold) means "do not send
	// yet"; see SetRemote.
	Remote netip.AddrPort
	// Codec is the negotiated audio codec and payload type for sending. It
	// must be PCMU or PCMA. Received audio may use either PT 0 or PT 8.
	Codec sdp.Codec
	// DTMFPayloadType is the negotiated telephone-event payload type, used
	// to receive and to relay DTMF; 0 (default) = none.
	DTMFPayloadType uint8
	// SymmetricRTP latches Remote to the source address of the first valid
	// RTP packet (for peers behind NAT). Default false: packets are accepted
	// only from Remote's IP address.
	SymmetricRTP bool
	// Totals, if set, also counts this session's packets in and out, late
	// frames and digits, summed with every other session given the same
	// Totals (the SIP server's process-wide figures). Default nil: only
	// Stats counts.
	Totals *Totals
	// Logger receives the session's logs; nil = discard.
	Logger *slog.Logger
}

// Digit is one key press, reported once.
type Digit struct {
	Key    rune      // 0-9 * # A-D
	Source string    // SourceRFC4733 or SourceInfo
	At     time.Time // when it was reported
}

// Stats are a session's counters since NewSession.
type Stats struct {
	PacketsIn     uint64 // RTP packets accepted from the peer (any payload type)
	BytesIn       uint64 // their size on the wire (RTP header included)
	DTMFPacketsIn uint64 // telephone-event packets among PacketsIn
	DTMFIn        uint64 // digits reported on Digits (RTP and INFO)
	DTMFDropped   uint64 // digits dropped because nobody read Digits
	PacketsOut    uint64 // RTP packets sent (prompts, silence, relayed)
	BytesOut      uint64 // their size on the wire
	Relayed       uint64 // packets sent that were relayed from the bridge peer
	LateFrames    uint64 // frames the pacer skipped because it fell behind
	Malformed     uint64 // datagrams dropped: not RTP version 2, or unparsable
	Foreign       uint64 // packets dropped: not from the expected remote
	UnknownPT     uint64 // packets accepted but ignored: unknown payload type
	SendErrors    uint64 // failed socket writes
}

// packetConn is the part of *net.UDPConn a Session uses (a fake in tests).
type packetConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
	LocalAddr() net.Addr
	Close() error
}

// Session is the RTP media of one call leg: one UDP socket, a reader
// goroutine and a pacer goroutine.
//
// The pacer sends a 20 ms frame on an absolute schedule (start + n*20 ms):
// the current prompt's next frame, or silence when nothing plays, or
// nothing while the leg is bridged (the relay sends then). It does not send
// until a remote address is known. The stream has one random SSRC, random
// initial sequence number and timestamp, and stays continuous across
// prompts, silence and bridges: the sequence number grows by one per packet
// and the timestamp follows the wall clock (after a gap it advances by the
// elapsed time rounded to 160 samples). The marker bit is set on the first
// packet of each prompt and on the first relayed packet of a bridge.
type Session struct {
	conn      packetConn
	pool      *PortPool
	local     netip.AddrPort
	log       *slog.Logger
	codec     sdp.Codec
	alaw      bool
	dtmfPT    uint8
	symmetric bool
	maxLag    int64 // frames; a test hook

	remoteMu sync.Mutex
	remote   netip.AddrPort
	latched  bool

	// Sender state: everything that goes out is serialised by sendMu.
	sendMu sync.Mutex
	ssrc   uint32
	seq    uint16
	ts0    uint32 // first timestamp
	lastTS uint32
	lastAt time.Time // when lastTS went out (slot time for the pacer)
	sent   bool
	bridge *bridgeState // non-nil while bridged: the relay owns the stream
	buf    [1500]byte
	xbuf   [1500]byte // transcoded payload

	bridged atomic.Bool             // claimed by a Bridge
	peer    atomic.Pointer[Session] // where this leg's reader relays to
	tap     atomic.Pointer[Tap]     // where this leg's reader copies received audio

	playSem chan struct{} // one Play at a time
	playMu  sync.Mutex
	cur     *playback

	dtmfMu       sync.Mutex
	dec          DTMFDecoder
	merge        digitMerger
	digits       chan Digit
	digitsClosed bool

	lastRx atomic.Int64 // unix nanoseconds of the last accepted packet
	st     counters
	totals *Totals // shared with other sessions; may be nil

	lifeMu    sync.Mutex
	started   bool
	closed    bool
	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

type counters struct {
	packetsIn, bytesIn, dtmfPacketsIn, dtmfIn, dtmfDropped atomic.Uint64
	packetsOut, bytesOut, relayed, lateFrames              atomic.Uint64
	malformed, foreign, unknownPT, sendErrors              atomic.Uint64
}

// NewSession creates a leg on cfg.Conn. Call Start to run it and Close to
// end it. On error cfg.Conn is closed and its port released to cfg.Pool.
func NewSession(cfg Config) (*Session, error) {
	if cfg.Conn == nil {
		return nil, errors.New("media: session: Config.Conn is nil")
	}
	s, err := newSession(cfg, cfg.Conn)
	if err != nil {
		_ = cfg.Conn.Close()
		if cfg.Pool != nil {
			cfg.Pool.Release(int(udpAddrPort(cfg.Conn.LocalAddr()).Port()))
		}
		return nil, err
	}
	return s, nil
}

func newSession(cfg Config, conn packetConn) (*Session, error) {
	c := cfg.Codec
	if !c.IsPCMU() && !c.IsPCMA() || (c.ClockRate != 0 && c.ClockRate != SampleRate) || c.PayloadType > 127 {
		return nil, fmt.Errorf("media: session: codec %+v is not PCMU/8000 or PCMA/8000", c)
	}
	if te := cfg.DTMFPayloadType; te != 0 && (te > 127 || te == c.PayloadType || te == 0 || te == 8 || te == ptCN) {
		return nil, fmt.Errorf("media: session: telephone-event payload type %d clashes with audio or CN", te)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	local := udpAddrPort(conn.LocalAddr())
	s := &Session{
		conn:      conn,
		pool:      cfg.Pool,
		local:     local,
		log:       log.With("rtp_local", local.String()),
		codec:     c,
		alaw:      c.IsPCMA(),
		dtmfPT:    cfg.DTMFPayloadType,
		symmetric: cfg.SymmetricRTP,
		totals:    cfg.Totals,
		maxLag:    maxLagFrames,
		remote:    unmapAP(cfg.Remote),
		ssrc:      rand.Uint32(),         //nolint:gosec // RTP identifiers need not be cryptographic
		seq:       uint16(rand.Uint32()), //nolint:gosec // idem
		ts0:       rand.Uint32(),         //nolint:gosec // idem
		playSem:   make(chan struct{}, 1),
		digits:    make(chan Digit, 64),
		done:      make(chan struct{}),
	}
	return s, nil
}

func udpAddrPort(a net.Addr) netip.AddrPort {
	if ua, ok := a.(*net.UDPAddr); ok {
		return unmapAP(ua.AddrPort())
	}
	return netip.AddrPort{}
}

func unmapAP(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// Start starts the reader and pacer goroutines. It does nothing if the
// session is already started or closed.
func (s *Session) Start() {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.started || s.closed {
		return
	}
	s.started = true
	s.wg.Go(s.readLoop)
	s.wg.Go(s.paceLoop)
}

// Close stops the goroutines, waits for them, closes the socket, releases
// the port to the pool and closes the Digits channel. Plays and Bridges in
// progress return ErrClosed. It is idempotent: later calls return the
// first call's result.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.lifeMu.Lock()
		s.closed = true
		close(s.done)
		s.lifeMu.Unlock()
		// Closing the socket is what unblocks the reader.
		if err := s.conn.Close(); err != nil {
			s.closeErr = fmt.Errorf("media: close %s: %w", s.local, err)
		}
		s.wg.Wait()
		if s.pool != nil {
			s.pool.Release(int(s.local.Port()))
		}
		s.dtmfMu.Lock()
		s.digitsClosed = true
		close(s.digits)
		s.dtmfMu.Unlock()
	})
	return s.closeErr
}

// LocalAddr is the socket's local address (for our SDP).
func (s *Session) LocalAddr() netip.AddrPort { return s.local }

// SetRemote changes where RTP is sent (after a re-INVITE). The zero value or
// an unspecified address stops sending. With SymmetricRTP the session
// latches again on the next valid packet.
func (s *Session) SetRemote(addr netip.AddrPort) {
	s.remoteMu.Lock()
	s.remote = unmapAP(addr)
	s.latched = false
	s.remoteMu.Unlock()
}

// Remote is where RTP is currently sent (zero if unknown).
func (s *Session) Remote() netip.AddrPort {
	s.remoteMu.Lock()
	defer s.remoteMu.Unlock()
	return s.remote
}

// sendable reports whether RTP can be sent to addr.
func sendable(addr netip.AddrPort) bool {
	return addr.IsValid() && !addr.Addr().IsUnspecified() && addr.Port() != 0
}

// Digits delivers each key press once, from RFC 4733 packets or InjectDigit.
// The channel is buffered (64); when it is full, digits are dropped and
// counted in Stats.DTMFDropped. It is closed by Close.
func (s *Session) Digits() <-chan Digit { return s.digits }

// InjectDigit reports a digit received by SIP INFO (source SourceInfo). A
// digit of the same key reported from the other source within
// DTMFMergeWindow is a duplicate (gateways send both) and is dropped.
func (s *Session) InjectDigit(key rune, source string) {
	s.dtmfMu.Lock()
	defer s.dtmfMu.Unlock()
	s.emitLocked(key, source, time.Now())
}

// emitLocked delivers a digit; s.dtmfMu must be held.
func (s *Session) emitLocked(key rune, source string, now time.Time) {
	if s.digitsClosed || !s.merge.accept(key, source, now) {
		return
	}
	select {
	case s.digits <- Digit{Key: key, Source: source, At: now}:
		s.st.dtmfIn.Add(1)
		s.totals.addDigit(source)
	default:
		s.st.dtmfDropped.Add(1)
		s.log.Warn("DTMF digit dropped: Digits channel full", "key", string(key), "source", source)
	}
}

// LastReceived is when the last RTP packet from the peer was accepted; zero
// if none yet. The SIP layer's no-RTP watchdog polls it.
func (s *Session) LastReceived() time.Time {
	ns := s.lastRx.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// Stats returns a snapshot of the counters.
func (s *Session) Stats() Stats {
	return Stats{
		PacketsIn:     s.st.packetsIn.Load(),
		BytesIn:       s.st.bytesIn.Load(),
		DTMFPacketsIn: s.st.dtmfPacketsIn.Load(),
		DTMFIn:        s.st.dtmfIn.Load(),
		DTMFDropped:   s.st.dtmfDropped.Load(),
		PacketsOut:    s.st.packetsOut.Load(),
		BytesOut:      s.st.bytesOut.Load(),
		Relayed:       s.st.relayed.Load(),
		LateFrames:    s.st.lateFrames.Load(),
		Malformed:     s.st.malformed.Load(),
		Foreign:       s.st.foreign.Load(),
		UnknownPT:     s.st.unknownPT.Load(),
		SendErrors:    s.st.sendErrors.Load(),
	}
}

// SSRC is the synchronisation source of the packets this leg sends.
func (s *Session) SSRC() uint32 { return s.ssrc }

// nextTS returns the timestamp for a packet sent at at: the first one is
// ts0; later ones advance by the elapsed time since the last packet,
// rounded to whole frames, and by at least one frame. sendMu must be held.
func (s *Session) nextTS(at time.Time) uint32 {
	if !s.sent {
		return s.ts0
	}
	k := (at.Sub(s.lastAt) + FrameDuration/2) / FrameDuration
	if k < 1 {
		k = 1
	}
	return s.lastTS + uint32(k)*FrameSamples //nolint:gosec // wraps by design
}

// writePacket sends one RTP packet; sendMu must be held.
func (s *Session) writePacket(pt uint8, marker bool, ts uint32, payload []byte, to netip.AddrPort, at time.Time) {
	s.seq++
	hdr := rtp.Header{
		Version:        2,
		Marker:         marker,
		PayloadType:    pt,
		SequenceNumber: s.seq,
		Timestamp:      ts,
		SSRC:           s.ssrc,
	}
	n, err := hdr.MarshalTo(s.buf[:])
	if err != nil || n+len(payload) > len(s.buf) {
		s.st.sendErrors.Add(1)
		return
	}
	n += copy(s.buf[n:], payload)
	if !s.sent || int32(ts-s.lastTS) > 0 { //nolint:gosec // serial-number arithmetic
		s.lastTS = ts
	}
	s.sent = true
	s.lastAt = at
	if _, err := s.conn.WriteToUDPAddrPort(s.buf[:n], to); err != nil {
		if s.st.sendErrors.Add(1) == 1 {
			s.log.Debug("RTP send failed", "remote", to.String(), "err", err)
		}
		return
	}
	s.st.packetsOut.Add(1)
	s.totals.addPacketOut()
	s.st.bytesOut.Add(uint64(n)) //nolint:gosec // n >= 0
}
