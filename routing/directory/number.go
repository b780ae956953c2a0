package directory

import (
	"strings"
	"unicode"
)

// Normalize returns the canonical form of a phone number, the form the
// directory is keyed by, and whether raw is a phone number at all.
//
// Rules, in order:
//  1. Spaces, dashes and parentheses are removed: "+86 (138) 0000-0005".
//  2. An international prefix, "+" or "00", is followed by a country code.
//     For China (86) the number becomes national: a mobile (11 digits,
//     1[3-9]…), a number already starting with the trunk 0, or a short
//     service number (at most 6 digits, like 10086) is kept as it is; any
//     other number is a landline written without its trunk 0, which is put
//     back: +86 10 6552 9999 → 01065529999. Other countries keep the form
//     "+" country code number: 001 202 555 0100 → +12025550100. A country
//     code starting with 0, or a Chinese number starting with 00 after +86,
//     is not a number.
//  3. Without "+" or "00", a leading 86 is removed only from a 13-digit
//     number 86 1[3-9]… (a mobile with the country code but no "+"). Other
//     numbers starting with 86 are left alone, because they may be local
//     numbers (a landline 8612345 stays 8612345).
//  4. What remains must be 3 to 20 digits (after an optional "+").
//
// Normalize(Normalize(x)) == Normalize(x). Caller ids that are not numbers
// ("anonymous", SIP URIs) are not numbers: false.
func Normalize(raw string) (string, bool) {
	s := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' || r == '(' || r == ')' {
			return -1
		}
		return r
	}, raw)

	out, ok := s, true
	switch {
	case strings.HasPrefix(s, "+"):
		out, ok = international(s[1:])
	case strings.HasPrefix(s, "00"):
		out, ok = international(s[2:])
	case len(s) == 13 && strings.HasPrefix(s, "86") && isMobile(s[2:]):
		out = s[2:]
	}
	digits := strings.TrimPrefix(out, "+")
	if !ok || len(digits) < 3 || len(digits) > 20 || !allDigits(digits) {
		return "", false
	}
	return out, true
}

// international turns a number after "+" or "00" into canonical form. Country
// codes never start with 0, and a Chinese national number never starts with
// 00 (that would be another international prefix): both are refused.
func international(s string) (string, bool) {
	national, china := strings.CutPrefix(s, "86")
	switch {
	case strings.HasPrefix(s, "0"):
		return "", false
	case !china:
		return "+" + s, true
	case strings.HasPrefix(national, "00"):
		return "", false
	case strings.HasPrefix(national, "0"), isMobile(national), len(national) <= 6:
		return national, true
	}
	return "0" + national, true
}

// isMobile reports whether s is a Chinese mobile number: 11 digits, 1[3-9]….
func isMobile(s string) bool {
	return len(s) == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9' && allDigits(s)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
