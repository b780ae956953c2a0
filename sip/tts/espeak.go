package tts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"kefu/sip/media"
)

// render runs espeak-ng for text with voice and returns 8 kHz mono PCM.
// espeak-ng writes its WAV file to a temporary file in the cache directory
// (its --stdout output declares a bogus data size), which is removed after.
func (e *Engine) render(ctx context.Context, text, voice string) ([]int16, error) {
	tmp, err := os.CreateTemp(e.cacheDir, ".render-*.wav")
	if err != nil {
		return nil, fmt.Errorf("temporary file for espeak-ng: %w; check that the cache directory is writable", err)
	}
	out := tmp.Name()
	defer os.Remove(out) //nolint:errcheck // best effort; it is a temporary file
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("temporary file for espeak-ng: %w", err)
	}

	// The text is one argument after "--": however it begins, espeak-ng
	// takes it as text, not as an option. No shell is involved.
	cmd := exec.CommandContext(ctx, e.command, "-v", voice, "-s", strconv.Itoa(e.speed), "-w", out, "--", text)
	var output bytes.Buffer // espeak-ng prints nothing on success; kept for the error
	cmd.Stdout = &output
	cmd.Stderr = &output
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("%s did not finish within %v: %w; raise the TTS timeout or shorten the text", e.command, e.timeout, ctx.Err())
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s stopped: %w", e.command, ctx.Err())
		}
		msg := strings.TrimSpace(output.String())
		if len(msg) > 500 {
			msg = msg[:500]
		}
		return nil, fmt.Errorf("%s failed: %w (it said: %q); check the voice with: espeak-ng --voices", e.command, err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("reading espeak-ng's output: %w", err)
	}
	pcm, rate, err := media.DecodeWAVRate(data)
	if err != nil {
		return nil, fmt.Errorf("espeak-ng wrote no usable audio (%d bytes): %w", len(data), err)
	}
	r, err := newResampler(rate, media.SampleRate)
	if err != nil {
		return nil, err
	}
	return r.resample(pcm), nil
}
