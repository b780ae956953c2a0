package ivr_test

// Engine tests per node type: each runs small flows (inline YAML, or a
// temporary flows directory when the flow needs prompts, calendars,
// announcements or subflows) against a scripted caller.

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"kefu/ivr"
	"kefu/ivr/ivrtest"
)

// loadFlowsDir writes files (name → content) into a new flows directory
// and loads it with no registries (any prompt name is a recording, any
// queue exists).
func loadFlowsDir(t *testing.T, files map[string]string) *ivr.Set {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, err := ivr.Load(dir, ivr.LoadOptions{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return set
}

// flowNamed returns the flow called name of set.
func flowNamed(t *testing.T, set *ivr.Set, name string) *ivr.Flow {
	t.Helper()
	f, ok := set.Flow(name)
	if !ok {
		t.Fatalf("no flow %q (have %v)", name, set.Names())
	}
	return f
}

// inlineFlow loads one flow from src with no registries.
func inlineFlow(t *testing.T, src string) *ivr.Flow {
	t.Helper()
	f, err := ivr.LoadBytes("test.yaml", []byte(src), ivr.LoadOptions{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return f
}

// traceLog collects the trace lines of a run.
type traceLog struct {
	mu    sync.Mutex
	lines []ivr.TraceLine
}

func (l *traceLog) add(tl ivr.TraceLine) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, tl)
}

// texts returns "what node: text" per line.
func (l *traceLog) texts() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, len(l.lines))
	for i, tl := range l.lines {
		out[i] = tl.What + " " + tl.Node + ": " + tl.Text
	}
	return out
}

// runScripted runs flow for a scripted caller and logs the transcript.
func runScripted(t *testing.T, flow *ivr.Flow, call *ivrtest.ScriptedCall, opts ivr.RunOptions) (ivr.Result, error) {
	t.Helper()
	res, err := ivr.Run(context.Background(), flow, call, opts)
	t.Logf("transcript:\n  %s", strings.Join(call.Transcript(), "\n  "))
	return res, err
}

// digitsAt returns the keys read in node, over every visit.
func digitsAt(res ivr.Result, node string) string {
	var b strings.Builder
	for _, s := range res.Steps {
		if s.Node == node {
			b.WriteString(s.Digits)
		}
	}
	return b.String()
}

// lacks returns the lines of want that are not in got.
func lacks(got, want []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			out = append(out, w)
		}
	}
	return out
}

// indent indents every line of s by n spaces.
func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = pad + l
	}
	return strings.Join(lines, "\n")
}

const collectFlowTmpl = `
start: hello
vars:
  acct: digits
  pin: {type: digits, sensitive: true}
  n: {type: int, default: -1}
nodes:
  hello:
    type: play
    prompt: hello
    next: ask
  ask:
    type: collect
    prompt: enter
    invalid_prompt: invalid
    no_input_prompt: no_input
%s
    exits: {ok: good, failed: bad}
  good: {type: hangup, reason: ok}
  bad: {type: hangup, reason: failed}
`

