package ivr

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// compileKindFile reads src the way the loader reads a file of a kind
// other than flow — parse, top-level map, top-level fields {kind, key} —
// then calls compile. It returns what compile returned (the zero value when
// the file could not be read) and every issue, formatted as the CLI prints
// it, with the file named key+".yaml".
func compileKindFile[T any](src []byte, key string, compile func(scope, map[string]entry) T) (T, []string) {
	issues := &issueList{file: key + ".yaml"}
	s := scope{issues: issues}
	var out T
	if body, ok := parseYAML(src, s); ok {
		if entries, ok := s.mapEntries(body, Pos{Line: 1, Col: 1}, "the file", dupField); ok {
			out = compile(s, s.fields(entries, []string{"kind", key}, key+" files"))
		}
	}
	var msgs []string
	for _, is := range issues.done() {
		if is.Msg == "" || is.Line < 0 || is.Col < 0 {
			msgs = append(msgs, "MALFORMED ISSUE: "+is.String())
			continue
		}
		msgs = append(msgs, is.String())
	}
	return out, msgs
}

// switchesForTest is a Switches with the switches operations have set.
type switchesForTest map[string]bool

func (s switchesForTest) State(name string) (on, set bool) {
	on, set = s[name]
	return on, set
}

const calendarsSample = `kind: calendars
calendars:
  hotline:
    description: 10086 人工服务
    timezone: Asia/Shanghai
    weekly:
      mon-fri: ["08:00-20:00"]
      sat: ["09:00-17:00", "18:00-19:00"]
      sun: []
    holidays:
      - {yearly: "05-01", to: "05-03", name: 劳动节}
      - {date: 2026-10-01, to: 2026-10-07, name: 国庆节}
      - {date: 2027-01-01, name: 元旦}
      - date: 2026-05-02
        name: 劳动节调整
    special:
      - {date: 2026-10-10, hours: ["08:00-20:00"], name: 调休上班}
      - {date: 2026-10-07, hours: "09:00-12:00", name: 国庆值班}
      - {date: 2026-12-30, to: 2026-12-31, hours: [], name: 年终盘点}
    emergency: false
  newyork:
    timezone: America/New_York
    weekly:
      daily: ["08:00-20:00"]
    holidays:
      - {date: 2026-03-09, name: after spring forward}
      - {date: 2026-11-02, name: after fall back}
    emergency: true
  weekend:
    timezone: UTC
    weekly:
      fri-mon: ["00:00-24:00"]
`

func sampleCalendars(t *testing.T) map[string]*Calendar {
	t.Helper()
	cals, issues := compileKindFile([]byte(calendarsSample), "calendars", compileCalendars)
	if len(issues) > 0 {
		t.Fatalf("sample calendars have issues:\n%s", strings.Join(issues, "\n"))
	}
	return cals
}

