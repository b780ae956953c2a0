package ivr

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// flowDefaults are the flow-wide defaults a node's own fields override.
type flowDefaults struct {
	timeout      time.Duration // first key
	interDigit   time.Duration // between keys of a collect node
	retries      int
	maxVisits    int // per node; 0: no cap
	onError      string
	onErrorPos   Pos
	maxSteps     int
	hasMaxVisits bool
}

// Built-in defaults, used when the flow's defaults: does not say.
const (
	defaultTimeout    = 5 * time.Second
	defaultInterDigit = 3 * time.Second
	defaultRetries    = 3
	maxVisitsLimit    = 1000
	maxStepsLimit     = 10000
)

// flowKeys are the top-level keys of a flow file.
func flowKeys() []string {
	return []string{"kind", "name", "description", "start", "defaults", "vars", "params", "outcomes", "nodes"}
}

// File kinds: what a YAML file of a flows directory holds, by its kind:.
const (
	fileFlow          = "flow"
	fileSubflow       = "subflow"
	filePrompts       = "prompts"
	fileCalendars     = "calendars"
	fileAnnouncements = "announcements"
)

func fileKinds() []string {
	return []string{fileFlow, fileSubflow, filePrompts, fileCalendars, fileAnnouncements}
}

// validName reports whether s is a valid flow or node name (see nameRule).
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

const nameRule = "use lower-case letters, digits, _ and -, starting with a letter (at most 64)"

// compiled is a flow with what validation needs to know about its source.
type compiled struct {
	flow     *Flow
	docPos   Pos // where the top-level map starts
	namePos  Pos // where name: is given, or the zero Pos
	startPos Pos // where start: names the first node, or the zero Pos
}

// compiledFile is what one file of a flows directory holds: a flow or
// subflow, the prompt catalogue, calendars or announcements.
type compiledFile struct {
	kind          string
	flow          *compiled
	prompts       *catalogue
	calendars     map[string]*Calendar
	announcements map[string]*Announcement
}

// compileFile decodes one file strictly and compiles what it holds. It
// returns nil when the file cannot be read at all; otherwise what could be
// compiled, its broken parts reported in issues.
func compileFile(file string, src []byte, kinds map[string]*kind, issues *issueList) *compiledFile {
	top := scope{issues: issues}
	body, ok := parseYAML(src, top)
	if !ok {
		return nil
	}
	entries, ok := top.mapEntries(body, Pos{Line: 1, Col: 1}, "the file", dupField)
	if !ok {
		return nil
	}
	cf := &compiledFile{kind: fileFlow}
	for _, e := range entries {
		if e.key != "kind" {
			continue
		}
		k, ok := top.text("kind", e)
		if !ok {
			return nil
		}
		if !slices.Contains(fileKinds(), k) {
			top.errorf(e.valPos(), "unknown kind %q%s; a file's kind is one of: %s (no kind: means flow)", k, didYouMean(k, fileKinds()), strings.Join(fileKinds(), ", "))
			return nil
		}
		cf.kind = k
	}
	switch cf.kind {
	case filePrompts:
		cf.prompts = compileCatalogue(top, top.fields(entries, []string{"kind", "languages", "prompts"}, "prompts files"))
	case fileCalendars:
		cf.calendars = compileCalendars(top, top.fields(entries, []string{"kind", "calendars"}, "calendars files"))
	case fileAnnouncements:
		cf.announcements = compileAnnouncements(top, top.fields(entries, []string{"kind", "announcements"}, "announcements files"))
	default:
		cf.flow = compileFlow(file, src, entries, cf.kind, kinds, issues)
	}
	return cf
}

