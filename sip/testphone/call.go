package testphone

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
)

// Packet is an RTP packet the phone received.
type Packet struct {
	At          time.Time
	PayloadType uint8
	Seq         uint16
	Timestamp   uint32
	SSRC        uint32
	Marker      bool
	Payload     []byte
}

// Call is one call on the phone, placed or answered.
type Call struct {
	phone  *Phone
	callID string
	uac    *sipgo.DialogClientSession
	uas    *sipgo.DialogServerSession
	ctx    context.Context
	// Invite is the INVITE an answered call came with.
	Invite *sip.Request

	ringing     chan struct{}
	ringOnce    sync.Once
	answered    chan struct{} // closed once an answered call's 200 is written
	byeReceived atomic.Bool

	conn     *net.UDPConn
	remote   netip.AddrPort
	audioPT  uint8
	dtmfPT   uint8
	ssrc     uint32
	seq      uint16
	ts       uint32
	sendMu   sync.Mutex
	stop     chan struct{}
	stopOnce sync.Once
	startMu  sync.Mutex // orders startMedia and stopMedia
	wg       sync.WaitGroup
	muted    atomic.Bool
	payload  atomic.Pointer[[]byte] // audio sent every 20 ms; nil: the phone's fill

	mu       sync.Mutex
	received []Packet
	refers   []*sip.Request
}

func newCall(p *Phone, conn *net.UDPConn) *Call {
	return &Call{
		phone: p, conn: conn, ringing: make(chan struct{}), answered: make(chan struct{}), stop: make(chan struct{}),
		ssrc: rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32(),
	}
}

