package ivr

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// subflowKind: run a reusable part (a file with kind: subflow) and go on by
// the outcome it returns.
//
//	verify:
//	  type: subflow
//	  flow: verify_account           # the subflow's name
//	  with:                          # its params (values or "= expressions")
//	    account: "= account_no"
//	  output:                        # my variable: the subflow's variable, copied back on return
//	    verified_account: account
//	  exits:                         # one per outcome the subflow declares
//	    verified: balance
//	    failed: agent
//
// The subflow has its own variables; only params go in and only output
// comes back. It runs in the same call: the caller, language, customer and
// step budget are shared.
func subflowKind() *kind {
	return &kind{
		name:     "subflow",
		fields:   []string{"flow", "with", "output"},
		anyExits: true,
		compile: func(c *nodeCompiler) behaviour {
			sf := &subflowCall{name: c.setRef("flow", &c.flow.subflows, "flow: <name> naming a subflow"), pos: c.node.Pos}
			if e, ok := c.field("with"); ok {
				sf.with, sf.withPos = e, true
			}
			if e, ok := c.field("output"); ok {
				entries, ok := c.mapEntries(e.val, e.keyPos, "output", dupField)
				if ok {
					for _, x := range entries {
						d := c.flow.vars[x.key]
						if d == nil {
							c.errorf(x.keyPos, "output: undeclared variable %q%s; declare it under vars:", x.key, didYouMean(x.key, declaredNames(c.flow.vars)))
							continue
						}
						if from, ok := c.scope.text("output "+x.key, x); ok {
							sf.outputs = append(sf.outputs, subflowOutput{to: d, from: from, pos: x.valPos()})
						}
					}
				}
			}
			sf.compiler = *c
			return sf
		},
	}
}

type subflowOutput struct {
	to   *varDecl
	from string
	pos  Pos
}

type subflowCall struct {
	name     string
	pos      Pos
	with     entry
	withPos  bool
	outputs  []subflowOutput
	compiler nodeCompiler // kept to compile with: against the subflow's params once it is known

	target *Flow
	params []assign
}

// checkAgainst checks the node against the subflow it calls: exits match
// its outcomes, with: names its params with fitting values, output names
// its variables with matching types.
func (sf *subflowCall) checkAgainst(s scope, n *Node, sub *Flow) {
	wired := map[string]bool{}
	for _, x := range n.Exits {
		wired[x.Name] = true
		if x.Name != errorExit && !slices.Contains(sub.outcomes, x.Name) {
			s.errorf(x.Pos, "subflow %q has no outcome %q%s; its outcomes are: %s", sub.Name, x.Name, didYouMean(x.Name, sub.outcomes), strings.Join(sub.outcomes, ", "))
		}
	}
	var missing []string
	for _, o := range sub.outcomes {
		if !wired[o] {
			missing = append(missing, o)
		}
	}
	if len(missing) > 0 {
		s.errorf(n.Pos, "outcome %s of subflow %q not wired; add under exits: a node for each of %s", quoteList(missing), sub.Name, strings.Join(sub.outcomes, ", "))
	}
	given := map[string]bool{}
	if sf.withPos {
		c := sf.compiler
		c.scope = s
		entries, ok := s.mapEntries(sf.with.val, sf.with.keyPos, "with", dupField)
		if ok {
			for _, x := range entries {
				if !slices.Contains(sub.params, x.key) {
					s.errorf(x.keyPos, "subflow %q has no param %q%s; its params are: %s", sub.Name, x.key, didYouMean(x.key, sub.params), listNames(sub.params))
					continue
				}
				given[x.key] = true
				if val := c.valueField("with "+x.key, x, sub.vars[x.key]); val != nil {
					sf.params = append(sf.params, assign{d: sub.vars[x.key], val: val})
				}
			}
		}
	}
	for _, p := range sub.params {
		if !given[p] && sub.vars[p].def == nil {
			s.errorf(n.Pos, "subflow %q needs param %q; give it under with: (or give the param a default in the subflow)", sub.Name, p)
		}
	}
	for _, o := range sf.outputs {
		d := sub.vars[o.from]
		switch {
		case d == nil:
			s.errorf(o.pos, "subflow %q has no variable %q%s", sub.Name, o.from, didYouMean(o.from, slices.Sorted(maps.Keys(sub.vars))))
		case d.typ != o.to.typ:
			s.errorf(o.pos, "subflow variable %q is %s but %q is %s; types must match", o.from, d.typ, o.to.name, o.to.typ)
		case d.sensitive && !o.to.sensitive:
			s.warnf(o.pos, "subflow variable %q is sensitive but %q is not, so its value would show in logs, traces and records; declare %q with sensitive: true", o.from, o.to.name, o.to.name)
		}
	}
}

