package ivr

// The prompt catalogue: a `kind: prompts` file names each prompt once and
// gives it per-language variants, a recording and/or a text spoken by the
// speech engine:
//
//	kind: prompts
//	languages: [zh, en]            # the first is the default language
//	prompts:
//	  welcome:
//	    zh: {audio: welcome}       # flows/prompts/welcome.wav
//	    en: {tts: "Welcome to the customer service hotline."}
//	  hold_music:
//	    all: {audio: hold_music}   # the same in every language
//	  balance_is:
//	    zh: {tts: "您的余额是${balance}元"}   # ${…}: an expression over the call's variables
//
// A prompt is played in the caller's language when it has a variant for it,
// else in the "all" variant, else in the default language; within a
// variant the recording is preferred and the text is spoken when the
// recording is missing, so a missing file never means silence. A name that
// is not in the catalogue is a recording of that name in the prompts
// directory, the same in every language.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// allLanguages is the variant key that serves every language.
const allLanguages = "all"

// defaultLanguage is the language of a set without a catalogue file.
const defaultLanguage = "zh"

// catalogue is the prompt catalogue of a set.
type catalogue struct {
	languages []string
	langPos   Pos
	file      string
	prompts   map[string]*catPrompt
}

// catPrompt is one prompt of the catalogue.
type catPrompt struct {
	name     string
	pos      Pos
	variants map[string]*variant // by language or "all"
}

// variant is a prompt in one language.
type variant struct {
	audio    string
	audioPos Pos
	tts      string
	ttsPos   Pos
	hasAudio bool // the recording exists (checked at load)
}

// SpokenText is a text for the speech engine in a language.
type SpokenText struct {
	Text, Lang string
}

func emptyCatalogue() *catalogue {
	return &catalogue{languages: []string{defaultLanguage}, prompts: map[string]*catPrompt{}}
}

// compileCatalogue reads a `kind: prompts` file.
func compileCatalogue(s scope, fields map[string]entry) *catalogue {
	c := &catalogue{languages: []string{defaultLanguage}, prompts: map[string]*catPrompt{}}
	if e, ok := fields["languages"]; ok {
		c.langPos = e.valPos()
		if langs, poss, ok := s.textList("languages", e); ok {
			c.languages = nil
			for i, l := range langs {
				switch {
				case !validLanguage(l):
					s.errorf(poss[i], "language %q is not valid: use a short code like zh, en, yue", l)
				case l == allLanguages:
					s.errorf(poss[i], "%q is the variant for every language, not a language", l)
				case slices.Contains(c.languages, l):
					s.errorf(poss[i], "language %q is listed twice", l)
				default:
					c.languages = append(c.languages, l)
				}
			}
			if len(c.languages) == 0 {
				c.languages = []string{defaultLanguage}
			}
		}
	}
	e, ok := fields["prompts"]
	if !ok {
		s.errorf(Pos{Line: 1, Col: 1}, "missing \"prompts\"; add prompts: with one entry per prompt id")
		return c
	}
	entries, ok := s.mapEntries(e.val, e.keyPos, "prompts", dupField)
	if !ok {
		return c
	}
	for _, pe := range entries {
		ps := scope{issues: s.issues, prefix: "prompt \"" + pe.key + "\": "}
		if !pe.keyStr || !validPromptName(pe.key) {
			s.errorf(pe.keyPos, "prompt id %q is not valid: %s", pe.key, nameRule)
			continue
		}
		p := &catPrompt{name: pe.key, pos: pe.keyPos, variants: map[string]*variant{}}
		c.prompts[pe.key] = p
		ves, ok := ps.mapEntries(pe.val, pe.keyPos, "the prompt", dupField)
		if !ok {
			continue
		}
		allowed := append(slices.Clone(c.languages), allLanguages)
		for _, ve := range ves {
			if !slices.Contains(allowed, ve.key) {
				ps.errorf(ve.keyPos, "unknown language %q%s; languages are: %s (declare more under languages:)", ve.key, didYouMean(ve.key, allowed), strings.Join(allowed, ", "))
				continue
			}
			v := &variant{}
			if sn, ok := ve.val.(*ast.StringNode); ok { // shorthand: text to speak
				v.tts, v.ttsPos = sn.Value, ve.valPos()
				p.variants[ve.key] = v
				continue
			}
			vs := scope{issues: s.issues, prefix: ps.prefix + ve.key + ": "}
			fes, ok := vs.mapEntries(ve.val, ve.keyPos, "the variant", dupField)
			if !ok {
				continue
			}
			f := vs.fields(fes, []string{"audio", "tts"}, "prompt variants")
			if ae, ok := f["audio"]; ok {
				v.audio, _ = vs.text("audio", ae)
				v.audioPos = ae.valPos()
			}
			if te, ok := f["tts"]; ok {
				v.tts, _ = vs.text("tts", te)
				v.ttsPos = te.valPos()
			}
			if v.audio == "" && v.tts == "" {
				vs.errorf(ve.keyPos, "give audio: <recording> or tts: <text to speak>, or both")
				continue
			}
			p.variants[ve.key] = v
		}
	}
	return c
}

