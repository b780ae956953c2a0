package ivr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// DefaultMaxSteps is the step budget when RunOptions.MaxSteps is 0.
const DefaultMaxSteps = 200

// ErrStepBudget is wrapped by the error Run returns when a call entered more
// nodes than its step budget allows: the flow loops.
var ErrStepBudget = errors.New("step budget exhausted")

// RunOptions tune one run of a flow.
type RunOptions struct {
	// MaxSteps is the step budget: how many nodes one call may enter before
	// the engine ends it as looping. Default 0 means DefaultMaxSteps (200).
	// Retries inside a menu do not count; each node entered does.
	MaxSteps int
	// Logger gets one Debug line per node entered and one when the run
	// ends. Default nil: nothing is logged.
	Logger *slog.Logger
}

// Ending says how a run ended.
type Ending string

// Endings of a run.
const (
	// EndHangup: a hangup node ended the call (Result.HangupReason says why).
	EndHangup Ending = "hangup"
	// EndCallerHangup: the caller hung up, or the call's context ended.
	EndCallerHangup Ending = "caller_hangup"
	// EndError: a Call method failed; the engine hung the call up.
	EndError Ending = "error"
	// EndStepBudget: the step budget ran out; the engine hung the call up.
	EndStepBudget Ending = "step_budget"
)

// Step is one node entered by a call.
type Step struct {
	// Node is the node's name.
	Node string
	// Kind is the node's type.
	Kind string
	// Exit is the exit taken ("next", a menu key, "failed", "max_wait", …);
	// empty when the call ended in this node.
	Exit string
	// Digits are the keys read in this node, in order, wrong ones included.
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
	// End says how the run ended.
	End Ending
	// HangupReason is the reason a hangup node gave, when End is EndHangup.
	HangupReason string
	// Queue, QueueOutcome and AgentID describe the last queue the call was
	// in, if any; AgentID is set when an agent answered.
	Queue        string
	QueueOutcome QueueOutcome
	AgentID      string
}

// visit is the state of one node entered by one call.
type visit struct {
	call         Call
	digits       []rune
	ended        bool   // the node ended the call
	hangupReason string // when ended
	res          *Result
}

// queued records how the call left a queue.
func (v *visit) queued(queue string, r QueueResult) {
	v.res.Queue, v.res.QueueOutcome, v.res.AgentID = queue, r.Outcome, r.AgentID
}

// Run walks flow for one call, from the start node until a hangup node
// ends the call, the caller hangs up, a Call method fails or the step budget
// runs out. It never waits on its own: all waiting happens inside Call.
//
// The error is nil when the flow or the caller ended the call (the caller
// hanging up, or ctx ending, is a normal end: Result.End is
// EndCallerHangup). On a failure or an exhausted budget, Run hangs the call
// up with reason "error" and returns an error (wrapping ErrStepBudget for
// the budget).
func Run(ctx context.Context, flow *Flow, call Call, opts RunOptions) (Result, error) {
	if flow == nil || flow.start == nil {
		return Result{End: EndError}, errors.New("ivr: run: no flow (load flows with Load, LoadFile or LoadBytes)")
	}
	maxSteps := opts.MaxSteps
	if maxSteps <= 0 {
		maxSteps = DefaultMaxSteps
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("call", call.ID(), "flow", flow.Name, "flow_version", flow.Version)

	res := Result{Flow: flow.Name, Version: flow.Version}
	finish := func(end Ending, err error) (Result, error) {
		res.End = end
		if err != nil {
			if herr := call.Hangup(ctx, "error"); herr != nil && !isHangup(ctx, herr) {
				err = errors.Join(err, fmt.Errorf("hang up: %w", herr))
			}
			err = fmt.Errorf("ivr: flow %q: %w", flow.Name, err)
		}
		log.Debug("ivr run ended", "end", end, "steps", len(res.Path), "err", err)
		return res, err
	}

	for node := flow.start; ; {
		if ctx.Err() != nil {
			return finish(EndCallerHangup, nil)
		}
		if len(res.Path) >= maxSteps {
			return finish(EndStepBudget, fmt.Errorf("%w: %d nodes entered, the last %q; the flow loops", ErrStepBudget, len(res.Path), node.Name))
		}
		res.Path = append(res.Path, node.Name)
		log.Debug("ivr node", "step", len(res.Path), "node", node.Name, "kind", node.Kind)

		v := &visit{call: call, res: &res}
		exit, err := node.impl.run(ctx, v)
		res.Steps = append(res.Steps, Step{Node: node.Name, Kind: node.Kind, Exit: exit, Digits: string(v.digits)})
		switch {
		case err != nil && isHangup(ctx, err):
			return finish(EndCallerHangup, nil)
		case err != nil:
			return finish(EndError, fmt.Errorf("node %q: %w", node.Name, err))
		case v.ended:
			res.HangupReason = v.hangupReason
			return finish(EndHangup, nil)
		}
		next := node.next[exit]
		if next == nil {
			return finish(EndError, fmt.Errorf("node %q: no exit %q", node.Name, exit))
		}
		node = next
	}
}

// isHangup reports whether err means the call is over: the caller hung up
// or the call's context ended.
func isHangup(ctx context.Context, err error) bool {
	return errors.Is(err, ErrHangup) || ctx.Err() != nil
}
