package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"kefu/sip/sdp"
)

// chunk renders a RIFF chunk with its pad byte.
func chunk(id string, body []byte) []byte {
	b := append([]byte(id), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(body)))
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func fmtBody(format, channels uint16, rate uint32, bits uint16) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b[0:], format)
	binary.LittleEndian.PutUint16(b[2:], channels)
	binary.LittleEndian.PutUint32(b[4:], rate)
	blockAlign := channels * bits / 8
	binary.LittleEndian.PutUint32(b[8:], rate*uint32(blockAlign))
	binary.LittleEndian.PutUint16(b[12:], blockAlign)
	binary.LittleEndian.PutUint16(b[14:], bits)
	return b
}

func extensibleFmt(sub uint16) []byte {
	b := fmtBody(wavExtensible, 1, 8000, 16)
	ext := make([]byte, 24)
	binary.LittleEndian.PutUint16(ext[0:], 22) // cbSize
	binary.LittleEndian.PutUint16(ext[2:], 16) // valid bits
	binary.LittleEndian.PutUint32(ext[4:], 4)  // channel mask
	binary.LittleEndian.PutUint16(ext[8:], sub)
	copy(ext[10:], "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xAA\x00\x38\x9B\x71")
	return append(b, ext...)
}

func riff(chunks ...[]byte) []byte {
	var body []byte
	for _, c := range chunks {
		body = append(body, c...)
	}
	b := append([]byte("RIFF"), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[4:], uint32(4+len(body)))
	b = append(b, "WAVE"...)
	return append(b, body...)
}

func pcmBytes(pcm []int16) []byte {
	b := make([]byte, 2*len(pcm))
	for i, x := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(x))
	}
	return b
}

// WAVPCM16 renders 8 kHz mono 16-bit PCM as a WAV file.
func wavPCM16(pcm []int16) []byte {
	return riff(chunk("fmt ", fmtBody(wavPCM, 1, 8000, 16)), chunk("data", pcmBytes(pcm)))
}

