package tts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kefu/sip/media"
	"kefu/sip/sdp"
)

// Texts used throughout: a typical 20-character Mandarin sentence and an
// English one.
const (
	zhText = "您好，欢迎致电客服热线，查询话费请按一。"
	enText = "Welcome to the service hotline. Press one for your balance."
)

// espeak returns the real espeak-ng. The tests need it (CI installs it), so
// its absence fails them rather than skipping them.
func espeak(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("espeak-ng")
	if err != nil {
		t.Fatalf("espeak-ng is needed by these tests: %v; %s", err, installHint)
	}
	return path
}

// newEngine returns an Engine with a fresh catalog, caching in dir (a new
// temporary directory if ""), changed by edit, closed when the test ends.
func newEngine(t testing.TB, dir string, edit func(*Config)) *Engine {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	cfg := Config{
		CacheDir: dir,
		Catalog:  media.NewCatalog(),
		Logger:   slog.New(slog.NewTextHandler(t.Output(), nil)),
	}
	if edit != nil {
		edit(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	})
	return e
}

// shellQuote quotes s for a POSIX shell script (test scripts only).
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// recorder writes a script that logs each run ("start", one "arg" line per
// argument, "end") to a log file, sleeps for delay and runs the real
// espeak-ng with the same arguments. It returns the script and the log.
func recorder(t *testing.T, delay string) (command, log string) {
	t.Helper()
	dir := t.TempDir()
	command, log = filepath.Join(dir, "espeak-recorder"), filepath.Join(dir, "runs.log")
	script := fmt.Sprintf(`#!/bin/sh
log=%s
echo start >> "$log"
for a in "$@"; do printf 'arg %%s\n' "$a" >> "$log"; done
sleep %s
%s "$@"
rc=$?
echo end >> "$log"
exit $rc
`, shellQuote(log), delay, shellQuote(espeak(t)))
	if err := os.WriteFile(command, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return command, log
}

// script writes a fake command with body and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fake-espeak")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

// runLog reads a recorder log: the number of runs, the most that ran at
// once, and the arguments of the last run.
func runLog(t *testing.T, log string) (runs, maxConcurrent int, lastArgs []string) {
	t.Helper()
	data, err := os.ReadFile(log)
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	running := 0
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "start":
			runs++
			running++
			maxConcurrent = max(maxConcurrent, running)
			lastArgs = nil
		case line == "end":
			running--
		case strings.HasPrefix(line, "arg "):
			lastArgs = append(lastArgs, strings.TrimPrefix(line, "arg "))
		}
	}
	return runs, maxConcurrent, lastArgs
}

// pcm decodes a prompt's PCMU frames back to linear PCM.
func pcm(p *media.Prompt) []int16 {
	var out []int16
	for _, f := range p.Frames(sdp.PCMU) {
		for _, b := range f {
			out = append(out, media.DecodeUlaw(b))
		}
	}
	return out
}

