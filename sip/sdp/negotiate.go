package sdp

import (
	"fmt"
	"net/netip"
)

// Negotiate picks the answer for an offer: the first codec in the offer's
// order that is in supported (matched by name and clock rate), keeping the
// offer's payload type numbers, and telephone-event/8000 with the PT the
// offer used (any number). supported == nil means Supported(). An offer with
// no such codec returns an error wrapping ErrNoCommonCodec (SIP: 488).
func Negotiate(offer *Session, supported []Codec) (Answer, error) {
	if offer == nil {
		return Answer{}, fmt.Errorf("%w: nil offer", ErrMalformed)
	}
	if supported == nil {
		supported = Supported()
	}
	for _, oc := range offer.Codecs {
		for _, sc := range supported {
			if !sameFormat(oc, sc) {
				continue
			}
			c := oc
			c.Name = sc.Name
			if c.ClockRate == 0 {
				c.ClockRate = 8000
			}
			return Answer{
				Codec:           c,
				DTMFPayloadType: offer.DTMFPayloadType,
				Remote:          offer.Addr,
				Ptime:           offer.PtimeMs,
				Direction:       mirror(offer.Direction),
			}, nil
		}
	}
	names := make([]string, 0, len(offer.Codecs))
	for _, c := range offer.Codecs {
		names = append(names, fmt.Sprintf("%s/%d", c.Name, c.ClockRate))
	}
	return Answer{}, fmt.Errorf("%w: offered %v, we support PCMU/8000 and PCMA/8000", ErrNoCommonCodec, names)
}

// AnswerFor negotiates offer and returns our answer Session (local address,
// the negotiated codec and telephone-event PT, ptime 20, mirrored direction,
// the offer's other m= lines to be rejected)
// together with the Answer to configure media with. Render the Session with
// Build.
func AnswerFor(offer *Session, local netip.AddrPort, supported []Codec) (Session, Answer, error) {
	ans, err := Negotiate(offer, supported)
	if err != nil {
		return Session{}, Answer{}, err
	}
	return Session{
		Addr:            local,
		Codecs:          []Codec{ans.Codec},
		DTMFPayloadType: ans.DTMFPayloadType,
		PtimeMs:         DefaultPtimeMs,
		Direction:       ans.Direction,
		AudioIndex:      offer.AudioIndex,
		Others:          offer.Others,
	}, ans, nil
}

// AcceptAnswer checks a peer's answer against the offer we sent (for the
// legs Kefu originates) and returns the media parameters: the first codec of
// the answer that we offered, and the answer's telephone-event PT if we
// offered telephone-event. An answer without a codec we offered wraps
// ErrNoCommonCodec. Direction is ours as limited by the answer (an answer of
// recvonly makes it sendonly).
func AcceptAnswer(offered Session, answer *Session) (Answer, error) {
	ans, err := Negotiate(answer, offered.Codecs)
	if err != nil {
		return Answer{}, err
	}
	if offered.DTMFPayloadType == 0 {
		ans.DTMFPayloadType = 0
	}
	return ans, nil
}