func TestDecodeWAV(t *testing.T) {
	pcm := []int16{0, 1000, -1000, 32767, -32768, 5}
	ulaw := []byte{0xFF, 0x00, 0x80, 0x7F}
	alaw := []byte{0xD5, 0x55, 0x2A, 0xAA}
	decode := func(codes []byte, f func(byte) int16) []int16 {
		out := make([]int16, len(codes))
		for i, c := range codes {
			out[i] = f(c)
		}
		return out
	}
	tests := []struct {
		name string
		data []byte
		want []int16
		err  string // substring; "" = success
	}{
		{"pcm16", wavPCM16(pcm), pcm, ""},
		{"ulaw", riff(chunk("fmt ", fmtBody(wavULaw, 1, 8000, 8)), chunk("data", ulaw)), decode(ulaw, DecodeUlaw), ""},
		{"alaw", riff(chunk("fmt ", fmtBody(wavALaw, 1, 8000, 8)), chunk("data", alaw)), decode(alaw, DecodeAlaw), ""},
		{"extensible pcm", riff(chunk("fmt ", extensibleFmt(wavPCM)), chunk("data", pcmBytes(pcm))), pcm, ""},
		{"fmt 18 bytes (cbSize 0)", riff(chunk("fmt ", append(fmtBody(wavPCM, 1, 8000, 16), 0, 0)), chunk("data", pcmBytes(pcm))), pcm, ""},
		{"LIST and odd chunk skipped", riff(chunk("LIST", []byte("INFOISFT\x05\x00\x00\x00Lavf\x00")), chunk("fmt ", fmtBody(wavPCM, 1, 8000, 16)), chunk("odd ", []byte{1, 2, 3}), chunk("data", pcmBytes(pcm)), chunk("id3 ", []byte("x"))), pcm, ""},
		{"odd data chunk, ulaw, pad byte", riff(chunk("fmt ", fmtBody(wavULaw, 1, 8000, 8)), chunk("data", ulaw[:3]), chunk("LIST", nil)), decode(ulaw[:3], DecodeUlaw), ""},
		{"missing final pad byte", riff(chunk("fmt ", fmtBody(wavULaw, 1, 8000, 8)), chunk("data", ulaw[:3]))[:8+4+24+8+3], decode(ulaw[:3], DecodeUlaw), ""},
		{"odd byte in pcm16 data ignored", riff(chunk("fmt ", fmtBody(wavPCM, 1, 8000, 16)), chunk("data", append(pcmBytes(pcm), 9))), pcm, ""},
		{"streamed size 0xFFFFFFFF", func() []byte {
			b := wavPCM16(pcm)
			binary.LittleEndian.PutUint32(b[40:], 0xFFFFFFFF)
			return b
		}(), pcm, ""},
		{"streamed size 0", func() []byte {
			b := wavPCM16(pcm)
			binary.LittleEndian.PutUint32(b[40:], 0)
			return b
		}(), pcm, ""},
		{"22050 Hz", riff(chunk("fmt ", fmtBody(wavPCM, 1, 22050, 16)), chunk("data", pcmBytes(pcm))), nil, "prompt must be 8 kHz mono: got 22050 Hz 1 channel(s); convert with: sox in.wav -r 8000 -c 1 -b 16 out.wav"},
		{"stereo", riff(chunk("fmt ", fmtBody(wavPCM, 2, 8000, 16)), chunk("data", pcmBytes(pcm))), nil, "got 8000 Hz 2 channel(s)"},
		{"8-bit pcm", riff(chunk("fmt ", fmtBody(wavPCM, 1, 8000, 8)), chunk("data", ulaw)), nil, "unsupported encoding: format 1 with 8 bits"},
		{"float", riff(chunk("fmt ", fmtBody(3, 1, 8000, 32)), chunk("data", pcmBytes(pcm))), nil, "unsupported encoding: format 3"},
		{"extensible float", riff(chunk("fmt ", extensibleFmt(3)), chunk("data", pcmBytes(pcm))), nil, "unsupported encoding: format 3"},
		{"extensible too short", riff(chunk("fmt ", fmtBody(wavExtensible, 1, 8000, 16)), chunk("data", pcmBytes(pcm))), nil, "WAVE_FORMAT_EXTENSIBLE"},
		{"truncated data", wavPCM16(pcm)[:44+5], nil, "data chunk truncated: header declares 12 bytes, file has 5"},
		{"truncated fmt", riff(chunk("fmt ", fmtBody(wavPCM, 1, 8000, 16)))[:20], nil, `"fmt " chunk truncated`},
		{"short fmt", riff(chunk("fmt ", []byte{1, 0, 1, 0})), nil, "fmt chunk is 4 bytes"},
		{"no fmt", riff(chunk("data", pcmBytes(pcm))), nil, "no fmt chunk"},
		{"no data", riff(chunk("fmt ", fmtBody(wavPCM, 1, 8000, 16))), nil, "no data chunk"},
		{"empty data", riff(chunk("fmt ", fmtBody(wavPCM, 1, 8000, 16)), chunk("data", nil), chunk("LIST", []byte("ab"))), nil, "no samples"},
		{"not riff", []byte("ID3\x03hello world, not a wav"), nil, "not a RIFF/WAVE file"},
		{"empty", nil, nil, "not a RIFF/WAVE file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeWAV(tt.data)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, errBadWAV) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d samples %v, want %v", len(got), got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("sample %d = %d, want %d", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func FuzzDecodeWAV(f *testing.F) {
	pcm := []int16{0, 1000, -1000, 32767, -32768}
	f.Add(wavPCM16(pcm))
	f.Add(riff(chunk("fmt ", fmtBody(wavULaw, 1, 8000, 8)), chunk("data", []byte{1, 2, 3})))
	f.Add(riff(chunk("fmt ", fmtBody(wavALaw, 1, 8000, 8)), chunk("data", []byte{1, 2, 3, 4})))
	f.Add(riff(chunk("fmt ", extensibleFmt(wavPCM)), chunk("LIST", []byte("abc")), chunk("data", pcmBytes(pcm))))
	f.Add(wavPCM16(pcm)[:47])
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pcm, err := DecodeWAV(data)
		if err != nil {
			if !errors.Is(err, errBadWAV) {
				t.Fatalf("error does not wrap errBadWAV: %v", err)
			}
			return
		}
		if len(pcm) == 0 || len(pcm) > len(data) {
			t.Fatalf("%d samples from %d bytes", len(pcm), len(data))
		}
		// An 8 kHz mono file is one that DecodeWAVRate reads the same way.
		same, rate, err := DecodeWAVRate(data)
		if err != nil || rate != SampleRate || !slices.Equal(same, pcm) {
			t.Fatalf("DecodeWAVRate disagrees with DecodeWAV: %d Hz, %v", rate, err)
		}
	})
}

func TestLoadCatalog(t *testing.T) {
	dir := t.TempDir()
	tone := make([]int16, 8000+40) // 1.005 s: the last frame is padded
	for i := range tone {
		tone[i] = int16(8000 * ((i/10)%2*2 - 1))
	}
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("welcome.wav", wavPCM16(tone))
	write("menu.WAV", riff(chunk("fmt ", fmtBody(wavALaw, 1, 8000, 8)), chunk("data", []byte{0x2A, 0xAA})))
	write("readme.txt", []byte("not a prompt"))
	if err := os.Mkdir(filepath.Join(dir, "sub.wav"), 0o700); err != nil {
		t.Fatal(err)
	}
	c, err := LoadCatalog(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Names(), ","); got != "menu,welcome" || c.Len() != 2 {
		t.Fatalf("names = %s", got)
	}
	if !c.Has("welcome") || c.Has("readme") || c.Has("sub") {
		t.Error("Has")
	}
	p, ok := c.Get("welcome")
	if !ok || p.Name != "welcome" {
		t.Fatal("Get")
	}
	if p.Duration().Milliseconds() != 1005 || p.FrameCount() != 51 {
		t.Errorf("duration %v, frames %d", p.Duration(), p.FrameCount())
	}
	last := p.Frame(sdp.PCMU, 50)
	if last[39] != EncodeUlaw(tone[8039]) || last[40] != UlawSilence || last[159] != UlawSilence {
		t.Error("last PCMU frame not padded with silence")
	}
	if p.Frame(sdp.PCMA, 50)[40] != AlawSilence {
		t.Error("last PCMA frame not padded with silence")
	}
	frames := p.Frames(sdp.PCMA)
	if len(frames) != 51 || frames[0][0] != EncodeAlaw(tone[0]) || len(frames[3]) != FrameSamples {
		t.Error("Frames")
	}

	write("broken.wav", []byte("RIFF"))
	_, err = LoadCatalog(dir)
	if err == nil || !strings.Contains(err.Error(), "broken.wav") || !errors.Is(err, errBadWAV) {
		t.Errorf("err = %v, want one naming broken.wav", err)
	}
	if _, err := LoadCatalog(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing dir: %v", err)
	}
}

func TestDecodeWAVRate(t *testing.T) {
	pcm := []int16{0, 1000, -1000, 32767, -32768, 5}
	ulaw := []byte{0xFF, 0x00, 0x80, 0x7F}
	tests := []struct {
		name     string
		data     []byte
		want     []int16
		wantRate int
		err      string // substring; "" = success
	}{
		{"espeak-ng 22050 Hz pcm16", riff(chunk("fmt ", fmtBody(wavPCM, 1, 22050, 16)), chunk("data", pcmBytes(pcm))), pcm, 22050, ""},
		{"8 kHz", wavPCM16(pcm), pcm, 8000, ""},
		{"16 kHz ulaw", riff(chunk("fmt ", fmtBody(wavULaw, 1, 16000, 8)), chunk("data", ulaw)), []int16{DecodeUlaw(0xFF), DecodeUlaw(0), DecodeUlaw(0x80), DecodeUlaw(0x7F)}, 16000, ""},
		{"streamed (espeak-ng --stdout)", func() []byte {
			b := riff(chunk("fmt ", fmtBody(wavPCM, 1, 22050, 16)), chunk("data", pcmBytes(pcm)))
			binary.LittleEndian.PutUint32(b[40:], 0x7FFFF000)
			return b
		}(), nil, 0, "data chunk truncated"},
		{"stereo", riff(chunk("fmt ", fmtBody(wavPCM, 2, 22050, 16)), chunk("data", pcmBytes(pcm))), nil, 0, "must be mono at a non-zero rate: got 22050 Hz 2 channel(s)"},
		{"rate 0", riff(chunk("fmt ", fmtBody(wavPCM, 1, 0, 16)), chunk("data", pcmBytes(pcm))), nil, 0, "got 0 Hz 1 channel(s)"},
		{"float", riff(chunk("fmt ", fmtBody(3, 1, 22050, 32)), chunk("data", pcmBytes(pcm))), nil, 0, "unsupported encoding: format 3"},
		{"no data", riff(chunk("fmt ", fmtBody(wavPCM, 1, 22050, 16))), nil, 0, "no data chunk"},
		{"not riff", []byte("hello"), nil, 0, "not a RIFF/WAVE file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rate, err := DecodeWAVRate(tt.data)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, errBadWAV) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rate != tt.wantRate || !slices.Equal(got, tt.want) {
				t.Fatalf("got %d Hz %v, want %d Hz %v", rate, got, tt.wantRate, tt.want)
			}
		})
	}
}