func (sf *subflowCall) run(ctx context.Context, v *visit) (string, error) {
	if sf.target == nil {
		return "", errors.New("subflow " + sf.name + " is not loaded")
	}
	env := v.env()
	sub := newFrame(sf.target)
	for _, p := range sf.params {
		x, err := p.val.get(env)
		if err != nil {
			return "", err
		}
		cx, err := p.d.check(x)
		if err != nil {
			return "", fmt.Errorf("param %q: %w", p.d.name, err)
		}
		sub.vars[p.d.name] = cx
	}
	v.r.trace("subflow", v.node.Name, "enter "+sf.target.Name)
	outcome, err := v.r.runFlow(ctx, sub)
	if err != nil {
		return "", fmt.Errorf("subflow %q: %w", sf.target.Name, err)
	}
	if outcome == "" { // the call ended inside the subflow
		v.finished = true
		return "", nil
	}
	for _, o := range sf.outputs {
		x := sub.vars[o.from]
		if x == "" { // never set in the subflow (digits and enum variables start empty): unset here too
			v.fr.vars[o.to.name] = ""
			continue
		}
		if err := v.set(o.to, x); err != nil {
			return "", err
		}
	}
	v.r.trace("subflow", v.node.Name, "returned "+outcome)
	return outcome, nil
}

// returnKind: end a subflow with one of its outcomes.
//
//	done:
//	  type: return
//	  outcome: verified
func returnKind() *kind {
	return &kind{
		name:   "return",
		fields: []string{"outcome"},
		compile: func(c *nodeCompiler) behaviour {
			r := &returnNode{}
			e, ok := c.field("outcome")
			if !ok {
				c.missing("outcome", "outcome: <name> of one of the subflow's outcomes")
				return r
			}
			if o, ok := c.scope.text("outcome", e); ok {
				r.outcome = o
				switch {
				case !c.flow.Subflow:
					c.errorf(c.node.Pos, "return nodes are only for subflows (kind: subflow); end a flow with a hangup node")
				case !slices.Contains(c.flow.outcomes, o):
					c.errorf(e.valPos(), "outcome %q is not declared%s; the subflow's outcomes are: %s", o, didYouMean(o, c.flow.outcomes), strings.Join(c.flow.outcomes, ", "))
				}
			}
			return r
		},
	}
}

type returnNode struct {
	outcome string
}

func (r *returnNode) run(_ context.Context, v *visit) (string, error) {
	v.outcome = r.outcome
	return "", nil
}

// flowWaits reports whether f has a node that waits for the caller,
// counting the subflows it calls; seen guards against circles (reported
// by checkSubflowCycles).
func flowWaits(f *Flow, set *Set, seen map[*Flow]bool) bool {
	if seen[f] {
		return false
	}
	seen[f] = true
	for _, n := range f.order {
		if n.waits {
			return true
		}
		if sf, ok := n.impl.(*subflowCall); ok {
			if g := set.flows[sf.name]; g != nil && g.Subflow && flowWaits(g, set, seen) {
				return true
			}
		}
	}
	return false
}

// checkSubflowCycles reports subflows that call themselves, directly or
// through others: a call would recurse until its step budget ran out.
func checkSubflowCycles(set *Set, issuesOf func(file string) *issueList) {
	calls := map[string][]ref{}
	for name, f := range set.flows {
		calls[name] = f.subflows
	}
	state := map[string]int{} // 0 new, 1 on the path, 2 done
	var path []string
	var visit func(name string) bool
	visit = func(name string) bool {
		state[name] = 1
		path = append(path, name)
		for _, r := range calls[name] {
			if g, ok := set.flows[r.name]; !ok || !g.Subflow {
				continue // reported by checkSubflows
			}
			switch state[r.name] {
			case 1:
				i := slices.Index(path, r.name)
				cycle := append(slices.Clone(path[i:]), r.name)
				f := set.flows[name]
				scope{issues: issuesOf(f.File), prefix: "node \"" + r.node + "\": "}.errorf(r.pos, "subflows call each other in a circle (%s); break the circle", strings.Join(cycle, " → "))
				return true
			case 0:
				if visit(r.name) {
					return true
				}
			}
		}
		path = path[:len(path)-1]
		state[name] = 2
		return false
	}
	for _, name := range slices.Sorted(maps.Keys(set.flows)) {
		if state[name] == 0 && visit(name) {
			return
		}
	}
}
