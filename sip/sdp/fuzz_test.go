package sdp

import (
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, that every error wraps one of the
// package sentinels, and that a parsed session whose codecs we support can be
// answered and rendered.
func FuzzParse(f *testing.F) {
	for _, b := range [][]byte{
		offerSippUAC, offerSippPcap, offerSippPlayDTMF, offerBaresip, offerPCMAOnly,
		offerG729Only, offerIPv6, offerSessionC, offerPort0First, offerHold, offerLF, offerSAVP,
		[]byte(""), []byte("v=0\r\n"),
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := Parse(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNoAudio) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		sess, _, err := AnswerFor(s, s.Addr, nil)
		if err != nil {
			if !errors.Is(err, ErrNoCommonCodec) {
				t.Fatalf("AnswerFor: %v", err)
			}
			return
		}
		out, err := Build(Origin{SessionID: 1, Version: 1}, sess)
		if err != nil {
			t.Fatalf("Build(%+v): %v", sess, err)
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("Parse(Build()) = %v\n%s", err, out)
		}
	})
}
