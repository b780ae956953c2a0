package ivr

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the .golden files of testdata/broken and testdata/brokendirs")

// testOptions are the registries the golden and loader tests check against:
// the sample prompts and queues.
func testOptions() LoadOptions {
	return LoadOptions{
		Prompts: Names{"welcome", "main_menu", "invalid", "no_input", "please_hold", "sorry_busy", "thanks", "goodbye", "hold_music"},
		Queues:  Names{"billing", "data", "complaints"},
	}
}

// report is what a golden file holds: every issue, one per line, or "ok".
func report(warnings []Issue, err error) string {
	if err != nil {
		return err.Error() + "\n"
	}
	if len(warnings) == 0 {
		return "ok\n"
	}
	lines := make([]string, len(warnings))
	for i, w := range warnings {
		lines[i] = w.String()
	}
	return strings.Join(lines, "\n") + "\n"
}

func checkGolden(t *testing.T, goldenPath, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(goldenPath, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run go test ./ivr -run Golden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s--- want\n%s", goldenPath, got, want)
	}
}

// TestGoldenBroken loads each testdata/broken/*.yaml and compares every
// issue with the sibling .golden file.
func TestGoldenBroken(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "broken", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			var warnings []Issue
			f, err := LoadFile(file, testOptions())
			if err == nil {
				warnings = f.Warnings()
			}
			checkGolden(t, strings.TrimSuffix(file, ".yaml")+".golden", report(warnings, err))
		})
	}
}

// TestGoldenBrokenDirs loads each directory of testdata/brokendirs as a set.
func TestGoldenBrokenDirs(t *testing.T) {
	dirs, err := os.ReadDir(filepath.Join("testdata", "brokendirs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		t.Run(d.Name(), func(t *testing.T) {
			dir := filepath.Join("testdata", "brokendirs", d.Name())
			var warnings []Issue
			s, err := Load(dir, testOptions())
			if err == nil {
				warnings = s.Warnings()
			}
			checkGolden(t, dir+".golden", report(warnings, err))
		})
	}
}
