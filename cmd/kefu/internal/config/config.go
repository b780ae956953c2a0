// Package config reads Kefu's configuration file: a YAML document decoded strictly
// (unknown keys are errors), then defaulted and validated in one step. Every error
// names the file, line and column of the bad entry and says how to fix it.
package config

import (
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Sample is the configuration Kefu runs on when no -config is given: the sample
// hotline over the sample flows, agents 1001–1003, loopback trunks only.
//
//go:embed sample.yaml
var Sample []byte

// SampleName is how errors and logs name the embedded sample configuration.
const SampleName = "(built-in sample config)"

// Config is the whole configuration file.
type Config struct {
	// SIP holds the SIP and media settings.
	SIP SIP `yaml:"sip"`
	// Trunks are the carrier trunks allowed to send calls. INVITEs from any other
	// source get 403. Default: none, which refuses every call — list at least one.
	Trunks []Trunk `yaml:"trunks"`
	// AccessNumbers maps a dialled number (the Request-URI user part) to the flow
	// that answers it, e.g. "10086": main.
	AccessNumbers map[string]string `yaml:"access_numbers"`
	// DefaultFlow answers dialled numbers not in AccessNumbers. Default: empty,
	// which answers them with 404 Not Found.
	DefaultFlow string `yaml:"default_flow"`
	// Prompts is the directory of prompt recordings (*.wav, 8 kHz mono 16-bit PCM or
	// G.711). Default: "prompts" inside the flows directory.
	Prompts string `yaml:"prompts"`
	// Customers is the customer directory: the CSV file each caller's tier is
	// found in, how its customers are graded, and the caller history. Written
	// as just the file name (customers: customers.csv) or as a mapping.
	// Default: no file, every caller gets the unknown-caller tier.
	Customers Customers `yaml:"customers"`
	// Tiers maps a tier name to its head start in the queue (its boost): a caller of
	// that tier is placed as if they had called that much earlier. Default: all
	// tiers 0 (plain first come, first served).
	Tiers map[string]Duration `yaml:"tiers"`
	// Agents are the people who take calls, as SIP endpoints.
	Agents []Agent `yaml:"agents"`
	// Queues are the skill queues flows put callers in.
	Queues []Queue `yaml:"queues"`
	// Routing holds the router's agent rules and node settings.
	Routing Routing `yaml:"routing"`
	// Auth holds the supervisor token of the web pages and the API.
	Auth Auth `yaml:"auth"`
	// Records says where call records go.
	Records Records `yaml:"records"`

	// Path is where the configuration was read from (not part of the file).
	Path string `yaml:"-"`
}

// Customers configures the customer directory.
type Customers struct {
	// File is the customer CSV (number,name,value_score,tenure_months,brand,
	// vip,account_manager[,stars], then any extra columns). It is reloaded
	// when it changes; a broken file is refused and the last good one keeps
	// serving.
	File string `yaml:"file"`
	// Encoding is the file's character set: auto (default: UTF-8, else
	// GB18030), utf-8 or gb18030 (also read for gbk).
	Encoding string `yaml:"encoding"`
	// Thresholds is a thresholds file written by kefu customers grade: rows
	// without stars are graded by it when the file is loaded. Without it,
	// rows without stars are not graded (the unknown-caller tier... unless
	// VIP, account manager or brand lift them).
	Thresholds string `yaml:"thresholds"`
	// Stars maps a grade (1–5) to a tier name. Default 5: five_star, 4:
	// four_star, 3: three_star, 2: two_star, 1: one_star.
	Stars map[int]string `yaml:"stars"`
	// VIPTier and KeyAccountTier are the tiers of VIP customers and of
	// customers with an account manager. Default vip and key_account; "-"
	// for none. Brands maps a brand to a tier (default none). Of every tier
	// a customer qualifies for, the one with the largest head start wins.
	VIPTier        string            `yaml:"vip_tier"`
	KeyAccountTier string            `yaml:"key_account_tier"`
	Brands         map[string]string `yaml:"brands"`
	// UnknownTier is the tier of callers not in the directory, and
	// AnonymousTier of callers who withhold their number. Default: default,
	// and the unknown tier.
	UnknownTier   string `yaml:"unknown_tier"`
	AnonymousTier string `yaml:"anonymous_tier"`
	// RepeatWithin: a caller whose last contact is this recent is a repeat
	// caller (customer.repeat in flows). Default 24h.
	RepeatWithin Duration `yaml:"repeat_within"`
	// KeepHistory is how long a caller's last contact is kept. Default 720h
	// (30 days).
	KeepHistory Duration `yaml:"keep_history"`
}

// Auth configures who may use the web pages and the API. Agents log in with
// their id and SIP password; supervisors with the supervisor token.
type Auth struct {
	// SupervisorToken is the supervisor token, or SupervisorTokenFile a file
	// holding it (better: keeps it out of the configuration). Neither: Kefu
	// makes one at the first start and keeps it in DATA/supervisor-token
	// (mode 0600); the log says where, never the token.
	SupervisorToken     string `yaml:"supervisor_token"`
	SupervisorTokenFile string `yaml:"supervisor_token_file"`
}

// Records configures call records: one per call, written when it ends.
type Records struct {
	// File is the JSONL file (default DATA/records.jsonl). With -redis the
	// records go to a Redis Stream shared by the nodes, and this file is
	// the spool for records written while Redis is unreachable.
	File string `yaml:"file"`
	// StreamMaxLen caps the Redis Stream (approximately). Default 1000000.
	StreamMaxLen int64 `yaml:"stream_max_len"`
}

// customersFields is Customers without its YAML method, for decoding.
type customersFields Customers

// UnmarshalYAML reads either a file name or the full mapping.
func (c *Customers) UnmarshalYAML(n ast.Node) error {
	if s, ok := n.(*ast.StringNode); ok {
		*c = Customers{File: s.Value}
		return nil
	}
	if n.Type() == ast.NullType {
		*c = Customers{}
		return nil
	}
	var f customersFields
	if err := yaml.NodeToValue(n, &f, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
		return err
	}
	*c = Customers(f)
	return nil
}

// SIP holds the SIP front end's settings.
type SIP struct {
	// Listen is the address SIP is served on, UDP and TCP. Default 0.0.0.0:5060;
	// the -sip flag overrides it.
	Listen string `yaml:"listen"`
	// Advertise is the IP address put in Contact headers and SDP. Default: the
	// listen address when it is a concrete IP, otherwise the local address that
	// routes towards each peer.
	Advertise string `yaml:"advertise"`
	// RTPPorts is the UDP port range for media, "LO-HI". Each call leg holds one
	// even port. Default 20000-29999; the -rtp-ports flag overrides it.
	RTPPorts string `yaml:"rtp_ports"`
	// MediaTimeout ends a call with BYE when no RTP has arrived for this long.
	// Default 30s.
	MediaTimeout Duration `yaml:"media_timeout"`
	// RegisterExpiry caps the registration lifetime granted to agents' phones.
	// Default 1h; phones asking for less get what they ask (at least 60s).
	RegisterExpiry Duration `yaml:"register_expiry"`
	// Realm is the digest authentication realm agents' phones see. Default "kefu".
	Realm string `yaml:"realm"`
	// UserAgent is the User-Agent and Server header value. Default "Kefu".
	UserAgent string `yaml:"user_agent"`
}

// Trunk is a carrier trunk allowed to deliver calls.
type Trunk struct {
	// Name labels the trunk in logs. Required.
	Name string `yaml:"name"`
	// Networks are the source addresses or CIDR networks the trunk sends from,
	// e.g. 10.1.0.0/16 or 192.0.2.7. Required.
	Networks []string `yaml:"networks"`

	// Prefixes is Networks parsed.
	Prefixes []netip.Prefix `yaml:"-"`
}

// Agent is a person taking calls on a SIP phone.
type Agent struct {
	// ID is the agent's number and SIP user name, e.g. "1001". Required.
	ID string `yaml:"id"`
	// Name is shown to supervisors. Default: the ID.
	Name string `yaml:"name"`
	// Password is the SIP digest password the phone registers with. Required.
	Password string `yaml:"password"`
	// Skills maps a skill to the agent's level in it, 1 (novice) to 5 (expert).
	Skills map[string]int `yaml:"skills"`
}

// Queue is a skill queue.
type Queue struct {
	// Name is how flows refer to the queue. Required.
	Name string `yaml:"name"`
	// Skill is the skill an agent needs to serve the queue. Default: the name.
	Skill string `yaml:"skill"`
	// ServiceLevel is the answer-time target for the service-level figure.
	// Default 20s.
	ServiceLevel Duration `yaml:"service_level"`
	// MaxWait sends a caller to the flow's max_wait exit after this long in the
	// queue. Default 0: no limit.
	MaxWait Duration `yaml:"max_wait"`
	// RingTimeout is how long an agent's phone rings before the call goes back to
	// its place in the queue and the agent is set not ready. Default 15s.
	RingTimeout Duration `yaml:"ring_timeout"`
	// WrapUp is the after-call work time before the agent is offered another call.
	// Default 0.
	WrapUp Duration `yaml:"wrap_up"`
	// AccountManagerWait is how long a caller with a dedicated account manager
	// waits for that agent alone before anyone qualified may take the call.
	// Default 30s.
	AccountManagerWait Duration `yaml:"account_manager_wait"`
	// LastAgentWait makes a caller who called before wait this long for the
	// agent who answered their last call (if that agent has the skill and is
	// logged in), like the account-manager rule; the account manager comes
	// first. Default 0: off.
	LastAgentWait Duration `yaml:"last_agent_wait"`
	// Steps widen who may take a waiting call, without it losing its place:
	// e.g. level 4 or better at first, any level after 30s, agents of a
	// second skill after 60s. The first step has after: 0s. Default: the
	// queue's skill at any level from the start.
	Steps []Step `yaml:"steps"`
	// MaxQueued is the most callers that may wait in line; the next one takes
	// the flow's queue_full exit. Default 0: no limit.
	MaxQueued int `yaml:"max_queued"`
	// JoinEmpty lets callers join while no agent with the queue's skills is
	// logged in. Default false: they take the flow's no_agents exit.
	JoinEmpty bool `yaml:"join_empty"`
	// LeaveWhenEmpty sends waiting callers to the flow's max_wait exit when
	// the last agent with the queue's skills logs out. Default false.
	LeaveWhenEmpty bool `yaml:"leave_when_empty"`
}

// Step is one step of a queue's widening.
type Step struct {
	// After is how long the caller has waited when the step begins.
	After Duration `yaml:"after"`
	// Skill is the skill the step asks for. Default: the queue's.
	Skill string `yaml:"skill"`
	// MinLevel is the lowest level the step accepts, 1–5. Default 1.
	MinLevel int `yaml:"min_level"`
}

// Routing holds the router's rules for agents and for Kefu nodes sharing a
// Redis.
type Routing struct {
	// Misses says what happens to an agent who does not take an offered call.
	Misses Misses `yaml:"misses"`
	// NodeTTL is how long a node counts as alive after its last heartbeat
	// (with -redis); its calls and agents are recovered by the other nodes
	// when it lapses. Default 5s.
	NodeTTL Duration `yaml:"node_ttl"`
	// LostAgentState is what an agent talking on a lost node's call becomes:
	// not_ready (default) or ready.
	LostAgentState string `yaml:"lost_agent_state"`
}

// Misses are the not-ready delays after a missed offer, per kind of miss.
type Misses struct {
	// NoAnswer follows a ring timeout. Default 10s.
	NoAnswer Duration `yaml:"no_answer"`
	// Rejected follows a declined call. Default 5s.
	Rejected Duration `yaml:"rejected"`
	// Busy follows 486 Busy Here. Default 5s.
	Busy Duration `yaml:"busy"`
	// Other follows any other failure to reach the phone. Default 10s.
	Other Duration `yaml:"other"`
	// MaxInRow misses in a row make the agent not ready ("not_responding")
	// until they set themselves ready. Default 3.
	MaxInRow int `yaml:"max_in_row"`
}

// Duration is a time.Duration written as a Go duration string ("20s", "1m30s").
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalYAML reads a duration string, reporting bad values with their position.
func (d *Duration) UnmarshalYAML(n ast.Node) error {
	pos := ""
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		pos = fmt.Sprintf("%d:%d: ", tk.Position.Line, tk.Position.Column)
	}
	s, ok := n.(*ast.StringNode)
	if !ok {
		if n.Type() == ast.IntegerType && strings.TrimSpace(n.String()) == "0" {
			*d = 0
			return nil
		}
		return fmt.Errorf("%s%q is not a duration: write it with a unit, like 20s, 500ms or 2m", pos, n.String())
	}
	v, err := time.ParseDuration(s.Value)
	if err != nil {
		return fmt.Errorf("%s%q is not a duration: write it with a unit, like 20s, 500ms or 2m", pos, s.Value)
	}
	if v < 0 {
		return fmt.Errorf("%sduration %q is negative: use 0 or a positive duration like 20s", pos, s.Value)
	}
	*d = Duration(v)
	return nil
}

