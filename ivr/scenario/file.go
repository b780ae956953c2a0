package scenario

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"kefu/ivr"
)

// DefaultCaller and DefaultCalled are the numbers of a case that gives
// none (those of ivrtest.NewScriptedCall).
const (
	DefaultCaller = "13800138000"
	DefaultCalled = "10086"
)

// DefaultAt returns the time of a case that gives none: 2026-01-05
// 10:00 +08:00, a Monday morning in Beijing, so that cases without at: do
// not depend on the day they run.
func DefaultAt() time.Time {
	return time.Date(2026, 1, 5, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
}

// File is one scenario file: cases that call one flow.
type File struct {
	// Path is the file the cases were read from.
	Path string
	// Flow is the name of the flow the cases call.
	Flow string
	// Description is the file's description:, if any.
	Description string
	// Cases are the cases in file order.
	Cases []*Case
}

// Case is one scenario: a simulated call and what must happen in it.
type Case struct {
	// Name says what the case checks; unique within its file.
	Name string
	// Pos is where the case starts in its file.
	Pos ivr.Pos
	// Setup is who calls, when, what they press and how the world answers.
	Setup Setup
	// Expect is what must happen.
	Expect Expect
}

// Setup describes one simulated call. The zero Setup is a call from
// DefaultCaller to DefaultCalled at DefaultAt by a caller the directory
// does not know, who presses nothing.
type Setup struct {
	// Caller and Called are the calling and dialled numbers.
	Caller, Called string
	// At is the time on the fake clock for the whole call.
	At time.Time
	// Customer is what the directory answers; nil: the caller is not in
	// the directory.
	Customer *Customer
	// Webhooks answer lookup webhooks by URL prefix (the longest matching
	// prefix wins); a URL no prefix matches fails to connect.
	Webhooks map[string]Webhook
	// Switches are the operations switches that are set, by name
	// ("announce.outage", "emergency.hotline"); others keep the flow
	// files' default.
	Switches map[string]bool
	// Keys are the caller's script: ivrtest.ScriptedCall tokens.
	Keys []string
	// Queue says how successive queue nodes end; when it runs out an agent
	// ("agent-1") answers.
	Queue []ivr.QueueResult
	// MaxSteps is the step budget (0: the flow's).
	MaxSteps int
}

// Customer is what the stub directory answers for the caller.
type Customer struct {
	// Data is the customer found (when neither NotFound nor Fail is set).
	// An empty Number is the caller's number.
	Data ivr.Customer
	// NotFound: the directory does not know the caller.
	NotFound bool
	// Fail: the directory cannot be asked (lookup nodes take their error
	// exit).
	Fail bool
}

// Webhook is the stub answer to webhook requests.
type Webhook struct {
	// Status is the HTTP status (200 when not given).
	Status int
	// Body is the answer's body.
	Body []byte
	// Fail: the connection fails (the lookup node takes its error exit).
	Fail bool
}

// Expect is what must happen in a case. Empty fields are not checked.
type Expect struct {
	// Path is the exact list of nodes entered.
	Path []string
	// PathIncludes are nodes entered in this order, not necessarily one
	// after the other.
	PathIncludes []string
	// PathEndsWith are the last nodes entered.
	PathEndsWith []string
	// PathExcludes are nodes never entered.
	PathExcludes []string
	// End is how the run ended; Node in which node; Reason the hangup
	// node's reason.
	End    ivr.Ending
	Node   string
	Reason string
	// Error is text the run's error must contain.
	Error string
	// PromptsInclude are prompt ids played in this order; PromptsExclude
	// prompt ids never played.
	PromptsInclude []string
	PromptsExclude []string
	// Says are texts the speech engine was asked to say (each contained in
	// one of the texts, in this order).
	Says []string
	// Queue checks the last queue request and how it ended, by key: name,
	// tier, preferred_agent, music, outcome, agent. A key given with ""
	// checks the value is empty.
	Queue map[string]string
	// Queues are the queues the call was put in, in order.
	Queues []string
	// Vars are variables as the call record shows them (sensitive ones
	// masked "****").
	Vars map[string]string
	// Survey are the survey answers by question id.
	Survey map[string]string
	// Language is the caller's language at the end.
	Language string
	// Milestones are the milestones reached, exactly; nil is not checked,
	// an empty list means none.
	Milestones []string
	// Transcript are texts of the caller's side of the call
	// (ivrtest.ScriptedCall.Transcript), each contained in one line, in
	// this order.
	Transcript []string
}

// ParseError is a problem in a scenario file.
type ParseError struct {
	// File is the scenario file.
	File string
	// Pos is where the problem is; the zero Pos for the whole file.
	Pos ivr.Pos
	// Msg says what is wrong and how to fix it.
	Msg string
}

// Error formats the problem as file:line:col: message.
func (e *ParseError) Error() string {
	if e.Pos.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return e.File + ":" + e.Pos.String() + ": " + e.Msg
}

// maxFileSize bounds a scenario file; a big suite has a few hundred cases.
const maxFileSize = 1 << 20

// LoadDir reads every scenario file (*.yaml, *.yml; not recursing,
// ignoring names starting with "." or "_") of dir, sorted by name. It
// reports every file's problem at once, each a *ParseError.
func LoadDir(dir string) ([]*File, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("scenario: read the test directory: %w", err)
	}
	var files []*File
	var errs []error
	for _, e := range entries {
		name := e.Name()
		ext := strings.ToLower(filepath.Ext(name))
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			continue
		}
		f, err := ParseFile(filepath.Join(dir, name))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		files = append(files, f)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("scenario: no scenario files (*.yaml) in %s; add one, for example %s", dir, filepath.Join(dir, "main.yaml"))
	}
	slices.SortFunc(files, func(a, b *File) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

// ParseFile reads one scenario file.
func ParseFile(path string) (*File, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: read the scenario file (check the path): %w", err)
	}
	return Parse(path, src)
}

// Parse reads a scenario file's content; file names it in errors. The
// error is a *ParseError.
func Parse(file string, src []byte) (*File, error) {
	if len(src) > maxFileSize {
		return nil, &ParseError{File: file, Msg: fmt.Sprintf("the file is %d bytes; a scenario file may be at most %d: split it", len(src), maxFileSize)}
	}
	raw, err := decodeFile(src)
	if err != nil {
		return nil, parseError(file, err)
	}
	f := &File{Path: file, Flow: string(raw.Flow), Description: raw.Description}
	for i := range raw.Cases {
		f.Cases = append(f.Cases, raw.Cases[i].build(&raw.Defaults))
	}
	return f, nil
}