func TestCalendarState(t *testing.T) {
	cals := sampleCalendars(t)
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	at := func(loc *time.Location, y int, m time.Month, d, hh, mm, ss int) time.Time {
		return time.Date(y, m, d, hh, mm, ss, 0, loc)
	}
	tests := []struct {
		what      string
		cal       string
		t         time.Time
		emergency bool
		want      CalendarState
		wantName  string
	}{
		// Weekly hours and their edges (2026-10-12 is a Monday).
		{"monday before opening", "hotline", at(sh, 2026, 10, 12, 7, 59, 59), false, CalendarClosed, ""},
		{"monday opening minute", "hotline", at(sh, 2026, 10, 12, 8, 0, 0), false, CalendarOpen, ""},
		{"monday last second", "hotline", at(sh, 2026, 10, 12, 19, 59, 59), false, CalendarOpen, ""},
		{"monday closing minute", "hotline", at(sh, 2026, 10, 12, 20, 0, 0), false, CalendarClosed, ""},
		{"saturday first range", "hotline", at(sh, 2026, 10, 17, 9, 0, 0), false, CalendarOpen, ""},
		{"saturday gap", "hotline", at(sh, 2026, 10, 17, 17, 0, 0), false, CalendarClosed, ""},
		{"saturday second range", "hotline", at(sh, 2026, 10, 17, 18, 30, 0), false, CalendarOpen, ""},
		{"saturday after second range", "hotline", at(sh, 2026, 10, 17, 19, 0, 0), false, CalendarClosed, ""},
		{"sunday closed", "hotline", at(sh, 2026, 10, 11, 12, 0, 0), false, CalendarClosed, ""},
		{"weekend range wraps: sunday", "weekend", at(time.UTC, 2026, 10, 11, 12, 0, 0), false, CalendarOpen, ""},
		{"weekend range wraps: monday to 24:00", "weekend", at(time.UTC, 2026, 10, 12, 23, 59, 59), false, CalendarOpen, ""},
		{"weekend range wraps: tuesday", "weekend", at(time.UTC, 2026, 10, 13, 0, 0, 0), false, CalendarClosed, ""},

		// Holidays beat weekly hours.
		{"holiday on a weekday", "hotline", at(sh, 2026, 10, 1, 12, 0, 0), false, CalendarHoliday, "国庆节"},
		{"holiday range, middle", "hotline", at(sh, 2026, 10, 5, 10, 0, 0), false, CalendarHoliday, "国庆节"},
		{"holiday range, day after", "hotline", at(sh, 2026, 10, 8, 10, 0, 0), false, CalendarOpen, ""},
		{"holiday all day, outside hours", "hotline", at(sh, 2026, 10, 1, 23, 0, 0), false, CalendarHoliday, "国庆节"},
		{"dated holiday", "hotline", at(sh, 2027, 1, 1, 10, 0, 0), false, CalendarHoliday, "元旦"},
		{"dated holiday not yearly", "hotline", at(sh, 2028, 1, 1, 10, 0, 0), false, CalendarOpen, ""},
		{"dated holiday before yearly one", "hotline", at(sh, 2026, 5, 2, 10, 0, 0), false, CalendarHoliday, "劳动节调整"},
		{"yearly holiday", "hotline", at(sh, 2026, 5, 1, 10, 0, 0), false, CalendarHoliday, "劳动节"},
		{"yearly holiday next year", "hotline", at(sh, 2027, 5, 3, 10, 0, 0), false, CalendarHoliday, "劳动节"},
		{"yearly holiday over", "hotline", at(sh, 2027, 5, 4, 10, 0, 0), false, CalendarOpen, ""},

		// Special dates replace the weekly hours and beat holidays (调休).
		{"make-up working saturday, late", "hotline", at(sh, 2026, 10, 10, 19, 30, 0), false, CalendarOpen, "调休上班"},
		{"make-up working saturday, closing", "hotline", at(sh, 2026, 10, 10, 20, 0, 0), false, CalendarClosed, "调休上班"},
		{"special inside a holiday range, open", "hotline", at(sh, 2026, 10, 7, 9, 0, 0), false, CalendarOpen, "国庆值班"},
		{"special inside a holiday range, closed", "hotline", at(sh, 2026, 10, 7, 15, 0, 0), false, CalendarClosed, "国庆值班"},
		{"special closure range", "hotline", at(sh, 2026, 12, 31, 10, 0, 0), false, CalendarClosed, "年终盘点"},

		// Emergency beats everything.
		{"emergency on a working day", "hotline", at(sh, 2026, 10, 12, 10, 0, 0), true, CalendarEmergency, ""},
		{"emergency on a holiday", "hotline", at(sh, 2026, 10, 1, 10, 0, 0), true, CalendarEmergency, ""},
		{"emergency on a special date", "hotline", at(sh, 2026, 10, 10, 10, 0, 0), true, CalendarEmergency, ""},

		// Times in another zone are read in the calendar's zone.
		{"UTC midnight is 08:00 in Shanghai", "hotline", at(time.UTC, 2026, 10, 12, 0, 0, 0), false, CalendarOpen, ""},
		{"UTC 23:59 sunday is 07:59 monday", "hotline", at(time.UTC, 2026, 10, 11, 23, 59, 0), false, CalendarClosed, ""},
		{"UTC 16:00 is the holiday's first minute", "hotline", at(time.UTC, 2026, 9, 30, 16, 0, 0), false, CalendarHoliday, "国庆节"},
		{"UTC 15:59 is the evening before", "hotline", at(time.UTC, 2026, 9, 30, 15, 59, 0), false, CalendarClosed, ""},

		// America/New_York: daylight saving started 2026-03-08 and ended
		// 2026-11-01; days begin at local midnight either way.
		{"EST friday 07:00", "newyork", at(time.UTC, 2026, 3, 6, 12, 0, 0), false, CalendarClosed, ""},
		{"EST friday 08:00", "newyork", at(time.UTC, 2026, 3, 6, 13, 0, 0), false, CalendarOpen, ""},
		{"EDT tuesday 08:00", "newyork", at(time.UTC, 2026, 3, 10, 12, 0, 0), false, CalendarOpen, ""},
		{"EDT day starts 04:00 UTC", "newyork", at(time.UTC, 2026, 3, 9, 4, 0, 0), false, CalendarHoliday, "after spring forward"},
		{"EDT 03:59 UTC is the day before", "newyork", at(time.UTC, 2026, 3, 9, 3, 59, 0), false, CalendarClosed, ""},
		{"EST day starts 05:00 UTC", "newyork", at(time.UTC, 2026, 11, 2, 5, 0, 0), false, CalendarHoliday, "after fall back"},
		{"EST 04:59 UTC is the day before", "newyork", at(time.UTC, 2026, 11, 2, 4, 59, 0), false, CalendarClosed, ""},
		{"long fall-back day, 01:30 second time", "newyork", at(time.UTC, 2026, 11, 1, 6, 30, 0), false, CalendarClosed, ""},
		{"long fall-back day, 08:00 EST", "newyork", at(time.UTC, 2026, 11, 1, 13, 0, 0), false, CalendarOpen, ""},
	}
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			got, name := cals[tt.cal].State(tt.t, tt.emergency)
			if got != tt.want || name != tt.wantName {
				t.Errorf("%s.State(%s, %v) = %s, %q; want %s, %q", tt.cal, tt.t.Format(time.RFC3339), tt.emergency, got, name, tt.want, tt.wantName)
			}
		})
	}
}

