package ivr

import (
	"context"
	"fmt"
)

// branchKind: go on by the first condition that holds.
//
//	vip_check:
//	  type: branch
//	  cases:
//	    - when: customer.vip || customer.stars >= 5
//	      go: vip_queue
//	    - when: customer.brand == "GoTone" && customer.manager != ""
//	      go: manager_queue
//	  default: welcome
//
// Conditions are expressions over the call's variables (see flows/README.md),
// type-checked when the flow loads. The exits are named case1, case2, …
// and default, for figures.
func branchKind() *kind {
	return &kind{
		name:   "branch",
		fields: []string{"cases", "default"},
		compile: func(c *nodeCompiler) behaviour {
			b := &branch{}
			if e, ok := c.field("default"); ok {
				if t, ok := c.scope.text("default", e); ok {
					c.exit("default", t, e.valPos())
				}
			} else {
				c.missing("default", "default: <node> for calls no case matches")
			}
			e, ok := c.field("cases")
			if !ok {
				c.missing("cases", "cases: a list of {when: condition, go: node}")
				return b
			}
			seq, ok := listOf(c.scope, "cases", e)
			if !ok {
				return b
			}
			for i, item := range seq {
				name := fmt.Sprintf("case%d", i+1)
				cs := scope{issues: c.issues, prefix: c.prefix + "cases[" + fmt.Sprint(i+1) + "]: "}
				entries, ok := cs.mapEntries(item, posOr(item, e.valPos()), "the case", dupField)
				if !ok {
					continue
				}
				f := cs.fields(entries, []string{"when", "go"}, "cases")
				we, hasWhen := f["when"]
				ge, hasGo := f["go"]
				if !hasWhen || !hasGo {
					cs.errorf(posOr(item, e.valPos()), "each case needs when: <condition> and go: <node>")
					continue
				}
				x := compileExpression(cs, "when", textOf(we), we.valPos(), c.flow.env, c.flow.vars, exprBool())
				if t, ok := cs.text("go", ge); ok {
					c.exit(name, t, ge.valPos())
				}
				b.cases = append(b.cases, branchCase{exit: name, when: x})
			}
			return b
		},
	}
}

type branchCase struct {
	exit string
	when *expression
}

type branch struct {
	cases []branchCase
}

func (b *branch) run(_ context.Context, v *visit) (string, error) {
	env := v.env()
	for _, c := range b.cases {
		if c.when == nil {
			continue
		}
		ok, err := c.when.eval(env)
		if err != nil {
			return "", err
		}
		if ok == true {
			return c.exit, nil
		}
	}
	return "default", nil
}
