package config

import (
	"errors"
	"flag"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/bad/*.err from the errors Parse returns")

func TestSample(t *testing.T) {
	c, err := Parse(SampleName, Sample)
	if err != nil {
		t.Fatalf("the embedded sample does not parse:\n%v", err)
	}
	for _, tc := range []struct {
		what      string
		got, want any
	}{
		{"path", c.Path, SampleName},
		{"sip.listen", c.SIP.Listen, "0.0.0.0:5060"},
		{"sip.advertise", c.SIP.Advertise, ""},
		{"sip.rtp_ports", c.SIP.RTPPorts, "20000-29999"},
		{"sip.media_timeout", c.SIP.MediaTimeout.D(), 30 * time.Second},
		{"sip.register_expiry", c.SIP.RegisterExpiry.D(), time.Hour},
		{"sip.realm", c.SIP.Realm, "kefu"},
		{"sip.user_agent", c.SIP.UserAgent, "Kefu"},
		{"trunks", len(c.Trunks), 1},
		{"trunks[0].prefixes", c.Trunks[0].Prefixes, []netip.Prefix{
			netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"),
		}},
		{"access_numbers", c.AccessNumbers, map[string]string{"10086": "main", "10087": "direct"}},
		{"default_flow", c.DefaultFlow, ""},
		{"customers", c.Customers.File, "testdata/customers.csv"},
		{"tiers.vip", c.Tiers["vip"].D(), 2 * time.Minute},
		{"tiers.four_star", c.Tiers["four_star"].D(), time.Minute},
		{"tiers.default", c.Tiers["default"].D(), time.Duration(0)},
		{"agent ids", agentIDs(c), []string{"1001", "1002", "1003"}},
		{"agents[0].name", c.Agents[0].Name, "Wang Fang"},
		{"agents[0].password", c.Agents[0].Password, "kefu-1001"},
		{"agents[1].skills", c.Agents[1].Skills, map[string]int{"billing": 3, "data": 5, "vip": 4}},
		{"queue names", c.QueueNames(), []string{"billing", "data", "complaints", "vip"}},
		{"flow names", c.FlowNames(), []string{"direct", "main"}},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.what, tc.got, tc.want)
		}
	}
	// Queues: explicit values kept, the rest defaulted.
	want := []Queue{
		{Name: "billing", Skill: "billing", ServiceLevel: d(20 * time.Second), MaxWait: d(5 * time.Minute),
			RingTimeout: d(15 * time.Second), WrapUp: d(5 * time.Second), AccountManagerWait: d(30 * time.Second)},
		{Name: "data", Skill: "data", ServiceLevel: d(20 * time.Second), MaxWait: d(5 * time.Minute),
			RingTimeout: d(15 * time.Second), AccountManagerWait: d(30 * time.Second)},
		{Name: "complaints", Skill: "complaints", ServiceLevel: d(20 * time.Second), MaxWait: d(10 * time.Minute),
			RingTimeout: d(15 * time.Second), WrapUp: d(15 * time.Second), AccountManagerWait: d(30 * time.Second), LastAgentWait: d(30 * time.Second)},
		{Name: "vip", Skill: "vip", ServiceLevel: d(10 * time.Second), MaxWait: d(3 * time.Minute),
			RingTimeout: d(15 * time.Second), AccountManagerWait: d(30 * time.Second),
			Steps: []Step{{MinLevel: 4}, {After: d(time.Minute), Skill: "billing"}}, MaxQueued: 50},
	}
	if !reflect.DeepEqual(c.Queues, want) {
		t.Errorf("queues =\n%+v\nwant\n%+v", c.Queues, want)
	}
	wantRouting := Routing{Misses: Misses{NoAnswer: d(10 * time.Second), Busy: d(5 * time.Second),
		Rejected: d(5 * time.Second), MaxInRow: 3}, NodeTTL: d(5 * time.Second), LostAgentState: "not_ready"}
	if !reflect.DeepEqual(c.Routing, wantRouting) {
		t.Errorf("routing = %+v, want %+v", c.Routing, wantRouting)
	}
}

// TestDefaults checks each default on the smallest file that is valid.
func TestDefaults(t *testing.T) {
	c, err := Parse("min.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what      string
		got, want any
	}{
		{"sip.listen", c.SIP.Listen, "0.0.0.0:5060"},
		{"sip.rtp_ports", c.SIP.RTPPorts, "20000-29999"},
		{"sip.media_timeout", c.SIP.MediaTimeout.D(), 30 * time.Second},
		{"sip.register_expiry", c.SIP.RegisterExpiry.D(), time.Hour},
		{"sip.realm", c.SIP.Realm, "kefu"},
		{"sip.user_agent", c.SIP.UserAgent, "Kefu"},
		{"agents[0].name", c.Agents[0].Name, "1001"},
		{"queues[0].skill", c.Queues[0].Skill, "billing"},
		{"queues[0].service_level", c.Queues[0].ServiceLevel.D(), 20 * time.Second},
		{"queues[0].max_wait", c.Queues[0].MaxWait.D(), time.Duration(0)},
		{"queues[0].ring_timeout", c.Queues[0].RingTimeout.D(), 15 * time.Second},
		{"queues[0].wrap_up", c.Queues[0].WrapUp.D(), time.Duration(0)},
		{"queues[0].account_manager_wait", c.Queues[0].AccountManagerWait.D(), 30 * time.Second},
		{"flow names", c.FlowNames(), []string{"main"}},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.what, tc.got, tc.want)
		}
	}
}

const minimal = `trunks:
  - name: local
    networks: [127.0.0.0/8]
agents:
  - id: "1001"
    password: secret
    skills: {billing: 3}
queues:
  - name: billing
default_flow: main
`

// TestValues checks that what a file says wins over the defaults.
func TestValues(t *testing.T) {
	for _, tc := range []struct {
		name  string
		yaml  string
		check func(*Config) any
		want  any
	}{
		{"listen", "sip: {listen: '[::1]:5070'}", func(c *Config) any { return c.SIP.Listen }, "[::1]:5070"},
		{"advertise", "sip: {advertise: 192.0.2.1}", func(c *Config) any { return c.SIP.Advertise }, "192.0.2.1"},
		{"rtp_ports", "sip: {rtp_ports: 1024-1027}", func(c *Config) any { return c.SIP.RTPPorts }, "1024-1027"},
		{"media_timeout", "sip: {media_timeout: 1m30s}", func(c *Config) any { return c.SIP.MediaTimeout.D() }, 90 * time.Second},
		{"register_expiry", "sip: {register_expiry: 10m}", func(c *Config) any { return c.SIP.RegisterExpiry.D() }, 10 * time.Minute},
		{"realm", "sip: {realm: example.com}", func(c *Config) any { return c.SIP.Realm }, "example.com"},
		{"user_agent", "sip: {user_agent: Hotline}", func(c *Config) any { return c.SIP.UserAgent }, "Hotline"},
		{"integer 0 duration", "tiers: {vip: 0}", func(c *Config) any { return c.Tiers }, map[string]Duration{"vip": 0}},
		{"network masked", "trunks: [{name: t, networks: [10.1.2.3/16]}]",
			func(c *Config) any { return c.Trunks[0].Prefixes }, []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}},
		{"ipv6 host", "trunks: [{name: t, networks: ['2001:db8::1']}]",
			func(c *Config) any { return c.Trunks[0].Prefixes }, []netip.Prefix{netip.MustParsePrefix("2001:db8::1/128")}},
		{"unquoted numbers as id and password", "agents: [{id: 1001, password: 1234, skills: {billing: 1}}]",
			func(c *Config) any { return []string{c.Agents[0].ID, c.Agents[0].Password, c.Agents[0].Name} },
			[]string{"1001", "1234", "1001"}},
		{"customers as a file name", "customers: c.csv", func(c *Config) any { return c.Customers }, Customers{File: "c.csv"}},
		{"customers as a mapping", "customers: {file: c.csv, encoding: gb18030, thresholds: t.yaml, stars: {5: gold, 4: gold}, vip_tier: '-', brands: {GoTone: gotone}, unknown_tier: walk_in, repeat_within: 48h, keep_history: 240h}",
			func(c *Config) any { return c.Customers },
			Customers{File: "c.csv", Encoding: "gb18030", Thresholds: "t.yaml", Stars: map[int]string{5: "gold", 4: "gold"}, VIPTier: "-",
				Brands: map[string]string{"GoTone": "gotone"}, UnknownTier: "walk_in", RepeatWithin: Duration(48 * time.Hour), KeepHistory: Duration(240 * time.Hour)}},
		{"last agent wait", "queues: [{name: billing, last_agent_wait: 20s}]", func(c *Config) any { return c.Queues[0].LastAgentWait.D() }, 20 * time.Second},
		{"access numbers and default", "access_numbers: {'10086': main, '10087': direct, '10088': main}",
			func(c *Config) any { return c.FlowNames() }, []string{"direct", "main"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("test.yaml", []byte(override(tc.yaml)))
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.check(c); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// override replaces minimal's top-level keys with those in a one-line flow mapping.
func override(line string) string {
	key, _, _ := strings.Cut(line, ":")
	var out []string
	skip := false
	for _, l := range strings.Split(minimal, "\n") {
		if l != "" && l[0] != ' ' {
			skip = strings.HasPrefix(l, key+":")
		}
		if !skip {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n") + line + "\n"
}

// TestErrors: every file in testdata/bad fails with exactly the text in the
// .err file beside it. Run with -update to rewrite the .err files, then read
// the diff: each message names file:line:col and says how to fix the entry.
func TestErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse("testdata/bad/"+name+".yaml", data)
			if err == nil {
				t.Fatalf("no error; parsed %+v", c)
			}
			if c != nil {
				t.Errorf("config %+v returned with the error", c)
			}
			golden := strings.TrimSuffix(f, ".yaml") + ".err"
			got := err.Error() + "\n"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("error text changed\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

// TestErrorsJoined: each problem in a file is its own error, in the order the
// sections are checked; whole-file problems come last.
func TestErrorsJoined(t *testing.T) {
	data, err := os.ReadFile("testdata/bad/many_errors.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse("many.yaml", data)
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		t.Fatalf("error %v (%T) does not join its causes", err, err)
	}
	var lines []string
	for _, e := range joined.Unwrap() {
		lines = append(lines, e.Error())
	}
	want := strings.Split(strings.TrimSuffix(mustRead(t, "testdata/bad/many_errors.err"), "\n"), "\n")
	for i := range want {
		want[i] = strings.Replace(want[i], "testdata/bad/many_errors.yaml", "many.yaml", 1)
	}
	if !slices.Equal(lines, want) {
		t.Errorf("joined errors:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if len(lines) < 8 {
		t.Errorf("only %d errors reported; want every problem in the file", len(lines))
	}
}

// TestErrorsDeterministic: the same file gives the same text every time, even
// where the bad entries come from YAML mappings.
func TestErrorsDeterministic(t *testing.T) {
	const src = `trunks: [{name: t, networks: [127.0.0.0/8]}]
agents:
  - id: "1001"
    password: secret
    skills: {a: 0, b: 6, c: 7, d: 8, e: 9, f: 10}
queues: [{name: a}]
access_numbers: {"1": "", "2": "", "3": "", "4": ""}
`
	_, first := Parse("m.yaml", []byte(src))
	if first == nil {
		t.Fatal("no error")
	}
	for range 20 {
		if _, err := Parse("m.yaml", []byte(src)); err == nil || err.Error() != first.Error() {
			t.Fatalf("error text differs between runs:\n%v\n---\n%v", first, err)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "kefu.yaml")
	if err := os.WriteFile(p, []byte(minimal), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != p {
		t.Errorf("Path = %q, want %q", c.Path, p)
	}

	_, err = Load(filepath.Join(dir, "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: error %v does not wrap fs.ErrNotExist", err)
	}
	if err == nil || !strings.Contains(err.Error(), "-config") {
		t.Errorf("missing file: error %q does not say how to fix it", err)
	}
}

func TestParsePortRange(t *testing.T) {
	for _, tc := range []struct {
		in     string
		lo, hi int
		ok     bool
	}{
		{"20000-29999", 20000, 29999, true},
		{" 20000 - 29999 ", 20000, 29999, true},
		{"1024-65535", 1024, 65535, true},
		{"1024-1027", 1024, 1027, true}, // two even ports: 1024, 1026
		{"1024-1026", 0, 0, false},
		{"20000", 0, 0, false},
		{"9-20", 0, 0, false},
		{"1023-2000", 0, 0, false},
		{"30000-20000", 0, 0, false},
		{"20000-20000", 0, 0, false},
		{"20000-65536", 0, 0, false},
		{"", 0, 0, false},
		{"-", 0, 0, false},
		{"a-b", 0, 0, false},
		{"20000-", 0, 0, false},
		{"-29999", 0, 0, false},
		{"20000-29999-30000", 0, 0, false},
		{"-20000--10000", 0, 0, false},
	} {
		lo, hi, err := ParsePortRange(tc.in)
		if lo != tc.lo || hi != tc.hi || (err == nil) != tc.ok {
			t.Errorf("ParsePortRange(%q) = %d, %d, %v; want %d, %d, ok=%v", tc.in, lo, hi, err, tc.lo, tc.hi, tc.ok)
		}
		if err != nil {
			want := `rtp port range "` + tc.in + `" must be LO-HI between 1024 and 65535 with room for two calls, e.g. 20000-29999`
			if err.Error() != want {
				t.Errorf("ParsePortRange(%q) error\n got: %v\nwant: %s", tc.in, err, want)
			}
		}
	}
}

func TestResolve(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "prompts")
	for _, tc := range []struct {
		path, p, want string
	}{
		{filepath.Join("etc", "kefu", "kefu.yaml"), "customers.csv", filepath.Join("etc", "kefu", "customers.csv")},
		{filepath.Join("etc", "kefu", "kefu.yaml"), filepath.Join("..", "data", "c.csv"), filepath.Join("etc", "data", "c.csv")},
		{filepath.Join("etc", "kefu", "kefu.yaml"), abs, abs},
		{filepath.Join("etc", "kefu", "kefu.yaml"), "", ""},
		{"kefu.yaml", "customers.csv", "customers.csv"},
		{SampleName, "testdata/customers.csv", "testdata/customers.csv"},
		{SampleName, abs, abs},
		{"", "customers.csv", "customers.csv"},
	} {
		c := &Config{Path: tc.path}
		if got := c.Resolve(tc.p); got != tc.want {
			t.Errorf("Config{Path: %q}.Resolve(%q) = %q, want %q", tc.path, tc.p, got, tc.want)
		}
	}

	// Through Load: the path is the file's.
	dir := t.TempDir()
	p := filepath.Join(dir, "kefu.yaml")
	if err := os.WriteFile(p, []byte(minimal+"customers: customers.csv\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Resolve(c.Customers.File), filepath.Join(dir, "customers.csv"); got != want {
		t.Errorf("Resolve(%q) = %q, want %q", c.Customers.File, got, want)
	}

	// The sample's paths stay relative to the working directory.
	s, err := Parse(SampleName, Sample)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Resolve(s.Customers.File); got != "testdata/customers.csv" {
		t.Errorf("sample Resolve(%q) = %q, want it unchanged", s.Customers.File, got)
	}
}

// FuzzParse: Parse never panics, and what it accepts is valid.
func FuzzParse(f *testing.F) {
	f.Add(Sample)
	f.Add([]byte(minimal))
	f.Add([]byte(""))
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			if c != nil {
				t.Fatalf("config returned with error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(c.Trunks) == 0 {
			t.Fatal("accepted a config with no trunks")
		}
		if _, _, err := ParsePortRange(c.SIP.RTPPorts); err != nil {
			t.Fatalf("accepted bad rtp_ports: %v", err)
		}
		if _, err := netip.ParseAddrPort(c.SIP.Listen); err != nil {
			t.Fatalf("accepted bad listen: %v", err)
		}
	})
}

func agentIDs(c *Config) []string {
	var ids []string
	for _, a := range c.Agents {
		ids = append(ids, a.ID)
	}
	return ids
}

func d(v time.Duration) Duration { return Duration(v) }

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
