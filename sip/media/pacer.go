package media

import (
	"context"
	"time"
)

// playback is one Play call's progress through its prompts.
type playback struct {
	prompts []*Prompt
	idx     int  // current prompt
	frame   int  // next frame of the current prompt
	resumed bool // mark the first frame sent although it does not start a prompt
	done    chan struct{}
}

// Play sends prompts one after another and returns when the last frame has
// been sent (nil), when ctx is done (ctx.Err(), playback stops at once), or
// when the session closes (ErrClosed). Plays are serialised: a Play called
// while another is in progress waits for it to finish first (or for its own
// ctx). While the leg is bridged the prompt is paused and resumes when the
// bridge ends. Frames go out on the 20 ms schedule whether or not a remote
// address is known, so a Play always takes about the prompts' duration.
// Each prompt's first packet has the marker bit. Start must have been called.
func (s *Session) Play(ctx context.Context, prompts ...*Prompt) error {
	pb := &playback{done: make(chan struct{})}
	for _, p := range prompts {
		if p != nil && p.FrameCount() > 0 {
			pb.prompts = append(pb.prompts, p)
		}
	}
	return s.play(ctx, pb)
}

// PlayFrom plays p from its frame number from (0 is the start) to the end,
// as Play does, and reports where it stopped: next is the first frame not
// sent, p.FrameCount() when it played to the end (err nil). When ctx ends
// first it returns ctx.Err() with next telling where to resume, so music
// interrupted by an announcement goes on where it was rather than from the
// start. A resumed play marks its first packet (a new talk spurt).
func (s *Session) PlayFrom(ctx context.Context, p *Prompt, from int) (next int, err error) {
	if p == nil || from >= p.FrameCount() {
		if p == nil {
			return 0, nil
		}
		return p.FrameCount(), nil
	}
	from = max(from, 0)
	pb := &playback{prompts: []*Prompt{p}, frame: from, resumed: from > 0, done: make(chan struct{})}
	err = s.play(ctx, pb)
	if err == nil {
		return p.FrameCount(), nil
	}
	// stopPlayback has detached pb, so its position no longer moves.
	s.playMu.Lock()
	defer s.playMu.Unlock()
	if pb.idx > 0 {
		return p.FrameCount(), err
	}
	return pb.frame, err
}

// play runs one playback to its end; see Play.
func (s *Session) play(ctx context.Context, pb *playback) error {
	select {
	case s.playSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrClosed
	}
	defer func() { <-s.playSem }()

	if len(pb.prompts) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.playMu.Lock()
	s.cur = pb
	s.playMu.Unlock()

	select {
	case <-pb.done:
		return nil
	case <-ctx.Done():
		s.stopPlayback(pb)
		return ctx.Err()
	case <-s.done:
		s.stopPlayback(pb)
		return ErrClosed
	}
}

func (s *Session) stopPlayback(pb *playback) {
	s.playMu.Lock()
	if s.cur == pb {
		s.cur = nil
	}
	s.playMu.Unlock()
}

// nextFrame returns the payload for the next 20 ms slot and whether it
// starts a prompt.
func (s *Session) nextFrame() (payload []byte, marker bool) {
	s.playMu.Lock()
	defer s.playMu.Unlock()
	pb := s.cur
	if pb == nil {
		if s.alaw {
			return alawSilenceFrame[:], false
		}
		return ulawSilenceFrame[:], false
	}
	p := pb.prompts[pb.idx]
	payload = p.Frame(s.codec, pb.frame)
	marker = pb.frame == 0 || pb.resumed
	pb.resumed = false
	pb.frame++
	if pb.frame >= p.FrameCount() {
		pb.idx++
		pb.frame = 0
		if pb.idx >= len(pb.prompts) {
			s.cur = nil
			close(pb.done)
		}
	}
	return payload, marker
}

// Silence frames; read-only.
var (
	ulawSilenceFrame = silenceFrame(UlawSilence)
	alawSilenceFrame = silenceFrame(AlawSilence)
)

func silenceFrame(b byte) (f [FrameSamples]byte) {
	for i := range f {
		f[i] = b
	}
	return f
}

// paceLoop sends one frame per 20 ms slot on the absolute schedule
// start + n*20ms. When it is more than maxLag frames late it skips the
// missed slots (the timestamp jumps, nothing is burst) and counts them in
// LateFrames.
func (s *Session) paceLoop() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	start := time.Now()
	lastExpire := start
	for n := int64(0); ; n++ {
		due := start.Add(time.Duration(n) * FrameDuration)
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-s.done:
				return
			case <-timer.C:
			}
		} else {
			select {
			case <-s.done:
				return
			default:
			}
		}
		now := time.Now()
		if behind := int64(now.Sub(due) / FrameDuration); behind > s.maxLag {
			s.st.lateFrames.Add(uint64(behind)) //nolint:gosec // behind > 0
			s.totals.addLate(uint64(behind))    //nolint:gosec // idem
			n += behind
			due = start.Add(time.Duration(n) * FrameDuration)
		}
		s.sendSlot(due)
		if now.Sub(lastExpire) >= dtmfExpireEvery {
			lastExpire = now
			s.expireDTMF(now)
		}
	}
}

// sendSlot sends the frame of the slot due at due, unless the leg is
// bridged. Without a remote address the frame is consumed but not sent.
func (s *Session) sendSlot(due time.Time) {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if s.bridge != nil {
		return
	}
	payload, marker := s.nextFrame()
	to := s.Remote()
	if !sendable(to) {
		return
	}
	s.writePacket(s.codec.PayloadType, marker, s.nextTS(due), payload, to, due)
}
