package charset

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func gb(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readAll(t *testing.T, in []byte, enc string) (string, Info, error) {
	t.Helper()
	r, info, err := NewReader(bytes.NewReader(in), enc)
	if err != nil {
		return "", info, err
	}
	out, err := io.ReadAll(r)
	return string(out), info, err
}

func TestDetect(t *testing.T) {
	const text = "number,name\n13800000001,张伟 𠀀明\n"
	for _, tc := range []struct {
		name string
		in   []byte
		enc  string
		want Info
	}{
		{"utf-8", []byte(text), "auto", Info{Encoding: UTF8, Detected: true}},
		{"empty name is auto", []byte(text), "", Info{Encoding: UTF8, Detected: true}},
		{"utf-8 with bom", []byte(bom + text), "auto", Info{Encoding: UTF8, BOM: true}},
		{"named utf-8 with bom", []byte(bom + text), "utf-8", Info{Encoding: UTF8, BOM: true}},
		{"gb18030", gb(t, text), "auto", Info{Encoding: GB18030, Detected: true}},
		{"named gbk", gb(t, text), "GBK", Info{Encoding: GB18030}},
		{"named gb2312", gb(t, text), "gb2312", Info{Encoding: GB18030}},
		{"ascii", []byte("a,b\n"), "auto", Info{Encoding: UTF8, Detected: true}},
		{"empty", nil, "auto", Info{Encoding: UTF8, Detected: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, info, err := readAll(t, tc.in, tc.enc)
			if err != nil {
				t.Fatal(err)
			}
			if info != tc.want {
				t.Errorf("info %+v, want %+v", info, tc.want)
			}
			want := text
			if tc.name == "ascii" {
				want = "a,b\n"
			} else if tc.in == nil {
				want = ""
			}
			if got != want {
				t.Errorf("text %q, want %q", got, want)
			}
		})
	}
}

func TestInvalidUTF8LaterInTheFile(t *testing.T) {
	// 70 KiB of ASCII lines, so detection (64 KiB) says UTF-8; then a GBK name.
	var b bytes.Buffer
	lines := 0
	for b.Len() < 70<<10 {
		b.WriteString("13800000001,name\n")
		lines++
	}
	b.Write(gb(t, "13800000002,张伟\n"))
	_, info, err := readAll(t, b.Bytes(), "auto")
	if info.Encoding != UTF8 {
		t.Fatalf("detected %v", info.Encoding)
	}
	var ie *InvalidError
	if !errors.As(err, &ie) || ie.Line != lines+1 {
		t.Fatalf("error %v, want an *InvalidError on line %d", err, lines+1)
	}
	if !strings.Contains(err.Error(), "-encoding gb18030") {
		t.Errorf("error %q does not suggest -encoding gb18030", err)
	}
	// Read one byte at a time: the same line.
	r, _, _ := NewReader(iotest.OneByteReader(bytes.NewReader(b.Bytes())), "utf-8")
	_, err = io.ReadAll(iotest.OneByteReader(r))
	if !errors.As(err, &ie) || ie.Line != lines+1 {
		t.Fatalf("byte by byte: error %v, want line %d", err, lines+1)
	}
}

func TestInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		enc  string
		line int
	}{
		{"named utf-8", []byte("a\nb\n\xff\n"), "utf-8", 3},
		{"truncated utf-8 at end", []byte("a\n\xe5\xbc"), "utf-8", 2},
		{"not gb18030 either", []byte("a\n\xb2\xe2\n\xff\xff\n"), "gb18030", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readAll(t, tc.in, tc.enc)
			var ie *InvalidError
			if !errors.As(err, &ie) || ie.Line != tc.line {
				t.Fatalf("error %v, want an *InvalidError on line %d", err, tc.line)
			}
		})
	}
}

func TestBOMWithGB18030IsAnError(t *testing.T) {
	_, _, err := NewReader(strings.NewReader(bom+"a"), "gb18030")
	if err == nil || !strings.Contains(err.Error(), "-encoding utf-8") {
		t.Fatalf("error %v", err)
	}
	if _, _, err := NewReader(strings.NewReader("a"), "latin1"); !errors.Is(err, ErrUnknownEncoding) {
		t.Fatalf("latin1: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	const text = "name\n张伟 𠀀明 €\n"
	for _, in := range [][]byte{[]byte(text), []byte(bom + text), gb(t, text)} {
		got, info, err := readAll(t, in, "auto")
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		w := NewWriter(&out, info)
		if _, err := io.WriteString(w, got); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil { // idempotent
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), in) {
			t.Errorf("%v: wrote %q, want %q", info, out.Bytes(), in)
		}
	}
}

// FuzzReader: no panics; valid UTF-8 reads back unchanged and through
// GB18030 and back; whatever is read is valid UTF-8.
func FuzzReader(f *testing.F) {
	f.Add([]byte("number,name\n1,张伟\n"), 0)
	f.Add(gb(f, "number,name\n1,张伟 𠀀\n"), 0)
	f.Add([]byte(bom+"a\n"), 1)
	f.Add([]byte("\xe5\xbc"), 2)
	f.Add([]byte("a\n\x81\x30"), 2)
	f.Fuzz(func(t *testing.T, in []byte, mode int) {
		enc := []string{"auto", "utf-8", "gb18030"}[uint(mode)%3]
		r, info, err := NewReader(bytes.NewReader(in), enc)
		if err != nil {
			return
		}
		got, err := io.ReadAll(r)
		if !utf8.Valid(got) {
			t.Fatalf("read invalid UTF-8 %q from %q", got, in)
		}
		if err != nil {
			var ie *InvalidError
			if !errors.As(err, &ie) || ie.Line < 1 {
				t.Fatalf("error %v", err)
			}
			return
		}
		if info.Encoding == UTF8 {
			want := in
			if info.BOM {
				want = in[len(bom):]
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("utf-8 read %q, want %q", got, want)
			}
		}
		// Whatever was read writes and reads back the same, in either charset.
		if bytes.HasPrefix(got, []byte(bom)) {
			return // a second mark: read back as a byte-order mark
		}
		for _, e := range []Encoding{UTF8, GB18030} {
			var out bytes.Buffer
			w := NewWriter(&out, Info{Encoding: e})
			if _, err := w.Write(got); err != nil {
				return // text GB18030 cannot encode (none expected)
			}
			if err := w.Close(); err != nil {
				return
			}
			r2, _, err := NewReader(&out, e.String())
			if err != nil {
				t.Fatal(err)
			}
			back, err := io.ReadAll(r2)
			if bytes.ContainsRune(got, utf8.RuneError) && e == GB18030 {
				continue // a replacement character is refused when reading GB18030
			}
			if err != nil || !bytes.Equal(back, got) {
				t.Fatalf("%v round trip: %q, %v; want %q", e, back, err, got)
			}
		}
	})
}
