// Package tts renders text prompts with espeak-ng and caches them, so that a
// flow can speak a text for which no recording exists.
//
// Engine.Say turns a text and a language into the name of a prompt in a
// media.Catalog, rendering it on first use: espeak-ng writes 22050 Hz speech,
// which is resampled here to 8 kHz (a windowed-sinc low-pass, so nothing
// above the telephone band folds back into it), kept in CacheDir as an 8 kHz
// 16-bit WAV file named after a hash of what was rendered, and added to the
// catalog. Later calls find the prompt in the catalog (memory) or, after a
// restart, in CacheDir (disk) without running espeak-ng again. Concurrent
// calls for the same text share one render. Warm renders a flow's texts when
// the flow is loaded so that no caller waits for the first render.
//
// The text reaches espeak-ng as one argument after "--", never through a
// shell, so a text such as "-w /etc/passwd" is spoken, not obeyed.
package tts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"kefu/sip/media"
)

// MaxTextBytes is the longest text Say accepts, in bytes of UTF-8 (about 660
// Chinese characters or a long paragraph of English; a prompt that long
// should be split).
const MaxTextBytes = 2000

// PromptPrefix begins the name of every prompt an Engine adds to its
// catalog. Recorded prompts are named after their files and have no "/".
const PromptPrefix = "tts/"

// engineID names what produces the audio; it is hashed into every prompt
// name, so changing the resampler or the cached format must change it.
const engineID = "espeak-ng/8000Hz-pcm16/1"

// Defaults for Config.
const (
	DefaultCommand = "espeak-ng"
	DefaultSpeed   = 175 // words per minute, espeak-ng's own default
	DefaultTimeout = 10 * time.Second
	minSpeed       = 80  // espeak-ng's slowest
	maxSpeed       = 450 // espeak-ng's fastest
	installHint    = "install it with: apt-get install espeak-ng"
)

var (
	errText      = errors.New("tts: text cannot be spoken")
	errLanguage  = errors.New("tts: no voice for the language")
	errNoCommand = errors.New("espeak-ng is not installed")
	errClosed    = errors.New("tts: engine closed")
)

// Config configures an Engine. CacheDir and Catalog are required.
type Config struct {
	// Command is the espeak-ng executable: a name looked up in PATH or a
	// path. Default "espeak-ng". If it cannot be found, New still succeeds
	// (prompts already cached keep working) and Say fails for any text it
	// would have to render, saying to install espeak-ng.
	Command string
	// CacheDir keeps rendered prompts across restarts, one 8 kHz mono
	// 16-bit WAV file per prompt named by the hex SHA-256 (first 16 bytes)
	// of the engine, voice, speed and text. Required; created (0750) if
	// missing; must be writable.
	CacheDir string
	// Voices maps a language, as flows give it ("zh", "en", "zh-CN", ...),
	// to an espeak-ng voice (see espeak-ng --voices). Entries are added to,
	// or replace, the defaults "zh" → "cmn" (Mandarin) and "en" → "en-us".
	// Keys are matched without regard to case; a language with a region
	// ("zh-CN", "en_GB") that has no entry of its own uses its base
	// language's entry ("zh", "en").
	Voices map[string]string
	// Speed is the speaking rate in words per minute (espeak-ng -s),
	// 80–450. Default 175.
	Speed int
	// Catalog receives the rendered prompts; it should be the catalog the
	// calls play from. Required.
	Catalog *media.Catalog
	// Logger receives one record per render or failure. Default
	// slog.Default().
	Logger *slog.Logger
	// Timeout bounds one render: running espeak-ng, resampling and writing
	// the cache file. Default 10s.
	Timeout time.Duration
}

// Text is one text to speak in a language, as Warm takes them.
type Text struct {
	Text string
	Lang string
}

