package scenario

// This file decodes scenario files strictly with goccy/go-yaml: unknown and
// duplicate keys are errors, and every value that needs checking has a
// type whose UnmarshalYAML sees the syntax node, so that its error points
// at file:line:col.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"kefu/ivr"
	"kefu/ivr/ivrtest"
)

// rawFile is a scenario file as written.
type rawFile struct {
	Kind        fileKind  `yaml:"kind"`
	Flow        name      `yaml:"flow"`
	Description string    `yaml:"description"`
	Defaults    rawSetup  `yaml:"defaults"`
	Cases       []rawCase `yaml:"cases"`
}

// rawSetup is the setup of a case, or the defaults of a file.
type rawSetup struct {
	Caller   phone        `yaml:"caller"`
	Called   phone        `yaml:"called"`
	At       stamp        `yaml:"at"`
	Customer *rawCustomer `yaml:"customer"`
	Webhooks webhooks     `yaml:"webhooks"`
	Switches switches     `yaml:"switches"`
	Queue    queueList    `yaml:"queue"`
	MaxSteps int          `yaml:"max_steps"`
}

// rawCase is one case as written.
type rawCase struct {
	Name   string    `yaml:"name"`
	Setup  rawSetup  `yaml:",inline"`
	Keys   script    `yaml:"keys"`
	Expect rawExpect `yaml:"expect"`

	pos ivr.Pos
}

// rawCustomer is the directory's answer as written.
type rawCustomer struct {
	Number   phone           `yaml:"number"`
	Tier     text            `yaml:"tier"`
	Stars    int             `yaml:"stars"`
	Brand    text            `yaml:"brand"`
	VIP      bool            `yaml:"vip"`
	Manager  text            `yaml:"manager"`
	Extra    map[string]text `yaml:"extra"`
	Repeat   bool            `yaml:"repeat"`
	NotFound bool            `yaml:"not_found"`
	Error    bool            `yaml:"error"`
}

// rawWebhook is a webhook's stub answer as written.
type rawWebhook struct {
	Status *int `yaml:"status"`
	Body   any  `yaml:"body"`
	Error  bool `yaml:"error"`
}

// rawExpect is a case's expectations as written.
type rawExpect struct {
	Path           []name          `yaml:"path"`
	PathIncludes   []name          `yaml:"path_includes"`
	PathEndsWith   []name          `yaml:"path_ends_with"`
	PathExcludes   []name          `yaml:"path_excludes"`
	End            ending          `yaml:"end"`
	Node           name            `yaml:"node"`
	Reason         text            `yaml:"reason"`
	Error          string          `yaml:"error"`
	PromptsInclude []name          `yaml:"prompts_include"`
	PromptsExclude []name          `yaml:"prompts_exclude"`
	Says           []string        `yaml:"says"`
	Queue          *rawQueueExpect `yaml:"queue"`
	Queues         []name          `yaml:"queues"`
	Vars           map[string]text `yaml:"vars"`
	Survey         map[string]text `yaml:"survey"`
	Language       text            `yaml:"language"`
	Milestones     *[]text         `yaml:"milestones"`
	Transcript     []string        `yaml:"transcript_include"`
}

// rawQueueExpect checks the last queue request; nil fields are not checked.
type rawQueueExpect struct {
	Name           *text `yaml:"name"`
	Tier           *text `yaml:"tier"`
	PreferredAgent *text `yaml:"preferred_agent"`
	Music          *text `yaml:"music"`
	Outcome        *text `yaml:"outcome"`
	Agent          *text `yaml:"agent"`
}

