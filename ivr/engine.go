package ivr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
)

// DefaultMaxSteps is the step budget when neither RunOptions.MaxSteps nor
// the flow's defaults.max_steps says otherwise.
const DefaultMaxSteps = 200

// errorGrace is how many more nodes a call may enter on the way out through
// the flow's error exit once its step budget is spent.
const errorGrace = 20

// ErrStepBudget is wrapped by the error Run returns when a call entered more
// nodes than its step budget allows: the flow loops.
var ErrStepBudget = errors.New("step budget exhausted")

// RunOptions tune one run of a flow.
type RunOptions struct {
	// MaxSteps is the step budget: how many nodes one call may enter before
	// the engine takes the flow's error exit (and, if that loops too, ends
	// the call). Default 0: the flow's defaults.max_steps, else
	// DefaultMaxSteps (200). Retries inside a menu do not count; each node
	// entered does.
	MaxSteps int
	// Logger gets one Debug line per node entered and one Info line when
	// the run ends. Default nil: nothing is logged.
	Logger *slog.Logger
	// Services are the clock, speech engine, directory, switches and
	// observer the flow uses.
	Services Services
	// Trace, when set, is told each thing that happens, for the simulator's
	// transcript. Sensitive values are masked.
	Trace func(TraceLine)
}

// TraceLine is one line of a call's transcript.
type TraceLine struct {
	// What is "node", "exit", "prompt", "digits", "set", "lookup",
	// "queue", "error", "end".
	What string
	// Node is the node it happened in.
	Node string
	// Text says what happened.
	Text string
}

// Ending says how a run ended.
type Ending string

// Endings of a run.
const (
	// EndHangup: a hangup node ended the call (Result.HangupReason says why).
	EndHangup Ending = "hangup"
	// EndCallerHangup: the caller hung up, or the call's context ended.
	EndCallerHangup Ending = "caller_hangup"
	// EndTransfer: a blind transfer handed the call over.
	EndTransfer Ending = "transferred"
	// EndError: something failed and the flow had no error exit for it; the
	// engine hung the call up.
	EndError Ending = "error"
	// EndStepBudget: the step budget ran out; the engine hung the call up.
	EndStepBudget Ending = "step_budget"
)

// Step is one node entered by a call.
type Step struct {
	// Node is the node's name; Flow the flow it is in (a subflow's name
	// for its nodes).
	Node string
	Flow string
	// Kind is the node's type.
	Kind string
	// Exit is the exit taken ("next", a menu key, "failed", "max_wait", …;
	// a return node's outcome); empty when the call ended in this node.
	Exit string
	// Digits are the keys read in this node, in order, wrong ones included;
	// masked ("*" per key) when stored in a sensitive variable.
	Digits string
}

// Result is what happened to a call in a flow.
type Result struct {
	// Flow and Version identify the flow run.
	Flow, Version string
	// Path lists the nodes entered, in order.
	Path []string
	// Steps gives, for each node entered, the exit taken and the keys read.
	Steps []Step
	// End says how the run ended, and Node in which node.
	End  Ending
	Node string
	// HangupReason is the reason a hangup node gave, when End is EndHangup.
	HangupReason string
	// Error says what failed when the flow took an error exit or ended
	// with EndError.
	Error string
	// Queue, QueueOutcome and AgentID describe the last queue the call was
	// in, if any; AgentID is set when an agent answered.
	Queue        string
	QueueOutcome QueueOutcome
	AgentID      string
	// Language is the caller's language at the end.
	Language string
	// Vars are the flow's variables at the end, formatted, sensitive ones
	// masked.
	Vars map[string]string
	// Survey holds the answers of survey nodes by question id.
	Survey map[string]string
	// Milestones are the milestone labels of the nodes entered, in order.
	Milestones []string
	// Recordings are the files voicemail nodes wrote.
	Recordings []string
}

// visit is the state of one node entered by one call.
type visit struct {
	call         Call
	r            *runner
	fr           *frame
	node         *Node
	digits       []rune
	maskDigits   bool
	ended        Ending // the node ended the call
	hangupReason string // when ended by a hangup node
	outcome      string // a return node's outcome
	finished     bool   // the call ended inside a subflow; the result says how
	res          *Result
}

