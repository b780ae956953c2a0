package media

import (
	"bytes"
	"context"
	"errors"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtp"

	"kefu/sip/sdp"
)

// TestPlayFromResumes: a play stopped by its context reports the next frame;
// playing from there sends exactly the frames not yet sent, the first with
// the marker bit, and a play to the end reports FrameCount.
func TestPlayFromResumes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, conn := newFakeSession(t, sdp.PCMU, 101, phoneA, false)
		s.Start()
		defer s.Close()
		p := NewPrompt("tone", tone(time.Second)) // 50 frames
		ctx, cancel := context.WithTimeout(t.Context(), 210*time.Millisecond)
		next, err := s.PlayFrom(ctx, p, 0)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || next <= 0 || next >= p.FrameCount() {
			t.Fatalf("interrupted PlayFrom = %d, %v; want a frame inside the prompt and the deadline", next, err)
		}
		stopped := len(conn.sent())
		time.Sleep(100 * time.Millisecond) // silence meanwhile
		end, err := s.PlayFrom(t.Context(), p, next)
		if err != nil || end != p.FrameCount() {
			t.Fatalf("resumed PlayFrom = %d, %v; want %d, nil", end, err, p.FrameCount())
		}
		time.Sleep(40 * time.Millisecond)
		synctest.Wait()
		pkts := conn.sent()
		var frames [][]byte
		resumedMarker := false
		for i, pk := range pkts {
			if bytes.Equal(pk.Payload, ulawSilenceFrame[:]) {
				continue
			}
			if i >= stopped && len(frames) == next {
				resumedMarker = pk.Marker
			}
			frames = append(frames, pk.Payload)
		}
		if len(frames) != p.FrameCount() {
			t.Fatalf("sent %d prompt frames over the two plays, want each of the %d once", len(frames), p.FrameCount())
		}
		for i, f := range frames {
			if !bytes.Equal(f, p.Frame(sdp.PCMU, i)) {
				t.Fatalf("prompt frame %d out of order", i)
			}
		}
		if !resumedMarker {
			t.Error("the resumed play's first packet has no marker bit")
		}
		if n, err := s.PlayFrom(t.Context(), p, p.FrameCount()); n != p.FrameCount() || err != nil {
			t.Errorf("PlayFrom past the end = %d, %v", n, err)
		}
	})
}

// TestTapDecodes: a tap gets the peer's audio decoded from the payload type
// each packet carries, not telephone-events; after Stop nothing more.
func TestTapDecodes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, conn := newFakeSession(t, sdp.PCMU, 101, phoneA, false)
		s.Start()
		defer s.Close()
		tap, err := s.Tap()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Tap(); !errors.Is(err, ErrTapped) {
			t.Fatalf("second Tap: %v, want ErrTapped", err)
		}
		pcm := tone(20 * time.Millisecond)
		ulaw, alaw := make([]byte, len(pcm)), make([]byte, len(pcm))
		for i, x := range pcm {
			ulaw[i], alaw[i] = EncodeUlaw(x), EncodeAlaw(x)
		}
		conn.deliver(phoneA, rtpBytes(rtp.Header{PayloadType: 0, SequenceNumber: 1, Timestamp: 160, SSRC: 7}, ulaw))
		conn.deliver(phoneA, rtpBytes(rtp.Header{PayloadType: 101, SequenceNumber: 2, Timestamp: 320, SSRC: 7}, []byte{1, 10, 0, 160}))
		conn.deliver(phoneA, rtpBytes(rtp.Header{PayloadType: 8, SequenceNumber: 3, Timestamp: 480, SSRC: 7}, alaw))
		synctest.Wait()
		for i, want := range []func(byte) int16{DecodeUlaw, DecodeAlaw} {
			var got []int16
			select {
			case got = <-tap.Audio():
			default:
				t.Fatalf("packet %d not delivered", i)
			}
			src := ulaw
			if i == 1 {
				src = alaw
			}
			for j := range got {
				if got[j] != want(src[j]) {
					t.Fatalf("packet %d sample %d = %d, want %d", i, j, got[j], want(src[j]))
				}
			}
		}
		tap.Stop()
		tap.Stop()
		conn.deliver(phoneA, rtpBytes(rtp.Header{PayloadType: 0, SequenceNumber: 4, Timestamp: 640, SSRC: 7}, ulaw))
		synctest.Wait()
		select {
		case <-tap.Audio():
			t.Fatal("audio delivered after Stop")
		default:
		}
		if _, err := s.Tap(); err != nil {
			t.Fatalf("Tap after Stop: %v", err)
		}
	})
}

// TestTone: the right length, fades in and out, and the frequency (zero
// crossings).
func TestTone(t *testing.T) {
	pcm := Tone(440, 300*time.Millisecond, 8000)
	if len(pcm) != 2400 {
		t.Fatalf("%d samples, want 2400", len(pcm))
	}
	if pcm[0] != 0 || math.Abs(float64(pcm[len(pcm)-1])) > 1 {
		t.Errorf("tone starts at %d and ends at %d, want faded to 0", pcm[0], pcm[len(pcm)-1])
	}
	crossings := 0
	for i := 1; i < len(pcm); i++ {
		if (pcm[i-1] < 0) != (pcm[i] < 0) {
			crossings++
		}
	}
	// 440 Hz for 0.3 s: 132 periods, 264 sign changes (±2 at the edges).
	if crossings < 260 || crossings > 266 {
		t.Errorf("%d zero crossings, want about 264 for 440 Hz", crossings)
	}
	peak := 0
	for _, x := range pcm {
		peak = max(peak, int(math.Abs(float64(x))))
	}
	if peak < 7900 || peak > 8000 {
		t.Errorf("peak %d, want about 8000", peak)
	}
	if Tone(440, 0, 8000) != nil {
		t.Error("zero-length tone not empty")
	}
}
