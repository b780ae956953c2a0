// Package sdp implements the SDP offer/answer model (RFC 3264) that Kefu needs
// for its call legs: G.711 audio (PCMU/PCMA) plus RFC 4733 telephone-event.
//
// Parse reads a peer's offer or answer into a Session, Negotiate picks the
// answer to an offer, AnswerFor turns that into our Session, and Build renders
// a Session as an SDP body with pion/sdp. The package knows nothing about SIP;
// the SIP layer maps ErrMalformed to 400 and ErrNoCommonCodec / ErrNoAudio to
// 488 Not Acceptable Here.
package sdp

import (
	"errors"
	"net/netip"
	"strings"
)

// Exported sentinels; every error returned by this package wraps one of them.
var (
	// ErrMalformed reports an SDP body that cannot be parsed, or a Session
	// that cannot be rendered.
	ErrMalformed = errors.New("sdp: malformed")
	// ErrNoAudio reports an SDP body without an active (non-zero port)
	// m=audio line over RTP/AVP or RTP/AVPF. Answer it with 488.
	ErrNoAudio = errors.New("sdp: no usable audio stream")
	// ErrNoCommonCodec reports an offer that has no codec we support.
	// Answer it with 488.
	ErrNoCommonCodec = errors.New("sdp: no common codec")
)

// Direction attribute values (RFC 4566 section 6).
const (
	SendRecv = "sendrecv"
	SendOnly = "sendonly"
	RecvOnly = "recvonly"
	Inactive = "inactive"
)

// DefaultPtimeMs is the packet time Kefu sends and advertises.
const DefaultPtimeMs = 20

// telephoneEvent is the rtpmap encoding name of RFC 4733 events.
const telephoneEvent = "telephone-event"

// Codec is an audio format as it appears on an m= line: its encoding name,
// the payload type number used for it in this session, and its clock rate.
type Codec struct {
	Name        string // "PCMU", "PCMA", or whatever the peer offered ("opus", "G729", ...)
	PayloadType uint8
	ClockRate   uint32 // 8000 for G.711
}

// The two codecs Kefu supports, with their static payload types. They are
// values: copying and modifying one never affects these.
var (
	PCMU = Codec{Name: "PCMU", PayloadType: 0, ClockRate: 8000}
	PCMA = Codec{Name: "PCMA", PayloadType: 8, ClockRate: 8000}
)

// Supported returns the codecs Kefu supports in its default preference order
// (PCMU, PCMA). It returns a new slice on each call.
func Supported() []Codec { return []Codec{PCMU, PCMA} }

// IsPCMU reports whether c is G.711 μ-law (by name, or PT 0 when unnamed).
func (c Codec) IsPCMU() bool {
	return strings.EqualFold(c.Name, "PCMU") || (c.Name == "" && c.PayloadType == 0)
}

// IsPCMA reports whether c is G.711 A-law (by name, or PT 8 when unnamed).
func (c Codec) IsPCMA() bool {
	return strings.EqualFold(c.Name, "PCMA") || (c.Name == "" && c.PayloadType == 8)
}

// sameFormat reports whether a and b are the same encoding, ignoring the
// payload type number.
func sameFormat(a, b Codec) bool {
	ra, rb := a.ClockRate, b.ClockRate
	if ra == 0 {
		ra = 8000
	}
	if rb == 0 {
		rb = 8000
	}
	return strings.EqualFold(a.Name, b.Name) && ra == rb
}

// Session is one side's media description, parsed or to be built.
type Session struct {
	// Addr is the c= address (media level, else session level) with the
	// m=audio port. An unspecified address (0.0.0.0, old-style hold) is kept
	// as is: do not send to it.
	Addr netip.AddrPort
	// Codecs lists the audio formats of the m= line in preference order, with
	// the payload types as offered. telephone-event is not in this list.
	Codecs []Codec
	// DTMFPayloadType is the telephone-event/8000 payload type; 0 = none.
	DTMFPayloadType uint8
	// PtimeMs is a=ptime (media level, else session level); 0 if absent.
	PtimeMs int
	// Direction is sendrecv (default when absent), sendonly, recvonly or
	// inactive; media level wins over session level.
	Direction string
	// AudioIndex is the position of the audio m= line among all m= lines,
	// and Others are the other m= lines, in order. An answer must have as
	// many m= lines as its offer, in the same order (RFC 3264 section 6):
	// AnswerFor copies both from the offer and Build renders each of Others
	// as rejected (port 0). Both are zero for a Session we offer.
	AudioIndex int
	Others     []MediaLine
}

// MediaLine is an m= line other than the negotiated audio stream.
type MediaLine struct {
	Media   string   // "audio", "video", ...
	Proto   string   // "RTP/AVP", "RTP/SAVP", ...
	Formats []string // as offered
}

// Answer is the result of negotiating an offer.
type Answer struct {
	// Codec is the audio codec to send and expect, with the offer's PT.
	Codec Codec
	// DTMFPayloadType is the offer's telephone-event/8000 PT; 0 = none.
	DTMFPayloadType uint8
	// Remote is where to send RTP (the offer's c= address and port).
	Remote netip.AddrPort
	// Ptime is the peer's a=ptime, 0 if absent. Informational: Kefu always
	// sends 20 ms frames and accepts any packet time.
	Ptime int
	// Direction is our direction in the answer (the mirror of the offer's:
	// sendonly -> recvonly, recvonly -> sendonly, otherwise the same).
	Direction string
}

// mirror returns the answer direction for an offered direction.
func mirror(offered string) string {
	switch offered {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	default:
		return SendRecv
	}
}
