package media

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// errBadWAV is wrapped by every DecodeWAV error.
var errBadWAV = errors.New("media: bad WAV")

// WAV format tags (the fmt chunk's wFormatTag).
const (
	wavPCM        = 1
	wavALaw       = 6
	wavULaw       = 7
	wavExtensible = 0xFFFE
)

// convertHint tells an operator how to fix an unsupported prompt.
const convertHint = "convert with: sox in.wav -r 8000 -c 1 -b 16 out.wav"

// DecodeWAV decodes a RIFF/WAVE prompt to 16-bit linear PCM. The fmt chunk
// must describe 8000 Hz mono audio as 16-bit PCM (format 1, or
// WAVE_FORMAT_EXTENSIBLE with the PCM sub-format), μ-law (7) or A-law (6).
// Unknown chunks (LIST, fact, cue, ...) are skipped, odd-sized chunks are
// padded to even as RIFF requires, and a data chunk whose declared size is
// 0 or 0xFFFFFFFF at the end of the file (written by a streaming encoder)
// extends to the end of the file. A truncated data chunk is an error. The RIFF
// size in the header is not trusted. Errors say what is wrong and how to fix it.
func DecodeWAV(data []byte) ([]int16, error) {
	h, samples, err := parseWAV(data)
	if err != nil {
		return nil, err
	}
	if h.rate != SampleRate || h.channels != 1 {
		return nil, fmt.Errorf("%w: prompt must be 8 kHz mono: got %d Hz %d channel(s); %s", errBadWAV, h.rate, h.channels, convertHint)
	}
	return decodeSamples(h, samples)
}

// DecodeWAVRate is DecodeWAV for mono audio at any sample rate, which it
// returns: for audio that is resampled to 8 kHz before NewPrompt (e.g. the
// 22050 Hz output of a speech synthesiser). The same encodings are accepted.
func DecodeWAVRate(data []byte) (pcm []int16, rate int, err error) {
	h, samples, err := parseWAV(data)
	if err != nil {
		return nil, 0, err
	}
	if h.channels != 1 || h.rate == 0 {
		return nil, 0, fmt.Errorf("%w: audio must be mono at a non-zero rate: got %d Hz %d channel(s); %s", errBadWAV, h.rate, h.channels, convertHint)
	}
	pcm, err = decodeSamples(h, samples)
	if err != nil {
		return nil, 0, err
	}
	return pcm, int(h.rate), nil
}

// wavFormat is what DecodeWAV uses of a fmt chunk.
type wavFormat struct {
	format, channels, bits uint16
	rate                   uint32
	haveData               bool // a data chunk was found
}

// parseWAV walks the RIFF chunks and returns the fmt chunk's description and
// the first data chunk's bytes.
func parseWAV(data []byte) (wavFormat, []byte, error) {
	var (
		h       wavFormat
		haveFmt bool
		samples []byte
	)
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return h, nil, fmt.Errorf("%w: not a RIFF/WAVE file (no RIFF....WAVE header)", errBadWAV)
	}
	rest := data[12:]
	for len(rest) >= 8 {
		id := string(rest[0:4])
		size := binary.LittleEndian.Uint32(rest[4:8])
		rest = rest[8:]
		if id == "data" && (size == 0xFFFFFFFF || (size == 0 && len(rest) > 0 && !hasChunkAfter(rest))) {
			size = uint32(len(rest)) //nolint:gosec // streamed WAV: the data runs to the end of the file
		}
		if uint64(size) > uint64(len(rest)) {
			if id == "data" {
				return h, nil, fmt.Errorf("%w: data chunk truncated: header declares %d bytes, file has %d; the file is incomplete, export it again", errBadWAV, size, len(rest))
			}
			return h, nil, fmt.Errorf("%w: %q chunk truncated: declares %d bytes, file has %d; the file is incomplete, export it again", errBadWAV, id, size, len(rest))
		}
		body := rest[:size]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return h, nil, fmt.Errorf("%w: fmt chunk is %d bytes, want at least 16", errBadWAV, len(body))
			}
			haveFmt = true
			h.format = binary.LittleEndian.Uint16(body[0:2])
			h.channels = binary.LittleEndian.Uint16(body[2:4])
			h.rate = binary.LittleEndian.Uint32(body[4:8])
			h.bits = binary.LittleEndian.Uint16(body[14:16])
			if h.format == wavExtensible {
				if len(body) < 26 {
					return h, nil, fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE fmt chunk is %d bytes, want 40", errBadWAV, len(body))
				}
				// The sub-format GUID starts at offset 24; its first two bytes
				// are the classic format tag.
				h.format = binary.LittleEndian.Uint16(body[24:26])
			}
		case "data":
			if !h.haveData {
				samples = body
				h.haveData = true
			}
		}
		// Chunks are padded to an even size; a missing final pad byte is fine.
		adv := int(size) + int(size&1)
		if adv > len(rest) {
			adv = len(rest)
		}
		rest = rest[adv:]
	}
	if !haveFmt {
		return h, nil, fmt.Errorf("%w: no fmt chunk", errBadWAV)
	}
	return h, samples, nil
}

