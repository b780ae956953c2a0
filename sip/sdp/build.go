package sdp

import (
	"fmt"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"
)

// Origin carries the o= line fields the caller owns. Version must be bumped
// whenever the session changes (RFC 3264 section 8) and kept otherwise.
type Origin struct {
	SessionID uint64
	Version   uint64
	Username  string // "-" when empty
}

// Build renders an SDP body for our side:
//
//	v=0
//	o=<user> <sess-id> <version> IN IP4|IP6 <addr>
//	s=Kefu
//	c=IN IP4|IP6 <addr>
//	t=0 0
//	m=audio <port> RTP/AVP <codec pts> [<te pt>]
//	a=rtpmap:<pt> <name>/<rate>          (each codec)
//	a=rtpmap:<te> telephone-event/8000   (if DTMFPayloadType != 0)
//	a=fmtp:<te> 0-16
//	a=ptime:<PtimeMs, default 20>
//	a=<Direction, default sendrecv>
//
// Each of local.Others is rendered as a rejected m= line (port 0) around the
// audio line at local.AudioIndex. A port of 0 renders a rejected audio
// stream. Errors wrap ErrMalformed.
func Build(origin Origin, local Session) ([]byte, error) {
	addr := local.Addr.Addr().Unmap()
	if !addr.IsValid() {
		return nil, fmt.Errorf("%w: build: no local address", ErrMalformed)
	}
	if addr.Zone() != "" {
		return nil, fmt.Errorf("%w: build: address %s has a zone", ErrMalformed, addr)
	}
	if len(local.Codecs) == 0 {
		return nil, fmt.Errorf("%w: build: no codecs", ErrMalformed)
	}
	addrType := "IP4"
	if addr.Is6() {
		addrType = "IP6"
	}
	user := origin.Username
	if user == "" {
		user = "-"
	}
	if strings.ContainsAny(user, " \t\r\n") {
		return nil, fmt.Errorf("%w: build: o= username %q has white space", ErrMalformed, user)
	}
	dir := local.Direction
	if dir == "" {
		dir = SendRecv
	}
	switch dir {
	case SendRecv, SendOnly, RecvOnly, Inactive:
	default:
		return nil, fmt.Errorf("%w: build: direction %q", ErrMalformed, dir)
	}
	ptime := local.PtimeMs
	if ptime <= 0 {
		ptime = DefaultPtimeMs
	}

	md := &psdp.MediaDescription{
		MediaName: psdp.MediaName{
			Media:  "audio",
			Port:   psdp.RangedPort{Value: int(local.Addr.Port())},
			Protos: []string{"RTP", "AVP"},
		},
	}
	seen := map[uint8]bool{}
	for _, c := range local.Codecs {
		if c.PayloadType > 127 || c.Name == "" {
			return nil, fmt.Errorf("%w: build: bad codec %+v", ErrMalformed, c)
		}
		if seen[c.PayloadType] {
			return nil, fmt.Errorf("%w: build: payload type %d used twice", ErrMalformed, c.PayloadType)
		}
		seen[c.PayloadType] = true
		rate := c.ClockRate
		if rate == 0 {
			rate = 8000
		}
		pt := strconv.Itoa(int(c.PayloadType))
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md.Attributes = append(md.Attributes,
			psdp.NewAttribute("rtpmap", pt+" "+c.Name+"/"+strconv.FormatUint(uint64(rate), 10)))
	}
	if te := local.DTMFPayloadType; te != 0 {
		if te > 127 || seen[te] {
			return nil, fmt.Errorf("%w: build: telephone-event payload type %d", ErrMalformed, te)
		}
		pt := strconv.Itoa(int(te))
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md.Attributes = append(md.Attributes,
			psdp.NewAttribute("rtpmap", pt+" "+telephoneEvent+"/8000"),
			psdp.NewAttribute("fmtp", pt+" 0-16"))
	}
	md.Attributes = append(md.Attributes,
		psdp.NewAttribute("ptime", strconv.Itoa(ptime)),
		psdp.NewPropertyAttribute(dir))

	desc := psdp.SessionDescription{
		Version: 0,
		Origin: psdp.Origin{
			Username:       user,
			SessionID:      origin.SessionID,
			SessionVersion: origin.Version,
			NetworkType:    "IN",
			AddressType:    addrType,
			UnicastAddress: addr.String(),
		},
		SessionName: "Kefu",
		ConnectionInformation: &psdp.ConnectionInformation{
			NetworkType: "IN",
			AddressType: addrType,
			Address:     &psdp.Address{Address: addr.String()},
		},
		TimeDescriptions: []psdp.TimeDescription{{Timing: psdp.Timing{StartTime: 0, StopTime: 0}}},
	}
	idx := min(max(local.AudioIndex, 0), len(local.Others))
	for i, o := range local.Others {
		if i == idx {
			desc.MediaDescriptions = append(desc.MediaDescriptions, md)
		}
		rej, err := rejected(o)
		if err != nil {
			return nil, err
		}
		desc.MediaDescriptions = append(desc.MediaDescriptions, rej)
	}
	if idx == len(local.Others) {
		desc.MediaDescriptions = append(desc.MediaDescriptions, md)
	}
	out, err := desc.Marshal()
	if err != nil {
		return nil, fmt.Errorf("%w: build: %w", ErrMalformed, err)
	}
	return out, nil
}

// rejected renders an m= line with port 0 (RFC 3264 section 6).
func rejected(o MediaLine) (*psdp.MediaDescription, error) {
	if o.Media == "" || o.Proto == "" || strings.ContainsAny(o.Media+o.Proto, " \r\n") {
		return nil, fmt.Errorf("%w: build: bad m= line %+v", ErrMalformed, o)
	}
	formats := o.Formats
	if len(formats) == 0 {
		formats = []string{"0"}
	}
	for _, f := range formats {
		if f == "" || strings.ContainsAny(f, " \r\n") {
			return nil, fmt.Errorf("%w: build: bad m= format %q", ErrMalformed, f)
		}
	}
	return &psdp.MediaDescription{MediaName: psdp.MediaName{
		Media:   o.Media,
		Port:    psdp.RangedPort{Value: 0},
		Protos:  strings.Split(o.Proto, "/"),
		Formats: formats,
	}}, nil
}
