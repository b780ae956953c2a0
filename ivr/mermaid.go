package ivr

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Mermaid returns the flow as a Mermaid flowchart (flowchart TD) for code
// review: one shape per node type (menus, language and branch choices and
// hours as rhombuses, collect and survey as hexagons, queues as stadiums,
// lookups as cylinders, hangups as circles), each wired exit as a labelled
// edge, the exits the loader links by itself (an optional exit falling back
// to another) as dashed edges, the flow's on_error as one dashed edge from
// "any node", and nodes never reached from the start greyed out.
//
// The text is deterministic: nodes in file order, exits in file order and
// then by name. Node ids are the node names prefixed with "n_" (so that
// names such as "end" are safe) with "-" replaced by "_", made unique.
func (f *Flow) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	title := f.Name
	if f.Subflow {
		title += " (subflow)"
	}
	if f.Description != "" {
		title += ": " + f.Description
	}
	fmt.Fprintf(&b, "  %%%% %s\n", oneLine(title))
	ids := mermaidIDs(f.order)

	if f.start != nil {
		fmt.Fprintf(&b, "  start([start]) --> %s\n", ids[f.start])
	}
	for _, n := range f.order {
		fmt.Fprintf(&b, "  %s%s\n", ids[n], mermaidShape(n))
	}
	for _, n := range f.order {
		wired := map[string]bool{}
		for _, x := range n.Exits {
			wired[x.Name] = true
			if t := f.nodes[x.Target]; t != nil {
				fmt.Fprintf(&b, "  %s -->|%s| %s\n", ids[n], mermaidText(exitText(x.Name)), ids[t])
			}
		}
		k := builtinKinds()[n.Kind]
		for _, name := range slices.Sorted(maps.Keys(n.next)) {
			t := n.next[name]
			if wired[name] || t == nil || (name == errorExit && t == f.onError) {
				continue
			}
			label := name
			if k != nil && k.optional[name] != "" {
				label += " (as " + k.optional[name] + ")"
			}
			fmt.Fprintf(&b, "  %s -.->|%s| %s\n", ids[n], mermaidText(label), ids[t])
		}
	}
	if f.onError != nil {
		fmt.Fprintf(&b, "  on_error{{\"any node: error\"}} -.->|\"on_error\"| %s\n", ids[f.onError])
	}

	var unreached []string
	if f.start != nil {
		reached := reachable(f.start)
		if f.onError != nil {
			maps.Copy(reached, reachable(f.onError))
		}
		for _, n := range f.order {
			if !reached[n] {
				unreached = append(unreached, ids[n])
			}
		}
	}
	if len(unreached) > 0 {
		b.WriteString("  classDef unreachable fill:#eeeeee,stroke:#999999,color:#999999,stroke-dasharray:4 3\n")
		fmt.Fprintf(&b, "  class %s unreachable\n", strings.Join(unreached, ","))
	}
	return b.String()
}

// mermaidIDs gives each node a Mermaid id: "n_" and its name, "-" made
// "_", with a number added when two names would clash.
func mermaidIDs(nodes []*Node) map[*Node]string {
	ids := make(map[*Node]string, len(nodes))
	used := map[string]bool{}
	for _, n := range nodes {
		base := "n_" + strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
				return r
			}
			return '_'
		}, n.Name)
		id := base
		for i := 2; used[id]; i++ {
			id = fmt.Sprintf("%s_%d", base, i)
		}
		used[id] = true
		ids[n] = id
	}
	return ids
}

// mermaidShape returns a node's shape and label: "{"name<br/>menu"}".
func mermaidShape(n *Node) string {
	label := n.Name + "<br/>" + n.Kind
	if d := nodeDetail(n); d != "" {
		label += " " + d
	}
	text := mermaidText(label)
	switch n.Kind {
	case "menu", "language", "branch", "hours":
		return "{" + text + "}"
	case "collect", "survey":
		return "{{" + text + "}}"
	case "queue":
		return "([" + text + "])"
	case "lookup":
		return "[(" + text + ")]"
	case "hangup":
		return "((" + text + "))"
	case "return":
		return "(((" + text + ")))"
	case "subflow":
		return "[[" + text + "]]"
	case "transfer", "record":
		return "[/" + text + "/]"
	case "announce":
		return "(" + text + ")"
	}
	return "[" + text + "]"
}

// nodeDetail is what a node refers to, shown under its type: a queue's
// queue, a subflow node's subflow.
func nodeDetail(n *Node) string {
	switch b := n.impl.(type) {
	case *queue:
		return b.queue
	case *hours:
		return b.calendar
	case *announce:
		return b.name
	case *subflowCall:
		return b.name
	case *returnNode:
		return b.outcome
	}
	return ""
}

// exitText is an exit's edge label: menu keys quoted, others as named.
func exitText(name string) string {
	if len(name) == 1 {
		return `'` + name + `'`
	}
	return name
}

// mermaidText quotes a label, escaping what Mermaid would read as syntax.
func mermaidText(s string) string {
	s = strings.NewReplacer(`"`, "#quot;", "\n", " ").Replace(s)
	return `"` + s + `"`
}

// oneLine makes s fit a Mermaid comment line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
