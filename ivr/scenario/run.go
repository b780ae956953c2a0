package scenario

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"kefu/ivr"
)

// Report is the result of running the cases of one file.
type Report struct {
	// File is the scenario file run.
	File *File
	// Cases are the results of its cases, in file order.
	Cases []CaseReport
}

// Failed returns how many cases failed.
func (r Report) Failed() int {
	n := 0
	for _, c := range r.Cases {
		if !c.Passed() {
			n++
		}
	}
	return n
}

// CaseReport is the result of one case.
type CaseReport struct {
	// Case is the case run.
	Case *Case
	// Outcome is what happened; nil when the call could not be set up.
	Outcome *Outcome
	// Failures say what differed from the expectations; none when the
	// case passed.
	Failures []string
}

// Passed reports whether the case met every expectation.
func (c CaseReport) Passed() bool { return len(c.Failures) == 0 }

// Run runs every case of f against the flows of set, one after the other.
func Run(set *ivr.Set, f *File) Report {
	r := Report{File: f}
	for _, c := range f.Cases {
		cr := CaseReport{Case: c}
		out, err := Simulate(context.Background(), set, f.Flow, c.Setup, nil)
		if err != nil {
			cr.Failures = []string{err.Error()}
		} else {
			cr.Outcome = out
			cr.Failures = check(set, c.Expect, out)
		}
		r.Cases = append(r.Cases, cr)
	}
	return r
}

// check compares an outcome with the expectations and says what differs.
func check(set *ivr.Set, x Expect, out *Outcome) []string {
	var fails []string
	fail := func(format string, args ...any) { fails = append(fails, fmt.Sprintf(format, args...)) }
	res := out.Result
	nodes, prompts := known(set, out)

	for _, l := range []struct {
		key   string
		names []string
	}{{"path", x.Path}, {"path_includes", x.PathIncludes}, {"path_ends_with", x.PathEndsWith}, {"path_excludes", x.PathExcludes}, {"node", nonEmpty(x.Node)}} {
		for _, n := range l.names {
			if !nodes[n] {
				fail("%s: no node %q in flow %s%s; check the name", l.key, n, out.Flow.Name, suggest(n, nodes))
			}
		}
	}
	for _, l := range []struct {
		key   string
		names []string
	}{{"prompts_include", x.PromptsInclude}, {"prompts_exclude", x.PromptsExclude}} {
		for _, p := range l.names {
			if !prompts[p] {
				fail("%s: flow %s plays no prompt %q%s; check the name", l.key, out.Flow.Name, p, suggest(p, prompts))
			}
		}
	}

	errorExpected := x.End == ivr.EndError || x.End == ivr.EndStepBudget || x.Error != ""
	if out.Err != nil && !errorExpected {
		fail("the run failed: %v (if that is what the case checks, expect end: %s)", out.Err, res.End)
	}
	path := res.Path
	if x.Path != nil && !slices.Equal(path, x.Path) {
		fail("path: got %s, want %s%s", arrow(path), arrow(x.Path), firstDiff(path, x.Path))
	}
	if i := inOrder(path, x.PathIncludes, eq); i >= 0 {
		fail("path_includes: %q not entered (in the order %s); path was %s", x.PathIncludes[i], arrow(x.PathIncludes), arrow(path))
	}
	if len(x.PathEndsWith) > 0 && (len(path) < len(x.PathEndsWith) || !slices.Equal(path[len(path)-len(x.PathEndsWith):], x.PathEndsWith)) {
		fail("path_ends_with: path %s does not end with %s", arrow(path), arrow(x.PathEndsWith))
	}
	for _, n := range x.PathExcludes {
		if slices.Contains(path, n) {
			fail("path_excludes: %q was entered; path was %s", n, arrow(path))
		}
	}
	if x.End != "" && res.End != x.End {
		fail("end: got %s in node %s, want %s%s", res.End, res.Node, x.End, errorNote(res))
	}
	if x.Node != "" && res.Node != x.Node {
		fail("node: the call ended in %s (%s), want %s", res.Node, res.End, x.Node)
	}
	if x.Reason != "" && res.HangupReason != x.Reason {
		fail("reason: got %q, want %q", res.HangupReason, x.Reason)
	}
	if x.Error != "" && !strings.Contains(res.Error, x.Error) {
		if res.Error == "" {
			fail("error: nothing failed, want an error containing %q", x.Error)
		} else {
			fail("error: got %q, want it to contain %q", res.Error, x.Error)
		}
	}
	if i := inOrder(out.Prompts, x.PromptsInclude, eq); i >= 0 {
		fail("prompts_include: %q not played (in the order %s); played %s", x.PromptsInclude[i], strings.Join(x.PromptsInclude, ", "), listOrNone(out.Prompts))
	}
	for _, p := range x.PromptsExclude {
		if slices.Contains(out.Prompts, p) {
			fail("prompts_exclude: %q was played", p)
		}
	}
	said := make([]string, len(out.Said))
	for i, s := range out.Said {
		said[i] = s.Text
	}
	if i := inOrder(said, x.Says, strings.Contains); i >= 0 {
		fail("says: no text containing %q (in the order given); said %s", x.Says[i], quoteList(said))
	}
	checkQueue(x, out, fail)
	for _, name := range slices.Sorted(maps.Keys(x.Vars)) {
		got, ok := res.Vars[name]
		switch {
		case !ok:
			fail("vars: flow %s has no variable %q (variables: %s)", out.Flow.Name, name, listOrNone(slices.Sorted(maps.Keys(res.Vars))))
		case got != x.Vars[name]:
			fail("vars: %s = %q, want %q", name, got, x.Vars[name])
		}
	}
	for _, id := range slices.Sorted(maps.Keys(x.Survey)) {
		got, ok := res.Survey[id]
		switch {
		case !ok:
			fail("survey: no answer to %q (answers: %s)", id, showMap(res.Survey))
		case got != x.Survey[id]:
			fail("survey: %s = %q, want %q", id, got, x.Survey[id])
		}
	}
	if x.Language != "" && res.Language != x.Language {
		fail("language: got %s, want %s", res.Language, x.Language)
	}
	if x.Milestones != nil && !slices.Equal(res.Milestones, x.Milestones) {
		fail("milestones: got %s, want %s", listOrNone(res.Milestones), listOrNone(x.Milestones))
	}
	if i := inOrder(out.Transcript, x.Transcript, strings.Contains); i >= 0 {
		fail("transcript_include: no line containing %q (in the order given); the caller's side was:\n    %s", x.Transcript[i], strings.Join(out.Transcript, "\n    "))
	}
	if len(out.UnusedKeys) > 0 {
		fail("keys not used: %s (the call ended in %s before the caller pressed them); remove them or fix the flow", strings.Join(out.UnusedKeys, " "), res.Node)
	}
	if len(out.UnusedQueue) > 0 {
		var left []string
		for _, q := range out.UnusedQueue {
			left = append(left, string(q.Outcome))
		}
		fail("queue outcomes not used: %s (only %d queue nodes ran)", strings.Join(left, " "), len(out.QueueRequests))
	}
	return fails
}