func TestCalendarFields(t *testing.T) {
	cals := sampleCalendars(t)
	if got := slices.Sorted(func(yield func(string) bool) {
		for k := range cals {
			if !yield(k) {
				return
			}
		}
	}); !slices.Equal(got, []string{"hotline", "newyork", "weekend"}) {
		t.Fatalf("calendars = %v", got)
	}
	h := cals["hotline"]
	if h.Name != "hotline" || h.Pos != (Pos{Line: 3, Col: 3}) || h.Description != "10086 人工服务" ||
		h.Location == nil || h.Location.String() != "Asia/Shanghai" || h.EmergencyDefault {
		t.Errorf("hotline = %+v", h)
	}
	if !cals["newyork"].EmergencyDefault {
		t.Error("newyork: EmergencyDefault = false; the file says true")
	}
}

func TestCalendarEmergencySwitch(t *testing.T) {
	cals := sampleCalendars(t)
	tests := []struct {
		cal  string
		sw   Switches
		want bool
	}{
		{"hotline", nil, false},
		{"newyork", nil, true},
		{"hotline", switchesForTest{}, false},
		{"hotline", switchesForTest{"emergency.hotline": true}, true},
		{"newyork", switchesForTest{"emergency.newyork": false}, false},
		{"newyork", switchesForTest{"emergency.hotline": false}, true},
		{"hotline", switchesForTest{"announce.hotline": true}, false},
	}
	for _, tt := range tests {
		if got := cals[tt.cal].Emergency(tt.sw); got != tt.want {
			t.Errorf("%s.Emergency(%v) = %v; want %v", tt.cal, tt.sw, got, tt.want)
		}
	}
}

