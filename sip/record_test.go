package sip

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kefu/ivr"
	"kefu/sip/media"
	"kefu/sip/testphone"
)

// recorded is what a recording flow reports.
type recorded struct {
	res   ivr.RecordResult
	err   error
	digit rune // the key the flow read after recording, if any
}

// recordFlow records into mailbox "sales" with req (Mailbox set here), then
// reads one key (100 ms) and hangs up.
func recordFlow(req ivr.RecordRequest, out chan<- recorded) flowFunc {
	return func(ctx context.Context, c ivr.Call) error {
		req.Mailbox = "sales"
		res, err := c.Record(ctx, req)
		r := recorded{res: res, err: err}
		if err == nil {
			if d, derr := c.ReadDigit(ctx, 100*time.Millisecond); derr == nil {
				r.digit = d
			}
		}
		out <- r
		if err != nil {
			return err
		}
		return c.Hangup(ctx, "normal")
	}
}

// toneFrame is 20 ms of a 400 Hz tone (8 whole periods) at amplitude amp,
// μ-law encoded: what a caller speaking sends, as far as energy goes.
func toneFrame(amp float64) []byte {
	b := make([]byte, media.FrameSamples)
	for i := range b {
		b[i] = media.EncodeUlaw(int16(amp * math.Sin(2*math.Pi*400*float64(i)/media.SampleRate)))
	}
	return b
}

// silentCaller is a phone that sends digital silence until told otherwise.
var silentCaller = testphone.Options{Fill: media.UlawSilence}

// waitBeep waits until the caller has heard the beep: packets that are
// neither silence nor one repeated code.
func waitBeep(t *testing.T, c *testphone.Call) {
	t.Helper()
	waitFor(t, 10*time.Second, "the beep", func() bool {
		n := 0
		for _, p := range c.Received() {
			if _, ok := uniform(p.Payload); !ok {
				n++
			}
		}
		return n >= 10
	})
}

