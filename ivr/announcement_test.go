package ivr

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const announcementsSample = `kind: announcements
announcements:
  outage:
    description: 网络故障通告
    prompt: [outage_haidian, outage_apology]
    active: true
    until: 2026-11-30T18:00:00+08:00
  tariff:
    prompt: tariff_change
  forever:
    prompt: [notice]
    active: true
`

func sampleAnnouncements(t *testing.T) map[string]*Announcement {
	t.Helper()
	anns, issues := compileKindFile([]byte(announcementsSample), "announcements", compileAnnouncements)
	if len(issues) > 0 {
		t.Fatalf("sample announcements have issues:\n%s", strings.Join(issues, "\n"))
	}
	return anns
}

func TestAnnouncementFields(t *testing.T) {
	anns := sampleAnnouncements(t)
	if len(anns) != 3 {
		t.Fatalf("got %d announcements; want 3", len(anns))
	}
	o := anns["outage"]
	until := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	if o.Name != "outage" || o.Pos != (Pos{Line: 3, Col: 3}) || o.Description != "网络故障通告" || !o.Active || !o.Until.Equal(until) ||
		!slices.Equal(o.Prompts, []string{"outage_haidian", "outage_apology"}) ||
		!slices.Equal(o.PromptPos, []Pos{{Line: 5, Col: 14}, {Line: 5, Col: 30}}) {
		t.Errorf("outage = %+v", o)
	}
	tr := anns["tariff"]
	if tr.Active || !tr.Until.IsZero() || !slices.Equal(tr.Prompts, []string{"tariff_change"}) || !slices.Equal(tr.PromptPos, []Pos{{Line: 9, Col: 13}}) {
		t.Errorf("tariff = %+v", tr)
	}
}

func TestAnnouncementOn(t *testing.T) {
	anns := sampleAnnouncements(t)
	before := time.Date(2026, 11, 30, 9, 59, 59, 0, time.UTC) // 17:59:59 +08:00
	until := time.Date(2026, 11, 30, 18, 0, 0, 0, time.FixedZone("CST", 8*3600))
	after := until.Add(time.Hour)
	tests := []struct {
		what string
		ann  string
		now  time.Time
		sw   Switches
		want bool
	}{
		{"active default, no switches", "outage", before, nil, true},
		{"active default, switch not set", "outage", before, switchesForTest{"announce.tariff": true}, true},
		{"switch off beats active", "outage", before, switchesForTest{"announce.outage": false}, false},
		{"off at until exactly", "outage", until, nil, false},
		{"off after until", "outage", after, nil, false},
		{"switch on cannot pass until", "outage", after, switchesForTest{"announce.outage": true}, false},
		{"inactive default", "tariff", before, nil, false},
		{"switch on beats inactive", "tariff", after, switchesForTest{"announce.tariff": true}, true},
		{"other kind of switch ignored", "tariff", before, switchesForTest{"emergency.tariff": true}, false},
		{"no until: on for ever", "forever", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			if got := anns[tt.ann].On(tt.now, tt.sw); got != tt.want {
				t.Errorf("%s.On(%s) = %v; want %v", tt.ann, tt.now.Format(time.RFC3339), got, tt.want)
			}
		})
	}
}

// TestAnnouncementErrors compares every issue of broken announcements
// files with the exact text the CLI prints.
func TestAnnouncementErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "missing announcements",
			src:  "kind: announcements\n",
			want: []string{
				`announcements.yaml:1:1: missing "announcements"; add announcements: with one entry per announcement, like outage: {prompt: outage_notice}`,
			},
		},
		{
			name: "names and bodies",
			src: `kind: announcements
announcements:
  Outage: {prompt: x}
  outage: {prompt: x}
  outage: {prompt: y}
  empty:
  list: [x]
`,
			want: []string{
				`announcements.yaml:3:3: announcement name "Outage" is not valid: use lower-case letters, digits, _ and -, starting with a letter (at most 64)`,
				`announcements.yaml:5:3: announcement "outage" is given twice (first at line 4); keep only one`,
				`announcements.yaml:6:3: announcement "empty" is empty; it needs key: value lines under it`,
				`announcements.yaml:7:9: announcement "list" must be a map of key: value lines, not a list`,
			},
		},
		{
			name: "fields",
			src: `kind: announcements
announcements:
  a:
    description: [x]
    prompts: [x]
    active: "yes"
  b:
    prompt: []
    active: on
    until: 2026-11-30T18:00:00
  c:
    prompt: {x: y}
    until: tomorrow
  d:
    prompt: [ok, 5]
    until: 2026-11-30
`,
			want: []string{
				`announcements.yaml:3:3: announcement "a": missing "prompt"; add prompt: <id> (or a list [a, b]) naming the prompts to play`,
				`announcements.yaml:4:18: announcement "a": description must be a single text value, not a list`,
				`announcements.yaml:5:5: announcement "a": unknown field "prompts" (did you mean "prompt"?); announcements accept: description, prompt, active, until`,
				`announcements.yaml:6:13: announcement "a": active must be true or false, not the text "yes"`,
				`announcements.yaml:8:13: announcement "b": prompt is an empty list; name at least one`,
				`announcements.yaml:9:13: announcement "b": active must be true or false, not the text "on"`,
				`announcements.yaml:10:12: announcement "b": until "2026-11-30T18:00:00" has no time zone; write the date, time and offset, like 2026-11-30T18:00:00+08:00`,
				`announcements.yaml:12:13: announcement "c": prompt must be a name or a list of names like [a, b], not a map`,
				`announcements.yaml:13:12: announcement "c": until "tomorrow" is not a time; write the date, time and offset, like 2026-11-30T18:00:00+08:00`,
				`announcements.yaml:15:18: announcement "d": prompt entry must be text, not the number 5; quote it: "5"`,
				`announcements.yaml:16:12: announcement "d": until "2026-11-30" has no time zone; write the date, time and offset, like 2026-11-30T18:00:00+08:00`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := compileKindFile([]byte(tt.src), "announcements", compileAnnouncements)
			if !slices.Equal(got, tt.want) {
				t.Errorf("issues differ\n--- got\n%s\n--- want\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// FuzzAnnouncements feeds arbitrary bytes to the announcements reader: it
// must never panic, every issue must be well formed, and every
// announcement it returns must answer On.
func FuzzAnnouncements(f *testing.F) {
	f.Add([]byte(announcementsSample))
	f.Add([]byte("kind: announcements\nannouncements: {a: {prompt: x, until: 2026-01-01T00:00:00Z}}\n"))
	f.Add([]byte("announcements:\n  a:\n    prompt: [x, y]\n    active: true\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		anns, issues := compileKindFile(src, "announcements", compileAnnouncements)
		for _, is := range issues {
			if strings.HasPrefix(is, "MALFORMED") {
				t.Fatal(is)
			}
		}
		for name, a := range anns {
			if a == nil || a.Name != name || len(a.Prompts) != len(a.PromptPos) {
				t.Fatalf("announcement %q is %+v", name, a)
			}
			a.On(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), nil)
			a.On(time.Time{}, switchesForTest{SwitchName("announce", name): true})
		}
	})
}