// Stats are an Engine's counters since New, for metrics.
type Stats struct {
	Renders    uint64 // prompts rendered by running espeak-ng
	MemoryHits uint64 // Say calls answered from the catalog at once
	DiskHits   uint64 // prompts loaded from CacheDir instead of rendered
	Waits      uint64 // Say calls that waited for a load or render another Say started
	Failures   uint64 // loads or renders that failed (once each, however many calls waited)
}

// Engine renders texts to prompts and caches them. It is safe for concurrent
// use. Close stops renders in progress and waits for them.
type Engine struct {
	command  string // resolved executable; unused when missing != nil
	missing  error  // why espeak-ng cannot run, found at New
	cacheDir string
	voices   map[string]string // lower-case language → voice
	speed    int
	catalog  *media.Catalog
	log      *slog.Logger
	timeout  time.Duration

	mu      sync.Mutex
	flights map[string]*flight // by prompt name: loads and renders in progress
	closed  bool
	wg      sync.WaitGroup // one per flight goroutine

	renders, memoryHits, diskHits, waits, failures atomic.Uint64
}

// flight is one load or render in progress; every Say for its prompt waits
// for done, then reads err.
type flight struct {
	done   chan struct{}
	err    error
	cancel context.CancelFunc // stops the render (Close)
}

