package ivr

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/goccy/go-yaml/ast"
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
	// exits are the named exits written under `exits:` that must be wired.
	exits []string
	// optional are exits that may be left out, each with the exit it falls
	// back to ("" for none: the exit then is an error, which takes the
	// error exit). Every kind also has the optional exit "error".
	optional map[string]string
	// anyExits says the exits are named by what the node refers to (a
	// subflow's outcomes) and are checked once every file is loaded.
	anyExits bool
	// waits says the node waits for the caller (a key, an agent), so a loop
	// through it is not a silent spin.
	waits bool
	// compile reads the kind's fields and returns the node's behaviour.
	compile func(c *nodeCompiler) behaviour
}

// builtinKinds is the table of node types.
func builtinKinds() map[string]*kind {
	ks := []*kind{
		playKind(), menuKind(), collectKind(), languageKind(), setKind(), branchKind(),
		lookupKind(), hoursKind(), announceKind(), queueKind(), recordKind(), transferKind(),
		surveyKind(), subflowKind(), returnKind(), hangupKind(),
	}
	m := make(map[string]*kind, len(ks))
	for _, k := range ks {
		m[k.name] = k
	}
	return m
}

// allowedKeys lists the keys a node of kind k accepts, in a friendly order.
func (k *kind) allowedKeys() []string {
	keys := []string{"type", "description", "milestone", "max_visits"}
	keys = append(keys, k.fields...)
	if k.next {
		keys = append(keys, "next")
	}
	return append(keys, "exits")
}

// errorExit is the exit every node has: taken when something fails in the
// node (an expression, a lookup, a visit cap); unwired, it goes to the
// flow's defaults.on_error.
const errorExit = "error"

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
	required []string // exits made required by the node's fields
}

// require makes an optional exit required for this node (a queue with a
// callback offer needs its callback exit).
func (c *nodeCompiler) require(exit string) { c.required = append(c.required, exit) }

// requiredExits lists the exits this node must wire.
func (c *nodeCompiler) requiredExits() []string {
	return append(slices.Clone(c.kind.exits), c.required...)
}

// allowedExits lists every exit the node may wire, in a friendly order.
func (c *nodeCompiler) allowedExits() []string {
	out := slices.Clone(c.kind.exits)
	for _, name := range slices.Sorted(maps.Keys(c.kind.optional)) {
		out = append(out, name)
	}
	if slices.Contains(out, errorExit) {
		return out
	}
	return append(out, errorExit)
}

// varRef reads the name of a declared variable (store: account) and checks
// its type is one of types (any type when none are given).
func (c *nodeCompiler) varRef(key string, required bool, hint string, types ...varType) *varDecl {
	e, ok := c.field(key)
	if !ok {
		if required {
			c.missing(key, hint)
		}
		return nil
	}
	name, ok := c.scope.text(key, e)
	if !ok {
		return nil
	}
	d := c.flow.vars[name]
	if d == nil {
		if slices.Contains(systemVarNames(), name) {
			c.errorf(e.valPos(), "%s: %q is a read-only system variable; declare your own under vars:", key, name)
			return nil
		}
		names := slices.Sorted(maps.Keys(c.flow.vars))
		c.errorf(e.valPos(), "%s: undeclared variable %q%s; declare it under vars: (declared: %s)", key, name, didYouMean(name, names), listNames(names))
		return nil
	}
	if len(types) > 0 && !slices.Contains(types, d.typ) {
		ts := make([]string, len(types))
		for i, t := range types {
			ts[i] = string(t)
		}
		c.errorf(e.valPos(), "%s: variable %q is %s; it must be %s", key, name, d.typ, orList(ts))
		return nil
	}
	return d
}

// condition reads an expression field that must be true or false.
func (c *nodeCompiler) condition(name string, e entry) *expression {
	src, ok := c.scope.text(name, e)
	if !ok {
		return nil
	}
	return compileExpression(c.scope, name, src, e.valPos(), c.flow.env, c.flow.vars, expr.AsBool())
}

// value is a value field: a literal of the target's type, or an
// expression when written with a leading "=" ("= customer.manager").
type value struct {
	lit any
	x   *expression
}

// get returns the value for a call.
func (v *value) get(env map[string]any) (any, error) {
	if v.x != nil {
		return v.x.eval(env)
	}
	return v.lit, nil
}

// valueField reads a value field of type t (for a variable d when given,
// which also checks enum values).
func (c *nodeCompiler) valueField(name string, e entry, d *varDecl) *value {
	if sn, ok := e.val.(*ast.StringNode); ok && strings.HasPrefix(sn.Value, "=") {
		src := strings.TrimSpace(strings.TrimPrefix(sn.Value, "="))
		x := compileExpression(c.scope, name, src, e.valPos(), c.flow.env, c.flow.vars, exprOptionFor(d.typ))
		if x == nil {
			return nil
		}
		return &value{x: x}
	}
	lit := literal(c.scope, name, e, d)
	if lit == nil {
		return nil
	}
	return &value{lit: lit}
}

// textValue reads an optional value field holding text ("1001", or
// "= customer.manager").
func (c *nodeCompiler) textValue(key string) *value {
	e, ok := c.field(key)
	if !ok {
		return nil
	}
	return c.valueField(key, e, &varDecl{name: key, typ: typeString})
}

// calendar reads a calendar name and records it for the set check.
func (c *nodeCompiler) calendar(key string) string {
	return c.setRef(key, &c.flow.calendars, "calendar: <name> naming a calendar of the calendars file")
}

// announcement reads an announcement name and records it.
func (c *nodeCompiler) announcement(key string) string {
	return c.setRef(key, &c.flow.announcements, "announcement: <name> naming an announcement of the announcements file")
}

// setRef reads a required name that refers to something of the set.
func (c *nodeCompiler) setRef(key string, refs *[]ref, hint string) string {
	e, ok := c.field(key)
	if !ok {
		c.missing(key, hint)
		return ""
	}
	v, ok := c.scope.text(key, e)
	if ok {
		*refs = append(*refs, ref{name: v, pos: e.valPos(), node: c.node.Name})
	}
	return v
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

// exprBool makes an expression a condition.
func exprBool() expr.Option { return expr.AsBool() }

// listOf reads a list value.
func listOf(s scope, name string, e entry) ([]ast.Node, bool) {
	seq, ok := e.val.(*ast.SequenceNode)
	if !ok {
		s.errorf(e.valPos(), "%s must be a list (lines starting with -), not %s", name, describe(e.val))
		return nil, false
	}
	if len(seq.Values) == 0 {
		s.errorf(e.valPos(), "%s is an empty list", name)
		return nil, false
	}
	return seq.Values, true
}

// textOf returns a scalar value as written (an expression such as
// `when: true` or `when: stars >= 4`).
func textOf(e entry) string {
	switch v := e.val.(type) {
	case *ast.StringNode:
		return v.Value
	case *ast.LiteralNode:
		if v.Value != nil {
			return v.Value.Value
		}
	case nil, *ast.NullNode:
		return ""
	}
	return tokenText(e.val)
}
