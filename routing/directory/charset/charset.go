// Package charset detects and decodes the character set of customer files,
// and encodes output back into the character set the input had.
//
// Customer files come from spreadsheets and billing exports. Two character
// sets are in use: UTF-8 (often with a byte-order mark, as spreadsheet
// programs write it) and GB18030 and its subsets GBK and GB2312, as Chinese
// Windows systems write them. Decisions:
//
//   - The encoding is named "auto" (the default, also for ""), "utf-8"
//     (or "utf8"), or "gb18030"; "gbk" and "gb2312" are accepted as aliases
//     of gb18030, whose decoder reads both (GB18030 is a superset).
//   - A UTF-8 byte-order mark is removed from the text and remembered in
//     Info.BOM, so that NewWriter puts it back on the output.
//   - auto: a byte-order mark means UTF-8. Otherwise the first 64 KiB are
//     peeked: valid UTF-8 (a multi-byte sequence cut by the 64 KiB boundary
//     counts as valid) means UTF-8, anything else GB18030. Pure ASCII is
//     UTF-8 (it is also valid GB18030, and reads the same either way).
//   - UTF-8 text, chosen or detected, is checked all the way through: an
//     invalid sequence after the first 64 KiB is an *InvalidError naming the
//     line, suggesting -encoding gb18030.
//   - GB18030 text with a byte sequence that is not GB18030 either is an
//     *InvalidError naming the line (the decoder would otherwise replace it
//     with U+FFFD silently). A file that really contains U+FFFD encoded in
//     GB18030 is refused for the same reason; no real customer file does.
//   - -encoding gb18030 on a file that starts with a UTF-8 byte-order mark
//     is an error: the mark says the file is UTF-8.
package charset

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// Encoding is a character set of customer files.
type Encoding int

const (
	// UTF8 is UTF-8.
	UTF8 Encoding = iota + 1
	// GB18030 is GB18030, which also reads GBK and GB2312.
	GB18030
)

func (e Encoding) String() string {
	switch e {
	case UTF8:
		return "utf-8"
	case GB18030:
		return "gb18030"
	}
	return "auto"
}

// Auto is the encoding name that asks for detection.
const Auto = "auto"

// bom is the UTF-8 byte-order mark.
const bom = "\ufeff"

// peekSize is how much of the input auto detection looks at.
const peekSize = 64 << 10

// Info says what NewReader found: the character set and whether the input
// started with a byte-order mark.
type Info struct {
	Encoding Encoding
	BOM      bool
	// Detected is true when the encoding was detected, not named.
	Detected bool
}

func (i Info) String() string {
	s := i.Encoding.String()
	if i.BOM {
		s += " with byte-order mark"
	}
	if i.Detected {
		s += " (detected)"
	}
	return s
}

// ErrUnknownEncoding is returned for an encoding name ParseName does not know.
var ErrUnknownEncoding = errors.New("unknown encoding")

// ParseName reads an encoding name: "auto" or "" (0, detect), "utf-8",
// "utf8", "gb18030", "gbk", "gb2312" (any case).
func ParseName(name string) (Encoding, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", Auto:
		return 0, nil
	case "utf-8", "utf8":
		return UTF8, nil
	case "gb18030", "gbk", "gb2312":
		return GB18030, nil
	}
	return 0, fmt.Errorf("%w %q: use auto, utf-8 or gb18030 (gbk and gb2312 are read as gb18030)", ErrUnknownEncoding, name)
}

// InvalidError is text that is not in the character set it is read as.
type InvalidError struct {
	Encoding Encoding
	// Line is the 1-based line the bad bytes are on.
	Line int
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("line %d: %s (%s)", e.Line, e.What(), e.Fix())
}

// What says what is wrong, without the line.
func (e *InvalidError) What() string {
	if e.Encoding == UTF8 {
		return "invalid UTF-8"
	}
	return "the text is neither UTF-8 nor GB18030"
}

// Fix says how to put it right.
func (e *InvalidError) Fix() string {
	if e.Encoding == UTF8 {
		return "if the file is in GB18030 or GBK, as Chinese Windows programs save it, run with -encoding gb18030; otherwise save it as UTF-8"
	}
	return "save the file as UTF-8 and run with -encoding utf-8"
}

// NewReader returns a reader of r's text as UTF-8, without a byte-order
// mark, and what it found. enc is an encoding name for ParseName.
func NewReader(r io.Reader, enc string) (io.Reader, Info, error) {
	want, err := ParseName(enc)
	if err != nil {
		return nil, Info{}, err
	}
	br := bufio.NewReaderSize(r, peekSize+len(bom))
	var info Info
	if head, _ := br.Peek(len(bom)); string(head) == bom {
		if want == GB18030 {
			return nil, Info{}, errors.New("the file starts with a UTF-8 byte-order mark, so it is UTF-8, not GB18030: run with -encoding utf-8 or auto")
		}
		br.Discard(len(bom))
		info.BOM = true
		want = UTF8
	}
	if want == 0 {
		info.Detected = true
		head, err := br.Peek(peekSize)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, Info{}, err
		}
		want = GB18030
		if validPrefix(head, err == nil) {
			want = UTF8
		}
	}
	info.Encoding = want
	if want == UTF8 {
		return newCheckReader(br, UTF8), info, nil
	}
	dec := transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder())
	return newCheckReader(dec, GB18030), info, nil
}

