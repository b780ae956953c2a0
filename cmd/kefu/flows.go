package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"kefu/cmd/kefu/internal/config"
	"kefu/ivr"
	"kefu/ivr/ivrtest"
	"kefu/ivr/scenario"
	"kefu/sip/media"
)

const flowsUsage = `usage: kefu flows check [-prompts DIR] DIR
       kefu flows simulate [-flows DIR] FILE_OR_FLOW [--caller N] [--keys "1 2 #"] [--at TIME]
                           [--customer 'stars=5,vip=true,...' | --not-found | --directory-error]
                           [--webhook 'URLPREFIX=FILE.json|STATUS|error']... [--switch announce.NAME=on]...
                           [--queue after_agent[:AGENT]|max_wait|no_agents|callback]... [--max-steps N]
       kefu flows test [-flows DIR] [TESTDIR]      (TESTDIR default DIR/tests; "kefu flows test DIR" also works)
       kefu flows graph [-flows DIR] FILE_OR_FLOW  (a Mermaid flowchart)
`

// flowsCommand runs "kefu flows SUBCOMMAND": the tools for flow files.
func flowsCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, flowsUsage)
		return 2
	}
	switch args[0] {
	case "check":
		return flowsCheck(args[1:], stdout, stderr)
	case "simulate":
		return flowsSimulate(args[1:], stdout, stderr)
	case "test":
		return flowsTest(args[1:], stdout, stderr)
	case "graph":
		return flowsGraph(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "kefu flows: unknown command %q\n%s", args[0], flowsUsage)
	return 2
}

// flowsCheck runs "kefu flows check DIR": the same load and validation the
// server runs at start, printing one problem per line as file:line:col.
func flowsCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("kefu flows check", stderr)
	promptDir := fs.String("prompts", "", "prompt directory (default DIR/prompts)")
	cfgPath := fs.String("config", os.Getenv("KEFU_CONFIG"), "server configuration whose queues the flows may use (env KEFU_CONFIG; default: the built-in sample, as kefu serve)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprint(stderr, flowsUsage)
		return 2
	}
	var cfg *config.Config
	if *cfgPath == "" {
		cfg, err = config.Parse(config.SampleName, config.Sample)
	} else {
		cfg, err = config.Load(*cfgPath)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	set, code := openFlowsQueues(pos[0], *promptDir, ivr.Names(cfg.QueueNames()), stdout, stderr)
	if set == nil {
		return code
	}
	for _, w := range set.Warnings() {
		fmt.Fprintln(stdout, w.String())
	}
	fmt.Fprintf(stdout, "%d flows ok: %v\n", len(set.Names()), set.Names())
	return 0
}

// openFlows loads a flows directory for the tools as the server does,
// checking prompts against the recordings of promptDir (default
// dir/prompts); queues are not checked (they are in the server's
// configuration). On failure it prints the problems, one per line, and
// returns a nil set and the exit code.
func openFlows(dir, promptDir string, stdout, stderr io.Writer) (*ivr.Set, int) {
	return openFlowsQueues(dir, promptDir, nil, stdout, stderr)
}

// openFlowsQueues is openFlows that also checks queue names against
// queues (nil: not checked).
func openFlowsQueues(dir, promptDir string, queues ivr.Registry, stdout, stderr io.Writer) (*ivr.Set, int) {
	if promptDir == "" {
		promptDir = filepath.Join(dir, "prompts")
	}
	prompts, err := media.LoadCatalog(promptDir)
	if err != nil {
		fmt.Fprintf(stderr, "%v (give the recordings' directory with -prompts)\n", err)
		return nil, 1
	}
	set, err := ivr.Load(dir, ivr.LoadOptions{Prompts: prompts, Queues: queues})
	if err != nil {
		var le *ivr.LoadError
		if errors.As(err, &le) {
			for _, is := range le.Issues {
				fmt.Fprintln(stdout, is.String())
			}
		} else {
			fmt.Fprintln(stdout, err)
		}
		return nil, 1
	}
	return set, 0
}

