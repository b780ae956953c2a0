package media

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtp"

	"kefu/sip/sdp"
)

const (
	phoneA = "192.0.2.1:5000"
	phoneB = "192.0.2.2:6000"
)

// tone returns d of a 400 Hz sine (never digital silence).
func tone(d time.Duration) []int16 {
	n := int(d * SampleRate / time.Second)
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*400*float64(i)/SampleRate))
	}
	return pcm
}

// newFakeSession returns a session on a fake conn (not started).
func newFakeSession(t testing.TB, codec sdp.Codec, te uint8, remote string, symmetric bool) (*Session, *fakeConn) {
	t.Helper()
	conn := newFakeConn("10.0.0.1:40000")
	cfg := Config{Codec: codec, DTMFPayloadType: te, SymmetricRTP: symmetric}
	if remote != "" {
		cfg.Remote = netip.MustParseAddrPort(remote)
	}
	s, err := newSession(cfg, conn)
	if err != nil {
		t.Fatal(err)
	}
	return s, conn
}

// checkStream asserts what every stream must satisfy: one SSRC, sequence
// +1, timestamps increasing by whole frames, version 2.
func checkStream(t *testing.T, pkts []rtp.Packet, ssrc uint32) {
	t.Helper()
	checkSeq(t, pkts, ssrc, true)
}

// checkSeq asserts one SSRC and sequence +1, and if frames, timestamps
// increasing by whole frames.
func checkSeq(t *testing.T, pkts []rtp.Packet, ssrc uint32, frames bool) {
	t.Helper()
	for i, p := range pkts {
		if p.Version != 2 || p.SSRC != ssrc {
			t.Fatalf("packet %d: version %d ssrc %x, want 2 %x", i, p.Version, p.SSRC, ssrc)
		}
		if i == 0 {
			continue
		}
		q := pkts[i-1]
		if p.SequenceNumber != q.SequenceNumber+1 {
			t.Fatalf("packet %d: seq %d after %d", i, p.SequenceNumber, q.SequenceNumber)
		}
		if d := p.Timestamp - q.Timestamp; frames && (d == 0 || d%FrameSamples != 0 || d > 1<<31) {
			t.Fatalf("packet %d: timestamp step %d", i, int32(d))
		}
	}
}

func TestPacerPlay(t *testing.T) {
	for _, codec := range []sdp.Codec{sdp.PCMU, sdp.PCMA} {
		t.Run(codec.Name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, conn := newFakeSession(t, codec, 101, phoneA, false)
				s.Start()
				defer s.Close()
				time.Sleep(100 * time.Millisecond) // 5 or 6 silence frames
				p := NewPrompt("tone", tone(time.Second))
				if err := s.Play(t.Context(), p); err != nil {
					t.Fatal(err)
				}
				time.Sleep(100 * time.Millisecond)
				synctest.Wait() // the pacer is parked on its timer: nothing is mid-send
				pkts := conn.sent()
				checkStream(t, pkts, s.SSRC())
				silence := ulawSilenceFrame[:]
				if codec.IsPCMA() {
					silence = alawSilenceFrame[:]
				}
				first := -1
				for i, pk := range pkts {
					if pk.PayloadType != codec.PayloadType {
						t.Fatalf("PT %d", pk.PayloadType)
					}
					if pk.Marker {
						if first >= 0 {
							t.Fatalf("second marker at packet %d", i)
						}
						first = i
					}
					if d := pk.Timestamp - pkts[0].Timestamp; i > 0 && d != uint32(i)*FrameSamples {
						t.Fatalf("packet %d: timestamp +%d, want +%d (no lateness in fake time)", i, d, i*FrameSamples)
					}
				}
				if first < 5 || len(pkts) < first+50+4 {
					t.Fatalf("prompt starts at packet %d of %d", first, len(pkts))
				}
				for i, pk := range pkts {
					want := silence
					if i >= first && i < first+50 {
						want = p.Frame(codec, i-first)
					}
					if !bytes.Equal(pk.Payload, want) {
						t.Fatalf("packet %d: wrong payload", i)
					}
				}
				if st := s.Stats(); st.PacketsOut != uint64(len(pkts)) || st.LateFrames != 0 {
					t.Errorf("stats %+v", st)
				}
			})
		})
	}
}

