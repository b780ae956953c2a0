package scenario

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"kefu/ivr"
)

// directory is the stub customer directory of a simulated call.
type directory struct {
	customer *Customer
}

// Lookup implements ivr.Directory.
func (d directory) Lookup(_ context.Context, number string) (ivr.Customer, bool, error) {
	switch c := d.customer; {
	case c == nil || c.NotFound:
		return ivr.Customer{Number: number}, false, nil
	case c.Fail:
		return ivr.Customer{}, false, errors.New("stub directory: unavailable (the case sets customer: {error: true})")
	default:
		cu := c.Data
		if cu.Number == "" {
			cu.Number = number
		}
		return cu, true, nil
	}
}

// switchState is the stub switchboard: the switches a case sets.
type switchState map[string]bool

// State implements ivr.Switches.
func (s switchState) State(name string) (on, set bool) {
	on, set = s[name]
	return on, set
}

// webhookStub answers HTTP requests from Webhook stubs by URL prefix and
// tells note which stub answered, without the URL (which may carry
// sensitive values).
type webhookStub struct {
	hooks map[string]Webhook
	note  func(string)
}

// RoundTrip implements http.RoundTripper.
func (w webhookStub) RoundTrip(req *http.Request) (*http.Response, error) {
	u := req.URL.String()
	best := ""
	for prefix := range w.hooks {
		if strings.HasPrefix(u, prefix) && len(prefix) > len(best) {
			best = prefix
		}
	}
	if best == "" {
		w.note("no stub matches the URL: connection refused")
		return nil, errors.New("stub: connection refused (no webhook stub matches; add the URL's prefix under webhooks: or --webhook)")
	}
	h := w.hooks[best]
	if h.Fail {
		w.note(best + " → connection refused")
		return nil, fmt.Errorf("stub %s: connection refused", best)
	}
	w.note(fmt.Sprintf("%s → %d", best, h.Status))
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", h.Status, http.StatusText(h.Status)),
		StatusCode:    h.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": []string{"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(h.Body)),
		ContentLength: int64(len(h.Body)),
		Request:       req,
	}, nil
}

// Spoken is a text the speech engine was asked to say.
type Spoken struct {
	// Lang is the language it was said in; Text what was said.
	Lang, Text string
}

// speaker is the stub speech engine: it keeps the texts and names each
// prompt "tts:<lang>:<text>", as the engine does without a speaker.
type speaker struct {
	mu    sync.Mutex
	texts []Spoken
}

// Say implements ivr.Speaker.
func (s *speaker) Say(_ context.Context, text, lang string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.texts = append(s.texts, Spoken{Lang: lang, Text: text})
	return "tts:" + lang + ":" + text, nil
}

func (s *speaker) said() []Spoken {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.texts)
}
