package ivr

import (
	"context"
)

// announceKind: play an announcement when operations have switched it on
// (an outage notice, a tariff change), and go on either way.
//
//	notices:
//	  type: announce
//	  announcement: outage           # from the announcements file
//	  next: main_menu
//
// Announcements are switched on and off in the announcements file (active:)
// or, without editing any file, with the HTTP API; an until: time ends
// them by itself. The flow never changes.
func announceKind() *kind {
	return &kind{
		name:   "announce",
		fields: []string{"announcement", "barge_in"},
		next:   true,
		compile: func(c *nodeCompiler) behaviour {
			return &announce{name: c.announcement("announcement"), bargeIn: c.boolean("barge_in", false)}
		},
	}
}

type announce struct {
	name    string
	bargeIn bool
}

func (a *announce) run(ctx context.Context, v *visit) (string, error) {
	ann := v.fr.flow.set.announcements[a.name]
	if ann == nil || !ann.On(v.r.now(), v.r.opts.Services.Switches) {
		v.r.trace("announce", v.node.Name, a.name+" is off")
		return "next", nil
	}
	v.r.trace("announce", v.node.Name, a.name+" is on")
	if err := v.play(ctx, ann.Prompts, a.bargeIn); err != nil {
		return "", err
	}
	return "next", nil
}

// checkAnnouncementPrompts checks that every announcement's prompts exist.
func checkAnnouncementPrompts(anns map[string]*Announcement, set *Set, opts LoadOptions, issues *issueList) {
	for _, a := range anns {
		s := scope{issues: issues, prefix: "announcement \"" + a.Name + "\": "}
		for i, p := range a.Prompts {
			if set.catalogue.has(p, opts.Prompts) {
				continue
			}
			at := a.Pos
			if i < len(a.PromptPos) {
				at = a.PromptPos[i]
			}
			s.errorf(at, "unknown prompt %q; add it to the prompts file (with tts: text) or add %s.wav to the prompts directory", p, p)
		}
	}
}