func TestCollect(t *testing.T) {
	tests := []struct {
		name     string
		fields   string
		script   []string
		reason   string            // how the call ended: ok or failed
		vars     map[string]string // Result.Vars that must hold
		digits   string            // Steps[].Digits of the collect node
		contains []string          // transcript lines
		lacks    []string          // transcript lines that must not be there
	}{
		{
			name:   "entry ends by itself at max_digits",
			fields: "min_digits: 4\nmax_digits: 6\nstore: acct",
			script: []string{"123456"},
			reason: "ok", vars: map[string]string{"acct": "123456"}, digits: "123456",
			lacks: []string{"read: no input after 3s"},
		},
		{
			name:   "terminator ends the entry early and is not stored",
			fields: "min_digits: 4\nmax_digits: 6\nstore: acct",
			script: []string{"1234#"},
			reason: "ok", vars: map[string]string{"acct": "1234"}, digits: "1234#",
		},
		{
			name:   "too few keys is invalid, then a good entry",
			fields: "min_digits: 4\nmax_digits: 6\nstore: acct",
			script: []string{"12#", "5678#"},
			reason: "ok", vars: map[string]string{"acct": "5678"}, digits: "12#5678#",
			contains: []string{"play invalid,enter (cut short by a key)"},
		},
		{
			name:   "inter-digit timeout ends the entry, which is then checked",
			fields: "min_digits: 4\nmax_digits: 6\ninter_digit_timeout: 2s\nstore: acct",
			script: []string{"12345", "-"},
			reason: "ok", vars: map[string]string{"acct": "12345"}, digits: "12345",
			contains: []string{"read: no input after 2s"},
			lacks:    []string{"read: no input after 5s"},
		},
		{
			name:   "inter-digit timeout with too few keys is a wrong entry",
			fields: "min_digits: 4\nmax_digits: 6\nretries: 1\nstore: acct",
			script: []string{"12", "-", "-"},
			reason: "failed", vars: map[string]string{"acct": ""}, digits: "12",
			contains: []string{"read: no input after 3s", "play invalid,enter", "read: no input after 5s"},
		},
		{
			name:   "silence on every try takes failed after the no-input prompt",
			fields: "retries: 2\nstore: acct",
			script: []string{"-", "-", "-"},
			reason: "failed", vars: map[string]string{"acct": ""}, digits: "",
			contains: []string{"play no_input,enter"},
			lacks:    []string{"play invalid,enter"},
		},
		{
			name:   "retries 0: one wrong entry fails",
			fields: "min_digits: 4\nretries: 0\nstore: acct",
			script: []string{"1#", "1234#"},
			reason: "failed", digits: "1#",
			lacks: []string{"play invalid,enter"},
		},
		{
			name:   "pattern refuses an entry that does not match",
			fields: "min_digits: 4\nmax_digits: 4\npattern: '^1[3-9]'\nstore: acct",
			script: []string{"1234", "1334"},
			// After 4 keys the node waits briefly for a terminator; the
			// caller's next key (the retry's first) is kept for the retry,
			// whose prompt it cuts before it starts.
			reason: "ok", vars: map[string]string{"acct": "1334"}, digits: "12341334",
		},
		{
			name:   "no terminator: # is a wrong key",
			fields: "terminator: \"\"\nmax_digits: 6\nstore: acct",
			script: []string{"1234#", "-", "123456"},
			reason: "ok", vars: map[string]string{"acct": "123456"}, digits: "1234#123456",
		},
		{
			name:   "* as the terminator",
			fields: "terminator: \"*\"\nstore: acct",
			script: []string{"987*"},
			reason: "ok", vars: map[string]string{"acct": "987"}, digits: "987*",
		},
		{
			name:   "a lone terminator is a wrong entry, not silence",
			fields: "retries: 1\nstore: acct",
			script: []string{"#", "42#"},
			reason: "ok", vars: map[string]string{"acct": "42"}, digits: "#42#",
			contains: []string{"play invalid,enter (cut short by a key)"},
			lacks:    []string{"play no_input,enter (cut short by a key)"},
		},
		{
			name:   "an int variable gets the number",
			fields: "store: n",
			script: []string{"0042#"},
			reason: "ok", vars: map[string]string{"n": "42"}, digits: "0042#",
		},
		{
			name:   "keys typed ahead during the play count",
			fields: "store: acct",
			script: []string{"~12", "34#"},
			reason: "ok", vars: map[string]string{"acct": "1234"}, digits: "1234#",
			contains: []string{"typed 12 during hello", "play enter (cut short by a key)"},
		},
		{
			name:   "flush_digits drops keys typed ahead",
			fields: "flush_digits: true\nstore: acct",
			script: []string{"~99", "1234#"},
			reason: "ok", vars: map[string]string{"acct": "1234"}, digits: "1234#",
			contains: []string{"flush 99"},
		},
		{
			name:   "sensitive variable: the keys are masked",
			fields: "min_digits: 4\nstore: pin",
			script: []string{"12#", "1234#"},
			reason: "ok", vars: map[string]string{"pin": "****"}, digits: "********",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flow := inlineFlow(t, fmt.Sprintf(collectFlowTmpl, indent(tt.fields, 4)))
			call := ivrtest.NewScriptedCall(tt.script...)
			res, err := runScripted(t, flow, call, ivr.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.End != ivr.EndHangup || res.HangupReason != tt.reason {
				t.Errorf("end %s %q, want hangup %q", res.End, res.HangupReason, tt.reason)
			}
			for k, want := range tt.vars {
				if got := res.Vars[k]; got != want {
					t.Errorf("var %s = %q, want %q", k, got, want)
				}
			}
			if got := digitsAt(res, "ask"); got != tt.digits {
				t.Errorf("digits = %q, want %q", got, tt.digits)
			}
			tr := call.Transcript()
			if miss := lacks(tr, tt.contains); len(miss) > 0 {
				t.Errorf("transcript lacks %q", miss)
			}
			for _, l := range tt.lacks {
				if slices.Contains(tr, l) {
					t.Errorf("transcript has %q", l)
				}
			}
		})
	}
}

