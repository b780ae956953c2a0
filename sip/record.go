package sip

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"kefu/ivr"
	"kefu/sip/media"
)

// The beep before a recording: 440 Hz for 0.3 s at about −12 dBFS.
const (
	beepHz        = 440
	beepLength    = 300 * time.Millisecond
	beepAmplitude = 8000
)

// Silence detection in recordings. A 20 ms packet is voice when the RMS of
// its decoded samples is at least voiceRMS: 500 of 32767 is about −36 dBFS,
// well above a quiet line's noise (G.711 digital silence decodes to 0–8) and
// below normal speech (around −20 dBFS, RMS 3000). The caller has spoken once
// speechFrames voice packets (60 ms) have arrived, so a click does not count.
// Before that, silence does not end the recording until SilenceEnd plus
// speechGrace have passed since it started, which gives the caller time to
// begin; a recording in which the caller never spoke keeps nothing
// (RecordNoAudio).
const (
	voiceRMS     = 500
	speechFrames = 3
	speechGrace  = 3 * time.Second
	// keptSilence is how much of the silence that ended a recording is kept.
	keptSilence = 500 * time.Millisecond
	// defaultMaxLength caps a recording whose request gives no MaxLength.
	defaultMaxLength = 5 * time.Minute
)

// errNoVoicemailDir: recordings are refused when no directory is configured.
var errNoVoicemailDir = errors.New("recording refused: no voicemail directory is configured; set sip.voicemail_dir in the config")

// Record implements ivr.Call: it answers the call if needed, beeps if asked,
// and records the caller's audio, decoded to 16-bit PCM, until MaxLength
// (default 5 min), SilenceEnd of silence after the caller spoke (see
// voiceRMS), a FinishKeys key (RFC 4733 or SIP INFO; keys pressed before the
// recording started do not count, and the key is taken out of the digit
// buffer) or the caller's hang-up. Packets are written in arrival order;
// lost packets leave no gap. When the caller spoke, the recording (with at
// most 0.5 s of the silence that ended it) is written to
// VoicemailDir/<mailbox>/<UTC time>-<call id hash>.wav (directories 0750,
// file 0640, written to a temporary file and renamed); otherwise nothing is
// kept and the outcome is RecordNoAudio. After a hang-up the recording is
// kept and returned together with the hang-up error.
func (c *call) Record(ctx context.Context, req ivr.RecordRequest) (ivr.RecordResult, error) {
	if c.srv.cfg.VoicemailDir == "" {
		return ivr.RecordResult{}, errNoVoicemailDir
	}
	if err := checkMailbox(req.Mailbox); err != nil {
		return ivr.RecordResult{}, err
	}
	if err := c.ensureAnswered(); err != nil {
		return ivr.RecordResult{}, err
	}
	if req.Beep {
		if err := c.leg.Play(ctx, c.srv.beep); err != nil {
			if ctx.Err() != nil || c.ctx.Err() != nil {
				return ivr.RecordResult{}, c.ended()
			}
			return ivr.RecordResult{}, fmt.Errorf("beep: %w", err)
		}
	}
	tap, err := c.leg.Tap()
	if err != nil {
		return ivr.RecordResult{}, fmt.Errorf("record: %w", err)
	}
	defer tap.Stop()
	c.setState("recording")
	defer c.setState("ivr")

	maxLen := req.MaxLength
	if maxLen <= 0 {
		maxLen = defaultMaxLength
	}
	maxSamples := int(maxLen * media.SampleRate / time.Second)
	limit := time.NewTimer(maxLen)
	defer limit.Stop()
	check := time.NewTicker(100 * time.Millisecond)
	defer check.Stop()
	c.mu.Lock()
	seen := len(c.digits)
	c.mu.Unlock()

	start := time.Now()
	var (
		pcm         []int16
		voiceFrames int
		lastVoice   time.Time // when the last voice packet arrived
		voiceEnd    int       // samples up to the end of the last voice packet
		why         string
		hangup      error
	)
	add := func(frame []int16) {
		pcm = append(pcm, frame...)
		if rms(frame) >= voiceRMS {
			voiceFrames++
			lastVoice, voiceEnd = time.Now(), len(pcm)
		}
	}
	for why == "" {
		c.mu.Lock()
		sig := c.digitCh
		c.mu.Unlock()
		select {
		case frame := <-tap.Audio():
			add(frame)
			if len(pcm) >= maxSamples {
				why = "max_length"
			}
		case <-sig:
			if c.takeKey(req.FinishKeys, &seen, true) {
				why = "key"
			}
		case now := <-check.C:
			if req.SilenceEnd <= 0 {
				continue
			}
			if voiceFrames >= speechFrames && now.Sub(lastVoice) >= req.SilenceEnd {
				why = "silence"
			} else if voiceFrames < speechFrames && now.Sub(start) >= req.SilenceEnd+speechGrace {
				why = "silence"
			}
		case <-limit.C:
			why = "max_length"
		case <-ctx.Done():
			why, hangup = "hangup", c.ended()
		}
	}
	// Packets already received belong to the recording.
	for drained := false; !drained; {
		select {
		case frame := <-tap.Audio():
			add(frame)
		default:
			drained = true
		}
	}
	log := c.log.With("mailbox", req.Mailbox, "ended_by", why)
	if voiceFrames < speechFrames {
		log.Info("nothing recorded: the caller did not speak", "listened", time.Since(start).Round(time.Millisecond))
		return ivr.RecordResult{Outcome: ivr.RecordNoAudio}, hangup
	}
	if why == "silence" {
		pcm = pcm[:min(len(pcm), voiceEnd+int(keptSilence*media.SampleRate/time.Second))]
	}
	pcm = pcm[:min(len(pcm), maxSamples)]
	length := time.Duration(len(pcm)) * time.Second / media.SampleRate
	path, err := c.srv.writeRecording(req.Mailbox, c.id, pcm, start)
	if err != nil {
		log.Error("recording lost", "err", err)
		return ivr.RecordResult{}, errors.Join(err, hangup)
	}
	if d := tap.Dropped(); d > 0 {
		log.Warn("recording has gaps: packets dropped", "dropped", d)
	}
	log.Info("message recorded", "file", path, "length", length.Round(time.Millisecond))
	return ivr.RecordResult{Outcome: ivr.RecordOK, File: path, Length: length}, hangup
}

