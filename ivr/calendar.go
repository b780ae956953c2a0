package ivr

// This file reads calendars files and says whether a calendar is open.
//
// A calendars file of a flows directory holds the opening hours that hours
// nodes check, each calendar by name:
//
//	kind: calendars
//	calendars:
//	  hotline:
//	    description: 10086 人工服务时间      # optional
//	    timezone: Asia/Shanghai            # required: an IANA time zone name
//	    weekly:                            # required: opening hours by day
//	      mon-fri: ["08:00-20:00"]
//	      sat: ["09:00-17:00", "18:00-19:00"]
//	      sun: []                          # closed (days not listed are closed too)
//	    holidays:                          # closed all day
//	      - {date: 2026-10-01, to: 2026-10-07, name: 国庆节}
//	      - {date: 2027-01-01, name: 元旦}
//	      - {yearly: "05-01", name: 劳动节}
//	    special:                           # hours that replace the weekly ones
//	      - {date: 2026-10-10, hours: ["08:00-20:00"], name: 调休上班}
//	      - {date: 2026-12-31, hours: [], name: 年终盘点}   # closed that day
//	    emergency: false                   # default of the emergency switch
//
// Days (the keys of weekly) are mon, tue, wed, thu, fri, sat and sun; a
// range of days such as mon-fri (a range may wrap over the weekend:
// fri-mon is fri, sat, sun, mon); or daily, every day. Each day may be given
// by one key only: mon-fri and mon together are an error.
//
// Hours are a list of "HH:MM-HH:MM" ranges in the calendar's time zone,
// read by the wall clock (so a day across a daylight-saving change still
// opens at 08:00 local time). A range includes its start and excludes its
// end: "08:00-20:00" is open at 08:00 and closed at 20:00. The end may be
// 24:00. A range may not cross midnight: "22:00-02:00" is an error whose
// hint says to split it into "22:00-24:00" on the one day and "00:00-02:00"
// on the next — so that a holiday or special date always governs exactly
// its own 24 hours. A single range may be written without the brackets;
// ranges of one day that overlap are a warning.
//
// A holiday is one date (date: YYYY-MM-DD), a range of dates (date: and
// to:, both included), or a date every year (yearly: "MM-DD", with an
// optional to: "MM-DD" in the same year; "02-29" only matches in leap
// years). A special date (date:, optional to:, hours:) replaces the weekly
// hours of its dates; hours: [] closes them. Two special entries may not
// share a date.
//
// Precedence, first match wins:
//
//  1. emergency: the calendar's emergency switch is on → emergency;
//  2. special date: open within its hours, closed outside them;
//  3. holiday: holiday all day;
//  4. weekly hours: open within them, closed outside them;
//  5. otherwise closed.
//
// A special date beats a holiday on the same date. That is how China's
// 调休 works: a make-up working day inside a holiday range is written as a
// special date, without cutting the range in two; and reduced hours on a
// holiday (春节 hotline open 09:00-17:00) are a special date too. Dated
// holidays are checked before yearly ones, each in file order, for the
// name State returns.
//
// The emergency switch is the Switches state named
// SwitchName("emergency", <calendar>); when operations have not set it,
// emergency: (default false) applies.

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// CalendarState says whether a calendar is open; the values are the exits
// of an hours node.
type CalendarState string

// Calendar states.
const (
	// CalendarOpen: within the day's opening hours.
	CalendarOpen CalendarState = "open"
	// CalendarClosed: outside the day's opening hours.
	CalendarClosed CalendarState = "closed"
	// CalendarHoliday: a holiday, closed all day.
	CalendarHoliday CalendarState = "holiday"
	// CalendarEmergency: closed by the emergency switch.
	CalendarEmergency CalendarState = "emergency"
)

// Calendar is one calendar of a calendars file: opening hours by weekday,
// holidays and special dates, in one time zone.
type Calendar struct {
	// Name is the calendar's name, which hours nodes refer to.
	Name string
	// Pos is where the calendar is defined.
	Pos Pos
	// Description is the optional description.
	Description string
	// Location is the time zone the hours are in.
	Location *time.Location
	// EmergencyDefault is the emergency switch's state when operations
	// have not set it.
	EmergencyDefault bool

	weekly   [7][]span // opening hours by time.Weekday
	holidays []holiday // dated holidays first, then yearly ones
	specials []special
}

