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

	var all []Issue
	set := &Set{flows: map[string]*Flow{}}
	origin := map[string]string{} // flow name → file
	kinds := builtinKinds()
	for _, file := range files {
		issues := &issueList{file: file}
		src, err := os.ReadFile(file)
		if err != nil {
			issues.add(SeverityError, Pos{}, "cannot read the file: %v", err)
			all = append(all, issues.done()...)
			continue
		}
		c := compileFlow(file, src, kinds, issues)
		if c != nil {
			validateFlow(c, opts, issues)
			name := c.flow.Name
			if other, dup := origin[name]; dup {
				at := c.namePos
				if at.Line == 0 {
					at = Pos{Line: 1, Col: 1}
				}
				issues.add(SeverityError, at, "flow name %q is already used by %s; flow names must be unique: rename the file or change name:", name, other)
			} else {
				origin[name] = file
				set.flows[name] = c.flow
			}
			c.flow.warnings = filterIssues(issues.done(), SeverityWarning)
		}
		all = append(all, issues.done()...)
	}
	sortIssues(all)
	if hasErrors(all) {
		return nil, &LoadError{Issues: all}
	}
	set.warnings = all
	set.version = setVersion(set)
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
func LoadBytes(file string, src []byte, opts LoadOptions) (*Flow, error) {
	issues := &issueList{file: file}
	c := compileFlow(file, src, builtinKinds(), issues)
	if c != nil {
		validateFlow(c, opts, issues)
	}
	list := issues.done()
	if c == nil || hasErrors(list) {
		return nil, &LoadError{Issues: list}
	}
	c.flow.warnings = list
	return c.flow, nil
}

// setVersion hashes the names and versions of a set's flows.
func setVersion(s *Set) string {
	h := sha256.New()
	for _, name := range s.Names() {
		fmt.Fprintf(h, "%s\x00%s\n", name, s.flows[name].Version)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