func TestPacerSkipAhead(t *testing.T) {
	tests := []struct {
		name      string
		stall     time.Duration
		wantLate  uint64
		wantJump  uint32 // the one timestamp step that is not 160; 0 = none
		wantBurst bool
	}{
		{"small stall: catch up", 50 * time.Millisecond, 0, 0, true},
		{"long stall: skip ahead", 100 * time.Millisecond, 4, 5 * FrameSamples, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, conn := newFakeSession(t, sdp.PCMU, 0, phoneA, false)
				var sentAt []time.Time
				conn.onWrite = func(n int) {
					sentAt = append(sentAt, time.Now())
					if n == 10 {
						time.Sleep(tt.stall) // the pacer is descheduled
					}
				}
				s.Start()
				time.Sleep(time.Second)
				s.Close()
				synctest.Wait() // the pacer is parked on its timer: nothing is mid-send
				pkts := conn.sent()
				checkStream(t, pkts, s.SSRC())
				var jumps []uint32
				for i := 1; i < len(pkts); i++ {
					if d := pkts[i].Timestamp - pkts[i-1].Timestamp; d != FrameSamples {
						jumps = append(jumps, d)
					}
				}
				if tt.wantJump == 0 && len(jumps) != 0 || tt.wantJump != 0 && (len(jumps) != 1 || jumps[0] != tt.wantJump) {
					t.Errorf("timestamp jumps %v, want %d", jumps, tt.wantJump)
				}
				if got := s.Stats().LateFrames; got != tt.wantLate {
					t.Errorf("LateFrames = %d, want %d", got, tt.wantLate)
				}
				burst := false
				for i := 1; i < len(sentAt); i++ {
					if sentAt[i].Sub(sentAt[i-1]) < FrameDuration {
						burst = true
					}
				}
				if burst != tt.wantBurst {
					t.Errorf("burst = %v, want %v (send times %v)", burst, tt.wantBurst, sentAt[8:16])
				}
			})
		})
	}
}

func TestPlaySemantics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, conn := newFakeSession(t, sdp.PCMU, 0, "", false) // no remote yet
		s.Start()
		defer s.Close()
		p := NewPrompt("p", tone(200*time.Millisecond)) // 10 frames

		// Without a remote the prompt still takes its time, nothing is sent.
		start := time.Now()
		if err := s.Play(t.Context(), p); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 180*time.Millisecond || d > 220*time.Millisecond {
			t.Errorf("Play took %v", d)
		}
		if n := len(conn.sent()); n != 0 {
			t.Fatalf("%d packets sent without a remote", n)
		}
		// Empty and nil prompts return at once.
		if err := s.Play(t.Context(), nil, NewPrompt("empty", nil)); err != nil {
			t.Fatal(err)
		}

		s.SetRemote(netip.MustParseAddrPort(phoneA))
		// Two prompts in one Play: marker on each; concurrent Plays serialise.
		errc := make(chan error, 1)
		go func() { errc <- s.Play(t.Context(), p, p) }()
		time.Sleep(time.Millisecond)
		if err := s.Play(t.Context(), p); err != nil { // waits for the first
			t.Fatal(err)
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		var markers []int
		synctest.Wait() // the pacer is parked on its timer: nothing is mid-send
		pkts := conn.sent()
		for i, pk := range pkts {
			if pk.Marker {
				markers = append(markers, i)
			}
		}
		if len(markers) != 3 || markers[1]-markers[0] != 10 || markers[2]-markers[1] != 10 {
			t.Errorf("markers at %v of %d packets", markers, len(pkts))
		}
		checkStream(t, pkts, s.SSRC())

		// ctx cancellation stops a Play at once.
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		if err := s.Play(ctx, NewPrompt("long", tone(10*time.Second))); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		before := len(conn.sent())
		time.Sleep(100 * time.Millisecond)
		for _, pk := range conn.sent()[before:] {
			if !bytes.Equal(pk.Payload, ulawSilenceFrame[:]) {
				t.Fatal("prompt still playing after cancel")
			}
		}

		// Close ends a Play with ErrClosed.
		go func() { errc <- s.Play(t.Context(), NewPrompt("long", tone(10*time.Second))) }()
		time.Sleep(100 * time.Millisecond)
		s.Close()
		if err := <-errc; !errors.Is(err, ErrClosed) {
			t.Fatalf("err = %v, want ErrClosed", err)
		}
		if err := s.Play(t.Context(), p); !errors.Is(err, ErrClosed) {
			t.Fatalf("Play after Close: %v", err)
		}
	})
}