// queued records how the call left a queue.
func (v *visit) queued(queue string, r QueueResult) {
	v.res.Queue, v.res.QueueOutcome, v.res.AgentID = queue, r.Outcome, r.AgentID
	v.r.queue = QueueVars{Name: queue, Outcome: string(r.Outcome), Agent: r.AgentID}
}

// env returns the variables expressions see now.
func (v *visit) env() map[string]any { return v.r.env(v.fr) }

// play plays catalogue prompts in the caller's language. With barge-in, a
// key already waiting (put back by a collect node) cuts the prompt at once.
func (v *visit) play(ctx context.Context, ids []string, bargeIn bool) error {
	if bargeIn && len(v.r.pending) > 0 {
		return nil
	}
	names := v.resolve(ctx, ids)
	if len(names) == 0 {
		return nil
	}
	return v.call.Play(ctx, names, bargeIn)
}

// readDigit returns the next key: one a node put back first, then the
// call's.
func (v *visit) readDigit(ctx context.Context, timeout time.Duration) (rune, error) {
	if len(v.r.pending) > 0 {
		d := v.r.pending[0]
		v.r.pending = v.r.pending[1:]
		return d, nil
	}
	return v.call.ReadDigit(ctx, timeout)
}

// unread puts a key back for the next node that reads one.
func (v *visit) unread(d rune) { v.r.pending = append([]rune{d}, v.r.pending...) }

// flush drops the keys pressed so far.
func (v *visit) flush() {
	v.r.pending = nil
	v.call.FlushDigits()
}

// resolve turns catalogue prompt ids into prompt names the Call can play.
func (v *visit) resolve(ctx context.Context, ids []string) []string {
	return v.fr.flow.resolve(ctx, ids, v.r.lang, v.env(), v.r.speak, func(id, how string) {
		v.r.trace("prompt", v.node.Name, id+": "+how)
	})
}

// set assigns a variable, checking its type.
func (v *visit) set(d *varDecl, val any) error {
	x, err := d.check(val)
	if err != nil {
		return fmt.Errorf("variable %q: %w", d.name, err)
	}
	v.fr.vars[d.name] = x
	v.r.trace("set", v.node.Name, d.name+" = "+d.show(x))
	return nil
}

// runner runs one call.
type runner struct {
	call     Call
	opts     RunOptions
	log      *slog.Logger
	res      *Result
	steps    int
	budget   int
	overrun  bool // the budget ran out once; the error path is running
	lang     string
	customer CustomerVars
	queue    QueueVars
	pending  []rune // keys read from the call and put back by a node
	now      func() time.Time
	top      *frame // the flow the call started in; only it ends the call
}

// frame is one flow being run: the top flow or a subflow called from it.
type frame struct {
	flow   *Flow
	vars   map[string]any
	visits map[*Node]int
}

func newFrame(f *Flow) *frame {
	fr := &frame{flow: f, vars: make(map[string]any, len(f.vars)), visits: map[*Node]int{}}
	for name, d := range f.vars {
		fr.vars[name] = d.zero()
	}
	return fr
}

// env returns the variables of fr and the system variables.
func (r *runner) env(fr *frame) map[string]any {
	env := make(map[string]any, len(fr.vars)+7)
	maps.Copy(env, fr.vars)
	env["caller"] = r.call.Caller()
	env["called"] = r.call.Called()
	env["call_id"] = r.call.ID()
	env["lang"] = r.lang
	env["now"] = r.now()
	env["customer"] = r.customer
	env["queue"] = r.queue
	return env
}

func (r *runner) trace(what, node, text string) {
	if r.opts.Trace != nil {
		r.opts.Trace(TraceLine{What: what, Node: node, Text: text})
	}
}

func (r *runner) observe(e Event) {
	if r.opts.Services.Observer != nil {
		e.CallID = r.call.ID()
		r.opts.Services.Observer.Observe(e)
	}
}

// speak renders a text with the speech engine; without one the text is
// "played" as a prompt named "tts:<lang>:<text>" (scripted calls and the
// simulator show it).
func (r *runner) speak(ctx context.Context, text, lang string) (string, error) {
	if r.opts.Services.Speaker == nil {
		return "tts:" + lang + ":" + text, nil
	}
	return r.opts.Services.Speaker.Say(ctx, text, lang)
}

