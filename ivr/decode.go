package ivr

// This file reads values out of the YAML syntax tree strictly: every wrong
// type, unknown key and duplicate key becomes an Issue at the right line and
// column, and reading goes on so one pass reports everything.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// posOf returns the position where a syntax node starts: for a block map,
// its first key (the library's token for a map is the first colon).
func posOf(n ast.Node) Pos {
	switch v := n.(type) {
	case nil:
		return Pos{}
	case *ast.MappingNode:
		if !v.IsFlowStyle && len(v.Values) > 0 && v.Values[0] != nil && v.Values[0].Key != nil {
			return posOf(v.Values[0].Key)
		}
	case *ast.MappingValueNode:
		if v.Key != nil {
			return posOf(v.Key)
		}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return Pos{}
	}
	return Pos{Line: tk.Position.Line, Col: tk.Position.Column}
}

// entry is one "key: value" line of a map.
type entry struct {
	key    string // the key's text; numbers and booleans as written
	keyPos Pos
	keyStr bool     // the key is text (quoted or not), not a number/boolean/null
	keyRaw ast.Node // the key's syntax node
	val    ast.Node // nil or *ast.NullNode when the value is empty
}

// valPos is where the value starts, or the key when the value is empty.
func (e entry) valPos() Pos {
	if p := posOf(e.val); p.Line > 0 && !isNull(e.val) {
		return p
	}
	return e.keyPos
}

func isNull(n ast.Node) bool {
	if n == nil {
		return true
	}
	_, ok := n.(*ast.NullNode)
	return ok
}

// dupNoun names the things a map holds, for the duplicate-key message.
type dupNoun string

const (
	dupField  dupNoun = "field"
	dupNode   dupNoun = "node"
	dupOption dupNoun = "option"
	dupExit   dupNoun = "exit"
)

// mapEntries returns the entries of a map value, reporting a value that is
// not a map and keys that repeat (only the first of each is returned).
// what names the value in messages ("the flow", "node \"x\"", "options").
func (s scope) mapEntries(n ast.Node, at Pos, what string, noun dupNoun) ([]entry, bool) {
	var kvs []*ast.MappingValueNode
	switch v := n.(type) {
	case *ast.MappingNode:
		kvs = v.Values
	case *ast.MappingValueNode:
		kvs = []*ast.MappingValueNode{v}
	default:
		if isNull(n) {
			s.errorf(at, "%s is empty; it needs key: value lines under it", what)
		} else {
			s.errorf(posOr(n, at), "%s must be a map of key: value lines, not %s", what, describe(n))
		}
		return nil, false
	}
	out := make([]entry, 0, len(kvs))
	seen := map[string]Pos{}
	for _, kv := range kvs {
		if kv == nil || kv.Key == nil {
			continue
		}
		e := entry{keyPos: posOf(kv.Key), keyRaw: kv.Key, val: kv.Value}
		switch k := kv.Key.(type) {
		case *ast.StringNode:
			e.key, e.keyStr = k.Value, true
		case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NullNode, *ast.InfinityNode, *ast.NanNode:
			e.key = tokenText(k)
		case *ast.MergeKeyNode:
			s.errorf(e.keyPos, "merge keys (<<) are not supported in flow files; write the fields out")
			continue
		default:
			s.errorf(e.keyPos, "%s has a key that is %s; keys must be plain names", what, describe(k))
			continue
		}
		if first, dup := seen[e.key]; dup {
			switch noun {
			case dupNode:
				s.errorf(e.keyPos, "node %q is defined twice (first at line %d); rename or remove one of them", e.key, first.Line)
			case dupOption:
				s.errorf(e.keyPos, "option %q is listed twice (first at line %d); a key can go to one node only, remove one", e.key, first.Line)
			default:
				s.errorf(e.keyPos, "%s %q is given twice (first at line %d); keep only one", noun, e.key, first.Line)
			}
			continue
		}
		seen[e.key] = e.keyPos
		out = append(out, e)
	}
	return out, true
}

