package grade

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"kefu/routing/directory"
	"kefu/routing/directory/charset"
)

var update = flag.Bool("update", false, "rewrite testdata/grading/twenty.gb18030.csv")

const fixtures = "../../../testdata/grading/"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixtures + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// grade runs both passes over in.
func grade(t testing.TB, in []byte, opts Options) (*Plan, []byte, error) {
	t.Helper()
	p, err := Prepare(bytes.NewReader(in), opts)
	if err != nil {
		return nil, nil, err
	}
	var out bytes.Buffer
	if err := p.Write(bytes.NewReader(in), &out); err != nil {
		t.Fatalf("write after a successful prepare: %v", err)
	}
	return p, out.Bytes(), nil
}

// The fixture's arithmetic is in TestCompute ("twenty"): thresholds 1200,
// 650, 270, 130; distribution 1, 1, 5, 4, 9 from five stars down.
func TestGradeFixture(t *testing.T) {
	in, want := readFixture(t, "twenty.csv"), readFixture(t, "twenty.graded.csv")
	p, out, err := grade(t, in, Options{Name: "twenty.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
	if p.Info != (charset.Info{Encoding: charset.UTF8, Detected: true}) {
		t.Errorf("info %+v", p.Info)
	}
	th := p.Thresholds
	if th.Five != 1200*ScoreUnit || th.Four != 650*ScoreUnit || th.Three != 270*ScoreUnit || th.Two != 130*ScoreUnit || th.Customers != 20 {
		t.Errorf("thresholds %+v", th)
	}
	if p.Distribution.Count != [6]int{0, 9, 4, 5, 1, 1} || p.Customers() != 20 {
		t.Errorf("distribution %v", p.Distribution.Count)
	}
	var rep bytes.Buffer
	if err := p.Report(&rep, ""); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"three-star         30%     6  274.99999        270", "      3          5   25.00%     15%"} {
		if !strings.Contains(rep.String(), w) {
			t.Errorf("report does not contain %q:\n%s", w, rep.String())
		}
	}
}

func TestGradeKeepsBOMAndCRLF(t *testing.T) {
	in := "\ufeff" + strings.ReplaceAll(string(readFixture(t, "twenty.csv")), "\n", "\r\n")
	want := "\ufeff" + strings.ReplaceAll(string(readFixture(t, "twenty.graded.csv")), "\n", "\r\n")
	p, out, err := grade(t, []byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Info.BOM {
		t.Errorf("info %+v", p.Info)
	}
	if string(out) != want {
		t.Errorf("output:\n%q\nwant:\n%q", out, want)
	}
}

func TestGradeGB18030(t *testing.T) {
	utf := readFixture(t, "twenty.csv")
	enc := simplifiedchinese.GB18030.NewEncoder()
	if *update {
		b, err := enc.Bytes(utf)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fixtures+"twenty.gb18030.csv", b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in := readFixture(t, "twenty.gb18030.csv")
	if bytes.Equal(in, utf) {
		t.Fatal("the GB18030 fixture is UTF-8")
	}
	decoded, err := simplifiedchinese.GB18030.NewDecoder().Bytes(in)
	if err != nil || !bytes.Equal(decoded, utf) {
		t.Fatalf("twenty.gb18030.csv does not decode to twenty.csv (run go test -update): %v", err)
	}
	wantOut, err := enc.Bytes(readFixture(t, "twenty.graded.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{"auto", "gb18030", "gbk"} {
		p, out, err := grade(t, in, Options{Encoding: e})
		if err != nil {
			t.Fatal(err)
		}
		if p.Info.Encoding != charset.GB18030 {
			t.Errorf("%s: encoding %v", e, p.Info.Encoding)
		}
		if !bytes.Equal(out, wantOut) {
			t.Errorf("%s: output is not the graded fixture in GB18030", e)
		}
	}
	// Named names survive: 𠀀明 needs GB18030's four-byte form.
	if !bytes.Contains(decoded, []byte("𠀀明")) {
		t.Error("fixture lost 𠀀明")
	}
	// Read as UTF-8 it fails on line 2 (the first Chinese name) with a hint.
	_, err = Prepare(bytes.NewReader(in), Options{Name: "gb.csv", Encoding: "utf-8"})
	if err == nil || !strings.Contains(err.Error(), "gb.csv:2:") || !strings.Contains(err.Error(), "-encoding gb18030") {
		t.Errorf("utf-8: %v", err)
	}
}

// National thresholds 1230/640/380/120 on the fixture: 1200, 950, 645, 645
// are four-star (≥ 640, < 1230); 275 … 125 (12 customers) two-star (≥ 120,
// < 380); 100, 55, 10.5, 0 one-star.
func TestGradeFixedThresholds(t *testing.T) {
	th, err := LoadThresholds(fixtures + "national.thresholds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, out, err := grade(t, readFixture(t, "twenty.csv"), Options{Thresholds: th})
	if err != nil {
		t.Fatal(err)
	}
	if p.Distribution.Count != [6]int{0, 4, 12, 0, 4, 0} || p.Computed != nil {
		t.Errorf("distribution %v", p.Distribution.Count)
	}
	if !bytes.Contains(out, []byte("张伟,13800000001,61,600,GoTone 全球通,yes,a01,北京,4\n")) {
		t.Errorf("output:\n%s", out)
	}
	// Fixed thresholds need no minimum number of customers.
	small := "number,name,value_score,tenure_months,brand,vip,account_manager\n13800000001,a,1300,0,b,no,\n"
	if _, out, err := grade(t, []byte(small), Options{Thresholds: th}); err != nil || !bytes.HasSuffix(out, []byte("1300,0,b,no,,5\n")) {
		t.Errorf("one customer: %s, %v", out, err)
	}
}

const head = "number,name,value_score,tenure_months,brand,vip,account_manager\n"

// rows makes n valid customer rows.
func rows(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "139%08d,n%d,%d,%d,b,no,\n", i, i, i*10, i)
	}
	return b.String()
}

func TestGradeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		min  int
		want []string
	}{
		{"missing value score", head + rows(20) + "13800000001,a,,12,b,no,\n", 0,
			[]string{"f.csv:22:15: column value_score: \"\": empty (grading needs every customer's value_score"}},
		{"missing tenure", head + rows(20) + "13800000001,a,5,,b,no,\n", 0,
			[]string{"f.csv:22:17: column tenure_months: \"\": empty"}},
		{"not numeric", head + rows(20) + "13800000001,a,12k,12,b,no,\n13800000002,a,1e3,1.5,b,no,\n", 0,
			[]string{"f.csv:22:15: column value_score: \"12k\": not a number", "f.csv:23:15: column value_score: \"1e3\": not a number",
				"f.csv:23:19: column tenure_months: \"1.5\": not a whole number"}},
		{"negative", head + rows(20) + "13800000001,a,-5,-1,b,no,\n", 0,
			[]string{"f.csv:22:15: column value_score: \"-5\": negative", "f.csv:22:18: column tenure_months: \"-1\": negative"}},
		{"duplicate after normalising", head + "13800000001,a,1,1,b,no,\n" + rows(20) + "+86 138-0000-0001,b,2,2,b,no,\n", 0,
			[]string{"f.csv:23:1: column number: number 13800000001 is already on line 2"}},
		{"not a number", head + rows(20) + "anonymous,a,1,1,b,no,\n", 0, []string{"f.csv:22:1: column number: \"anonymous\" is not a phone number"}},
		{"cells", head + rows(20) + "13800000001,a,1,1\n", 0, []string{"f.csv:22:1: the row has 4 cells but the header has 7 columns"}},
		{"quotes", head + rows(20) + "13800000001,\"a,1,1,b,no,\n", 0, []string{"f.csv:22:", "check the quotes"}},
		{"header", "number,name,value_score,brand,vip,account_manager,Name\n", 0,
			[]string{"column \"name\" appears twice", "the header has no \"tenure_months\" column"}},
		{"empty file", "", 0, []string{"f.csv:1:1: the file is empty"}},
		{"no customers", head + ",,,,,,\n\n", 0, []string{"f.csv: there are no customers to grade"}},
		{"too few", head + rows(19), 0, []string{"only 19 customers, fewer than the minimum of 20"}},
		{"too few, raised minimum", head + rows(20), 21, []string{"only 20 customers, fewer than the minimum of 21"}},
		{"20 errors at most", head + strings.Repeat("x,a,1,1,b,no,\n", 25), 0,
			[]string{"f.csv:21:1:", "stopped after 20 errors"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Prepare(strings.NewReader(tc.in), Options{Name: "f.csv", MinCustomers: tc.min})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			if tc.name == "20 errors at most" && strings.Contains(err.Error(), "f.csv:22:1:") {
				t.Errorf("more than 20 errors:\n%v", err)
			}
			var de *directory.Error
			if tc.name != "too few" && tc.name != "too few, raised minimum" && tc.name != "no customers" && !errors.As(err, &de) {
				t.Errorf("not a *directory.Error: %v", err)
			}
		})
	}
	var few *TooFewError
	if _, err := Prepare(strings.NewReader(head+rows(3)), Options{}); !errors.As(err, &few) || !strings.Contains(few.Fix(), "-thresholds") {
		t.Errorf("too few: %v", err)
	}
}

func TestGradeAppendsStarsAndKeepsCells(t *testing.T) {
	in := "Account_Manager, VIP ,number,name,value_score,tenure_months,brand,note\n" +
		"a1,Y,+86 138 0000 0001,\"Li, \"\"Na\"\"\",0100.50,013,GoTone,x\n" + rowsIn(19)
	p, out, err := grade(t, []byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(out), "\n")
	if lines[0] != "Account_Manager, VIP ,number,name,value_score,tenure_months,brand,note,stars" {
		t.Errorf("header %q", lines[0])
	}
	// 100.5 × 1.1 = 110.55; other customers score 0…180 (see rowsIn).
	if !strings.HasPrefix(lines[1], "a1,Y,+86 138 0000 0001,\"Li, \"\"Na\"\"\",0100.50,013,GoTone,x,") {
		t.Errorf("row %q", lines[1])
	}
	if p.Customers() != 20 {
		t.Errorf("%d customers", p.Customers())
	}
}

// The second pass keeps every byte but the stars cells: quotes, a cell of
// several lines, mixed line endings, empty lines before the header, a
// quoted stars cell, no newline at the end.
func TestGradeWritesBytesAsTheyWere(t *testing.T) {
	in := "\n\r\nnumber,name,value_score,tenure_months,brand,vip,account_manager,\"Stars\"\r\n" +
		"13800000001,\"Li\r\n\"\"Na\"\"\",100,1,b,no,,\"5\"\r\n" +
		" , , ,,,,,\n" + // blank: left out
		"13800000002,  Wang  ,50,1,b,no,,\n" +
		"13800000003,\"\",0,1,\"b,c\",no,,1"
	th := Thresholds{Five: 100 * ScoreUnit, Four: 90 * ScoreUnit, Three: 80 * ScoreUnit, Two: 10 * ScoreUnit}
	_, out, err := grade(t, []byte(in), Options{Thresholds: &th})
	if err != nil {
		t.Fatal(err)
	}
	want := "number,name,value_score,tenure_months,brand,vip,account_manager,\"Stars\"\r\n" +
		"13800000001,\"Li\r\n\"\"Na\"\"\",100,1,b,no,,5\r\n" +
		"13800000002,  Wang  ,50,1,b,no,,2\n" +
		"13800000003,\"\",0,1,\"b,c\",no,,1"
	if string(out) != want {
		t.Errorf("output:\n%q\nwant:\n%q", out, want)
	}
	// Without a stars column, at the end of each line.
	in2 := head + "13800000001,a,100,1,b,no,\r\n13800000002,\"x\ny\",1,1,b,no,\r"
	_, out, err = grade(t, []byte(in2), Options{Thresholds: &th})
	want2 := strings.Replace(head, "\n", ",stars\n", 1) + "13800000001,a,100,1,b,no,,5\r\n13800000002,\"x\ny\",1,1,b,no,,1\r"
	if err != nil || string(out) != want2 {
		t.Errorf("output:\n%q, %v\nwant:\n%q", out, err, want2)
	}
}

// rowsIn makes n rows for the header of TestGradeAppendsStarsAndKeepsCells.
func rowsIn(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, ",,139%08d,n,%d,0,b,\n", i, i*10)
	}
	return b.String()
}

