package schema_test

// A validator for the part of JSON Schema draft 2020-12 the schemas use.
// It refuses keywords it does not know, so a schema cannot rely on a
// keyword these tests do not check.

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// validator validates documents against one schema.
type validator struct {
	root map[string]any
}

// annotations are keywords that do not constrain a document.
func annotations() []string {
	return []string{"$schema", "$id", "$defs", "title", "description", "default", "examples", "$comment"}
}

// keywords are the constraining keywords the validator implements.
func keywords() []string {
	return []string{"$ref", "type", "enum", "const", "pattern", "minLength", "minItems", "minProperties", "maxProperties",
		"minimum", "maximum", "properties", "required", "additionalProperties", "propertyNames", "items",
		"oneOf", "anyOf", "allOf", "not", "if", "then", "else"}
}

// checkKeywords reports every keyword of the schema the validator does not
// know, and every $ref that does not resolve.
func (v *validator) checkKeywords() []string {
	var bad []string
	var walk func(s any, path string)
	walk = func(s any, path string) {
		m, ok := s.(map[string]any)
		if !ok {
			if _, isBool := s.(bool); !isBool {
				bad = append(bad, path+": a schema must be an object or a boolean")
			}
			return
		}
		for k, x := range m {
			p := path + "/" + k
			switch {
			case k == "$defs" || k == "properties":
				for name, sub := range x.(map[string]any) {
					walk(sub, p+"/"+name)
				}
			case k == "$ref":
				if _, err := v.resolve(x.(string)); err != nil {
					bad = append(bad, p+": "+err.Error())
				}
			case slices.Contains([]string{"additionalProperties", "propertyNames", "items", "not", "if", "then", "else"}, k):
				walk(x, p)
			case slices.Contains([]string{"oneOf", "anyOf", "allOf"}, k):
				for i, sub := range x.([]any) {
					walk(sub, fmt.Sprintf("%s/%d", p, i))
				}
			case slices.Contains(keywords(), k) || slices.Contains(annotations(), k):
			default:
				bad = append(bad, p+": keyword not supported by the test validator")
			}
		}
	}
	walk(v.root, "#")
	sort.Strings(bad)
	return bad
}

// resolve returns the schema a local $ref ("#/$defs/x") points at.
func (v *validator) resolve(ref string) (any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("$ref %q is not local", ref)
	}
	var cur any = v.root
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q does not resolve", ref)
		}
		if cur, ok = m[part]; !ok {
			return nil, fmt.Errorf("$ref %q does not resolve", ref)
		}
	}
	return cur, nil
}

// validate returns the errors of doc against the root schema, each as
// "path: what".
func (v *validator) validate(doc any) []string {
	return v.check(v.root, doc, "")
}

func (v *validator) check(schema, doc any, path string) []string {
	if b, ok := schema.(bool); ok {
		if b {
			return nil
		}
		return []string{path + ": not allowed"}
	}
	s := schema.(map[string]any)
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }
	if ref, ok := s["$ref"].(string); ok {
		target, err := v.resolve(ref)
		if err != nil {
			return []string{path + ": " + err.Error()}
		}
		errs = append(errs, v.check(target, doc, path)...)
	}
	if t, ok := s["type"]; ok && !typeMatches(t, doc) {
		fail("%s is not of type %v", show(doc), t)
		return errs
	}
	if e, ok := s["enum"].([]any); ok && !slices.ContainsFunc(e, func(x any) bool { return same(x, doc) }) {
		fail("%s is not one of %v", show(doc), e)
	}
	if c, ok := s["const"]; ok && !same(c, doc) {
		fail("%s is not %v", show(doc), c)
	}
	if str, ok := doc.(string); ok {
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			fail("%q does not match %s", str, p)
		}
		if n, ok := s["minLength"].(float64); ok && float64(len([]rune(str))) < n {
			fail("%q is shorter than %v", str, n)
		}
	}
	if num, ok := number(doc); ok {
		if n, ok := s["minimum"].(float64); ok && num < n {
			fail("%v is less than %v", num, n)
		}
		if n, ok := s["maximum"].(float64); ok && num > n {
			fail("%v is more than %v", num, n)
		}
	}
	if arr, ok := doc.([]any); ok {
		if n, ok := s["minItems"].(float64); ok && float64(len(arr)) < n {
			fail("has %d items, fewer than %v", len(arr), n)
		}
		if items, ok := s["items"]; ok {
			for i, it := range arr {
				errs = append(errs, v.check(items, it, fmt.Sprintf("%s/%d", path, i))...)
			}
		}
	}
	if obj, ok := doc.(map[string]any); ok {
		errs = append(errs, v.checkObject(s, obj, path)...)
	}
	for _, sub := range list(s["allOf"]) {
		errs = append(errs, v.check(sub, doc, path)...)
	}
	if subs := list(s["anyOf"]); subs != nil && !slices.ContainsFunc(subs, func(sub any) bool { return len(v.check(sub, doc, path)) == 0 }) {
		fail("matches none of anyOf")
	}
	if subs := list(s["oneOf"]); subs != nil {
		var matched int
		var why []string // what each branch says, when none matches
		for _, sub := range subs {
			e := v.check(sub, doc, path)
			if len(e) == 0 {
				matched++
			}
			why = append(why, e...)
		}
		if matched != 1 {
			fail("matches %d of oneOf, want 1", matched)
			if matched == 0 {
				errs = append(errs, why...)
			}
		}
	}
	if not, ok := s["not"]; ok && len(v.check(not, doc, path)) == 0 {
		fail("matches what is not allowed: %s", show(not))
	}
	if cond, ok := s["if"]; ok {
		if len(v.check(cond, doc, path)) == 0 {
			if then, ok := s["then"]; ok {
				errs = append(errs, v.check(then, doc, path)...)
			}
		} else if els, ok := s["else"]; ok {
			errs = append(errs, v.check(els, doc, path)...)
		}
	}
	return errs
}

