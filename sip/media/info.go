package media

import (
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
)

// ErrBadDTMF is wrapped by ParseDTMFInfo errors; the SIP layer answers the
// INFO with 415 (unsupported type) or 400.
var ErrBadDTMF = errors.New("media: bad DTMF INFO")

// Digit sources.
const (
	SourceRFC4733 = "rfc4733"
	SourceInfo    = "info"
)

// ParseDTMFInfo extracts the key from a SIP INFO body.
//
//   - application/dtmf-relay: lines "Signal=5" and "Duration=160" (only
//     Signal is used); keys and values are trimmed, the key is
//     case-insensitive, '=' or ':' separate them, and lines may end in CRLF
//     or LF.
//   - application/dtmf: the body is the key.
//
// A key is 0-9, *, #, A-D (either case), or an RFC 4733 event code 0-15
// (so "10" is * and "11" is #).
func ParseDTMFInfo(contentType string, body []byte) (rune, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, fmt.Errorf("%w: content type %q: %w", ErrBadDTMF, contentType, err)
	}
	switch mt {
	case "application/dtmf-relay":
		for line := range strings.Lines(string(body)) {
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				k, v, ok = strings.Cut(line, ":")
			}
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "signal") {
				continue
			}
			return dtmfSignal(strings.TrimSpace(v))
		}
		return 0, fmt.Errorf("%w: application/dtmf-relay body has no Signal= line", ErrBadDTMF)
	case "application/dtmf":
		return dtmfSignal(strings.TrimSpace(string(body)))
	default:
		return 0, fmt.Errorf("%w: unsupported content type %q (want application/dtmf-relay or application/dtmf)", ErrBadDTMF, mt)
	}
}

func dtmfSignal(v string) (rune, error) {
	if len(v) == 1 {
		c := v[0]
		switch {
		case c >= '0' && c <= '9', c == '*', c == '#':
			return rune(c), nil
		case c >= 'A' && c <= 'D':
			return rune(c), nil
		case c >= 'a' && c <= 'd':
			return rune(c - 'a' + 'A'), nil
		}
	}
	if n, err := strconv.ParseUint(v, 10, 8); err == nil {
		if k, ok := DTMFKey(uint8(n)); ok {
			return k, nil
		}
	}
	return 0, fmt.Errorf("%w: signal %q is not a DTMF key (0-9, *, #, A-D or event code 0-15)", ErrBadDTMF, v)
}