// sendEvent delivers one telephone-event packet to conn.
func sendEvent(conn *fakeConn, from string, pt uint8, seq uint16, ts, ssrc uint32, code uint8, end bool, dur uint16) {
	conn.deliver(from, rtpBytes(rtp.Header{PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc}, tevPayload(code, end, 10, dur)))
}

func readDigits(t *testing.T, s *Session, n int) string {
	t.Helper()
	var got []rune
	for range n {
		select {
		case d := <-s.Digits():
			got = append(got, d.Key)
		case <-time.After(5 * time.Second):
			t.Fatalf("got %q, waiting for %d digits", string(got), n)
		}
	}
	return string(got)
}

func TestSessionDTMF(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, conn := newFakeSession(t, sdp.PCMA, 96, phoneA, false)
		s.Start()
		defer s.Close()

		// play_dtmf style on PT 96 with its PT 97 fillers.
		for i := range 20 {
			conn.deliver(phoneA, rtpBytes(rtp.Header{PayloadType: 97, SequenceNumber: uint16(i * 2), Timestamp: uint32(i * 20), SSRC: 5}, []byte{0}))
		}
		seq := uint16(100)
		for i, code := range []uint8{1, 2, 11, 10, 9} {
			for j := range 5 {
				sendEvent(conn, phoneA, 96, seq, uint32(i*400), 5, code, false, uint16(j*160))
				seq++
			}
			for range 3 {
				sendEvent(conn, phoneA, 96, seq, uint32(i*400), 5, code, true, 800)
				seq++
			}
		}
		// PT 101 is not negotiated here: ignored.
		sendEvent(conn, phoneA, 101, 1, 9999, 5, 4, true, 800)
		if got := readDigits(t, s, 5); got != "12#*9" {
			t.Fatalf("digits %q", got)
		}

		// Lost end packets: the pacer's expiry reports the key.
		for j := range 4 {
			sendEvent(conn, phoneA, 96, seq, 5000, 5, 7, false, uint16(j*160))
			seq++
		}
		d := <-s.Digits()
		if d.Key != '7' || d.Source != SourceRFC4733 {
			t.Fatalf("digit %+v", d)
		}

		// A gateway sending both RFC 4733 and INFO: one digit.
		sendEvent(conn, phoneA, 96, seq, 6000, 5, 3, true, 800)
		synctest.Wait()
		s.InjectDigit('3', SourceInfo)
		s.InjectDigit('D', SourceInfo) // sentinel: proves nothing came in between
		if got := readDigits(t, s, 2); got != "3D" {
			t.Fatalf("digits %q", got)
		}
		// Packets from elsewhere are ignored.
		sendEvent(conn, "198.51.100.9:5000", 96, seq, 7000, 5, 5, true, 800)
		synctest.Wait()
		st := s.Stats()
		if st.DTMFIn != 8 || st.Foreign != 1 || st.UnknownPT != 21 {
			t.Errorf("stats %+v", st)
		}
		if s.LastReceived().IsZero() {
			t.Error("LastReceived is zero")
		}
	})
}

