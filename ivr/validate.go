package ivr

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// setCtx is what a flow's references are checked against: the other
// files of its set and the server's registries.
type setCtx struct {
	set  *Set
	opts LoadOptions
}

// validateFlow checks a compiled flow: start and every exit name a node,
// prompts, queues, calendars, announcements and subflows exist, and (when
// that much is sound) the graph has no silent loops; it warns about
// unreachable nodes and dead ends. It links the nodes for the engine.
func validateFlow(c *compiled, sc setCtx, issues *issueList) {
	f := c.flow
	f.set = sc.set
	top := scope{issues: issues}
	names := nodeNames(f)

	if f.Start != "" {
		if n, ok := f.nodes[f.Start]; ok {
			f.start = n
		} else {
			top.errorf(c.startPos, "start names unknown node %q%s", f.Start, nodesHint(f.Start, names))
		}
	}
	if d := f.defaults; d.onError != "" {
		if n, ok := f.nodes[d.onError]; ok {
			f.onError = n
		} else {
			top.errorf(d.onErrorPos, "defaults: on_error names unknown node %q%s", d.onError, nodesHint(d.onError, names))
		}
	}
	for _, n := range f.order {
		n.next = make(map[string]*Node, len(n.Exits)+2)
		s := scope{issues: issues, prefix: "node \"" + n.Name + "\": "}
		for _, x := range n.Exits {
			t, ok := f.nodes[x.Target]
			if !ok && issues.full() {
				issues.drop(SeverityError)
			} else if !ok {
				s.errorf(x.Pos, "%s goes to unknown node %q%s", exitLabel(x.Name), x.Target, nodesHint(x.Target, names))
				continue
			}
			n.next[x.Name] = t
		}
		linkDefaults(n, f)
	}
	for _, r := range f.announcements {
		if a := sc.set.announcements[r.name]; a != nil {
			for _, p := range a.Prompts {
				f.prompts = append(f.prompts, ref{name: p, pos: r.pos, node: r.node, announced: true})
			}
		}
	}
	sc.set.catalogue.checkFlowPrompts(f, issues, sc.opts.Prompts)
	checkRefs(issues, f.queues, sc.opts.Queues, "queue", "queues are defined in the server configuration")
	checkRefs(issues, f.calendars, Names(slices.Collect(maps.Keys(sc.set.calendars))), "calendar", "calendars are defined in a kind: calendars file of the flows directory")
	checkRefs(issues, f.announcements, Names(slices.Collect(maps.Keys(sc.set.announcements))), "announcement", "announcements are defined in a kind: announcements file of the flows directory")
	checkSubflows(f, sc.set, issues)
	checkRefs(issues, f.languages, Names(sc.set.catalogue.languages), "language", "languages are declared under languages: in the prompts file")

	if hasErrors(issues.list) || f.start == nil {
		return // graph checks on a broken flow would only add noise
	}
	reached := reachable(f.start)
	if f.onError != nil {
		for n := range reachable(f.onError) {
			reached[n] = true
		}
	}
	for _, n := range f.order {
		if !reached[n] {
			top.warnf(n.Pos, "node %q is never reached from start node %q; link to it or remove it", n.Name, f.Start)
		}
	}
	if !checkSilentLoops(f, top) {
		checkDeadEnds(f, reached, top)
	}
}

// linkDefaults links the exits a node did not wire: optional exits to
// their fallback exit, the error exit to the flow's on_error.
func linkDefaults(n *Node, f *Flow) {
	k := builtinKinds()[n.Kind]
	if k == nil {
		return
	}
	for name, fallback := range k.optional {
		if n.next[name] == nil && fallback != "" && n.next[fallback] != nil {
			n.next[name] = n.next[fallback]
		}
	}
	if n.next[errorExit] == nil && f.onError != nil && f.onError != n {
		n.next[errorExit] = f.onError
	}
}