// decodeFile parses and decodes a scenario file.
func decodeFile(src []byte) (raw *rawFile, err error) {
	defer func() {
		if r := recover(); r != nil {
			raw, err = nil, fmt.Errorf("the YAML parser failed on this file (%v); check the syntax around the last edit", r)
		}
	}()
	tokens := lexer.Tokenize(string(src))
	for _, tk := range tokens {
		if tk.Type == token.AnchorType || tk.Type == token.AliasType {
			return nil, errorAt(tk, "anchors (&) and aliases (*) are not supported in scenario files; put shared setup under defaults: (and quote the * key: \"*\")")
		}
	}
	f, err := parser.Parse(tokens, 0)
	if err != nil {
		return nil, err
	}
	var body ast.Node
	for _, d := range f.Docs {
		if d == nil || d.Body == nil || d.Body.Type() == ast.NullType {
			continue
		}
		if body != nil {
			return nil, errorAt(d.Body.GetToken(), "a scenario file holds one document; move the part after --- to its own file")
		}
		body = d.Body
	}
	if body == nil {
		return nil, &posError{msg: "the file is empty; a scenario file needs flow: and cases:"}
	}
	raw = &rawFile{}
	if err := strictDecode(body, raw); err != nil {
		return nil, err
	}
	at := posOf(body)
	if raw.Flow == "" {
		return nil, &posError{pos: at, msg: "missing \"flow\"; add flow: <name> naming the flow the cases call"}
	}
	if len(raw.Cases) == 0 {
		return nil, &posError{pos: at, msg: "missing \"cases\"; add cases: with at least one - name: ... entry"}
	}
	for i := range raw.Cases {
		if raw.Cases[i].pos.Line == 0 { // an empty entry: the decoder skips it
			return nil, &posError{pos: casePos(body, i), msg: "the case is empty; write - name: ... with its keys and expect:"}
		}
	}
	seen := map[string]ivr.Pos{}
	for _, c := range raw.Cases {
		if first, dup := seen[c.Name]; dup {
			return nil, &posError{pos: c.pos, msg: fmt.Sprintf("case %q is already defined at line %d; give each case its own name", c.Name, first.Line)}
		}
		seen[c.Name] = c.pos
	}
	return raw, nil
}

// casePos returns where the i-th entry of cases: is.
func casePos(body ast.Node, i int) ivr.Pos {
	pairs, _ := mapPairs(body)
	for _, kv := range pairs {
		if k, _ := scalarText(kv.Key); k != "cases" {
			continue
		}
		if seq, ok := kv.Value.(*ast.SequenceNode); ok && i < len(seq.Entries) && seq.Entries[i] != nil {
			if p := tokenPos(seq.Entries[i].Start); p.Line > 0 {
				return p // the entry's "-"
			}
		}
		return posOf(kv.Key)
	}
	return posOf(body)
}

// strictDecode decodes n into v, refusing unknown keys.
func strictDecode(n ast.Node, v any) error {
	return yaml.NodeToValue(n, v, yaml.Strict())
}

// posError is a problem at a position of the file.
type posError struct {
	pos ivr.Pos
	msg string
}

// Error formats the problem as line:col: message.
func (e *posError) Error() string { return e.pos.String() + ": " + e.msg }

// errorAt returns a posError at a token.
func errorAt(tk *token.Token, format string, args ...any) error {
	p := ivr.Pos{}
	if tk != nil && tk.Position != nil {
		p = ivr.Pos{Line: tk.Position.Line, Col: tk.Position.Column}
	}
	return &posError{pos: p, msg: fmt.Sprintf(format, args...)}
}

// errorNode returns a posError at a syntax node.
func errorNode(n ast.Node, format string, args ...any) error {
	return &posError{pos: posOf(n), msg: fmt.Sprintf(format, args...)}
}

// posOf returns where a syntax node starts: for a block map, its first key.
func posOf(n ast.Node) ivr.Pos {
	if m, ok := n.(*ast.MappingNode); ok && !m.IsFlowStyle && len(m.Values) > 0 && m.Values[0].Key != nil {
		n = m.Values[0].Key
	}
	if mv, ok := n.(*ast.MappingValueNode); ok && mv.Key != nil {
		n = mv.Key
	}
	if n == nil {
		return ivr.Pos{}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return ivr.Pos{}
	}
	return ivr.Pos{Line: tk.Position.Line, Col: tk.Position.Column}
}

