package grade

import (
	"errors"
	"io"
	"sync"
)

// prefetcher reads ahead of its reader in a goroutine of its own, so that
// reading the file, decoding and checking the character set run on the
// other core while the CSV is parsed. Read is for one goroutine at a time.
type prefetcher struct {
	full chan []byte // chunks read, in order
	free chan []byte // chunks given back
	done chan struct{}
	wg   sync.WaitGroup
	err  error  // why reading ended; set before full is closed
	cur  []byte // the unread rest of last
	last []byte // the chunk being read, to give back

	stopOnce sync.Once
}

const (
	prefetchChunk  = 64 << 10
	prefetchChunks = 4
)

func newPrefetcher(r io.Reader) *prefetcher {
	p := &prefetcher{
		full: make(chan []byte, prefetchChunks),
		free: make(chan []byte, prefetchChunks),
		done: make(chan struct{}),
	}
	for range prefetchChunks {
		p.free <- make([]byte, prefetchChunk)
	}
	p.wg.Go(func() {
		defer close(p.full)
		for {
			var buf []byte
			select {
			case buf = <-p.free:
			case <-p.done:
				p.err = errPrefetchStopped
				return
			}
			n, err := io.ReadFull(r, buf[:cap(buf)])
			if n > 0 {
				select {
				case p.full <- buf[:n]:
				case <-p.done:
					p.err = errPrefetchStopped
					return
				}
			}
			if err != nil {
				if errors.Is(err, io.ErrUnexpectedEOF) {
					err = io.EOF
				}
				p.err = err
				return
			}
		}
	})
	return p
}

var errPrefetchStopped = errors.New("grade: reading stopped")

func (p *prefetcher) Read(b []byte) (int, error) {
	for len(p.cur) == 0 {
		if p.last != nil {
			p.free <- p.last[:cap(p.last)] // never blocks: only chunks from free come back
			p.last = nil
		}
		chunk, ok := <-p.full
		if !ok {
			return 0, p.err
		}
		p.cur, p.last = chunk, chunk
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	return n, nil
}

// stop ends the goroutine and waits for it; it is idempotent.
func (p *prefetcher) stop() {
	p.stopOnce.Do(func() { close(p.done) })
	p.wg.Wait()
}