// checkQueue checks the last queue request and how it ended.
func checkQueue(x Expect, out *Outcome, fail func(string, ...any)) {
	var names []string
	for _, q := range out.QueueRequests {
		names = append(names, q.Queue)
	}
	if x.Queues != nil && !slices.Equal(names, x.Queues) {
		fail("queues: got %s, want %s", listOrNone(names), listOrNone(x.Queues))
	}
	if x.Queue == nil {
		return
	}
	if len(out.QueueRequests) == 0 {
		fail("queue: no queue node ran")
		return
	}
	last := out.QueueRequests[len(out.QueueRequests)-1]
	got := map[string]string{
		"name": last.Queue, "tier": last.Tier, "preferred_agent": last.PreferredAgent, "music": last.Music,
		"outcome": string(out.Result.QueueOutcome), "agent": out.Result.AgentID,
	}
	for _, k := range slices.Sorted(maps.Keys(x.Queue)) {
		if got[k] != x.Queue[k] {
			fail("queue: %s = %q, want %q", k, got[k], x.Queue[k])
		}
	}
}

// known returns the nodes and prompts expectations may name: those of the
// flow and of every flow the call entered (subflows).
func known(set *ivr.Set, out *Outcome) (nodes, prompts map[string]bool) {
	nodes, prompts = map[string]bool{}, map[string]bool{}
	flows := map[string]bool{out.Flow.Name: true}
	for _, st := range out.Result.Steps {
		flows[st.Flow] = true
	}
	for name := range flows {
		f, ok := set.Flow(name)
		if !ok {
			continue
		}
		for _, n := range f.Nodes() {
			nodes[n.Name] = true
		}
		for _, p := range f.Prompts() {
			prompts[p] = true
		}
	}
	for _, p := range out.Prompts {
		prompts[p] = true
	}
	return nodes, prompts
}

// inOrder returns the index of the first of want that is not matched, in
// order, by got; -1 when all are.
func inOrder(got, want []string, match func(g, w string) bool) int {
	i := 0
	for _, g := range got {
		if i < len(want) && match(g, want[i]) {
			i++
		}
	}
	if i < len(want) {
		return i
	}
	return -1
}

func eq(a, b string) bool { return a == b }

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// arrow formats a path: "welcome → main_menu".
func arrow(path []string) string {
	if len(path) == 0 {
		return "(nothing)"
	}
	return strings.Join(path, " → ")
}

// firstDiff says where two paths part.
func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf(" (step %d: got %s, want %s)", i+1, got[i], want[i])
		}
	}
	if len(got) < len(want) {
		return fmt.Sprintf(" (the call ended before %s)", want[len(got)])
	}
	return fmt.Sprintf(" (the call went on to %s)", got[len(want)])
}

func errorNote(res ivr.Result) string {
	if res.Error != "" {
		return "; error: " + res.Error
	}
	return ""
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func quoteList(s []string) string {
	if len(s) == 0 {
		return "nothing"
	}
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

func showMap(m map[string]string) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ", ")
}

// suggest returns ` (did you mean "x"?)` for a name close to a known one.
func suggest(got string, known map[string]bool) string {
	best, bestD := "", 3
	for _, k := range slices.Sorted(maps.Keys(known)) {
		if d := distance(got, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the edit distance of a and b.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