// parseError turns a decode error into a *ParseError for file.
func parseError(file string, err error) *ParseError {
	var pe *posError
	if errors.As(err, &pe) {
		return &ParseError{File: file, Pos: pe.pos, Msg: pe.msg}
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return &ParseError{File: file, Pos: tokenPos(te.Token), Msg: typeMessage(te)}
	}
	var ue *yaml.UnexpectedNodeTypeError
	if errors.As(err, &ue) {
		want := "another kind of value"
		switch ue.Expected {
		case ast.SequenceType:
			want = "a list"
		case ast.MappingType:
			want = "a map of key: value lines"
		case ast.StringType:
			want = "a single value"
		}
		return &ParseError{File: file, Pos: tokenPos(ue.Token), Msg: fmt.Sprintf("%s%s must be %s", keyBefore(ue.Token), tokenValue(ue.Token), want)}
	}
	var ye yaml.Error
	if errors.As(err, &ye) {
		msg := ye.GetMessage()
		if strings.HasPrefix(msg, "unknown field") {
			msg += "; check the spelling and the indentation (see the format in ivr/scenario or flows/schema/test.schema.json)"
		}
		return &ParseError{File: file, Pos: tokenPos(ye.GetToken()), Msg: msg}
	}
	return &ParseError{File: file, Msg: err.Error()}
}

func tokenPos(tk *token.Token) ivr.Pos {
	if tk == nil || tk.Position == nil {
		return ivr.Pos{}
	}
	return ivr.Pos{Line: tk.Position.Line, Col: tk.Position.Column}
}

// typeMessage says which key has a value of the wrong type and what to
// write instead, without Go type names.
func typeMessage(te *yaml.TypeError) string {
	return fmt.Sprintf("%s%s must be %s", keyBefore(te.Token), tokenValue(te.Token), typeWords(te.DstType))
}

// keyBefore returns "key: " for the value token of a key: value pair.
func keyBefore(tk *token.Token) string {
	if tk == nil || tk.Prev == nil || tk.Prev.Type != token.MappingValueType || tk.Prev.Prev == nil {
		return ""
	}
	return tk.Prev.Prev.Value + ": "
}

// tokenValue quotes a token's text for messages.
func tokenValue(tk *token.Token) string {
	if tk == nil {
		return "the value"
	}
	return fmt.Sprintf("%q", tk.Value)
}

// typeWords names a Go type for people who write YAML.
func typeWords(t reflect.Type) string {
	if t == nil {
		return "another kind of value"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return typeWords(t.Elem())
	case reflect.String:
		return "text"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a whole number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a map of key: value lines"
	}
	return "another kind of value"
}

// scalarText returns a scalar as written (a number keeps its digits).
func scalarText(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return v.GetToken().Value, true
	case *ast.LiteralNode:
		if v.Value != nil {
			return strings.TrimSpace(v.Value.Value), true
		}
	}
	return "", false
}

// text is any scalar, as written: "1001", 1001 and true are all text.
type text string

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (t *text) UnmarshalYAML(n ast.Node) error {
	s, ok := scalarText(n)
	if !ok {
		return errorNode(n, "want a single value here, not %s", describe(n))
	}
	*t = text(s)
	return nil
}

// describe names a syntax node's kind for messages.
func describe(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a map"
	case *ast.SequenceNode:
		return "a list"
	case nil, *ast.NullNode:
		return "nothing"
	}
	return n.Type().String()
}

// name is a flow, node or prompt name.
type name string

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (nm *name) UnmarshalYAML(n ast.Node) error {
	s, ok := scalarText(n)
	if !ok || !validName(s) {
		return errorNode(n, "%s is not a name: names are lower-case letters, digits, _ and -, starting with a letter", describeValue(n))
	}
	*nm = name(s)
	return nil
}

func describeValue(n ast.Node) string {
	if s, ok := scalarText(n); ok {
		return fmt.Sprintf("%q", s)
	}
	return describe(n)
}

