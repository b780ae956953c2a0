package sip

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"kefu/sip/media"
	"kefu/sip/sdp"
)

// peerRTP is where the offers below ask for RTP.
var peerRTP = netip.MustParseAddrPort("192.0.2.20:40000")

// reOffer is a peer's re-INVITE offer: codecs as "<pt> <name>", a direction
// line unless dir is empty, and c= at addr.
func reOffer(t *testing.T, addr netip.AddrPort, dir string, codecs ...string) *sdp.Session {
	t.Helper()
	var pts, maps []string
	for _, c := range codecs {
		pt, name, _ := strings.Cut(c, " ")
		pts = append(pts, pt)
		maps = append(maps, "a=rtpmap:"+pt+" "+name+"/8000\r\n")
	}
	body := "v=0\r\no=peer 7 7 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 " + addr.Addr().String() + "\r\nt=0 0\r\n" +
		fmt.Sprintf("m=audio %d RTP/AVP %s 101\r\n", addr.Port(), strings.Join(pts, " ")) +
		strings.Join(maps, "") + "a=rtpmap:101 telephone-event/8000\r\n"
	if dir != "" {
		body += "a=" + dir + "\r\n"
	}
	s, err := sdp.Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newTestLeg is a PCMU leg as admit sets it up (o= version 1, sendrecv) with
// an unstarted media session sending to peerRTP.
func newTestLeg(t *testing.T) (*legSDP, *media.Session) {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := media.NewSession(media.Config{Conn: conn, Remote: peerRTP, Codec: sdp.PCMU, DTMFPayloadType: 101})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close() })
	l, err := newLegSDP(sdp.Origin{SessionID: 4242, Version: 1, Username: "kefu"}, sdp.Session{
		Addr: netip.MustParseAddrPort("192.0.2.1:30000"), Codecs: []sdp.Codec{sdp.PCMU}, DTMFPayloadType: 101,
	})
	if err != nil {
		t.Fatal(err)
	}
	return l, ms
}

// origin reads the o= line's session id and version.
func origin(t *testing.T, body []byte) (id, version string) {
	t.Helper()
	for l := range strings.SplitSeq(string(body), "\r\n") {
		if f := strings.Fields(strings.TrimPrefix(l, "o=")); strings.HasPrefix(l, "o=") && len(f) >= 3 {
			return f[1], f[2]
		}
	}
	t.Fatalf("no o= line in\n%s", body)
	return "", ""
}

var discard = slog.New(slog.DiscardHandler)

