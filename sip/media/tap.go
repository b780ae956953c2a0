package media

import (
	"errors"
	"math"
	"sync/atomic"
	"time"
)

// tapBuffer is how many packets a Tap holds for a slow reader (5 s of 20 ms
// packets); beyond that packets are dropped and counted.
const tapBuffer = 250

// ErrTapped is returned by Tap when the session already has a tap.
var ErrTapped = errors.New("media: session audio is already tapped")

// Tap receives a copy of the audio the peer sends a session, decoded to
// 16-bit linear PCM (for recording). Create it with Session.Tap.
type Tap struct {
	s       *Session
	ch      chan []int16
	dropped atomic.Uint64
	stopped atomic.Bool
}

// Tap starts delivering the peer's audio packets (PCMU or PCMA, whichever
// payload type they carry), each decoded to linear PCM in a new slice, in
// arrival order, on Tap.Audio; telephone-event and comfort-noise packets are
// not delivered. Audio keeps flowing to a bridge peer as before. A session
// has at most one tap at a time (ErrTapped); Stop ends it.
func (s *Session) Tap() (*Tap, error) {
	t := &Tap{s: s, ch: make(chan []int16, tapBuffer)}
	if !s.tap.CompareAndSwap(nil, t) {
		return nil, ErrTapped
	}
	return t, nil
}

// Audio delivers the decoded packets. It is never closed: select on it
// together with the end of whatever the reader is waiting for.
func (t *Tap) Audio() <-chan []int16 { return t.ch }

// Dropped counts packets lost because the reader fell more than 5 s behind.
func (t *Tap) Dropped() uint64 { return t.dropped.Load() }

// Stop detaches the tap; no packet is delivered after it returns. It is
// idempotent.
func (t *Tap) Stop() {
	if t.stopped.CompareAndSwap(false, true) {
		t.s.tap.CompareAndSwap(t, nil)
	}
}

// deliver decodes one audio payload for the tap, without blocking.
func (t *Tap) deliver(payload []byte, alaw bool) {
	pcm := make([]int16, len(payload))
	if alaw {
		for i, b := range payload {
			pcm[i] = DecodeAlaw(b)
		}
	} else {
		for i, b := range payload {
			pcm[i] = DecodeUlaw(b)
		}
	}
	select {
	case t.ch <- pcm:
	default:
		t.dropped.Add(1)
	}
}

// Tone returns a sine tone of freq Hz lasting d at 8 kHz, with peak
// amplitude amp (0 to 32767), faded in and out over 5 ms so it starts and
// stops without a click (e.g. the beep before a recording).
func Tone(freq float64, d time.Duration, amp int16) []int16 {
	n := int(d * SampleRate / time.Second)
	if n <= 0 {
		return nil
	}
	fade := SampleRate / 200 // 5 ms
	pcm := make([]int16, n)
	for i := range pcm {
		gain := 1.0
		if i < fade {
			gain = float64(i) / float64(fade)
		} else if n-1-i < fade {
			gain = float64(n-1-i) / float64(fade)
		}
		pcm[i] = int16(gain * float64(amp) * math.Sin(2*math.Pi*freq*float64(i)/SampleRate))
	}
	return pcm
}