// TestCollectSensitiveTrace checks a sensitive entry never shows in the
// trace, not even when it is refused.
func TestCollectSensitiveTrace(t *testing.T) {
	flow := inlineFlow(t, fmt.Sprintf(collectFlowTmpl, indent("min_digits: 4\nstore: pin", 4)))
	var tl traceLog
	res, err := runScripted(t, flow, ivrtest.NewScriptedCall("98#", "9876#"), ivr.RunOptions{Trace: tl.add})
	if err != nil {
		t.Fatal(err)
	}
	lines := tl.texts()
	t.Logf("trace:\n  %s", strings.Join(lines, "\n  "))
	for _, l := range lines {
		if strings.Contains(l, "98") || strings.Contains(l, "9876") {
			t.Errorf("trace line %q shows the secret", l)
		}
	}
	want := []string{"digits ask: ** rejected: 2 keys, at least 4 needed", "set ask: pin = ****", "digits ask: ********"}
	if miss := lacks(lines, want); len(miss) > 0 {
		t.Errorf("trace lacks %q", miss)
	}
	if res.Vars["pin"] != "****" {
		t.Errorf("Result.Vars[pin] = %q", res.Vars["pin"])
	}
	// The same entry into a variable that is not sensitive shows.
	flow = inlineFlow(t, fmt.Sprintf(collectFlowTmpl, indent("min_digits: 4\nstore: acct", 4)))
	tl = traceLog{}
	if _, err := runScripted(t, flow, ivrtest.NewScriptedCall("9876#"), ivr.RunOptions{Trace: tl.add}); err != nil {
		t.Fatal(err)
	}
	if miss := lacks(tl.texts(), []string{"set ask: acct = 9876", "digits ask: 9876#"}); len(miss) > 0 {
		t.Errorf("trace lacks %q:\n%s", miss, strings.Join(tl.texts(), "\n"))
	}
}

// languageFiles is a flows directory with a zh/en prompt catalogue whose
// variants are texts (so the scripted call plays "tts:<lang>:<text>") or
// recordings.
var languageFiles = map[string]string{
	"prompts.yaml": `kind: prompts
languages: [zh, en]
prompts:
  language_menu:
    all: {audio: language_menu}
  welcome:
    zh: {tts: 欢迎致电}
    en: {tts: Welcome}
  your_number:
    all: {tts: "${caller}"}
  goodbye:
    zh: {audio: goodbye_zh}
    en: {audio: goodbye_en, tts: Goodbye}
`,
	"main.yaml": `start: choose
nodes:
  choose:
    type: language
    prompt: language_menu
    options: {"1": zh, "2": en}
    timeout: 3s
    next: hello
  hello:
    type: play
    prompt: [welcome, your_number]
    next: bye
  bye:
    type: hangup
    prompt: goodbye
`,
}

func TestLanguage(t *testing.T) {
	flow := flowNamed(t, loadFlowsDir(t, languageFiles), "main")
	tests := []struct {
		name   string
		script []string
		lang   string
		plays  []string
	}{
		{"2 chooses English", []string{"2"}, "en", []string{"play tts:en:Welcome,tts:en:13800138000", "play goodbye_en"}},
		{"1 chooses Mandarin", []string{"1"}, "zh", []string{"play tts:zh:欢迎致电,tts:zh:13800138000", "play goodbye_zh"}},
		{"a wrong key keeps the default", []string{"7"}, "zh", []string{"play tts:zh:欢迎致电,tts:zh:13800138000"}},
		{"silence keeps the default", []string{"-"}, "zh", []string{"read: no input after 3s", "play tts:zh:欢迎致电,tts:zh:13800138000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := ivrtest.NewScriptedCall(tt.script...)
			var tl traceLog
			res, err := runScripted(t, flow, call, ivr.RunOptions{Trace: tl.add})
			if err != nil {
				t.Fatal(err)
			}
			if res.Language != tt.lang {
				t.Errorf("language = %q, want %q", res.Language, tt.lang)
			}
			if miss := lacks(call.Transcript(), tt.plays); len(miss) > 0 {
				t.Errorf("transcript lacks %q", miss)
			}
			if res.End != ivr.EndHangup || !slices.Equal(res.Path, []string{"choose", "hello", "bye"}) {
				t.Errorf("end %s, path %v", res.End, res.Path)
			}
			if d := digitsAt(res, "choose"); d != strings.Trim(tt.script[0], "-") {
				t.Errorf("digits at choose = %q", d)
			}
			if tt.lang == "en" && !slices.Contains(tl.texts(), "set choose: lang = en") {
				t.Errorf("trace lacks the language change: %q", tl.texts())
			}
		})
	}
}