// checkSubflows checks subflow nodes against the subflows they call.
func checkSubflows(f *Flow, set *Set, issues *issueList) {
	for _, r := range f.subflows {
		s := scope{issues: issues, prefix: "node \"" + r.node + "\": "}
		sub, ok := set.flows[r.name]
		var subs []string
		for name, g := range set.flows {
			if g.Subflow {
				subs = append(subs, name)
			}
		}
		switch {
		case !ok:
			s.errorf(r.pos, "unknown subflow %q%s; subflows are files with kind: subflow (there are: %s)", r.name, didYouMean(r.name, subs), listNames(subs))
			continue
		case !sub.Subflow:
			s.errorf(r.pos, "%q is a flow, not a subflow; add kind: subflow to %s to call it from other flows", r.name, sub.File)
			continue
		}
		n := f.nodes[r.node]
		sf, _ := n.impl.(*subflowCall)
		if sf == nil {
			continue
		}
		sf.target = sub
		n.waits = flowWaits(sub, set, map[*Flow]bool{}) // a loop through it is not silent
		sf.checkAgainst(s, n, sub)
	}
}

// exitLabel names an exit in messages.
func exitLabel(name string) string {
	switch {
	case name == "next":
		return "next"
	case len(name) == 1:
		return fmt.Sprintf("option %q", name)
	default:
		return fmt.Sprintf("exit %q", name)
	}
}

// nodesHint is ` (did you mean "x"?; nodes are: a, b)`.
func nodesHint(got string, names []string) string {
	hint := " (nodes are: " + listNames(names) + ")"
	if s := suggest(got, names); s != "" {
		hint = fmt.Sprintf(" (did you mean %q?; nodes are: %s)", s, listNames(names))
	}
	return hint
}

// checkRefs checks names a flow uses against a registry; a nil registry
// skips the check.
func checkRefs(issues *issueList, refs []ref, reg Registry, what, fix string) {
	if reg == nil {
		return
	}
	known := registryNames(reg)
	for _, r := range refs {
		if reg.Has(r.name) {
			continue
		}
		if issues.full() {
			issues.drop(SeverityError)
			continue
		}
		s := scope{issues: issues, prefix: "node \"" + r.node + "\": "}
		switch {
		case len(known) == 0:
			s.errorf(r.pos, "unknown %s %q; %s", what, r.name, fix)
		case suggest(r.name, known) != "":
			s.errorf(r.pos, "unknown %s %q (did you mean %q?; %ss are: %s)", what, r.name, suggest(r.name, known), what, listNames(known))
		default:
			s.errorf(r.pos, "unknown %s %q (%ss are: %s); %s", what, r.name, what, listNames(known), fix)
		}
	}
}

// reachable returns the nodes reachable from start.
func reachable(start *Node) map[*Node]bool {
	seen := map[*Node]bool{start: true}
	stack := []*Node{start}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, t := range edges(n) {
			if !seen[t] {
				seen[t] = true
				stack = append(stack, t)
			}
		}
	}
	return seen
}

// checkSilentLoops reports loops made only of nodes that do not wait for
// the caller (play): a call entering one would repeat it until the step
// budget ends it. It reports whether it found any.
func checkSilentLoops(f *Flow, s scope) bool {
	found := false
	silent := func(n *Node) bool { return !n.waits }
	// Only exits a call takes in the normal course count: the error exit
	// linked by default to on_error is left out, since visit caps and the
	// step budget bound a run of failures.
	for _, comp := range components(f.order, silent) {
		first := comp[0]
		if len(comp) == 1 && !slices.Contains(successors(first, silent), first) {
			continue
		}
		in := map[*Node]bool{}
		for _, n := range comp {
			in[n] = true
		}
		cycle := shortestCycle(first, func(n *Node) bool { return in[n] })
		names := make([]string, len(cycle))
		for i, n := range cycle {
			names[i] = n.Name
		}
		found = true
		s.errorf(first.Pos, "nodes %s form a loop with no caller input in it (menu, collect, queue, record, survey); a call would go round it forever: send one of its exits to a node that waits for the caller, or a hangup node",
			strings.Join(names, " → "))
	}
	return found
}

