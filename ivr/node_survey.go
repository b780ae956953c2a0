package ivr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// surveyKind: ask the caller a few questions answered by one key each,
// typically after the agent hung up (the queue node's after_agent exit).
//
//	survey:
//	  type: survey
//	  questions:
//	    - id: satisfaction
//	      prompt: survey_satisfaction     # "满意请按5 … 不满意请按1"
//	      keys: "1-5"                     # a range, or a list of keys: ["1", "2"]
//	    - id: solved
//	      prompt: survey_solved
//	      answers: {"1": solved, "2": not_solved}   # keys with labels for the record
//	  timeout: 5s                         # per question (default: defaults.timeout)
//	  retries: 1                          # per question after a wrong key or silence (default 1)
//	  invalid_prompt: invalid             # optional
//	  exits:
//	    done: thanks                      # at least one question answered
//	    skipped: goodbye                  # optional: no answer at all (as done when not wired)
//
// The answers are kept on the call's record (Result.Survey), by id: the
// key pressed, or its label.
func surveyKind() *kind {
	return &kind{
		name:     "survey",
		fields:   []string{"questions", "timeout", "retries", "invalid_prompt"},
		exits:    []string{"done"},
		optional: map[string]string{"skipped": "done"},
		waits:    true,
		compile: func(c *nodeCompiler) behaviour {
			sv := &survey{
				timeout: c.duration("timeout", c.defaults.timeout, minTimeout, maxTimeout),
				retries: c.integer("retries", 1, 0, maxRetries),
				invalid: c.prompts("invalid_prompt", false, ""),
			}
			e, ok := c.field("questions")
			if !ok {
				c.missing("questions", "questions: a list of {id, prompt, keys}")
				return sv
			}
			items, ok := listOf(c.scope, "questions", e)
			if !ok {
				return sv
			}
			ids := map[string]bool{}
			for i, item := range items {
				qs := scope{issues: c.issues, prefix: c.prefix + fmt.Sprintf("questions[%d]: ", i+1)}
				entries, ok := qs.mapEntries(item, posOr(item, e.valPos()), "the question", dupField)
				if !ok {
					continue
				}
				sub := *c
				sub.scope = qs
				qnode := *c.node
				qnode.Pos = posOr(item, e.valPos()) // a missing field is reported at its question
				sub.node = &qnode
				sub.fields = qs.fields(entries, []string{"id", "prompt", "keys", "answers"}, "survey questions")
				q := surveyQuestion{
					id:      sub.text("id", true, "id: a name for the answer in the call record"),
					prompt:  sub.prompts("prompt", true, "prompt: the question"),
					answers: map[rune]string{},
				}
				if q.id != "" && ids[q.id] {
					qs.errorf(posOr(item, e.valPos()), "question id %q is used twice; ids must be unique", q.id)
				}
				ids[q.id] = true
				ke, hasKeys := sub.field("keys")
				ae, hasAnswers := sub.field("answers")
				switch {
				case hasKeys == hasAnswers:
					qs.errorf(posOr(item, e.valPos()), "give either keys: \"1-5\" or answers: {\"1\": label, ...}")
				case hasKeys:
					surveyKeys(qs, ke, q.answers)
				default:
					surveyAnswers(qs, ae, q.answers)
				}
				sv.questions = append(sv.questions, q)
			}
			return sv
		},
	}
}

// surveyKeys reads keys: "1-5" or ["1", "2"].
func surveyKeys(s scope, e entry, out map[rune]string) {
	if sn, ok := e.val.(*ast.StringNode); ok && len(sn.Value) == 3 && sn.Value[1] == '-' {
		lo, hi := sn.Value[0], sn.Value[2]
		if lo < '0' || hi > '9' || lo >= hi {
			s.errorf(e.valPos(), "keys %q is not a range of digit keys; write \"1-5\"", sn.Value)
			return
		}
		for k := lo; k <= hi; k++ {
			out[rune(k)] = string(k)
		}
		return
	}
	keys, poss, ok := s.textList("keys", e)
	if !ok {
		return
	}
	for i, k := range keys {
		if len(k) != 1 || !strings.Contains(menuKeys, k) {
			s.errorf(poss[i], "key %q is not a phone key", k)
			continue
		}
		out[rune(k[0])] = k
	}
}

// surveyAnswers reads answers: {"1": label, …}.
func surveyAnswers(s scope, e entry, out map[rune]string) {
	entries, ok := s.mapEntries(e.val, e.keyPos, "answers", dupNoun("answer"))
	if !ok {
		return
	}
	for _, a := range entries {
		if !a.keyStr || len(a.key) != 1 || !strings.Contains(menuKeys, a.key) {
			s.errorf(a.keyPos, "answer key %s must be one quoted phone key, like \"1\"", a.key)
			continue
		}
		if label, ok := s.text("answer \""+a.key+"\"", a); ok {
			out[rune(a.key[0])] = label
		}
	}
}

type surveyQuestion struct {
	id      string
	prompt  []string
	answers map[rune]string
}

type survey struct {
	questions []surveyQuestion
	timeout   time.Duration
	retries   int
	invalid   []string
}

func (sv *survey) run(ctx context.Context, v *visit) (string, error) {
	v.flush() // keys pressed to the agent are not answers
	answered := 0
	for _, q := range sv.questions {
		var reprompt []string
		for try := 0; try <= sv.retries; try++ {
			if err := v.play(ctx, append(append([]string(nil), reprompt...), q.prompt...), true); err != nil {
				return "", err
			}
			d, err := v.readDigit(ctx, sv.timeout)
			if errors.Is(err, ErrNoInput) && ctx.Err() == nil {
				reprompt = nil
				continue
			}
			if err != nil {
				return "", err
			}
			v.digits = append(v.digits, d)
			label, ok := q.answers[d]
			if !ok {
				reprompt = sv.invalid
				continue
			}
			if v.res.Survey == nil {
				v.res.Survey = map[string]string{}
			}
			v.res.Survey[q.id] = label
			v.r.trace("survey", v.node.Name, q.id+" = "+label)
			answered++
			break
		}
	}
	if answered == 0 {
		return "skipped", nil
	}
	return "done", nil
}