// Load reads and checks the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w (give an existing file with -config, or none to run the sample)", err)
	}
	return Parse(path, data)
}

// Parse decodes, defaults and validates a configuration; name is used in errors
// and relative paths in the file are taken relative to its directory.
func Parse(name string, data []byte) (*Config, error) {
	var c Config
	if err := decode(data, &c); err != nil {
		return nil, positioned(name, err)
	}
	c.Path = name
	c.applyDefaults()
	if err := c.validate(name, data); err != nil {
		return nil, err
	}
	return &c, nil
}

// decode is the strict YAML decoding. go-yaml v1.19.2 panics on a tag with no
// value where a list is expected ("networks: !x", goccy/go-yaml#735, fixed
// upstream after that release); a bad file must give an error, not a crash.
func decode(data []byte, c *Config) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the YAML decoder failed: %v", r)
			if f, perr := parseFile(data); perr == nil {
				if tags := ast.FilterFile(ast.TagType, f); len(tags) > 0 {
					if tk := tags[0].GetToken(); tk != nil && tk.Position != nil {
						err = fmt.Errorf("%d:%d: cannot decode the tag %s here: remove it or give it a value", tk.Position.Line, tk.Position.Column, tk.Value)
					}
				}
			}
		}
	}()
	return yaml.UnmarshalWithOptions(data, c, yaml.Strict(), yaml.DisallowUnknownField())
}

