package media

// G.711 (ITU-T G.711) companding between 16-bit linear PCM and 8-bit μ-law /
// A-law codes, written from the standard's segment definitions.
//
// μ-law works on |x|+132 (the bias), clipped at 32635: the exponent is the
// position of the highest set bit above bit 7, the mantissa the next 4 bits,
// and the code is the bitwise complement of sign|exponent|mantissa. A-law
// works on the 13 most significant bits: segment 0 is linear, segments 1-7
// are logarithmic, and the code is XOR 0x55 with the sign bit set for
// positive values.
//
// Round trips, as the tests check:
//   - every A-law code decodes to a distinct value, so EncodeAlaw(DecodeAlaw(c)) == c
//     for all 256 codes;
//   - μ-law has two zeros: 0xFF (+0) and 0x7F (-0) both decode to 0, and 0
//     encodes to 0xFF, so EncodeUlaw(DecodeUlaw(0x7F)) == 0xFF; the other 255
//     codes round-trip exactly;
//   - for linear input the error is at most half a quantisation step, at most
//     max(8, (|x|+132)/32), except above the largest code (μ-law 32124, A-law 32256),
//     where values clip;
//   - A-law has no zero: its silence code 0xD5 decodes to +8, which μ-law
//     codes as 0xFE, so AlawToUlaw(AlawSilence) is 0xFE, not UlawSilence.

const (
	ulawBias = 0x84
	ulawClip = 32635
)

// Silence bytes for a 160-byte frame of digital silence.
const (
	UlawSilence byte = 0xFF
	AlawSilence byte = 0xD5
)

// EncodeUlaw compresses one linear sample to μ-law.
func EncodeUlaw(x int16) byte {
	v := int32(x)
	var sign byte
	if v < 0 {
		v = -v
		sign = 0x80
	}
	if v > ulawClip {
		v = ulawClip
	}
	v += ulawBias
	exp := byte(7)
	for mask := int32(0x4000); v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := byte(v>>(exp+3)) & 0x0F
	return ^(sign | exp<<4 | mant)
}

// DecodeUlaw expands one μ-law code to a linear sample.
func DecodeUlaw(u byte) int16 { return ulawDecode[u] }

// EncodeAlaw compresses one linear sample to A-law.
func EncodeAlaw(x int16) byte {
	v := int32(x)
	sign := byte(0x80) // A-law: sign bit set = positive
	if v < 0 {
		v = -v
		sign = 0
	}
	v >>= 3 // 13-bit magnitude
	if v > 0x0FFF {
		v = 0x0FFF
	}
	var code byte
	if v < 32 {
		code = byte(v >> 1)
	} else {
		seg := byte(1)
		for v>>(seg+5) != 0 {
			seg++
		}
		code = seg<<4 | byte(v>>seg)&0x0F
	}
	return (sign | code) ^ 0x55
}

// DecodeAlaw expands one A-law code to a linear sample.
func DecodeAlaw(a byte) int16 { return alawDecode[a] }

// UlawToAlaw transcodes one μ-law code to A-law (via linear PCM).
func UlawToAlaw(u byte) byte { return ulawToAlaw[u] }

// AlawToUlaw transcodes one A-law code to μ-law (via linear PCM).
func AlawToUlaw(a byte) byte { return alawToUlaw[a] }

// TranscodeUlawToAlaw writes len(src) A-law codes to dst, which must be at
// least as long as src.
func TranscodeUlawToAlaw(dst, src []byte) {
	dst = dst[:len(src)]
	for i, u := range src {
		dst[i] = ulawToAlaw[u]
	}
}

// TranscodeAlawToUlaw writes len(src) μ-law codes to dst, which must be at
// least as long as src.
func TranscodeAlawToUlaw(dst, src []byte) {
	dst = dst[:len(src)]
	for i, a := range src {
		dst[i] = alawToUlaw[a]
	}
}

// Immutable lookup tables, computed once at package initialisation and never
// written afterwards (unexported so no other package can change them).
var (
	ulawDecode = func() (t [256]int16) {
		for i := range t {
			u := ^byte(i)
			exp := (u >> 4) & 7
			mant := int32(u & 0x0F)
			v := ((mant << 3) + ulawBias) << exp
			v -= ulawBias
			if u&0x80 != 0 {
				v = -v
			}
			t[i] = int16(v)
		}
		return t
	}()
	alawDecode = func() (t [256]int16) {
		for i := range t {
			a := byte(i) ^ 0x55
			seg := (a >> 4) & 7
			mant := int32(a & 0x0F)
			v := mant<<4 + 8
			if seg > 0 {
				v += 0x100
			}
			if seg > 1 {
				v <<= seg - 1
			}
			if a&0x80 == 0 {
				v = -v
			}
			t[i] = int16(v)
		}
		return t
	}()
	ulawToAlaw = func() (t [256]byte) {
		for i := range t {
			t[i] = EncodeAlaw(ulawDecode[i])
		}
		return t
	}()
	alawToUlaw = func() (t [256]byte) {
		for i := range t {
			t[i] = EncodeUlaw(alawDecode[i])
		}
		return t
	}()
)