// span is an opening range of one day in minutes after midnight, start
// included, end excluded.
type span struct {
	start, end int
	pos        Pos
}

// holiday is a date range closed all day. Dates are yyyymmdd numbers, or
// mmdd for yearly holidays; both ends are included.
type holiday struct {
	name     string
	pos      Pos
	yearly   bool
	from, to int
}

// special is a date range (yyyymmdd, both ends included) with its own
// opening hours.
type special struct {
	name     string
	pos      Pos
	from, to int
	hours    []span
}

// State says whether the calendar is open at t; emergency is the switch's
// effective state. name is the holiday or special date's name, if any.
// t is read in the calendar's time zone, by the wall clock, to the minute.
func (c *Calendar) State(t time.Time, emergency bool) (state CalendarState, name string) {
	if emergency {
		return CalendarEmergency, ""
	}
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	y, m, d := t.Date()
	date := y*10000 + int(m)*100 + d
	minute := t.Hour()*60 + t.Minute()
	for _, sp := range c.specials {
		if sp.from <= date && date <= sp.to {
			if within(sp.hours, minute) {
				return CalendarOpen, sp.name
			}
			return CalendarClosed, sp.name
		}
	}
	for _, h := range c.holidays {
		k := date
		if h.yearly {
			k = date % 10000
		}
		if h.from <= k && k <= h.to {
			return CalendarHoliday, h.name
		}
	}
	if within(c.weekly[t.Weekday()], minute) {
		return CalendarOpen, ""
	}
	return CalendarClosed, ""
}

// Emergency returns the effective state of the calendar's emergency switch:
// the switch's state when operations have set it, else EmergencyDefault.
// sw may be nil.
func (c *Calendar) Emergency(sw Switches) bool {
	if sw != nil {
		if on, set := sw.State(SwitchName("emergency", c.Name)); set {
			return on
		}
	}
	return c.EmergencyDefault
}

// within reports whether minute falls in one of the spans.
func within(spans []span, minute int) bool {
	for _, s := range spans {
		if s.start <= minute && minute < s.end {
			return true
		}
	}
	return false
}

// calendarKeys are the fields of one calendar.
func calendarKeys() []string {
	return []string{"description", "timezone", "weekly", "holidays", "special", "emergency"}
}

// compileCalendars reads the top-level fields of a `kind: calendars` file
// (the loader has already checked `kind`); it reports every problem to s
// and returns the calendars it could read. A calendar with errors in its
// body is returned too, partly filled, so that flows naming it do not get
// a second, misleading "unknown calendar" error; the errors keep the set
// from loading anyway.
func compileCalendars(s scope, fields map[string]entry) map[string]*Calendar {
	out := map[string]*Calendar{}
	for _, ce := range namedEntries(s, fields, "calendars", "calendar",
		`calendars: with one entry per calendar, like hotline: {timezone: Asia/Shanghai, weekly: {mon-fri: ["08:00-20:00"]}}`) {
		out[ce.key] = compileCalendar(s, ce)
	}
	return out
}

// namedEntries reads the map under key (calendars:, announcements:) of a
// file's top-level fields, reporting a missing or empty map and names
// that are not valid; noun names one entry in messages.
func namedEntries(s scope, fields map[string]entry, key, noun, example string) []entry {
	e, ok := fields[key]
	if !ok {
		at := Pos{Line: 1, Col: 1}
		if k, ok := fields["kind"]; ok {
			at = k.keyPos
		}
		s.errorf(at, "missing %q; add %s", key, example)
		return nil
	}
	entries, ok := s.mapEntries(e.val, e.keyPos, key, dupNoun(noun))
	if !ok {
		return nil
	}
	if len(entries) == 0 {
		s.warnf(e.keyPos, "%s lists no %s; add one or delete the file", key, noun)
	}
	for _, ne := range entries {
		if !validName(ne.key) {
			s.errorf(ne.keyPos, "%s name %q is not valid: %s", noun, ne.key, nameRule)
		}
	}
	return entries
}