// fields checks that entries only use allowed keys and returns them by key.
// kindName names the thing in the hint ("menu nodes", "the flow").
func (s scope) fields(entries []entry, allowed []string, kindName string) map[string]entry {
	out := make(map[string]entry, len(entries))
	for _, e := range entries {
		if e.keyStr && slices.Contains(allowed, e.key) {
			out[e.key] = e
			continue
		}
		s.errorf(e.keyPos, "unknown field %q%s; %s accept: %s",
			e.key, didYouMean(e.key, allowed), kindName, strings.Join(allowed, ", "))
	}
	return out
}

// tokenText is the scalar as written in the file (without quotes).
func tokenText(n ast.Node) string {
	if tk := n.GetToken(); tk != nil {
		return tk.Value
	}
	return ""
}

// posOr returns n's position, or at when n has none.
func posOr(n ast.Node, at Pos) Pos {
	if p := posOf(n); p.Line > 0 {
		return p
	}
	return at
}

// describe names the kind of a value for messages: "the number 5".
func describe(n ast.Node) string {
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return "empty"
	case *ast.StringNode:
		return fmt.Sprintf("the text %q", v.Value)
	case *ast.LiteralNode:
		return "a block of text"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "the number " + tokenText(v)
	case *ast.BoolNode:
		return "the boolean " + tokenText(v)
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a map"
	case *ast.SequenceNode:
		return "a list"
	case *ast.AnchorNode:
		return "an anchor (&)"
	case *ast.AliasNode:
		return "an alias (*)"
	case *ast.TagNode:
		return "a tagged value (!)"
	case *ast.MappingKeyNode:
		return "a complex key (?)"
	default:
		return "a " + n.Type().String()
	}
}

// unsupportedHint explains YAML features flow files reject.
func unsupportedHint(n ast.Node) string {
	switch n.(type) {
	case *ast.AnchorNode, *ast.AliasNode:
		return " (anchors and aliases are not supported in flow files: write the value out; to mean the * key, quote it: \"*\")"
	case *ast.TagNode:
		return " (YAML tags are not supported in flow files: quote the value instead)"
	}
	return ""
}

// isLegacyBool reports words that YAML 1.1 tools (editors, linters, CI
// scripts) read as booleans although this loader reads them as text.
func isLegacyBool(s string) bool {
	switch strings.ToLower(s) {
	case "y", "n", "yes", "no", "on", "off":
		return true
	}
	return false
}

// isBareLegacyBool reports an unquoted yes/no/on/off/y/n.
func isBareLegacyBool(n ast.Node) bool {
	v, ok := n.(*ast.StringNode)
	return ok && v.Token != nil && v.Token.Type == token.StringType && isLegacyBool(v.Value)
}

// text reads a single text value. name is the field's name for messages.
func (s scope) text(name string, e entry) (string, bool) {
	return s.textNode(name, e.val, e.keyPos)
}

func (s scope) textNode(name string, n ast.Node, at Pos) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		if v.Value == "" {
			s.errorf(posOr(n, at), "%s is empty; give a value", name)
			return "", false
		}
		if isBareLegacyBool(v) {
			s.warnf(posOr(n, at), "%s: bare %s is read as a boolean by YAML 1.1 tools; quote it: %q", name, v.Value, v.Value)
		}
		return v.Value, true
	case *ast.LiteralNode:
		if v.Value != nil {
			return strings.TrimSpace(v.Value.Value), true
		}
		return "", true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		t := tokenText(v)
		s.errorf(posOr(n, at), "%s must be text, not %s; quote it: \"%s\"", name, describe(n), t)
		return "", false
	default:
		if isNull(n) {
			s.errorf(at, "%s is empty; give a value", name)
		} else {
			s.errorf(posOr(n, at), "%s must be a single text value, not %s%s", name, describe(n), unsupportedHint(n))
		}
		return "", false
	}
}

