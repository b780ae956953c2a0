package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"kefu/routing/directory/grade"
)

const customersUsage = `usage: kefu customers grade IN.csv [-o OUT.csv] [-thresholds FILE] [-write-thresholds FILE]
                           [-encoding auto|utf-8|gb18030] [-min-customers 20]

Grades every customer five-star … one-star by the carriers' method: composite =
value_score × tenure coefficient (≤12 months 1.0, 13–24 1.1, 25–36 1.5, 37–48 1.7,
49–60 1.9, >60 2.0); thresholds are the scores at the 5%, 15%, 30% and 70% rank
points rounded to the nearest 10; a score on a threshold gets the higher grade.

IN.csv is a customer file (columns number,name,value_score,tenure_months,brand,
vip,account_manager in any order, optional stars, other columns kept); "-" reads
standard input. value_score and tenure_months are required in every row. The
whole file is checked before anything is written: on an error nothing is
written (an existing OUT.csv is left as it was).

Output: the input as it was, byte for byte (every column in input order,
quotes, line endings, numbers not normalised), with each customer's stars cell
set (a stars column is appended when the file has none) and blank rows left
out; in the input's character set (UTF-8 or GB18030) and with its byte-order
mark. With -o it goes to a temporary file next to OUT.csv that is then
renamed, and the thresholds and distribution are printed on standard output;
without -o the graded file goes to standard output and the report to standard
error.

Thresholds: without -thresholds they are computed from IN.csv, which needs at
least -min-customers customers (below 20 the 5% rank point is not a real
percentile: grade small files by the national thresholds with -thresholds).
They are written to -write-thresholds, by default OUT.thresholds.yaml next to
OUT.csv when -o is given and nowhere when writing to standard output;
-write-thresholds none writes none. With -thresholds FILE customers are graded
by those fixed thresholds (no minimum number of customers).

Flags:
`

// customersCommand runs "kefu customers …".
func customersCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "grade" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(stdout, customersUsage)
			return 0
		}
		if len(args) > 0 {
			fmt.Fprintf(stderr, "kefu customers: unknown command %q\n", args[0])
		}
		fmt.Fprint(stderr, customersUsage)
		return 2
	}
	return customersGrade(args[1:], stdout, stderr)
}

// gradeOptions are the flags of "kefu customers grade".
type gradeOptions struct {
	in, out         string
	thresholds      string
	writeThresholds string
	encoding        string
	minCustomers    int
}

func customersGrade(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("kefu customers grade", stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), customersUsage)
		fs.PrintDefaults()
	}
	var o gradeOptions
	fs.StringVar(&o.out, "o", "", "write the graded file here (default: standard output)")
	fs.StringVar(&o.thresholds, "thresholds", "", "grade by the fixed thresholds in this YAML file instead of computing them")
	fs.StringVar(&o.writeThresholds, "write-thresholds", "", "write the computed thresholds here (default OUT.thresholds.yaml with -o, none without; \"none\": none)")
	fs.StringVar(&o.encoding, "encoding", "auto", "character set of IN.csv: auto, utf-8 or gb18030 (gbk, gb2312 read as gb18030)")
	fs.IntVar(&o.minCustomers, "min-customers", grade.DefaultMinCustomers, "fewest customers thresholds are computed from")
	pos, err := parseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	switch {
	case len(pos) != 1:
		fmt.Fprintln(stderr, "kefu customers grade: give one customer file (or - for standard input)")
		fs.Usage()
		return 2
	case o.minCustomers < 1:
		fmt.Fprintln(stderr, "kefu customers grade: -min-customers must be 1 or more")
		return 2
	case o.thresholds != "" && o.writeThresholds != "" && o.writeThresholds != "none":
		fmt.Fprintln(stderr, "kefu customers grade: -write-thresholds writes computed thresholds; with -thresholds nothing is computed")
		return 2
	case o.out == "-":
		o.out = ""
	}
	o.in = pos[0]
	report := stderr
	if o.out != "" {
		report = stdout
	}
	if err := gradeFile(o, stdout, report); err != nil {
		printGradeError(stderr, err)
		return 1
	}
	return 0
}

