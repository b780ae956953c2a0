package media

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/pion/rtp"

	"kefu/sip/sdp"
)

// Integration tests on real loopback UDP sockets. They assert correctness
// only; every wait has a generous bound.

const ioTimeout = 10 * time.Second

func newPool(t *testing.T) *PortPool {
	t.Helper()
	p, err := NewPortPool(netip.MustParseAddr("127.0.0.1"), 40000, 40100)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// phone is a raw UDP socket playing the remote end.
func phone(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func addrOf(c *net.UDPConn) netip.AddrPort { return udpAddrPort(c.LocalAddr()) }

func newUDPSession(t *testing.T, pool *PortPool, cfg Config) *Session {
	t.Helper()
	conn, err := pool.Listen()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Conn, cfg.Pool = conn, pool
	s, err := NewSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.maxLag = 1 << 40 // a slow CI machine must not make the pacer skip
	t.Cleanup(func() { s.Close() })
	return s
}

// readPacket reads one RTP packet from c.
func readPacket(t *testing.T, c *net.UDPConn) rtp.Packet {
	t.Helper()
	buf := make([]byte, 1500)
	if err := c.SetReadDeadline(time.Now().Add(ioTimeout)); err != nil {
		t.Fatal(err)
	}
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("read RTP: %v", err)
	}
	var p rtp.Packet
	if err := p.Unmarshal(buf[:n]); err != nil {
		t.Fatal(err)
	}
	return p
}

// noLeak waits until the goroutine count is back to before.
func noLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(ioTimeout)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestIntegrationPlay(t *testing.T) {
	before := runtime.NumGoroutine()
	pool := newPool(t)
	ph := phone(t)
	s := newUDPSession(t, pool, Config{Remote: addrOf(ph), Codec: sdp.PCMU, DTMFPayloadType: 101})
	if lp := s.LocalAddr().Port(); lp < 40000 || lp > 40100 || lp%2 != 0 || pool.InUse() != 1 {
		t.Fatalf("local port %d, in use %d", lp, pool.InUse())
	}
	s.Start()
	p := NewPrompt("tone", tone(time.Second))
	if err := s.Play(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	var pkts []rtp.Packet
	first := -1
	for first < 0 || len(pkts) < first+52 {
		pk := readPacket(t, ph)
		if pk.Marker {
			if first >= 0 {
				t.Fatalf("second marker at packet %d", len(pkts))
			}
			first = len(pkts)
		}
		pkts = append(pkts, pk)
	}
	checkStream(t, pkts, s.SSRC())
	for i, pk := range pkts {
		if pk.PayloadType != 0 {
			t.Fatalf("packet %d: PT %d", i, pk.PayloadType)
		}
		if i > 0 && pk.Timestamp-pkts[i-1].Timestamp != FrameSamples {
			t.Fatalf("packet %d: timestamp +%d", i, pk.Timestamp-pkts[i-1].Timestamp)
		}
		want := ulawSilenceFrame[:]
		if i >= first && i < first+50 {
			want = p.Frame(sdp.PCMU, i-first)
		}
		if !bytes.Equal(pk.Payload, want) {
			t.Fatalf("packet %d (prompt starts at %d): wrong payload", i, first)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if pool.InUse() != 0 {
		t.Fatalf("port not released: %d in use", pool.InUse())
	}
	ph.Close()
	noLeak(t, before)
}

// sendRTP writes one RTP packet from c to to.
func sendRTP(t *testing.T, c *net.UDPConn, to netip.AddrPort, hdr rtp.Header, payload []byte) {
	t.Helper()
	if _, err := c.WriteToUDPAddrPort(rtpBytes(hdr, payload), to); err != nil {
		t.Fatal(err)
	}
}

func TestIntegrationDTMF(t *testing.T) {
	// sipp's dtmf_2833_1.pcap: PT 101, one timestamp, duration +320,
	// three identical end packets.
	pcap := func(t *testing.T, c *net.UDPConn, to netip.AddrPort) {
		for i := range 7 {
			sendRTP(t, c, to, rtp.Header{Marker: i == 0, PayloadType: 101, SequenceNumber: uint16(500 + i), Timestamp: 13280, SSRC: 0x0e05384e}, tevPayload(1, false, 10, uint16(i*320)))
		}
		for range 3 {
			sendRTP(t, c, to, rtp.Header{PayloadType: 101, SequenceNumber: 507, Timestamp: 13280, SSRC: 0x0e05384e}, tevPayload(1, true, 10, 2240))
		}
	}
	// sipp's play_dtmf="12#*9": 20 PT 97 fillers, PT 96, ts +400 per digit.
	playDTMF := func(t *testing.T, c *net.UDPConn, to netip.AddrPort) {
		seq := uint16(1)
		for i := range 20 {
			sendRTP(t, c, to, rtp.Header{PayloadType: 97, SequenceNumber: seq, Timestamp: uint32(i * 20), SSRC: 42}, []byte{0})
			seq += 2
		}
		for i, code := range []uint8{1, 2, 11, 10, 9} {
			ts := uint32(1000 + i*400)
			for j := range 10 {
				sendRTP(t, c, to, rtp.Header{Marker: j == 0, PayloadType: 96, SequenceNumber: seq, Timestamp: ts, SSRC: 42}, tevPayload(code, false, 10, uint16(j*160)))
				seq++
			}
			for range 3 {
				sendRTP(t, c, to, rtp.Header{PayloadType: 96, SequenceNumber: seq, Timestamp: ts, SSRC: 42}, tevPayload(code, true, 10, 1600))
				seq++
			}
		}
	}
	tests := []struct {
		name  string
		codec sdp.Codec
		te    uint8
		send  func(*testing.T, *net.UDPConn, netip.AddrPort)
		want  string
	}{
		{"sipp pcap PT 101", sdp.PCMA, 101, pcap, "1"},
		{"sipp play_dtmf PT 96", sdp.PCMU, 96, playDTMF, "12#*9"},
		{"PT 101 not negotiated", sdp.PCMU, 96, pcap, ""},
	}
	pool := newPool(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			ph := phone(t)
			s := newUDPSession(t, pool, Config{Remote: addrOf(ph), Codec: tt.codec, DTMFPayloadType: tt.te})
			s.Start()
			tt.send(t, ph, s.LocalAddr())
			// Sentinel: the reader handles packets in order, so every digit
			// of the script comes out before this 'D'.
			sendRTP(t, ph, s.LocalAddr(), rtp.Header{PayloadType: tt.te, SequenceNumber: 1, Timestamp: 1, SSRC: 999}, tevPayload(15, true, 10, 800))
			var got []rune
			for {
				select {
				case d := <-s.Digits():
					got = append(got, d.Key)
				case <-time.After(ioTimeout):
					t.Fatalf("digits so far %q", string(got))
				}
				if got[len(got)-1] == 'D' {
					break
				}
			}
			if string(got) != tt.want+"D" {
				t.Fatalf("digits %q, want %q", string(got), tt.want+"D")
			}
			s.Close()
			ph.Close()
			noLeak(t, before)
		})
	}
}

func TestIntegrationBridge(t *testing.T) {
	before := runtime.NumGoroutine()
	pool := newPool(t)
	p1, p2 := phone(t), phone(t)
	s1 := newUDPSession(t, pool, Config{Remote: addrOf(p1), Codec: sdp.PCMU, DTMFPayloadType: 101})
	s2 := newUDPSession(t, pool, Config{Remote: addrOf(p2), Codec: sdp.PCMA, DTMFPayloadType: 96})
	s1.Start()
	s2.Start()
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- Bridge(ctx, s1, s2) }()

	// speak sends frames from ph to s until listen hears want.
	speak := func(ph *net.UDPConn, s *Session, pt uint8, frame []byte, listen *net.UDPConn, listenSSRC uint32, wantPT uint8, want []byte) {
		t.Helper()
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			tick := time.NewTicker(FrameDuration)
			defer tick.Stop()
			for i := 0; ; i++ {
				_, _ = ph.WriteToUDPAddrPort(rtpBytes(rtp.Header{PayloadType: pt, SequenceNumber: uint16(i), Timestamp: uint32(i * FrameSamples), SSRC: 1234}, frame), s.LocalAddr())
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		}()
		defer func() { close(stop); <-done }()
		for {
			pk := readPacket(t, listen)
			if pk.SSRC != listenSSRC || pk.PayloadType != wantPT {
				t.Fatalf("got SSRC %x PT %d, want %x %d", pk.SSRC, pk.PayloadType, listenSSRC, wantPT)
			}
			if bytes.Equal(pk.Payload, want) {
				return
			}
		}
	}
	ulaw := make([]byte, FrameSamples)
	for i := range ulaw {
		ulaw[i] = byte(i)
	}
	alaw := make([]byte, FrameSamples)
	TranscodeUlawToAlaw(alaw, ulaw)
	speak(p1, s1, 0, ulaw, p2, s2.SSRC(), 8, alaw) // PCMU in, PCMA out
	alaw2 := bytes.Repeat([]byte{0x2A, 0xAA}, FrameSamples/2)
	ulaw2 := make([]byte, FrameSamples)
	TranscodeAlawToUlaw(ulaw2, alaw2)
	speak(p2, s2, 8, alaw2, p1, s1.SSRC(), 0, ulaw2) // PCMA in, PCMU out

	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Bridge = %v", err)
	}
	// After the bridge the leg plays prompts again.
	if err := s2.Play(t.Context(), NewPrompt("beep", tone(100*time.Millisecond))); err != nil {
		t.Fatal(err)
	}
	s1.Close()
	s2.Close()
	if pool.InUse() != 0 {
		t.Fatalf("%d ports in use", pool.InUse())
	}
	p1.Close()
	p2.Close()
	noLeak(t, before)
}

func TestIntegrationTwoSessions(t *testing.T) {
	before := runtime.NumGoroutine()
	pool := newPool(t)
	a := newUDPSession(t, pool, Config{Codec: sdp.PCMU, DTMFPayloadType: 101})
	// b does not know a's address (NAT): it latches onto a's packets.
	b := newUDPSession(t, pool, Config{Codec: sdp.PCMA, DTMFPayloadType: 101, SymmetricRTP: true})
	a.SetRemote(b.LocalAddr())
	a.Start()
	b.Start()
	if err := a.Play(t.Context(), NewPrompt("tone", tone(500*time.Millisecond))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(ioTimeout)
	for b.Stats().PacketsIn < 25 || a.Stats().PacketsIn == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("a %+v\nb %+v", a.Stats(), b.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if b.Remote() != a.LocalAddr() {
		t.Fatalf("b latched to %v, want %v", b.Remote(), a.LocalAddr())
	}
	if b.LastReceived().IsZero() || a.LastReceived().IsZero() {
		t.Fatal("LastReceived")
	}
	a.Close()
	b.Close()
	noLeak(t, before)
}
