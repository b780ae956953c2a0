package report

import (
	"fmt"
	"strings"
	"time"
)

// ParseTime reads a period bound: a date "2026-11-25" (midnight at its
// start in loc), a date and time "2026-11-25T09:30" or "2026-11-25 09:30"
// (in loc, seconds optional), or RFC 3339 with its own offset
// ("2026-11-25T09:30:00+08:00", "…Z").
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.Local
	}
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: write a date (2026-11-25), a local time (2026-11-25T09:30) or RFC 3339 (2026-11-25T09:30:00+08:00)", s)
}

// Today is [midnight, next midnight) of now's day in loc.
func Today(now time.Time, loc *time.Location) (from, to time.Time) {
	if loc == nil {
		loc = time.Local
	}
	n := now.In(loc)
	from = time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	return from, from.AddDate(0, 0, 1)
}