// compileCalendar reads one calendar's body.
func compileCalendar(top scope, ce entry) *Calendar {
	c := &Calendar{Name: ce.key, Pos: ce.keyPos}
	entries, ok := top.mapEntries(ce.val, ce.keyPos, fmt.Sprintf("calendar %q", ce.key), dupField)
	if !ok {
		return c
	}
	s := scope{issues: top.issues, prefix: top.prefix + fmt.Sprintf("calendar %q: ", ce.key)}
	f := s.fields(entries, calendarKeys(), "calendars")
	if e, ok := f["description"]; ok {
		c.Description, _ = s.text("description", e)
	}
	if e, ok := f["timezone"]; ok {
		c.Location = readTimezone(s, e)
	} else {
		s.errorf(ce.keyPos, "missing \"timezone\"; add timezone: Asia/Shanghai (an IANA time zone name): the hours are read in it")
	}
	if e, ok := f["weekly"]; ok {
		c.weekly = readWeekly(s, e)
	} else {
		s.errorf(ce.keyPos, "missing \"weekly\"; add weekly: with the opening hours, like mon-fri: [\"08:00-20:00\"] (daily: [\"00:00-24:00\"] for a line that never closes)")
	}
	if e, ok := f["holidays"]; ok {
		c.holidays = readHolidays(s, e)
	}
	if e, ok := f["special"]; ok {
		c.specials = readSpecials(s, e)
	}
	if e, ok := f["emergency"]; ok {
		c.EmergencyDefault, _ = s.boolean("emergency", e)
	}
	return c
}

// readTimezone reads timezone: as an IANA zone; nil when it cannot.
func readTimezone(s scope, e entry) *time.Location {
	name, ok := s.text("timezone", e)
	if !ok {
		return nil
	}
	if name == "Local" {
		s.errorf(e.valPos(), "timezone Local depends on the server's settings; name the zone, like Asia/Shanghai")
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		s.errorf(e.valPos(), "unknown timezone %q; use an IANA time zone name such as Asia/Shanghai (China) or UTC — not an abbreviation like CST or an offset like UTC+8 (if the name is right, this server lacks time-zone data: install the tzdata package)", name)
		return nil
	}
	return loc
}

const dayRule = "days are mon, tue, wed, thu, fri, sat, sun, a range like mon-fri, or daily"

// weekday returns the i-th day of the week, counting from Monday (0): the
// order in which day ranges such as mon-fri run.
func weekday(i int) time.Weekday { return time.Weekday((i + 1) % 7) }

// dayName is a day's name in weekly keys: "mon".
func dayName(d time.Weekday) string { return strings.ToLower(d.String()[:3]) }

// dayIndex returns the index (0 = Monday) of a day name, or -1.
func dayIndex(name string) int {
	for i := range 7 {
		if dayName(weekday(i)) == name {
			return i
		}
	}
	return -1
}

// parseDays reads a weekly key: a day, a range of days or daily.
func parseDays(key string) ([]time.Weekday, string) {
	if key == "daily" {
		days := make([]time.Weekday, 7)
		for i := range days {
			days[i] = weekday(i)
		}
		return days, ""
	}
	first, last, isRange := strings.Cut(key, "-")
	if !isRange {
		last = first
	}
	a, b := dayIndex(first), dayIndex(last)
	if a < 0 || b < 0 {
		bad := first
		if a >= 0 {
			bad = last
		}
		return nil, fmt.Sprintf("unknown day %q%s; %s", bad, dayHint(bad), dayRule)
	}
	var days []time.Weekday
	for i := a; ; i = (i + 1) % 7 {
		days = append(days, weekday(i))
		if i == b {
			return days, ""
		}
	}
}

// dayHint suggests the day name for "Monday", "MON", "tues".
func dayHint(bad string) string {
	l := strings.ToLower(bad)
	if len(l) >= 3 && dayIndex(l[:3]) >= 0 {
		return fmt.Sprintf(" (did you mean %q?)", l[:3])
	}
	names := []string{"daily"}
	for i := range 7 {
		names = append(names, dayName(weekday(i)))
	}
	return didYouMean(bad, names)
}

