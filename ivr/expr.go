package ivr

// Expressions (branch conditions, computed values, ${…} in spoken text) use
// github.com/expr-lang/expr: compiled and type-checked against the flow's
// declared variables when the flow loads, run against the call's variables.

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	exprast "github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// maxExprNodes bounds an expression's size; flows need short ones.
const maxExprNodes = 500

// expression is one compiled expression.
type expression struct {
	src  string
	prog *vm.Program
}

// eval runs the expression against a call's variables.
func (x *expression) eval(env map[string]any) (any, error) {
	out, err := expr.Run(x.prog, env)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", x.src, err)
	}
	return out, nil
}

// exprOptionFor returns the option that makes an expression's result fit a
// variable of type t.
func exprOptionFor(t varType) expr.Option {
	switch t {
	case typeInt:
		// Any number, as a float: expr.AsInt would truncate 7/2 to 3 and
		// turn 1/0 (+Inf) into a huge negative number; varDecl.check takes
		// whole numbers only.
		return expr.AsFloat64()
	case typeBool:
		return expr.AsBool()
	}
	return expr.AsKind(reflect.String)
}

// compileExpression compiles src (found at `at` in the file) against env.
// result is expr.AsBool(), expr.AsInt(), … or nil for any result. Problems
// are reported to s; the result is nil then.
func compileExpression(s scope, name, src string, at Pos, env map[string]any, vars map[string]*varDecl, result expr.Option) *expression {
	if strings.TrimSpace(src) == "" {
		s.errorf(at, "%s is an empty expression; write a condition like customer.stars >= 4", name)
		return nil
	}
	opts := []expr.Option{expr.Env(env), expr.MaxNodes(maxExprNodes)}
	if result != nil {
		opts = append(opts, result)
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		s.errorf(exprPos(err, at), "%s: %s", name, exprMessage(err, vars))
		return nil
	}
	checkEnumLiterals(s, name, prog.Node(), at, vars)
	return &expression{src: src, prog: prog}
}

// enumChecker finds comparisons of an enum variable with a text that is
// not one of its values (intent == "biling"): always false, so a typo.
type enumChecker struct {
	s    scope
	name string
	at   Pos
	vars map[string]*varDecl
}

func (c enumChecker) Visit(n *exprast.Node) {
	b, ok := (*n).(*exprast.BinaryNode)
	if !ok || (b.Operator != "==" && b.Operator != "!=") {
		return
	}
	for _, pair := range [][2]exprast.Node{{b.Left, b.Right}, {b.Right, b.Left}} {
		id, ok1 := pair[0].(*exprast.IdentifierNode)
		lit, ok2 := pair[1].(*exprast.StringNode)
		if !ok1 || !ok2 {
			continue
		}
		d := c.vars[id.Value]
		if d == nil || d.typ != typeEnum || slices.Contains(d.values, lit.Value) || lit.Value == "" {
			continue
		}
		at := c.at
		if at.Line > 0 {
			at.Col += lit.Location().From
		}
		c.s.errorf(at, "%s: %q is not a value of enum variable %q%s; its values are: %s",
			c.name, lit.Value, id.Value, didYouMean(lit.Value, d.values), strings.Join(d.values, ", "))
	}
}

func checkEnumLiterals(s scope, name string, root exprast.Node, at Pos, vars map[string]*varDecl) {
	if root == nil {
		return
	}
	exprast.Walk(&root, enumChecker{s: s, name: name, at: at, vars: vars})
}

// exprPos places an expression error in the file: on the expression's
// first line, the column of the mistake is added to where the value starts.
func exprPos(err error, at Pos) Pos {
	var fe *file.Error
	if errors.As(err, &fe) && fe.Line <= 1 && fe.Column >= 0 && at.Line > 0 {
		return Pos{Line: at.Line, Col: at.Col + fe.Column}
	}
	return at
}

// exprMessage turns the library's message into one that says what to do.
func exprMessage(err error, vars map[string]*varDecl) string {
	msg := err.Error()
	var fe *file.Error
	if errors.As(err, &fe) {
		msg = fe.Message
	}
	if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
		name = strings.TrimSpace(name)
		return fmt.Sprintf("undeclared variable %q%s; declare it under vars: (variables are: %s)",
			name, didYouMean(name, declaredNames(vars)), listNames(declaredNames(vars)))
	}
	if rest, ok := strings.CutPrefix(msg, "expected float64"); ok { // an int variable's value
		return "expected a number" + rest
	}
	if strings.HasPrefix(msg, "expected bool") {
		return msg + "; a condition must be true or false, e.g. customer.stars >= 4"
	}
	return msg + " (expressions use the expr language: https://expr-lang.org/docs/language-definition)"
}

// template is text with ${expression} parts, for spoken text and URLs.
type template struct {
	parts []templatePart
}

type templatePart struct {
	text string
	x    *expression
}

// compileTemplate parses text with ${…} parts and compiles each.
func compileTemplate(s scope, name, text string, at Pos, env map[string]any, vars map[string]*varDecl) *template {
	t := &template{}
	rest := text
	for rest != "" {
		i := strings.Index(rest, "${")
		if i < 0 {
			t.parts = append(t.parts, templatePart{text: rest})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, templatePart{text: rest[:i]})
		}
		j := strings.Index(rest[i:], "}")
		if j < 0 {
			s.errorf(at, "%s: ${ without a closing }; write ${variable}", name)
			return nil
		}
		src := rest[i+2 : i+j]
		x := compileExpression(s, name+" ${"+src+"}", src, at, env, vars, nil)
		if x == nil {
			return nil
		}
		t.parts = append(t.parts, templatePart{x: x})
		rest = rest[i+j+1:]
	}
	return t
}

// constant reports whether the template has no ${…} part.
func (t *template) constant() bool {
	for _, p := range t.parts {
		if p.x != nil {
			return false
		}
	}
	return true
}

// render fills in the template; escape, if not nil, is applied to each
// computed part (URL escaping).
func (t *template) render(env map[string]any, escape func(string) string) (string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.x == nil {
			b.WriteString(p.text)
			continue
		}
		v, err := p.x.eval(env)
		if err != nil {
			return "", err
		}
		s := fmt.Sprint(v)
		if escape != nil {
			s = escape(s)
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// usesSensitive reports whether any ${…} part reads a sensitive variable.
func (t *template) usesSensitive(vars map[string]*varDecl) string {
	for _, p := range t.parts {
		if p.x == nil {
			continue
		}
		for name, d := range vars {
			if d.sensitive && strings.Contains(p.x.src, name) {
				return name
			}
		}
	}
	return ""
}
