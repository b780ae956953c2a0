package ivr

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// kind describes one node type: the fields it accepts, its exits, how it
// compiles and (through the behaviour it compiles to) how it runs. All node
// types are listed in one table, builtinKinds; adding a type means adding a
// file with its kind and behaviour and one line there.
type kind struct {
	// name is the value of `type:`.
	name string
	// fields are the keys the node accepts besides type, description, next
	// and exits.
	fields []string
	// next says the node has a single way on, written `next: <node>`.
	next bool
	// exits are the named exits written under `exits:`; all are required.
	exits []string
	// waits says the node waits for the caller (a key, an agent), so a loop
	// through it is not a silent spin.
	waits bool
	// compile reads the kind's fields and returns the node's behaviour.
	compile func(c *nodeCompiler) behaviour
}

// builtinKinds is the table of node types.
func builtinKinds() map[string]*kind {
	ks := []*kind{playKind(), menuKind(), queueKind(), hangupKind()}
	m := make(map[string]*kind, len(ks))
	for _, k := range ks {
		m[k.name] = k
	}
	return m
}

// allowedKeys lists the keys a node of kind k accepts, in a friendly order.
func (k *kind) allowedKeys() []string {
	keys := []string{"type", "description"}
	keys = append(keys, k.fields...)
	if k.next {
		keys = append(keys, "next")
	}
	if len(k.exits) > 0 {
		keys = append(keys, "exits")
	}
	return keys
}

// behaviour is what a node does when a call enters it.
type behaviour interface {
	// run performs the node for one call and returns the name of the exit
	// taken ("" when the node ended the call).
	run(ctx context.Context, v *visit) (exit string, err error)
}

// nodeCompiler gives a kind's compile function checked access to the
// node's fields. Every problem is reported with the node's name and the
// field's position; the returned values are then defaults, so compiling
// goes on and reports every problem in one pass.
type nodeCompiler struct {
	scope
	kind     *kind
	node     *Node
	fields   map[string]entry
	defaults flowDefaults
	flow     *Flow
}

// field returns the entry for key, if the node has it.
func (c *nodeCompiler) field(key string) (entry, bool) {
	e, ok := c.fields[key]
	return e, ok
}

// missing reports a required field that is absent.
func (c *nodeCompiler) missing(key, hint string) {
	c.errorf(c.node.Pos, "missing %q; %s nodes need %s", key, c.kind.name, hint)
}

// text reads a text field; hint (for a missing required field) says what
// to write.
func (c *nodeCompiler) text(key string, required bool, hint string) string {
	e, ok := c.field(key)
	if !ok {
		if required {
			c.missing(key, hint)
		}
		return ""
	}
	v, _ := c.scope.text(key, e)
	return v
}

// prompts reads a prompt name or list of prompt names and records them for
// the catalogue check.
func (c *nodeCompiler) prompts(key string, required bool, hint string) []string {
	e, ok := c.field(key)
	if !ok {
		if required {
			c.missing(key, hint)
		}
		return nil
	}
	names, poss, _ := c.textList(key, e)
	for i, n := range names {
		c.flow.prompts = append(c.flow.prompts, ref{name: n, pos: poss[i], node: c.node.Name})
	}
	return names
}

// prompt reads a single prompt name and records it.
func (c *nodeCompiler) prompt(key string) string {
	e, ok := c.field(key)
	if !ok {
		return ""
	}
	v, ok := c.scope.text(key, e)
	if ok {
		c.flow.prompts = append(c.flow.prompts, ref{name: v, pos: e.valPos(), node: c.node.Name})
	}
	return v
}

// queue reads a queue name and records it for the queue check.
func (c *nodeCompiler) queue(key, hint string) string {
	e, ok := c.field(key)
	if !ok {
		c.missing(key, hint)
		return ""
	}
	v, ok := c.scope.text(key, e)
	if ok {
		c.flow.queues = append(c.flow.queues, ref{name: v, pos: e.valPos(), node: c.node.Name})
	}
	return v
}

// duration reads a duration field within [lo, hi], or returns def.
func (c *nodeCompiler) duration(key string, def, lo, hi time.Duration) time.Duration {
	e, ok := c.field(key)
	if !ok {
		return def
	}
	if d, ok := c.scope.duration(key, e, lo, hi); ok {
		return d
	}
	return def
}

// integer reads a whole-number field within [lo, hi], or returns def.
func (c *nodeCompiler) integer(key string, def, lo, hi int) int {
	e, ok := c.field(key)
	if !ok {
		return def
	}
	if n, ok := c.scope.integer(key, e, lo, hi); ok {
		return n
	}
	return def
}

// boolean reads a true/false field, or returns def.
func (c *nodeCompiler) boolean(key string, def bool) bool {
	e, ok := c.field(key)
	if !ok {
		return def
	}
	if b, ok := c.scope.boolean(key, e); ok {
		return b
	}
	return def
}

// exit adds a way out of the node; targets are checked once all nodes are
// known.
func (c *nodeCompiler) exit(name, target string, pos Pos) {
	c.node.Exits = append(c.node.Exits, Exit{Name: name, Target: target, Pos: pos})
}

// kindNames lists the node types for messages.
func kindNames(kinds map[string]*kind) []string {
	out := make([]string, 0, len(kinds))
	for n := range kinds {
		out = append(out, n)
	}
	return out
}

// orList formats names as "a, b or c", sorted.
func orList(names []string) string {
	s := strings.Split(listNames(names), ", ")
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return fmt.Sprintf("%s or %s", strings.Join(s[:len(s)-1], ", "), s[len(s)-1])
}