func TestParseDays(t *testing.T) {
	tests := []struct {
		key  string
		want string // day names, or the error
	}{
		{"mon", "Monday"},
		{"mon-fri", "Monday Tuesday Wednesday Thursday Friday"},
		{"sat-sun", "Saturday Sunday"},
		{"fri-mon", "Friday Saturday Sunday Monday"},
		{"sun-sun", "Sunday"},
		{"daily", "Monday Tuesday Wednesday Thursday Friday Saturday Sunday"},
		{"monday", `unknown day "monday" (did you mean "mon"?); ` + dayRule},
		{"Mon", `unknown day "Mon" (did you mean "mon"?); ` + dayRule},
		{"mon-fry", `unknown day "fry" (did you mean "fri"?); ` + dayRule},
		{"weekdays", `unknown day "weekdays"; ` + dayRule},
		{"mon-", `unknown day ""; ` + dayRule},
		{"", `unknown day ""; ` + dayRule},
		{"周一", `unknown day "周一"; ` + dayRule},
	}
	for _, tt := range tests {
		days, msg := parseDays(tt.key)
		got := msg
		if msg == "" {
			names := make([]string, len(days))
			for i, d := range days {
				names[i] = d.String()
			}
			got = strings.Join(names, " ")
		}
		if got != tt.want {
			t.Errorf("parseDays(%q) = %q; want %q", tt.key, got, tt.want)
		}
	}
}