// newFlagSet returns a flag set that reports to stderr.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses flags wherever they stand among the positional
// arguments ("simulate main --keys 1" as well as "simulate --keys 1 main")
// and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// target is the flow a command works on, named by file or by name.
type target struct {
	dir  string // the flows directory
	file string // the file named, if a file was
	name string // the flow named, if a name was
}

// resolveTarget reads FILE_OR_FLOW: a file of a flows directory (whose
// directory is the flows directory unless -flows says otherwise) or a
// flow's name in the flows directory.
func resolveTarget(arg, flowsDir string, flowsGiven bool) target {
	ext := strings.ToLower(filepath.Ext(arg))
	if st, err := os.Stat(arg); (err == nil && !st.IsDir()) || ext == ".yaml" || ext == ".yml" {
		t := target{dir: flowsDir, file: arg}
		if !flowsGiven {
			t.dir = filepath.Dir(arg)
		}
		return t
	}
	return target{dir: flowsDir, name: arg}
}

// flow returns the target's flow in set.
func (t target) flow(set *ivr.Set) (*ivr.Flow, error) {
	if t.name != "" {
		f, ok := set.Flow(t.name)
		if !ok {
			return nil, fmt.Errorf("no flow %q in %s (flows that take calls: %s); give a flow name or a file", t.name, t.dir, strings.Join(set.Names(), ", "))
		}
		return f, nil
	}
	want, err := filepath.Abs(t.file)
	if err != nil {
		return nil, fmt.Errorf("flow file %s: %w", t.file, err)
	}
	base := strings.TrimSuffix(filepath.Base(t.file), filepath.Ext(t.file))
	candidates := append([]string{base}, set.Names()...)
	for _, name := range candidates {
		f, ok := set.Flow(name)
		if !ok {
			continue
		}
		if got, err := filepath.Abs(f.File); err == nil && got == want {
			return f, nil
		}
	}
	return nil, fmt.Errorf("no flow was loaded from %s: it is not a flow file of %s (give -flows DIR for the directory it belongs to, or the flow's name)", t.file, t.dir)
}

// listFlag is a flag that may be given several times.
type listFlag []string

// String implements flag.Value.
func (l *listFlag) String() string { return strings.Join(*l, " ") }

// Set implements flag.Value.
func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// simulateFlags are the flags of kefu flows simulate.
type simulateFlags struct {
	flows, prompts       string
	caller, called, keys string
	at, customer         string
	notFound, dirError   bool
	webhooks, switches   listFlag
	queue                listFlag
	maxSteps             int
	flowsGiven, atGiven  bool
}