func (c *Call) localRTP() netip.AddrPort { return c.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (c *Call) signalRinging() { c.ringOnce.Do(func() { close(c.ringing) }) }

// Ringing is closed when the call has rung (180/183 seen or sent).
func (c *Call) Ringing() <-chan struct{} { return c.ringing }

// Done is closed when the call's dialog ends.
func (c *Call) Done() <-chan struct{} { return c.ctx.Done() }

// HungUpByPeer reports whether the other side sent BYE.
func (c *Call) HungUpByPeer() bool { return c.byeReceived.Load() }

// Header returns a header of the INVITE an answered call came with.
func (c *Call) Header(name string) string {
	if c.Invite == nil {
		return ""
	}
	if h := c.Invite.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// CallID is the call's SIP Call-ID.
func (c *Call) CallID() string { return c.callID }

// RemoteContact is the Contact the other side gave in its 2xx (placed calls)
// or INVITE (answered calls).
func (c *Call) RemoteContact() string {
	if c.uac != nil && c.uac.InviteResponse != nil && c.uac.InviteResponse.Contact() != nil {
		return c.uac.InviteResponse.Contact().Address.String()
	}
	if c.Invite != nil && c.Invite.Contact() != nil {
		return c.Invite.Contact().Address.String()
	}
	return ""
}

// ReInvite sends a re-INVITE with the phone's SDP (a session refresh, as phones
// do for hold or timers) and returns the response code.
func (c *Call) ReInvite(ctx context.Context) (int, error) {
	res, err := c.ReInviteOffer(ctx, Offer{})
	if err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}

// Offer is what the phone offers in a re-INVITE.
type Offer struct {
	// Direction is the stream's direction attribute: sendrecv (default),
	// sendonly (hold), recvonly or inactive.
	Direction string
	// Codecs are the audio codecs by name, in order: PCMU, PCMA or G729.
	// Default: the phone's codec.
	Codecs []string
}

// ReInviteOffer sends a re-INVITE with offer and returns the final response;
// a 2xx is acknowledged. On an answered call it waits for the phone's 200.
func (c *Call) ReInviteOffer(ctx context.Context, offer Offer) (*sip.Response, error) {
	var target sip.Uri
	if c.uas != nil {
		select { // the dialog is ours to use once the 200 is written
		case <-c.answered:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		target = c.uas.InviteRequest.Contact().Address
	} else {
		target = c.uac.InviteResponse.Contact().Address
	}
	codecs := offer.Codecs
	if len(codecs) == 0 {
		codecs = []string{c.phone.opts.Codec}
	}
	req := sip.NewRequest(sip.INVITE, *target.Clone())
	req.SetBody(c.phone.sdpWith(c.localRTP(), codecs, offer.Direction))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	var res *sip.Response
	var err error
	if c.uas != nil {
		res, err = c.uas.Do(ctx, req)
	} else {
		res, err = c.uac.Do(ctx, req)
	}
	if err != nil {
		return nil, err
	}
	if res.IsSuccess() {
		ack := sip.NewRequest(sip.ACK, *target.Clone()) // the dialog fills in CSeq
		if c.uas != nil {
			_ = c.uas.WriteRequest(ack)
		} else {
			_ = c.uac.WriteRequest(ack)
		}
	}
	return res, nil
}

// RemoteSDP is the other side's SDP from the call's INVITE exchange: the
// answer in its 2xx (placed calls) or the offer in its INVITE (answered
// calls).
func (c *Call) RemoteSDP() []byte {
	if c.uac != nil && c.uac.InviteResponse != nil {
		return c.uac.InviteResponse.Body()
	}
	if c.Invite != nil {
		return c.Invite.Body()
	}
	return nil
}

// Hangup sends BYE.
func (c *Call) Hangup(ctx context.Context) error {
	defer c.stopMedia()
	defer c.phone.untrack(c)
	if c.uac != nil {
		return c.uac.Bye(ctx)
	}
	return c.uas.Bye(ctx)
}

// Mute stops (true) or resumes (false) the phone's audio.
func (c *Call) Mute(m bool) { c.muted.Store(m) }

// SetPayload changes the audio the phone sends from the next packet on: p
// (160 bytes of the call's codec) every 20 ms. nil goes back to the
// phone's fill byte.
func (c *Call) SetPayload(p []byte) {
	if p == nil {
		c.payload.Store(nil)
		return
	}
	b := bytes.Clone(p)
	c.payload.Store(&b)
}

// AudioPT is the payload type the phone sends audio with (0 PCMU, 8 PCMA).
func (c *Call) AudioPT() uint8 { return c.audioPT }

// Refers returns the REFER requests the call received.
func (c *Call) Refers() []*sip.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*sip.Request(nil), c.refers...)
}

// notify sends a NOTIFY for a REFER in the call's dialog, reporting code
// in a message/sipfrag body with the given Subscription-State.
func (c *Call) notify(ctx context.Context, code int, state string) error {
	var target sip.Uri
	if c.uac != nil {
		target = c.uac.InviteResponse.Contact().Address
	} else {
		target = c.uas.InviteRequest.Contact().Address
	}
	req := sip.NewRequest(sip.NOTIFY, *target.Clone())
	req.AppendHeader(sip.NewHeader("Event", "refer"))
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	reason := map[int]string{100: "Trying", 180: "Ringing", 200: "OK", 486: "Busy Here", 603: "Decline"}[code]
	if reason == "" {
		reason = "Status"
	}
	req.SetBody([]byte("SIP/2.0 " + strconv.Itoa(code) + " " + reason + "\r\n"))
	var res *sip.Response
	var err error
	if c.uac != nil {
		res, err = c.uac.Do(ctx, req)
	} else {
		res, err = c.uas.Do(ctx, req)
	}
	if err != nil {
		return err
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("NOTIFY answered %d", res.StatusCode)
	}
	return nil
}

// startMedia reads the peer's SDP and starts sending audio every 20 ms and
// recording what arrives.
func (c *Call) startMedia(peerSDP []byte) error {
	remote, audioPT, dtmfPT, err := parseSDP(peerSDP)
	if err != nil {
		return err
	}
	// Under startMu, so that a phone closing at this moment either waits for
	// the loops or keeps them from starting.
	c.startMu.Lock()
	defer c.startMu.Unlock()
	select {
	case <-c.stop:
		return errors.New("testphone: the phone is closing")
	default:
	}
	c.remote, c.audioPT, c.dtmfPT = remote, audioPT, dtmfPT
	c.wg.Add(2)
	go c.readLoop()
	go c.sendLoop()
	return nil
}

func (c *Call) stopMedia() {
	c.stopOnce.Do(func() {
		c.startMu.Lock()
		close(c.stop)
		c.startMu.Unlock()
		c.conn.Close()
		c.wg.Wait()
	})
}

func (c *Call) readLoop() {
	defer c.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, err := c.conn.Read(buf)
		if err != nil {
			return
		}
		var p rtp.Packet
		if err := p.Unmarshal(buf[:n]); err != nil {
			continue
		}
		c.mu.Lock()
		c.received = append(c.received, Packet{
			At: time.Now(), PayloadType: p.PayloadType, Seq: p.SequenceNumber, Timestamp: p.Timestamp,
			SSRC: p.SSRC, Marker: p.Marker, Payload: bytes.Clone(p.Payload),
		})
		c.mu.Unlock()
	}
}

func (c *Call) sendLoop() {
	defer c.wg.Done()
	fill := bytes.Repeat([]byte{c.phone.opts.Fill}, 160)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	first := true
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		if c.muted.Load() {
			continue
		}
		payload := fill
		if p := c.payload.Load(); p != nil {
			payload = *p
		}
		c.send(c.audioPT, first, payload, 160)
		first = false
	}
}

