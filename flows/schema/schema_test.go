package schema_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"kefu/ivr"
	"kefu/ivr/scenario"
)

// loadSchema reads a schema and checks it is a draft 2020-12 schema the
// test validator understands.
func loadSchema(t *testing.T, file string) *validator {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(src, &root); err != nil {
		t.Fatalf("%s is not JSON: %v", file, err)
	}
	if root["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("%s: $schema = %v, want draft 2020-12", file, root["$schema"])
	}
	v := &validator{root: root}
	for _, bad := range v.checkKeywords() {
		t.Errorf("%s: %s", file, bad)
	}
	return v
}

// def returns a $defs entry of the schema as a map.
func def(t *testing.T, v *validator, name string) map[string]any {
	t.Helper()
	d, err := v.resolve("#/$defs/" + name)
	if err != nil {
		t.Fatalf("the schema has no $defs/%s", name)
	}
	return d.(map[string]any)
}

// keysOf returns the sorted keys of m[key] (a map).
func keysOf(m map[string]any, key string) []string {
	sub, _ := m[key].(map[string]any)
	return slices.Sorted(maps.Keys(sub))
}

// strs returns a JSON list of strings, sorted.
func strs(x any) []string {
	var out []string
	for _, s := range list(x) {
		out = append(out, s.(string))
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// yamlDoc decodes YAML the way an editor's schema check sees it.
func yamlDoc(t *testing.T, src []byte) any {
	t.Helper()
	var doc any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatalf("YAML: %v", err)
	}
	return doc
}

// TestFlowSchemaMatchesLoader checks that the schema has every node type
// with exactly the fields and exits the loader accepts, and the keys of
// every kind of file.
func TestFlowSchemaMatchesLoader(t *testing.T) {
	v := loadSchema(t, "flow.schema.json")
	var names []string
	for _, nt := range ivr.NodeTypes() {
		names = append(names, nt.Name)
		t.Run(nt.Name, func(t *testing.T) {
			d := def(t, v, "node_"+nt.Name)
			if got := keysOf(d, "properties"); !slices.Equal(got, sorted(nt.Fields)) {
				t.Errorf("properties %v, the loader accepts %v", got, sorted(nt.Fields))
			}
			if d["additionalProperties"] != false {
				t.Error("additionalProperties is not false: unknown keys would pass")
			}
			req := strs(d["required"])
			if !slices.Contains(req, "type") || slices.Contains(req, "next") != nt.Next {
				t.Errorf("required %v: want type, and next only when the node has next (%v)", req, nt.Next)
			}
			exits := d["properties"].(map[string]any)["exits"].(map[string]any)
			if nt.AnyExits {
				if exits["additionalProperties"] == nil || exits["additionalProperties"] == false {
					t.Error("exits must accept any outcome name")
				}
				return
			}
			want := sorted(append(slices.Clone(nt.Exits), nt.OptionalExits...))
			if got := keysOf(exits, "properties"); !slices.Equal(got, want) {
				t.Errorf("exits %v, the loader accepts %v", got, want)
			}
			if got := strs(exits["required"]); !slices.Equal(got, sorted(nt.Exits)) {
				t.Errorf("required exits %v, the loader requires %v", got, sorted(nt.Exits))
			}
			if exits["additionalProperties"] != false {
				t.Error("exits: additionalProperties is not false: unknown exits would pass")
			}
			if slices.Contains(req, "exits") != (len(nt.Exits) > 0) {
				t.Errorf("exits required = %v, want %v", slices.Contains(req, "exits"), len(nt.Exits) > 0)
			}
		})
	}
	node := def(t, v, "node")
	if got := strs(node["properties"].(map[string]any)["type"].(map[string]any)["enum"]); !slices.Equal(got, names) {
		t.Errorf("node types %v, the loader has %v", got, names)
	}
	var dispatched []string
	for _, c := range list(node["allOf"]) {
		cond := c.(map[string]any)["if"].(map[string]any)["properties"].(map[string]any)["type"].(map[string]any)["const"].(string)
		dispatched = append(dispatched, cond)
		if ref := c.(map[string]any)["then"].(map[string]any)["$ref"]; ref != "#/$defs/node_"+cond {
			t.Errorf("type %s dispatches to %v", cond, ref)
		}
	}
	if slices.Sort(dispatched); !slices.Equal(dispatched, names) {
		t.Errorf("allOf dispatches %v, want %v", dispatched, names)
	}

	format := ivr.Format()
	flow := def(t, v, "flow_file")
	if got := keysOf(flow, "properties"); !slices.Equal(got, sorted(format.FlowKeys)) {
		t.Errorf("flow file keys %v, the loader accepts %v", got, sorted(format.FlowKeys))
	}
	var kinds []string
	kinds = append(kinds, strs(flow["properties"].(map[string]any)["kind"].(map[string]any)["enum"])...)
	for _, k := range []string{"prompts", "calendars", "announcements"} {
		kinds = append(kinds, def(t, v, k+"_file")["properties"].(map[string]any)["kind"].(map[string]any)["const"].(string))
	}
	if !slices.Equal(sorted(kinds), sorted(format.Kinds)) {
		t.Errorf("file kinds %v, the loader has %v", sorted(kinds), sorted(format.Kinds))
	}
	var branches []string
	for _, b := range list(v.root["oneOf"]) {
		branches = append(branches, b.(map[string]any)["$ref"].(string))
	}
	if len(branches) != 4 {
		t.Errorf("the root oneOf has %v, want the four kinds of file", branches)
	}
	cal := def(t, v, "calendars_file")["properties"].(map[string]any)["calendars"].(map[string]any)["additionalProperties"].(map[string]any)
	if got := keysOf(cal, "properties"); !slices.Equal(got, sorted(format.CalendarKeys)) {
		t.Errorf("calendar keys %v, the loader accepts %v", got, sorted(format.CalendarKeys))
	}
	if got := strs(def(t, v, "var_type")["enum"]); !slices.Equal(got, sorted(format.VarTypes)) {
		t.Errorf("variable types %v, the loader has %v", got, sorted(format.VarTypes))
	}
}

// TestFlowSchemaAcceptsFlows validates flow files that load with the
// schema: an editor must not flag a good file.
func TestFlowSchemaAcceptsFlows(t *testing.T) {
	v := loadSchema(t, "flow.schema.json")
	for _, dir := range []string{"..", "../../ivr/testdata/mermaid", "../../ivr/scenario/testdata/flows"} {
		if _, err := ivr.Load(dir, ivr.LoadOptions{}); err != nil {
			t.Errorf("%s does not load, so it cannot show the schema accepts good files: %v", dir, err)
			continue
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, file := range files {
			t.Run(file, func(t *testing.T) {
				src, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				if errs := v.validate(yamlDoc(t, src)); len(errs) > 0 {
					t.Errorf("the schema refuses a file the loader accepts:\n  %s", strings.Join(errs, "\n  "))
				}
			})
		}
	}
}

// TestFlowSchemaRefuses checks the schema flags mistakes the loader
// refuses, where an editor can see them.
func TestFlowSchemaRefuses(t *testing.T) {
	v := loadSchema(t, "flow.schema.json")
	const head = "start: a\nnodes:\n  a:\n"
	tests := []struct {
		name string
		src  string
		want string // a line of the errors
	}{
		{"unknown node key", head + "    type: play\n    prompt: x\n    next: a\n    promt: y\n", `/nodes/a: unknown key "promt"`},
		{"unknown type", head + "    type: playy\n", `/nodes/a/type: "playy" is not one of`},
		{"missing next", head + "    type: play\n    prompt: x\n", `/nodes/a: missing "next"`},
		{"menu key unquoted-like", head + "    type: menu\n    prompt: x\n    options: {\"11\": a}\n    exits: {failed: a}\n", `/nodes/a/options/11 (key): "11" does not match`},
		{"missing required exit", head + "    type: queue\n    queue: q\n    exits: {after_agent: a, max_wait: a}\n", `/nodes/a/exits: missing "no_agents"`},
		{"unknown exit", head + "    type: menu\n    prompt: x\n    options: {\"1\": a}\n    exits: {failed: a, timeout: a}\n", `/nodes/a/exits: unknown key "timeout"`},
		{"callback needs its exit", head + "    type: queue\n    queue: q\n    callback: {prompt: x}\n    exits: {after_agent: a, max_wait: a, no_agents: a}\n", `/nodes/a/exits: missing "callback"`},
		{"bridge needs after_agent", head + "    type: transfer\n    to: \"100\"\n    exits: {failed: a}\n", `/nodes/a/exits: missing "after_agent"`},
		{"blind needs no after_agent", head + "    type: transfer\n    to: \"100\"\n    mode: blind\n    exits: {failed: a}\n", ""},
		{"webhook needs url", head + "    type: lookup\n    source: webhook\n    exits: {ok: a, not_found: a, error: a}\n", `/nodes/a: missing "url"`},
		{"directory takes no url", head + "    type: lookup\n    url: http://x/\n    exits: {ok: a, not_found: a, error: a}\n", `/nodes/a: matches what is not allowed`},
		{"duration without unit", head + "    type: menu\n    prompt: x\n    timeout: 5\n    options: {\"1\": a}\n    exits: {failed: a}\n", `/nodes/a/timeout: 5 is not of type string`},
		{"retries out of range", head + "    type: menu\n    prompt: x\n    retries: 10\n    options: {\"1\": a}\n    exits: {failed: a}\n", `/nodes/a/retries: 10 is more than 9`},
		{"survey keys and answers", head + "    type: survey\n    questions: [{id: q, prompt: x, keys: \"1-5\", answers: {\"1\": y}}]\n    exits: {done: a}\n", `/nodes/a/questions/0: matches 2 of oneOf, want 1`},
		{"missing start", "nodes:\n  a: {type: hangup}\n", `: missing "start"`},
		{"outcomes outside a subflow", "start: a\noutcomes: [ok]\nnodes:\n  a: {type: hangup}\n", `: matches what is not allowed`},
		{"subflow without outcomes", "kind: subflow\nstart: a\nnodes:\n  a: {type: return, outcome: ok}\n", `: missing "outcomes"`},
		{"enum var without values", "start: a\nvars: {x: {type: enum}}\nnodes:\n  a: {type: hangup}\n", `/vars/x: missing "values"`},
		{"unknown top key", "start: a\nnode: {}\nnodes:\n  a: {type: hangup}\n", `: unknown key "node"`},
		{"prompts file variant", "kind: prompts\nprompts:\n  hi: {zh: {audio: hi, tss: x}}\n", `/prompts/hi/zh: unknown key "tss"`},
		{"calendar without timezone", "kind: calendars\ncalendars:\n  c: {weekly: {daily: [\"08:00-20:00\"]}}\n", `/calendars/c: missing "timezone"`},
		{"calendar day", "kind: calendars\ncalendars:\n  c: {timezone: UTC, weekly: {monday: []}}\n", `/calendars/c/weekly/monday (key): "monday" does not match`},
		{"announcement until without offset", "kind: announcements\nannouncements:\n  a: {prompt: x, until: \"2026-11-30T18:00:00\"}\n", `/announcements/a/until: "2026-11-30T18:00:00" does not match`},
		{"unknown kind", "kind: tests\nflow: main\n", `: matches 0 of oneOf, want 1`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := v.validate(yamlDoc(t, []byte(tc.src)))
			if tc.want == "" {
				if len(errs) > 0 {
					t.Errorf("refused a good file:\n  %s", strings.Join(errs, "\n  "))
				}
				return
			}
			if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, tc.want) }) {
				t.Errorf("errors lack %q:\n  %s", tc.want, strings.Join(errs, "\n  "))
			}
		})
	}
}

