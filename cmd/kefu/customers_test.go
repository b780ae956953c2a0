package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kefu/routing/directory/grade"
)

const gradingData = "../../testdata/grading/"

func readGrading(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(gradingData + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCustomersGrade(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "graded.csv")
	var stdout, stderr bytes.Buffer
	code := run([]string{"customers", "grade", gradingData + "twenty.csv", "-o", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, readGrading(t, "twenty.graded.csv")) {
		t.Errorf("output:\n%s", got)
	}
	// The report goes to stdout with -o: thresholds (raw and rounded) and the distribution.
	for _, w := range []string{"wrote " + out + " (20 customers)", "four-star         15%     3        645        650",
		"      1          9   45.00%     30%", "wrote thresholds to " + filepath.Join(dir, "graded.thresholds.yaml")} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("stdout does not contain %q:\n%s", w, stdout.String())
		}
	}
	th, err := grade.LoadThresholds(filepath.Join(dir, "graded.thresholds.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if th.Five != 1200*grade.ScoreUnit || th.Two != 130*grade.ScoreUnit || th.Customers != 20 || th.ComputedAt.IsZero() {
		t.Errorf("thresholds %+v", th)
	}
	// No temporary files left behind.
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("files in the output directory: %v", entries)
	}

	// Graded again by the thresholds just written: the same file.
	out2 := filepath.Join(dir, "again.csv")
	stdout.Reset()
	code = run([]string{"customers", "grade", "-thresholds", filepath.Join(dir, "graded.thresholds.yaml"), gradingData + "twenty.csv", "-o", out2}, &stdout, &stderr)
	got2, _ := os.ReadFile(out2)
	if code != 0 || !bytes.Equal(got2, got) {
		t.Errorf("exit %d, output differs\n%s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "again.thresholds.yaml")); !os.IsNotExist(err) {
		t.Errorf("thresholds written in -thresholds mode: %v", err)
	}
	if !strings.Contains(stdout.String(), "fixed thresholds from "+filepath.Join(dir, "graded.thresholds.yaml")+", computed from 20 customers") {
		t.Errorf("stdout: %s", stdout.String())
	}
}

func TestCustomersGradeToStdout(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run([]string{"customers", "grade", "-thresholds", gradingData + "national.thresholds.yaml", gradingData + "twenty.gb18030.csv"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	// Output in GB18030 like the input; report on stderr; no thresholds file.
	if bytes.Contains(stdout.Bytes(), []byte("张伟")) || !bytes.Contains(stdout.Bytes(), []byte("13800000001,61,600,")) {
		t.Errorf("stdout is not GB18030:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "input gb18030 (detected)") || !strings.Contains(stderr.String(), "      4          4   20.00%     10%") {
		t.Errorf("stderr: %s", stderr.String())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files written: %v", entries)
	}
}

func TestCustomersGradeStdin(t *testing.T) {
	f, err := os.Open(gradingData + "twenty.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"customers", "grade", "-"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !bytes.Equal(stdout.Bytes(), readGrading(t, "twenty.graded.csv")) {
		t.Errorf("stdout:\n%s", stdout.String())
	}
}

func TestCustomersGradeErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fixture := string(readGrading(t, "twenty.csv"))
	missing := write("missing.csv", strings.Replace(fixture, "周杰,13800000005,13,250,", "周杰,13800000005,13,,", 1))
	dup := write("dup.csv", fixture+"某人,+86 138 0000 0001,1,1,b,no,,x,\n")
	few := write("few.csv", strings.Join(strings.Split(fixture, "\n")[:10], "\n")+"\n")
	badThr := write("bad.yaml", "five_star: 100\nfour_star: 200\nthree_star: 1\ntwo_star: 0\n")
	existing := write("existing.csv", "keep me\n")

	// Columns count bytes, as in package directory: "周杰,13800000005,13,"
	// is 22 bytes, so value_score starts at column 23; "某人," is 7.
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"missing value score", []string{"customers", "grade", missing, "-o", existing}, 1, "",
			missing + ":12:23: column value_score: \"\": empty"},
		{"duplicate", []string{"customers", "grade", dup, "-o", filepath.Join(dir, "dup.out.csv")}, 1, "",
			dup + ":23:8: column number: number 13800000001 is already on line 3"},
		{"too few", []string{"customers", "grade", few, "-o", filepath.Join(dir, "few.out.csv")}, 1, "", "grade by the national thresholds with -thresholds FILE"},
		{"too few is fine with a lower minimum", []string{"customers", "grade", few, "-min-customers", "5", "-o", filepath.Join(dir, "few5.csv")}, 0, "distribution", ""},
		{"bad thresholds", []string{"customers", "grade", "-thresholds", badThr, gradingData + "twenty.csv"}, 1, "", badThr + ":2:1:"},
		{"wrong encoding", []string{"customers", "grade", "-encoding", "utf-8", gradingData + "twenty.gb18030.csv"}, 1, "", "-encoding gb18030"},
		{"unknown encoding", []string{"customers", "grade", "-encoding", "latin1", gradingData + "twenty.csv"}, 1, "", "use auto, utf-8 or gb18030"},
		{"no file", []string{"customers", "grade"}, 2, "", "give one customer file"},
		{"no such file", []string{"customers", "grade", filepath.Join(dir, "nope.csv")}, 1, "", "no such file"},
		{"both thresholds flags", []string{"customers", "grade", "-thresholds", badThr, "-write-thresholds", "x.yaml", missing}, 2, "", "nothing is computed"},
		{"zero minimum", []string{"customers", "grade", "-min-customers", "0", missing}, 2, "", "-min-customers must be 1 or more"},
		{"no subcommand", []string{"customers"}, 2, "", "usage: kefu customers grade"},
		{"unknown subcommand", []string{"customers", "rank"}, 2, "", `unknown command "rank"`},
		{"help", []string{"customers", "grade", "-h"}, 0, "", "-write-thresholds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tc.out) {
				t.Errorf("stdout %q does not contain %q", out.String(), tc.out)
			}
			if !strings.Contains(errb.String(), tc.err) {
				t.Errorf("stderr %q does not contain %q", errb.String(), tc.err)
			}
		})
	}
	// Nothing half-written: the existing output is unchanged, the others
	// were never created, and no temporary files are left.
	if b, _ := os.ReadFile(existing); string(b) != "keep me\n" {
		t.Errorf("existing output changed: %q", b)
	}
	for _, name := range []string{"dup.out.csv", "few.out.csv", "existing.thresholds.yaml", "dup.out.thresholds.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s exists: %v", name, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}
