package ivr

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Registry says which names exist: the prompt catalogue, the configured
// queues. A Registry that also has a method Names() []string gets its names
// listed (and typos suggested) in load errors.
type Registry interface {
	Has(name string) bool
}

// lister is the optional part of a Registry.
type lister interface {
	Names() []string
}

// Names is a fixed Registry: a list of names.
//
//	ivr.LoadOptions{Queues: ivr.Names{"billing", "data", "complaints"}}
type Names []string

// Has reports whether name is in the list.
func (n Names) Has(name string) bool { return slices.Contains(n, name) }

// Names returns the names, sorted.
func (n Names) Names() []string {
	out := slices.Clone(n)
	slices.Sort(out)
	return slices.Compact(out)
}

// PromptFiles lists the prompts in a directory the way the media layer
// loads them: every *.wav file (any letter case of the extension), not
// recursing, named by its file name without the extension.
func PromptFiles(dir string) (Names, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("ivr: list prompts: %w", err)
	}
	var out Names
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || !strings.EqualFold(ext, ".wav") {
			continue
		}
		out = append(out, strings.TrimSuffix(e.Name(), ext))
	}
	return out, nil
}

// registryNames returns the names a Registry can list, or nil.
func registryNames(r Registry) []string {
	if l, ok := r.(lister); ok {
		return l.Names()
	}
	return nil
}
