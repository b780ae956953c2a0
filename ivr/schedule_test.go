package ivr_test

// Tests of hours and announce nodes: calendars and announcements files,
// a fake clock and the operations switches.

import (
	"slices"
	"strings"
	"testing"
	"time"

	"kefu/ivr"
	"kefu/ivr/ivrtest"
)

// stubSwitches is an ivr.Switches: the switches operations have set.
type stubSwitches map[string]bool

func (s stubSwitches) State(name string) (on, set bool) {
	on, set = s[name]
	return on, set
}

const calendarsFile = `kind: calendars
calendars:
  hotline:
    timezone: Asia/Shanghai
    weekly:
      mon-fri: ["08:00-20:00"]
    holidays:
      - {date: 2026-10-01, to: 2026-10-07, name: 国庆节}
    special:
      - {date: 2026-10-07, hours: ["09:00-12:00"], name: 值班}
  crisis:
    timezone: UTC
    weekly:
      daily: ["00:00-24:00"]
    emergency: true
`

// hoursFlows has a flow wiring every exit of an hours node (all) and one
// wiring only open and closed (short), each for both calendars.
var hoursFlows = map[string]string{
	"calendars.yaml": calendarsFile,
	"all.yaml": `start: h
nodes:
  h:
    type: hours
    calendar: hotline
    exits: {open: open, closed: closed, holiday: holiday, emergency: emergency}
  open: {type: hangup, reason: open}
  closed: {type: hangup, reason: closed}
  holiday: {type: hangup, reason: holiday}
  emergency: {type: hangup, reason: emergency}
`,
	"short.yaml": `start: h
nodes:
  h:
    type: hours
    calendar: hotline
    exits: {open: open, closed: closed}
  open: {type: hangup, reason: open}
  closed: {type: hangup, reason: closed}
`,
	"crisis.yaml": `start: h
nodes:
  h:
    type: hours
    calendar: crisis
    exits: {open: open, closed: closed, emergency: emergency}
  open: {type: hangup, reason: open}
  closed: {type: hangup, reason: closed}
  emergency: {type: hangup, reason: emergency}
`,
}

func TestHours(t *testing.T) {
	set := loadFlowsDir(t, hoursFlows)
	shanghai := time.FixedZone("CST", 8*3600)
	wed := time.Date(2026, 9, 30, 10, 0, 0, 0, shanghai) // a Wednesday
	tests := []struct {
		name     string
		flow     string
		now      time.Time
		switches ivr.Switches
		want     string // the reason the call ends with: the exit taken
		exit     string // the exit the hours node reports
	}{
		{"open on a weekday", "all", wed, nil, "open", "open"},
		{"the clock is read in the calendar's zone", "all", time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC), nil, "open", "open"},
		{"opening minute is open", "all", time.Date(2026, 9, 30, 8, 0, 0, 0, shanghai), nil, "open", "open"},
		{"before opening", "all", time.Date(2026, 9, 30, 7, 59, 59, 0, shanghai), nil, "closed", "closed"},
		{"closing minute is closed", "all", time.Date(2026, 9, 30, 20, 0, 0, 0, shanghai), nil, "closed", "closed"},
		{"weekend", "all", time.Date(2026, 10, 10, 10, 0, 0, 0, shanghai), nil, "closed", "closed"},
		{"holiday", "all", time.Date(2026, 10, 2, 10, 0, 0, 0, shanghai), nil, "holiday", "holiday"},
		{"a special date beats the holiday", "all", time.Date(2026, 10, 7, 10, 0, 0, 0, shanghai), nil, "open", "open"},
		{"outside a special date's hours", "all", time.Date(2026, 10, 7, 13, 0, 0, 0, shanghai), nil, "closed", "closed"},
		{"emergency switch", "all", wed, stubSwitches{"emergency.hotline": true}, "emergency", "emergency"},
		{"emergency switch set off", "all", wed, stubSwitches{"emergency.hotline": false}, "open", "open"},
		{"another calendar's switch", "all", wed, stubSwitches{"emergency.crisis": true}, "open", "open"},
		{"emergency beats a holiday", "all", time.Date(2026, 10, 2, 10, 0, 0, 0, shanghai), stubSwitches{"emergency.hotline": true}, "emergency", "emergency"},
		{"holiday not wired: as closed", "short", time.Date(2026, 10, 2, 10, 0, 0, 0, shanghai), nil, "closed", "holiday"},
		{"emergency not wired: as closed", "short", wed, stubSwitches{"emergency.hotline": true}, "closed", "emergency"},
		{"emergency: true in the file", "crisis", wed, nil, "emergency", "emergency"},
		{"the switch overrides the file", "crisis", wed, stubSwitches{"emergency.crisis": false}, "open", "open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			var tl traceLog
			res, err := runScripted(t, flowNamed(t, set, tt.flow), ivrtest.NewScriptedCall(), ivr.RunOptions{
				Services: ivr.Services{Now: func() time.Time { return now }, Switches: tt.switches},
				Trace:    tl.add,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.HangupReason != tt.want {
				t.Errorf("ended %q, want %q", res.HangupReason, tt.want)
			}
			if len(res.Steps) == 0 || res.Steps[0].Exit != tt.exit {
				t.Errorf("steps %+v, want h to exit by %s", res.Steps, tt.exit)
			}
			if !slices.ContainsFunc(tl.texts(), func(l string) bool { return strings.HasPrefix(l, "hours h: ") }) {
				t.Errorf("no hours line in the trace: %q", tl.texts())
			}
		})
	}
}