// Run walks flow for one call, from the start node until a hangup node
// ends the call, the caller hangs up, or something fails with no error
// exit to take. It never waits on its own: all waiting happens inside Call.
//
// When something fails in a node (a Call method, an expression, a lookup,
// a node's visit cap, the step budget), the call takes the node's error
// exit, else the flow's defaults.on_error; only when there is neither does
// the engine hang up with reason "error" and Run return an error (wrapping
// ErrStepBudget for the budget). The caller hanging up, or ctx ending, is
// a normal end: the error is nil and Result.End is EndCallerHangup.
func Run(ctx context.Context, flow *Flow, call Call, opts RunOptions) (Result, error) {
	if flow == nil || flow.start == nil {
		return Result{End: EndError}, errors.New("ivr: run: no flow (load flows with Load, LoadFile or LoadBytes)")
	}
	if flow.Subflow {
		return Result{End: EndError}, fmt.Errorf("ivr: run: %q is a subflow; calls start in a flow, which calls it with a subflow node", flow.Name)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("call", call.ID(), "flow", flow.Name, "flow_version", flow.Version)
	res := &Result{Flow: flow.Name, Version: flow.Version}
	r := &runner{call: call, opts: opts, log: log, res: res, now: opts.Services.Now}
	if r.now == nil {
		r.now = time.Now
	}
	r.budget = opts.MaxSteps
	if r.budget <= 0 {
		r.budget = flow.defaults.maxSteps
	}
	if r.budget <= 0 {
		r.budget = DefaultMaxSteps
	}
	r.lang = flow.set.catalogue.languages[0]

	fr := newFrame(flow)
	r.top = fr
	_, err := r.runFlow(ctx, fr)
	res.Language = r.lang
	res.Vars = make(map[string]string, len(fr.vars))
	for name, val := range fr.vars {
		res.Vars[name] = flow.vars[name].show(val)
	}
	if err != nil {
		if herr := call.Hangup(ctx, "error"); herr != nil && !isHangup(ctx, herr) {
			err = errors.Join(err, fmt.Errorf("hang up: %w", herr))
		}
		err = fmt.Errorf("ivr: flow %q: %w", flow.Name, err)
		res.Error = err.Error()
	}
	r.trace("end", res.Node, string(res.End))
	log.Info("ivr run ended", "end", res.End, "node", res.Node, "steps", len(res.Path), "reason", res.HangupReason,
		"lang", res.Language, "path", strings.Join(res.Path, ","), "milestones", strings.Join(res.Milestones, ","),
		"survey", formatMap(res.Survey), "vars", formatMap(res.Vars), "err", err)
	return *res, err
}

// runFlow runs fr's flow from its start node. It returns the outcome of a
// return node (subflows); "" when the call ended (res.End says how).
func (r *runner) runFlow(ctx context.Context, fr *frame) (string, error) {
	res := r.res
	f := fr.flow
	node := f.start
	for {
		if ctx.Err() != nil {
			res.End, res.Node = EndCallerHangup, node.Name
			return "", nil
		}
		if r.steps >= r.budget {
			err := fmt.Errorf("%w: %d nodes entered, the last %q; the flow loops", ErrStepBudget, r.steps, node.Name)
			if r.overrun || f.onError == nil {
				res.End, res.Node = EndStepBudget, node.Name
				r.observeEnd(fr, Event{Flow: f.Name, Version: f.Version, Node: node.Name, Kind: node.Kind, Exit: string(EndStepBudget)})
				return "", err
			}
			r.overrun = true
			r.budget += errorGrace
			res.Error = err.Error()
			r.log.Warn("ivr step budget spent; taking the flow's error exit", "node", node.Name, "on_error", f.onError.Name)
			r.trace("error", node.Name, err.Error())
			node = f.onError
			continue
		}
		r.steps++
		fr.visits[node]++
		res.Path = append(res.Path, node.Name)
		at := len(res.Steps) // Steps[at] is this node's, also when a subflow adds steps meanwhile
		res.Steps = append(res.Steps, Step{Node: node.Name, Flow: f.Name, Kind: node.Kind})
		if node.Milestone != "" {
			res.Milestones = append(res.Milestones, node.Milestone)
		}
		r.log.Debug("ivr node", "step", r.steps, "node", node.Name, "kind", node.Kind)
		r.trace("node", node.Name, node.Kind)
		r.observe(Event{Type: EventEnter, Flow: f.Name, Version: f.Version, Node: node.Name, Kind: node.Kind, Milestone: node.Milestone})

		v := &visit{call: r.call, r: r, fr: fr, node: node, res: res}
		var exit string
		var err error
		if node.maxVisits > 0 && fr.visits[node] > node.maxVisits {
			err = fmt.Errorf("node %q entered %d times, more than its max_visits %d", node.Name, fr.visits[node], node.maxVisits)
		} else {
			exit, err = node.impl.run(ctx, v)
		}
		digits := string(v.digits)
		if v.maskDigits {
			digits = strings.Repeat("*", len(v.digits))
		}
		if digits != "" {
			r.trace("digits", node.Name, digits)
		}
		step := Step{Node: node.Name, Flow: f.Name, Kind: node.Kind, Exit: exit, Digits: digits}
		switch {
		case err != nil && isHangup(ctx, err):
			step.Exit = ""
			res.Steps[at] = step
			res.End, res.Node = EndCallerHangup, node.Name
			r.observe(Event{Type: EventHangup, Flow: f.Name, Version: f.Version, Node: node.Name, Kind: node.Kind})
			return "", nil
		case err != nil:
			step.Exit = errorExit
			res.Steps[at] = step
			res.Error = err.Error()
			r.trace("error", node.Name, err.Error())
			target := node.next[errorExit]
			if target == nil || target == node {
				res.End, res.Node = EndError, node.Name
				if errors.Is(err, ErrStepBudget) { // spent inside a subflow
					res.End = EndStepBudget
				}
				r.observeEnd(fr, Event{Flow: f.Name, Version: f.Version, Node: node.Name, Kind: node.Kind, Exit: string(res.End)})
				return "", fmt.Errorf("node %q: %w", node.Name, err)
			}
			r.log.Warn("ivr node failed; taking its error exit", "node", node.Name, "to", target.Name, "err", err)
			r.observe(Event{Type: EventExit, Flow: f.Name, Version: f.Version, Node: node.Name, Kind: node.Kind, Exit: errorExit, Digits: step.Digits})
			node = target
			continue
		case v.finished:
			res.Steps[at] = step
			return "", nil
		case v.ended != "":
			res.Steps[at] = step
			res.End, res.Node = v.ended, node.Name
			res.HangupReason = v.hangupReason
			r.observe(Event{Type: EventEnd, Flow: f.Name, Version: f.Version, Node: node.Name, Kind: node.Kind, Exit: v.hangupReason})
			return "", nil
		case v.outcome != "":
			step.Exit = v.outcome
			res.Steps[at] = step
			r.observe(Event{Type: EventExit, Flow: f.Name, Version: f.Version, Node: node.Name, Kind: node.Kind, Exit: v.outcome, Digits: step.Digits})
			return v.outcome, nil
		}
		res.Steps[at] = step
		r.trace("exit", node.Name, exit)
		r.observe(Event{Type: EventExit, Flow: f.Name, Version: f.Version, Node: node.Name, Kind: node.Kind, Exit: exit, Digits: step.Digits})
		next := node.next[exit]
		if next == nil {
			res.End, res.Node = EndError, node.Name
			r.observeEnd(fr, Event{Flow: f.Name, Version: f.Version, Node: node.Name, Kind: node.Kind, Exit: string(EndError)})
			return "", fmt.Errorf("node %q: no exit %q (exits: %s)", node.Name, exit, strings.Join(slices.Sorted(maps.Keys(node.next)), ", "))
		}
		node = next
	}
}

// observeEnd reports that the engine ends the call in fr, unless fr is a
// subflow: its failure then goes on in the node that called it, which
// takes its error exit or ends the call itself.
func (r *runner) observeEnd(fr *frame, e Event) {
	if fr == r.top {
		e.Type = EventEnd
		r.observe(e)
	}
}

// isHangup reports whether err means the call is over: the caller hung up
// or the call's context ended.
func isHangup(ctx context.Context, err error) bool {
	return errors.Is(err, ErrHangup) || ctx.Err() != nil
}

// formatMap formats k=v pairs sorted by key, for log lines.
func formatMap(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, " ")
}
