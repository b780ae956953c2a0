package media

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

func TestCatalogAdd(t *testing.T) {
	a1 := NewPrompt("a", make([]int16, 160))
	a2 := NewPrompt("a", make([]int16, 320))
	b := NewPrompt("b", make([]int16, 160))
	tests := []struct {
		name    string
		catalog func() *Catalog
		add     []*Prompt
		names   []string
		aFrames int // frames of prompt "a"; 0 = absent
	}{
		{"zero value", func() *Catalog { return &Catalog{} }, nil, []string{}, 0},
		{"zero value, add", func() *Catalog { return &Catalog{} }, []*Prompt{a1}, []string{"a"}, 1},
		{"add to NewCatalog", func() *Catalog { return NewCatalog(b) }, []*Prompt{a1}, []string{"a", "b"}, 1},
		{"add replaces", func() *Catalog { return NewCatalog(a1, b) }, []*Prompt{a2}, []string{"a", "b"}, 2},
		{"later add wins", func() *Catalog { return NewCatalog() }, []*Prompt{a2, a1}, []string{"a"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.catalog()
			for _, p := range tt.add {
				c.Add(p)
			}
			if got := c.Names(); got == nil || !slices.Equal(got, tt.names) {
				t.Errorf("Names = %#v, want %#v", got, tt.names)
			}
			if c.Len() != len(tt.names) {
				t.Errorf("Len = %d, want %d", c.Len(), len(tt.names))
			}
			p, ok := c.Get("a")
			if ok != (tt.aFrames > 0) || c.Has("a") != ok {
				t.Fatalf("Get(a) ok = %v, Has = %v, want %v", ok, c.Has("a"), tt.aFrames > 0)
			}
			if ok && p.FrameCount() != tt.aFrames {
				t.Errorf("a has %d frames, want %d", p.FrameCount(), tt.aFrames)
			}
		})
	}
}

// TestCatalogAddSnapshot checks that Add does not change what a reader
// already holds: the old prompt stays intact, and the catalog built before
// the Add is not modified in place (NewCatalog's map is copied).
func TestCatalogAddSnapshot(t *testing.T) {
	old := NewPrompt("welcome", make([]int16, 160))
	c := NewCatalog(old)
	held, _ := c.Get("welcome")
	before := c.snapshot()
	c.Add(NewPrompt("welcome", make([]int16, 480)))
	if held != old || held.FrameCount() != 1 {
		t.Error("the prompt a reader held changed")
	}
	if before["welcome"] != old || len(before) != 1 {
		t.Error("Add modified the published map in place")
	}
	if p, _ := c.Get("welcome"); p.FrameCount() != 3 {
		t.Errorf("Get after Add: %d frames, want 3", p.FrameCount())
	}
}

// TestCatalogConcurrent runs readers against a writer; with -race it fails
// if Add and the readers share memory unsafely. Every reader must always see
// the prompts present from the start, and the set only ever grows.
func TestCatalogConcurrent(t *testing.T) {
	const adds = 200
	base := NewPrompt("base", make([]int16, 160))
	c := NewCatalog(base)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for r := range 4 {
		wg.Go(func() {
			last := 0
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				if p, ok := c.Get("base"); !ok || p != base {
					t.Errorf("reader %d: base prompt missing", r)
					return
				}
				n := c.Len()
				if n < last {
					t.Errorf("reader %d: Len went from %d to %d", r, last, n)
					return
				}
				last = n
				c.Has(fmt.Sprintf("tts/%d", i%adds))
				if i%50 == 0 && len(c.Names()) < n {
					t.Errorf("reader %d: Names shorter than Len", r)
					return
				}
			}
		})
	}
	wg.Go(func() {
		defer close(done)
		for i := range adds {
			c.Add(NewPrompt(fmt.Sprintf("tts/%d", i), make([]int16, 160)))
			c.Add(NewPrompt("other", make([]int16, i))) // replaced each time
		}
	})
	wg.Wait()
	if c.Len() != adds+2 {
		t.Errorf("Len = %d, want %d", c.Len(), adds+2)
	}
}

func BenchmarkCatalogGet(b *testing.B) {
	c := NewCatalog()
	for i := range 500 {
		c.Add(NewPrompt(fmt.Sprintf("prompt-%d", i), make([]int16, 160)))
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := c.Get("prompt-250"); !ok {
				b.Fatal("missing")
			}
		}
	})
}
