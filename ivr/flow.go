package ivr

import (
	"maps"
	"slices"
)

// Flow is one compiled, validated flow. It is immutable once loaded and safe
// to run for many calls at once; a call keeps the *Flow it started with even
// when a newer Set is loaded.
type Flow struct {
	// Name is the flow's name: the file name without extension unless the
	// file says name:.
	Name string
	// File is the path the flow was loaded from.
	File string
	// Description is the file's description: text, if any.
	Description string
	// Start is the name of the first node.
	Start string
	// Version identifies the file's content (a short hash); it changes with
	// every edit.
	Version string
	// Subflow is set for a file of kind subflow: a part other flows call
	// with a subflow node; it cannot take calls on its own.
	Subflow bool

	start    *Node
	nodes    map[string]*Node
	order    []*Node // file order
	defaults flowDefaults
	onError  *Node
	vars     map[string]*varDecl
	env      map[string]any // zero values of every variable, for type checks
	params   []string       // subflow inputs (also in vars), sorted
	outcomes []string       // subflow outcomes

	prompts       []ref
	queues        []ref
	calendars     []ref
	announcements []ref
	subflows      []ref
	languages     []ref

	set      *Set                 // the set the flow was loaded in
	texts    map[string]*template // spoken text by prompt id + "\x00" + language
	warnings []Issue
}

// ref is a name a flow uses (prompt, queue) and where it is used.
type ref struct {
	name string
	pos  Pos
	node string
	// announced: a prompt of an announcement the node plays; an unknown
	// one is reported in the announcements file, not again here.
	announced bool
}

// Node returns the node called name.
func (f *Flow) Node(name string) (*Node, bool) {
	n, ok := f.nodes[name]
	return n, ok
}

// Nodes returns the flow's nodes in file order.
func (f *Flow) Nodes() []*Node {
	return slices.Clone(f.order)
}

// Prompts returns the names of all prompts the flow can play, sorted.
func (f *Flow) Prompts() []string { return refNames(f.prompts) }

// Queues returns the names of all queues the flow can put a call in, sorted.
func (f *Flow) Queues() []string { return refNames(f.queues) }

// Warnings returns the problems found while loading the flow that did not
// block it (for example unreachable nodes).
func (f *Flow) Warnings() []Issue { return slices.Clone(f.warnings) }

func refNames(rs []ref) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Node is one step of a flow.
type Node struct {
	// Name is the node's name in the file.
	Name string
	// Kind is the node's type: "play", "menu", "queue" or "hangup".
	Kind string
	// Description is the node's description: text, if any.
	Description string
	// Pos is where the node's name stands in the file.
	Pos Pos
	// Exits are the node's ways out, in file order: "next", a menu's option
	// keys ("1", "*"), and named exits such as "failed" or "max_wait".
	Exits []Exit

	// Milestone is the node's business label for funnels ("heard_balance").
	Milestone string

	impl      behaviour
	waits     bool // the node waits for the caller (menu, queue)
	maxVisits int  // 0: no cap
	next      map[string]*Node
}

// Exit is one way out of a node.
type Exit struct {
	// Name is "next", a menu key such as "1", or a named exit such as
	// "failed", "after_agent", "max_wait", "no_agents".
	Name string
	// Target is the name of the node the call goes to.
	Target string
	// Pos is where the target is named in the file.
	Pos Pos
}

// Set is every flow of a flows directory, loaded and validated together.
// It is immutable; to pick up edits, Load a new Set and swap it in.
type Set struct {
	flows         map[string]*Flow
	catalogue     *catalogue
	calendars     map[string]*Calendar
	announcements map[string]*Announcement
	version       string
	warnings      []Issue
}

// Flow returns the flow called name.
func (s *Set) Flow(name string) (*Flow, bool) {
	f, ok := s.flows[name]
	return f, ok
}

// Names returns the names of the flows that take calls (not subflows),
// sorted.
func (s *Set) Names() []string {
	out := make([]string, 0, len(s.flows))
	for n, f := range s.flows {
		if !f.Subflow {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// Languages returns the languages of the prompt catalogue, the default
// first.
func (s *Set) Languages() []string { return slices.Clone(s.catalogue.languages) }

// Texts returns every constant text of the prompt catalogue with its
// language, for a speech engine to render ahead of the first call.
func (s *Set) Texts() []SpokenText { return s.catalogue.texts() }

// Announcements returns the announcements, by name.
func (s *Set) Announcements() map[string]*Announcement { return maps.Clone(s.announcements) }

// Calendars returns the calendars, by name.
func (s *Set) Calendars() map[string]*Calendar { return maps.Clone(s.calendars) }

// Version identifies the content of the whole set (a short hash of every
// flow's name and version); it changes whenever any flow file changes.
func (s *Set) Version() string { return s.version }

// Warnings returns the warnings of all flows, sorted by file and position.
func (s *Set) Warnings() []Issue { return slices.Clone(s.warnings) }
