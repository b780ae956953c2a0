package media

import (
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/pion/rtp"
)

// readLoop receives datagrams until the socket is closed.
func (s *Session) readLoop() {
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Debug("RTP read failed", "err", err)
			select { // do not spin on a persistent error
			case <-s.done:
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		s.handle(&pkt, buf[:n], from, time.Now())
	}
}

// handle processes one datagram. The payload aliases buf; it is used
// (decoded or relayed) before the next read and never kept.
func (s *Session) handle(pkt *rtp.Packet, buf []byte, from netip.AddrPort, now time.Time) {
	if err := pkt.Unmarshal(buf); err != nil || pkt.Version != 2 {
		s.st.malformed.Add(1)
		return
	}
	pt := pkt.PayloadType
	audio := pt == s.codec.PayloadType || pt == 0 || pt == 8
	dtmf := s.dtmfPT != 0 && pt == s.dtmfPT
	if !s.accept(unmapAP(from), audio || dtmf) {
		s.st.foreign.Add(1)
		return
	}
	s.st.packetsIn.Add(1)
	s.totals.addPacketIn()
	s.st.bytesIn.Add(uint64(len(buf)))
	s.lastRx.Store(now.UnixNano())

	switch {
	case audio:
		srcAlaw := pt == 8
		if pt == s.codec.PayloadType {
			srcAlaw = s.alaw
		}
		if dst := s.peer.Load(); dst != nil {
			dst.relay(s, &pkt.Header, pkt.Payload, srcAlaw, false, now)
		}
		if t := s.tap.Load(); t != nil {
			t.deliver(pkt.Payload, srcAlaw)
		}
	case dtmf:
		s.st.dtmfPacketsIn.Add(1)
		s.dtmfMu.Lock()
		for _, k := range s.dec.Feed(pkt.Header, pkt.Payload, now) {
			s.emitLocked(k, SourceRFC4733, now)
		}
		s.dtmfMu.Unlock()
		if dst := s.peer.Load(); dst != nil {
			dst.relay(s, &pkt.Header, pkt.Payload, false, true, now)
		}
	case pt == ptCN:
	default:
		s.st.unknownPT.Add(1)
	}
}

// accept applies the source filter: with SymmetricRTP the first valid media
// packet latches the remote address and later packets must come from it;
// otherwise packets must come from the remote's IP address (any port).
func (s *Session) accept(from netip.AddrPort, media bool) bool {
	s.remoteMu.Lock()
	defer s.remoteMu.Unlock()
	if s.symmetric {
		if s.latched {
			return from == s.remote
		}
		if !media {
			return false
		}
		if from != s.remote {
			s.log.Info("symmetric RTP: latched remote", "from", s.remote.String(), "to", from.String())
		}
		s.remote = from
		s.latched = true
		return true
	}
	return s.remote.IsValid() && from.Addr() == s.remote.Addr()
}

// expireDTMF reports DTMF events whose end packets were lost.
func (s *Session) expireDTMF(now time.Time) {
	s.dtmfMu.Lock()
	defer s.dtmfMu.Unlock()
	for _, k := range s.dec.Expire(now) {
		s.emitLocked(k, SourceRFC4733, now)
	}
}

// DTMFMergeWindow: a digit reported by one source (RFC 4733 or SIP INFO)
// swallows one digit of the same key from the other source reported within
// this window, because some gateways send both for one press.
const DTMFMergeWindow = 300 * time.Millisecond

// digitMerger deduplicates digits across sources.
type digitMerger struct {
	recent []mergeEntry
}

type mergeEntry struct {
	key    rune
	source string
	at     time.Time
	used   bool // already swallowed its twin
}

// accept reports whether a digit is new (to be delivered) rather than the
// other source's copy of a digit already delivered.
func (m *digitMerger) accept(key rune, source string, now time.Time) bool {
	kept := m.recent[:0]
	for _, e := range m.recent {
		if now.Sub(e.at) <= DTMFMergeWindow {
			kept = append(kept, e)
		}
	}
	clear(m.recent[len(kept):])
	m.recent = kept
	for i := range m.recent {
		e := &m.recent[i]
		if !e.used && e.key == key && e.source != source {
			e.used = true
			return false
		}
	}
	m.recent = append(m.recent, mergeEntry{key: key, source: source, at: now})
	return true
}