// readWeekly reads weekly:, reporting unknown days and days given twice.
func readWeekly(s scope, e entry) [7][]span {
	var week [7][]span
	entries, ok := s.mapEntries(e.val, e.keyPos, "weekly", dupField)
	if !ok {
		return week
	}
	if len(entries) == 0 {
		s.warnf(e.keyPos, "weekly lists no day: the calendar is closed except on special dates; add hours like mon-fri: [\"08:00-20:00\"]")
	}
	var given [7]*entry // the key that gave each day
	for i := range entries {
		de := &entries[i]
		days, msg := parseDays(de.key)
		if msg != "" {
			s.errorf(de.keyPos, "weekly: %s", msg)
			continue
		}
		clash := map[*entry][]string{}
		var order []*entry
		for _, d := range days {
			if prev := given[d]; prev != nil {
				if _, seen := clash[prev]; !seen {
					order = append(order, prev)
				}
				clash[prev] = append(clash[prev], dayName(d))
				continue
			}
			given[d] = de
		}
		for _, prev := range order {
			s.errorf(de.keyPos, "weekly: %q (line %d) and %q (line %d) both give %s; give each day once",
				prev.key, prev.keyPos.Line, de.key, de.keyPos.Line, strings.Join(clash[prev], ", "))
		}
		hours, _ := readHours(s, fmt.Sprintf("weekly %q", de.key), *de)
		for _, d := range days {
			if given[d] == de {
				week[d] = hours
			}
		}
	}
	return week
}

// readHours reads a list of "HH:MM-HH:MM" ranges ([] means closed), or a
// single range without brackets. The ranges come back sorted.
func readHours(s scope, name string, e entry) ([]span, bool) {
	var items []ast.Node
	switch v := e.val.(type) {
	case *ast.SequenceNode:
		items = v.Values
	case *ast.MappingNode, *ast.MappingValueNode:
		s.errorf(e.valPos(), "%s must be a list of ranges like [\"08:00-20:00\"], not a map", name)
		return nil, false
	default:
		if isNull(e.val) {
			s.errorf(e.keyPos, "%s is empty; list the opening hours like [\"08:00-20:00\"], or write [] for closed", name)
			return nil, false
		}
		items = []ast.Node{e.val}
	}
	spans := make([]span, 0, len(items))
	good := true
	for _, it := range items {
		str, ok := s.textNode(name+" range", it, e.valPos())
		if !ok {
			good = false
			continue
		}
		at := posOr(it, e.valPos())
		sp, msg := parseSpan(str)
		if msg != "" {
			s.errorf(at, "%s: %s", name, msg)
			good = false
			continue
		}
		sp.pos = at
		spans = append(spans, sp)
	}
	slices.SortStableFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	// Compare each range with the furthest-reaching one before it.
	for i, reach := 1, 0; i < len(spans); i++ {
		prev, cur := spans[reach], spans[i]
		if cur.start < prev.end {
			s.warnf(cur.pos, "%s: %s and %s overlap; merge them into %s",
				name, formatSpan(prev), formatSpan(cur), formatSpan(span{start: prev.start, end: max(prev.end, cur.end)}))
		}
		if cur.end > prev.end {
			reach = i
		}
	}
	return spans, good
}

const spanRule = `write "HH:MM-HH:MM", like "08:00-20:00"`

// parseSpan reads "HH:MM-HH:MM"; msg says what is wrong.
func parseSpan(str string) (sp span, msg string) {
	a, b, ok := strings.Cut(str, "-")
	if !ok {
		hint := ""
		if strings.ContainsAny(str, "–—~～至到") {
			hint = " with a plain hyphen (-)"
		}
		return span{}, fmt.Sprintf("%q is not a time range; %s%s", str, spanRule, hint)
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	start, ok1 := parseClock(a)
	end, ok2 := parseClock(b)
	switch {
	case !ok1 || !ok2:
		bad := a
		if ok1 {
			bad = b
		}
		return span{}, fmt.Sprintf("%q in %q is not a time; %s, hours 00 to 23 (24:00 may end a range)", bad, str, spanRule)
	case start == 24*60:
		return span{}, fmt.Sprintf("%q starts at 24:00; a range may only end at 24:00, start it at 00:00", str)
	case end == start:
		return span{}, fmt.Sprintf("%q is empty; the end must come after the start", str)
	case end < start:
		return span{}, fmt.Sprintf("%q crosses midnight; split it: \"%s-24:00\" on the one day and \"00:00-%s\" on the next", str, a, b)
	}
	return span{start: start, end: end}, ""
}

// parseClock reads "HH:MM", 00:00 to 24:00, into minutes after midnight.
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

// formatSpan writes a span the way the file does: "08:00-20:00".
func formatSpan(sp span) string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", sp.start/60, sp.start%60, sp.end/60, sp.end%60)
}