// checkDeadEnds warns about reachable nodes from which no hangup node can
// be reached: calls there only end when the caller hangs up.
func checkDeadEnds(f *Flow, reached map[*Node]bool, s scope) {
	canEnd := map[*Node]bool{}
	for changed := true; changed; {
		changed = false
		for _, n := range f.order {
			if canEnd[n] {
				continue
			}
			if isTerminal(n) || slices.ContainsFunc(edges(n), func(t *Node) bool { return canEnd[t] }) {
				canEnd[n], changed = true, true
			}
		}
	}
	var dead []*Node
	for _, n := range f.order {
		if reached[n] && !canEnd[n] {
			dead = append(dead, n)
		}
	}
	if len(dead) == 0 {
		return
	}
	names := make([]string, len(dead))
	for i, n := range dead {
		names[i] = n.Name
	}
	s.warnf(dead[0].Pos, "no hangup node can be reached from %s; calls there end only when the caller hangs up", quoteList(names))
}

// successors returns the targets of n's exits that satisfy keep, in exit
// order, without repeats; the error exit counts only where it is wired.
func successors(n *Node, keep func(*Node) bool) []*Node {
	var out []*Node
	for _, t := range normalEdges(n) {
		if keep(t) && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// edges returns the nodes n leads to: wired exits in file order, then
// exits linked by default (fallbacks, on_error), by exit name.
func edges(n *Node) []*Node {
	var out []*Node
	wired := map[string]bool{}
	for _, x := range n.Exits {
		wired[x.Name] = true
		if t := n.next[x.Name]; t != nil {
			out = append(out, t)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(n.next)) {
		if !wired[name] {
			out = append(out, n.next[name])
		}
	}
	return out
}

// normalEdges is edges without the error exit linked by default.
func normalEdges(n *Node) []*Node {
	var out []*Node
	wired := map[string]bool{}
	for _, x := range n.Exits {
		wired[x.Name] = true
		if t := n.next[x.Name]; t != nil {
			out = append(out, t)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(n.next)) {
		if !wired[name] && name != errorExit {
			out = append(out, n.next[name])
		}
	}
	return out
}

// isTerminal reports nodes that end a call or a subflow.
func isTerminal(n *Node) bool {
	if t, ok := n.impl.(interface{ terminal() bool }); ok {
		return t.terminal()
	}
	return n.Kind == "hangup" || n.Kind == "return"
}

// components returns the strongly connected components of the graph made
// of the nodes that satisfy keep (Tarjan's algorithm), each sorted in file
// order, the components in the file order of their first node.
func components(order []*Node, keep func(*Node) bool) [][]*Node {
	index := map[*Node]int{}
	low := map[*Node]int{}
	onStack := map[*Node]bool{}
	var stack []*Node
	var out [][]*Node
	pos := map[*Node]int{}
	for i, n := range order {
		pos[n] = i
	}
	var visit func(n *Node)
	visit = func(n *Node) {
		index[n] = len(index)
		low[n] = index[n]
		stack = append(stack, n)
		onStack[n] = true
		for _, t := range successors(n, keep) {
			if _, seen := index[t]; !seen {
				visit(t)
				low[n] = min(low[n], low[t])
			} else if onStack[t] {
				low[n] = min(low[n], index[t])
			}
		}
		if low[n] != index[n] {
			return
		}
		var comp []*Node
		for {
			t := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[t] = false
			comp = append(comp, t)
			if t == n {
				break
			}
		}
		slices.SortFunc(comp, func(a, b *Node) int { return pos[a] - pos[b] })
		out = append(out, comp)
	}
	for _, n := range order {
		if _, seen := index[n]; !seen && keep(n) {
			visit(n)
		}
	}
	slices.SortFunc(out, func(a, b []*Node) int { return pos[a[0]] - pos[b[0]] })
	return out
}

// shortestCycle returns start, the nodes of a shortest path back to start
// within the nodes that satisfy in, and start again.
func shortestCycle(start *Node, in func(*Node) bool) []*Node {
	prev := map[*Node]*Node{}
	queue := []*Node{start}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, t := range successors(n, in) {
			if t == start {
				path := []*Node{start}
				for p := n; p != start; p = prev[p] {
					path = append(path, p)
				}
				path = append(path, start)
				slices.Reverse(path[1 : len(path)-1])
				return path
			}
			if _, seen := prev[t]; !seen {
				prev[t] = n
				queue = append(queue, t)
			}
		}
	}
	return []*Node{start, start}
}
