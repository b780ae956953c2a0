package ivr_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"kefu/ivr"
	"kefu/ivr/ivrtest"
)

func TestLoadSampleFlows(t *testing.T) {
	set, err := ivr.Load("../flows", sampleOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Names(); !slices.Equal(got, []string{"direct", "main"}) {
		t.Errorf("flows = %v", got)
	}
	if w := set.Warnings(); len(w) != 0 {
		t.Errorf("warnings on the sample flows: %v", w)
	}
	main, _ := set.Flow("main")
	if main.Start != "choose_language" || main.File != filepath.Join("../flows", "main.yaml") || main.Description == "" {
		t.Errorf("main: start %q file %q description %q", main.Start, main.File, main.Description)
	}
	if got, want := main.Queues(), []string{"billing", "complaints", "data", "vip"}; !slices.Equal(got, want) {
		t.Errorf("queues = %v, want %v", got, want)
	}
	if got := main.Prompts(); !slices.Contains(got, "survey_satisfaction") || !slices.Contains(got, "outage_notice") {
		t.Errorf("prompts = %v, want the survey and the outage notice among them", got)
	}
	if langs := set.Languages(); !slices.Equal(langs, []string{"zh", "en"}) {
		t.Errorf("languages = %v", langs)
	}
	if len(set.Texts()) == 0 {
		t.Error("no texts for the speech engine")
	}
	menu, ok := main.Node("main_menu")
	if !ok || menu.Kind != "menu" || menu.Pos.Line == 0 {
		t.Fatalf("main_menu = %+v", menu)
	}
	var exits []string
	for _, x := range menu.Exits {
		exits = append(exits, x.Name+"→"+x.Target)
		if x.Pos.Line == 0 {
			t.Errorf("exit %s has no position", x.Name)
		}
	}
	if want := []string{"1→billing", "2→data", "9→complaints", "failed→goodbye"}; !slices.Equal(exits, want) {
		t.Errorf("main_menu exits = %v, want %v", exits, want)
	}
	direct, _ := set.Flow("direct")
	if first, _ := direct.Node(direct.Start); first.Kind != "queue" {
		t.Errorf("direct starts with a %s node, want queue (queue before answer)", first.Kind)
	}
	if _, ok := set.Flow("nope"); ok {
		t.Error("Flow(nope) found something")
	}
}

func TestSetVersion(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("testdata/sample/main.yaml")
	if err != nil {
		t.Fatal(err)
	}
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, "main.yaml"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(string(src))
	a, err := ivr.Load(dir, sampleOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ivr.Load(dir, sampleOptions(t))
	if a.Version() == "" || a.Version() != b.Version() {
		t.Errorf("versions of the same content: %q, %q", a.Version(), b.Version())
	}
	write(string(src) + "# an edit\n")
	c, err := ivr.Load(dir, sampleOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.Version() == a.Version() {
		t.Error("the set version did not change with the content")
	}
	fa, _ := a.Flow("main")
	fc, _ := c.Flow("main")
	if fa.Version == fc.Version {
		t.Error("the flow version did not change with the content")
	}
}

func TestLoadErrors(t *testing.T) {
	_, err := ivr.Load(filepath.Join(t.TempDir(), "missing"), ivr.LoadOptions{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing dir: %v, want fs.ErrNotExist", err)
	}
	_, err = ivr.LoadFile(filepath.Join(t.TempDir(), "missing.yaml"), ivr.LoadOptions{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}

	_, err = ivr.Load("testdata/brokendirs/mixed", sampleOptions(t))
	var le *ivr.LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v, want *LoadError", err)
	}
	if len(le.Errors()) != 1 || len(le.Warnings()) != 1 || len(le.Issues) != 2 {
		t.Errorf("issues = %v", le.Issues)
	}
	is := le.Errors()[0]
	if is.File != filepath.Join("testdata/brokendirs/mixed", "bad.yml") || is.Line != 5 || is.Col != 13 || is.Severity != ivr.SeverityError {
		t.Errorf("issue = %+v", is)
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != 2 {
		t.Errorf("Error() has %d lines, want one per issue:\n%s", len(lines), err)
	}
}

// TestLoadAllErrorsAtOnce checks one pass reports every problem of a file.
func TestLoadAllErrorsAtOnce(t *testing.T) {
	src := `
start: welcome
nodes:
  welcome:
    type: play
    prompt: welcom
    next: main
  main:
    type: menu
    prompt: main_menu
    retries: -2
    timeout: soon
    options: {"1": billing}
    exits: {failed: bye}
  billing:
    type: queue
    queue: bill
    exits: {after_agent: bye, max_wait: bye, no_agents: bye}
  bye: {type: hangup}
`
	_, err := ivr.LoadBytes("flows/x.yaml", []byte(src), sampleOptions(t))
	var le *ivr.LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v", err)
	}
	want := []string{
		`flows/x.yaml:6:13: node "welcome": unknown prompt "welcom"`,
		`flows/x.yaml:11:14: node "main": retries must be 0 or more, not -2`,
		`flows/x.yaml:12:14: node "main": timeout "soon" is not a duration`,
		`flows/x.yaml:17:12: node "billing": unknown queue "bill"`,
	}
	if len(le.Issues) != len(want) {
		t.Fatalf("got %d issues, want %d:\n%s", len(le.Issues), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(le.Issues[i].String(), w) {
			t.Errorf("issue %d = %q, want prefix %q", i, le.Issues[i], w)
		}
	}
}

func TestLoadWithoutRegistries(t *testing.T) {
	src := `
start: a
nodes:
  a: {type: play, prompt: anything, next: q}
  q:
    type: queue
    queue: any_queue
    exits: {after_agent: b, max_wait: b, no_agents: b}
  b: {type: hangup}
`
	if _, err := ivr.LoadBytes("x.yaml", []byte(src), ivr.LoadOptions{}); err != nil {
		t.Errorf("nil registries must skip the checks: %v", err)
	}
	if _, err := ivr.LoadBytes("x.yaml", []byte(src), sampleOptions(t)); err == nil {
		t.Error("unknown prompt and queue not reported")
	}
}

func TestFlowName(t *testing.T) {
	src := "start: b\nnodes:\n  b: {type: hangup}\n"
	f, err := ivr.LoadBytes("flows/vip-line.yaml", []byte(src), ivr.LoadOptions{})
	if err != nil || f.Name != "vip-line" {
		t.Errorf("name from file = %q, %v", f.Name, err)
	}
	f, err = ivr.LoadBytes("flows/x.yaml", []byte("name: hotline\n"+src), ivr.LoadOptions{})
	if err != nil || f.Name != "hotline" {
		t.Errorf("name: field = %q, %v", f.Name, err)
	}
}

func TestDefaultsApply(t *testing.T) {
	src := `
start: m
defaults: {timeout: 2s, retries: 1}
nodes:
  m:
    type: menu
    prompt: main_menu
    options: {"1": b}
    exits: {failed: b}
  other:
    type: menu
    prompt: main_menu
    timeout: 1500ms
    retries: 0
    options: {"1": b}
    exits: {failed: b}
  b: {type: hangup}
`
	f, err := ivr.LoadBytes("x.yaml", []byte(src), sampleOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	call := ivrtest.NewScriptedCall()
	if _, err := ivr.Run(t.Context(), f, call, ivr.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	reads := 0
	for _, l := range call.Transcript() {
		if l == "read: no input after "+(2*time.Second).String() {
			reads++
		}
	}
	if reads != 2 { // retries 1: two tries
		t.Errorf("transcript %q: want two reads with the 2s default timeout", call.Transcript())
	}
	if w := f.Warnings(); len(w) != 1 || !strings.Contains(w[0].Msg, `node "other" is never reached`) {
		t.Errorf("warnings = %v", w)
	}
}

func TestIssueString(t *testing.T) {
	tests := []struct {
		is   ivr.Issue
		want string
	}{
		{ivr.Issue{File: "f.yaml", Line: 3, Col: 7, Msg: "bad"}, "f.yaml:3:7: bad"},
		{ivr.Issue{File: "f.yaml", Line: 3, Msg: "bad"}, "f.yaml:3: bad"},
		{ivr.Issue{File: "flows", Msg: "empty"}, "flows: empty"},
		{ivr.Issue{File: "f.yaml", Line: 1, Col: 1, Severity: ivr.SeverityWarning, Msg: "hm"}, "f.yaml:1:1: warning: hm"},
	}
	for _, tt := range tests {
		if got := tt.is.String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.is, got, tt.want)
		}
	}
}

func TestPromptFiles(t *testing.T) {
	names, err := ivr.PromptFiles("../flows/prompts")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"welcome", "main_menu", "invalid", "no_input", "please_hold", "sorry_busy", "thanks", "goodbye", "hold_music"} {
		if !names.Has(want) {
			t.Errorf("prompt %s missing from ../flows/prompts (run flows/prompts/generate.sh)", want)
		}
	}
	if names.Has("generate") {
		t.Error("generate.sh listed as a prompt")
	}
}

// TestSamplePromptsSize keeps the repository small: each prompt at most
// 4 s of 8 kHz μ-law (plus header), all well under 300 KB.
func TestSamplePromptsSize(t *testing.T) {
	files, err := filepath.Glob("../flows/prompts/*.wav")
	if err != nil || len(files) == 0 {
		t.Fatalf("no prompts: %v", err)
	}
	total := int64(0)
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 4*8000+100 {
			t.Errorf("%s is %d bytes: longer than 4 s of 8 kHz μ-law", f, st.Size())
		}
		total += st.Size()
	}
	if total > 300_000 {
		t.Errorf("prompts total %d bytes, want under 300 KB", total)
	}
}

// TestLoadLimits checks the guards that keep hostile files from making the
// YAML parser slow (its cost grows with the square of the nesting depth and
// of the keys in one map).
func TestLoadLimits(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"too big", "start: a\n" + strings.Repeat("#", 1<<20), "a flow file may be at most 1048576 bytes"},
		{"too many keys", strings.Repeat("a: b\n", 10001), "fuzz.yaml:10001:2: the file has more than 10000 keys"},
		{"too deep", "a: " + strings.Repeat("[", 40), "nested more than 32 levels deep"},
		{"too deep in blocks", func() string {
			var b strings.Builder
			for i := range 40 {
				b.WriteString(strings.Repeat("  ", i) + "a:\n")
			}
			return b.String()
		}(), "nested more than 32 levels deep"},
		{"not UTF-8", "start: \xff\n", "fuzz.yaml:1:8: the file is not UTF-8 text"},
		{"NUL byte", "start: a\x00\n", "fuzz.yaml:1:9: the file contains a NUL byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ivr.LoadBytes("fuzz.yaml", []byte(tt.src), ivr.LoadOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %.300v, want it to say %q", err, tt.want)
			}
		})
	}
}

// TestReadmeExample loads the example of flows/README.md, so the
// documentation cannot drift from the format.
func TestReadmeExample(t *testing.T) {
	doc, err := os.ReadFile("../flows/README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	if !ok {
		t.Fatal("no ```yaml block in flows/README.md")
	}
	example, _, _ := strings.Cut(rest, "```")
	f, err := ivr.LoadBytes("README.md", []byte(example), sampleOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Warnings()) != 0 {
		t.Errorf("warnings: %v", f.Warnings())
	}
	res, err := ivr.Run(t.Context(), f, ivrtest.NewScriptedCall("1"), ivr.RunOptions{})
	if err != nil || res.End != ivr.EndHangup {
		t.Errorf("run: %s %v", res.End, err)
	}
}
