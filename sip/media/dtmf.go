package media

import (
	"encoding/binary"
	"time"

	"github.com/pion/rtp"
)

// RFC 4733 telephone-event payload (section 2.3):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     event     |E|R| volume    |          duration             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

// DTMF decoder timing.
const (
	// DTMFExpireAfter: an event with no packet for this long and no end
	// packet is reported anyway (all its end packets were lost). Senders
	// refresh an event every 50 ms at most (RFC 4733 2.5.1.2), so 200 ms of
	// silence means it is over.
	DTMFExpireAfter = 200 * time.Millisecond
	// dtmfForget: ended events are remembered this long after their last
	// packet, to swallow their redundant and reordered packets.
	dtmfForget = 2 * time.Second
	// dtmfStaleWindow: a new event whose timestamp is less than this many
	// samples (2 s) behind the newest event of its SSRC is a reordered
	// leftover.
	dtmfStaleWindow = 2 * SampleRate
	// dtmfMaxEvents bounds the decoder's memory.
	dtmfMaxEvents = 16
)

// dtmfKeys maps RFC 4733 event codes 0-15 to keys.
const dtmfKeys = "0123456789*#ABCD"

// DTMFKey returns the key for an RFC 4733 event code, and false for codes
// above 15 (flash, tones, ...), which Kefu ignores.
func DTMFKey(code uint8) (rune, bool) {
	if int(code) >= len(dtmfKeys) {
		return 0, false
	}
	return rune(dtmfKeys[code]), true
}

type dtmfEvent struct {
	ssrc, ts uint32
	code     uint8
	duration uint16
	reported bool
	lastSeen time.Time
}

// DTMFDecoder turns RFC 4733 telephone-event packets into key presses,
// each press exactly once. It is a pure state machine with no goroutines
// and no clock of its own; it is not safe for concurrent use.
//
// Rules:
//   - an event is identified by (SSRC, RTP timestamp); the marker bit is
//     not required and the duration is treated as opaque (sipp's pcaps step
//     it by 320, others by 160);
//   - a key is reported on the first packet with the E bit; later packets of
//     the same event (the redundant end packets, with the same or new
//     sequence numbers, and late progress packets) are ignored;
//   - two presses of the same key have different timestamps and are two keys;
//   - when a new event starts while an earlier one has not ended, the
//     earlier one is reported first (its end packets were lost);
//   - Expire reports an event whose end packets were all lost once no packet
//     for it has arrived for DTMFExpireAfter;
//   - a packet for an unknown event up to 2 s older (in RTP timestamp
//     order) than the newest event of its SSRC is a reordered leftover and
//     is ignored;
//   - a long press that overflows the 16-bit duration continues as a new
//     event of the same code (RFC 4733 2.5.1.3); it is not a second press;
//   - event codes above 15 and payloads shorter than 4 bytes are ignored.
type DTMFDecoder struct {
	events []dtmfEvent // oldest first
}

// Feed processes one telephone-event packet (the caller has demultiplexed
// it by payload type) received at now, and returns the keys it completes,
// usually none or one.
func (d *DTMFDecoder) Feed(hdr rtp.Header, payload []byte, now time.Time) []rune {
	if len(payload) < 4 {
		return nil
	}
	code := payload[0]
	end := payload[1]&0x80 != 0
	duration := binary.BigEndian.Uint16(payload[2:4])
	if _, ok := DTMFKey(code); !ok {
		return nil
	}

	if i := d.find(hdr.SSRC, hdr.Timestamp); i >= 0 {
		ev := &d.events[i]
		ev.lastSeen = now
		if ev.reported {
			return nil
		}
		ev.duration = duration
		if end {
			ev.reported = true
			return []rune{rune(dtmfKeys[ev.code])}
		}
		return nil
	}

	// A new event. Ignore leftovers of events older than what this SSRC
	// already sent (reordering is bounded, so only within dtmfStaleWindow).
	if newest := d.newest(hdr.SSRC); newest >= 0 {
		if back := d.events[newest].ts - hdr.Timestamp; back > 0 && back < dtmfStaleWindow {
			return nil
		}
	}
	var keys []rune
	for i := range d.events {
		ev := &d.events[i]
		if ev.reported {
			continue
		}
		ev.reported = true
		if ev.ssrc == hdr.SSRC && ev.code == code && ev.duration >= 0xFF00 {
			continue // long-press rollover: the press goes on under the new timestamp
		}
		keys = append(keys, rune(dtmfKeys[ev.code]))
	}
	if len(d.events) >= dtmfMaxEvents {
		d.events = append(d.events[:0], d.events[1:]...)
	}
	ev := dtmfEvent{ssrc: hdr.SSRC, ts: hdr.Timestamp, code: code, duration: duration, lastSeen: now}
	if end {
		ev.reported = true
		keys = append(keys, rune(dtmfKeys[code]))
	}
	d.events = append(d.events, ev)
	return keys
}

// Expire reports events whose last packet arrived more than
// DTMFExpireAfter before now without an end packet, and forgets ended
// events after a while. Call it periodically (every 100 ms or so).
func (d *DTMFDecoder) Expire(now time.Time) []rune {
	var keys []rune
	kept := d.events[:0]
	for _, ev := range d.events {
		age := now.Sub(ev.lastSeen)
		if !ev.reported && age > DTMFExpireAfter {
			keys = append(keys, rune(dtmfKeys[ev.code]))
			ev.reported = true
		}
		if ev.reported && age > dtmfForget {
			continue
		}
		kept = append(kept, ev)
	}
	clear(d.events[len(kept):])
	d.events = kept
	return keys
}

func (d *DTMFDecoder) find(ssrc, ts uint32) int {
	for i := len(d.events) - 1; i >= 0; i-- {
		if d.events[i].ssrc == ssrc && d.events[i].ts == ts {
			return i
		}
	}
	return -1
}

// newest returns the index of the latest-starting event of ssrc, or -1.
func (d *DTMFDecoder) newest(ssrc uint32) int {
	best := -1
	for i := range d.events {
		if d.events[i].ssrc != ssrc {
			continue
		}
		if best < 0 || int32(d.events[i].ts-d.events[best].ts) > 0 { //nolint:gosec // serial-number arithmetic
			best = i
		}
	}
	return best
}