// flowsSimulate runs "kefu flows simulate": one call of a flow with a
// scripted caller, printing what happens.
func flowsSimulate(args []string, stdout, stderr io.Writer) int {
	var o simulateFlags
	fs := newFlagSet("kefu flows simulate", stderr)
	fs.StringVar(&o.flows, "flows", "flows", "flows directory (default: the file's directory, else flows)")
	fs.StringVar(&o.prompts, "prompts", "", "prompt directory (default DIR/prompts)")
	fs.StringVar(&o.caller, "caller", scenario.DefaultCaller, "calling number")
	fs.StringVar(&o.called, "called", scenario.DefaultCalled, "dialled number")
	fs.StringVar(&o.keys, "keys", "", `the caller's script: keys ("1 2 12345678#"), - for silence, hangup, record:no_audio, transfer:busy, …`)
	fs.StringVar(&o.at, "at", "", "the time of the call, RFC 3339 with offset (default now)")
	fs.StringVar(&o.customer, "customer", "", "the directory's customer: stars=5,vip=true,tier=five_star,manager=1001,brand=GoTone,extra.plan=88")
	fs.BoolVar(&o.notFound, "not-found", false, "the directory does not know the caller (the default)")
	fs.BoolVar(&o.dirError, "directory-error", false, "the directory cannot be asked")
	fs.Var(&o.webhooks, "webhook", "URLPREFIX=FILE.json (200 with the file as body), URLPREFIX=404 or URLPREFIX=error; repeatable; other URLs fail to connect")
	fs.Var(&o.switches, "switch", "announce.NAME=on|off or emergency.CALENDAR=on|off; repeatable")
	fs.Var(&o.queue, "queue", "how the next queue node ends: after_agent[:AGENT], max_wait, no_agents, callback; repeatable or comma-separated")
	fs.IntVar(&o.maxSteps, "max-steps", 0, "step budget (default: the flow's)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprint(stderr, flowsUsage)
		return 2
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "flows":
			o.flowsGiven = true
		case "at":
			o.atGiven = true
		}
	})
	setup, err := o.setup(time.Now)
	if err != nil {
		fmt.Fprintln(stderr, "kefu flows simulate:", err)
		return 2
	}
	t := resolveTarget(pos[0], o.flows, o.flowsGiven)
	set, code := openFlows(t.dir, o.prompts, stdout, stderr)
	if set == nil {
		return code
	}
	f, err := t.flow(set)
	if err != nil {
		fmt.Fprintln(stderr, "kefu flows simulate:", err)
		return 1
	}
	fmt.Fprintf(stdout, "simulate %s (%s, version %s): %s calls %s at %s\n", f.Name, f.File, f.Version, setup.Caller, setup.Called, setup.At.Format(time.RFC3339))
	fmt.Fprintf(stdout, "customer: %s\n", describeCustomer(setup.Customer))
	if len(setup.Keys) > 0 {
		fmt.Fprintf(stdout, "keys: %s\n", strings.Join(setup.Keys, " "))
	}
	fmt.Fprintln(stdout)
	step := 0
	out, err := scenario.Simulate(context.Background(), set, f.Name, setup, func(l ivr.TraceLine) {
		switch l.What {
		case "node":
			step++
			fmt.Fprintf(stdout, "%3d %s (%s)\n", step, l.Node, l.Text)
		case "end":
		default:
			fmt.Fprintf(stdout, "      %-8s %s\n", l.What, l.Text)
		}
	})
	if err != nil {
		fmt.Fprintln(stderr, "kefu flows simulate:", err)
		return 1
	}
	printSummary(stdout, out)
	if out.Err != nil {
		return 1
	}
	return 0
}

// setup turns the flags into the simulated call's setup.
func (o *simulateFlags) setup(now func() time.Time) (scenario.Setup, error) {
	s := scenario.Setup{Caller: o.caller, Called: o.called, At: now(), MaxSteps: o.maxSteps}
	if o.atGiven {
		t, err := scenario.ParseTime(o.at)
		if err != nil {
			return s, fmt.Errorf("--at: %w", err)
		}
		s.At = t
	}
	keys, err := ivrtest.ParseScript(o.keys)
	if err != nil {
		return s, fmt.Errorf("--keys: %w", err)
	}
	s.Keys = keys
	given := 0
	for _, b := range []bool{o.customer != "", o.notFound, o.dirError} {
		if b {
			given++
		}
	}
	switch {
	case given > 1:
		return s, errors.New("give one of --customer, --not-found and --directory-error")
	case o.customer != "":
		c, err := scenario.ParseCustomer(o.customer)
		if err != nil {
			return s, fmt.Errorf("--customer: %w", err)
		}
		s.Customer = &scenario.Customer{Data: c}
	case o.dirError:
		s.Customer = &scenario.Customer{Fail: true}
	}
	for _, w := range o.webhooks {
		prefix, hook, err := parseWebhookFlag(w)
		if err != nil {
			return s, fmt.Errorf("--webhook: %w", err)
		}
		if s.Webhooks == nil {
			s.Webhooks = map[string]scenario.Webhook{}
		}
		s.Webhooks[prefix] = hook
	}
	for _, sw := range o.switches {
		name, state, ok := strings.Cut(sw, "=")
		on, known := map[string]bool{"on": true, "true": true, "off": false, "false": false}[state]
		if !ok || !known {
			return s, fmt.Errorf("--switch %q: write NAME=on or NAME=off, like announce.outage=on", sw)
		}
		if err := scenario.CheckSwitchName(name); err != nil {
			return s, fmt.Errorf("--switch: %w", err)
		}
		if s.Switches == nil {
			s.Switches = map[string]bool{}
		}
		s.Switches[name] = on
	}
	for _, q := range o.queue {
		for _, part := range strings.Split(q, ",") {
			r, err := scenario.ParseQueueOutcome(strings.TrimSpace(part))
			if err != nil {
				return s, fmt.Errorf("--queue: %w", err)
			}
			s.Queue = append(s.Queue, r)
		}
	}
	return s, nil
}