// listItems returns the fields of each map in a list value (holidays:,
// special:) with the position where each map starts, reporting a value
// that is not a list of maps. allowed are the fields an entry accepts.
func listItems(s scope, e entry, allowed []string, example string) ([]map[string]entry, []Pos) {
	seq, ok := e.val.(*ast.SequenceNode)
	if !ok {
		if isNull(e.val) {
			s.errorf(e.keyPos, "%s is empty; list entries like - %s, or remove the line", e.key, example)
		} else {
			s.errorf(e.valPos(), "%s must be a list of entries like - %s, not %s%s", e.key, example, describe(e.val), unsupportedHint(e.val))
		}
		return nil, nil
	}
	var (
		items []map[string]entry
		poss  []Pos
	)
	for _, it := range seq.Values {
		at := posOr(it, e.valPos())
		switch it.(type) {
		case *ast.MappingNode, *ast.MappingValueNode:
		default:
			s.errorf(at, "%s entries are maps like %s, not %s%s", e.key, example, describe(it), unsupportedHint(it))
			continue
		}
		entries, ok := s.mapEntries(it, at, e.key+" entry", dupField)
		if !ok {
			continue
		}
		items = append(items, s.fields(entries, allowed, e.key+" entries"))
		poss = append(poss, at)
	}
	return items, poss
}

// dateSpan is what a holiday or special entry says about its dates.
type dateSpan struct {
	from, to int // yyyymmdd, or mmdd when yearly
	yearly   bool
}

// maxDays is the longest date range that is not a warning: longer ones are
// most likely a mistyped year or month.
const maxDays = 31

// readDates reads date: and to: (or yearly: and to: when yearly is
// allowed) of one holiday or special entry.
func readDates(s scope, what string, f map[string]entry, at Pos, allowYearly bool) (dateSpan, bool) {
	de, hasDate := f["date"]
	ye, hasYearly := f["yearly"]
	switch {
	case hasDate && hasYearly:
		s.errorf(ye.keyPos, "%s: give date: or yearly:, not both", what)
		return dateSpan{}, false
	case hasYearly:
		return readYearly(s, what, ye, f)
	case !hasDate:
		if allowYearly {
			s.errorf(at, "%s: missing \"date\"; add date: 2026-10-01, or yearly: \"05-01\" for a date every year", what)
		} else {
			s.errorf(at, "%s: missing \"date\"; add date: 2026-10-10", what)
		}
		return dateSpan{}, false
	}
	from, ok := readDate(s, what, de)
	if !ok {
		return dateSpan{}, false
	}
	ds := dateSpan{from: ymd(from), to: ymd(from)}
	te, hasTo := f["to"]
	if !hasTo {
		return ds, true
	}
	to, ok := readDate(s, what, te)
	if !ok {
		return dateSpan{}, false
	}
	if to.Before(from) {
		s.errorf(te.valPos(), "%s: to %s is before date %s; the range runs from date: to to:, both included", what, to.Format(time.DateOnly), from.Format(time.DateOnly))
		return dateSpan{}, false
	}
	if n := int(to.Sub(from).Hours()/24) + 1; n > maxDays {
		s.warnf(te.valPos(), "%s: %s to %s is %d days; check the dates (a holiday period is rarely longer than %d days)", what, from.Format(time.DateOnly), to.Format(time.DateOnly), n, maxDays)
	}
	ds.to = ymd(to)
	return ds, true
}

// readDate reads a YYYY-MM-DD value.
func readDate(s scope, what string, e entry) (time.Time, bool) {
	str, ok := s.text(e.key, e)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, str)
	if err != nil {
		s.errorf(e.valPos(), "%s: %s %q is not a date; write YYYY-MM-DD, like 2026-10-01", what, e.key, str)
		return time.Time{}, false
	}
	return t, true
}