// validName is the rule of ivr for flow, node and prompt names.
func validName(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// fileKind is the optional kind: test.
type fileKind string

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (k *fileKind) UnmarshalYAML(n ast.Node) error {
	if s, _ := scalarText(n); s != "test" {
		return errorNode(n, "kind %s: a scenario file's kind is test (or leave kind: out)", describeValue(n))
	}
	*k = "test"
	return nil
}

// phone is a telephone number, written as quoted text.
type phone string

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (p *phone) UnmarshalYAML(n ast.Node) error {
	sn, ok := n.(*ast.StringNode)
	if !ok {
		s, _ := scalarText(n)
		return errorNode(n, "write the number as quoted text: \"%s\" (unquoted, YAML reads a number and drops leading zeros and +)", s)
	}
	if sn.Value == "" || strings.ContainsAny(sn.Value, " \t\n") {
		return errorNode(n, "%q is not a number to call from: write digits (with + if needed) or anonymous", sn.Value)
	}
	*p = phone(sn.Value)
	return nil
}

// stamp is a time with its offset.
type stamp struct{ time.Time }

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (st *stamp) UnmarshalYAML(n ast.Node) error {
	s, ok := scalarText(n)
	if !ok {
		return errorNode(n, "at must be a time like 2026-11-25T10:00:00+08:00, not %s", describe(n))
	}
	t, err := ParseTime(s)
	if err != nil {
		return errorNode(n, "%v", err)
	}
	st.Time = t
	return nil
}

// ParseTime reads an RFC 3339 time with its offset
// ("2026-11-25T10:00:00+08:00"); a time without an offset is refused, since
// calendars are read in their own time zone.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", time.DateOnly} {
		if _, err := time.Parse(layout, s); err == nil {
			return time.Time{}, fmt.Errorf("time %q has no offset; write the date, time and offset, like 2026-11-25T10:00:00+08:00", s)
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time; write the date, time and offset, like 2026-11-25T10:00:00+08:00", s)
}

// script is the caller's keys: a list of tokens or one line of them.
type script []string

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (sc *script) UnmarshalYAML(n ast.Node) error {
	var items []ast.Node
	switch v := n.(type) {
	case *ast.SequenceNode:
		items = v.Values
	default:
		items = []ast.Node{n}
	}
	var out script
	for _, it := range items {
		s, ok := scalarText(it)
		if !ok {
			return errorNode(it, "keys are script tokens like \"1\", \"12345678#\", \"-\" or hangup, not %s", describe(it))
		}
		toks, err := ivrtest.ParseScript(s)
		if err != nil {
			return errorNode(it, "%s", strings.TrimPrefix(err.Error(), "ivrtest: "))
		}
		out = append(out, toks...)
	}
	*sc = out
	return nil
}

// queueList says how successive queue nodes end.
type queueList []ivr.QueueResult

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (q *queueList) UnmarshalYAML(n ast.Node) error {
	items := []ast.Node{n}
	if seq, ok := n.(*ast.SequenceNode); ok {
		items = seq.Values
	}
	var out queueList
	for _, it := range items {
		s, ok := scalarText(it)
		if !ok {
			return errorNode(it, "queue outcomes are after_agent[:AGENT], max_wait, no_agents or callback, not %s", describe(it))
		}
		r, err := ParseQueueOutcome(s)
		if err != nil {
			return errorNode(it, "%v", err)
		}
		out = append(out, r)
	}
	*q = out
	return nil
}

// ParseQueueOutcome reads how a queue node ends: "after_agent" (answered
// by agent-1), "after_agent:1001", "max_wait", "no_agents" or "callback".
func ParseQueueOutcome(s string) (ivr.QueueResult, error) {
	if _, err := ivrtest.ParseScript("queue:" + s); err != nil || s == "" || strings.ContainsAny(s, " ,\t\n") {
		return ivr.QueueResult{}, fmt.Errorf("queue outcome %q: write after_agent, after_agent:AGENT, max_wait, no_agents or callback", s)
	}
	outcome, agent, _ := strings.Cut(s, ":")
	r := ivr.QueueResult{Outcome: ivr.QueueOutcome(outcome)}
	if r.Outcome == ivr.QueueAnswered {
		r.AgentID = "agent-1"
		if agent != "" {
			r.AgentID = agent
		}
	}
	return r, nil
}

// mapPairs returns the key: value pairs of a map node (the parser gives a
// block map of one pair as the pair alone).
func mapPairs(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch v := n.(type) {
	case *ast.MappingNode:
		return v.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{v}, true
	}
	return nil, false
}

// switches are operations switches by name.
type switches map[string]bool

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (sw *switches) UnmarshalYAML(n ast.Node) error {
	pairs, ok := mapPairs(n)
	if !ok {
		return errorNode(n, "switches must be a map like {announce.outage: true}, not %s", describe(n))
	}
	out := switches{}
	for _, kv := range pairs {
		k, _ := scalarText(kv.Key)
		if err := CheckSwitchName(k); err != nil {
			return errorNode(kv.Key, "%v", err)
		}
		b, ok := kv.Value.(*ast.BoolNode)
		if !ok {
			return errorNode(kv.Value, "switch %s must be true or false, not %s", k, describeValue(kv.Value))
		}
		out[k] = b.Value
	}
	*sw = out
	return nil
}

// CheckSwitchName checks a switch name: announce.<announcement> or
// emergency.<calendar>.
func CheckSwitchName(s string) error {
	kind, rest, ok := strings.Cut(s, ".")
	if !ok || (kind != "announce" && kind != "emergency") || !validName(rest) {
		return fmt.Errorf("switch %q: write announce.<announcement> or emergency.<calendar>", s)
	}
	return nil
}

// webhooks are stub answers by URL prefix.
type webhooks map[string]Webhook

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (w *webhooks) UnmarshalYAML(n ast.Node) error {
	pairs, ok := mapPairs(n)
	if !ok {
		return errorNode(n, "webhooks must be a map of URL prefix: {status, body}, not %s", describe(n))
	}
	out := webhooks{}
	for _, kv := range pairs {
		prefix, _ := scalarText(kv.Key)
		if err := checkURLPrefix(prefix); err != nil {
			return errorNode(kv.Key, "%v", err)
		}
		var raw rawWebhook
		if err := strictDecode(kv.Value, &raw); err != nil {
			return err
		}
		hook, err := raw.build()
		if err != nil {
			return errorNode(kv.Value, "webhook %s: %v", prefix, err)
		}
		out[prefix] = hook
	}
	*w = out
	return nil
}

// checkURLPrefix checks a webhook stub's URL prefix.
func checkURLPrefix(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("webhook prefix %q must start with http:// or https:// and a host", s)
	}
	return nil
}