func TestParseSpan(t *testing.T) {
	tests := []struct {
		in   string
		want string // "HH:MM-HH:MM" as parsed, or the error
	}{
		{"08:00-20:00", "08:00-20:00"},
		{"00:00-24:00", "00:00-24:00"},
		{"23:59-24:00", "23:59-24:00"},
		{"08:00 - 20:00", "08:00-20:00"},
		{"8:00-20:00", `"8:00" in "8:00-20:00" is not a time; ` + spanRule + `, hours 00 to 23 (24:00 may end a range)`},
		{"08:00-25:00", `"25:00" in "08:00-25:00" is not a time; ` + spanRule + `, hours 00 to 23 (24:00 may end a range)`},
		{"08:60-09:00", `"08:60" in "08:60-09:00" is not a time; ` + spanRule + `, hours 00 to 23 (24:00 may end a range)`},
		{"08:00-24:01", `"24:01" in "08:00-24:01" is not a time; ` + spanRule + `, hours 00 to 23 (24:00 may end a range)`},
		{"24:00-24:00", `"24:00-24:00" starts at 24:00; a range may only end at 24:00, start it at 00:00`},
		{"08:00-08:00", `"08:00-08:00" is empty; the end must come after the start`},
		{"22:00-02:00", `"22:00-02:00" crosses midnight; split it: "22:00-24:00" on the one day and "00:00-02:00" on the next`},
		{"08:00~20:00", `"08:00~20:00" is not a time range; ` + spanRule + ` with a plain hyphen (-)`},
		{"08:00–20:00", `"08:00–20:00" is not a time range; ` + spanRule + ` with a plain hyphen (-)`},
		{"0800-2000", `"0800" in "0800-2000" is not a time; ` + spanRule + `, hours 00 to 23 (24:00 may end a range)`},
		{"08:00", `"08:00" is not a time range; ` + spanRule},
		{"", `"" is not a time range; ` + spanRule},
	}
	for _, tt := range tests {
		sp, msg := parseSpan(tt.in)
		got := msg
		if msg == "" {
			got = formatSpan(sp)
		}
		if got != tt.want {
			t.Errorf("parseSpan(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// TestCalendarErrors compares every issue of broken calendars files with
// the exact text the CLI prints.
func TestCalendarErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "missing calendars",
			src:  "kind: calendars\n",
			want: []string{
				`calendars.yaml:1:1: missing "calendars"; add calendars: with one entry per calendar, like hotline: {timezone: Asia/Shanghai, weekly: {mon-fri: ["08:00-20:00"]}}`,
			},
		},
		{
			name: "empty calendars",
			src:  "kind: calendars\ncalendars: {}\n",
			want: []string{
				`calendars.yaml:2:1: warning: calendars lists no calendar; add one or delete the file`,
			},
		},
		{
			name: "unknown top-level key",
			src:  "kind: calendars\ncalendar:\n  x: {}\n",
			want: []string{
				`calendars.yaml:1:1: missing "calendars"; add calendars: with one entry per calendar, like hotline: {timezone: Asia/Shanghai, weekly: {mon-fri: ["08:00-20:00"]}}`,
				`calendars.yaml:2:1: unknown field "calendar" (did you mean "calendars"?); calendars files accept: kind, calendars`,
			},
		},
		{
			name: "names",
			src: `kind: calendars
calendars:
  Hotline: {timezone: UTC, weekly: {daily: ["00:00-24:00"]}}
  hotline: {timezone: UTC, weekly: {daily: ["00:00-24:00"]}}
  hotline: {timezone: UTC, weekly: {daily: ["00:00-24:00"]}}
  empty:
`,
			want: []string{
				`calendars.yaml:3:3: calendar name "Hotline" is not valid: use lower-case letters, digits, _ and -, starting with a letter (at most 64)`,
				`calendars.yaml:5:3: calendar "hotline" is given twice (first at line 4); keep only one`,
				`calendars.yaml:6:3: calendar "empty" is empty; it needs key: value lines under it`,
			},
		},
		{
			name: "missing timezone and weekly, unknown field",
			src: `kind: calendars
calendars:
  hotline:
    hollidays: []
`,
			want: []string{
				`calendars.yaml:3:3: calendar "hotline": missing "timezone"; add timezone: Asia/Shanghai (an IANA time zone name): the hours are read in it`,
				`calendars.yaml:3:3: calendar "hotline": missing "weekly"; add weekly: with the opening hours, like mon-fri: ["08:00-20:00"] (daily: ["00:00-24:00"] for a line that never closes)`,
				`calendars.yaml:4:5: calendar "hotline": unknown field "hollidays" (did you mean "holidays"?); calendars accept: description, timezone, weekly, holidays, special, emergency`,
			},
		},
		{
			name: "timezones",
			src: `kind: calendars
calendars:
  a: {timezone: Beijing, weekly: {}}
  b: {timezone: Local, weekly: {}}
  c: {timezone: 8, weekly: {}}
`,
			want: []string{
				`calendars.yaml:3:17: calendar "a": unknown timezone "Beijing"; use an IANA time zone name such as Asia/Shanghai (China) or UTC — not an abbreviation like CST or an offset like UTC+8 (if the name is right, this server lacks time-zone data: install the tzdata package)`,
				`calendars.yaml:3:26: warning: calendar "a": weekly lists no day: the calendar is closed except on special dates; add hours like mon-fri: ["08:00-20:00"]`,
				`calendars.yaml:4:17: calendar "b": timezone Local depends on the server's settings; name the zone, like Asia/Shanghai`,
				`calendars.yaml:4:24: warning: calendar "b": weekly lists no day: the calendar is closed except on special dates; add hours like mon-fri: ["08:00-20:00"]`,
				`calendars.yaml:5:17: calendar "c": timezone must be text, not the number 8; quote it: "8"`,
				`calendars.yaml:5:20: warning: calendar "c": weekly lists no day: the calendar is closed except on special dates; add hours like mon-fri: ["08:00-20:00"]`,
			},
		},
		{
			name: "days",
			src: `kind: calendars
calendars:
  c:
    timezone: UTC
    weekly:
      monday: ["08:00-20:00"]
      mon-fri: ["08:00-20:00"]
      sat: ["09:00-17:00"]
      mon: ["09:00-12:00"]
      daily: []
`,
			want: []string{
				`calendars.yaml:6:7: calendar "c": weekly: unknown day "monday" (did you mean "mon"?); days are mon, tue, wed, thu, fri, sat, sun, a range like mon-fri, or daily`,
				`calendars.yaml:9:7: calendar "c": weekly: "mon-fri" (line 7) and "mon" (line 9) both give mon; give each day once`,
				`calendars.yaml:10:7: calendar "c": weekly: "mon-fri" (line 7) and "daily" (line 10) both give mon, tue, wed, thu, fri; give each day once`,
				`calendars.yaml:10:7: calendar "c": weekly: "sat" (line 8) and "daily" (line 10) both give sat; give each day once`,
			},
		},
		{
			name: "hours",
			src: `kind: calendars
calendars:
  c:
    timezone: UTC
    weekly:
      mon: ["8:00-20:00", "22:00-02:00", 1200]
      tue: ["08:00-12:00", "13:00-18:00", "11:00-14:00"]
      wed:
      thu: {from: "08:00"}
      fri: "08:00-20:00"
`,
			want: []string{
				`calendars.yaml:6:13: calendar "c": weekly "mon": "8:00" in "8:00-20:00" is not a time; write "HH:MM-HH:MM", like "08:00-20:00", hours 00 to 23 (24:00 may end a range)`,
				`calendars.yaml:6:27: calendar "c": weekly "mon": "22:00-02:00" crosses midnight; split it: "22:00-24:00" on the one day and "00:00-02:00" on the next`,
				`calendars.yaml:6:42: calendar "c": weekly "mon" range must be text, not the number 1200; quote it: "1200"`,
				`calendars.yaml:7:28: warning: calendar "c": weekly "tue": 11:00-14:00 and 13:00-18:00 overlap; merge them into 11:00-18:00`,
				`calendars.yaml:7:43: warning: calendar "c": weekly "tue": 08:00-12:00 and 11:00-14:00 overlap; merge them into 08:00-14:00`,
				`calendars.yaml:8:7: calendar "c": weekly "wed" is empty; list the opening hours like ["08:00-20:00"], or write [] for closed`,
				`calendars.yaml:9:12: calendar "c": weekly "thu" must be a list of ranges like ["08:00-20:00"], not a map`,
			},
		},
		{
			name: "holidays",
			src: `kind: calendars
calendars:
  c:
    timezone: UTC
    weekly: {daily: ["08:00-20:00"]}
    holidays:
      - {date: 2026-10-07, to: 2026-10-01, name: 国庆节}
      - {date: 2026-02-30}
      - {date: 2026-10-01, yearly: "10-01"}
      - {name: 元旦}
      - {yearly: "13-01"}
      - {yearly: 0501}
      - {yearly: "10-07", to: "10-01"}
      - {yearly: "02-29"}
      - {date: 2026-01-01, to: 2026-12-31}
      - {date: 2026-10-01, until: 2026-10-07}
      - 2026-10-01
      - {date: 2026/10/01}
`,
			want: []string{
				`calendars.yaml:7:32: calendar "c": holidays: to 2026-10-01 is before date 2026-10-07; the range runs from date: to to:, both included`,
				`calendars.yaml:8:16: calendar "c": holidays: date "2026-02-30" is not a date; write YYYY-MM-DD, like 2026-10-01`,
				`calendars.yaml:9:28: calendar "c": holidays: give date: or yearly:, not both`,
				`calendars.yaml:10:9: calendar "c": holidays: missing "date"; add date: 2026-10-01, or yearly: "05-01" for a date every year`,
				`calendars.yaml:11:18: calendar "c": holidays: yearly "13-01" is not a month and day; write "MM-DD" in quotes, like "05-01"`,
				`calendars.yaml:12:18: calendar "c": yearly must be text, not the number 0501; quote it: "0501"`,
				`calendars.yaml:13:31: calendar "c": holidays: to "10-01" is before yearly "10-07"; a yearly range stays within one year: split one across New Year into two entries`,
				`calendars.yaml:14:18: warning: calendar "c": holidays: "02-29" is a holiday only in leap years; check the date`,
				`calendars.yaml:15:32: warning: calendar "c": holidays: 2026-01-01 to 2026-12-31 is 365 days; check the dates (a holiday period is rarely longer than 31 days)`,
				`calendars.yaml:16:28: calendar "c": unknown field "until"; holidays entries accept: date, to, yearly, name`,
				`calendars.yaml:17:9: calendar "c": holidays entries are maps like {date: 2026-10-01, to: 2026-10-07, name: 国庆节}, not the text "2026-10-01"`,
				`calendars.yaml:18:16: calendar "c": holidays: date "2026/10/01" is not a date; write YYYY-MM-DD, like 2026-10-01`,
			},
		},
		{
			name: "special",
			src: `kind: calendars
calendars:
  c:
    timezone: UTC
    weekly: {daily: ["08:00-20:00"]}
    special:
      - {date: 2026-10-10, name: 调休上班}
      - {date: 2026-10-01, to: 2026-10-03, hours: []}
      - {date: 2026-10-03, hours: ["09:00-12:00"]}
      - {date: 2026-10-02, hours: ["09:00-12:00"]}
      - {yearly: "10-01", hours: []}
      - {date: 2026-11-01, hours: ["12:00-09:00"]}
`,
			want: []string{
				`calendars.yaml:7:9: calendar "c": special: missing "hours"; add hours: ["08:00-20:00"], or hours: [] to close the date`,
				`calendars.yaml:9:9: calendar "c": special: this entry and the one at line 8 share the date 2026-10-03; give each date once`,
				`calendars.yaml:10:9: calendar "c": special: this entry and the one at line 8 share the date 2026-10-02; give each date once`,
				`calendars.yaml:11:9: calendar "c": special: missing "date"; add date: 2026-10-10`,
				`calendars.yaml:11:10: calendar "c": unknown field "yearly"; special entries accept: date, to, hours, name`,
				`calendars.yaml:12:36: calendar "c": special hours: "12:00-09:00" crosses midnight; split it: "12:00-24:00" on the one day and "00:00-09:00" on the next`,
			},
		},
		{
			name: "wrong types",
			src: `kind: calendars
calendars:
  c:
    timezone: UTC
    weekly: ["mon-fri 08:00-20:00"]
    holidays: 2026-10-01
    special:
    emergency: "no"
  d:
    timezone: UTC
    weekly: {daily: ["08:00-20:00"]}
    description: 12
    emergency: yes
`,
			want: []string{
				`calendars.yaml:5:13: calendar "c": weekly must be a map of key: value lines, not a list`,
				`calendars.yaml:6:15: calendar "c": holidays must be a list of entries like - {date: 2026-10-01, to: 2026-10-07, name: 国庆节}, not the text "2026-10-01"`,
				`calendars.yaml:7:5: calendar "c": special is empty; list entries like - {date: 2026-10-10, hours: ["08:00-20:00"], name: 调休上班}, or remove the line`,
				`calendars.yaml:8:16: calendar "c": emergency must be true or false, not the text "no"`,
				`calendars.yaml:12:18: calendar "d": description must be text, not the number 12; quote it: "12"`,
				`calendars.yaml:13:16: calendar "d": emergency must be true or false, not the text "yes"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := compileKindFile([]byte(tt.src), "calendars", compileCalendars)
			if !slices.Equal(got, tt.want) {
				t.Errorf("issues differ\n--- got\n%s\n--- want\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// FuzzCalendar feeds arbitrary bytes to the calendars reader: it must never
// panic, every issue must be well formed, and every calendar it returns —
// even a broken one — must answer State without panicking.
func FuzzCalendar(f *testing.F) {
	f.Add([]byte(calendarsSample))
	for _, seed := range []string{
		"kind: calendars\n",
		"kind: calendars\ncalendars: {c: {timezone: UTC, weekly: {mon-fri: [\"08:00-20:00\"]}, holidays: [{yearly: \"02-29\"}]}}\n",
		"kind: calendars\ncalendars:\n  c:\n    timezone: Asia/Shanghai\n    weekly: {daily: \"00:00-24:00\", mon: []}\n    special: [{date: 2026-01-01, to: 2026-01-02, hours: []}, {date: 2026-01-02, hours: []}]\n",
		"calendars: [1, 2]\n",
		"calendars: {x: [a]}\n",
	} {
		f.Add([]byte(seed))
	}
	times := []time.Time{
		time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cals, issues := compileKindFile(src, "calendars", compileCalendars)
		for _, is := range issues {
			if strings.HasPrefix(is, "MALFORMED") {
				t.Fatal(is)
			}
		}
		for name, c := range cals {
			if c == nil || c.Name != name {
				t.Fatalf("calendar %q is %+v", name, c)
			}
			for _, at := range times {
				for _, emergency := range []bool{false, true} {
					st, _ := c.State(at, emergency)
					if emergency && st != CalendarEmergency {
						t.Fatalf("State with emergency = %s", st)
					}
					if !slices.Contains([]CalendarState{CalendarOpen, CalendarClosed, CalendarHoliday, CalendarEmergency}, st) {
						t.Fatalf("State = %q", st)
					}
				}
			}
			c.Emergency(nil)
		}
	})
}