// checkMailbox accepts a mailbox name that is one plain folder name.
func checkMailbox(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\:`) ||
		strings.ContainsRune(name, 0) || !filepath.IsLocal(name) {
		return fmt.Errorf("mailbox %q is not a valid folder name: use letters, digits, '-' or '_' in the flow", name)
	}
	return nil
}

// writeRecording writes pcm as a WAV file in the mailbox's folder and
// returns its path.
func (s *Server) writeRecording(mailbox, callID string, pcm []int16, at time.Time) (path string, err error) {
	dir := filepath.Join(s.cfg.VoicemailDir, mailbox)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("voicemail folder: %w (check sip.voicemail_dir exists and Kefu may write to it)", err)
	}
	sum := sha256.Sum256([]byte(callID))
	name := at.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(sum[:6]) + ".wav"
	path = filepath.Join(dir, name)
	tmp, err := os.CreateTemp(dir, ".rec-*.wav")
	if err != nil {
		return "", fmt.Errorf("voicemail file: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, tmp.Close(), os.Remove(tmp.Name()))
		}
	}()
	if _, err := tmp.Write(media.EncodeWAV(pcm)); err != nil {
		return "", fmt.Errorf("voicemail file %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("voicemail file %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o640); err != nil {
		return "", fmt.Errorf("voicemail file %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("voicemail file %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("voicemail file %s: %w", path, err)
	}
	return path, nil
}

// rms is the root mean square of a packet's samples.
func rms(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var sum float64
	for _, x := range pcm {
		sum += float64(x) * float64(x)
	}
	return math.Sqrt(sum / float64(len(pcm)))
}