// printGradeError prints each joined error on its own line.
func printGradeError(w io.Writer, err error) {
	var many interface{ Unwrap() []error }
	if errors.As(err, &many) && len(many.Unwrap()) > 1 {
		for _, e := range many.Unwrap() {
			fmt.Fprintln(w, "kefu:", e)
		}
	} else {
		fmt.Fprintln(w, "kefu:", err)
	}
	var few *grade.TooFewError
	if errors.As(err, &few) {
		fmt.Fprintln(w, "kefu:", few.Fix())
	}
}

func gradeFile(o gradeOptions, stdout, report io.Writer) error {
	opts := grade.Options{Name: o.in, Encoding: o.encoding, MinCustomers: o.minCustomers}
	if o.thresholds != "" {
		t, err := grade.LoadThresholds(o.thresholds)
		if err != nil {
			return err
		}
		opts.Thresholds = t
	}

	in, cleanup, err := openInput(o.in)
	if err != nil {
		return err
	}
	defer cleanup()
	if o.in == "-" {
		opts.Name = "stdin"
	}
	plan, err := grade.Prepare(in, opts)
	if err != nil {
		return err
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return err
	}

	thresholdsPath := o.writeThresholds
	switch {
	case thresholdsPath == "none" || plan.Computed == nil:
		thresholdsPath = ""
	case thresholdsPath == "" && o.out != "":
		thresholdsPath = strings.TrimSuffix(o.out, filepath.Ext(o.out)) + ".thresholds.yaml"
	}

	if o.out == "" {
		if err := plan.Write(in, stdout); err != nil {
			return err
		}
		if thresholdsPath != "" {
			if err := writeThresholds(plan, thresholdsPath); err != nil {
				return err
			}
		}
		return printReport(plan, report, o, thresholdsPath)
	}

	// Write both files to temporary files first, then rename them.
	outTmp, err := writeTemp(o.out, func(w io.Writer) error { return plan.Write(in, w) })
	if err != nil {
		return err
	}
	defer os.Remove(outTmp) // after a successful rename it is gone
	var thrTmp string
	if thresholdsPath != "" {
		plan.Computed.ComputedAt = time.Now().UTC().Truncate(time.Second)
		thrTmp, err = writeTemp(thresholdsPath, func(w io.Writer) error {
			_, err := w.Write(grade.MarshalThresholds(plan.Computed))
			return err
		})
		if err != nil {
			return err
		}
		defer os.Remove(thrTmp)
	}
	if err := os.Rename(outTmp, o.out); err != nil {
		return err
	}
	if thrTmp != "" {
		if err := os.Rename(thrTmp, thresholdsPath); err != nil {
			return err
		}
	}
	fmt.Fprintf(report, "wrote %s (%d customers)\n", o.out, plan.Customers())
	return printReport(plan, report, o, thresholdsPath)
}

func printReport(plan *grade.Plan, w io.Writer, o gradeOptions, thresholdsPath string) error {
	if thresholdsPath != "" {
		fmt.Fprintf(w, "wrote thresholds to %s\n", thresholdsPath)
	}
	return plan.Report(w, o.thresholds)
}

func writeThresholds(plan *grade.Plan, path string) error {
	plan.Computed.ComputedAt = time.Now().UTC().Truncate(time.Second)
	tmp, err := writeTemp(path, func(w io.Writer) error {
		_, err := w.Write(grade.MarshalThresholds(plan.Computed))
		return err
	})
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// writeTemp writes a temporary file next to path (same directory, so that
// a rename replaces path atomically) with path's mode if it exists, 0644
// otherwise, and returns its name.
func writeTemp(path string, write func(io.Writer) error) (string, error) {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	err = write(f)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// openInput opens the customer file; "-" spools standard input to a
// temporary file, since grading reads the input twice.
func openInput(path string) (io.ReadSeeker, func(), error) {
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		return f, func() { f.Close() }, nil
	}
	f, err := os.CreateTemp("", "kefu-grade-stdin-*.csv")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() {
		f.Close()
		os.Remove(f.Name())
	}
	if _, err := io.Copy(f, os.Stdin); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("reading standard input: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return nil, nil, err
	}
	return f, cleanup, nil
}