// parseWebhookFlag reads URLPREFIX=FILE.json, URLPREFIX=STATUS or
// URLPREFIX=error (split at the last "=", since URLs may hold "=").
func parseWebhookFlag(s string) (string, scenario.Webhook, error) {
	i := strings.LastIndex(s, "=")
	if i <= 0 {
		return "", scenario.Webhook{}, fmt.Errorf("%q: write URLPREFIX=FILE.json, URLPREFIX=404 or URLPREFIX=error", s)
	}
	prefix, what := s[:i], s[i+1:]
	if !strings.HasPrefix(prefix, "http://") && !strings.HasPrefix(prefix, "https://") {
		return "", scenario.Webhook{}, fmt.Errorf("%q: the prefix must start with http:// or https://", s)
	}
	if what == "error" {
		return prefix, scenario.Webhook{Fail: true}, nil
	}
	if n, err := strconv.Atoi(what); err == nil {
		if n < 100 || n > 599 {
			return "", scenario.Webhook{}, fmt.Errorf("%q: %d is not an HTTP status", s, n)
		}
		return prefix, scenario.Webhook{Status: n}, nil
	}
	body, err := os.ReadFile(what)
	if err != nil {
		return "", scenario.Webhook{}, fmt.Errorf("%q: read the answer's body: %w", s, err)
	}
	return prefix, scenario.Webhook{Status: 200, Body: body}, nil
}

// describeCustomer says what the stub directory answers.
func describeCustomer(c *scenario.Customer) string {
	switch {
	case c == nil || c.NotFound:
		return "not in the directory"
	case c.Fail:
		return "the directory is unavailable"
	}
	d := c.Data
	parts := []string{fmt.Sprintf("tier %q", d.Tier), fmt.Sprintf("%d stars", d.Stars)}
	if d.Brand != "" {
		parts = append(parts, "brand "+d.Brand)
	}
	if d.VIP {
		parts = append(parts, "VIP")
	}
	if d.Manager != "" {
		parts = append(parts, "manager "+d.Manager)
	}
	for _, k := range slices.Sorted(maps.Keys(d.Extra)) {
		parts = append(parts, k+"="+d.Extra[k])
	}
	return strings.Join(parts, ", ")
}

// printSummary prints how a simulated call ended.
func printSummary(w io.Writer, out *scenario.Outcome) {
	res := out.Result
	fmt.Fprintln(w)
	end := fmt.Sprintf("end: %s in %s", res.End, res.Node)
	if res.HangupReason != "" {
		end += " (reason " + res.HangupReason + ")"
	}
	fmt.Fprintln(w, end)
	fmt.Fprintf(w, "path: %s\n", strings.Join(res.Path, " → "))
	if len(out.QueueRequests) > 0 {
		q := out.QueueRequests[len(out.QueueRequests)-1]
		line := fmt.Sprintf("queue: %s (tier %q, preferred agent %q): %s", q.Queue, q.Tier, q.PreferredAgent, res.QueueOutcome)
		if res.AgentID != "" {
			line += " by " + res.AgentID
		}
		fmt.Fprintln(w, line)
	}
	if len(res.Survey) > 0 {
		fmt.Fprintf(w, "survey: %s\n", keyValues(res.Survey))
	}
	if len(res.Vars) > 0 {
		fmt.Fprintf(w, "vars: %s\n", keyValues(res.Vars))
	}
	fmt.Fprintf(w, "language: %s\n", res.Language)
	if len(res.Milestones) > 0 {
		fmt.Fprintf(w, "milestones: %s\n", strings.Join(res.Milestones, ", "))
	}
	if len(res.Recordings) > 0 {
		fmt.Fprintf(w, "recordings: %s\n", strings.Join(res.Recordings, ", "))
	}
	if len(out.UnusedKeys) > 0 {
		fmt.Fprintf(w, "note: keys not used: %s\n", strings.Join(out.UnusedKeys, " "))
	}
	if len(out.UnusedQueue) > 0 {
		fmt.Fprintf(w, "note: %d queue outcomes not used\n", len(out.UnusedQueue))
	}
	if out.Err != nil {
		fmt.Fprintf(w, "error: %v\n", out.Err)
	}
}