// readRecording checks the recording's file, folder and permissions and
// returns its audio.
func readRecording(t *testing.T, ts *testServer, res ivr.RecordResult) []int16 {
	t.Helper()
	dir := filepath.Join(ts.dir, "sales")
	if filepath.Dir(res.File) != dir || !strings.HasSuffix(res.File, ".wav") {
		t.Fatalf("recording at %q, want a .wav file in %s", res.File, dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("mailbox folder holds %d files, want only the recording (no temporary files)", len(entries))
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm()&^0o750 != 0 {
		t.Errorf("mailbox folder mode %v (%v), want 0750 (less under a strict umask)", fi.Mode().Perm(), err)
	}
	fi, err := os.Stat(res.File)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("recording mode %v, want 0640", fi.Mode().Perm())
	}
	data, err := os.ReadFile(res.File)
	if err != nil {
		t.Fatal(err)
	}
	pcm, err := media.DecodeWAV(data)
	if err != nil {
		t.Fatalf("recording is not an 8 kHz WAV file: %v", err)
	}
	if got := time.Duration(len(pcm)) * time.Second / media.SampleRate; got != res.Length {
		t.Errorf("file holds %v of audio, result says %v", got, res.Length)
	}
	return pcm
}

// voiced is how long pcm holds the tone (20 ms blocks above the threshold).
func voiced(pcm []int16) time.Duration {
	n := 0
	for i := 0; i+media.FrameSamples <= len(pcm); i += media.FrameSamples {
		if rms(pcm[i:i+media.FrameSamples]) >= voiceRMS {
			n++
		}
	}
	return time.Duration(n) * media.FrameDuration
}

// TestRecordSilenceEnd: after the beep the caller speaks (a tone) for 2 s,
// then is silent: the recording ends 1 s into the silence and keeps the 2 s
// of speech and at most 0.5 s of the silence after it.
func TestRecordSilenceEnd(t *testing.T) {
	out := make(chan recorded, 1)
	ts := startServer(t, recordFlow(ivr.RecordRequest{
		Beep: true, MaxLength: 30 * time.Second, SilenceEnd: time.Second, FinishKeys: "#",
	}, out), nil)
	c := ts.dial(ts.phone("13900000031", "", silentCaller))
	waitBeep(t, c)
	c.SetPayload(toneFrame(8000))
	time.Sleep(2 * time.Second) // the caller talks for 2 s
	c.SetPayload(nil)

	r := receive(t, out, 15*time.Second, "the recording")
	if r.err != nil || r.res.Outcome != ivr.RecordOK {
		t.Fatalf("Record = %+v, %v; want ok", r.res, r.err)
	}
	pcm := readRecording(t, ts, r.res)
	t.Logf("recording: %v long, %v of speech", r.res.Length, voiced(pcm))
	if v := voiced(pcm); v < 1800*time.Millisecond || v > 2200*time.Millisecond {
		t.Errorf("recording holds %v of speech, want the caller's 2 s", v)
	}
	if r.res.Length < 2*time.Second || r.res.Length > 3500*time.Millisecond {
		t.Errorf("recording is %v long, want the 2 s of speech plus at most the silence before it and 0.5 s after", r.res.Length)
	}
	// The trailing silence kept is at most 0.5 s.
	tail := 0
	for i := len(pcm); i >= media.FrameSamples && rms(pcm[i-media.FrameSamples:i]) < voiceRMS; i -= media.FrameSamples {
		tail++
	}
	if d := time.Duration(tail) * media.FrameDuration; d > keptSilence+media.FrameDuration {
		t.Errorf("recording ends with %v of silence, want at most %v", d, keptSilence)
	}
	waitDone(t, c, "caller after recording")
	ts.idle()
}

// TestRecordNoAudio: a caller who says nothing leaves no file and the
// outcome no_audio (after the grace for starting to speak).
func TestRecordNoAudio(t *testing.T) {
	out := make(chan recorded, 1)
	ts := startServer(t, recordFlow(ivr.RecordRequest{
		MaxLength: 30 * time.Second, SilenceEnd: 500 * time.Millisecond,
	}, out), nil)
	c := ts.dial(ts.phone("13900000032", "", silentCaller))
	r := receive(t, out, 15*time.Second, "the recording")
	if r.err != nil || r.res.Outcome != ivr.RecordNoAudio || r.res.File != "" {
		t.Fatalf("Record = %+v, %v; want no_audio and no file", r.res, r.err)
	}
	if entries, err := os.ReadDir(filepath.Join(ts.dir, "sales")); err == nil && len(entries) > 0 {
		t.Errorf("mailbox folder holds %d files, want none", len(entries))
	}
	waitDone(t, c, "caller after recording")
	ts.idle()
}

// TestRecordFinishKey: the caller speaks, presses 5 (not a finish key: it
// stays buffered for the flow) and then # (RFC 4733), which ends the
// recording at once although neither silence nor the maximum length has
// come.
func TestRecordFinishKey(t *testing.T) {
	out := make(chan recorded, 1)
	ts := startServer(t, recordFlow(ivr.RecordRequest{
		MaxLength: 60 * time.Second, FinishKeys: "#*",
	}, out), nil)
	c := ts.dial(ts.phone("13900000033", "", silentCaller))
	waitFor(t, 10*time.Second, "the call to be answered", func() bool { return len(c.Received()) > 5 })
	c.SetPayload(toneFrame(8000))
	time.Sleep(time.Second)
	if err := c.SendDigit('5'); err != nil {
		t.Fatal(err)
	}
	if err := c.SendDigit('#'); err != nil {
		t.Fatal(err)
	}
	r := receive(t, out, 15*time.Second, "the recording")
	if r.err != nil || r.res.Outcome != ivr.RecordOK {
		t.Fatalf("Record = %+v, %v; want ok", r.res, r.err)
	}
	if r.digit != '5' {
		t.Errorf("flow read %q after recording, want the 5 pressed during it", r.digit)
	}
	pcm := readRecording(t, ts, r.res)
	if v := voiced(pcm); v < 500*time.Millisecond {
		t.Errorf("recording holds %v of speech, want about 1 s", v)
	}
	waitDone(t, c, "caller after recording")
	ts.idle()
}

// TestRecordHangup: a caller who hangs up while recording leaves the
// message; Record returns it with the hang-up error.
func TestRecordHangup(t *testing.T) {
	out := make(chan recorded, 1)
	ts := startServer(t, recordFlow(ivr.RecordRequest{
		MaxLength: 60 * time.Second, SilenceEnd: 5 * time.Second,
	}, out), nil)
	c := ts.dial(ts.phone("13900000034", "", silentCaller))
	waitFor(t, 10*time.Second, "the call to be answered", func() bool { return len(c.Received()) > 5 })
	c.SetPayload(toneFrame(8000))
	time.Sleep(time.Second)
	hangup(t, c)
	r := receive(t, out, 15*time.Second, "the recording")
	if !errors.Is(r.err, ivr.ErrHangup) {
		t.Errorf("Record error %v, want one wrapping ErrHangup", r.err)
	}
	if r.res.Outcome != ivr.RecordOK {
		t.Fatalf("Record = %+v, want the message kept", r.res)
	}
	if v := voiced(readRecording(t, ts, r.res)); v < 500*time.Millisecond {
		t.Errorf("recording holds %v of speech, want about 1 s", v)
	}
	ts.idle()
}

// TestRecordRefused: without a voicemail directory, or with a mailbox name
// that is not one folder, Record fails with an error saying what to fix.
func TestRecordRefused(t *testing.T) {
	errs := make(chan error, 2)
	ts := startServer(t, func(ctx context.Context, c ivr.Call) error {
		_, err := c.Record(ctx, ivr.RecordRequest{Mailbox: "../etc"})
		errs <- err
		return c.Hangup(ctx, "normal")
	}, nil)
	_, dialErr := ts.phone("13900000035", "", silentCaller).DialNoWait(context.Background(), ts.sip, accessNumber)
	if err := receive(t, errs, 10*time.Second, "Record"); err == nil || !strings.Contains(err.Error(), "not a valid folder name") {
		t.Errorf("mailbox ../etc: %v", err)
	}
	receive(t, dialErr, 10*time.Second, "the caller to be refused")
	ts.idle()

	ts = startServer(t, func(ctx context.Context, c ivr.Call) error {
		_, err := c.Record(ctx, ivr.RecordRequest{Mailbox: "sales"})
		errs <- err
		return c.Hangup(ctx, "normal")
	}, func(cfg *Config) { cfg.VoicemailDir = "" })
	_, dialErr2 := ts.phone("13900000036", "", silentCaller).DialNoWait(context.Background(), ts.sip, accessNumber)
	if err := receive(t, errs, 10*time.Second, "Record"); !errors.Is(err, errNoVoicemailDir) {
		t.Errorf("no voicemail directory: %v", err)
	}
	receive(t, dialErr2, 10*time.Second, "the caller to be refused")
	ts.idle()
}

// TestCheckMailbox: a mailbox is one plain folder name.
func TestCheckMailbox(t *testing.T) {
	for name, ok := range map[string]bool{
		"sales": true, "vip-1": true, "客服": true,
		"": false, ".": false, "..": false, "../etc": false, "a/b": false, `a\b`: false, "/abs": false, "c:x": false, "a\x00": false,
	} {
		if err := checkMailbox(name); (err == nil) != ok {
			t.Errorf("checkMailbox(%q) = %v, want ok %t", name, err, ok)
		}
	}
}