// validPrefix reports whether b is valid UTF-8; when more follows b, a
// multi-byte sequence cut at its end counts as valid.
func validPrefix(b []byte, more bool) bool {
	if utf8.Valid(b) {
		return true
	}
	if !more {
		return false
	}
	n := completeRunes(b)
	return n < len(b) && utf8.Valid(b[:n])
}

// checkReader passes text through and fails at the first bad rune, naming
// its line: an invalid UTF-8 sequence when reading UTF-8, a replacement
// character (what the decoder makes of bytes that are not GB18030) when
// reading decoded GB18030. It validates whole runes only, holding back a
// sequence cut at the end of a read until the rest arrives, so that any
// size of p works.
type checkReader struct {
	r          io.Reader
	enc        Encoding
	buf        []byte
	start, end int // buf[start:ok] is checked and ready; buf[ok:end] waits for more
	ok         int
	line       int // line of buf[ok]
	err        error
}

func newCheckReader(r io.Reader, enc Encoding) *checkReader {
	return &checkReader{r: r, enc: enc, buf: make([]byte, 32<<10), line: 1}
}

func (c *checkReader) Read(p []byte) (int, error) {
	for c.start == c.ok {
		if c.err != nil {
			return 0, c.err
		}
		// Move the unchecked tail to the front and read more after it.
		c.end = copy(c.buf, c.buf[c.ok:c.end])
		c.start, c.ok = 0, 0
		n, err := c.r.Read(c.buf[c.end:])
		c.end += n
		lim := c.end
		if err == nil {
			lim = completeRunes(c.buf[:c.end])
		}
		bad := c.firstBad(c.buf[:lim])
		if bad >= 0 {
			lim = bad
		}
		c.line += bytes.Count(c.buf[:lim], []byte{'\n'})
		c.ok = lim
		switch {
		case bad >= 0:
			c.err = &InvalidError{Encoding: c.enc, Line: c.line}
		case err != nil:
			c.err = err
		}
		if c.err == nil && n == 0 && c.end == len(c.buf) {
			// Cannot happen: completeRunes holds back at most 3 bytes.
			c.err = io.ErrNoProgress
		}
	}
	n := copy(p, c.buf[c.start:c.ok])
	c.start += n
	return n, nil
}

// firstBad returns the index of the first bad rune in b, or -1.
func (c *checkReader) firstBad(b []byte) int {
	if c.enc == UTF8 {
		if utf8.Valid(b) {
			return -1
		}
		for i := 0; i < len(b); {
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return i
			}
			i += size
		}
		return -1
	}
	return bytes.Index(b, replacement)
}

var replacement = []byte(string(utf8.RuneError))

// completeRunes returns the length of b without a multi-byte sequence cut
// at its end.
func completeRunes(b []byte) int {
	for cut := 1; cut <= utf8.UTFMax-1 && cut <= len(b); cut++ {
		if utf8.RuneStart(b[len(b)-cut]) {
			if !utf8.FullRune(b[len(b)-cut:]) {
				return len(b) - cut
			}
			break
		}
	}
	return len(b)
}

// NewWriter returns a writer that takes UTF-8 text and writes it to w in
// info's character set, starting with a byte-order mark when info.BOM is
// set. Close flushes it (it does not close w).
func NewWriter(w io.Writer, info Info) io.WriteCloser {
	out := &writer{w: w, bom: info.BOM}
	if info.Encoding == GB18030 {
		out.tw = transform.NewWriter(w, simplifiedchinese.GB18030.NewEncoder())
	}
	return out
}

type writer struct {
	w      io.Writer
	tw     io.WriteCloser
	bom    bool
	closed bool
}

func (w *writer) Write(p []byte) (int, error) {
	if w.bom {
		if _, err := io.WriteString(w.w, bom); err != nil {
			return 0, err
		}
		w.bom = false
	}
	if w.tw != nil {
		return w.tw.Write(p)
	}
	return w.w.Write(p)
}

// Close flushes buffered output; it is idempotent.
func (w *writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.bom { // nothing was written: still write the mark
		if _, err := io.WriteString(w.w, bom); err != nil {
			return err
		}
		w.bom = false
	}
	if w.tw != nil {
		return w.tw.Close()
	}
	return nil
}
