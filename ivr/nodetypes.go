package ivr

import (
	"maps"
	"slices"
)

// NodeType describes one node type of the flow format, as the loader reads
// it: for tools that must agree with the loader (the JSON Schema of flow
// files and its test, editors, the scenario runner's exit coverage).
type NodeType struct {
	// Name is the value of type: ("menu").
	Name string
	// Fields are every key a node of this type accepts, type, next and
	// exits included, in a friendly order.
	Fields []string
	// Next says the node has a single way on, written next: <node>.
	Next bool
	// Exits are the exits that must be wired under exits:.
	Exits []string
	// OptionalExits are the exits that may be wired under exits:, sorted;
	// "error" is one of them unless it is required. Some fields make an
	// optional exit required (a queue's callback: needs its callback exit).
	OptionalExits []string
	// Fallbacks maps an optional exit to the exit a call takes when it is
	// not wired (an hours node's holiday to closed). Optional exits that are
	// not listed have no fallback: the error exit is taken instead.
	Fallbacks map[string]string
	// AnyExits says the exits are named by what the node refers to (a
	// subflow node's exits are the subflow's outcomes), not by the type.
	AnyExits bool
	// Waits says the node waits for the caller (a key, an agent).
	Waits bool
}

// NodeTypes returns the node types of the flow format, sorted by name.
func NodeTypes() []NodeType {
	kinds := builtinKinds()
	out := make([]NodeType, 0, len(kinds))
	for _, name := range slices.Sorted(maps.Keys(kinds)) {
		k := kinds[name]
		nt := NodeType{
			Name:      k.name,
			Fields:    k.allowedKeys(),
			Next:      k.next,
			Exits:     slices.Clone(k.exits),
			Fallbacks: map[string]string{},
			AnyExits:  k.anyExits,
			Waits:     k.waits,
		}
		for _, x := range (&nodeCompiler{kind: k}).allowedExits() {
			if !slices.Contains(k.exits, x) {
				nt.OptionalExits = append(nt.OptionalExits, x)
			}
		}
		slices.Sort(nt.OptionalExits)
		for x, fb := range k.optional {
			if fb != "" {
				nt.Fallbacks[x] = fb
			}
		}
		out = append(out, nt)
	}
	return out
}

// FileFormat lists the keys of the files of a flows directory, for tools
// that must agree with the loader.
type FileFormat struct {
	// Kinds are the values of a file's kind: (a file without kind: is a
	// flow).
	Kinds []string
	// FlowKeys are the top-level keys of a flow or subflow file.
	FlowKeys []string
	// CalendarKeys are the keys of one calendar of a calendars file.
	CalendarKeys []string
	// VarTypes are the types a variable may be declared with.
	VarTypes []string
}

// Format returns the keys of the files of a flows directory.
func Format() FileFormat {
	return FileFormat{
		Kinds:        fileKinds(),
		FlowKeys:     flowKeys(),
		CalendarKeys: calendarKeys(),
		VarTypes:     slices.Clone(varTypes),
	}
}
