package media

import (
	"math"
	"testing"
)

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

func TestG711Linear(t *testing.T) {
	codecs := []struct {
		name string
		enc  func(int16) byte
		dec  func(byte) int16
		max  int32 // largest decodable magnitude
	}{
		{"ulaw", EncodeUlaw, DecodeUlaw, 32124},
		{"alaw", EncodeAlaw, DecodeAlaw, 32256},
	}
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			prev := int32(math.MinInt32)
			for x := int32(math.MinInt16); x <= math.MaxInt16; x++ {
				y := int32(c.dec(c.enc(int16(x))))
				mag := abs32(x)
				bound := max(8, (mag+132)/32)
				if mag > c.max {
					bound = mag - c.max
				}
				if e := abs32(y - x); e > bound {
					t.Fatalf("x=%d: decoded %d, error %d > %d", x, y, e, bound)
				}
				if y < prev {
					t.Fatalf("x=%d: not monotonic: %d after %d", x, y, prev)
				}
				prev = y
			}
		})
	}
}

func TestG711Codes(t *testing.T) {
	for i := range 256 {
		c := byte(i)
		if got := EncodeAlaw(DecodeAlaw(c)); got != c {
			t.Errorf("alaw code %#02x: round trip %#02x", c, got)
		}
		want := c
		if c == 0x7F { // μ-law -0 decodes to 0, which encodes as +0
			want = 0xFF
		}
		if got := EncodeUlaw(DecodeUlaw(c)); got != want {
			t.Errorf("ulaw code %#02x: round trip %#02x, want %#02x", c, got, want)
		}
	}
	if DecodeUlaw(UlawSilence) != 0 || DecodeUlaw(0x7F) != 0 {
		t.Error("ulaw zeros")
	}
	if d := DecodeAlaw(AlawSilence); d != 8 {
		t.Errorf("alaw silence decodes to %d, want 8", d)
	}
	if EncodeUlaw(0) != UlawSilence || EncodeAlaw(0) != AlawSilence {
		t.Error("silence codes")
	}
}

func TestG711Transcode(t *testing.T) {
	for i := range 256 {
		u := byte(i)
		a := UlawToAlaw(u)
		if d := abs32(int32(DecodeAlaw(a)) - int32(DecodeUlaw(u))); d > (abs32(int32(DecodeUlaw(u)))+132)/16 {
			t.Errorf("ulaw %#02x -> alaw %#02x: %d vs %d", u, a, DecodeUlaw(u), DecodeAlaw(a))
		}
		a = byte(i)
		u = AlawToUlaw(a)
		if d := abs32(int32(DecodeAlaw(a)) - int32(DecodeUlaw(u))); d > (abs32(int32(DecodeAlaw(a)))+132)/16 {
			t.Errorf("alaw %#02x -> ulaw %#02x: %d vs %d", a, u, DecodeAlaw(a), DecodeUlaw(u))
		}
	}
	// A-law has no zero code: its silence (+8) becomes μ-law 0xFE (+8).
	if UlawToAlaw(UlawSilence) != AlawSilence || DecodeUlaw(AlawToUlaw(AlawSilence)) != 8 {
		t.Errorf("silence: %#02x %#02x", UlawToAlaw(UlawSilence), AlawToUlaw(AlawSilence))
	}
	src := []byte{0x00, 0x7F, 0x80, 0xFF}
	dst := make([]byte, 4)
	TranscodeUlawToAlaw(dst, src)
	for i := range src {
		if dst[i] != UlawToAlaw(src[i]) {
			t.Fatal("TranscodeUlawToAlaw")
		}
	}
	TranscodeAlawToUlaw(dst, src)
	for i := range src {
		if dst[i] != AlawToUlaw(src[i]) {
			t.Fatal("TranscodeAlawToUlaw")
		}
	}
}