func (r rawWebhook) build() (Webhook, error) {
	if r.Error {
		if r.Status != nil || r.Body != nil {
			return Webhook{}, errors.New("error: true fails the connection; remove status and body")
		}
		return Webhook{Fail: true}, nil
	}
	h := Webhook{Status: 200}
	if r.Status != nil {
		if *r.Status < 100 || *r.Status > 599 {
			return Webhook{}, fmt.Errorf("status %d is not an HTTP status (100-599)", *r.Status)
		}
		h.Status = *r.Status
	}
	switch b := r.Body.(type) {
	case nil:
	case string:
		h.Body = []byte(b)
	default:
		body, err := json.Marshal(b)
		if err != nil {
			return Webhook{}, fmt.Errorf("body cannot be sent as JSON (%v); use text keys", err)
		}
		h.Body = body
	}
	return h, nil
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (c *rawCustomer) UnmarshalYAML(n ast.Node) error {
	type plain rawCustomer
	var p plain
	if err := strictDecode(n, &p); err != nil {
		return err
	}
	*c = rawCustomer(p)
	if c.NotFound && c.Error {
		return errorNode(n, "a customer is either not_found or error, not both")
	}
	if (c.NotFound || c.Error) && !reflect.DeepEqual(rawCustomer{NotFound: c.NotFound, Error: c.Error}, *c) {
		return errorNode(n, "not_found and error leave no customer to describe; remove the other fields")
	}
	if c.Stars < 0 || c.Stars > 5 {
		return errorNode(n, "stars %d: a grade is 0 (none) to 5", c.Stars)
	}
	return nil
}

func (c *rawCustomer) build() *Customer {
	if c == nil {
		return nil
	}
	cu := &Customer{NotFound: c.NotFound, Fail: c.Error}
	if c.NotFound || c.Error {
		return cu
	}
	cu.Data = ivr.Customer{
		Number: string(c.Number), Tier: string(c.Tier), Stars: c.Stars, Brand: string(c.Brand),
		VIP: c.VIP, Manager: string(c.Manager), Repeat: c.Repeat,
	}
	if len(c.Extra) > 0 {
		cu.Data.Extra = make(map[string]string, len(c.Extra))
		for k, v := range c.Extra {
			cu.Data.Extra[k] = string(v)
		}
	}
	return cu
}

// ending is a value of ivr.Ending.
type ending string

// endings lists the values of ivr.Ending.
func endings() []ivr.Ending {
	return []ivr.Ending{ivr.EndHangup, ivr.EndCallerHangup, ivr.EndTransfer, ivr.EndError, ivr.EndStepBudget}
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (e *ending) UnmarshalYAML(n ast.Node) error {
	s, _ := scalarText(n)
	for _, x := range endings() {
		if string(x) == s {
			*e = ending(s)
			return nil
		}
	}
	return errorNode(n, "end %s: write hangup, caller_hangup, transferred, error or step_budget", describeValue(n))
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (c *rawCase) UnmarshalYAML(n ast.Node) error {
	type plain rawCase
	var p plain
	if err := strictDecode(n, &p); err != nil {
		return err
	}
	*c = rawCase(p)
	c.pos = posOf(n)
	if strings.TrimSpace(c.Name) == "" {
		return errorNode(n, "the case has no name; add name: saying what it checks")
	}
	return nil
}

// build makes a Case of the raw case, filling what it does not give from
// the file's defaults.
func (c *rawCase) build(def *rawSetup) *Case {
	cs := &c.Setup
	s := Setup{
		Caller:   string(pick(cs.Caller, def.Caller)),
		Called:   string(pick(cs.Called, def.Called)),
		At:       pick(cs.At, def.At).Time,
		Customer: pickPtr(cs.Customer, def.Customer).build(),
		Webhooks: pickMap(cs.Webhooks, def.Webhooks),
		Switches: pickMap(cs.Switches, def.Switches),
		Queue:    pickSlice(cs.Queue, def.Queue),
		MaxSteps: pick(cs.MaxSteps, def.MaxSteps),
		Keys:     []string(c.Keys),
	}
	e := c.Expect
	x := Expect{
		Path:           names(e.Path),
		PathIncludes:   names(e.PathIncludes),
		PathEndsWith:   names(e.PathEndsWith),
		PathExcludes:   names(e.PathExcludes),
		End:            ivr.Ending(e.End),
		Node:           string(e.Node),
		Reason:         string(e.Reason),
		Error:          e.Error,
		PromptsInclude: names(e.PromptsInclude),
		PromptsExclude: names(e.PromptsExclude),
		Says:           e.Says,
		Queues:         names(e.Queues),
		Vars:           texts(e.Vars),
		Survey:         texts(e.Survey),
		Language:       string(e.Language),
		Transcript:     e.Transcript,
	}
	if e.Milestones != nil {
		x.Milestones = make([]string, 0, len(*e.Milestones))
		for _, m := range *e.Milestones {
			x.Milestones = append(x.Milestones, string(m))
		}
	}
	if q := e.Queue; q != nil {
		x.Queue = map[string]string{}
		for key, v := range map[string]*text{"name": q.Name, "tier": q.Tier, "preferred_agent": q.PreferredAgent,
			"music": q.Music, "outcome": q.Outcome, "agent": q.Agent} {
			if v != nil {
				x.Queue[key] = string(*v)
			}
		}
	}
	return &Case{Name: c.Name, Pos: c.pos, Setup: s, Expect: x}
}

// pick returns v, or def when v is the zero value.
func pick[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func pickPtr[T any](v, def *T) *T {
	if v == nil {
		return def
	}
	return v
}

func pickMap[M ~map[K]V, K comparable, V any](v, def M) map[K]V {
	if v == nil {
		return def
	}
	return v
}

func pickSlice[S ~[]E, E any](v, def S) []E {
	if v == nil {
		return def
	}
	return v
}

func names(ns []name) []string {
	if ns == nil {
		return nil
	}
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = string(n)
	}
	return out
}

func texts(m map[string]text) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}