func TestSessionReceiveFilter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		audio := func(pt uint8, ssrc uint32, seq uint16) []byte {
			return rtpBytes(rtp.Header{PayloadType: pt, SequenceNumber: seq, SSRC: ssrc}, make([]byte, 240))
		}
		s, conn := newFakeSession(t, sdp.PCMU, 101, phoneA, false)
		s.Start()
		if !s.LastReceived().IsZero() {
			t.Error("LastReceived before any packet")
		}
		conn.deliver("192.0.2.1:7777", audio(8, 1, 1))                  // same IP, other port: accepted; PCMA, 30 ms
		conn.deliver(phoneA, audio(0, 2, 1))                            // SSRC change: accepted
		conn.deliver(phoneA, audio(13, 2, 2))                           // CN: accepted, ignored
		conn.deliver(phoneA, []byte{0x80, 0, 0})                        // too short
		conn.deliver(phoneA, append([]byte{0x40}, make([]byte, 20)...)) // version 1
		conn.deliver("192.0.2.99:5000", audio(0, 3, 1))                 // foreign
		synctest.Wait()
		st := s.Stats()
		if st.PacketsIn != 3 || st.Malformed != 2 || st.Foreign != 1 {
			t.Errorf("stats %+v", st)
		}
		s.Close()

		// Symmetric RTP: no SDP address; latch on the first media packet.
		s, conn = newFakeSession(t, sdp.PCMU, 0, "", true)
		s.Start()
		defer s.Close()
		conn.deliver("203.0.113.7:3333", audio(97, 1, 1)) // unknown PT does not latch
		conn.deliver("203.0.113.7:4444", audio(0, 1, 2))  // latches
		conn.deliver("203.0.113.8:4444", audio(0, 1, 3))  // foreign now
		conn.deliver("203.0.113.7:4444", audio(0, 1, 4))
		synctest.Wait()
		if got := s.Remote(); got != netip.MustParseAddrPort("203.0.113.7:4444") {
			t.Fatalf("latched to %v", got)
		}
		st = s.Stats()
		if st.PacketsIn != 2 || st.Foreign != 2 {
			t.Errorf("stats %+v", st)
		}
		time.Sleep(100 * time.Millisecond)
		if pkts := conn.sent(); len(pkts) == 0 {
			t.Error("nothing sent after latching")
		}
		// A re-INVITE moves the remote; symmetric latching starts again.
		s.SetRemote(netip.MustParseAddrPort("198.51.100.1:5000"))
		conn.deliver("203.0.113.9:1000", audio(0, 1, 5))
		synctest.Wait()
		if got := s.Remote(); got != netip.MustParseAddrPort("203.0.113.9:1000") {
			t.Fatalf("relatched to %v", got)
		}
	})
}