func keyValues(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ", ")
}

// flowsTest runs "kefu flows test": every scenario file of the test
// directory (default DIR/tests), then the coverage of each flow. A single
// argument that is a flows directory with a tests directory, without
// -flows, means both. The exit code is 1 when a case fails.
func flowsTest(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("kefu flows test", stderr)
	dir := fs.String("flows", "flows", "flows directory")
	promptDir := fs.String("prompts", "", "prompt directory (default DIR/prompts)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) > 1 {
		fmt.Fprint(stderr, flowsUsage)
		return 2
	}
	flowsGiven := false
	fs.Visit(func(f *flag.Flag) { flowsGiven = flowsGiven || f.Name == "flows" })
	testDir := filepath.Join(*dir, "tests")
	if len(pos) == 1 {
		testDir = pos[0]
		// "kefu flows test flows", like "kefu flows check flows": a flows
		// directory with its tests.
		if st, err := os.Stat(filepath.Join(pos[0], "tests")); err == nil && st.IsDir() && !flowsGiven {
			*dir, testDir = pos[0], filepath.Join(pos[0], "tests")
		}
	}
	files, err := scenario.LoadDir(testDir)
	if err != nil {
		fmt.Fprintln(stdout, err)
		return 1
	}
	set, code := openFlows(*dir, *promptDir, stdout, stderr)
	if set == nil {
		return code
	}
	var reports []scenario.Report
	passed, failed := 0, 0
	for _, f := range files {
		r := scenario.Run(set, f)
		reports = append(reports, r)
		fmt.Fprintf(stdout, "%s (flow %s)\n", f.Path, f.Flow)
		for _, c := range r.Cases {
			if c.Passed() {
				passed++
				fmt.Fprintf(stdout, "  PASS  %s\n", c.Case.Name)
				continue
			}
			failed++
			fmt.Fprintf(stdout, "  FAIL  %s (%s:%d)\n", c.Case.Name, f.Path, c.Case.Pos.Line)
			for _, why := range c.Failures {
				fmt.Fprintf(stdout, "          %s\n", strings.ReplaceAll(why, "\n", "\n          "))
			}
		}
	}
	fmt.Fprintln(stdout, "\ncoverage:")
	for _, c := range scenario.CoverageOf(set, reports) {
		line := "  " + c.String()
		if c.Calls == 0 {
			line += " — no case calls it"
		}
		fmt.Fprintln(stdout, line)
		if c.Calls > 0 && len(c.NotEntered) > 0 {
			fmt.Fprintf(stdout, "    never entered: %s\n", strings.Join(c.NotEntered, ", "))
		}
		if c.Calls > 0 && len(c.NotTaken) > 0 {
			fmt.Fprintf(stdout, "    exits never taken: %s\n", strings.Join(c.NotTaken, ", "))
		}
	}
	fmt.Fprintf(stdout, "\n%d cases: %d passed, %d failed\n", passed+failed, passed, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

// flowsGraph runs "kefu flows graph": the flow as a Mermaid flowchart.
func flowsGraph(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("kefu flows graph", stderr)
	dir := fs.String("flows", "flows", "flows directory (default: the file's directory, else flows)")
	promptDir := fs.String("prompts", "", "prompt directory (default DIR/prompts)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprint(stderr, flowsUsage)
		return 2
	}
	flowsGiven := false
	fs.Visit(func(f *flag.Flag) { flowsGiven = flowsGiven || f.Name == "flows" })
	t := resolveTarget(pos[0], *dir, flowsGiven)
	set, code := openFlows(t.dir, *promptDir, stdout, stderr)
	if set == nil {
		return code
	}
	f, err := t.flow(set)
	if err != nil {
		fmt.Fprintln(stderr, "kefu flows graph:", err)
		return 1
	}
	fmt.Fprint(stdout, f.Mermaid())
	return 0
}
