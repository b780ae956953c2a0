package sdp

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"
)

// staticNames maps the static audio payload types of RFC 3551 table 4 that
// peers commonly offer without an rtpmap line.
var staticNames = map[uint8]string{
	0: "PCMU", 3: "GSM", 4: "G723", 8: "PCMA", 9: "G722", 13: "CN", 18: "G729",
}

// maxBody bounds the SDP bodies Parse accepts; real ones are well under 4 KiB.
const maxBody = 64 << 10

// Parse reads an SDP offer or answer. It uses the first m=audio line with a
// non-zero port and an RTP/AVP or RTP/AVPF transport; its c= line (or the
// session-level one) gives the address. rtpmap encoding names are matched
// case-insensitively, and the static payload types 0 (PCMU) and 8 (PCMA) are
// understood without rtpmap. Dynamic payload types without rtpmap are
// skipped. Syntax errors wrap ErrMalformed; a body without usable audio wraps
// ErrNoAudio.
func Parse(body []byte) (*Session, error) {
	if len(body) > maxBody {
		return nil, fmt.Errorf("%w: body is %d bytes, limit %d", ErrMalformed, len(body), maxBody)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrMalformed)
	}
	var desc psdp.SessionDescription
	if err := desc.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	var md *psdp.MediaDescription
	var others []MediaLine
	audioIndex := 0
	for i, m := range desc.MediaDescriptions {
		if md == nil && m.MediaName.Media == "audio" && m.MediaName.Port.Value != 0 && rtpProfile(m.MediaName.Protos) {
			md = m
			audioIndex = i
			continue
		}
		others = append(others, MediaLine{
			Media:   m.MediaName.Media,
			Proto:   strings.Join(m.MediaName.Protos, "/"),
			Formats: m.MediaName.Formats,
		})
	}
	if md == nil {
		return nil, fmt.Errorf("%w: no m=audio line with a non-zero port over RTP/AVP", ErrNoAudio)
	}

	conn := md.ConnectionInformation
	if conn == nil {
		conn = desc.ConnectionInformation
	}
	if conn == nil || conn.Address == nil {
		return nil, fmt.Errorf("%w: no c= line for the audio stream", ErrMalformed)
	}
	host := conn.Address.Address
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return nil, fmt.Errorf("%w: c= address %q is not an IP address: %w", ErrMalformed, host, err)
	}
	if addr.Zone() != "" {
		return nil, fmt.Errorf("%w: c= address %q has a zone", ErrMalformed, host)
	}
	s := &Session{
		Addr:       netip.AddrPortFrom(addr.Unmap(), uint16(md.MediaName.Port.Value)), //nolint:gosec // pion checks 0..65535
		Direction:  SendRecv,
		AudioIndex: audioIndex,
		Others:     others,
	}

	rtpmaps := map[uint8]Codec{}
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		pt, c, err := parseRtpmap(a.Value)
		if err != nil {
			return nil, err
		}
		if _, dup := rtpmaps[pt]; !dup {
			rtpmaps[pt] = c
		}
	}
	for _, f := range md.MediaName.Formats {
		n, err := strconv.ParseUint(f, 10, 8)
		if err != nil || n > 127 {
			return nil, fmt.Errorf("%w: m=audio format %q is not an RTP payload type (0-127)", ErrMalformed, f)
		}
		pt := uint8(n)
		c, ok := rtpmaps[pt]
		if !ok {
			name, static := staticNames[pt]
			if !static {
				continue // dynamic PT without rtpmap: unknown to us
			}
			c = Codec{Name: name, ClockRate: 8000}
		}
		c.PayloadType = pt
		if strings.EqualFold(c.Name, telephoneEvent) {
			if c.ClockRate == 8000 && s.DTMFPayloadType == 0 {
				s.DTMFPayloadType = pt
			}
			continue
		}
		s.Codecs = append(s.Codecs, c)
	}

	s.PtimeMs = ptime(md.Attributes)
	if s.PtimeMs == 0 {
		s.PtimeMs = ptime(desc.Attributes)
	}
	if d := direction(md.Attributes); d != "" {
		s.Direction = d
	} else if d := direction(desc.Attributes); d != "" {
		s.Direction = d
	}
	return s, nil
}

func rtpProfile(protos []string) bool {
	p := strings.ToUpper(strings.Join(protos, "/"))
	return p == "RTP/AVP" || p == "RTP/AVPF"
}

// parseRtpmap parses "<pt> <name>/<rate>[/<channels>]". Encoding names of
// PCMU and PCMA are canonicalised to upper case.
func parseRtpmap(v string) (uint8, Codec, error) {
	ptStr, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return 0, Codec{}, fmt.Errorf("%w: a=rtpmap:%s: want \"<pt> <name>/<rate>\"", ErrMalformed, v)
	}
	pt, err := strconv.ParseUint(ptStr, 10, 8)
	if err != nil || pt > 127 {
		return 0, Codec{}, fmt.Errorf("%w: a=rtpmap:%s: payload type %q is not 0-127", ErrMalformed, v, ptStr)
	}
	parts := strings.Split(strings.TrimSpace(rest), "/")
	if len(parts) < 2 || parts[0] == "" {
		return 0, Codec{}, fmt.Errorf("%w: a=rtpmap:%s: want \"<name>/<rate>\"", ErrMalformed, v)
	}
	rate, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil {
		return 0, Codec{}, fmt.Errorf("%w: a=rtpmap:%s: clock rate %q: %w", ErrMalformed, v, parts[1], err)
	}
	name := parts[0]
	switch {
	case strings.EqualFold(name, "PCMU"):
		name = "PCMU"
	case strings.EqualFold(name, "PCMA"):
		name = "PCMA"
	}
	return uint8(pt), Codec{Name: name, PayloadType: uint8(pt), ClockRate: uint32(rate)}, nil
}

// ptime returns a=ptime in whole milliseconds, 0 if absent or unparsable
// (some peers write "20.0"; a bad ptime is not worth rejecting a call for).
func ptime(attrs []psdp.Attribute) int {
	for _, a := range attrs {
		if a.Key != "ptime" {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(a.Value), 64)
		if err != nil || f <= 0 || f > 1000 {
			return 0
		}
		return int(f + 0.5)
	}
	return 0
}

func direction(attrs []psdp.Attribute) string {
	for _, a := range attrs {
		switch a.Key {
		case SendRecv, SendOnly, RecvOnly, Inactive:
			return a.Key
		}
	}
	return ""
}
