package ivr

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Pos is a position in a flow file: 1-based line and column. The zero Pos
// means "the file as a whole".
type Pos struct {
	Line, Col int
}

// String formats p as "line:col" ("" for the zero Pos).
func (p Pos) String() string {
	if p.Line == 0 {
		return ""
	}
	return fmt.Sprintf("%d:%d", p.Line, p.Col)
}

// Severity says whether an Issue blocks loading.
type Severity int

// Severities of an Issue.
const (
	// SeverityError blocks loading: a set with an error never becomes active.
	SeverityError Severity = iota
	// SeverityWarning is reported but does not block loading.
	SeverityWarning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Issue is one problem found while loading flows. Msg says what is wrong and
// how to fix it.
type Issue struct {
	File     string
	Line     int // 1-based; 0 when the issue concerns the whole file or directory
	Col      int // 1-based; 0 when unknown
	Severity Severity
	Msg      string
}

// String formats the issue the way compilers do, one line:
//
//	flows/main.yaml:14:11: node "main_menu": option "1" goes to unknown node "biling" ...
//	flows/main.yaml:30:3: warning: node "old" is never reached ...
func (i Issue) String() string {
	var b strings.Builder
	b.WriteString(i.File)
	if i.Line > 0 {
		fmt.Fprintf(&b, ":%d", i.Line)
		if i.Col > 0 {
			fmt.Fprintf(&b, ":%d", i.Col)
		}
	}
	b.WriteString(": ")
	if i.Severity == SeverityWarning {
		b.WriteString("warning: ")
	}
	b.WriteString(i.Msg)
	return b.String()
}

// LoadError is returned by Load, LoadFile and LoadBytes when a flow file has
// at least one error. Issues holds every problem found, errors and warnings,
// sorted by file and position, so a CLI can print them one per line and a
// server can log them.
type LoadError struct {
	Issues []Issue
}

// Error lists all issues, one per line.
func (e *LoadError) Error() string {
	lines := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		lines[i] = is.String()
	}
	return strings.Join(lines, "\n")
}

// Errors returns the issues of severity error.
func (e *LoadError) Errors() []Issue {
	return filterIssues(e.Issues, SeverityError)
}

// Warnings returns the issues of severity warning.
func (e *LoadError) Warnings() []Issue {
	return filterIssues(e.Issues, SeverityWarning)
}

func filterIssues(all []Issue, s Severity) []Issue {
	var out []Issue
	for _, is := range all {
		if is.Severity == s {
			out = append(out, is)
		}
	}
	return out
}

func hasErrors(all []Issue) bool {
	return slices.ContainsFunc(all, func(i Issue) bool { return i.Severity == SeverityError })
}

// sortIssues orders issues by file, line and column, errors before
// warnings at the same place, keeping the order in
// which they were found for issues at the same place.
func sortIssues(all []Issue) {
	slices.SortStableFunc(all, func(a, b Issue) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Col, b.Col),
			cmp.Compare(a.Severity, b.Severity),
		)
	})
}

// maxIssues bounds the issues reported per file: past it, a file is too
// broken for more detail to help, and building hints gets costly.
const maxIssues = 100

// issueList collects the issues of one file.
type issueList struct {
	file        string
	list        []Issue
	dropped     int // issues not recorded past maxIssues
	droppedErrs int // how many of them were errors
}

// full reports that further issues would be dropped; callers check it
// before building costly messages.
func (l *issueList) full() bool { return len(l.list) >= maxIssues }

// drop counts an issue not recorded.
func (l *issueList) drop(sev Severity) {
	l.dropped++
	if sev == SeverityError {
		l.droppedErrs++
	}
}

// done returns the issues, sorted, with a note of any dropped (an error
// when any dropped issue was one).
func (l *issueList) done() []Issue {
	if l.dropped > 0 {
		sev := SeverityWarning
		if l.droppedErrs > 0 {
			sev = SeverityError
		}
		l.list = append(l.list, Issue{File: l.file, Severity: sev,
			Msg: fmt.Sprintf("%d more problems not shown; fix these first and check again", l.dropped)})
		l.dropped, l.droppedErrs = 0, 0
	}
	sortIssues(l.list)
	return l.list
}

func (l *issueList) add(sev Severity, p Pos, format string, args ...any) {
	if l.full() {
		l.drop(sev)
		return
	}
	l.list = append(l.list, Issue{
		File: l.file, Line: p.Line, Col: p.Col, Severity: sev,
		Msg: fmt.Sprintf(format, args...),
	})
}

// scope reports issues with a common prefix such as `node "main_menu": `.
type scope struct {
	issues *issueList
	prefix string
}

func (s scope) errorf(p Pos, format string, args ...any) {
	s.issues.add(SeverityError, p, s.prefix+format, args...)
}

func (s scope) warnf(p Pos, format string, args ...any) {
	s.issues.add(SeverityWarning, p, s.prefix+format, args...)
}

// suggest returns the candidate closest to got, or "" when none is close
// enough to be a likely typo.
func suggest(got string, candidates []string) string {
	best, bestD := "", -1
	lg := strings.ToLower(got)
	for _, c := range candidates {
		if c == got {
			continue
		}
		d := editDistance(lg, strings.ToLower(c))
		limit := max(1, len([]rune(c))/3)
		if d > limit {
			continue
		}
		if bestD < 0 || d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	return best
}

// didYouMean returns ` (did you mean "x"?)` or "".
func didYouMean(got string, candidates []string) string {
	if s := suggest(got, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

// maxListed bounds how many names a message lists.
const maxListed = 20

// listNames formats names sorted and comma separated, shortening long lists.
func listNames(names []string) string {
	if len(names) == 0 {
		return "(none)"
	}
	s := slices.Clone(names)
	slices.Sort(s)
	s = slices.Compact(s)
	if len(s) > maxListed {
		more := len(s) - maxListed
		return strings.Join(s[:maxListed], ", ") + fmt.Sprintf(", … (%d more)", more)
	}
	return strings.Join(s, ", ")
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
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