// checkSpeech fails unless the prompt called name is in the catalog and
// sounds like speech: 0.3–10 s long, not silent.
func checkSpeech(t *testing.T, c *media.Catalog, name string) *media.Prompt {
	t.Helper()
	p, ok := c.Get(name)
	if !ok {
		t.Fatalf("prompt %s is not in the catalog (has %v)", name, c.Names())
	}
	if d := p.Duration(); d < 300*time.Millisecond || d > 10*time.Second {
		t.Errorf("prompt lasts %v, want 0.3–10 s", d)
	}
	samples := pcm(p)
	var peak int
	for _, x := range samples {
		peak = max(peak, abs(int(x)))
	}
	if r := rms(samples); r < 500 || peak < 4000 {
		t.Errorf("prompt is nearly silent: RMS %.0f, peak %d", r, peak)
	}
	return p
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestSayRenders(t *testing.T) {
	tests := []struct {
		name, text, lang, voice string
	}{
		{"Mandarin", zhText, "zh", "cmn"},
		{"English", enText, "en", "en-us"},
		{"Mandarin by region", zhText, "zh-CN", "cmn"},
		{"English, upper case", "Your call is important to us.", "EN", "en-us"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			command, log := recorder(t, "0")
			e := newEngine(t, "", func(c *Config) { c.Command = command })
			ctx := t.Context()
			start := time.Now()
			name, err := e.Say(ctx, tt.text, tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("first Say (render) took %v", time.Since(start))
			if !strings.HasPrefix(name, PromptPrefix) || len(name) != len(PromptPrefix)+32 {
				t.Errorf("name %q, want %s + 32 hex digits", name, PromptPrefix)
			}
			p := checkSpeech(t, e.catalog, name)
			if s := e.Stats(); s != (Stats{Renders: 1}) {
				t.Errorf("stats after a render: %+v", s)
			}
			runs, _, args := runLog(t, log)
			if runs != 1 || len(args) < 4 || !slices.Contains(args, tt.voice) || args[len(args)-2] != "--" || args[len(args)-1] != tt.text {
				t.Errorf("espeak-ng ran %d times, last with %q; want once with voice %s and the text after --", runs, args, tt.voice)
			}

			// The cache file holds the same audio as an 8 kHz WAV.
			data, err := os.ReadFile(filepath.Join(e.cacheDir, strings.TrimPrefix(name, PromptPrefix)+".wav"))
			if err != nil {
				t.Fatal(err)
			}
			cached, err := media.DecodeWAV(data)
			if err != nil {
				t.Fatal(err)
			}
			if time.Duration(len(cached))*time.Second/media.SampleRate != p.Duration() {
				t.Errorf("cache file has %d samples, prompt lasts %v", len(cached), p.Duration())
			}

			// Again: from memory, espeak-ng not run.
			again, err := e.Say(ctx, tt.text, tt.lang)
			if err != nil || again != name {
				t.Fatalf("second Say = %q, %v; want %q", again, err, name)
			}
			if s := e.Stats(); s != (Stats{Renders: 1, MemoryHits: 1}) {
				t.Errorf("stats after a memory hit: %+v", s)
			}
			if runs, _, _ := runLog(t, log); runs != 1 {
				t.Errorf("espeak-ng ran %d times, want 1", runs)
			}
			if n, err := e.PromptName(tt.text, tt.lang); n != name || err != nil {
				t.Errorf("PromptName = %q, %v; want %q", n, err, name)
			}
		})
	}
}

// TestSayDistinctNames checks that what shapes the audio shapes the name.
func TestSayDistinctNames(t *testing.T) {
	e := newEngine(t, "", nil)
	slow := newEngine(t, "", func(c *Config) { c.Speed = 120 })
	gb := newEngine(t, "", func(c *Config) { c.Voices = map[string]string{"en": "en-gb"} })
	name := func(e *Engine, text, lang string) string {
		n, err := e.PromptName(text, lang)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	names := []string{
		name(e, "hello", "en"),
		name(e, "hello ", "en"),
		name(e, "hello", "zh"),
		name(slow, "hello", "en"),
		name(gb, "hello", "en"),
	}
	for i := range names {
		for j := range i {
			if names[i] == names[j] {
				t.Errorf("names %d and %d are both %s", j, i, names[i])
			}
		}
	}
	if name(e, "hello", "en") != name(e, "hello", "en-US") || name(e, "hello", "zh") != name(gb, "hello", "zh") {
		t.Error("the same voice, speed and text must give the same name")
	}
}

func TestSayDiskCache(t *testing.T) {
	dir := t.TempDir()
	first := newEngine(t, dir, nil)
	ctx := t.Context()
	name, err := first.Say(ctx, zhText, "zh")
	if err != nil {
		t.Fatal(err)
	}
	rendered, _ := first.catalog.Get(name)

	// A restart: a new engine and catalog on the same directory, and no
	// espeak-ng at all, so the prompt can only come from disk.
	missing := filepath.Join(t.TempDir(), "no-such-espeak-ng")
	second := newEngine(t, dir, func(c *Config) { c.Command = missing })
	got, err := second.Say(ctx, zhText, "zh")
	if err != nil || got != name {
		t.Fatalf("Say after restart = %q, %v; want %q from disk", got, err, name)
	}
	loaded := checkSpeech(t, second.catalog, name)
	if !slices.EqualFunc(loaded.Frames(sdp.PCMA), rendered.Frames(sdp.PCMA), slices.Equal) {
		t.Error("the prompt loaded from disk differs from the one rendered")
	}
	if s := second.Stats(); s != (Stats{DiskHits: 1}) {
		t.Errorf("stats: %+v, want one disk hit", s)
	}
	if _, err := second.Say(ctx, zhText, "zh"); err != nil {
		t.Fatal(err)
	}
	if s := second.Stats(); s != (Stats{DiskHits: 1, MemoryHits: 1}) {
		t.Errorf("stats: %+v, want then a memory hit", s)
	}
}

func TestSayCorruptCacheRendersAgain(t *testing.T) {
	e := newEngine(t, "", nil)
	name, err := e.PromptName(enText, "en")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.cacheDir, strings.TrimPrefix(name, PromptPrefix)+".wav")
	if err := os.WriteFile(path, []byte("RIFF\x00\x00"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Say(t.Context(), enText, "en"); err != nil {
		t.Fatal(err)
	}
	checkSpeech(t, e.catalog, name)
	if s := e.Stats(); s != (Stats{Renders: 1}) {
		t.Errorf("stats: %+v, want one render", s)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := media.DecodeWAV(data); err != nil {
		t.Errorf("the corrupt cache file was not replaced: %v", err)
	}
	leftovers, err := filepath.Glob(filepath.Join(e.cacheDir, ".*"))
	if err != nil || len(leftovers) != 0 {
		t.Errorf("temporary files left in the cache directory: %v", leftovers)
	}
}

func TestSayConcurrentRendersOnce(t *testing.T) {
	const callers = 12
	// espeak-ng takes at least 300 ms here, so all callers arrive while
	// the first render is running.
	command, log := recorder(t, "0.3")
	e := newEngine(t, "", func(c *Config) { c.Command = command })
	start := make(chan struct{})
	names := make([]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			<-start
			names[i], errs[i] = e.Say(t.Context(), zhText, "zh")
		})
	}
	close(start)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || names[i] != names[0] {
			t.Fatalf("caller %d: %q, %v; caller 0: %q", i, names[i], errs[i], names[0])
		}
	}
	if runs, _, _ := runLog(t, log); runs != 1 {
		t.Errorf("espeak-ng ran %d times for one text, want 1", runs)
	}
	s := e.Stats()
	if s.Renders != 1 || s.Waits+s.MemoryHits != callers-1 || s.Waits == 0 {
		t.Errorf("stats: %+v; want 1 render and %d callers sharing it", s, callers-1)
	}
	checkSpeech(t, e.catalog, names[0])
}

// TestSayOptionLikeText checks that texts that look like espeak-ng options
// are spoken: the argument list ends with "--" and the text, and the audio
// is as long as speech.
func TestSayOptionLikeText(t *testing.T) {
	texts := []string{
		"-w /tmp/owned.wav",
		"--help",
		"-v",
		"--stdout is not an option here",
		"- one and - two",
	}
	for _, text := range texts {
		t.Run(text, func(t *testing.T) {
			command, log := recorder(t, "0")
			e := newEngine(t, "", func(c *Config) { c.Command = command })
			name, err := e.Say(t.Context(), text, "en")
			if err != nil {
				t.Fatal(err)
			}
			checkSpeech(t, e.catalog, name)
			_, _, args := runLog(t, log)
			if len(args) < 2 || args[len(args)-2] != "--" || args[len(args)-1] != text || slices.Index(args, "--") != len(args)-2 {
				t.Errorf("espeak-ng arguments %q; want the text alone after a single --", args)
			}
		})
	}
	if _, err := os.Stat("/tmp/owned.wav"); err == nil {
		t.Error("/tmp/owned.wav exists: a text was taken as an option")
	}
}

func TestSayRefuses(t *testing.T) {
	e := newEngine(t, "", nil)
	tests := []struct {
		name, text, lang string
		is               error
		msg              string
	}{
		{"empty", "", "en", errText, "the text is empty"},
		{"blank", " \t\n　", "zh", errText, "the text is empty"},
		{"too long", strings.Repeat("话", 667), "zh", errText, "the text is 2001 bytes, over the limit of 2000: split it"},
		{"not UTF-8", "caf\xe9", "en", errText, "not valid UTF-8"},
		{"NUL", "one\x00two", "en", errText, "NUL byte"},
		{"unknown language", "bonjour", "fr", errLanguage, `"fr" has no voice; configured languages: en, zh`},
		{"no language", "hello", "", errLanguage, "configured languages: en, zh"},
		{"region of unknown language", "hallo", "de-AT", errLanguage, `"de-AT" has no voice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Say(t.Context(), tt.text, tt.lang)
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Say: %v; want %q", err, tt.msg)
			}
			if _, perr := e.PromptName(tt.text, tt.lang); perr == nil || perr.Error() != err.Error() {
				t.Errorf("PromptName: %v; want the same error as Say", perr)
			}
		})
	}
	if _, err := e.PromptName(strings.Repeat("话", 666)+"ab", "zh"); err != nil {
		t.Errorf("exactly %d bytes: %v", MaxTextBytes, err)
	}
	if s := e.Stats(); s != (Stats{}) {
		t.Errorf("refused texts changed the stats: %+v", s)
	}
}

func TestSayMissingCommand(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "espeak-ng")
	e := newEngine(t, "", func(c *Config) { c.Command = missing })
	for range 2 { // the second Say tries again and fails the same way
		_, err := e.Say(t.Context(), enText, "en")
		if !errors.Is(err, errNoCommand) || !strings.Contains(err.Error(), "apt-get install espeak-ng") || !strings.Contains(err.Error(), missing) {
			t.Fatalf("err = %v; want one naming %s and saying to install espeak-ng", err, missing)
		}
	}
	if s := e.Stats(); s != (Stats{Failures: 2}) {
		t.Errorf("stats: %+v", s)
	}
}

func TestSayCommandFails(t *testing.T) {
	tests := []struct {
		name string
		edit func(t *testing.T, c *Config)
		msg  string
	}{
		{"unknown voice", func(t *testing.T, c *Config) { c.Voices = map[string]string{"xx": "nosuchvoice"} }, "voice does not exist"},
		{"exit status", func(t *testing.T, c *Config) { c.Command = script(t, "echo broken >&2; exit 3") }, `exit status 3 (it said: "broken")`},
		{"no audio", func(t *testing.T, c *Config) { c.Command = script(t, "exit 0") }, "espeak-ng wrote no usable audio (0 bytes)"},
		{"timeout", func(t *testing.T, c *Config) {
			c.Command = script(t, "exec sleep 5")
			c.Timeout = 200 * time.Millisecond
		}, "did not finish within 200ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, "", func(c *Config) { tt.edit(t, c) })
			lang := "en"
			if _, err := e.voice("xx"); err == nil {
				lang = "xx"
			}
			start := time.Now()
			name, err := e.Say(t.Context(), enText, lang)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Say = %q, %v; want an error with %q", name, err, tt.msg)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Say took %v", d)
			}
			if s := e.Stats(); s != (Stats{Failures: 1}) {
				t.Errorf("stats: %+v", s)
			}
			if e.catalog.Len() != 0 {
				t.Errorf("catalog has %v after a failed render", e.catalog.Names())
			}
		})
	}
}

// TestSayCallerGivesUp checks that a caller whose context ends gets its
// error at once, while the render goes on and serves the next caller.
func TestSayCallerGivesUp(t *testing.T) {
	command, log := recorder(t, "0.5")
	e := newEngine(t, "", func(c *Config) { c.Command = command })
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := e.Say(ctx, enText, "en"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the caller's deadline", err)
	}
	if d := time.Since(start); d > 400*time.Millisecond {
		t.Errorf("the caller waited %v after its deadline", d)
	}
	name, err := e.Say(t.Context(), enText, "en")
	if err != nil {
		t.Fatal(err)
	}
	checkSpeech(t, e.catalog, name)
	if runs, _, _ := runLog(t, log); runs != 1 {
		t.Errorf("espeak-ng ran %d times, want 1 (the first render went on)", runs)
	}
}

func TestClose(t *testing.T) {
	e := newEngine(t, "", func(c *Config) { c.Command = script(t, "exec sleep 30") })
	errc := make(chan error, 1)
	go func() {
		_, err := e.Say(t.Context(), enText, "en")
		errc <- err
	}()
	for e.inFlight() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v: it did not stop the render", d)
	}
	if err := <-errc; err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("Say during Close: %v, want the render stopped", err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := e.Say(t.Context(), zhText, "zh"); !errors.Is(err, errClosed) {
		t.Errorf("Say after Close: %v, want errClosed", err)
	}
}

// inFlight is the number of loads and renders in progress.
func (e *Engine) inFlight() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.flights)
}

func TestWarm(t *testing.T) {
	command, log := recorder(t, "0.3")
	e := newEngine(t, "", func(c *Config) { c.Command = command })
	texts := []Text{
		{zhText, "zh"},
		{enText, "en"},
		{"请稍候。", "zh"},
		{zhText, "zh"}, // a duplicate renders once
		{"Goodbye.", "en"},
		{"Bonjour.", "fr"},
		{"", "en"},
	}
	err := e.Warm(t.Context(), texts)
	if err == nil {
		t.Fatal("Warm succeeded with a bad language and an empty text")
	}
	for _, want := range []string{`text 6 (fr, "Bonjour."): tts: no voice`, `text 7 (en, ""): tts: text cannot be spoken`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Warm error %q does not contain %q", err, want)
		}
	}
	if strings.Count(err.Error(), "\n") != 1 {
		t.Errorf("Warm error has other failures: %q", err)
	}
	for _, tt := range texts[:5] {
		name, err := e.PromptName(tt.Text, tt.Lang)
		if err != nil {
			t.Fatal(err)
		}
		checkSpeech(t, e.catalog, name)
	}
	runs, most, _ := runLog(t, log)
	if runs != 4 || most != 2 {
		t.Errorf("espeak-ng ran %d times, at most %d at once; want 4 runs, 2 at once", runs, most)
	}
	if err := e.Warm(t.Context(), texts[:5]); err != nil {
		t.Errorf("second Warm: %v", err)
	}
	if runs, _, _ := runLog(t, log); runs != 4 {
		t.Errorf("second Warm ran espeak-ng %d more times", runs-4)
	}
}

func TestWarmCancelled(t *testing.T) {
	e := newEngine(t, "", nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := e.Warm(ctx, []Text{{"one", "en"}, {"two", "en"}, {"three", "en"}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestNewErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(readOnly, 0o500); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*Config)
		msg  string
	}{
		{"no cache dir", func(c *Config) { c.CacheDir = "" }, "Config.CacheDir is empty"},
		{"no catalog", func(c *Config) { c.Catalog = nil }, "Config.Catalog is nil"},
		{"speed too low", func(c *Config) { c.Speed = 79 }, "Config.Speed 79 is out of range: give 80–450"},
		{"speed too high", func(c *Config) { c.Speed = 451 }, "Config.Speed 451 is out of range"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "Config.Timeout -1s is negative"},
		{"voice like an option", func(c *Config) { c.Voices = map[string]string{"en": "-w"} }, `Config.Voices["en"] = "-w"`},
		{"empty voice", func(c *Config) { c.Voices = map[string]string{"de": ""} }, `Config.Voices["de"] = ""`},
		{"empty language", func(c *Config) { c.Voices = map[string]string{"": "de"} }, `Config.Voices[""]`},
		{"cache dir is a file", func(c *Config) { c.CacheDir = file }, "tts: cache directory"},
		{"cache dir read-only", func(c *Config) { c.CacheDir = readOnly }, "is not writable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "cache dir read-only" && os.Geteuid() == 0 {
				// root writes anywhere: make the directory unusable instead.
				tt.edit = func(c *Config) { c.CacheDir = filepath.Join(file, "sub") }
				tt.msg = "not a directory"
			}
			cfg := Config{CacheDir: t.TempDir(), Catalog: media.NewCatalog()}
			tt.edit(&cfg)
			e, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("New = %v, %v; want an error with %q", e, err, tt.msg)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "created", "on", "demand")
	e := newEngine(t, dir, func(c *Config) { c.Logger = nil })
	if e.speed != DefaultSpeed || e.timeout != DefaultTimeout || e.log == nil || e.missing != nil {
		t.Errorf("defaults: speed %d, timeout %v, logger %v, missing %v", e.speed, e.timeout, e.log, e.missing)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("cache directory not created: %v", err)
	}
	if want := map[string]string{"zh": "cmn", "en": "en-us"}; !mapsEqual(e.voices, want) {
		t.Errorf("voices %v, want %v", e.voices, want)
	}
	added := newEngine(t, "", func(c *Config) { c.Voices = map[string]string{"YUE": "yue", "en": "en-gb"} })
	if want := map[string]string{"zh": "cmn", "en": "en-gb", "yue": "yue"}; !mapsEqual(added.voices, want) {
		t.Errorf("voices %v, want %v", added.voices, want)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestAbbreviate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"short", "short"},
		{strings.Repeat("a", 40), strings.Repeat("a", 40)},
		{strings.Repeat("a", 41), strings.Repeat("a", 40) + "…"},
		{strings.Repeat("话", 50), strings.Repeat("话", 40) + "…"},
	}
	for _, tt := range tests {
		if got := abbreviate(tt.in); got != tt.want {
			t.Errorf("abbreviate(%q) = %q", tt.in, got)
		}
	}
}

// BenchmarkSayCached is the cost of Say for a prompt already rendered: the
// path every call takes after the first.
func BenchmarkSayCached(b *testing.B) {
	espeak(b)
	e := newEngine(b, "", func(c *Config) { c.Logger = slog.New(slog.DiscardHandler) })
	ctx := b.Context()
	if _, err := e.Say(ctx, zhText, "zh"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.Say(ctx, zhText, "zh"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkSayRender is a first Say of the 20-character Mandarin sentence:
// espeak-ng, resampling, the cache file and the catalog.
func BenchmarkSayRender(b *testing.B) {
	espeak(b)
	var audio time.Duration
	for b.Loop() {
		b.StopTimer()
		e := newEngine(b, "", func(c *Config) { c.Logger = slog.New(slog.DiscardHandler) })
		b.StartTimer()
		name, err := e.Say(b.Context(), zhText, "zh")
		if err != nil {
			b.Fatal(err)
		}
		p, _ := e.catalog.Get(name)
		audio = p.Duration()
	}
	b.ReportMetric(math.Round(audio.Seconds()*100)/100, "audio-s")
}