func TestBridgeFake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, connA := newFakeSession(t, sdp.PCMU, 101, phoneA, false)
		b, connB := newFakeSession(t, sdp.PCMA, 96, phoneB, false)
		a.Start()
		b.Start()
		defer a.Close()
		defer b.Close()
		time.Sleep(100 * time.Millisecond)

		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- Bridge(ctx, a, b) }()
		synctest.Wait()
		if err := Bridge(t.Context(), a, b); err == nil {
			t.Fatal("second Bridge of the same legs succeeded")
		}
		beforeA, beforeB := len(connA.sent()), len(connB.sent())
		time.Sleep(100 * time.Millisecond)
		if len(connA.sent()) != beforeA || len(connB.sent()) != beforeB {
			t.Fatal("pacers still send while bridged")
		}

		// Phone A speaks μ-law at 30 ms with a changing SSRC; phone B gets A-law.
		ulaw := make([]byte, 240)
		for i := range ulaw {
			ulaw[i] = byte(i)
		}
		for i := range 5 {
			connA.deliver(phoneA, rtpBytes(rtp.Header{PayloadType: 0, SequenceNumber: uint16(100 + i), Timestamp: uint32(50000 + i*240), SSRC: 77}, ulaw))
		}
		connA.deliver(phoneA, rtpBytes(rtp.Header{PayloadType: 0, SequenceNumber: 1, Timestamp: 9, SSRC: 78}, ulaw))
		// Phone A presses 4: relayed with B's PT 96, and reported on A.
		for j := range 3 {
			sendEvent(connA, phoneA, 101, uint16(110+j), 51200, 77, 4, j == 2, uint16(j*160))
		}
		// Phone B speaks A-law.
		alaw := bytes.Repeat([]byte{0xD5, 0x2A}, 80)
		connB.deliver(phoneB, rtpBytes(rtp.Header{PayloadType: 8, SequenceNumber: 1, Timestamp: 1, SSRC: 99}, alaw))
		if d := <-a.Digits(); d.Key != '4' {
			t.Fatalf("digit %+v", d)
		}
		synctest.Wait()

		outB := connB.sent()
		checkStream(t, outB[:beforeB], b.SSRC())
		relayed := outB[beforeB:]
		if len(relayed) != 9 {
			t.Fatalf("B sent %d relayed packets, want 9", len(relayed))
		}
		want := make([]byte, 240)
		TranscodeUlawToAlaw(want, ulaw)
		prev := outB[beforeB-1]
		for i, p := range relayed {
			if p.SSRC != b.SSRC() || p.SequenceNumber != prev.SequenceNumber+1+uint16(i) {
				t.Fatalf("relayed %d: ssrc %x seq %d", i, p.SSRC, p.SequenceNumber)
			}
			switch {
			case i < 6:
				if p.PayloadType != 8 || !bytes.Equal(p.Payload, want) {
					t.Fatalf("relayed %d: PT %d, payload not transcoded", i, p.PayloadType)
				}
			default:
				if p.PayloadType != 96 {
					t.Fatalf("relayed %d: PT %d, want 96", i, p.PayloadType)
				}
			}
		}
		if !relayed[0].Marker || relayed[1].Marker || !relayed[5].Marker {
			t.Errorf("markers: %v %v %v", relayed[0].Marker, relayed[1].Marker, relayed[5].Marker)
		}
		if d := relayed[0].Timestamp - prev.Timestamp; d < 5*FrameSamples || d > 6*FrameSamples || d%FrameSamples != 0 {
			t.Errorf("first relayed timestamp +%d after the last pacer packet 100 ms earlier", d)
		}
		if relayed[4].Timestamp-relayed[0].Timestamp != 4*240 {
			t.Errorf("relayed timestamps not source-relative")
		}
		if relayed[5].Timestamp-relayed[4].Timestamp > 2*240 {
			t.Errorf("SSRC change not rebased: +%d", relayed[5].Timestamp-relayed[4].Timestamp)
		}
		if relayed[6].Timestamp-relayed[0].Timestamp != 51200-50000 {
			t.Errorf("event timestamp not mapped: %d", relayed[6].Timestamp-relayed[0].Timestamp)
		}
		outA := connA.sent()[beforeA:]
		if len(outA) != 1 || outA[0].PayloadType != 0 || outA[0].SSRC != a.SSRC() || !outA[0].Marker {
			t.Fatalf("A relayed %+v", outA)
		}
		wantU := make([]byte, 160)
		TranscodeAlawToUlaw(wantU, alaw)
		if !bytes.Equal(outA[0].Payload, wantU) {
			t.Fatal("A-law to μ-law payload")
		}

		// The bridge ends; the pacers resume, continuous.
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("Bridge = %v", err)
		}
		time.Sleep(100 * time.Millisecond)
		checkSeq(t, connB.sent(), b.SSRC(), false)
		checkSeq(t, connA.sent(), a.SSRC(), false)
		checkStream(t, connB.sent()[len(outB):], b.SSRC())
		last := connB.sent()[len(connB.sent())-1]
		if !bytes.Equal(last.Payload, alawSilenceFrame[:]) {
			t.Error("B's pacer did not resume")
		}
		// Packets after the bridge are not relayed.
		n := len(connB.sent())
		connA.deliver(phoneA, rtpBytes(rtp.Header{PayloadType: 0, SequenceNumber: 200, Timestamp: 1, SSRC: 77}, ulaw))
		synctest.Wait()
		for _, p := range connB.sent()[n:] {
			if len(p.Payload) != FrameSamples {
				t.Fatal("relayed after the bridge ended")
			}
		}
		if a.Stats().Relayed != 1 || b.Stats().Relayed != 9 {
			t.Errorf("relayed stats %d %d", a.Stats().Relayed, b.Stats().Relayed)
		}

		// Closing a leg ends a bridge with ErrClosed.
		go func() { errc <- Bridge(t.Context(), a, b) }()
		synctest.Wait()
		a.Close()
		if err := <-errc; !errors.Is(err, ErrClosed) {
			t.Fatalf("Bridge = %v, want ErrClosed", err)
		}
		if err := Bridge(t.Context(), a, b); !errors.Is(err, ErrClosed) {
			t.Fatalf("Bridge of closed = %v", err)
		}
	})
}

