package sdp

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// crlf turns a readable multi-line literal into an SDP body with CRLF line ends.
func crlf(s string) []byte {
	s = strings.TrimLeft(s, "\n")
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// Real-world offers, as the peers send them.
var (
	// sipp -sn uac default offer.
	offerSippUAC = crlf(`
v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
`)
	// sipp -sd uac_pcap: PCMA + telephone-event 101.
	offerSippPcap = crlf(`
v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-11,16
`)
	// sipp with <exec play_dtmf>: PT 96 hard-coded, filler PT 97.
	offerSippPlayDTMF = crlf(`
v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 0 96 97
a=rtpmap:0 PCMU/8000
a=rtpmap:96 telephone-event/8000
a=fmtp:96 0-15
a=rtpmap:97 no-op/8000
`)
	// baresip-like: wideband codecs first, lower-case names, ptime.
	offerBaresip = crlf(`
v=0
o=- 1828187926 1010358736 IN IP4 192.168.1.20
s=-
c=IN IP4 192.168.1.20
t=0 0
m=audio 17004 RTP/AVP 96 9 0 8 101
b=AS:64
a=rtpmap:96 opus/48000/2
a=fmtp:96 stereo=1;sprop-stereo=1
a=rtpmap:9 G722/8000
a=rtpmap:0 pcmu/8000
a=rtpmap:8 pcma/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
a=sendrecv
a=label:1
`)
	// Carrier trunk, PCMA only, static PT without rtpmap, ptime 30.
	offerPCMAOnly = crlf(`
v=0
o=SBC 1 1 IN IP4 10.1.2.3
s=SBC call
c=IN IP4 10.1.2.3
t=0 0
m=audio 30000 RTP/AVP 8
a=ptime:30
`)
	offerG729Only = crlf(`
v=0
o=- 1 1 IN IP4 10.1.2.3
s=-
c=IN IP4 10.1.2.3
t=0 0
m=audio 30000 RTP/AVP 18
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
`)
	offerIPv6 = crlf(`
v=0
o=- 7 7 IN IP6 2001:db8::10
s=-
c=IN IP6 2001:db8::10
t=0 0
m=audio 40000 RTP/AVP 0 8 101
a=rtpmap:101 telephone-event/8000
a=sendonly
`)
	// Session-level c= only; media-level ptime and inactive.
	offerSessionC = crlf(`
v=0
o=- 7 7 IN IP4 203.0.113.5
s=-
c=IN IP4 203.0.113.5
t=0 0
a=recvonly
m=audio 41000 RTP/AVP 8 0 110
a=rtpmap:110 TELEPHONE-EVENT/8000
`)
	// First m=audio rejected (port 0), a video line, then the real audio
	// with its own c= overriding the session one.
	offerPort0First = crlf(`
v=0
o=- 7 7 IN IP4 198.51.100.1
s=-
c=IN IP4 198.51.100.1
t=0 0
m=audio 0 RTP/AVP 0
m=video 5002 RTP/AVP 31
a=rtpmap:31 H261/90000
m=audio 5004 RTP/AVP 0 101
c=IN IP4 198.51.100.2
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=ptime:20
`)
	// Old-style hold: c=0.0.0.0.
	offerHold = crlf(`
v=0
o=- 7 8 IN IP4 10.0.0.1
s=-
c=IN IP4 0.0.0.0
t=0 0
m=audio 30000 RTP/AVP 0
`)
	// LF line ends.
	offerLF = []byte("v=0\no=- 1 1 IN IP4 10.0.0.9\ns=-\nc=IN IP4 10.0.0.9\nt=0 0\nm=audio 7078 RTP/AVP 8 101\na=rtpmap:101 telephone-event/8000\n")
	// SRTP only: we cannot do it.
	offerSAVP = crlf(`
v=0
o=- 1 1 IN IP4 10.0.0.9
s=-
c=IN IP4 10.0.0.9
t=0 0
m=audio 7078 RTP/SAVP 0
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz
`)
)

func TestNegotiate(t *testing.T) {
	ap := netip.MustParseAddrPort
	tests := []struct {
		name    string
		body    []byte
		want    Answer
		wantErr error
	}{
		{"sipp uac", offerSippUAC, Answer{Codec: PCMU, Remote: ap("127.0.0.1:6000"), Direction: SendRecv}, nil},
		{"sipp pcap", offerSippPcap, Answer{Codec: PCMA, DTMFPayloadType: 101, Remote: ap("127.0.0.1:6000"), Direction: SendRecv}, nil},
		{"sipp play_dtmf", offerSippPlayDTMF, Answer{Codec: PCMU, DTMFPayloadType: 96, Remote: ap("127.0.0.1:6000"), Direction: SendRecv}, nil},
		{"baresip", offerBaresip, Answer{Codec: PCMU, DTMFPayloadType: 101, Remote: ap("192.168.1.20:17004"), Ptime: 20, Direction: SendRecv}, nil},
		{"PCMA only", offerPCMAOnly, Answer{Codec: PCMA, Remote: ap("10.1.2.3:30000"), Ptime: 30, Direction: SendRecv}, nil},
		{"G729 only", offerG729Only, Answer{}, ErrNoCommonCodec},
		{"IPv6", offerIPv6, Answer{Codec: PCMU, DTMFPayloadType: 101, Remote: ap("[2001:db8::10]:40000"), Direction: RecvOnly}, nil},
		{"session-level c", offerSessionC, Answer{Codec: PCMA, DTMFPayloadType: 110, Remote: ap("203.0.113.5:41000"), Direction: SendOnly}, nil},
		{"port 0 first", offerPort0First, Answer{Codec: PCMU, DTMFPayloadType: 101, Remote: ap("198.51.100.2:5004"), Ptime: 20, Direction: SendRecv}, nil},
		{"hold 0.0.0.0", offerHold, Answer{Codec: PCMU, Remote: ap("0.0.0.0:30000"), Direction: SendRecv}, nil},
		{"LF line ends", offerLF, Answer{Codec: PCMA, DTMFPayloadType: 101, Remote: ap("10.0.0.9:7078"), Direction: SendRecv}, nil},
		{"SRTP only", offerSAVP, Answer{}, ErrNoAudio},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offer, err := Parse(tt.body)
			if err == nil {
				var ans Answer
				ans, err = Negotiate(offer, nil)
				if err == nil && ans != tt.want {
					t.Errorf("answer = %+v, want %+v", ans, tt.want)
				}
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestNegotiatePreference(t *testing.T) {
	// The offer's order wins over ours; PTs are kept as offered.
	offer := &Session{Codecs: []Codec{{Name: "PCMA", PayloadType: 8, ClockRate: 8000}, {Name: "PCMU", PayloadType: 0, ClockRate: 8000}}}
	ans, err := Negotiate(offer, []Codec{PCMU, PCMA})
	if err != nil || ans.Codec != PCMA {
		t.Fatalf("got %+v, %v; want PCMA", ans, err)
	}
	// Only what we support: PCMU-only config against a PCMA-first offer.
	ans, err = Negotiate(offer, []Codec{PCMU})
	if err != nil || ans.Codec != PCMU {
		t.Fatalf("got %+v, %v; want PCMU", ans, err)
	}
	// A dynamic PT for PCMU is kept, and a wrong clock rate does not match.
	offer = &Session{Codecs: []Codec{{Name: "PCMU", PayloadType: 112, ClockRate: 16000}, {Name: "PCMU", PayloadType: 111, ClockRate: 8000}}}
	ans, err = Negotiate(offer, nil)
	if err != nil || ans.Codec != (Codec{Name: "PCMU", PayloadType: 111, ClockRate: 8000}) {
		t.Fatalf("got %+v, %v", ans, err)
	}
	if _, err := Negotiate(&Session{}, nil); !errors.Is(err, ErrNoCommonCodec) {
		t.Fatalf("empty offer: err = %v", err)
	}
	if _, err := Negotiate(nil, nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("nil offer: err = %v", err)
	}
}

func TestParseDetails(t *testing.T) {
	s, err := Parse(offerBaresip)
	if err != nil {
		t.Fatal(err)
	}
	want := []Codec{
		{Name: "opus", PayloadType: 96, ClockRate: 48000},
		{Name: "G722", PayloadType: 9, ClockRate: 8000},
		PCMU, PCMA,
	}
	if len(s.Codecs) != len(want) {
		t.Fatalf("codecs = %+v, want %+v", s.Codecs, want)
	}
	for i := range want {
		if s.Codecs[i] != want[i] {
			t.Errorf("codec %d = %+v, want %+v", i, s.Codecs[i], want[i])
		}
	}
	// sipp play_dtmf: PT 97 no-op is a codec we do not know, kept in the list.
	s, err = Parse(offerSippPlayDTMF)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Codecs) != 2 || s.Codecs[1].Name != "no-op" || s.DTMFPayloadType != 96 {
		t.Errorf("play_dtmf session = %+v", s)
	}
}

func TestParseMalformed(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
	}{
		{"empty", "", ErrMalformed},
		{"garbage", "hello world", ErrMalformed},
		{"no v=", "o=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n", ErrMalformed},
		{"bad port", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n", ErrMalformed},
		{"no c=", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n", ErrMalformed},
		{"hostname c=", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 pbx.example.com\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n", ErrMalformed},
		{"format not a number", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 7000 RTP/AVP PCMU\r\n", ErrMalformed},
		{"format 200", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 7000 RTP/AVP 200\r\n", ErrMalformed},
		{"bad rtpmap", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n", ErrMalformed},
		{"rtpmap rate", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\na=rtpmap:0 PCMU/fast\r\n", ErrMalformed},
		{"no audio", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=video 7000 RTP/AVP 31\r\n", ErrNoAudio},
		{"all audio port 0", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n", ErrNoAudio},
		{"too big", "v=0\r\n" + strings.Repeat("a=x\r\n", 20000), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse([]byte(tt.body))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse = %+v, %v; want error %v", s, err, tt.want)
			}
		})
	}
}

func TestBuildParseRoundTrip(t *testing.T) {
	tests := []Session{
		{Addr: netip.MustParseAddrPort("192.0.2.10:40000"), Codecs: []Codec{PCMU}, DTMFPayloadType: 101, PtimeMs: 20, Direction: SendRecv},
		{Addr: netip.MustParseAddrPort("192.0.2.10:40002"), Codecs: []Codec{PCMA, PCMU}, DTMFPayloadType: 96, PtimeMs: 20, Direction: SendOnly},
		{Addr: netip.MustParseAddrPort("[2001:db8::1]:40004"), Codecs: []Codec{PCMA}, PtimeMs: 20, Direction: Inactive},
	}
	for _, in := range tests {
		t.Run(in.Addr.String(), func(t *testing.T) {
			body, err := Build(Origin{SessionID: 42, Version: 3, Username: "kefu"}, in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Parse(body)
			if err != nil {
				t.Fatalf("Parse(Build) = %v\n%s", err, body)
			}
			if out.Addr != in.Addr || out.DTMFPayloadType != in.DTMFPayloadType || out.PtimeMs != in.PtimeMs || out.Direction != in.Direction {
				t.Errorf("round trip: got %+v, want %+v", out, in)
			}
			if len(out.Codecs) != len(in.Codecs) {
				t.Fatalf("codecs: got %+v, want %+v", out.Codecs, in.Codecs)
			}
			for i := range in.Codecs {
				if out.Codecs[i] != in.Codecs[i] {
					t.Errorf("codec %d: got %+v, want %+v", i, out.Codecs[i], in.Codecs[i])
				}
			}
		})
	}
}

func TestBuildExact(t *testing.T) {
	body, err := Build(Origin{SessionID: 1234, Version: 2}, Session{
		Addr:            netip.MustParseAddrPort("192.0.2.10:40000"),
		Codecs:          []Codec{PCMA},
		DTMFPayloadType: 101,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "v=0\r\n" +
		"o=- 1234 2 IN IP4 192.0.2.10\r\n" +
		"s=Kefu\r\n" +
		"c=IN IP4 192.0.2.10\r\n" +
		"t=0 0\r\n" +
		"m=audio 40000 RTP/AVP 8 101\r\n" +
		"a=rtpmap:8 PCMA/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\n" +
		"a=fmtp:101 0-16\r\n" +
		"a=ptime:20\r\n" +
		"a=sendrecv\r\n"
	if string(body) != want {
		t.Errorf("Build =\n%s\nwant\n%s", body, want)
	}
}

func TestBuildErrors(t *testing.T) {
	ok := Session{Addr: netip.MustParseAddrPort("192.0.2.1:4000"), Codecs: []Codec{PCMU}}
	tests := []struct {
		name string
		edit func(*Session)
	}{
		{"no addr", func(s *Session) { s.Addr = netip.AddrPort{} }},
		{"no codecs", func(s *Session) { s.Codecs = nil }},
		{"pt 200", func(s *Session) { s.Codecs = []Codec{{Name: "PCMU", PayloadType: 200}} }},
		{"duplicate pt", func(s *Session) { s.Codecs = []Codec{PCMU, {Name: "PCMA", PayloadType: 0}} }},
		{"te clashes", func(s *Session) {
			s.DTMFPayloadType = 0
			s.Codecs = []Codec{PCMU, {Name: "PCMA", PayloadType: 101}}
			s.DTMFPayloadType = 101
		}},
		{"bad direction", func(s *Session) { s.Direction = "sideways" }},
		{"bad other m= line", func(s *Session) { s.Others = []MediaLine{{Media: "video"}} }},
		{"zone", func(s *Session) { s.Addr = netip.MustParseAddrPort("[fe80::1%eth0]:4000") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.edit(&s)
			origin := Origin{}
			if tt.name == "username with space" {
				origin.Username = "kefu ivr"
			}
			if _, err := Build(origin, s); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestAnswerFor(t *testing.T) {
	offer, err := Parse(offerSippPcap)
	if err != nil {
		t.Fatal(err)
	}
	local := netip.MustParseAddrPort("127.0.0.1:40000")
	sess, ans, err := AnswerFor(offer, local, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sess.Addr != local || len(sess.Codecs) != 1 || sess.Codecs[0] != PCMA || sess.DTMFPayloadType != 101 || sess.PtimeMs != 20 {
		t.Errorf("answer session = %+v", sess)
	}
	if ans.Codec != PCMA || ans.DTMFPayloadType != 101 || ans.Remote != offer.Addr {
		t.Errorf("answer = %+v", ans)
	}
	body, err := Build(Origin{SessionID: 1, Version: 1}, sess)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), "m=audio 40000 RTP/AVP 8 101\r\n") {
		t.Errorf("body:\n%s", body)
	}
	offer, _ = Parse(offerG729Only)
	if _, _, err := AnswerFor(offer, local, nil); !errors.Is(err, ErrNoCommonCodec) {
		t.Errorf("G729: err = %v", err)
	}
}

func TestAcceptAnswer(t *testing.T) {
	offered := Session{Addr: netip.MustParseAddrPort("10.0.0.1:40000"), Codecs: []Codec{PCMU, PCMA}, DTMFPayloadType: 101}
	answer := &Session{Addr: netip.MustParseAddrPort("10.0.0.2:17000"), Codecs: []Codec{PCMA}, DTMFPayloadType: 101, Direction: RecvOnly}
	ans, err := AcceptAnswer(offered, answer)
	if err != nil {
		t.Fatal(err)
	}
	if ans.Codec != PCMA || ans.DTMFPayloadType != 101 || ans.Remote != answer.Addr || ans.Direction != SendOnly {
		t.Errorf("got %+v", ans)
	}
	offered.DTMFPayloadType = 0
	if ans, _ := AcceptAnswer(offered, answer); ans.DTMFPayloadType != 0 {
		t.Errorf("te not offered but accepted: %+v", ans)
	}
	answer.Codecs = []Codec{{Name: "G729", PayloadType: 18, ClockRate: 8000}}
	if _, err := AcceptAnswer(offered, answer); !errors.Is(err, ErrNoCommonCodec) {
		t.Errorf("err = %v", err)
	}
}

func TestAnswerKeepsMediaLines(t *testing.T) {
	offer, err := Parse(offerPort0First)
	if err != nil {
		t.Fatal(err)
	}
	sess, _, err := AnswerFor(offer, netip.MustParseAddrPort("192.0.2.10:40000"), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := Build(Origin{SessionID: 1, Version: 1}, sess)
	if err != nil {
		t.Fatal(err)
	}
	var mlines []string
	for line := range strings.Lines(string(body)) {
		if strings.HasPrefix(line, "m=") {
			mlines = append(mlines, strings.TrimSpace(line))
		}
	}
	want := []string{"m=audio 0 RTP/AVP 0", "m=video 0 RTP/AVP 31", "m=audio 40000 RTP/AVP 0 101"}
	if strings.Join(mlines, "|") != strings.Join(want, "|") {
		t.Errorf("m= lines %q, want %q\n%s", mlines, want, body)
	}
	again, err := Parse(body)
	if err != nil || again.AudioIndex != 2 || again.Addr.Port() != 40000 {
		t.Errorf("reparse: %+v, %v", again, err)
	}

	// Best-effort SRTP: an RTP/SAVP line first, then plain RTP/AVP.
	offer, err = Parse(crlf(`
v=0
o=- 1 1 IN IP4 10.0.0.9
s=-
c=IN IP4 10.0.0.9
t=0 0
m=audio 7078 RTP/SAVP 8
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz
m=audio 7080 RTP/AVP 8
`))
	if err != nil {
		t.Fatal(err)
	}
	if offer.Addr.Port() != 7080 || offer.AudioIndex != 1 || len(offer.Others) != 1 || offer.Others[0].Proto != "RTP/SAVP" {
		t.Errorf("offer %+v", offer)
	}
}