// csvRecords decodes and parses a whole CSV file, leaving out blank
// records.
func csvRecords(t *testing.T, data []byte, info charset.Info) [][]string {
	t.Helper()
	r, _, err := charset.NewReader(bytes.NewReader(data), info.Encoding.String())
	if err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	all, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("%v\n%q", err, data)
	}
	var out [][]string
	for _, rec := range all {
		if !blank(rec) {
			out = append(out, rec)
		}
	}
	return out
}

// FuzzGrade: no panic; a file that is accepted writes an output that is
// accepted again, with the same customers and, graded by the same
// thresholds, the same grades.
func FuzzGrade(f *testing.F) {
	f.Add(readFixture(f, "twenty.csv"))
	f.Add([]byte(head + "13800000001,a,1,1,b,no,\n"))
	f.Add([]byte("\ufeff" + head + "13800000001,\"x\ny\",1.5,13,b,no,\r\n"))
	f.Add([]byte(head + "13800000001,a,1,1,b,no,\n138 0000 0001,a,1,1,b,no,\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := Prepare(bytes.NewReader(in), Options{MinCustomers: 1})
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := p.Write(bytes.NewReader(in), &out); err != nil {
			t.Fatalf("write: %v", err)
		}
		// Cell for cell, the output is the input with the stars set.
		inRecs, outRecs := csvRecords(t, in, p.Info), csvRecords(t, out.Bytes(), p.Info)
		if len(inRecs) != len(outRecs) {
			t.Fatalf("%d records in, %d out", len(inRecs), len(outRecs))
		}
		for i := range inRecs {
			a, b := inRecs[i], outRecs[i]
			if len(b) == len(a)+1 {
				b = b[:len(a)]
			}
			for j := range a {
				if j >= len(b) || (a[j] != b[j] && !strings.EqualFold(strings.TrimSpace(inRecs[0][j]), "stars")) {
					t.Fatalf("record %d: %q became %q", i, a, outRecs[i])
				}
			}
		}
		th := p.Thresholds
		again, err := Prepare(bytes.NewReader(out.Bytes()), Options{Thresholds: &th, Encoding: p.Info.Encoding.String()})
		if err != nil {
			t.Fatalf("output not accepted: %v\n%q", err, out.Bytes())
		}
		if again.Customers() != p.Customers() || again.Distribution != p.Distribution {
			t.Fatalf("output grades %v, input %v", again.Distribution, p.Distribution)
		}
	})
}