const announcementsFile = `kind: announcements
announcements:
  outage:
    prompt: [outage_notice, apology]
  tariff:
    prompt: tariff_change
    active: true
  old:
    prompt: old_notice
    active: true
    until: 2026-06-01T00:00:00+08:00
`

const announceFlow = `start: a1
nodes:
  a1:
    type: announce
    announcement: outage
    next: a2
  a2:
    type: announce
    announcement: tariff
    barge_in: true
    next: a3
  a3:
    type: announce
    announcement: old
    next: bye
  bye: {type: hangup}
`

func TestAnnounce(t *testing.T) {
	set := loadFlowsDir(t, map[string]string{"announcements.yaml": announcementsFile, "main.yaml": announceFlow})
	flow := flowNamed(t, set, "main")
	before := time.Date(2026, 5, 31, 23, 59, 0, 0, time.FixedZone("CST", 8*3600))
	after := time.Date(2026, 6, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	tests := []struct {
		name     string
		now      time.Time
		switches ivr.Switches
		script   []string
		plays    []string
	}{
		{"file defaults: active ones play, until not reached", before, nil, nil,
			[]string{"play tariff_change", "play old_notice"}},
		{"until reached: off", after, nil, nil,
			[]string{"play tariff_change"}},
		{"switches on and off", before, stubSwitches{"announce.outage": true, "announce.tariff": false}, nil,
			[]string{"play outage_notice,apology", "play old_notice"}},
		{"a switch cannot outlive until", after, stubSwitches{"announce.old": true}, nil,
			[]string{"play tariff_change"}},
		{"barge_in cuts an announcement", before, nil, []string{"5"},
			[]string{"play tariff_change (cut short by a key)", "play old_notice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			call := ivrtest.NewScriptedCall(tt.script...)
			res, err := runScripted(t, flow, call, ivr.RunOptions{Services: ivr.Services{Now: func() time.Time { return now }, Switches: tt.switches}})
			if err != nil {
				t.Fatal(err)
			}
			want := append(slices.Clone(tt.plays), "hangup normal")
			if got := call.Transcript(); !slices.Equal(got, want) {
				t.Errorf("transcript %q, want %q", got, want)
			}
			if !slices.Equal(res.Path, []string{"a1", "a2", "a3", "bye"}) {
				t.Errorf("path %v", res.Path)
			}
		})
	}
}

// TestAnnouncePromptsInLanguage checks an announcement's prompts are
// catalogue prompts played in the caller's language.
func TestAnnouncePromptsInLanguage(t *testing.T) {
	set := loadFlowsDir(t, map[string]string{
		"announcements.yaml": "kind: announcements\nannouncements:\n  outage: {prompt: outage, active: true}\n",
		"prompts.yaml":       "kind: prompts\nlanguages: [zh, en]\nprompts:\n  outage:\n    zh: {tts: 网络故障}\n    en: {tts: Network outage}\n",
		"main.yaml": `start: lang
nodes:
  lang:
    type: language
    prompt: choose
    options: {"2": en}
    next: a
  a: {type: announce, announcement: outage, next: bye}
  bye: {type: hangup}
`,
	})
	call := ivrtest.NewScriptedCall("2")
	if _, err := runScripted(t, flowNamed(t, set, "main"), call, ivr.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(call.Transcript(), "play tts:en:Network outage") {
		t.Errorf("transcript %q", call.Transcript())
	}
}
