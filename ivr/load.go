package ivr

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// LoadOptions says what flows may refer to. A nil Registry skips its check
// (useful for a quick syntax check; the server always sets both).
type LoadOptions struct {
	// Prompts is the prompt catalogue: every prompt a flow plays (prompt,
	// invalid_prompt, no_input_prompt, music) must be in it. Default nil:
	// prompt names are not checked.
	Prompts Registry
	// Queues are the queues of the server configuration: every queue node
	// must name one of them. Default nil: queue names are not checked.
	Queues Registry
}

// Load loads every flow file (*.yaml, *.yml; not recursing, ignoring names
// starting with "." or "_") of dir and validates them as one set. Each
// flow goes through decode (strict: unknown keys, wrong types and
// duplicates are errors), compile and validate (references, graph).
//
// When any file has an error, Load returns a *LoadError listing every
// issue of every file, and no Set: a bad edit never replaces a working set.
// Warnings alone do not block; they are on the returned Set.
func Load(dir string, opts LoadOptions) (*Set, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("ivr: load flows: %w", err)
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		ext := strings.ToLower(filepath.Ext(name))
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			continue
		}
		files = append(files, filepath.Join(dir, name))
	}
	if len(files) == 0 {
		return nil, &LoadError{Issues: []Issue{{
			File: dir, Msg: "no flow files (*.yaml) in this directory; add one, for example main.yaml",
		}}}
	}
	slices.Sort(files)

	srcs := make([]source, 0, len(files))
	for _, file := range files {
		src, err := os.ReadFile(file)
		srcs = append(srcs, source{file: file, src: src, err: err})
	}
	return loadSources(srcs, opts)
}

// source is one file to load.
type source struct {
	file string
	src  []byte
	err  error
}

// loadSources compiles every file, builds the set's shared parts (prompt
// catalogue, calendars, announcements) and validates every flow against
// them.
func loadSources(srcs []source, opts LoadOptions) (*Set, error) {
	set := &Set{
		flows:         map[string]*Flow{},
		catalogue:     emptyCatalogue(),
		calendars:     map[string]*Calendar{},
		announcements: map[string]*Announcement{},
	}
	kinds := builtinKinds()
	type loaded struct {
		issues *issueList
		flow   *compiled
	}
	var files []loaded
	var catFile, calFile, annFile string
	origin := map[string]string{} // flow name → file
	h := sha256.New()
	for _, sf := range srcs {
		issues := &issueList{file: sf.file}
		l := loaded{issues: issues}
		files = append(files, l)
		if sf.err != nil {
			issues.add(SeverityError, Pos{}, "cannot read the file: %v", sf.err)
			continue
		}
		fmt.Fprintf(h, "%s\x00%x\n", filepath.Base(sf.file), sha256.Sum256(sf.src))
		cf := compileFile(sf.file, sf.src, kinds, issues)
		if cf == nil {
			continue
		}
		once := func(prev *string, what string) bool {
			if *prev != "" {
				issues.add(SeverityError, Pos{Line: 1, Col: 1}, "%s are already defined in %s; keep them in one file of kind %s", what, *prev, cf.kind)
				return false
			}
			*prev = sf.file
			return true
		}
		switch cf.kind {
		case filePrompts:
			if once(&catFile, "prompts") {
				cf.prompts.file = sf.file
				cf.prompts.check(scope{issues: issues}, opts.Prompts)
				set.catalogue = cf.prompts
			}
		case fileCalendars:
			if once(&calFile, "calendars") {
				set.calendars = cf.calendars
			}
		case fileAnnouncements:
			if once(&annFile, "announcements") {
				set.announcements = cf.announcements
			}
		default:
			c := cf.flow
			files[len(files)-1].flow = c
			name := c.flow.Name
			if other, dup := origin[name]; dup {
				at := c.namePos
				if at.Line == 0 {
					at = Pos{Line: 1, Col: 1}
				}
				issues.add(SeverityError, at, "flow name %q is already used by %s; flow names must be unique: rename the file or change name:", name, other)
				continue
			}
			origin[name] = sf.file
			set.flows[name] = c.flow
		}
	}
	if annFile != "" {
		for _, l := range files {
			if l.issues.file == annFile {
				checkAnnouncementPrompts(set.announcements, set, opts, l.issues)
			}
		}
	}
	sc := setCtx{set: set, opts: opts}
	for _, l := range files {
		if l.flow != nil && set.flows[l.flow.flow.Name] == l.flow.flow {
			validateFlow(l.flow, sc, l.issues)
		}
	}
	checkSubflowCycles(set, func(file string) *issueList {
		for _, l := range files {
			if l.issues.file == file {
				return l.issues
			}
		}
		return files[0].issues
	})
	var all []Issue
	for _, l := range files {
		list := l.issues.done()
		if l.flow != nil {
			l.flow.flow.warnings = filterIssues(list, SeverityWarning)
		}
		all = append(all, list...)
	}
	sortIssues(all)
	if hasErrors(all) {
		return nil, &LoadError{Issues: all}
	}
	set.warnings = all
	set.version = hex.EncodeToString(h.Sum(nil))[:12]
	return set, nil
}

// LoadFile loads and validates a single flow file.
func LoadFile(path string, opts LoadOptions) (*Flow, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ivr: load flow: %w", err)
	}
	return LoadBytes(path, src, opts)
}

// LoadBytes loads and validates one flow from src; file names it in
// messages and gives the flow its default name. Errors are a *LoadError.
// The flow is checked on its own: without a prompt catalogue, calendars,
// announcements or subflows (use Load for a directory that has them).
func LoadBytes(file string, src []byte, opts LoadOptions) (*Flow, error) {
	set, err := loadSources([]source{{file: file, src: src}}, opts)
	if err != nil {
		return nil, err
	}
	for _, f := range set.flows {
		return f, nil
	}
	return nil, &LoadError{Issues: []Issue{{File: file, Msg: "the file holds no flow (it has a kind: other than flow)"}}}
}
