package media

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"kefu/sip/sdp"
)

// Frame geometry: G.711 at 8 kHz, 20 ms per packet.
const (
	SampleRate    = 8000
	FrameSamples  = 160
	FrameDuration = 20 * time.Millisecond
)

// Prompt is a piece of audio pre-encoded once to PCMU and PCMA. Its data is
// read-only and shared by every call that plays it.
type Prompt struct {
	Name    string
	samples int
	ulaw    []byte // padded with silence to a whole number of frames
	alaw    []byte
}

// NewPrompt encodes linear 8 kHz mono PCM (from DecodeWAV, or generated, e.g.
// a tone) into a Prompt. The last frame is padded with silence.
func NewPrompt(name string, pcm []int16) *Prompt {
	n := (len(pcm) + FrameSamples - 1) / FrameSamples * FrameSamples
	p := &Prompt{Name: name, samples: len(pcm), ulaw: make([]byte, n), alaw: make([]byte, n)}
	for i, x := range pcm {
		p.ulaw[i] = EncodeUlaw(x)
		p.alaw[i] = EncodeAlaw(x)
	}
	for i := len(pcm); i < n; i++ {
		p.ulaw[i] = UlawSilence
		p.alaw[i] = AlawSilence
	}
	return p
}

// Duration is the audio length (before padding).
func (p *Prompt) Duration() time.Duration {
	return time.Duration(p.samples) * time.Second / SampleRate
}

// FrameCount is the number of 20 ms frames.
func (p *Prompt) FrameCount() int { return len(p.ulaw) / FrameSamples }

// Frame returns the 160-byte frame i encoded for codec (PCMA if codec is
// A-law, PCMU otherwise). The slice is shared: do not modify it.
func (p *Prompt) Frame(codec sdp.Codec, i int) []byte {
	data := p.encoded(codec)
	return data[i*FrameSamples : (i+1)*FrameSamples : (i+1)*FrameSamples]
}

// Frames returns all frames for codec; the slices are shared, read-only.
func (p *Prompt) Frames(codec sdp.Codec) [][]byte {
	out := make([][]byte, p.FrameCount())
	for i := range out {
		out[i] = p.Frame(codec, i)
	}
	return out
}

func (p *Prompt) encoded(codec sdp.Codec) []byte {
	if codec.IsPCMA() {
		return p.alaw
	}
	return p.ulaw
}

// Catalog is a set of prompts by name, safe for concurrent use: calls read
// it while a renderer (kefu/sip/tts) adds prompts at run time. Reads never
// lock: they load an immutable map through an atomic pointer, and Add
// publishes a modified copy (copy-on-write), so a reader sees either the set
// before an Add or the set after it. Adds are rare (a prompt is rendered
// once); reads happen for every prompt played. The zero value is an empty
// catalog ready to use. A Catalog must not be copied after first use.
type Catalog struct {
	mu      sync.Mutex                         // serialises writers
	prompts atomic.Pointer[map[string]*Prompt] // never modified once stored
}

// NewCatalog builds a catalog from prompts (for tests and generated audio).
// A later prompt with the same name replaces an earlier one.
func NewCatalog(prompts ...*Prompt) *Catalog {
	m := make(map[string]*Prompt, len(prompts))
	for _, p := range prompts {
		m[p.Name] = p
	}
	c := &Catalog{}
	c.prompts.Store(&m)
	return c
}

// LoadCatalog loads every *.wav file (any letter case of the extension) in
// dir, not recursing; a prompt's name is its file name without the
// extension. Errors name the file.
func LoadCatalog(dir string) (*Catalog, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("media: prompts: %w", err)
	}
	m := map[string]*Prompt{}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if !strings.EqualFold(ext, ".wav") || e.IsDir() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		name := strings.TrimSuffix(e.Name(), ext)
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("media: prompt %s: another file has the name %q", path, name)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("media: prompt %s: %w", path, err)
		}
		pcm, err := DecodeWAV(data)
		if err != nil {
			return nil, fmt.Errorf("media: prompt %s: %w", path, err)
		}
		m[name] = NewPrompt(name, pcm)
	}
	c := &Catalog{}
	c.prompts.Store(&m)
	return c, nil
}

// snapshot returns the current, read-only map (nil for a zero Catalog).
func (c *Catalog) snapshot() map[string]*Prompt {
	if m := c.prompts.Load(); m != nil {
		return *m
	}
	return nil
}

// Add adds p under p.Name, replacing a prompt of the same name. Readers that
// already hold the old *Prompt keep playing it; later Gets return p. p must
// not be nil. Add copies the catalog's map, so it costs O(Len) and suits
// prompts added one at a time, not bulk loading (use NewCatalog or
// LoadCatalog for that).
func (c *Catalog) Add(p *Prompt) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.snapshot()
	m := make(map[string]*Prompt, len(old)+1)
	maps.Copy(m, old)
	m[p.Name] = p
	c.prompts.Store(&m)
}

// Get returns the prompt called name.
func (c *Catalog) Get(name string) (*Prompt, bool) {
	p, ok := c.snapshot()[name]
	return p, ok
}

// Has reports whether the catalog has a prompt called name.
func (c *Catalog) Has(name string) bool {
	_, ok := c.snapshot()[name]
	return ok
}

// Names returns the prompt names, sorted.
func (c *Catalog) Names() []string {
	m := c.snapshot()
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Len is the number of prompts.
func (c *Catalog) Len() int { return len(c.snapshot()) }
