package callrecord

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))

// answered is a whole answered record.
func answered(id string, end time.Time) Record {
	start := end.Add(-3 * time.Minute)
	return Record{
		CallID: id, Node: "kefu-a", Caller: "13800000001", Called: "10086",
		Tier: "gold", Stars: 4, Flow: "main", FlowVersion: "v3",
		Path:  []Step{{Node: "welcome", Exit: "next"}, {Node: "menu", Exit: "1", Digits: "1"}, {Node: "pin", Digits: "****"}},
		Queue: "billing", Start: start, End: end,
		Enqueued: start.Add(20 * time.Second), Offered: start.Add(30 * time.Second),
		Answered: start.Add(35 * time.Second), AgentEnd: end.Add(-10 * time.Second),
		Agent: "1001", RingAttempts: 2, WrapUp: 10*time.Second + 500*time.Millisecond,
		Disposition: Answered, Survey: map[string]string{"q1": "5"},
	}
}

func TestRoundTrip(t *testing.T) {
	r := answered("c1", t0)
	b, err := Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`{"v":1,"call_id":"c1",`, `"flow_version":"v3"`, `"enqueued":"2026-11-25T08:57:20+08:00"`,
		`"agent_end":`, `"ring_attempts":2`, `"wrap_up_s":10.5`, `"digits":"****"`, `"disposition":"answered"`} {
		if !strings.Contains(s, want) {
			t.Errorf("%s\nhas no %s", s, want)
		}
	}
	if !strings.HasSuffix(s, "}\n") || strings.Count(s, "\n") != 1 {
		t.Errorf("not one line: %q", s)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(normal(got), normal(r)) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, r)
	}
	// Zero times are left out.
	ivr := Record{CallID: "c2", Start: t0, End: t0.Add(time.Minute), Disposition: Completed}
	b, _ = Encode(ivr)
	for _, absent := range []string{"enqueued", "answered", "agent_end", "offered", "wrap_up_s", "queue", "survey"} {
		if strings.Contains(string(b), `"`+absent+`"`) {
			t.Errorf("%s has %q", b, absent)
		}
	}
}

// normal makes times comparable with DeepEqual (locations differ after
// decoding).
func normal(r Record) Record {
	for _, p := range []*time.Time{&r.Start, &r.End, &r.Enqueued, &r.Offered, &r.Answered, &r.AgentEnd} {
		if !p.IsZero() {
			*p = p.UTC()
		}
	}
	return r
}

func TestDecodeErrors(t *testing.T) {
	good, _ := json.Marshal(answered("c1", t0))
	for _, tc := range []struct{ name, line, want string }{
		{"not JSON", `{"v":1,`, "unexpected end"},
		{"unknown field", strings.Replace(string(good), `"node"`, `"nodes"`, 1), "unknown field"},
		{"version", strings.Replace(string(good), `"v":1`, `"v":2`, 1), "version 2"},
		{"no version", strings.Replace(string(good), `"v":1,`, ``, 1), "version 0"},
		{"trailing", string(good) + `{}`, "invalid character"},
		{"bad wrap-up", strings.Replace(string(good), `"wrap_up_s":10.5`, `"wrap_up_s":-1`, 1), "wrap_up_s"},
		{"bad disposition", strings.Replace(string(good), `"disposition":"answered"`, `"disposition":"lost"`, 1), `disposition "lost"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.line))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Decode = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Record)
		want string // "" valid
	}{
		{"valid", func(*Record) {}, ""},
		{"no id", func(r *Record) { r.CallID = "" }, "no call_id"},
		{"no start", func(r *Record) { r.Start = time.Time{} }, "no start"},
		{"no end", func(r *Record) { r.End = time.Time{} }, "no end"},
		{"end before start", func(r *Record) { r.End = r.Start.Add(-time.Second) }, "before start"},
		{"stars", func(r *Record) { r.Stars = 6 }, "stars 6"},
		{"ring attempts", func(r *Record) { r.RingAttempts = -1 }, "ring_attempts"},
		{"answered without time", func(r *Record) { r.Answered = time.Time{} }, "answer time"},
		{"answer time on abandon", func(r *Record) { r.Disposition = AbandonedQueue }, "answer time"},
		{"answered without agent", func(r *Record) { r.Agent = "" }, "without agent"},
		{"answer before enqueue", func(r *Record) { r.Answered = r.Enqueued.Add(-time.Second) }, "answered"},
		{"agent end after end", func(r *Record) { r.AgentEnd = r.End.Add(time.Second) }, "agent_end"},
		{"enqueued without queue", func(r *Record) { r.Queue = "" }, "queue"},
		{"overflow reason", func(r *Record) { r.OverflowReason = "tired" }, "overflow_reason"},
		{"overflowed without reason", func(r *Record) {
			r.Disposition, r.Answered, r.AgentEnd, r.Agent = Overflowed, time.Time{}, time.Time{}, ""
		}, "without an overflow_reason"},
		{"abandoned in queue without enqueue", func(r *Record) {
			r.Disposition, r.Answered, r.AgentEnd, r.Agent, r.Enqueued, r.Offered = AbandonedQueue, time.Time{}, time.Time{}, "", time.Time{}, time.Time{}
		}, "abandoned_queue without"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := answered("c1", t0)
			tc.edit(&r)
			err := r.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalid)):
				t.Errorf("Validate = %v, want ErrInvalid with %q", err, tc.want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := Encode(answered("c1", t0))
	f.Add(good)
	ivr, _ := Encode(Record{CallID: "c2", Start: t0, End: t0.Add(time.Minute), Disposition: AbandonedIVR})
	f.Add(ivr)
	f.Add([]byte(`{"v":1,"call_id":"x","start":"2026-11-25T09:00:00Z","end":"2026-11-25T09:00:00Z","disposition":"completed","wrap_up_s":1e300}`))
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := Decode(line)
		if err != nil {
			return
		}
		// A record that decodes encodes, and decodes again to the same.
		b, err := Encode(r)
		if err != nil {
			t.Fatalf("decoded %q but cannot encode it: %v", line, err)
		}
		again, err := Decode(b)
		if err != nil {
			t.Fatalf("re-decoding %q: %v", b, err)
		}
		b2, _ := Encode(again)
		if string(b) != string(b2) {
			t.Fatalf("not stable:\n%s%s", b, b2)
		}
	})
}
