package ivr

import (
	"context"
	"maps"
	"slices"
)

// setKind: give variables values.
//
//	remember:
//	  type: set
//	  set:
//	    intent: complaint              # a literal of the variable's type (enum values are checked)
//	    attempts: "= attempts + 1"     # "=" starts an expression, type-checked at load
//	  next: complaint_queue
func setKind() *kind {
	return &kind{
		name:   "set",
		fields: []string{"set"},
		next:   true,
		compile: func(c *nodeCompiler) behaviour {
			st := &setVars{}
			e, ok := c.field("set")
			if !ok {
				c.missing("set", "set: with variable: value lines")
				return st
			}
			entries, ok := c.mapEntries(e.val, e.keyPos, "set", dupNoun("variable"))
			if !ok {
				return st
			}
			for _, ve := range entries {
				d := c.flow.vars[ve.key]
				if d == nil && slices.Contains(systemVarNames(), ve.key) {
					c.errorf(ve.keyPos, "%q is a read-only system variable (a language node sets lang); declare your own under vars:", ve.key)
					continue
				}
				if d == nil {
					names := slices.Sorted(maps.Keys(c.flow.vars))
					c.errorf(ve.keyPos, "undeclared variable %q%s; declare it under vars: (declared: %s)", ve.key, didYouMean(ve.key, names), listNames(names))
					continue
				}
				if val := c.valueField("set "+ve.key, ve, d); val != nil {
					st.assigns = append(st.assigns, assign{d, val})
				}
			}
			return st
		},
	}
}

type assign struct {
	d   *varDecl
	val *value
}

type setVars struct {
	assigns []assign
}

// run evaluates every value first, then assigns them all, so a = b, b = a
// swaps.
func (s *setVars) run(_ context.Context, v *visit) (string, error) {
	env := v.env()
	vals := make([]any, len(s.assigns))
	for i, a := range s.assigns {
		x, err := a.val.get(env)
		if err != nil {
			return "", err
		}
		vals[i] = x
	}
	for i, a := range s.assigns {
		if err := v.set(a.d, vals[i]); err != nil {
			return "", err
		}
	}
	return "next", nil
}