// textList reads "name" or [name, ...] (a list of at least one text value).
// It returns the values with their positions.
func (s scope) textList(name string, e entry) ([]string, []Pos, bool) {
	seq, ok := e.val.(*ast.SequenceNode)
	if !ok {
		if _, isMap := e.val.(*ast.MappingNode); isMap {
			s.errorf(e.valPos(), "%s must be a name or a list of names like [a, b], not a map", name)
			return nil, nil, false
		}
		v, ok := s.text(name, e)
		if !ok {
			return nil, nil, false
		}
		return []string{v}, []Pos{e.valPos()}, true
	}
	if len(seq.Values) == 0 {
		s.errorf(e.valPos(), "%s is an empty list; name at least one", name)
		return nil, nil, false
	}
	vals := make([]string, 0, len(seq.Values))
	poss := make([]Pos, 0, len(seq.Values))
	good := true
	for _, item := range seq.Values {
		v, ok := s.textNode(name+" entry", item, e.valPos())
		if !ok {
			good = false
			continue
		}
		vals = append(vals, v)
		poss = append(poss, posOr(item, e.valPos()))
	}
	return vals, poss, good
}

// duration reads a Go duration string ("5s", "500ms") within [lo, hi].
func (s scope) duration(name string, e entry, lo, hi time.Duration) (time.Duration, bool) {
	switch e.val.(type) {
	case *ast.IntegerNode, *ast.FloatNode:
		t := tokenText(e.val)
		s.errorf(e.valPos(), "%s needs a unit: write \"%ss\" (or \"%sms\"), not %s", name, t, t, t)
		return 0, false
	}
	str, ok := s.text(name, e)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(str)
	if err != nil {
		s.errorf(e.valPos(), "%s %q is not a duration; write a number with a unit, like \"5s\" or \"500ms\"", name, str)
		return 0, false
	}
	if d < lo || d > hi {
		s.errorf(e.valPos(), "%s %s is out of range; use %s to %s", name, str, lo, hi)
		return 0, false
	}
	return d, true
}

// integer reads a whole number within [lo, hi].
func (s scope) integer(name string, e entry, lo, hi int) (int, bool) {
	var n int64
	switch v := e.val.(type) {
	case *ast.IntegerNode:
		switch x := v.Value.(type) {
		case int64:
			n = x
		case uint64:
			n = int64(min(x, 1<<62))
		default:
			s.errorf(e.valPos(), "%s %s is not a number I can read; write a plain whole number", name, tokenText(v))
			return 0, false
		}
	case *ast.FloatNode:
		s.errorf(e.valPos(), "%s must be a whole number, not %s", name, tokenText(v))
		return 0, false
	case *ast.StringNode:
		s.errorf(e.valPos(), "%s must be a number, not the text %q; remove the quotes", name, v.Value)
		return 0, false
	default:
		if isNull(e.val) {
			s.errorf(e.keyPos, "%s is empty; give a whole number", name)
		} else {
			s.errorf(e.valPos(), "%s must be a whole number, not %s%s", name, describe(e.val), unsupportedHint(e.val))
		}
		return 0, false
	}
	if n < int64(lo) {
		if lo == 0 {
			s.errorf(e.valPos(), "%s must be 0 or more, not %d", name, n)
		} else {
			s.errorf(e.valPos(), "%s must be at least %d, not %d", name, lo, n)
		}
		return 0, false
	}
	if n > int64(hi) {
		s.errorf(e.valPos(), "%s must be at most %d, not %d", name, hi, n)
		return 0, false
	}
	return int(n), true
}

// boolean reads true or false.
func (s scope) boolean(name string, e entry) (bool, bool) {
	if v, ok := e.val.(*ast.BoolNode); ok {
		return v.Value, true
	}
	if v, ok := e.val.(*ast.StringNode); ok {
		s.errorf(e.valPos(), "%s must be true or false, not the text %q", name, v.Value)
		return false, false
	}
	if isNull(e.val) {
		s.errorf(e.keyPos, "%s is empty; write true or false", name)
	} else {
		s.errorf(e.valPos(), "%s must be true or false, not %s%s", name, describe(e.val), unsupportedHint(e.val))
	}
	return false, false
}
