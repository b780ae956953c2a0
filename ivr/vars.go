package ivr

// This file holds a flow's variables: their declarations (vars: and, in
// subflows, params:), the read-only system variables every expression can
// use, and how values are checked, converted and masked.

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// varType is the declared type of a flow variable.
type varType string

// Variable types.
const (
	typeString varType = "string" // any text
	typeDigits varType = "digits" // phone keys 0-9 only (account numbers, PINs)
	typeInt    varType = "int"    // a whole number
	typeBool   varType = "bool"   // true or false
	typeEnum   varType = "enum"   // one of the declared values
)

var varTypes = []string{string(typeString), string(typeDigits), string(typeInt), string(typeBool), string(typeEnum)}

// varDecl is one declared variable.
type varDecl struct {
	name      string
	typ       varType
	values    []string // enum values
	def       any      // initial value (typed); the zero value when not given
	sensitive bool     // masked in logs, traces and records
	pos       Pos
}

// zero returns the variable's initial value.
func (d *varDecl) zero() any {
	if d.def != nil {
		return d.def
	}
	switch d.typ {
	case typeInt:
		return 0
	case typeBool:
		return false
	}
	return ""
}

// mask is what logs and records show instead of a sensitive value.
const mask = "****"

// show formats v for logs, traces and records, masking sensitive values.
func (d *varDecl) show(v any) string {
	if d.sensitive {
		return mask
	}
	return fmt.Sprint(v)
}

// fromText converts text (keys collected, a webhook's field) to the
// variable's type.
func (d *varDecl) fromText(s string) (any, error) {
	switch d.typ {
	case typeDigits:
		if !isDigits(s) {
			return nil, fmt.Errorf("%q is not digits 0-9", s)
		}
		return s, nil
	case typeInt:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", s)
		}
		return n, nil
	case typeBool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", s)
		}
		return b, nil
	case typeEnum:
		if !slices.Contains(d.values, s) {
			return nil, fmt.Errorf("%q is not one of %s", s, strings.Join(d.values, ", "))
		}
		return s, nil
	}
	return s, nil
}

// check verifies a value computed at run time (by an expression or a
// webhook) fits the variable, converting numbers and text as needed. The
// error does not show a sensitive variable's value.
func (d *varDecl) check(v any) (any, error) {
	x, err := d.convert(v)
	if err != nil && d.sensitive {
		return nil, fmt.Errorf("the value (masked) does not fit a %s variable", d.typ)
	}
	return x, err
}

// convert is check, its errors showing the value.
func (d *varDecl) convert(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return d.fromText(x)
	case bool:
		if d.typ == typeBool {
			return x, nil
		}
	case int:
		if d.typ == typeInt {
			return x, nil
		}
		return d.fromText(strconv.Itoa(x))
	case int64:
		return d.convert(int(x))
	case float64:
		if x == float64(int(x)) {
			return d.convert(int(x))
		}
	}
	return nil, fmt.Errorf("%v (%T) does not fit a %s variable", v, v, d.typ)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// compileVars reads vars: (or params:), a map of name → type or
// name → {type, values, default, sensitive}.
func compileVars(s scope, e entry, what string) map[string]*varDecl {
	out := map[string]*varDecl{}
	entries, ok := s.mapEntries(e.val, e.keyPos, what, dupField)
	if !ok {
		return out
	}
	for _, ve := range entries {
		vs := scope{issues: s.issues, prefix: s.prefix + "variable \"" + ve.key + "\": "}
		switch {
		case !ve.keyStr || !validName(ve.key) || strings.Contains(ve.key, "-"):
			s.errorf(ve.keyPos, "variable name %q is not valid: use lower-case letters, digits and _, starting with a letter", ve.key)
			continue
		case slices.Contains(systemVarNames(), ve.key):
			s.errorf(ve.keyPos, "variable name %q is a system variable (%s); choose another name", ve.key, strings.Join(systemVarNames(), ", "))
			continue
		}
		d := &varDecl{name: ve.key, typ: typeString, pos: ve.keyPos}
		out[ve.key] = d
		if sn, ok := ve.val.(*ast.StringNode); ok {
			d.typ = parseVarType(vs, sn.Value, ve.valPos())
			continue
		}
		fe, ok := vs.mapEntries(ve.val, ve.keyPos, "the variable", dupField)
		if !ok {
			continue
		}
		f := vs.fields(fe, []string{"type", "values", "default", "sensitive", "description"}, "variables")
		if t, ok := f["type"]; ok {
			if name, ok := vs.text("type", t); ok {
				d.typ = parseVarType(vs, name, t.valPos())
			}
		} else {
			vs.errorf(ve.keyPos, "missing \"type\"; add type: %s", orList(varTypes))
		}
		if v, ok := f["values"]; ok {
			if d.typ != typeEnum {
				vs.errorf(v.keyPos, "values: is only for enum variables; remove it or write type: enum")
			} else if vals, _, ok := vs.textList("values", v); ok {
				d.values = vals
			}
		} else if d.typ == typeEnum {
			vs.errorf(ve.keyPos, "enum variables need values: [a, b, ...]")
		}
		if se, ok := f["sensitive"]; ok {
			d.sensitive, _ = vs.boolean("sensitive", se)
		}
		if de, ok := f["default"]; ok {
			d.def = literal(vs, "default", de, d)
		}
	}
	return out
}