func (v *validator) checkObject(s map[string]any, obj map[string]any, path string) []string {
	var errs []string
	if n, ok := s["minProperties"].(float64); ok && float64(len(obj)) < n {
		errs = append(errs, fmt.Sprintf("%s: has %d keys, fewer than %v", path, len(obj), n))
	}
	if n, ok := s["maxProperties"].(float64); ok && float64(len(obj)) > n {
		errs = append(errs, fmt.Sprintf("%s: has %d keys, more than %v", path, len(obj), n))
	}
	for _, r := range list(s["required"]) {
		if _, ok := obj[r.(string)]; !ok {
			errs = append(errs, fmt.Sprintf("%s: missing %q", path, r))
		}
	}
	props, _ := s["properties"].(map[string]any)
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := path + "/" + k
		if pn, ok := s["propertyNames"]; ok {
			errs = append(errs, v.check(pn, k, p+" (key)")...)
		}
		if sub, ok := props[k]; ok {
			errs = append(errs, v.check(sub, obj[k], p)...)
			continue
		}
		if ap, ok := s["additionalProperties"]; ok {
			if b, isBool := ap.(bool); isBool && !b {
				errs = append(errs, fmt.Sprintf("%s: unknown key %q", path, k))
				continue
			}
			errs = append(errs, v.check(ap, obj[k], p)...)
		}
	}
	return errs
}

func list(x any) []any {
	l, _ := x.([]any)
	return l
}

// typeMatches checks JSON Schema's type keyword (a name or a list).
func typeMatches(t, doc any) bool {
	names := []any{t}
	if l, ok := t.([]any); ok {
		names = l
	}
	for _, n := range names {
		switch n {
		case "object":
			if _, ok := doc.(map[string]any); ok {
				return true
			}
		case "array":
			if _, ok := doc.([]any); ok {
				return true
			}
		case "string":
			if _, ok := doc.(string); ok {
				return true
			}
		case "boolean":
			if _, ok := doc.(bool); ok {
				return true
			}
		case "null":
			if doc == nil {
				return true
			}
		case "number":
			if _, ok := number(doc); ok {
				return true
			}
		case "integer":
			if f, ok := number(doc); ok && f == math.Trunc(f) {
				return true
			}
		}
	}
	return false
}

// number returns a numeric document value as a float64.
func number(doc any) (float64, bool) {
	switch n := doc.(type) {
	case float64:
		return n, true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case int:
		return float64(n), true
	}
	return 0, false
}

// same compares a schema value (from JSON) with a document value (from
// YAML), numbers by value.
func same(schemaVal, doc any) bool {
	if a, ok := number(schemaVal); ok {
		b, ok := number(doc)
		return ok && a == b
	}
	return reflect.DeepEqual(schemaVal, doc)
}

func show(x any) string {
	switch v := x.(type) {
	case string:
		return strconv.Quote(v)
	case map[string]any:
		return "a map"
	case []any:
		return "a list"
	}
	return fmt.Sprint(x)
}