// New validates cfg, applies its defaults and returns an Engine. It looks
// espeak-ng up once: if it is missing New logs a warning and succeeds, and
// Say fails for texts that are not cached yet.
func New(cfg Config) (*Engine, error) {
	if cfg.CacheDir == "" {
		return nil, errors.New("tts: Config.CacheDir is empty: give a directory to keep rendered prompts in")
	}
	if cfg.Catalog == nil {
		return nil, errors.New("tts: Config.Catalog is nil: pass the catalog the calls play prompts from")
	}
	e := &Engine{
		cacheDir: cfg.CacheDir,
		voices:   map[string]string{"zh": "cmn", "en": "en-us"}, // see Config.Voices
		speed:    cfg.Speed,
		catalog:  cfg.Catalog,
		log:      cfg.Logger,
		timeout:  cfg.Timeout,
		flights:  map[string]*flight{},
	}
	if e.speed == 0 {
		e.speed = DefaultSpeed
	}
	if e.speed < minSpeed || e.speed > maxSpeed {
		return nil, fmt.Errorf("tts: Config.Speed %d is out of range: give %d–%d words per minute, or 0 for %d", cfg.Speed, minSpeed, maxSpeed, DefaultSpeed)
	}
	if e.timeout < 0 {
		return nil, fmt.Errorf("tts: Config.Timeout %v is negative: give a positive duration, or 0 for %v", cfg.Timeout, DefaultTimeout)
	}
	if e.timeout == 0 {
		e.timeout = DefaultTimeout
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	for lang, voice := range cfg.Voices {
		if lang == "" || voice == "" || strings.HasPrefix(voice, "-") || strings.ContainsAny(voice, " \t\n\x00") {
			return nil, fmt.Errorf("tts: Config.Voices[%q] = %q: give a language and an espeak-ng voice name (see espeak-ng --voices)", lang, voice)
		}
		e.voices[strings.ToLower(lang)] = voice
	}
	if err := os.MkdirAll(e.cacheDir, 0o750); err != nil {
		return nil, fmt.Errorf("tts: cache directory: %w; create it or set Config.CacheDir to a writable directory", err)
	}
	if err := checkWritable(e.cacheDir); err != nil {
		return nil, fmt.Errorf("tts: cache directory %s is not writable: %w; fix its permissions or set Config.CacheDir elsewhere", e.cacheDir, err)
	}
	command := cfg.Command
	if command == "" {
		command = DefaultCommand
	}
	path, err := exec.LookPath(command)
	if err != nil {
		e.missing = fmt.Errorf("%w: %s: %w; %s", errNoCommand, command, err, installHint)
		e.log.Warn("tts: espeak-ng not found: only prompts already in the cache can be spoken", "command", command, "err", err, "fix", installHint)
	}
	e.command = path
	return e, nil
}

// Say returns the name of a prompt in the catalog that speaks text in lang,
// rendering it first if neither the catalog nor CacheDir has it. Concurrent
// calls for the same text and voice share one render; a call whose ctx ends
// first returns ctx's error while the render goes on for the others (bounded
// by Config.Timeout). Text must be non-blank UTF-8 of at most MaxTextBytes
// bytes; lang must have a voice (Config.Voices). A failed render is not
// remembered: the next Say tries again. After Close, Say still answers from
// the catalog but renders nothing.
func (e *Engine) Say(ctx context.Context, text, lang string) (string, error) {
	name, voice, err := e.resolve(text, lang)
	if err != nil {
		return "", err
	}
	if e.catalog.Has(name) {
		e.memoryHits.Add(1)
		return name, nil
	}
	f, err := e.join(ctx, name, text, voice)
	if err != nil {
		return "", err
	}
	select {
	case <-f.done:
		if f.err != nil {
			return "", f.err
		}
		return name, nil
	case <-ctx.Done():
		return "", fmt.Errorf("tts: gave up waiting for the prompt for %q: %w", abbreviate(text), ctx.Err())
	}
}

// PromptName returns the name Say gives the prompt for text in lang, without
// rendering anything: for checking a flow's texts and languages when it is
// loaded. It fails as Say does for a text or language Say would refuse.
func (e *Engine) PromptName(text, lang string) (string, error) {
	name, _, err := e.resolve(text, lang)
	return name, err
}

// Warm makes sure every text is in the catalog, rendering at most two at a
// time, and returns the failures joined (each naming its text), or nil. A
// flow's texts are warmed when it is loaded so that no caller waits for the
// first render.
func (e *Engine) Warm(ctx context.Context, texts []Text) error {
	const parallel = 2
	sem := make(chan struct{}, parallel)
	errs := make([]error, len(texts))
	var wg sync.WaitGroup
loop:
	for i, t := range texts {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			errs[i] = fmt.Errorf("tts: warm: %d of %d texts not started: %w", len(texts)-i, len(texts), ctx.Err())
			break loop
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if _, err := e.Say(ctx, t.Text, t.Lang); err != nil {
				errs[i] = fmt.Errorf("text %d (%s, %q): %w", i+1, t.Lang, abbreviate(t.Text), err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Stats returns the counters.
func (e *Engine) Stats() Stats {
	return Stats{
		Renders:    e.renders.Load(),
		MemoryHits: e.memoryHits.Load(),
		DiskHits:   e.diskHits.Load(),
		Waits:      e.waits.Load(),
		Failures:   e.failures.Load(),
	}
}

// Close stops the renders in progress (their callers get an error) and waits
// for them to end. It is idempotent. Prompts already in the catalog stay.
func (e *Engine) Close() error {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		for _, f := range e.flights {
			f.cancel()
		}
	}
	e.mu.Unlock()
	e.wg.Wait()
	return nil
}

// resolve checks text and lang and returns the prompt name and the voice.
func (e *Engine) resolve(text, lang string) (name, voice string, err error) {
	if err := checkText(text); err != nil {
		return "", "", err
	}
	voice, err = e.voice(lang)
	if err != nil {
		return "", "", err
	}
	return PromptPrefix + e.key(voice, text), voice, nil
}

// checkText refuses texts espeak-ng cannot be given or should not be.
func checkText(text string) error {
	switch {
	case strings.TrimSpace(text) == "":
		return fmt.Errorf("%w: the text is empty: give the words to speak", errText)
	case len(text) > MaxTextBytes:
		return fmt.Errorf("%w: the text is %d bytes, over the limit of %d: split it into several prompts", errText, len(text), MaxTextBytes)
	case !utf8.ValidString(text):
		return fmt.Errorf("%w: the text is not valid UTF-8: save the flow file as UTF-8", errText)
	case strings.IndexByte(text, 0) >= 0:
		return fmt.Errorf("%w: the text contains a NUL byte: remove it", errText)
	}
	return nil
}

// voice finds lang's espeak-ng voice: the exact language, else its base
// language (before "-" or "_").
func (e *Engine) voice(lang string) (string, error) {
	l := strings.ToLower(lang)
	if v, ok := e.voices[l]; ok {
		return v, nil
	}
	if i := strings.IndexAny(l, "-_"); i > 0 {
		if v, ok := e.voices[l[:i]]; ok {
			return v, nil
		}
	}
	langs := slices.Sorted(maps.Keys(e.voices))
	return "", fmt.Errorf("%w: %q has no voice; configured languages: %s (add it to the TTS voices)", errLanguage, lang, strings.Join(langs, ", "))
}

// key is the hex SHA-256 (first 16 bytes) of everything that shapes the
// audio. No part contains a NUL (checkText, New), so the joined form is
// unambiguous.
func (e *Engine) key(voice, text string) string {
	sum := sha256.Sum256([]byte(engineID + "\x00" + voice + "\x00" + strconv.Itoa(e.speed) + "\x00" + text))
	return hex.EncodeToString(sum[:16])
}

// join returns the flight for name, starting one if none is in progress.
func (e *Engine) join(ctx context.Context, name, text, voice string) (*flight, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if f, ok := e.flights[name]; ok {
		e.waits.Add(1)
		return f, nil
	}
	if e.closed {
		return nil, fmt.Errorf("%w: cannot render %q", errClosed, abbreviate(text))
	}
	// The render outlives a caller who hangs up (others may be waiting for
	// it), so it keeps ctx's values but not its cancellation.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.timeout)
	f := &flight{done: make(chan struct{}), cancel: cancel}
	e.flights[name] = f
	e.wg.Go(func() {
		defer cancel()
		f.err = e.fill(rctx, name, text, voice)
		e.mu.Lock()
		delete(e.flights, name)
		e.mu.Unlock()
		close(f.done)
	})
	return f, nil
}

// fill puts the prompt called name into the catalog: from CacheDir if it is
// there, else by rendering it (and keeping it in CacheDir).
func (e *Engine) fill(ctx context.Context, name, text, voice string) error {
	if e.catalog.Has(name) { // added since Say looked
		return nil
	}
	path := filepath.Join(e.cacheDir, strings.TrimPrefix(name, PromptPrefix)+".wav")
	pcm, err := readCache(path)
	switch {
	case err == nil:
		e.catalog.Add(media.NewPrompt(name, pcm))
		e.diskHits.Add(1)
		return nil
	case !errors.Is(err, os.ErrNotExist):
		e.log.Warn("tts: cached prompt unreadable, rendering it again", "prompt", name, "file", path, "err", err)
	}
	if e.missing != nil {
		e.failures.Add(1)
		return fmt.Errorf("tts: cannot render %q: %w", abbreviate(text), e.missing)
	}
	start := time.Now()
	pcm, err = e.render(ctx, text, voice)
	if err != nil {
		e.failures.Add(1)
		e.log.Error("tts: render failed", "prompt", name, "voice", voice, "err", err)
		return fmt.Errorf("tts: render %q with voice %s: %w", abbreviate(text), voice, err)
	}
	if err := writeCache(path, pcm); err != nil {
		e.log.Warn("tts: cannot keep the rendered prompt on disk; it is used from memory and rendered again after a restart", "prompt", name, "err", err)
	}
	p := media.NewPrompt(name, pcm)
	e.catalog.Add(p)
	e.renders.Add(1)
	e.log.Info("tts: rendered prompt", "prompt", name, "voice", voice, "bytes", len(text), "audio", p.Duration(), "took", time.Since(start))
	return nil
}

// abbreviate shortens text for error messages.
func abbreviate(text string) string {
	const keep = 40 // runes
	i := 0
	for j := range text {
		if i == keep {
			return text[:j] + "…"
		}
		i++
	}
	return text
}