// ymd is a date as the number yyyymmdd, which orders like the date.
func ymd(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

// readYearly reads yearly: and its optional to:, both "MM-DD".
func readYearly(s scope, what string, ye entry, f map[string]entry) (dateSpan, bool) {
	from, ok := readMonthDay(s, what, ye)
	if !ok {
		return dateSpan{}, false
	}
	if from == 229 {
		s.warnf(ye.valPos(), "%s: \"02-29\" is a holiday only in leap years; check the date", what)
	}
	ds := dateSpan{from: from, to: from, yearly: true}
	te, hasTo := f["to"]
	if !hasTo {
		return ds, true
	}
	to, ok := readMonthDay(s, what, te)
	if !ok {
		return dateSpan{}, false
	}
	if to < from {
		s.errorf(te.valPos(), "%s: to \"%02d-%02d\" is before yearly \"%02d-%02d\"; a yearly range stays within one year: split one across New Year into two entries",
			what, to/100, to%100, from/100, from%100)
		return dateSpan{}, false
	}
	ds.to = to
	return ds, true
}

// readMonthDay reads "MM-DD" into mmdd.
func readMonthDay(s scope, what string, e entry) (int, bool) {
	str, ok := s.text(e.key, e)
	if !ok {
		return 0, false
	}
	t, err := time.Parse("2006-01-02", "2024-"+str) // a leap year, so 02-29 is a date
	if err != nil || len(str) != 5 {
		s.errorf(e.valPos(), "%s: %s %q is not a month and day; write \"MM-DD\" in quotes, like \"05-01\"", what, e.key, str)
		return 0, false
	}
	return ymd(t) % 10000, true
}

// readName reads the optional name: of a holiday or special entry.
func readName(s scope, what string, f map[string]entry) string {
	if e, ok := f["name"]; ok {
		v, _ := s.text(what+": name", e)
		return v
	}
	return ""
}

// readHolidays reads holidays:, dated ones first, then yearly ones.
func readHolidays(s scope, e entry) []holiday {
	items, poss := listItems(s, e, []string{"date", "to", "yearly", "name"}, "{date: 2026-10-01, to: 2026-10-07, name: 国庆节}")
	var dated, yearly []holiday
	for i, f := range items {
		ds, ok := readDates(s, "holidays", f, poss[i], true)
		if !ok {
			continue
		}
		h := holiday{name: readName(s, "holidays", f), pos: poss[i], yearly: ds.yearly, from: ds.from, to: ds.to}
		if h.yearly {
			yearly = append(yearly, h)
		} else {
			dated = append(dated, h)
		}
	}
	return append(dated, yearly...)
}

// readSpecials reads special:, reporting dates two entries share.
func readSpecials(s scope, e entry) []special {
	items, poss := listItems(s, e, []string{"date", "to", "hours", "name"}, `{date: 2026-10-10, hours: ["08:00-20:00"], name: 调休上班}`)
	var out []special
	for i, f := range items {
		ds, ok := readDates(s, "special", f, poss[i], false)
		sp := special{name: readName(s, "special", f), pos: poss[i], from: ds.from, to: ds.to}
		he, hasHours := f["hours"]
		if !hasHours {
			s.errorf(poss[i], "special: missing \"hours\"; add hours: [\"08:00-20:00\"], or hours: [] to close the date")
			continue
		}
		hours, good := readHours(s, "special hours", he)
		if !ok || !good {
			continue
		}
		sp.hours = hours
		out = append(out, sp)
	}
	// Two entries may not share a date: sort by start and compare each
	// entry with the furthest-reaching one before it.
	sorted := slices.Clone(out)
	slices.SortStableFunc(sorted, func(a, b special) int { return cmp.Compare(a.from, b.from) })
	for i := 1; i < len(sorted); i++ {
		reach, cur := sorted[i-1], sorted[i]
		if cur.from <= reach.to {
			first, second := reach, cur
			if second.pos.Line < first.pos.Line {
				first, second = second, first
			}
			s.errorf(second.pos, "special: this entry and the one at line %d share the date %s; give each date once",
				first.pos.Line, formatYMD(cur.from))
		}
		if reach.to > cur.to {
			sorted[i] = reach // carry the furthest-reaching entry forward
		}
	}
	return out
}

// formatYMD writes a yyyymmdd number as YYYY-MM-DD.
func formatYMD(d int) string {
	return fmt.Sprintf("%04d-%02d-%02d", d/10000, d/100%100, d%100)
}