func parseVarType(s scope, name string, at Pos) varType {
	if slices.Contains(varTypes, name) {
		return varType(name)
	}
	s.errorf(at, "unknown type %q%s; types are: %s", name, didYouMean(name, varTypes), strings.Join(varTypes, ", "))
	return typeString
}

// literal reads a YAML scalar as a value of d's type; nil after an error.
func literal(s scope, name string, e entry, d *varDecl) any {
	what := fmt.Sprintf("%s for %s variable %q", name, d.typ, d.name)
	if name == d.name { // a field that is not a variable (to:, tier:)
		what = name
	}
	switch v := e.val.(type) {
	case *ast.BoolNode:
		if d.typ == typeBool {
			return v.Value
		}
	case *ast.IntegerNode:
		if d.typ == typeInt {
			n, ok := s.integer(name, e, -1<<31, 1<<31-1)
			if ok {
				return n
			}
			return nil
		}
		if d.typ == typeDigits || d.typ == typeString {
			s.errorf(e.valPos(), "%s must be quoted text: \"%s\" (unquoted, YAML reads a number and drops leading zeros)", what, tokenText(v))
			return nil
		}
	case *ast.StringNode:
		if d.typ == typeBool || d.typ == typeInt {
			break
		}
		if isBareLegacyBool(v) {
			s.warnf(e.valPos(), "%s: bare %s is read as a boolean by YAML 1.1 tools; quote it: %q", name, v.Value, v.Value)
		}
		x, err := d.fromText(v.Value)
		if err != nil {
			s.errorf(e.valPos(), "%s for variable %q: %v", name, d.name, err)
			return nil
		}
		return x
	}
	hint := "quoted text"
	switch d.typ {
	case typeInt:
		hint = "a whole number, without quotes"
	case typeBool:
		hint = "true or false, without quotes"
	case typeEnum:
		hint = "one of " + strings.Join(d.values, ", ")
	}
	s.errorf(e.valPos(), "%s cannot be %s%s; write %s", what, describe(e.val), unsupportedHint(e.val), hint)
	return nil
}

// CustomerVars is the customer system variable: what the directory knows
// about the caller, once a lookup node has run. Expressions read it as
// customer.stars, customer.vip, customer.extra["plan"], ….
type CustomerVars struct {
	Found   bool              `expr:"found"`
	Number  string            `expr:"number"`
	Tier    string            `expr:"tier"`
	Stars   int               `expr:"stars"`
	Brand   string            `expr:"brand"`
	VIP     bool              `expr:"vip"`
	Manager string            `expr:"manager"`
	Extra   map[string]string `expr:"extra"`
	// Repeat is set when the caller's last contact is within the
	// configured repeat window (24 h by default); Last is that contact.
	Repeat bool        `expr:"repeat"`
	Last   ContactVars `expr:"last"`
}

// ContactVars is the caller's last contact with the hotline, as
// customer.last.found, customer.last.hours_ago (a flow branches on "called
// in the last N hours" with customer.last.found && customer.last.hours_ago <
// N), customer.last.queue, .agent, .outcome and .survey["question"].
type ContactVars struct {
	Found    bool              `expr:"found"`
	HoursAgo float64           `expr:"hours_ago"`
	Queue    string            `expr:"queue"`
	Agent    string            `expr:"agent"`
	Outcome  string            `expr:"outcome"`
	Survey   map[string]string `expr:"survey"`
}

// QueueVars is the queue system variable: the last queue the call was in,
// and, while it waits, its position.
type QueueVars struct {
	Name        string `expr:"name"`
	Outcome     string `expr:"outcome"`
	Agent       string `expr:"agent"`
	Position    int    `expr:"position"`
	WaitMinutes int    `expr:"wait_minutes"`
}

// systemVarNames are the read-only variables every flow has.
func systemVarNames() []string {
	return []string{"caller", "called", "call_id", "lang", "now", "customer", "queue"}
}

// typeEnv returns an environment of zero values with the types every
// expression of the flow may use, for type checking at load.
func typeEnv(vars map[string]*varDecl) map[string]any {
	env := map[string]any{
		"caller":   "",
		"called":   "",
		"call_id":  "",
		"lang":     "",
		"now":      time.Time{},
		"customer": CustomerVars{Extra: map[string]string{}, Last: ContactVars{Survey: map[string]string{}}},
		"queue":    QueueVars{},
	}
	for name, d := range vars {
		env[name] = d.zero()
	}
	return env
}

// declaredNames lists the names an expression may use, for suggestions.
func declaredNames(vars map[string]*varDecl) []string {
	names := slices.Collect(maps.Keys(vars))
	names = append(names, systemVarNames()...)
	slices.Sort(names)
	return names
}