// positioned turns a YAML decoding error into "file:line:col: message".
func positioned(name string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		msg := ye.GetMessage()
		var ue *yaml.UnknownFieldError
		var te *yaml.TypeError
		switch {
		case errors.As(err, &ue):
			msg += ": check its spelling and indentation (every field is described in cmd/kefu/internal/config/config.go)"
		case errors.As(err, &te):
			msg = fmt.Sprintf("wrong type: this must be %s, not %s", yamlKind(te.DstType), yamlKind(te.SrcType))
		}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			return fmt.Errorf("%s:%d:%d: %s", name, tk.Position.Line, tk.Position.Column, msg)
		}
		return fmt.Errorf("%s: %s", name, msg)
	}
	// Errors from our own UnmarshalYAML carry "line:col: " already.
	if m := posPrefix.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("%s:%s", name, err.Error())
	}
	return fmt.Errorf("%s: %w", name, err)
}

var posPrefix = regexp.MustCompile(`^(\d+):(\d+): `)

// yamlKind names a Go type the way the YAML author sees it.
func yamlKind(t reflect.Type) string {
	if t == nil {
		return "null"
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping (key: value)"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	}
	return t.String()
}

func (c *Config) applyDefaults() {
	if c.SIP.Listen == "" {
		c.SIP.Listen = "0.0.0.0:5060"
	}
	if c.SIP.RTPPorts == "" {
		c.SIP.RTPPorts = "20000-29999"
	}
	if c.SIP.MediaTimeout == 0 {
		c.SIP.MediaTimeout = Duration(30 * time.Second)
	}
	if c.SIP.RegisterExpiry == 0 {
		c.SIP.RegisterExpiry = Duration(time.Hour)
	}
	if c.SIP.Realm == "" {
		c.SIP.Realm = "kefu"
	}
	if c.SIP.UserAgent == "" {
		c.SIP.UserAgent = "Kefu"
	}
	for i := range c.Agents {
		if c.Agents[i].Name == "" {
			c.Agents[i].Name = c.Agents[i].ID
		}
	}
	for i := range c.Queues {
		q := &c.Queues[i]
		if q.Skill == "" {
			q.Skill = q.Name
		}
		if q.ServiceLevel == 0 {
			q.ServiceLevel = Duration(20 * time.Second)
		}
		if q.RingTimeout == 0 {
			q.RingTimeout = Duration(15 * time.Second)
		}
		if q.AccountManagerWait == 0 {
			q.AccountManagerWait = Duration(30 * time.Second)
		}
	}
}

// validate checks what strict decoding cannot; errors point at the entry.
func (c *Config) validate(name string, data []byte) error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", locate(name, data, path), fmt.Sprintf(format, args...)))
	}
	if _, err := netip.ParseAddrPort(c.SIP.Listen); err != nil {
		bad("$.sip.listen", "listen %q is not IP:port (for example 0.0.0.0:5060)", c.SIP.Listen)
	}
	if c.SIP.Advertise != "" {
		if _, err := netip.ParseAddr(c.SIP.Advertise); err != nil {
			bad("$.sip.advertise", "advertise %q is not an IP address (for example 192.0.2.10)", c.SIP.Advertise)
		}
	}
	if _, _, err := ParsePortRange(c.SIP.RTPPorts); err != nil {
		bad("$.sip.rtp_ports", "%v", err)
	}
	if len(c.Trunks) == 0 {
		bad("$", "no trunks: list the networks allowed to send calls under trunks:, e.g. trunks: [{name: local, networks: [127.0.0.0/8]}]")
	}
	for i := range c.Trunks {
		t := &c.Trunks[i]
		p := fmt.Sprintf("$.trunks[%d]", i)
		if t.Name == "" {
			bad(p, "trunk %d has no name: add name: with a label for logs", i+1)
		}
		if len(t.Networks) == 0 {
			bad(p, "trunk %q lists no networks: add networks: with the addresses it sends from, e.g. [192.0.2.0/24]", t.Name)
		}
		for j, n := range t.Networks {
			pfx, err := parseNetwork(n)
			if err != nil {
				bad(fmt.Sprintf("%s.networks[%d]", p, j), "trunk %q: %q is not an IP address or CIDR network (like 10.0.0.0/8)", t.Name, n)
				continue
			}
			t.Prefixes = append(t.Prefixes, pfx)
		}
	}
	skills := map[string]bool{}
	seenAgent := map[string]bool{}
	for i, a := range c.Agents {
		p := fmt.Sprintf("$.agents[%d]", i)
		switch {
		case a.ID == "":
			bad(p, "agent %d has no id: add id: with the agent's number, e.g. id: \"1001\"", i+1)
		case seenAgent[a.ID]:
			bad(p+".id", "agent %q is listed twice: give each agent its own id", a.ID)
		case strings.ContainsAny(a.ID, " @:;<>\""):
			bad(p+".id", "agent id %q must be usable as a SIP user name (no spaces, @, :, ;)", a.ID)
		}
		seenAgent[a.ID] = true
		if a.Password == "" {
			bad(p, "agent %q has no password: phones register with digest authentication", a.ID)
		}
		for _, s := range slices.Sorted(maps.Keys(a.Skills)) {
			lvl := a.Skills[s]
			skills[s] = true
			if lvl < 1 || lvl > 5 {
				bad(p+".skills."+s, "agent %q: level %d for skill %q is out of range 1–5", a.ID, lvl, s)
			}
		}
	}
	seenQueue := map[string]bool{}
	for i, q := range c.Queues {
		p := fmt.Sprintf("$.queues[%d]", i)
		switch {
		case q.Name == "":
			bad(p, "queue %d has no name: add name: so flows can refer to it", i+1)
		case seenQueue[q.Name]:
			bad(p+".name", "queue %q is listed twice: give each queue its own name", q.Name)
		}
		seenQueue[q.Name] = true
		if !skills[q.Skill] {
			bad(p, "queue %q needs skill %q but no agent has it: add it to an agent's skills", q.Name, q.Skill)
		}
		if q.MaxQueued < 0 {
			bad(p+".max_queued", "queue %q: max_queued %d is negative: use 0 for no limit", q.Name, q.MaxQueued)
		}
		for j, st := range q.Steps {
			sp := fmt.Sprintf("%s.steps[%d]", p, j)
			switch {
			case j == 0 && st.After != 0:
				bad(sp+".after", "queue %q: the first step applies from the start: give it after: 0s", q.Name)
			case j > 0 && st.After < q.Steps[j-1].After:
				bad(sp+".after", "queue %q: steps must be in order of waiting time", q.Name)
			}
			if st.Skill != "" && !skills[st.Skill] {
				bad(sp+".skill", "queue %q: step skill %q is not any agent's skill", q.Name, st.Skill)
			}
			if st.MinLevel < 0 || st.MinLevel > 5 {
				bad(sp+".min_level", "queue %q: min_level %d is out of range 1–5", q.Name, st.MinLevel)
			}
		}
	}
	if c.Auth.SupervisorToken != "" && c.Auth.SupervisorTokenFile != "" {
		bad("$.auth", "give supervisor_token or supervisor_token_file, not both")
	}
	if t := c.Auth.SupervisorToken; t != "" && len(t) < 16 {
		bad("$.auth.supervisor_token", "the supervisor token is shorter than 16 characters: use a long random one (openssl rand -hex 24)")
	}
	if c.Records.StreamMaxLen < 0 {
		bad("$.records.stream_max_len", "stream_max_len %d is negative: use 0 for the default", c.Records.StreamMaxLen)
	}
	switch strings.ToLower(c.Customers.Encoding) {
	case "", "auto", "utf-8", "utf8", "gb18030", "gbk", "gb2312":
	default:
		bad("$.customers.encoding", "encoding %q: use auto, utf-8 or gb18030", c.Customers.Encoding)
	}
	for stars := range c.Customers.Stars {
		if stars < 1 || stars > 5 {
			bad("$.customers.stars", "stars %d: grades are 1 (one-star) to 5 (five-star)", stars)
		}
	}
	if c.Customers.File == "" && (c.Customers.Thresholds != "" || c.Customers.Encoding != "") {
		bad("$.customers", "thresholds and encoding apply to a customer file: add file:")
	}
	switch c.Routing.LostAgentState {
	case "", "ready", "not_ready":
	default:
		bad("$.routing.lost_agent_state", "lost_agent_state %q: use ready or not_ready", c.Routing.LostAgentState)
	}
	m := c.Routing.Misses
	if m.NoAnswer < 0 || m.Rejected < 0 || m.Busy < 0 || m.Other < 0 {
		bad("$.routing.misses", "miss delays must not be negative: an agent who missed a call rests a moment before the next")
	}
	if c.Routing.NodeTTL < 0 {
		bad("$.routing.node_ttl", "node_ttl must not be negative")
	}
	for _, num := range slices.Sorted(maps.Keys(c.AccessNumbers)) {
		flow := c.AccessNumbers[num]
		if num == "" || flow == "" {
			bad("$.access_numbers", "access number %q maps to flow %q: both must be non-empty", num, flow)
		}
	}
	if len(c.AccessNumbers) == 0 && c.DefaultFlow == "" {
		bad("$", "no access_numbers and no default_flow: no call could be answered")
	}
	return errors.Join(errs...)
}