// compileFlow compiles a flow or subflow file's top-level entries.
func compileFlow(file string, src []byte, entries []entry, fileKind string, kinds map[string]*kind, issues *issueList) *compiled {
	top := scope{issues: issues}
	sum := sha256.Sum256(src)
	c := &compiled{
		flow: &Flow{
			File:    file,
			Version: hex.EncodeToString(sum[:])[:12],
			Subflow: fileKind == fileSubflow,
			nodes:   map[string]*Node{},
			vars:    map[string]*varDecl{},
		},
		docPos: Pos{Line: 1, Col: 1},
	}
	if len(entries) > 0 {
		c.docPos = entries[0].keyPos
	}
	fields := top.fields(entries, flowKeys(), "flow files")

	c.flow.Name = flowName(file)
	if e, ok := fields["name"]; ok {
		c.namePos = e.valPos()
		if v, ok := top.text("name", e); ok {
			c.flow.Name = v
			if !validName(v) {
				top.errorf(e.valPos(), "flow name %q is not valid: %s", v, nameRule)
			}
		}
	} else if !validName(c.flow.Name) {
		top.errorf(Pos{Line: 1, Col: 1}, "the file name gives the flow name %q, which is not valid: %s; rename the file or add name:", c.flow.Name, nameRule)
	}
	if e, ok := fields["description"]; ok {
		c.flow.Description, _ = top.text("description", e)
	}
	if e, ok := fields["start"]; ok {
		c.startPos = e.valPos()
		c.flow.Start, _ = top.text("start", e)
	} else {
		top.errorf(c.docPos, "missing \"start\"; add start: <node> naming the node each call begins at")
	}
	c.flow.defaults = compileDefaults(top, fields)
	compileFlowVars(c.flow, top, fields)

	e, ok := fields["nodes"]
	if !ok {
		top.errorf(c.docPos, "missing \"nodes\"; add nodes: with one entry per step of the call")
		return c
	}
	nodeEntries, ok := top.mapEntries(e.val, e.keyPos, "nodes", dupNode)
	if !ok {
		return c
	}
	if len(nodeEntries) == 0 {
		top.errorf(e.keyPos, "nodes is empty; add at least one node")
	}
	c.flow.env = typeEnv(c.flow.vars)
	for _, ne := range nodeEntries {
		compileNode(c.flow, ne, kinds, c.flow.defaults, issues)
	}
	return c
}

// compileFlowVars reads vars:, and for subflows params: and outcomes:.
func compileFlowVars(f *Flow, top scope, fields map[string]entry) {
	if e, ok := fields["vars"]; ok {
		f.vars = compileVars(top, e, "vars")
	}
	pe, hasParams := fields["params"]
	oe, hasOutcomes := fields["outcomes"]
	if !f.Subflow {
		for _, x := range []struct {
			e   entry
			has bool
		}{{pe, hasParams}, {oe, hasOutcomes}} {
			if x.has {
				top.errorf(x.e.keyPos, "%s: is only for subflows; add kind: subflow at the top of the file or remove it", x.e.key)
			}
		}
		return
	}
	if hasParams {
		for name, d := range compileVars(top, pe, "params") {
			if _, dup := f.vars[name]; dup {
				top.errorf(d.pos, "%q is both a param and a var; params are variables already, remove it from vars:", name)
				continue
			}
			f.vars[name] = d
			f.params = append(f.params, name)
		}
		slices.Sort(f.params)
	}
	if !hasOutcomes {
		top.errorf(Pos{Line: 1, Col: 1}, "a subflow needs outcomes: [name, ...], the ways it can end (its return nodes name one each)")
		return
	}
	names, poss, ok := top.textList("outcomes", oe)
	if !ok {
		return
	}
	for i, n := range names {
		if !validName(n) || n == "error" {
			top.errorf(poss[i], "outcome %q is not valid: %s (and not \"error\", which every node has)", n, nameRule)
			continue
		}
		if slices.Contains(f.outcomes, n) {
			top.errorf(poss[i], "outcome %q is listed twice; keep one", n)
			continue
		}
		f.outcomes = append(f.outcomes, n)
	}
}

