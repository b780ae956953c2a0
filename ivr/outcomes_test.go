package ivr_test

// Tests of the nodes that hand the call to something else and go on by
// how it came back: queue, record, transfer; and the survey after it.

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"kefu/ivr"
	"kefu/ivr/ivrtest"
)

var queueFiles = map[string]string{
	"prompts.yaml": `kind: prompts
languages: [zh, en]
prompts:
  queue_position:
    zh: {tts: "您前面还有${queue.position}位，约${queue.wait_minutes}分钟"}
    en: {tts: "You are number ${queue.position}, about ${queue.wait_minutes} minutes"}
  cb_offer:
    zh: {tts: 回拨请按2}
    en: {tts: "Press 2 for a call back, ${caller}"}
  hold_music:
    all: {audio: hold_music}
`,
	"main.yaml": `start: who
nodes:
  who:
    type: lookup
    exits: {ok: q, not_found: q, error: q}
  q:
    type: queue
    queue: billing
    music: hold_music
    tier: "= customer.vip ? 'vip' : ''"
    preferred_agent: "= customer.manager"
    preferred_wait: 30s
    max_wait: 5m
    announce: {every: 45s, prompt: queue_position}
    callback: {key: "2", after: 60s, min_wait: 2m, prompt: cb_offer}
    exits:
      after_agent: served
      max_wait: overflow
      no_agents: nobody
      callback: callback
  served:
    type: branch
    cases:
      - when: queue.outcome == "after_agent" && queue.agent != "" && queue.name == "billing"
        go: thanks
    default: odd
  thanks: {type: hangup, reason: served}
  odd: {type: hangup, reason: odd}
  overflow: {type: hangup, reason: max_wait}
  nobody: {type: hangup, reason: no_agents}
  callback: {type: hangup, reason: callback}
`,
	"plain.yaml": `start: q
nodes:
  q:
    type: queue
    queue: data
    exits: {after_agent: bye, max_wait: bye, no_agents: bye}
  bye: {type: hangup}
`,
}

func TestQueueRequest(t *testing.T) {
	set := loadFlowsDir(t, queueFiles)
	tests := []struct {
		name      string
		customer  ivr.Customer
		tier, mgr string
	}{
		{"vip with a manager", ivr.Customer{VIP: true, Manager: "m42"}, "vip", "m42"},
		{"nobody special", ivr.Customer{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := ivrtest.NewScriptedCall()
			dir := &stubDirectory{found: true, c: tt.customer}
			if _, err := runScripted(t, flowNamed(t, set, "main"), call, ivr.RunOptions{Services: ivr.Services{Directory: dir}}); err != nil {
				t.Fatal(err)
			}
			reqs := call.QueueRequests()
			if len(reqs) != 1 {
				t.Fatalf("%d queue requests", len(reqs))
			}
			r := reqs[0]
			if r.Queue != "billing" || r.Music != "hold_music" || r.Tier != tt.tier || r.PreferredAgent != tt.mgr ||
				r.PreferredWait != 30*time.Second || r.MaxWait != 5*time.Minute {
				t.Errorf("request %+v", r)
			}
			if r.Announce == nil || r.Announce.Every != 45*time.Second {
				t.Fatalf("announce %+v", r.Announce)
			}
			got, err := r.Announce.Prompts(context.Background(), ivr.QueueStatus{Position: 3, EstimatedWait: 61 * time.Second})
			if err != nil || !slices.Equal(got, []string{"tts:zh:您前面还有3位，约2分钟"}) {
				t.Errorf("announcement %q, %v", got, err)
			}
			got, _ = r.Announce.Prompts(context.Background(), ivr.QueueStatus{Position: 1, EstimatedWait: 2 * time.Minute})
			if !slices.Equal(got, []string{"tts:zh:您前面还有1位，约2分钟"}) {
				t.Errorf("announcement %q", got)
			}
			if cb := r.Callback; cb == nil || cb.Key != '2' || cb.After != time.Minute || cb.MinWait != 2*time.Minute ||
				!slices.Equal(cb.Prompts, []string{"tts:zh:回拨请按2"}) {
				t.Errorf("callback %+v", r.Callback)
			}
		})
	}
}

