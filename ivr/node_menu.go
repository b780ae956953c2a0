package ivr

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Limits of menu fields.
const (
	minTimeout = 500 * time.Millisecond
	maxTimeout = 60 * time.Second
	maxRetries = 9
)

// menuKeys are the keys a menu option may use.
const menuKeys = "0123456789*#ABCD"

// menuKind: play a prompt and go where the caller's key says, with retries.
//
//	main_menu:
//	  type: menu
//	  prompt: [main_menu]            # played with barge-in
//	  short_prompt: [main_menu_short] # optional, played instead of prompt on retries
//	  timeout: 5s                    # wait for a key after the prompt (default: defaults.timeout, 5s)
//	  retries: 3                     # tries after the first one (default: defaults.retries, 3)
//	  invalid_prompt: [invalid]      # optional, played before a retry after a wrong key
//	  no_input_prompt: [no_input]    # optional, played before a retry after silence
//	  barge_in: true                 # default true: a key press cuts the prompt
//	  flush_digits: false            # default false: keys typed ahead count
//	  options:
//	    "1": billing
//	  exits:
//	    failed: goodbye              # retries used up
func menuKind() *kind {
	return &kind{
		name: "menu",
		fields: []string{"prompt", "short_prompt", "timeout", "retries", "invalid_prompt", "no_input_prompt",
			"barge_in", "flush_digits", "options"},
		exits: []string{"failed"},
		waits: true,
		compile: func(c *nodeCompiler) behaviour {
			m := &menu{
				prompt:  c.prompts("prompt", true, "prompt: [name, ...] saying the choices"),
				short:   c.prompts("short_prompt", false, ""),
				timeout: c.duration("timeout", c.defaults.timeout, minTimeout, maxTimeout),
				retries: c.integer("retries", c.defaults.retries, 0, maxRetries),
				invalid: c.prompts("invalid_prompt", false, ""),
				noInput: c.prompts("no_input_prompt", false, ""),
				bargeIn: c.boolean("barge_in", true),
				flush:   c.boolean("flush_digits", false),
				options: map[rune]bool{},
			}
			compileOptions(c, m)
			return m
		},
	}
}

// compileOptions reads `options:`, a map of quoted key → node.
func compileOptions(c *nodeCompiler, m *menu) {
	e, ok := c.field("options")
	if !ok {
		c.missing("options", `options: with at least one "key": node line`)
		return
	}
	entries, ok := c.mapEntries(e.val, e.keyPos, "options", dupOption)
	if !ok {
		return
	}
	if len(entries) == 0 {
		c.errorf(e.keyPos, `options is empty; add at least one "key": node line`)
	}
	for _, o := range entries {
		if len(o.key) != 1 || !strings.Contains(menuKeys, o.key) {
			c.errorf(o.keyPos, "option %q is not a phone key; use one key: 0-9, * or # (or A-D), quoted like \"1\"", o.key)
			continue
		}
		if !o.keyStr {
			c.errorf(o.keyPos, "option key %s must be quoted: write \"%s\": <node>", o.key, o.key)
			continue
		}
		target, ok := c.scope.text("option \""+o.key+"\"", o)
		if !ok {
			continue
		}
		m.options[rune(o.key[0])] = true
		c.exit(o.key, target, o.valPos())
	}
}

type menu struct {
	prompt  []string
	short   []string
	timeout time.Duration
	retries int
	invalid []string
	noInput []string
	bargeIn bool
	flush   bool
	options map[rune]bool
}

// run plays the prompt and reads one key, up to retries+1 times.
//
// Keys typed ahead (during an earlier play node, or a second key pressed
// quickly) are kept: the menu flushes nothing unless flush_digits is set, so
// a caller who knows the menu can press through it. With barge-in a
// buffered key cuts the prompt at once. The exit is the key pressed, or
// "failed" when every try ended in silence or a wrong key.
func (m *menu) run(ctx context.Context, v *visit) (string, error) {
	if m.flush {
		v.flush()
	}
	var reprompt []string
	for failures := 0; ; {
		main := m.prompt
		if failures > 0 && len(m.short) > 0 {
			main = m.short
		}
		prompts := append(append([]string(nil), reprompt...), main...)
		if err := v.play(ctx, prompts, m.bargeIn); err != nil {
			return "", err
		}
		d, err := v.readDigit(ctx, m.timeout)
		switch {
		case err == nil:
			v.digits = append(v.digits, d)
			if m.options[d] {
				return string(d), nil
			}
			reprompt = m.invalid
		case errors.Is(err, ErrNoInput) && ctx.Err() == nil:
			reprompt = m.noInput
		default:
			return "", err
		}
		failures++
		if failures > m.retries {
			return "failed", nil
		}
	}
}
