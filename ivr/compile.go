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
	timeout time.Duration
	retries int
}

// Built-in defaults, used when the flow's defaults: does not say.
const (
	defaultTimeout = 5 * time.Second
	defaultRetries = 3
)

// flowKeys are the top-level keys of a flow file.
func flowKeys() []string { return []string{"name", "description", "start", "defaults", "nodes"} }

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

// compileFlow decodes one flow file strictly and compiles its nodes. It
// returns nil when the file cannot be read as a flow at all; otherwise a
// flow whose broken parts are reported in issues.
func compileFlow(file string, src []byte, kinds map[string]*kind, issues *issueList) *compiled {
	top := scope{issues: issues}
	body, ok := parseYAML(src, top)
	if !ok {
		return nil
	}
	sum := sha256.Sum256(src)
	c := &compiled{
		flow: &Flow{
			File:    file,
			Version: hex.EncodeToString(sum[:])[:12],
			nodes:   map[string]*Node{},
		},
		docPos: Pos{Line: 1, Col: 1},
	}
	entries, ok := top.mapEntries(body, Pos{Line: 1, Col: 1}, "the flow", dupField)
	if !ok {
		return nil
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
	defaults := compileDefaults(top, fields)

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
	for _, ne := range nodeEntries {
		compileNode(c.flow, ne, kinds, defaults, issues)
	}
	return c
}

// flowName is the file name without its extension.
func flowName(file string) string {
	base := filepath.Base(file)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// compileDefaults reads `defaults:`.
func compileDefaults(s scope, fields map[string]entry) flowDefaults {
	d := flowDefaults{timeout: defaultTimeout, retries: defaultRetries}
	e, ok := fields["defaults"]
	if !ok {
		return d
	}
	entries, ok := s.mapEntries(e.val, e.keyPos, "defaults", dupField)
	if !ok {
		return d
	}
	ds := scope{issues: s.issues, prefix: "defaults: "}
	df := ds.fields(entries, []string{"timeout", "retries"}, "defaults")
	if e, ok := df["timeout"]; ok {
		if v, ok := ds.duration("timeout", e, minTimeout, maxTimeout); ok {
			d.timeout = v
		}
	}
	if e, ok := df["retries"]; ok {
		if v, ok := ds.integer("retries", e, 0, maxRetries); ok {
			d.retries = v
		}
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

// compileExits reads `exits:` and checks every named exit of the kind is
// wired.
func compileExits(c *nodeCompiler) {
	k := c.kind
	if len(k.exits) == 0 {
		return
	}
	wired := map[string]bool{}
	e, ok := c.field("exits")
	if ok {
		entries, ok := c.mapEntries(e.val, e.keyPos, "exits", dupExit)
		if !ok {
			return
		}
		for _, x := range entries {
			if !x.keyStr || !slices.Contains(k.exits, x.key) {
				c.errorf(x.keyPos, "unknown exit %q%s; %s exits are: %s", x.key, didYouMean(x.key, k.exits), k.name, strings.Join(k.exits, ", "))
				continue
			}
			wired[x.key] = true
			if t, ok := c.scope.text("exit \""+x.key+"\"", x); ok {
				c.exit(x.key, t, x.valPos())
			}
		}
	}
	var missing []string
	for _, name := range k.exits {
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
	c.errorf(at, "%s not wired; add under exits: a node for each of %s", what, strings.Join(k.exits, ", "))
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