func validLanguage(l string) bool {
	if len(l) < 2 || len(l) > 8 {
		return false
	}
	for _, r := range l {
		if !(r >= 'a' && r <= 'z' || r == '-') {
			return false
		}
	}
	return true
}

// validPromptName allows recording names such as "hold_music" or "ivr-1".
func validPromptName(s string) bool { return validName(s) }

// check verifies the catalogue against the recordings that exist: a
// variant whose recording is missing uses its text (warning) or is an
// error when it has none.
func (c *catalogue) check(s scope, audio Registry) {
	for _, name := range slices.Sorted(maps.Keys(c.prompts)) {
		p := c.prompts[name]
		for _, lang := range slices.Sorted(maps.Keys(p.variants)) {
			v := p.variants[lang]
			if v.audio == "" {
				continue
			}
			v.hasAudio = audio == nil || audio.Has(v.audio)
			if v.hasAudio {
				continue
			}
			ps := scope{issues: s.issues, prefix: "prompt \"" + name + "\": " + lang + ": "}
			if v.tts != "" {
				ps.warnf(v.audioPos, "recording %q is missing; its text will be spoken instead. Add %s.wav to the prompts directory", v.audio, v.audio)
			} else {
				ps.errorf(v.audioPos, "recording %q is missing and there is no tts: text to speak instead; add %s.wav to the prompts directory or a tts: line", v.audio, v.audio)
			}
		}
	}
}

// has reports whether id names a catalogue prompt or a recording.
func (c *catalogue) has(id string, audio Registry) bool {
	if _, ok := c.prompts[id]; ok {
		return true
	}
	return audio == nil || audio.Has(id)
}

// variantFor returns the variant of p to play in lang and the language it
// is in: lang, then "all", then the default language.
func (c *catalogue) variantFor(p *catPrompt, lang string) (*variant, string) {
	for _, l := range []string{lang, allLanguages, c.languages[0]} {
		if v, ok := p.variants[l]; ok {
			return v, l
		}
	}
	return nil, ""
}

// vlangKey returns the variant key that served lang.
func vlangKey(p *catPrompt, lang string) string {
	if _, ok := p.variants[lang]; ok {
		return lang
	}
	return allLanguages
}

// texts lists the constant texts to render ahead of calls.
func (c *catalogue) texts() []SpokenText {
	var out []SpokenText
	for _, name := range slices.Sorted(maps.Keys(c.prompts)) {
		p := c.prompts[name]
		for _, lang := range slices.Sorted(maps.Keys(p.variants)) {
			v := p.variants[lang]
			if v.tts == "" || v.hasAudio || strings.Contains(v.tts, "${") {
				continue
			}
			l := lang
			if l == allLanguages {
				l = c.languages[0]
			}
			out = append(out, SpokenText{Text: v.tts, Lang: l})
		}
	}
	return out
}

