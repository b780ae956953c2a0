package ivr

// This file reads announcements files and says whether an announcement is
// on.
//
// Operations publish information — an outage notice, a service change —
// that plays wherever a flow places an announce node naming it, and switch
// it on and off without editing the flow. An announcements file of a flows
// directory lists them by name:
//
//	kind: announcements
//	announcements:
//	  outage:
//	    description: 网络故障通告             # optional
//	    prompt: [outage_haidian]            # required: prompt ids, one or a list
//	    active: false                       # optional (default false)
//	    until: 2026-11-30T18:00:00+08:00    # optional: off from this time on
//
// An announcement is on when its switch, SwitchName("announce", <name>),
// is on; when operations have not set the switch, active: says. From
// until: on (RFC 3339, with its time zone offset) it is off whatever the
// switch says, so a notice cannot outlive the outage by being forgotten.

import (
	"fmt"
	"time"
)

// Announcement is one announcement of an announcements file.
type Announcement struct {
	// Name is the announcement's name, which announce nodes refer to.
	Name string
	// Pos is where the announcement is defined.
	Pos Pos
	// Description is the optional description.
	Description string
	// Prompts are the prompt catalogue ids played, in order.
	Prompts []string
	// PromptPos are the positions of Prompts in the file.
	PromptPos []Pos
	// Active is the default state, when operations have not set the switch.
	Active bool
	// Until is when the announcement goes off by itself; zero for never.
	Until time.Time
}

// On reports whether the announcement plays at now: the switch's state when
// operations have set it, else Active — and never at or after Until. sw may
// be nil.
func (a *Announcement) On(now time.Time, sw Switches) bool {
	if !a.Until.IsZero() && !now.Before(a.Until) {
		return false
	}
	if sw != nil {
		if on, set := sw.State(SwitchName("announce", a.Name)); set {
			return on
		}
	}
	return a.Active
}

// compileAnnouncements reads the top-level fields of a `kind: announcements`
// file (the loader has already checked `kind`); it reports every problem to
// s and returns the announcements it could read. An announcement with
// errors is returned too, so that flows naming it get no second error.
func compileAnnouncements(s scope, fields map[string]entry) map[string]*Announcement {
	out := map[string]*Announcement{}
	for _, ae := range namedEntries(s, fields, "announcements", "announcement",
		"announcements: with one entry per announcement, like outage: {prompt: outage_notice}") {
		out[ae.key] = compileAnnouncement(s, ae)
	}
	return out
}

// compileAnnouncement reads one announcement's body.
func compileAnnouncement(top scope, ae entry) *Announcement {
	a := &Announcement{Name: ae.key, Pos: ae.keyPos}
	entries, ok := top.mapEntries(ae.val, ae.keyPos, fmt.Sprintf("announcement %q", ae.key), dupField)
	if !ok {
		return a
	}
	s := scope{issues: top.issues, prefix: top.prefix + fmt.Sprintf("announcement %q: ", ae.key)}
	f := s.fields(entries, []string{"description", "prompt", "active", "until"}, "announcements")
	if e, ok := f["description"]; ok {
		a.Description, _ = s.text("description", e)
	}
	if e, ok := f["prompt"]; ok {
		a.Prompts, a.PromptPos, _ = s.textList("prompt", e)
	} else {
		s.errorf(ae.keyPos, "missing \"prompt\"; add prompt: <id> (or a list [a, b]) naming the prompts to play")
	}
	if e, ok := f["active"]; ok {
		a.Active, _ = s.boolean("active", e)
	}
	if e, ok := f["until"]; ok {
		a.Until, _ = readUntil(s, e)
	}
	return a
}

// readUntil reads an RFC 3339 time with its offset.
func readUntil(s scope, e entry) (time.Time, bool) {
	str, ok := s.text("until", e)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, str)
	if err == nil {
		return t, true
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", time.DateOnly} {
		if _, err := time.Parse(layout, str); err == nil {
			s.errorf(e.valPos(), "until %q has no time zone; write the date, time and offset, like 2026-11-30T18:00:00+08:00", str)
			return time.Time{}, false
		}
	}
	s.errorf(e.valPos(), "until %q is not a time; write the date, time and offset, like 2026-11-30T18:00:00+08:00", str)
	return time.Time{}, false
}