func TestSessionConfig(t *testing.T) {
	tests := []struct {
		name  string
		codec sdp.Codec
		te    uint8
		ok    bool
	}{
		{"PCMU", sdp.PCMU, 101, true},
		{"PCMA dynamic te", sdp.PCMA, 96, true},
		{"unnamed PT 8", sdp.Codec{PayloadType: 8}, 0, true},
		{"G729", sdp.Codec{Name: "G729", PayloadType: 18, ClockRate: 8000}, 0, false},
		{"16 kHz", sdp.Codec{Name: "PCMU", PayloadType: 0, ClockRate: 16000}, 0, false},
		{"te = audio", sdp.PCMA, 8, false},
		{"te = CN", sdp.PCMU, 13, false},
		{"te 200", sdp.PCMU, 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newSession(Config{Codec: tt.codec, DTMFPayloadType: tt.te}, newFakeConn("10.0.0.1:1"))
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v", err)
			}
		})
	}
	if _, err := NewSession(Config{Codec: sdp.PCMU}); err == nil {
		t.Fatal("nil Conn accepted")
	}
}

func TestCloseIdempotent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := newFakeSession(t, sdp.PCMU, 0, phoneA, false)
		if err := s.Close(); err != nil { // before Start
			t.Fatal(err)
		}
		s.Start() // no-op after Close
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, ok := <-s.Digits(); ok {
			t.Fatal("Digits not closed")
		}
		s.InjectDigit('1', SourceInfo) // must not panic

		s, _ = newFakeSession(t, sdp.PCMU, 0, phoneA, false)
		s.Start()
		s.Start()
		done := make(chan struct{})
		for range 3 {
			go func() { s.Close(); done <- struct{}{} }()
		}
		for range 3 {
			<-done
		}
	})
}

func BenchmarkPacerFrame(b *testing.B) {
	s, conn := newFakeSession(b, sdp.PCMA, 101, phoneA, false)
	conn.discard = true
	p := NewPrompt("tone", tone(10*time.Second))
	due := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		s.playMu.Lock()
		if s.cur == nil {
			s.cur = &playback{prompts: []*Prompt{p}, done: make(chan struct{})}
		}
		s.playMu.Unlock()
		due = due.Add(FrameDuration)
		s.sendSlot(due)
	}
}

func BenchmarkRelay(b *testing.B) {
	src, _ := newFakeSession(b, sdp.PCMU, 101, phoneA, false)
	dst, conn := newFakeSession(b, sdp.PCMA, 101, phoneB, false)
	conn.discard = true
	dst.attach(src)
	payload := bytes.Repeat([]byte{1, 2, 3, 4}, 40)
	hdr := rtp.Header{Version: 2, PayloadType: 0, SSRC: 1}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		hdr.SequenceNumber++
		hdr.Timestamp += FrameSamples
		now = now.Add(FrameDuration)
		dst.relay(src, &hdr, payload, false, false, now)
	}
}