// checkFlowPrompts checks the prompts a flow plays: each is in the
// catalogue or is a recording; each declared language is covered (a
// warning when the caller would hear the default language); spoken texts
// compile against the flow's variables.
func (c *catalogue) checkFlowPrompts(f *Flow, issues *issueList, audio Registry) {
	f.texts = map[string]*template{}
	seen := map[string]bool{}
	for _, r := range f.prompts {
		s := scope{issues: issues, prefix: "node \"" + r.node + "\": "}
		p, ok := c.prompts[r.name]
		if !ok {
			if audio != nil && !audio.Has(r.name) && !r.announced {
				known := append(slices.Sorted(maps.Keys(c.prompts)), registryNames(audio)...)
				slices.Sort(known)
				known = slices.Compact(known)
				list := ""
				if len(known) > 0 {
					list = "prompts are: " + listNames(known)
				}
				switch sug := suggest(r.name, known); {
				case sug != "":
					s.errorf(r.pos, "unknown prompt %q (did you mean %q?; %s)", r.name, sug, list)
				case list != "":
					s.errorf(r.pos, "unknown prompt %q (%s); add it to the prompts file (with tts: text) or add %s.wav to the prompts directory", r.name, list, r.name)
				default:
					s.errorf(r.pos, "unknown prompt %q; add it to the prompts file (with tts: text) or add %s.wav to the prompts directory", r.name, r.name)
				}
			}
			continue
		}
		if seen[r.name] {
			continue
		}
		seen[r.name] = true
		if _, ok := p.variants[allLanguages]; !ok {
			if _, ok := p.variants[c.languages[0]]; !ok {
				s.errorf(r.pos, "prompt %q has no %s variant (the default language) and no all: variant; add one to the prompts file", r.name, c.languages[0])
			}
			for _, l := range c.languages[1:] {
				if _, ok := p.variants[l]; !ok {
					s.warnf(r.pos, "prompt %q has no %s variant; %s callers will hear %s. Add %s: {tts: ...} to the prompts file", r.name, l, l, c.languages[0], l)
				}
			}
		}
		for lang, v := range p.variants {
			if v.tts == "" {
				continue
			}
			t := compileTemplate(s, fmt.Sprintf("prompt %q %s text", r.name, lang), v.tts, r.pos, f.env, f.vars)
			if t == nil {
				continue
			}
			if name := t.usesSensitive(f.vars); name != "" {
				s.warnf(r.pos, "prompt %q speaks the sensitive variable %q aloud; make sure that is intended", r.name, name)
			}
			f.texts[r.name+"\x00"+lang] = t
		}
	}
}

// resolve returns the names of the prompts to play for ids in lang,
// rendering texts with speak. Prompts that cannot be played are left out
// and reported to skipped.
func (f *Flow) resolve(ctx context.Context, ids []string, lang string, env map[string]any, speak func(ctx context.Context, text, lang string) (string, error), trace func(id, how string)) []string {
	cat := f.set.catalogue
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		p, ok := cat.prompts[id]
		if !ok {
			out = append(out, id)
			trace(id, "recording "+id)
			continue
		}
		v, vlang := cat.variantFor(p, lang)
		if v == nil {
			trace(id, "skipped: no variant")
			continue
		}
		if v.hasAudio {
			out = append(out, v.audio)
			trace(id, fmt.Sprintf("recording %s (%s)", v.audio, vlang))
			continue
		}
		t := f.texts[id+"\x00"+vlang]
		if t == nil {
			trace(id, "skipped: no text")
			continue
		}
		text, err := t.render(env, nil)
		if err != nil {
			trace(id, "skipped: "+err.Error())
			continue
		}
		if vlang == allLanguages {
			vlang = lang
		}
		name, err := speak(ctx, text, vlang)
		if err != nil {
			trace(id, "skipped: speech engine: "+err.Error())
			continue
		}
		out = append(out, name)
		shown := text
		if t.usesSensitive(f.vars) != "" {
			shown = p.variants[vlangKey(p, vlang)].tts // the text with ${…} left in, not the secret
		}
		trace(id, fmt.Sprintf("says (%s) %q", vlang, shown))
	}
	return out
}
