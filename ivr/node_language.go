package ivr

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// languageKind: let the caller choose the language of the rest of the call.
//
//	choose_language:
//	  type: language
//	  prompt: language_menu          # "普通话请按1, for English press 2"
//	  options:
//	    "1": zh
//	    "2": en
//	  timeout: 3s                    # default: defaults.timeout
//	  next: welcome                  # taken whatever the caller did
//
// A wrong key or silence keeps the current language (the catalogue's
// default unless an earlier node changed it): the caller is never stuck
// here. Languages must be declared in the prompts file.
func languageKind() *kind {
	return &kind{
		name:   "language",
		fields: []string{"prompt", "options", "timeout"},
		next:   true,
		waits:  true,
		compile: func(c *nodeCompiler) behaviour {
			l := &language{
				prompt:  c.prompts("prompt", true, "prompt: [name, ...] saying which key chooses which language"),
				timeout: c.duration("timeout", c.defaults.timeout, minTimeout, maxTimeout),
				options: map[rune]string{},
			}
			e, ok := c.field("options")
			if !ok {
				c.missing("options", `options: with "key": language lines, like "1": zh`)
				return l
			}
			entries, ok := c.mapEntries(e.val, e.keyPos, "options", dupNoun("language option"))
			if !ok {
				return l
			}
			for _, o := range entries {
				if len(o.key) != 1 || !strings.Contains(menuKeys, o.key) || !o.keyStr {
					c.errorf(o.keyPos, "option %q is not a quoted phone key; write \"1\": zh", o.key)
					continue
				}
				lang, ok := c.scope.text("option \""+o.key+"\"", o)
				if !ok {
					continue
				}
				l.options[rune(o.key[0])] = lang
				c.flow.languages = append(c.flow.languages, ref{name: lang, pos: o.valPos(), node: c.node.Name})
			}
			return l
		},
	}
}

type language struct {
	prompt  []string
	timeout time.Duration
	options map[rune]string
}

func (l *language) run(ctx context.Context, v *visit) (string, error) {
	if err := v.play(ctx, l.prompt, true); err != nil {
		return "", err
	}
	d, err := v.readDigit(ctx, l.timeout)
	switch {
	case errors.Is(err, ErrNoInput) && ctx.Err() == nil:
		v.r.trace("set", v.node.Name, "no choice; language stays "+v.r.lang)
		return "next", nil
	case err != nil:
		return "", err
	}
	v.digits = append(v.digits, d)
	if lang, ok := l.options[d]; ok && slices.Contains(v.fr.flow.set.catalogue.languages, lang) {
		v.r.lang = lang
		v.r.trace("set", v.node.Name, "lang = "+lang)
	}
	return "next", nil
}