// TestLanguageVariantFallback checks a prompt without a variant for the
// caller's language is played in the default language (with a load
// warning), and a recording's text is not used when it exists.
func TestLanguageVariantFallback(t *testing.T) {
	files := maps.Clone(languageFiles)
	files["prompts.yaml"] += `  zh_only:
    zh: {tts: 只有中文}
`
	files["main.yaml"] = strings.Replace(files["main.yaml"], "prompt: [welcome, your_number]", "prompt: [zh_only]", 1)
	set := loadFlowsDir(t, files)
	w := set.Warnings()
	if len(w) != 1 || !strings.Contains(w[0].String(), `prompt "zh_only" has no en variant; en callers will hear zh`) {
		t.Errorf("warnings = %v", w)
	}
	call := ivrtest.NewScriptedCall("2")
	res, err := runScripted(t, flowNamed(t, set, "main"), call, ivr.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if miss := lacks(call.Transcript(), []string{"play tts:zh:只有中文", "play goodbye_en"}); len(miss) > 0 || res.Language != "en" {
		t.Errorf("language %s, transcript lacks %q", res.Language, miss)
	}
}

// fakeSpeaker renders texts as "say/<lang>/<text>" and fails for texts
// containing "FAIL".
type fakeSpeaker struct{}

func (fakeSpeaker) Say(_ context.Context, text, lang string) (string, error) {
	if strings.Contains(text, "FAIL") {
		return "", fmt.Errorf("speech engine down")
	}
	return "say/" + lang + "/" + text, nil
}

func TestSpeakerRendersTexts(t *testing.T) {
	files := maps.Clone(languageFiles)
	files["prompts.yaml"] += `  broken:
    all: {tts: "FAIL ${caller}"}
`
	files["main.yaml"] = strings.Replace(files["main.yaml"], "prompt: [welcome, your_number]", "prompt: [welcome, broken, your_number]", 1)
	flow := flowNamed(t, loadFlowsDir(t, files), "main")
	call := ivrtest.NewScriptedCall("2")
	var tl traceLog
	if _, err := runScripted(t, flow, call, ivr.RunOptions{Services: ivr.Services{Speaker: fakeSpeaker{}}, Trace: tl.add}); err != nil {
		t.Fatal(err)
	}
	// A text the speech engine cannot render is skipped, not fatal.
	if miss := lacks(call.Transcript(), []string{"play say/en/Welcome,say/en/13800138000"}); len(miss) > 0 {
		t.Errorf("transcript lacks %q", miss)
	}
	if !slices.ContainsFunc(tl.texts(), func(l string) bool { return strings.Contains(l, "broken: skipped: speech engine: speech engine down") }) {
		t.Errorf("trace does not say the prompt was skipped: %q", tl.texts())
	}
}

// TestCollectSwallowsTerminatorAfterMaxDigits: "enter your 8-digit number,
// then press #" — the # after a full entry is taken by the collect node and
// does not count as a wrong key in the next menu; any other key is kept for
// the next node.
func TestCollectSwallowsTerminatorAfterMaxDigits(t *testing.T) {
	src := `name: t
start: acct
vars:
  acct: digits
nodes:
  acct:
    type: collect
    prompt: enter
    min_digits: 4
    max_digits: 4
    store: acct
    exits: {ok: menu, failed: bye}
  menu:
    type: menu
    prompt: main
    retries: 0
    options: {"1": ok}
    exits: {failed: bye}
  ok:
    type: hangup
    reason: ok
  bye:
    type: hangup
    reason: failed
`
	f, err := ivr.LoadBytes("t.yaml", []byte(src), ivr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		script []string
		reason string
	}{
		{"terminator swallowed", []string{"1234#", "1"}, "ok"},
		{"next key kept for the menu", []string{"12341"}, "ok"},
		{"no terminator", []string{"1234", "-", "1"}, "ok"},
		{"wrong key after the entry reaches the menu", []string{"12349"}, "failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ivr.Run(t.Context(), f, ivrtest.NewScriptedCall(tc.script...), ivr.RunOptions{})
			if err != nil || res.HangupReason != tc.reason {
				t.Errorf("ended %q (%v), want %q; path %v", res.HangupReason, err, tc.reason, res.Path)
			}
		})
	}
}