// FlowNames lists every flow the configuration refers to, sorted.
func (c *Config) FlowNames() []string {
	var names []string
	for _, f := range c.AccessNumbers {
		names = append(names, f)
	}
	if c.DefaultFlow != "" {
		names = append(names, c.DefaultFlow)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// QueueNames lists the configured queues.
func (c *Config) QueueNames() []string {
	names := make([]string, 0, len(c.Queues))
	for _, q := range c.Queues {
		names = append(names, q.Name)
	}
	return names
}

// Resolve makes a path from the file relative to the file's directory. The
// embedded sample's paths are relative to the working directory.
func (c *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || c.Path == SampleName || c.Path == "" {
		return p
	}
	return filepath.Join(filepath.Dir(c.Path), p)
}

// ParsePortRange parses "LO-HI" into two ports, LO < HI.
func ParsePortRange(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if ok {
		lo, err = strconv.Atoi(strings.TrimSpace(a))
		if err == nil {
			hi, err = strconv.Atoi(strings.TrimSpace(b))
		}
	}
	if !ok || err != nil || lo < 1024 || hi > 65535 || hi-lo < 3 {
		return 0, 0, fmt.Errorf("rtp port range %q must be LO-HI between 1024 and 65535 with room for two calls, e.g. 20000-29999", s)
	}
	return lo, hi, nil
}

func parseNetwork(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// locate finds "file:line:col" of a YAML path like $.queues[1].name, falling
// back to the nearest parent that exists, then to the file alone.
func locate(name string, data []byte, path string) string {
	for p := path; p != ""; p = parent(p) {
		yp, err := yaml.PathString(p)
		if err != nil {
			continue
		}
		file, err := parseFile(data)
		if err != nil {
			break
		}
		n, err := yp.FilterFile(file)
		if err != nil || n == nil {
			continue
		}
		if tk := n.GetToken(); tk != nil && tk.Position != nil {
			return fmt.Sprintf("%s:%d:%d", name, tk.Position.Line, tk.Position.Column)
		}
	}
	return name
}

func parent(p string) string {
	if p == "$" {
		return ""
	}
	i := strings.LastIndexAny(p, ".[")
	if i <= 0 {
		return "$"
	}
	return p[:i]
}

func parseFile(data []byte) (*ast.File, error) {
	return parser.ParseBytes(data, 0)
}