// flowName is the file name without its extension.
func flowName(file string) string {
	base := filepath.Base(file)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// compileDefaults reads `defaults:`.
func compileDefaults(s scope, fields map[string]entry) flowDefaults {
	d := flowDefaults{timeout: defaultTimeout, interDigit: defaultInterDigit, retries: defaultRetries, maxSteps: DefaultMaxSteps}
	e, ok := fields["defaults"]
	if !ok {
		return d
	}
	entries, ok := s.mapEntries(e.val, e.keyPos, "defaults", dupField)
	if !ok {
		return d
	}
	ds := scope{issues: s.issues, prefix: "defaults: "}
	df := ds.fields(entries, []string{"timeout", "inter_digit_timeout", "retries", "on_error", "max_steps", "max_visits"}, "defaults")
	if e, ok := df["timeout"]; ok {
		if v, ok := ds.duration("timeout", e, minTimeout, maxTimeout); ok {
			d.timeout = v
		}
	}
	if e, ok := df["inter_digit_timeout"]; ok {
		if v, ok := ds.duration("inter_digit_timeout", e, minTimeout, maxTimeout); ok {
			d.interDigit = v
		}
	}
	if e, ok := df["retries"]; ok {
		if v, ok := ds.integer("retries", e, 0, maxRetries); ok {
			d.retries = v
		}
	}
	if e, ok := df["max_steps"]; ok {
		if v, ok := ds.integer("max_steps", e, 10, maxStepsLimit); ok {
			d.maxSteps = v
		}
	}
	if e, ok := df["max_visits"]; ok {
		if v, ok := ds.integer("max_visits", e, 1, maxVisitsLimit); ok {
			d.maxVisits, d.hasMaxVisits = v, true
		}
	}
	if e, ok := df["on_error"]; ok {
		d.onError, _ = ds.text("on_error", e)
		d.onErrorPos = e.valPos()
	}
	return d
}

// compileNode compiles one entry of `nodes:` and adds it to the flow. A
// node is added even when broken, so that references to it do not cause
// more errors.
func compileNode(f *Flow, ne entry, kinds map[string]*kind, defaults flowDefaults, issues *issueList) {
	s := scope{issues: issues, prefix: "node \"" + ne.key + "\": "}
	n := &Node{Name: ne.key, Pos: ne.keyPos}
	switch {
	case !ne.keyStr:
		scope{issues: issues}.errorf(ne.keyPos, "node name %s is not valid: %s", ne.key, nameRule)
	case !validName(ne.key):
		scope{issues: issues}.errorf(ne.keyPos, "node name %q is not valid: %s", ne.key, nameRule)
	case isBareLegacyBool(ne.keyRaw):
		scope{issues: issues}.warnf(ne.keyPos, "node name %s is read as a boolean by YAML 1.1 tools; quote it: %q", ne.key, ne.key)
	}
	f.nodes[n.Name] = n
	f.order = append(f.order, n)

	entries, ok := s.mapEntries(ne.val, ne.keyPos, "the node", dupField)
	if !ok {
		return
	}
	var k *kind
	for _, e := range entries {
		if e.key != "type" {
			continue
		}
		t, ok := s.text("type", e)
		if !ok {
			return
		}
		if k = kinds[t]; k == nil {
			s.errorf(e.valPos(), "unknown type %q%s; types are: %s", t, didYouMean(t, kindNames(kinds)), listNames(kindNames(kinds)))
			return
		}
	}
	if k == nil {
		s.errorf(ne.keyPos, "missing \"type\"; add type: %s", orList(kindNames(kinds)))
		return
	}
	n.Kind, n.waits = k.name, k.waits
	nc := &nodeCompiler{
		scope:    s,
		kind:     k,
		node:     n,
		fields:   s.fields(entries, k.allowedKeys(), k.name+" nodes"),
		defaults: defaults,
		flow:     f,
	}
	if e, ok := nc.field("description"); ok {
		n.Description, _ = s.text("description", e)
	}
	if e, ok := nc.field("milestone"); ok {
		n.Milestone, _ = s.text("milestone", e)
	}
	n.maxVisits = defaults.maxVisits
	if e, ok := nc.field("max_visits"); ok {
		if v, ok := s.integer("max_visits", e, 1, maxVisitsLimit); ok {
			n.maxVisits = v
		}
	}
	n.impl = k.compile(nc)
	if k.next {
		if e, ok := nc.field("next"); ok {
			if t, ok := s.text("next", e); ok {
				nc.exit("next", t, e.valPos())
			}
		} else {
			nc.missing("next", "next: <node> saying where the call goes after this one")
		}
	}
	compileExits(nc)
}

// compileExits reads `exits:` and checks every required exit is wired.
// Optional exits (and the error exit every node has) may be left out: they
// fall back as the kind says, the error exit to the flow's on_error.
func compileExits(c *nodeCompiler) {
	allowed := c.allowedExits()
	e, ok := c.field("exits")
	if len(allowed) == 0 && !c.kind.anyExits {
		return
	}
	wired := map[string]bool{}
	if ok {
		entries, ok := c.mapEntries(e.val, e.keyPos, "exits", dupExit)
		if !ok {
			return
		}
		for _, x := range entries {
			if !x.keyStr || (!slices.Contains(allowed, x.key) && !(c.kind.anyExits && validName(x.key))) {
				c.errorf(x.keyPos, "unknown exit %q%s; %s exits are: %s", x.key, didYouMean(x.key, allowed), c.kind.name, strings.Join(allowed, ", "))
				continue
			}
			wired[x.key] = true
			if t, ok := c.scope.text("exit \""+x.key+"\"", x); ok {
				c.exit(x.key, t, x.valPos())
			}
		}
	}
	var missing []string
	for _, name := range c.requiredExits() {
		if !wired[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return
	}
	at := c.node.Pos
	if ok {
		at = e.keyPos
	}
	what := "exit " + quoteList(missing) + " is"
	if len(missing) > 1 {
		what = "exits " + quoteList(missing) + " are"
	}
	c.errorf(at, "%s not wired; add under exits: a node for each of %s", what, strings.Join(c.requiredExits(), ", "))
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = `"` + n + `"`
	}
	return strings.Join(q, ", ")
}

// nodeNames lists a flow's node names.
func nodeNames(f *Flow) []string {
	out := make([]string, 0, len(f.order))
	for _, n := range f.order {
		out = append(out, n.Name)
	}
	return out
}
