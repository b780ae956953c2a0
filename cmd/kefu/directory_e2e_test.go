package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// gradingCustomers is a back-office export: GB18030, no stars column, graded
// on load by gradingThresholds. Composite scores (value × tenure
// coefficient): 13800000001 42 × 1.0 = 42, 13987654321 35.5 × 1.0 = 35.5,
// 15033334444 12.5 × 1.0 = 12.5 — all below two_star 100: one-star;
// 13855556666 999 × 2.0 = 1998 ≥ five_star 1000: five-star; 13811112222
// 205.7 × 1.7 = 349.69: three-star.
const gradingCustomers = `number,name,value_score,tenure_months,brand,vip,account_manager,套餐
13800000001,李小梅,42.0,7,神州行,否,,8元卡
13987654321,周杰,35.5,3,动感地带,否,,18元卡
15033334444,罗琳,12.5,2,神州行,否,,8元卡
13855556666,宋佳,999.0,120,全球通,否,,188元套餐
13811112222,马丽,205.7,37,全球通,否,,88元套餐
`

const gradingThresholds = `five_star: 1000
four_star: 500
three_star: 300
two_star: 100
`

// TestSippFiveStarAheadOfOneStar: the customer directory decides real
// calls. The customer file is a GB18030 export without grades, graded on
// load by a thresholds file. Three one-star callers queue on 10087 (sipp,
// queue before answer) while the only agent is not ready; a five-star
// caller dials after them and is put ahead of all three (120 s head start);
// the agent goes ready and is offered the five-star call first. When it
// ends, the caller's last contact (agent, outcome) is what
// GET /api/customers/{number} shows, and a changed customer file is loaded
// while Kefu runs.
func TestSippFiveStarAheadOfOneStar(t *testing.T) {
	dir := t.TempDir()
	csvPath, thPath := filepath.Join(dir, "customers.csv"), filepath.Join(dir, "thresholds.yaml")
	gb, err := simplifiedchinese.GB18030.NewEncoder().String(gradingCustomers)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(csvPath, []byte(gb), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(thPath, []byte(gradingThresholds), 0o644); err != nil {
		t.Fatal(err)
	}
	k := startKefuProcessCustomers(t, sampleFlows, fmt.Sprintf("{file: %s, thresholds: %s}", csvPath, thPath))

	var five customerView
	k.get(t, "/api/customers/+86%20138-5555-6666", &five)
	if !five.Found || five.Customer.Stars != 5 || five.Tier != "five_star" || five.HeadStart != 120 || five.Customer.Extra["套餐"] != "188元套餐" {
		t.Fatalf("five-star caller as the router sees them: %+v", five)
	}

	agentPort := freePort(t)
	agent := startSipp(t, "agent_answer.xml", "-p", strconv.Itoa(agentPort), "-m", "1",
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(t)), "-rtp_echo", "-trace_msg")
	register(t, k, "1001", "kefu-1001", agentPort)
	if code := k.post(t, "/api/agents/1001/state", `{"state":"not_ready"}`); code != 200 {
		t.Fatalf("not ready: %d", code)
	}

	queued := func(n int) []routerCall {
		t.Helper()
		var calls []routerCall
		waitFor(t, 15*time.Second, fmt.Sprintf("%d callers queued", n), func() bool {
			calls = nil
			k.get(t, "/api/router/calls", &calls)
			return len(calls) == n
		})
		return calls
	}
	oneStar := []string{"13800000001", "13987654321", "15033334444"}
	var cancels []*sippRun
	for i, number := range oneStar {
		cancels = append(cancels, startSipp(t, "caller_cancel.xml", k.sip.String(), "-s", "10087", "-p", strconv.Itoa(freePort(t)),
			"-m", "1", "-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(t)), "-key", "caller", number, "-d", "9000"))
		queued(i + 1)
	}
	caller := startSipp(t, "load_call.xml", k.sip.String(), "-s", "10087", "-p", strconv.Itoa(freePort(t)),
		"-m", "1", "-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(t)), "-key", "caller", "13855556666", "-d", "2000", "-rtp_echo")
	line := queued(4)
	if !strings.Contains(line[0].Caller, "13855556666") || line[0].Tier != "five_star" {
		t.Fatalf("head of the line is %+v, want the five-star caller who dialled last", line[0])
	}
	for i, c := range line[1:] {
		if !strings.Contains(c.Caller, oneStar[i]) || c.Tier != "one_star" {
			t.Errorf("position %d: %+v, want one-star %s in the order they called", i+2, c, oneStar[i])
		}
	}

	if code := k.post(t, "/api/agents/1001/state", `{"state":"ready"}`); code != 200 {
		t.Fatalf("ready: %d", code)
	}
	// The agent's one call (-m 1) is the five-star caller's; once it is
	// answered the agent goes not ready after it, so the one-star callers
	// wait until they give up.
	waitFor(t, 15*time.Second, "agent talking", func() bool {
		st, _ := k.agentState(t, "1001")
		return st == "talking"
	})
	k.post(t, "/api/agents/1001/state", `{"state":"not_ready"}`)
	caller.wait(t, "five-star caller")
	agent.wait(t, "agent")
	msgs, _ := filepath.Glob(filepath.Join(agent.cmd.Dir, "*_messages.log"))
	if len(msgs) == 1 {
		b, _ := os.ReadFile(msgs[0])
		if invite, _, _ := strings.Cut(string(b[bytes.Index(b, []byte("INVITE sip:")):]), "\n\n"); !strings.Contains(invite, "13855556666") {
			t.Errorf("the agent was offered:\n%s\nwant the five-star caller 13855556666", invite)
		}
	}
	for i, c := range cancels {
		c.wait(t, "one-star caller "+oneStar[i])
	}

	waitFor(t, 10*time.Second, "last contacts recorded", func() bool {
		var v customerView
		k.get(t, "/api/customers/13855556666", &v)
		var o customerView
		k.get(t, "/api/customers/13800000001", &o)
		return v.Last != nil && o.Last != nil
	})
	k.get(t, "/api/customers/13855556666", &five)
	if l := five.Last; l.Agent != "1001" || l.Outcome != "answered" || l.Queue != "billing" || !five.Repeat {
		t.Errorf("five-star caller's last contact: %+v repeat %v; want answered by 1001 in billing, a repeat caller now", l, five.Repeat)
	}
	var one customerView
	k.get(t, "/api/customers/13800000001", &one)
	if l := one.Last; l.Outcome != "abandoned" || l.Agent != "" {
		t.Errorf("one-star caller's last contact: %+v, want abandoned", l)
	}

	// The file changes while Kefu runs: a one-star customer becomes a VIP.
	changed := strings.Replace(gradingCustomers, "13800000001,李小梅,42.0,7,神州行,否", "13800000001,李小梅,42.0,7,神州行,是", 1)
	if err := os.WriteFile(csvPath+".new", []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(csvPath+".new", csvPath); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "changed customer file loaded", func() bool {
		k.get(t, "/api/customers/13800000001", &one)
		return one.Tier == "vip"
	})
}

// customerView is GET /api/customers/{number} as the tests read it.
type customerView struct {
	Number   string `json:"number"`
	Found    bool   `json:"found"`
	Customer struct {
		Stars int               `json:"stars"`
		VIP   bool              `json:"vip"`
		Extra map[string]string `json:"extra"`
	} `json:"customer"`
	Tier      string  `json:"tier"`
	HeadStart float64 `json:"head_start_s"`
	Repeat    bool    `json:"repeat"`
	Last      *struct {
		Queue, Agent, Outcome string
	} `json:"last_contact"`
	PreferredAgents []struct {
		Queue, Agent, Reason string
	} `json:"preferred_agents"`
}

// routerCall is one entry of GET /api/router/calls.
type routerCall struct {
	ID     string `json:"id"`
	Caller string `json:"caller"`
	Tier   string `json:"tier"`
}