// TestQueueRequestLanguage checks the queue's prompts follow the caller's
// language and that a plain queue node asks for nothing more.
func TestQueueRequestLanguage(t *testing.T) {
	files := map[string]string{
		"prompts.yaml": queueFiles["prompts.yaml"],
		"main.yaml": strings.Replace(queueFiles["main.yaml"], "start: who\nnodes:\n", `start: lang
nodes:
  lang:
    type: language
    prompt: choose
    options: {"2": en}
    next: who
`, 1),
		"plain.yaml": queueFiles["plain.yaml"],
	}
	set := loadFlowsDir(t, files)
	call := ivrtest.NewScriptedCall("2")
	if _, err := runScripted(t, flowNamed(t, set, "main"), call, ivr.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	r := call.QueueRequests()[0]
	got, _ := r.Announce.Prompts(context.Background(), ivr.QueueStatus{Position: 2})
	if !slices.Equal(got, []string{"tts:en:You are number 2, about 0 minutes"}) {
		t.Errorf("announcement %q", got)
	}
	if !slices.Equal(r.Callback.Prompts, []string{"tts:en:Press 2 for a call back, 13800138000"}) {
		t.Errorf("callback prompts %q", r.Callback.Prompts)
	}

	call = ivrtest.NewScriptedCall()
	if _, err := runScripted(t, flowNamed(t, set, "plain"), call, ivr.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if want := (ivr.QueueRequest{Queue: "data"}); len(call.QueueRequests()) != 1 || !queueRequestEqual(call.QueueRequests()[0], want) {
		t.Errorf("plain queue request %+v, want %+v", call.QueueRequests(), want)
	}
}

// queueRequestEqual compares requests without their functions.
func queueRequestEqual(a, b ivr.QueueRequest) bool {
	return a.Queue == b.Queue && a.Music == b.Music && a.Tier == b.Tier && a.PreferredAgent == b.PreferredAgent &&
		a.PreferredWait == b.PreferredWait && a.MaxWait == b.MaxWait && (a.Announce == nil) == (b.Announce == nil) &&
		(a.Callback == nil) == (b.Callback == nil)
}

func TestQueueOutcomes(t *testing.T) {
	set := loadFlowsDir(t, queueFiles)
	tests := []struct {
		name    string
		script  []string
		reason  string
		outcome ivr.QueueOutcome
		agent   string
	}{
		{"after_agent: queue variables are set", []string{"queue:after_agent:a9"}, "served", ivr.QueueAnswered, "a9"},
		{"max_wait", []string{"queue:max_wait"}, "max_wait", ivr.QueueMaxWait, ""},
		{"no_agents", []string{"queue:no_agents"}, "no_agents", ivr.QueueNoAgents, ""},
		{"callback", []string{"queue:callback"}, "callback", ivr.QueueCallback, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := runScripted(t, flowNamed(t, set, "main"), ivrtest.NewScriptedCall(tt.script...), ivr.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.HangupReason != tt.reason || res.Queue != "billing" || res.QueueOutcome != tt.outcome || res.AgentID != tt.agent {
				t.Errorf("ended %q, queue %q %q %q; want %q, billing %q %q", res.HangupReason, res.Queue, res.QueueOutcome, res.AgentID, tt.reason, tt.outcome, tt.agent)
			}
		})
	}
}

// TestQueueCallbackNotOffered checks a call back the node did not offer is
// an error, which takes the error exit.
func TestQueueCallbackNotOffered(t *testing.T) {
	flow := inlineFlow(t, `
start: q
defaults: {on_error: oops}
nodes:
  q:
    type: queue
    queue: billing
    exits: {after_agent: bye, max_wait: bye, no_agents: bye}
  oops: {type: hangup, reason: error}
  bye: {type: hangup}
`)
	res, err := runScripted(t, flow, ivrtest.NewScriptedCall("queue:callback"), ivr.RunOptions{})
	if err != nil || res.HangupReason != "error" || !strings.Contains(res.Error, "a call back was asked for but the node offers none") {
		t.Errorf("ended %q, error %q (%v)", res.HangupReason, res.Error, err)
	}
}

const recordFlowTmpl = `
name: hotline
start: vm
nodes:
  vm:
    type: record
    prompt: leave_message
%s
    exits: {ok: thanks%s}
  thanks: {type: hangup, reason: thanks}
  nothing: {type: hangup, reason: nothing}
`

func TestRecord(t *testing.T) {
	tests := []struct {
		name       string
		fields     string
		noAudio    bool // wire no_audio
		script     []string
		reason     string
		recordings []string
		contains   []string
	}{
		{"ok into the flow's mailbox by default", "", false, []string{"record:ok"}, "thanks",
			[]string{"hotline/test-call.wav"}, []string{"play leave_message", "flush", "record hotline: ok"}},
		{"named mailbox", "mailbox: complaints", true, nil, "thanks",
			[]string{"complaints/test-call.wav"}, []string{"record complaints: ok"}},
		{"no_audio wired", "", true, []string{"record:no_audio"}, "nothing", nil, []string{"record hotline: no_audio"}},
		{"no_audio not wired: as ok", "", false, []string{"record:no_audio"}, "thanks", nil, nil},
		{"keys pressed during the prompt are dropped", "", false, []string{"~#", "record:ok"}, "thanks",
			[]string{"hotline/test-call.wav"}, []string{"typed # during leave_message", "flush #"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := ""
			if tt.noAudio {
				wire = ", no_audio: nothing"
			}
			fields := ""
			if tt.fields != "" {
				fields = indent(tt.fields, 4)
			}
			flow := inlineFlow(t, strings.Replace(strings.Replace(recordFlowTmpl, "%s\n", fields+"\n", 1), "%s", wire, 1))
			call := ivrtest.NewScriptedCall(tt.script...)
			res, err := runScripted(t, flow, call, ivr.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.HangupReason != tt.reason || !slices.Equal(res.Recordings, tt.recordings) {
				t.Errorf("ended %q with recordings %q, want %q %q", res.HangupReason, res.Recordings, tt.reason, tt.recordings)
			}
			if miss := lacks(call.Transcript(), tt.contains); len(miss) > 0 {
				t.Errorf("transcript lacks %q", miss)
			}
		})
	}
}

const transferFlow = `
start: pick
vars:
  mode: string
nodes:
  pick:
    type: menu
    prompt: choose
    retries: 0
    options: {"1": bridge, "2": blind, "3": computed, "4": short}
    exits: {failed: bye}
  bridge:
    type: transfer
    to: "sip:desk@pbx.example.com"
    timeout: 20s
    exits: {after_agent: after, failed: failed, busy: busy, no_answer: no_answer}
  blind:
    type: transfer
    to: "+861012345"
    mode: blind
    exits: {failed: failed}
  computed:
    type: transfer
    to: "= caller"
    exits: {after_agent: after, failed: failed, error: bad_target}
  short:
    type: transfer
    to: "10086"
    exits: {after_agent: after, failed: failed}
  after: {type: hangup, reason: after_agent}
  failed: {type: hangup, reason: failed}
  busy: {type: hangup, reason: busy}
  no_answer: {type: hangup, reason: no_answer}
  bad_target: {type: hangup, reason: bad_target}
  bye: {type: hangup}
`

func TestTransfer(t *testing.T) {
	flow := inlineFlow(t, transferFlow)
	tests := []struct {
		name     string
		script   []string
		caller   string
		end      ivr.Ending
		reason   string
		contains string
	}{
		{"bridged, the target hangs up: after_agent", []string{"1"}, "", ivr.EndHangup, "after_agent", "transfer bridge sip:desk@pbx.example.com: after_agent"},
		{"bridged, busy", []string{"1", "transfer:busy"}, "", ivr.EndHangup, "busy", "transfer bridge sip:desk@pbx.example.com: busy"},
		{"bridged, no answer", []string{"1", "transfer:no_answer"}, "", ivr.EndHangup, "no_answer", ""},
		{"bridged, failed", []string{"1", "transfer:failed"}, "", ivr.EndHangup, "failed", ""},
		{"blind: the call leaves", []string{"2"}, "", ivr.EndTransfer, "transferred", "transfer blind +861012345: transferred"},
		{"blind, refused", []string{"2", "transfer:failed"}, "", ivr.EndHangup, "failed", ""},
		{"computed target", []string{"3"}, "13912345678", ivr.EndHangup, "after_agent", "transfer bridge 13912345678: after_agent"},
		{"computed target that is not a number: error exit", []string{"3"}, "anonymous", ivr.EndHangup, "bad_target", ""},
		{"busy not wired: as failed", []string{"4", "transfer:busy"}, "", ivr.EndHangup, "failed", "transfer bridge 10086: busy"},
		{"no_answer not wired: as failed", []string{"4", "transfer:no_answer"}, "", ivr.EndHangup, "failed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := ivrtest.NewScriptedCall(tt.script...)
			if tt.caller != "" {
				call.CallerNumber = tt.caller
			}
			res, err := runScripted(t, flow, call, ivr.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.End != tt.end || res.HangupReason != tt.reason {
				t.Errorf("end %s %q, want %s %q", res.End, res.HangupReason, tt.end, tt.reason)
			}
			if tt.contains != "" && !slices.Contains(call.Transcript(), tt.contains) {
				t.Errorf("transcript lacks %q", tt.contains)
			}
		})
	}
}

// recordingTransfer records transfer requests.
type recordingTransfer struct {
	*ivrtest.ScriptedCall
	reqs []ivr.TransferRequest
}

func (c *recordingTransfer) Transfer(ctx context.Context, req ivr.TransferRequest) (ivr.TransferResult, error) {
	c.reqs = append(c.reqs, req)
	return c.ScriptedCall.Transfer(ctx, req)
}

func TestTransferRequest(t *testing.T) {
	flow := inlineFlow(t, transferFlow)
	for _, tt := range []struct {
		key  string
		want ivr.TransferRequest
	}{
		{"1", ivr.TransferRequest{To: "sip:desk@pbx.example.com", Mode: ivr.TransferBridge, Timeout: 20 * time.Second}},
		{"2", ivr.TransferRequest{To: "+861012345", Mode: ivr.TransferBlind, Timeout: 30 * time.Second}},
	} {
		call := &recordingTransfer{ScriptedCall: ivrtest.NewScriptedCall(tt.key)}
		if _, err := ivr.Run(context.Background(), flow, call, ivr.RunOptions{}); err != nil {
			t.Fatal(err)
		}
		if len(call.reqs) != 1 || call.reqs[0] != tt.want {
			t.Errorf("key %s: requests %+v, want %+v", tt.key, call.reqs, tt.want)
		}
	}
}

const surveyFlowTmpl = `
start: talk
nodes:
  talk:
    type: queue
    queue: billing
    exits: {after_agent: pre, max_wait: bye, no_agents: bye}
  pre: {type: play, prompt: thank_you, next: survey}
  survey:
    type: survey
    retries: %d
    invalid_prompt: invalid
    questions:
      - id: satisfaction
        prompt: q_satisfaction
        keys: "1-5"
      - id: solved
        prompt: q_solved
        answers: {"1": solved, "2": not_solved}
      - id: star
        prompt: q_star
        keys: ["*", "#"]
    exits: {done: thanks%s}
  thanks: {type: hangup, reason: done}
  skipped: {type: hangup, reason: skipped}
  bye: {type: hangup}
`

func TestSurvey(t *testing.T) {
	tests := []struct {
		name        string
		retries     int
		wireSkipped bool
		script      []string
		reason      string
		answers     map[string]string
		digits      string
		contains    []string
	}{
		{"all answered", 1, true, []string{"5", "2", "#"}, "done",
			map[string]string{"satisfaction": "5", "solved": "not_solved", "star": "#"}, "52#", nil},
		{"a wrong key, then the answer", 1, true, []string{"9", "4", "1", "*"}, "done",
			map[string]string{"satisfaction": "4", "solved": "solved", "star": "*"}, "941*",
			[]string{"play invalid,q_satisfaction (cut short by a key)"}},
		{"retries used up: the question stays unanswered", 1, true, []string{"0", "-", "1", "-", "-"}, "done",
			map[string]string{"solved": "solved"}, "01", nil},
		{"no retries: one wrong key per question, nothing answered", 0, true, []string{"7", "3", "-"}, "skipped",
			nil, "73", nil},
		{"nothing answered: skipped", 1, true, nil, "skipped", nil, "", nil},
		{"skipped not wired: as done", 1, false, nil, "done", nil, "", nil},
		{"keys pressed to the agent are not answers", 1, true, []string{"~12", "3", "1", "#"}, "done",
			map[string]string{"satisfaction": "3", "solved": "solved", "star": "#"}, "31#", []string{"typed 12 during thank_you", "flush 12"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := ""
			if tt.wireSkipped {
				wire = ", skipped: skipped"
			}
			src := strings.Replace(strings.Replace(surveyFlowTmpl, "%d", string(rune('0'+tt.retries)), 1), "%s", wire, 1)
			flow := inlineFlow(t, src)
			script := append([]string{"queue:after_agent"}, tt.script...)
			call := ivrtest.NewScriptedCall(script...)
			res, err := runScripted(t, flow, call, ivr.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.HangupReason != tt.reason {
				t.Errorf("ended %q, want %q", res.HangupReason, tt.reason)
			}
			want := tt.answers
			if len(res.Survey) != len(want) {
				t.Errorf("survey %v, want %v", res.Survey, want)
			}
			for k, v := range want {
				if res.Survey[k] != v {
					t.Errorf("survey %v, want %v", res.Survey, want)
					break
				}
			}
			if d := digitsAt(res, "survey"); d != tt.digits {
				t.Errorf("digits %q, want %q", d, tt.digits)
			}
			if miss := lacks(call.Transcript(), tt.contains); len(miss) > 0 {
				t.Errorf("transcript lacks %q", miss)
			}
		})
	}
}
