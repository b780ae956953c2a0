package grade

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseThresholds(t *testing.T) {
	got, err := LoadThresholds("../../../testdata/grading/national.thresholds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Thresholds{Five: 1230 * ScoreUnit, Four: 640 * ScoreUnit, Three: 380 * ScoreUnit, Two: 120 * ScoreUnit,
		Customers: 1_000_000, ComputedAt: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	if *got != want {
		t.Errorf("got %+v, want %+v", *got, want)
	}
	// Decimals and equal thresholds are fine; customers and computed_at optional.
	got, err = ParseThresholds([]byte("five_star: 100.5\nfour_star: 100.5\nthree_star: 0\ntwo_star: 0\n"), "t.yaml")
	if err != nil || got.Five != 1005*ScoreUnit/10 || got.Two != 0 {
		t.Errorf("decimals: %+v, %v", got, err)
	}
}

func TestParseThresholdsErrors(t *testing.T) {
	const ok = "five_star: 1230\nfour_star: 640\nthree_star: 380\ntwo_star: 120\n"
	for _, tc := range []struct {
		name, src string
		want      []string // substrings
	}{
		{"empty", "", []string{"t.yaml:1:1:", "no thresholds"}},
		{"comment only", "# nothing\n", []string{"t.yaml:1:1:", "no thresholds"}},
		{"not a mapping", "- 1\n- 2\n", []string{"t.yaml:1:1:", "not a mapping"}},
		{"missing", "five_star: 1230\nfour_star: 640\n", []string{"column three_star: missing", "column two_star: missing"}},
		{"negative", strings.Replace(ok, "640", "-640", 1), []string{"t.yaml:2:12: column four_star: \"-640\": negative"}},
		{"not a number", strings.Replace(ok, "380", "lots", 1), []string{"t.yaml:3:13: column three_star: \"lots\": not a number"}},
		{"no value", strings.Replace(ok, " 120", "", 1), []string{"t.yaml:4:", "column two_star: no value"}},
		{"order", strings.Replace(ok, "380", "700", 1), []string{"t.yaml:3:1:", "three_star (700) is above four_star (640)", "five_star ≥ four_star"}},
		{"unknown key", ok + "six_star: 2000\n", []string{"t.yaml:5:1: column six_star: unknown key"}},
		{"repeated", ok + "two_star: 100\n", []string{"t.yaml:5:1:", "\"two_star\" already defined at [4:1]"}},
		{"bad customers", ok + "customers: many\n", []string{"t.yaml:5:12: column customers:"}},
		{"bad time", ok + "computed_at: yesterday\n", []string{"t.yaml:5:14: column computed_at:", "2026-11-25T10:00:00Z"}},
		{"syntax", "five_star: [1\n", []string{"t.yaml:"}},
		{"too large", strings.Replace(ok, "1230", "9999999999999", 1), []string{"t.yaml:1:12:", "too large"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseThresholds([]byte(tc.src), "t.yaml")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestMarshalThresholdsReadsBack(t *testing.T) {
	s := scores(t, "1200", "950", "645", "645", "275", "274.99999", "272", "200", "187", "171", "130",
		"125", "125", "125", "125", "125", "100", "55", "10.5", "0")
	c, err := Compute(slices.Clone(s), 0)
	if err != nil {
		t.Fatal(err)
	}
	c.ComputedAt = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	data := MarshalThresholds(c)
	got, err := ParseThresholds(data, "out.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if *got != c.Thresholds {
		t.Errorf("read back %+v, want %+v\n%s", *got, c.Thresholds, data)
	}
}

// FuzzParseThresholds: no panic; accepted thresholds are ordered and
// written back read the same.
func FuzzParseThresholds(f *testing.F) {
	f.Add([]byte("five_star: 1230\nfour_star: 640\nthree_star: 380\ntwo_star: 120\ncustomers: 10\ncomputed_at: 2026-11-25T10:00:00Z\n"))
	f.Add([]byte("five_star: 1\nfour_star: 1\nthree_star: 1\ntwo_star: 1\nfive_star: 2\n"))
	f.Add([]byte("{five_star: 5, four_star: 4, three_star: 3, two_star: 2}"))
	f.Add([]byte("five_star: !!str 5\n---\nfour_star: 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		th, err := ParseThresholds(data, "f.yaml")
		if err != nil {
			return
		}
		if err := th.validate(); err != nil {
			t.Fatalf("accepted unordered thresholds %+v: %v", th, err)
		}
	})
}
