package ivr_test

import (
	"slices"
	"testing"

	"kefu/ivr"
)

func TestNodeTypes(t *testing.T) {
	types := map[string]ivr.NodeType{}
	var names []string
	for _, nt := range ivr.NodeTypes() {
		types[nt.Name] = nt
		names = append(names, nt.Name)
	}
	if !slices.IsSorted(names) {
		t.Errorf("NodeTypes not sorted by name: %v", names)
	}
	tests := []struct {
		name      string
		next      bool
		exits     []string
		optional  []string
		fallbacks map[string]string
		fields    []string // some of the fields
	}{
		{name: "play", next: true, optional: []string{"error"}, fields: []string{"prompt", "barge_in", "next"}},
		{name: "menu", exits: []string{"failed"}, optional: []string{"error"}, fields: []string{"options", "short_prompt"}},
		{name: "hours", exits: []string{"open", "closed"}, optional: []string{"emergency", "error", "holiday"},
			fallbacks: map[string]string{"holiday": "closed", "emergency": "closed"}, fields: []string{"calendar"}},
		{name: "queue", exits: []string{"after_agent", "max_wait", "no_agents"}, optional: []string{"callback", "error", "queue_full"},
			fields: []string{"queue", "callback", "announce"}},
		{name: "lookup", exits: []string{"ok", "not_found", "error"}, fields: []string{"source", "url", "output"}},
		{name: "hangup", optional: []string{"error"}, fields: []string{"prompt", "reason"}},
		{name: "subflow", optional: []string{"error"}, fields: []string{"flow", "with", "output"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nt, ok := types[tc.name]
			if !ok {
				t.Fatalf("no node type %q in %v", tc.name, names)
			}
			if nt.Next != tc.next {
				t.Errorf("Next = %v, want %v", nt.Next, tc.next)
			}
			if !slices.Equal(nt.Exits, tc.exits) {
				t.Errorf("Exits = %v, want %v", nt.Exits, tc.exits)
			}
			if !slices.Equal(nt.OptionalExits, tc.optional) {
				t.Errorf("OptionalExits = %v, want %v", nt.OptionalExits, tc.optional)
			}
			for x, fb := range tc.fallbacks {
				if nt.Fallbacks[x] != fb {
					t.Errorf("Fallbacks[%s] = %q, want %q", x, nt.Fallbacks[x], fb)
				}
			}
			for _, f := range append([]string{"type", "description", "milestone", "max_visits", "exits"}, tc.fields...) {
				if !slices.Contains(nt.Fields, f) {
					t.Errorf("Fields %v lack %q", nt.Fields, f)
				}
			}
		})
	}
	if f := ivr.Format(); !slices.Contains(f.Kinds, "prompts") || !slices.Contains(f.FlowKeys, "nodes") || !slices.Contains(f.VarTypes, "digits") {
		t.Errorf("Format() = %+v lacks prompts, nodes or digits", f)
	}
}
