package media

import (
	"context"
	"errors"
	"time"

	"github.com/pion/rtp"
)

// bridgeState maps the bridge peer's streams into this leg's continuity.
type bridgeState struct {
	src    *Session // the leg whose packets are relayed out of this one
	bases  []tsBase // per source SSRC, most recent last
	marker bool     // set the marker on the next relayed packet
}

// tsBase maps one source SSRC's timestamps: ts = tx + (rxTS - rx).
type tsBase struct {
	ssrc   uint32
	rx, tx uint32
}

// maxBases bounds the source SSRCs remembered in a bridge (audio and DTMF
// may come from different SSRCs, as when sipp replays two pcaps).
const maxBases = 4

// Bridge relays the two legs' media to each other until ctx is done (it
// returns ctx.Err()) or either session closes (ErrClosed). Each received
// packet is sent on at once by the other leg (no pacing, no jitter buffer),
// rewritten into that leg's stream: its payload type, SSRC, sequence number
// and timestamp (base + (rxTS - rxBase), with a new base, continuing this
// leg's clock, for each new source SSRC), with the marker on the first
// relayed packet of each source SSRC. PCMU and PCMA are
// transcoded when the legs' codecs differ. telephone-event packets are
// relayed with the destination's telephone-event payload type (dropped if
// it has none), and their digits are still reported on the source leg's
// Digits. While bridged the legs' pacers send nothing and Plays pause; when
// Bridge returns they resume. A leg can be in one bridge at a time.
func Bridge(ctx context.Context, a, b *Session) error {
	if a == nil || b == nil || a == b {
		return errors.New("media: bridge needs two different sessions")
	}
	if !a.bridged.CompareAndSwap(false, true) {
		return errors.New("media: bridge: first session is already bridged")
	}
	defer a.bridged.Store(false)
	if !b.bridged.CompareAndSwap(false, true) {
		return errors.New("media: bridge: second session is already bridged")
	}
	defer b.bridged.Store(false)
	select {
	case <-a.done:
		return ErrClosed
	case <-b.done:
		return ErrClosed
	default:
	}

	a.attach(b)
	defer a.detach()
	b.attach(a)
	defer b.detach()
	a.peer.Store(b)
	defer a.peer.Store(nil)
	b.peer.Store(a)
	defer b.peer.Store(nil)

	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-a.done:
		return ErrClosed
	case <-b.done:
		return ErrClosed
	}
}

// attach makes this leg send what src receives.
func (s *Session) attach(src *Session) {
	s.sendMu.Lock()
	s.bridge = &bridgeState{src: src, marker: true}
	s.sendMu.Unlock()
}

func (s *Session) detach() {
	s.sendMu.Lock()
	s.bridge = nil
	s.sendMu.Unlock()
}

func (b *bridgeState) base(ssrc uint32) *tsBase {
	for i := range b.bases {
		if b.bases[i].ssrc == ssrc {
			return &b.bases[i]
		}
	}
	return nil
}

// relay sends a packet that src received out of this leg. It runs on src's
// reader goroutine; payload is only valid during the call.
func (s *Session) relay(src *Session, hdr *rtp.Header, payload []byte, srcAlaw, dtmf bool, now time.Time) {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	b := s.bridge
	if b == nil || b.src != src {
		return
	}
	to := s.Remote()
	if !sendable(to) {
		return
	}
	pt := s.codec.PayloadType
	if dtmf {
		if s.dtmfPT == 0 {
			return
		}
		pt = s.dtmfPT
	} else if srcAlaw != s.alaw {
		if len(payload) > len(s.xbuf) {
			return
		}
		out := s.xbuf[:len(payload)]
		if srcAlaw {
			TranscodeAlawToUlaw(out, payload)
		} else {
			TranscodeUlawToAlaw(out, payload)
		}
		payload = out
	}
	base := b.base(hdr.SSRC)
	if base == nil {
		if len(b.bases) == maxBases {
			b.bases = append(b.bases[:0], b.bases[1:]...)
		}
		b.bases = append(b.bases, tsBase{ssrc: hdr.SSRC, rx: hdr.Timestamp, tx: s.nextTS(now)})
		base = &b.bases[len(b.bases)-1]
		b.marker = true
	}
	marker := hdr.Marker || b.marker
	b.marker = false
	s.writePacket(pt, marker, base.tx+(hdr.Timestamp-base.rx), payload, to, now)
	s.st.relayed.Add(1)
}
