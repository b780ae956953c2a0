package grade

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Score is a composite score (value_score × tenure coefficient) in fixed
// point: units of 1e-7, so that value scores with up to 6 decimals times
// coefficients in tenths are exact.
type Score int64

// ScoreUnit is the Score of 1.
const ScoreUnit Score = 10_000_000

// microPerUnit is the number of value-score units (1e-6) in 1.
const microPerUnit = 1_000_000

// MaxValueScore is the largest value_score accepted.
const MaxValueScore = 1_000_000_000

// MaxTenureMonths is the largest tenure_months accepted (100 years).
const MaxTenureMonths = 1200

// Errors of the cell parsers; a cell error wraps one of them.
var (
	ErrEmpty       = errors.New("empty")
	ErrNegative    = errors.New("negative")
	ErrNotANumber  = errors.New("not a number")
	ErrTooLarge    = errors.New("too large")
	ErrNotWhole    = errors.New("not a whole number")
	errBadTenure   = errors.New("not a number of months")
	errTooManyDigs = errors.New("too many digits")
)

// ParseValueScore reads a value_score cell: digits with an optional '.'
// and decimals (spaces around are ignored), at most MaxValueScore. It
// returns the value in millionths; a 7th and further decimals are rounded
// half up at the 6th ("0.0000005" → 1). No exponent, no '+'; a '-' is
// ErrNegative ("-0" too: a score has no sign).
func ParseValueScore(s string) (int64, error) {
	return parseDecimal(s, MaxValueScore)
}

// parseDecimal reads a non-negative decimal into millionths, refusing
// values above max (whole units).
func parseDecimal(s string, max int64) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, ErrEmpty
	}
	if s[0] == '-' {
		return 0, ErrNegative
	}
	intPart, frac, dot := strings.Cut(s, ".")
	if intPart == "" && frac == "" {
		return 0, ErrNotANumber
	}
	if !allDigits(intPart) || !allDigits(frac) || (dot && strings.Contains(frac, ".")) {
		return 0, ErrNotANumber
	}
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart) > 12 { // far above any max; keeps the arithmetic below in range
		return 0, ErrTooLarge
	}
	if len(frac) > 1000 {
		return 0, errTooManyDigs
	}
	var whole int64
	for i := 0; i < len(intPart); i++ {
		whole = whole*10 + int64(intPart[i]-'0')
	}
	var micro int64
	for i := 0; i < 6; i++ {
		micro *= 10
		if i < len(frac) {
			micro += int64(frac[i] - '0')
		}
	}
	if len(frac) > 6 && frac[6] >= '5' {
		micro++ // half up; may carry into the whole part (0.9999995 → 1)
	}
	v := whole*microPerUnit + micro
	if v > max*microPerUnit {
		return 0, ErrTooLarge
	}
	return v, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ParseTenure reads a tenure_months cell: a whole number of months, 0 to
// MaxTenureMonths (spaces around are ignored).
func ParseTenure(s string) (int, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return 0, ErrEmpty
	case s[0] == '-':
		return 0, ErrNegative
	case !allDigits(s):
		if _, err := parseDecimal(s, MaxValueScore); err == nil {
			return 0, ErrNotWhole
		}
		return 0, ErrNotANumber
	}
	if len(strings.TrimLeft(s, "0")) > 6 {
		return 0, ErrTooLarge
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errBadTenure, err)
	}
	if n > MaxTenureMonths {
		return 0, ErrTooLarge
	}
	return n, nil
}

// Coefficient returns the tenure coefficient for months on the network, in
// tenths: ≤12 → 10 (1.0); 13–24 → 11; 25–36 → 15; 37–48 → 17; 49–60 → 19;
// >60 → 20 (2.0).
func Coefficient(months int) int64 {
	switch {
	case months <= 12:
		return 10
	case months <= 24:
		return 11
	case months <= 36:
		return 15
	case months <= 48:
		return 17
	case months <= 60:
		return 19
	}
	return 20
}

// Composite returns value × Coefficient(months), value in millionths as
// ParseValueScore returns it. Millionths × tenths is exactly units of 1e-7.
func Composite(valueMicro int64, months int) Score {
	return Score(valueMicro * Coefficient(months))
}

// ParseScore reads a decimal as a Score (up to 6 decimals, rounded half up
// beyond, as ParseValueScore), at most max whole units.
func ParseScore(s string, max int64) (Score, error) {
	v, err := parseDecimal(s, max)
	return Score(v * 10), err
}

// String formats s as a decimal without trailing zeros: 275, 274.99999.
func (s Score) String() string {
	neg := s < 0
	if neg {
		s = -s
	}
	whole, frac := int64(s/ScoreUnit), int64(s%ScoreUnit)
	out := strconv.FormatInt(whole, 10)
	if frac != 0 {
		f := fmt.Sprintf("%07d", frac)
		out += "." + strings.TrimRight(f, "0")
	}
	if neg {
		out = "-" + out
	}
	return out
}

// roundStep is 10 in Score units.
const roundStep = 10 * ScoreUnit

// Round10 rounds s to the nearest multiple of 10, exact halves up:
// 15 → 20, 25 → 30, 274.99999 → 270. s must not be negative.
func Round10(s Score) Score {
	return (s + roundStep/2) / roundStep * roundStep
}