// TestTestSchemaMatchesParser checks the scenario schema has exactly the
// keys the scenario parser accepts, and accepts and refuses what it does.
func TestTestSchemaMatchesParser(t *testing.T) {
	v := loadSchema(t, "test.schema.json")
	format := scenario.Format()
	sections := map[string]map[string]any{
		"file":         v.root,
		"defaults":     def(t, v, "setup"),
		"case":         def(t, v, "case"),
		"customer":     def(t, v, "customer"),
		"webhook":      def(t, v, "webhooks")["additionalProperties"].(map[string]any),
		"expect":       def(t, v, "expect"),
		"expect.queue": def(t, v, "expect")["properties"].(map[string]any)["queue"].(map[string]any),
	}
	for _, name := range slices.Sorted(maps.Keys(format)) {
		s, ok := sections[name]
		if !ok {
			t.Errorf("the parser has a section %q the test does not check", name)
			continue
		}
		if got, want := keysOf(s, "properties"), sorted(format[name]); !slices.Equal(got, want) {
			t.Errorf("%s: schema keys %v, the parser accepts %v", name, got, want)
		}
		if s["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties is not false: unknown keys would pass", name)
		}
	}

	files, _ := filepath.Glob("../../ivr/scenario/testdata/tests/*.yaml")
	sample, _ := filepath.Glob("../tests/*.yaml")
	for _, file := range append(files, sample...) {
		t.Run(file, func(t *testing.T) {
			if _, err := scenario.ParseFile(file); err != nil {
				t.Fatalf("the parser refuses it: %v", err)
			}
			src, _ := os.ReadFile(file)
			if errs := v.validate(yamlDoc(t, src)); len(errs) > 0 {
				t.Errorf("the schema refuses a file the parser accepts:\n  %s", strings.Join(errs, "\n  "))
			}
		})
	}

	const head = "flow: main\ncases:\n  - name: x\n"
	for _, tc := range []struct{ name, src, want string }{
		{"unknown case key", head + "    kyes: [\"1\"]\n", `/cases/0: unknown key "kyes"`},
		{"unknown expectation", head + "    expect: {paht: [a]}\n", `/cases/0/expect: unknown key "paht"`},
		{"caller as a number", head + "    caller: 13800000005\n", `/cases/0/caller: 13800000005 is not of type string`},
		{"queue outcome", head + "    queue: [answered]\n", `/cases/0/queue: matches 0 of oneOf`},
		{"switch name", head + "    switches: {outage: true}\n", `/cases/0/switches/outage (key): "outage" does not match`},
		{"not_found with data", head + "    customer: {not_found: true, vip: true}\n", `/cases/0/customer: has 2 keys, more than 1`},
		{"end", head + "    expect: {end: hungup}\n", `/cases/0/expect/end: "hungup" is not one of`},
		{"no cases", "flow: main\n", `: missing "cases"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := scenario.Parse("x.yaml", []byte(tc.src)); err == nil {
				t.Errorf("the parser accepts what the schema test expects refused")
			}
			errs := v.validate(yamlDoc(t, []byte(tc.src)))
			if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, tc.want) }) {
				t.Errorf("errors lack %q:\n  %s", tc.want, strings.Join(errs, "\n  "))
			}
		})
	}
}