// TestReanswerDirection: the answer mirrors the offer's direction (RFC 3264
// §6.1), bumps the o= version only when that changes our SDP, and every
// direction but sendrecv (and c=0.0.0.0) holds the leg.
func TestReanswerDirection(t *testing.T) {
	for _, tc := range []struct {
		offer      string
		addr       netip.AddrPort
		want       string
		version    string
		held       bool
		wantRemote netip.AddrPort
	}{
		{"", peerRTP, sdp.SendRecv, "1", false, peerRTP},
		{sdp.SendRecv, peerRTP, sdp.SendRecv, "1", false, peerRTP},
		{sdp.SendOnly, peerRTP, sdp.RecvOnly, "2", true, peerRTP},
		{sdp.RecvOnly, peerRTP, sdp.SendOnly, "2", true, peerRTP},
		{sdp.Inactive, peerRTP, sdp.Inactive, "2", true, netip.AddrPort{}},
		// RFC 2543 hold: sendrecv towards 0.0.0.0.
		{sdp.SendRecv, netip.MustParseAddrPort("0.0.0.0:40000"), sdp.SendRecv, "1", true, netip.MustParseAddrPort("0.0.0.0:40000")},
	} {
		t.Run(tc.offer+" "+tc.addr.String(), func(t *testing.T) {
			l, ms := newTestLeg(t)
			body, err := l.reanswer(discard, reOffer(t, tc.addr, tc.offer, "0 PCMU"), ms, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			ans, err := sdp.Parse(body)
			if err != nil {
				t.Fatal(err)
			}
			if ans.Direction != tc.want {
				t.Errorf("answer direction %s, want %s", ans.Direction, tc.want)
			}
			if id, v := origin(t, body); id != "4242" || v != tc.version {
				t.Errorf("o= %s %s, want 4242 %s", id, v, tc.version)
			}
			if _, ok := l.rtpDueSince(time.Now()); ok == tc.held {
				t.Errorf("held = %v, want %v", !ok, tc.held)
			}
			if got := ms.Remote(); got != tc.wantRemote {
				t.Errorf("RTP goes to %v, want %v", got, tc.wantRemote)
			}
			if !bytes.Equal(l.current(), body) {
				t.Error("current() is not the answer just sent")
			}
		})
	}
}

// TestReanswerVersion: hold, a repeated hold, resume and a refresh on one leg
// keep the session id, and the version moves only with the SDP (RFC 3264 §8).
func TestReanswerVersion(t *testing.T) {
	l, ms := newTestLeg(t)
	for i, step := range []struct{ dir, version string }{
		{sdp.SendRecv, "1"}, {sdp.SendOnly, "2"}, {sdp.SendOnly, "2"}, {sdp.Inactive, "3"},
		{sdp.SendRecv, "4"}, {sdp.SendRecv, "4"},
	} {
		body, err := l.reanswer(discard, reOffer(t, peerRTP, step.dir, "8 PCMA", "0 PCMU"), ms, time.Now())
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if id, v := origin(t, body); id != "4242" || v != step.version {
			t.Errorf("step %d (%s): o= %s %s, want 4242 %s", i, step.dir, id, v, step.version)
		}
	}
	// An offer adding video gets it rejected in the answer: a new SDP.
	offer := reOffer(t, peerRTP, sdp.SendRecv, "0 PCMU")
	offer.Others = []sdp.MediaLine{{Media: "video", Proto: "RTP/AVP", Formats: []string{"96"}}}
	body, err := l.reanswer(discard, offer, ms, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, v := origin(t, body); v != "5" || !strings.Contains(string(body), "m=video 0 RTP/AVP 96") {
		t.Errorf("answer to an offer with video (version %s):\n%s", v, body)
	}
}

// TestReanswerCodecChange: an offer without the leg's codec (or with it under
// another payload type) is refused with 488 and changes nothing (RFC 3261
// §14.2): not the SDP, not where RTP goes, not the hold.
func TestReanswerCodecChange(t *testing.T) {
	for _, codecs := range [][]string{{"18 G729"}, {"8 PCMA"}, {"96 PCMU"}} {
		t.Run(strings.Join(codecs, ","), func(t *testing.T) {
			l, ms := newTestLeg(t)
			held, err := l.reanswer(discard, reOffer(t, peerRTP, sdp.SendOnly, "0 PCMU"), ms, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			moved := netip.MustParseAddrPort("192.0.2.99:50000")
			_, err = l.reanswer(discard, reOffer(t, moved, sdp.SendRecv, codecs...), ms, time.Now())
			if !errors.Is(err, errCodecChange) || !errors.Is(err, sdp.ErrNoCommonCodec) {
				t.Fatalf("err = %v, want errCodecChange", err)
			}
			if st := statusFor(err); st.code != sipmsg.StatusNotAcceptableHere {
				t.Errorf("status %d, want 488", st.code)
			}
			if !bytes.Equal(l.current(), held) {
				t.Errorf("SDP changed by a refused offer:\n%s", l.current())
			}
			if got := ms.Remote(); got != peerRTP {
				t.Errorf("RTP moved to %v by a refused offer", got)
			}
			if _, ok := l.rtpDueSince(time.Now()); ok {
				t.Error("a refused sendrecv offer resumed the call")
			}
		})
	}
}

// TestRTPDueSince: the watchdogs' view of hold: RTP is due from the last
// packet, not at all while held, and from the resume after that; a
// sendrecv refresh of a call never held does not restart the count.
func TestRTPDueSince(t *testing.T) {
	l, ms := newTestLeg(t)
	t0 := time.Unix(1_700_000_000, 0)
	answer := func(dir string, at time.Time) {
		t.Helper()
		if _, err := l.reanswer(discard, reOffer(t, peerRTP, dir, "0 PCMU"), ms, at); err != nil {
			t.Fatal(err)
		}
	}
	check := func(last, want time.Time, wantOK bool) {
		t.Helper()
		got, ok := l.rtpDueSince(last)
		if ok != wantOK || (ok && !got.Equal(want)) {
			t.Errorf("rtpDueSince(%v) = %v %v, want %v %v", last, got, ok, want, wantOK)
		}
	}
	answer(sdp.SendRecv, t0.Add(5*time.Second))
	check(t0, t0, true)
	answer(sdp.SendOnly, t0.Add(10*time.Second))
	check(t0, time.Time{}, false)
	answer(sdp.SendRecv, t0.Add(20*time.Second))
	check(t0, t0.Add(20*time.Second), true)
	check(t0.Add(30*time.Second), t0.Add(30*time.Second), true)
	answer(sdp.SendRecv, t0.Add(40*time.Second)) // a refresh, not a resume
	check(t0.Add(25*time.Second), t0.Add(25*time.Second), true)
}