// decodeSamples converts a data chunk described by h to linear PCM.
func decodeSamples(h wavFormat, samples []byte) ([]int16, error) {
	if !h.haveData {
		return nil, fmt.Errorf("%w: no data chunk", errBadWAV)
	}
	var pcm []int16
	switch {
	case h.format == wavPCM && h.bits == 16:
		pcm = make([]int16, len(samples)/2) // an odd trailing byte is ignored
		for i := range pcm {
			pcm[i] = int16(binary.LittleEndian.Uint16(samples[2*i:])) //nolint:gosec // two's complement
		}
	case h.format == wavULaw && h.bits == 8:
		pcm = make([]int16, len(samples))
		for i, b := range samples {
			pcm[i] = DecodeUlaw(b)
		}
	case h.format == wavALaw && h.bits == 8:
		pcm = make([]int16, len(samples))
		for i, b := range samples {
			pcm[i] = DecodeAlaw(b)
		}
	default:
		return nil, fmt.Errorf("%w: unsupported encoding: format %d with %d bits; want 16-bit PCM, 8-bit μ-law or 8-bit A-law; %s", errBadWAV, h.format, h.bits, convertHint)
	}
	if len(pcm) == 0 {
		return nil, fmt.Errorf("%w: data chunk has no samples", errBadWAV)
	}
	return pcm, nil
}

// EncodeWAV renders 8 kHz mono linear PCM as a canonical 44-byte-header WAV
// file (16-bit PCM, format 1) that DecodeWAV reads back unchanged.
func EncodeWAV(pcm []int16) []byte {
	const header = 44
	dataLen := 2 * len(pcm)
	b := make([]byte, header+dataLen)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(header-8+dataLen)) //nolint:gosec // prompts are far below 4 GiB
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], wavPCM)
	binary.LittleEndian.PutUint16(b[22:], 1) // mono
	binary.LittleEndian.PutUint32(b[24:], SampleRate)
	binary.LittleEndian.PutUint32(b[28:], SampleRate*2) // byte rate
	binary.LittleEndian.PutUint16(b[32:], 2)            // block align
	binary.LittleEndian.PutUint16(b[34:], 16)           // bits per sample
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(dataLen)) //nolint:gosec // see above
	for i, x := range pcm {
		binary.LittleEndian.PutUint16(b[header+2*i:], uint16(x)) //nolint:gosec // two's complement
	}
	return b
}

// hasChunkAfter is false for a streamed data chunk (declared size 0) that is
// the last thing in the file; it is true when what follows the zero-sized
// data chunk header looks like another chunk header, i.e. the data chunk is
// genuinely empty.
func hasChunkAfter(rest []byte) bool {
	if len(rest) < 8 {
		return false
	}
	for _, c := range rest[:4] {
		if c < 0x20 || c > 0x7E {
			return false
		}
	}
	return uint64(binary.LittleEndian.Uint32(rest[4:8])) <= uint64(len(rest)-8)
}
