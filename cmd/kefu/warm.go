package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"kefu/ivr"
	"kefu/sip/tts"
)

// warmer renders the texts of each activated flow set in the background,
// so that callers rarely wait for the speech engine: a text a call needs
// before it is warmed is rendered on demand (once, however many calls ask).
type warmer struct {
	engine *tts.Engine
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newWarmer(engine *tts.Engine, log *slog.Logger) *warmer {
	ctx, cancel := context.WithCancel(context.Background())
	return &warmer{engine: engine, log: log, ctx: ctx, cancel: cancel}
}

// activate starts rendering the set's texts.
func (w *warmer) activate(set *ivr.Set) {
	texts := set.Texts()
	w.wg.Go(func() {
		start := time.Now()
		in := make([]tts.Text, len(texts))
		for i, t := range texts {
			in[i] = tts.Text{Text: t.Text, Lang: t.Lang}
		}
		if err := w.engine.Warm(w.ctx, in); err != nil && w.ctx.Err() == nil {
			w.log.Warn("some text prompts could not be rendered; they will be tried again when played", "err", err)
			return
		}
		st := w.engine.Stats()
		w.log.Info("text prompts ready", "set", set.Version(), "texts", len(texts), "rendered", st.Renders, "from_disk", st.DiskHits, "took", time.Since(start).Round(time.Millisecond))
	})
}

// close stops rendering and waits.
func (w *warmer) close() {
	w.cancel()
	w.wg.Wait()
	_ = w.engine.Close()
}
