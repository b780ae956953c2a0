package media

import (
	"net"
	"net/netip"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtp"

	"kefu/sip/sdp"
)

// TestTotals: two legs on real loopback sockets share one Totals. Each
// phone sends audio and one RFC 4733 key press, the first leg also gets a
// SIP INFO digit; both legs send their paced stream. The totals are the
// sums of the legs' own Stats.
func TestTotals(t *testing.T) {
	before := runtime.NumGoroutine()
	pool := newPool(t)
	var tot Totals
	p1, p2 := phone(t), phone(t)
	s1 := newUDPSession(t, pool, Config{Remote: addrOf(p1), Codec: sdp.PCMU, DTMFPayloadType: 101, Totals: &tot})
	s2 := newUDPSession(t, pool, Config{Remote: addrOf(p2), Codec: sdp.PCMA, DTMFPayloadType: 96, Totals: &tot})
	s1.Start()
	s2.Start()

	// press sends 5 audio frames and a key press ending in 3 end packets
	// from ph to s: 8 packets in.
	press := func(c *net.UDPConn, s netip.AddrPort, audioPT, tePT, code uint8) {
		t.Helper()
		for i := range 5 {
			if _, err := c.WriteToUDPAddrPort(rtpBytes(rtp.Header{PayloadType: audioPT, SequenceNumber: uint16(i), Timestamp: uint32(i * FrameSamples), SSRC: 7}, make([]byte, FrameSamples)), s); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 3 {
			if _, err := c.WriteToUDPAddrPort(rtpBytes(rtp.Header{PayloadType: tePT, SequenceNumber: uint16(5 + i), Timestamp: 800, SSRC: 7}, tevPayload(code, true, 10, 800)), s); err != nil {
				t.Fatal(err)
			}
		}
	}
	press(p1, s1.LocalAddr(), 0, 101, 5)
	press(p2, s2.LocalAddr(), 8, 96, 11)
	next := func(s *Session) rune {
		t.Helper()
		select {
		case d := <-s.Digits():
			return d.Key
		case <-time.After(ioTimeout):
			t.Fatal("no digit")
			return 0
		}
	}
	if d := next(s1); d != '5' {
		t.Fatalf("leg 1: digit %q, want 5", d)
	}
	s1.InjectDigit('7', SourceInfo)
	if d := next(s1); d != '7' {
		t.Fatalf("leg 1: digit %q, want the INFO 7", d)
	}
	if d := next(s2); d != '#' {
		t.Fatalf("leg 2: digit %q, want #", d)
	}
	for range 5 { // the paced streams reach the phones
		readPacket(t, p1)
		readPacket(t, p2)
	}
	deadline := time.Now().Add(ioTimeout)
	for s1.Stats().PacketsIn < 8 || s2.Stats().PacketsIn < 8 {
		if time.Now().After(deadline) {
			t.Fatalf("s1 %+v\ns2 %+v", s1.Stats(), s2.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	s1.Close()
	s2.Close()
	st1, st2 := s1.Stats(), s2.Stats()
	got := tot.Counts()
	want := TotalCounts{
		PacketsIn:     st1.PacketsIn + st2.PacketsIn, // ≥ 16; a stray packet from an earlier test's peer may add to both
		PacketsOut:    st1.PacketsOut + st2.PacketsOut,
		LateFrames:    st1.LateFrames + st2.LateFrames,
		DigitsRFC4733: 2,
		DigitsInfo:    1,
	}
	if got != want {
		t.Errorf("totals %+v, want %+v", got, want)
	}
	if got.PacketsIn < 16 {
		t.Errorf("packets in %d, want at least the 16 sent", got.PacketsIn)
	}
	if got.PacketsOut < 10 {
		t.Errorf("packets out %d, want at least the 10 read", got.PacketsOut)
	}
	p1.Close()
	p2.Close()
	noLeak(t, before)
}

// TestTotalsLateFrames: a pacer that falls 100 ms behind skips 4 slots,
// counted in its Stats and in the shared Totals; a nil Totals counts
// nothing and does not fail.
func TestTotalsLateFrames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tot Totals
		conn := newFakeConn("10.0.0.1:40000")
		s, err := newSession(Config{Codec: sdp.PCMU, Remote: netip.MustParseAddrPort(phoneA), Totals: &tot}, conn)
		if err != nil {
			t.Fatal(err)
		}
		conn.onWrite = func(n int) {
			if n == 10 {
				time.Sleep(100 * time.Millisecond) // the pacer is descheduled
			}
		}
		s.Start()
		time.Sleep(time.Second)
		s.Close()
		synctest.Wait()
		got := tot.Counts()
		if st := s.Stats(); got.LateFrames != 4 || st.LateFrames != 4 || got.PacketsOut != st.PacketsOut || got.PacketsOut == 0 {
			t.Errorf("totals %+v, session %+v: want 4 late frames in both and the same packets out", got, st)
		}
	})
	var none *Totals
	none.addPacketIn()
	none.addDigit(SourceInfo)
	if c := none.Counts(); c != (TotalCounts{}) {
		t.Errorf("nil Totals counted %+v", c)
	}
}