// send writes one packet; advance is how far the timestamp moves after it.
func (c *Call) send(pt uint8, marker bool, payload []byte, advance uint32) {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	p := rtp.Packet{Header: rtp.Header{
		Version: 2, PayloadType: pt, Marker: marker, SequenceNumber: c.seq, Timestamp: c.ts, SSRC: c.ssrc,
	}, Payload: payload}
	b, _ := p.Marshal()
	c.seq++
	c.ts += advance
	_, _ = c.conn.WriteToUDPAddrPort(b, c.remote)
}

// SendDigit sends a key press as RFC 4733 events: progress packets every 20 ms
// for about 100 ms, then the end packet three times, as phones and gateways do.
func (c *Call) SendDigit(key rune) error {
	code, ok := eventCode(key)
	if !ok {
		return fmt.Errorf("no RFC 4733 event for %q", key)
	}
	c.sendMu.Lock()
	start := c.ts
	c.sendMu.Unlock()
	ev := func(end bool, dur uint16) []byte {
		b := make([]byte, 4)
		b[0] = code
		b[1] = 10 // volume
		if end {
			b[1] |= 0x80
		}
		binary.BigEndian.PutUint16(b[2:], dur)
		return b
	}
	sendAt := func(marker bool, payload []byte) {
		c.sendMu.Lock()
		p := rtp.Packet{Header: rtp.Header{
			Version: 2, PayloadType: c.dtmfPT, Marker: marker, SequenceNumber: c.seq, Timestamp: start, SSRC: c.ssrc,
		}, Payload: payload}
		b, _ := p.Marshal()
		c.seq++
		c.sendMu.Unlock()
		_, _ = c.conn.WriteToUDPAddrPort(b, c.remote)
	}
	for i := 1; i <= 5; i++ {
		sendAt(i == 1, ev(false, uint16(i*160)))
		time.Sleep(20 * time.Millisecond)
	}
	for range 3 {
		sendAt(false, ev(true, 800))
	}
	c.sendMu.Lock()
	c.ts += 800
	c.sendMu.Unlock()
	time.Sleep(40 * time.Millisecond)
	return nil
}

// SendInfoDigit sends a key press as SIP INFO application/dtmf-relay and
// returns the response code.
func (c *Call) SendInfoDigit(ctx context.Context, key rune, contentType string, body string) (int, error) {
	if contentType == "" {
		contentType = "application/dtmf-relay"
		body = "Signal=" + string(key) + "\r\nDuration=160\r\n"
	}
	req := sip.NewRequest(sip.INFO, c.uac.InviteRequest.Recipient)
	req.SetBody([]byte(body))
	req.AppendHeader(sip.NewHeader("Content-Type", contentType))
	res, err := c.uac.Do(ctx, req)
	if err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}

// Received returns a copy of the packets received so far.
func (c *Call) Received() []Packet {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Packet(nil), c.received...)
}

// CountFill counts received audio packets whose payload is entirely fill.
func (c *Call) CountFill(fill byte) int {
	n := 0
	for _, p := range c.Received() {
		if len(p.Payload) > 0 && bytes.Count(p.Payload, []byte{fill}) == len(p.Payload) {
			n++
		}
	}
	return n
}

func eventCode(key rune) (byte, bool) {
	switch {
	case key >= '0' && key <= '9':
		return byte(key - '0'), true
	case key == '*':
		return 10, true
	case key == '#':
		return 11, true
	case key >= 'A' && key <= 'D':
		return byte(12 + key - 'A'), true
	}
	return 0, false
}

// parseSDP pulls the media address, first audio PT and telephone-event PT out
// of an SDP body. It is deliberately simple: the phone only talks to Kefu.
func parseSDP(body []byte) (netip.AddrPort, uint8, uint8, error) {
	var ip netip.Addr
	var port int
	var pts []string
	var dtmf uint8
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(l, "c=IN IP4 "), strings.HasPrefix(l, "c=IN IP6 "):
			if a, err := netip.ParseAddr(strings.Fields(l[9:])[0]); err == nil {
				ip = a
			}
		case strings.HasPrefix(l, "m=audio "):
			f := strings.Fields(l)
			if len(f) >= 4 {
				port, _ = strconv.Atoi(f[1])
				pts = f[3:]
			}
		case strings.HasPrefix(l, "a=rtpmap:") && strings.Contains(strings.ToLower(l), "telephone-event"):
			n, _ := strconv.Atoi(strings.Fields(l[9:])[0])
			dtmf = uint8(n)
		}
	}
	if !ip.IsValid() || port == 0 || len(pts) == 0 {
		return netip.AddrPort{}, 0, 0, fmt.Errorf("unusable SDP:\n%s", body)
	}
	pt, _ := strconv.Atoi(pts[0])
	if ip.IsUnspecified() {
		ip = netip.MustParseAddr("127.0.0.1")
	}
	return netip.AddrPortFrom(ip, uint16(port)), uint8(pt), dtmf, nil
}
