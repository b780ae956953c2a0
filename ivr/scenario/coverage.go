package scenario

import (
	"fmt"
	"maps"
	"slices"

	"kefu/ivr"
)

// Coverage is how much of one flow the cases exercised.
type Coverage struct {
	// Flow is the flow's name.
	Flow string
	// Calls is how many case calls entered the flow.
	Calls int
	// Nodes is how many nodes the flow has; Entered how many of them some
	// case entered.
	Nodes, Entered int
	// Exits is how many exits the flow's file wires (next, menu keys,
	// named exits); Taken how many of them some case took. An optional
	// exit left unwired counts as the exit it falls back to.
	Exits, Taken int
	// NotEntered are the nodes no case entered, in file order.
	NotEntered []string
	// NotTaken are the wired exits no case took, as "node.exit", in file
	// order.
	NotTaken []string
}

// String formats the coverage on one line:
// "main: nodes 34/36 (94%), exits 51/60 (85%)".
func (c Coverage) String() string {
	return fmt.Sprintf("%s: nodes %d/%d (%d%%), exits %d/%d (%d%%)", c.Flow, c.Entered, c.Nodes, percent(c.Entered, c.Nodes), c.Taken, c.Exits, percent(c.Taken, c.Exits))
}

func percent(n, of int) int {
	if of == 0 {
		return 100
	}
	return n * 100 / of
}

// CoverageOf returns the node and exit coverage of the cases of reports,
// for every flow of set that takes calls and every subflow a case entered,
// sorted by flow name. A flow no case called has zero coverage.
func CoverageOf(set *ivr.Set, reports []Report) []Coverage {
	type key struct{ node, exit string }
	taken := map[string]map[key]bool{} // flow → (node, exit) taken; exit "" for entered
	calls := map[string]int{}
	for _, name := range set.Names() {
		taken[name] = map[key]bool{}
	}
	for _, r := range reports {
		for _, c := range r.Cases {
			if c.Outcome == nil {
				continue
			}
			inCall := map[string]bool{}
			for _, st := range c.Outcome.Result.Steps {
				if taken[st.Flow] == nil {
					taken[st.Flow] = map[key]bool{}
				}
				if !inCall[st.Flow] {
					inCall[st.Flow] = true
					calls[st.Flow]++
				}
				taken[st.Flow][key{st.Node, ""}] = true
				if st.Exit != "" {
					taken[st.Flow][key{st.Node, st.Exit}] = true
				}
			}
		}
	}
	fallbacks := map[string]map[string]string{}
	for _, nt := range ivr.NodeTypes() {
		fallbacks[nt.Name] = nt.Fallbacks
	}
	var out []Coverage
	for _, name := range slices.Sorted(maps.Keys(taken)) {
		f, ok := set.Flow(name)
		if !ok {
			continue
		}
		seen := taken[name]
		cov := Coverage{Flow: name, Calls: calls[name]}
		for _, n := range f.Nodes() {
			cov.Nodes++
			if seen[key{n.Name, ""}] {
				cov.Entered++
			} else {
				cov.NotEntered = append(cov.NotEntered, n.Name)
			}
			wired := map[string]bool{}
			for _, x := range n.Exits {
				wired[x.Name] = true
			}
			for _, x := range n.Exits {
				cov.Exits++
				hit := seen[key{n.Name, x.Name}]
				for opt, fb := range fallbacks[n.Kind] {
					if fb == x.Name && !wired[opt] && seen[key{n.Name, opt}] {
						hit = true
					}
				}
				if hit {
					cov.Taken++
				} else {
					cov.NotTaken = append(cov.NotTaken, n.Name+"."+x.Name)
				}
			}
		}
		out = append(out, cov)
	}
	return out
}