func TestEncodeWAV(t *testing.T) {
	tests := []struct {
		name string
		pcm  []int16
	}{
		{"one sample", []int16{-1}},
		{"extremes", []int16{0, 32767, -32768, 1, -1}},
		{"one second", make([]int16, 8000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := EncodeWAV(tt.pcm)
			if len(data) != 44+2*len(tt.pcm) {
				t.Fatalf("%d bytes for %d samples", len(data), len(tt.pcm))
			}
			if want := wavPCM16(tt.pcm); !bytes.Equal(data, want) {
				t.Fatalf("header differs from the reference:\n got % x\nwant % x", data[:44], want[:44])
			}
			got, err := DecodeWAV(data)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.pcm) {
				t.Fatal("round trip changed the samples")
			}
		})
	}
}

func FuzzEncodeWAV(f *testing.F) {
	f.Add([]byte{0x00, 0x80})
	f.Add([]byte{0xFF, 0x7F, 0x01, 0x00, 0x02})
	f.Fuzz(func(t *testing.T, raw []byte) {
		pcm := make([]int16, len(raw)/2)
		for i := range pcm {
			pcm[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
		}
		got, err := DecodeWAV(EncodeWAV(pcm))
		if len(pcm) == 0 {
			if err == nil {
				t.Fatal("an empty WAV decoded without error")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, pcm) {
			t.Fatal("round trip changed the samples")
		}
	})
}
