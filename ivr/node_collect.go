package ivr

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// maxCollectDigits bounds a collect node's max_digits.
const maxCollectDigits = 32

// collectKind: read several keys (an account number, a PIN) into a
// variable, with retries.
//
//	account:
//	  type: collect
//	  prompt: enter_account          # played with barge-in
//	  min_digits: 8                  # default 1
//	  max_digits: 11                 # entry ends by itself at this many keys
//	  terminator: "#"                # ends the entry early (default "#"; "" for none)
//	  timeout: 5s                    # for the first key (default: defaults.timeout)
//	  inter_digit_timeout: 3s        # between keys (default: defaults.inter_digit_timeout, 3s)
//	  pattern: '^1[3-9][0-9]{9}$'    # optional regular expression the keys must match
//	  retries: 2                     # tries after the first (default: defaults.retries)
//	  invalid_prompt: invalid        # optional, before a retry after a wrong entry
//	  no_input_prompt: no_input      # optional, before a retry after silence
//	  store: account_no              # a declared digits, string or int variable
//	  exits:
//	    ok: lookup_balance
//	    failed: agent                # retries used up
//
// A timeout between keys ends the entry, which is then checked. Keys typed
// ahead during earlier prompts count. When the variable is sensitive, the
// keys are masked in every log, trace and record.
func collectKind() *kind {
	return &kind{
		name: "collect",
		fields: []string{"prompt", "min_digits", "max_digits", "terminator", "timeout", "inter_digit_timeout",
			"pattern", "retries", "invalid_prompt", "no_input_prompt", "barge_in", "flush_digits", "store"},
		exits: []string{"ok", "failed"},
		waits: true,
		compile: func(c *nodeCompiler) behaviour {
			k := &collect{
				prompt:     c.prompts("prompt", true, "prompt: [name, ...] asking for the keys"),
				min:        c.integer("min_digits", 1, 1, maxCollectDigits),
				max:        c.integer("max_digits", maxCollectDigits, 1, maxCollectDigits),
				terminator: '#',
				timeout:    c.duration("timeout", c.defaults.timeout, minTimeout, maxTimeout),
				interDigit: c.duration("inter_digit_timeout", c.defaults.interDigit, minTimeout, maxTimeout),
				retries:    c.integer("retries", c.defaults.retries, 0, maxRetries),
				invalid:    c.prompts("invalid_prompt", false, ""),
				noInput:    c.prompts("no_input_prompt", false, ""),
				bargeIn:    c.boolean("barge_in", true),
				flush:      c.boolean("flush_digits", false),
				store:      c.varRef("store", true, "store: <variable> naming a declared digits, string or int variable", typeDigits, typeString, typeInt),
			}
			if e, ok := c.field("terminator"); ok {
				if sn, isText := e.val.(*ast.StringNode); isText && sn.Value == "" || isNull(e.val) {
					k.terminator = 0 // "" or empty: no terminator
				} else if t, ok := c.scope.text("terminator", e); ok {
					if len(t) == 1 && strings.Contains("*#", t) {
						k.terminator = rune(t[0])
					} else {
						c.errorf(e.valPos(), "terminator %q must be \"#\" or \"*\" (or \"\" for none)", t)
					}
				}
			}
			if k.min > k.max {
				at := c.node.Pos
				if e, ok := c.field("min_digits"); ok {
					at = e.valPos()
				}
				c.errorf(at, "min_digits %d is more than max_digits %d; swap them", k.min, k.max)
			}
			if e, ok := c.field("pattern"); ok {
				if src, ok := c.scope.text("pattern", e); ok {
					re, err := regexp.Compile(src)
					if err != nil {
						c.errorf(e.valPos(), "pattern %q is not a valid regular expression: %v", src, err)
					} else {
						k.pattern = re
					}
				}
			}
			return k
		},
	}
}

type collect struct {
	prompt, invalid, noInput []string
	min, max                 int
	terminator               rune
	timeout, interDigit      time.Duration
	retries                  int
	bargeIn, flush           bool
	pattern                  *regexp.Regexp
	store                    *varDecl
}

// run plays the prompt and reads keys until max_digits, the terminator or
// the inter-digit timeout, then checks the entry; up to retries+1 tries.
func (k *collect) run(ctx context.Context, v *visit) (string, error) {
	if k.store == nil {
		return "", errors.New("collect node without a valid store variable")
	}
	v.maskDigits = k.store.sensitive
	if m, ok := v.call.(DigitMasker); ok && k.store.sensitive {
		m.MaskDigits(true)
		defer m.MaskDigits(false)
	}
	if k.flush {
		v.flush()
	}
	var reprompt []string
	for failures := 0; ; failures++ {
		if failures > k.retries {
			return "failed", nil
		}
		prompts := append(append([]string(nil), reprompt...), k.prompt...)
		if err := v.play(ctx, prompts, k.bargeIn); err != nil {
			return "", err
		}
		entry, err := k.read(ctx, v)
		if err != nil {
			return "", err
		}
		if entry == "" {
			reprompt = k.noInput
			v.r.trace("digits", v.node.Name, "no input")
			continue
		}
		if why := k.check(entry); why != "" {
			reprompt = k.invalid
			shown := entry
			if k.store.sensitive {
				shown = strings.Repeat("*", len(entry))
			}
			v.r.trace("digits", v.node.Name, fmt.Sprintf("%s rejected: %s", shown, why))
			continue
		}
		val, err := k.store.fromText(entry)
		if err != nil {
			reprompt = k.invalid
			continue
		}
		if err := v.set(k.store, val); err != nil {
			return "", err
		}
		return "ok", nil
	}
}

// read reads one entry: "" when the caller pressed nothing.
func (k *collect) read(ctx context.Context, v *visit) (string, error) {
	var b strings.Builder
	timeout := k.timeout
	for b.Len() < k.max {
		d, err := v.readDigit(ctx, timeout)
		if errors.Is(err, ErrNoInput) && ctx.Err() == nil {
			break
		}
		if err != nil {
			return "", err
		}
		v.digits = append(v.digits, d)
		if d == k.terminator && k.terminator != 0 {
			if b.Len() == 0 {
				return string(d), nil // a lone terminator is a wrong entry, not silence
			}
			break
		}
		b.WriteRune(d)
		timeout = k.interDigit
	}
	if b.Len() == k.max && k.terminator != 0 {
		// The prompt likely asked for the terminator after the number: take
		// it if it comes at once, so that it does not land in the next
		// menu; any other key is put back for the next node.
		d, err := v.readDigit(ctx, terminatorGrace)
		switch {
		case err == nil && d == k.terminator:
			v.digits = append(v.digits, d)
		case err == nil:
			v.unread(d)
		case !errors.Is(err, ErrNoInput) || ctx.Err() != nil:
			return "", err
		}
	}
	return b.String(), nil
}

// terminatorGrace is how long a collect node that has max_digits keys
// waits for the terminator the caller was asked to press.
const terminatorGrace = 700 * time.Millisecond

// check says why an entry is refused, or "".
func (k *collect) check(entry string) string {
	switch {
	case !isDigits(entry):
		return "not digits"
	case len(entry) < k.min:
		return fmt.Sprintf("%d keys, at least %d needed", len(entry), k.min)
	case k.pattern != nil && !k.pattern.MatchString(entry):
		return "does not match the pattern"
	}
	return ""
}
