package report

import (
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2026-11-25", time.Date(2026, 11, 25, 0, 0, 0, 0, cst)},
		{" 2026-11-25 ", time.Date(2026, 11, 25, 0, 0, 0, 0, cst)},
		{"2026-11-25T09:30", time.Date(2026, 11, 25, 9, 30, 0, 0, cst)},
		{"2026-11-25 09:30:15", time.Date(2026, 11, 25, 9, 30, 15, 0, cst)},
		{"2026-11-25T01:30:00Z", time.Date(2026, 11, 25, 9, 30, 0, 0, cst)},
		{"2026-11-25T09:30:00+08:00", time.Date(2026, 11, 25, 9, 30, 0, 0, cst)},
	} {
		got, err := ParseTime(tc.in, cst)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2026-13-01", "25/11/2026", "2026-11-25T25:00"} {
		if _, err := ParseTime(bad, cst); err == nil || !strings.Contains(err.Error(), "write a date") {
			t.Errorf("ParseTime(%q) = %v, want an error saying what to write", bad, err)
		}
	}
}

func TestToday(t *testing.T) {
	from, to := Today(time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC), cst) // 01:00 on the 26th in +08:00
	if !from.Equal(time.Date(2026, 11, 26, 0, 0, 0, 0, cst)) || !to.Equal(time.Date(2026, 11, 27, 0, 0, 0, 0, cst)) {
		t.Errorf("Today = %v, %v", from, to)
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-25", "2026-11-25T09:30", "2026-11-25 09:30:15", "2026-11-25T09:30:00+08:00", "x", "9999-12-31T23:59:59.999999999-23:59"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s, cst)
		if err != nil {
			return
		}
		// What parses, printed in RFC 3339, parses to the same instant.
		again, err := ParseTime(got.Format(time.RFC3339Nano), cst)
		if err != nil || !again.Equal(got) {
			t.Fatalf("ParseTime(%q) = %v; its RFC 3339 form gives %v, %v", s, got, again, err)
		}
	})
}
