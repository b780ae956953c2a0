package grade

import (
	"errors"
	"strconv"
	"testing"
)

func TestCoefficientBoundaries(t *testing.T) {
	for _, tc := range []struct {
		months int
		tenths int64
	}{
		{0, 10}, {12, 10}, {13, 11}, {24, 11}, {25, 15}, {36, 15}, {37, 17},
		{48, 17}, {49, 19}, {60, 19}, {61, 20}, {1200, 20},
	} {
		if got := Coefficient(tc.months); got != tc.tenths {
			t.Errorf("Coefficient(%d) = %d tenths, want %d", tc.months, got, tc.tenths)
		}
	}
}

func TestComposite(t *testing.T) {
	for _, tc := range []struct {
		value  string
		months int
		want   string
	}{
		{"250", 13, "275"},            // 250 × 1.1 = 275 exactly (float gives 275.00000000000006)
		{"0.1", 24, "0.11"},           // 0.1 × 1.1
		{"274.99999", 0, "274.99999"}, // × 1.0
		{"430", 25, "645"},            // × 1.5
		{"110", 37, "187"},            // × 1.7
		{"90", 49, "171"},             // × 1.9
		{"600", 61, "1200"},           // × 2.0
		{"0.000001", 61, "0.000002"},  // smallest unit × 2.0
		{"1000000000", 61, "2000000000"},
	} {
		v, err := ParseValueScore(tc.value)
		if err != nil {
			t.Fatal(err)
		}
		if got := Composite(v, tc.months).String(); got != tc.want {
			t.Errorf("%s × coefficient(%d) = %s, want %s", tc.value, tc.months, got, tc.want)
		}
	}
}

func TestParseValueScore(t *testing.T) {
	for _, tc := range []struct {
		in    string
		micro int64
		err   error
	}{
		{"0", 0, nil},
		{"356.5", 356_500_000, nil},
		{" 12 ", 12_000_000, nil},
		{"007", 7_000_000, nil},
		{"1.", 1_000_000, nil},
		{".5", 500_000, nil},
		{"1.123456", 1_123_456, nil},
		{"1.1234564", 1_123_456, nil}, // 7th decimal 4: down
		{"1.1234565", 1_123_457, nil}, // 7th decimal 5: half up
		{"0.9999995", 1_000_000, nil}, // carries into the units
		{"99.9999995", 100_000_000, nil},
		{"1000000000", 1_000_000_000_000_000, nil},
		{"1000000000.0000004", 1_000_000_000_000_000, nil},
		{"1000000000.0000005", 0, ErrTooLarge}, // rounds above the cap
		{"1000000001", 0, ErrTooLarge},
		{"99999999999999999999999", 0, ErrTooLarge},
		{"-1", 0, ErrNegative},
		{"-0", 0, ErrNegative},
		{"", 0, ErrEmpty},
		{"  ", 0, ErrEmpty},
		{".", 0, ErrNotANumber},
		{"+1", 0, ErrNotANumber},
		{"1e3", 0, ErrNotANumber},
		{"1,000", 0, ErrNotANumber},
		{"1.2.3", 0, ErrNotANumber},
		{"abc", 0, ErrNotANumber},
		{"NaN", 0, ErrNotANumber},
		{"１２", 0, ErrNotANumber}, // full-width digits
	} {
		got, err := ParseValueScore(tc.in)
		if !errors.Is(err, tc.err) || (err == nil && got != tc.micro) {
			t.Errorf("ParseValueScore(%q) = %d, %v; want %d, %v", tc.in, got, err, tc.micro, tc.err)
		}
	}
}

func TestParseTenure(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		err  error
	}{
		{"0", 0, nil}, {" 36 ", 36, nil}, {"1200", 1200, nil},
		{"1201", 0, ErrTooLarge}, {"99999999999999999999", 0, ErrTooLarge},
		{"-1", 0, ErrNegative}, {"", 0, ErrEmpty}, {"12.5", 0, ErrNotWhole}, {"x", 0, ErrNotANumber},
	} {
		got, err := ParseTenure(tc.in)
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("ParseTenure(%q) = %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestRound10(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0", "0"}, {"4.999999", "0"}, {"5", "10"}, {"15", "20"}, {"25", "30"},
		{"4.9999999", "10"}, // 7 decimals: read as 5.000000 first
		{"274.99999", "270"}, {"275", "280"}, {"645", "650"}, {"644.999999", "640"},
		{"125", "130"}, {"1200", "1200"}, {"1234.5", "1230"}, {"2000000000", "2000000000"},
	} {
		s, err := ParseScore(tc.in, maxThreshold)
		if err != nil {
			t.Fatal(err)
		}
		if got := Round10(s).String(); got != tc.want {
			t.Errorf("Round10(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzParseValueScore: no panic; an accepted value is within range and
// formats back to a decimal that parses to the same value.
func FuzzParseValueScore(f *testing.F) {
	for _, s := range []string{"0", "356.5", "0.9999995", "-1", "1e3", ".", "1000000000", "00000000000001.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseValueScore(s)
		if err != nil {
			return
		}
		if v < 0 || v > MaxValueScore*microPerUnit {
			t.Fatalf("%q → %d out of range", s, v)
		}
		text := strconv.FormatInt(v/microPerUnit, 10) + "." + strconv.FormatInt(microPerUnit+v%microPerUnit, 10)[1:]
		back, err := ParseValueScore(text)
		if err != nil || back != v {
			t.Fatalf("%q → %d → %q → %d, %v", s, v, text, back, err)
		}
	})
}
