package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"kefu/routing/callrecord"
)

var cst = time.FixedZone("CST", 8*3600)

func day(t *testing.T) []callrecord.Record {
	t.Helper()
	recs, err := callrecord.ReadJSONL("../../testdata/records/day.jsonl", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 12 {
		t.Fatalf("fixture has %d records, want 12", len(recs))
	}
	return recs
}

func dayQuery() Query {
	return Query{
		From:         time.Date(2026, 11, 25, 0, 0, 0, 0, cst),
		To:           time.Date(2026, 11, 26, 0, 0, 0, 0, cst),
		Location:     cst,
		ServiceLevel: map[string]time.Duration{"complaints": 30 * time.Second},
	}
}

// want is a row's expected figures; sl and ar are NaN when undefined.
type want struct {
	key                                                                       string
	calls, offered, answered, inSL, abandoned, short, overflowed, cb, vm, ivr int
	sl, ar                                                                    float64
	asa, aht                                                                  time.Duration
	survey                                                                    map[string]float64
	surveyN                                                                   map[string]int
}

var nan = math.NaN()

func check(t *testing.T, group string, got Row, w want) {
	t.Helper()
	eqf := func(a, b float64) bool { return (math.IsNaN(a) && math.IsNaN(b)) || math.Abs(a-b) < 1e-9 }
	ok := got.Key == w.key && got.Calls == w.calls && got.Offered == w.offered && got.Answered == w.answered &&
		got.AnsweredInSL == w.inSL && got.Abandoned == w.abandoned && got.ShortAbandons == w.short &&
		got.Overflowed == w.overflowed && got.Callbacks == w.cb && got.Voicemails == w.vm && got.AbandonedIVR == w.ivr &&
		eqf(got.ServiceLevel, w.sl) && eqf(got.AbandonRate, w.ar) && got.ASA == w.asa && got.AHT == w.aht &&
		len(got.Survey) == len(w.survey) && len(got.SurveyCount) == len(w.surveyN)
	for q, v := range w.survey {
		ok = ok && eqf(got.Survey[q], v) && got.SurveyCount[q] == w.surveyN[q]
	}
	if !ok {
		t.Errorf("%s %s:\n got %+v\nwant %+v", group, w.key, got, w)
	}
}

// TestDay checks every figure of testdata/records/day.jsonl, worked out by
// hand. The day is 2026-11-25 +08:00; c11 ends at 2026-11-26 00:00 (To is
// exclusive) and c12 the day before, so the ten calls c01…c10 count:
//
//	call queue      tier    disp.            wait  handle       survey q1
//	c01  billing    gold    answered 1001    10 s  240+10=250 s 5 (q2 "yes": a label)
//	c02  billing    silver  answered 1002    30 s  120+10=130 s 3
//	c03  billing    -       abandoned_queue   3 s (short)
//	c04  billing    silver  abandoned_queue  60 s
//	c05  complaints gold    overflowed max_wait
//	c06  complaints gold    voicemail after overflow no_agents
//	c07  billing    silver  callback (after waiting)
//	c08  -          -       abandoned_ivr
//	c09  -          gold    completed                           4
//	c10  complaints gold    answered 1001    25 s  300+0 s      4
//
// Service-level thresholds: billing 20 s (default), complaints 30 s, so
// c01 and c10 are answered within it, c02 not.
func TestDay(t *testing.T) {
	rep := Compute(day(t), dayQuery())
	// Total: offered = the 8 with enqueued (not c08, c09); resolved =
	// answered 3 + abandoned 2 − short 1 + max_wait overflow 1 = 5;
	// SL 2/5; abandon rate (2−1)/5; ASA (10+30+25)/3 s; AHT (250+130+300)/3 s;
	// q1 (5+3+4+4)/4 = 4.
	check(t, "total", rep.Total, want{key: "total", calls: 10, offered: 8, answered: 3, inSL: 2, abandoned: 2, short: 1,
		overflowed: 2, cb: 1, vm: 1, ivr: 1, sl: 0.4, ar: 0.2, asa: 65 * time.Second / 3, aht: 680 * time.Second / 3,
		survey: map[string]float64{"q1": 4}, surveyN: map[string]int{"q1": 4}})

	// billing: c01 c02 c03 c04 c07; resolved 2+2−1 = 3; SL 1/3; abandon
	// rate 1/3; ASA (10+30)/2; AHT (250+130)/2; q1 (5+3)/2.
	// complaints: c05 c06 c10; resolved 1 answered + 1 max_wait = 2 (the
	// no_agents overflow is in neither); SL 1/2; ASA 25 s; AHT 300 s.
	if len(rep.ByQueue) != 2 {
		t.Fatalf("ByQueue = %+v", rep.ByQueue)
	}
	check(t, "queue", rep.ByQueue[0], want{key: "billing", calls: 5, offered: 5, answered: 2, inSL: 1, abandoned: 2, short: 1,
		cb: 1, sl: 1.0 / 3, ar: 1.0 / 3, asa: 20 * time.Second, aht: 190 * time.Second,
		survey: map[string]float64{"q1": 4}, surveyN: map[string]int{"q1": 2}})
	check(t, "queue", rep.ByQueue[1], want{key: "complaints", calls: 3, offered: 3, answered: 1, inSL: 1, overflowed: 2, vm: 1,
		sl: 0.5, ar: 0, asa: 25 * time.Second, aht: 300 * time.Second,
		survey: map[string]float64{"q1": 4}, surveyN: map[string]int{"q1": 1}})

	// default: c03 (short abandon: resolved 0, no SL) and c08.
	// gold: c01 c05 c06 c09 c10; offered 4 (not c09); resolved 2+1 = 3;
	// SL 2/3; ASA (10+25)/2; AHT (250+300)/2; q1 (5+4+4)/3.
	// silver: c02 c04 c07; resolved 1+1 = 2; SL 0/2; abandon rate 1/2.
	if len(rep.ByTier) != 3 {
		t.Fatalf("ByTier = %+v", rep.ByTier)
	}
	check(t, "tier", rep.ByTier[0], want{key: "default", calls: 2, offered: 1, abandoned: 1, short: 1, ivr: 1, sl: nan, ar: nan})
	check(t, "tier", rep.ByTier[1], want{key: "gold", calls: 5, offered: 4, answered: 2, inSL: 2, overflowed: 2, vm: 1,
		sl: 2.0 / 3, ar: 0, asa: 17500 * time.Millisecond, aht: 275 * time.Second,
		survey: map[string]float64{"q1": 13.0 / 3}, surveyN: map[string]int{"q1": 3}})
	check(t, "tier", rep.ByTier[2], want{key: "silver", calls: 3, offered: 3, answered: 1, abandoned: 1, cb: 1,
		sl: 0, ar: 0.5, asa: 30 * time.Second, aht: 130 * time.Second,
		survey: map[string]float64{"q1": 3}, surveyN: map[string]int{"q1": 1}})

	// Agents: their answered calls. 1001: c01 c10; 1002: c02.
	if len(rep.ByAgent) != 2 {
		t.Fatalf("ByAgent = %+v", rep.ByAgent)
	}
	check(t, "agent", rep.ByAgent[0], want{key: "1001", calls: 2, offered: 2, answered: 2, inSL: 2, sl: 1, ar: 0,
		asa: 17500 * time.Millisecond, aht: 275 * time.Second,
		survey: map[string]float64{"q1": 4.5}, surveyN: map[string]int{"q1": 2}})
	check(t, "agent", rep.ByAgent[1], want{key: "1002", calls: 1, offered: 1, answered: 1, sl: 0, ar: 0,
		asa: 30 * time.Second, aht: 130 * time.Second,
		survey: map[string]float64{"q1": 3}, surveyN: map[string]int{"q1": 1}})

	// Hours by enqueued, else start: 09:00 c01–c04 (as billing, with the
	// silver callback c07 gone to 10:00); 10:00 c05–c10.
	if len(rep.ByHour) != 2 {
		t.Fatalf("ByHour = %+v", rep.ByHour)
	}
	check(t, "hour", rep.ByHour[0], want{key: "2026-11-25 09:00", calls: 4, offered: 4, answered: 2, inSL: 1, abandoned: 2, short: 1,
		sl: 1.0 / 3, ar: 1.0 / 3, asa: 20 * time.Second, aht: 190 * time.Second,
		survey: map[string]float64{"q1": 4}, surveyN: map[string]int{"q1": 2}})
	check(t, "hour", rep.ByHour[1], want{key: "2026-11-25 10:00", calls: 6, offered: 4, answered: 1, inSL: 1, overflowed: 2, cb: 1, vm: 1, ivr: 1,
		sl: 0.5, ar: 0, asa: 25 * time.Second, aht: 300 * time.Second,
		survey: map[string]float64{"q1": 4}, surveyN: map[string]int{"q1": 2}})
}

func TestDefaultsAndLocation(t *testing.T) {
	// Without the complaints threshold, c10 (25 s) misses the default 20 s.
	q := dayQuery()
	q.ServiceLevel = nil
	rep := Compute(day(t), q)
	if rep.Total.AnsweredInSL != 1 || rep.Total.ServiceLevel != 0.2 {
		t.Errorf("default thresholds: in SL %d, SL %v; want 1, 0.2", rep.Total.AnsweredInSL, rep.Total.ServiceLevel)
	}
	// A 2-second short-abandon threshold makes c03 (3 s) a real abandon.
	q.ShortAbandon = 2 * time.Second
	if rep := Compute(day(t), q); rep.Total.ShortAbandons != 0 || rep.Total.AbandonRate != 2.0/6 {
		t.Errorf("short abandon 2s: %d short, abandon rate %v; want 0, 1/3", rep.Total.ShortAbandons, rep.Total.AbandonRate)
	}
	// In UTC the hours are 01:00 and 02:00.
	q.Location = time.UTC
	rep = Compute(day(t), q)
	if len(rep.ByHour) != 2 || rep.ByHour[0].Key != "2026-11-25 01:00" || rep.ByHour[1].Key != "2026-11-25 02:00" {
		t.Errorf("UTC hours: %v, %v", rep.ByHour[0].Key, rep.ByHour[1].Key)
	}
	// Open bounds: all twelve.
	if rep := Compute(day(t), Query{}); rep.Total.Calls != 12 {
		t.Errorf("open period: %d calls, want 12", rep.Total.Calls)
	}
	// No calls: no service level, no ASA.
	empty := Compute(nil, dayQuery())
	if !math.IsNaN(empty.Total.ServiceLevel) || empty.Total.ASA != 0 || len(empty.ByQueue) != 0 {
		t.Errorf("empty report: %+v", empty.Total)
	}
}

func TestReporter(t *testing.T) {
	var asked [2]time.Time
	rp := &Reporter{
		Read: func(_ context.Context, from, to time.Time) ([]callrecord.Record, error) {
			asked = [2]time.Time{from, to}
			return day(t), nil
		},
		Defaults: Query{Location: cst, ServiceLevel: map[string]time.Duration{"complaints": 30 * time.Second}},
	}
	q := dayQuery()
	q.Location, q.ServiceLevel = nil, nil
	rep, err := rp.Report(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if asked[0] != q.From || asked[1] != q.To || rep.Total.AnsweredInSL != 2 || rep.ByHour[0].Key != "2026-11-25 09:00" {
		t.Errorf("asked %v; total in SL %d; first hour %s", asked, rep.Total.AnsweredInSL, rep.ByHour[0].Key)
	}
}

func TestJSON(t *testing.T) {
	rep := Compute(day(t), dayQuery())
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, w := range []string{`"query":{"from":"2026-11-25T00:00:00+08:00"`, `"tz":"CST"`, `"service_level_s":{"complaints":30}`,
		`"key":"total","calls":10,"offered":8`, `"service_level":0.4`, `"asa_s":21.666666666`, `"survey":{"q1":4}`,
		`"key":"default"`, `"service_level":null`, `"asa_s":null`} {
		if !strings.Contains(s, w) {
			t.Errorf("JSON has no %s:\n%s", w, s)
		}
	}
}

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, Compute(day(t), dayQuery())); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, w := range []string{"Calls ended from 2026-11-25 00:00:00 to 2026-11-26 00:00:00 (CST)", "survey:q1", "40.0%", "21.7s", "226.7s", "4.00 (4)", "2026-11-25 10:00"} {
		if !strings.Contains(out, w) {
			t.Errorf("text has no %q:\n%s", w, out)
		}
	}
	// Columns line up: every line of the total table is as long as its header.
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "total") && strings.Contains(l, "calls") && (i+1 >= len(lines) || len(lines[i+1]) != len(l)) {
			t.Errorf("misaligned:\n%s\n%s", l, lines[i+1])
		}
	}
}

func TestWriteCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, Compute(day(t), dayQuery())); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// header, total, 2 queues, 3 tiers, 2 agents, 2 hours
	if len(rows) != 11 {
		t.Fatalf("%d CSV rows, want 11: %v", len(rows), rows)
	}
	head := strings.Join(rows[0], ",")
	if head != "group,key,calls,offered,answered,abandoned,short_abandons,overflowed,callbacks,voicemails,abandoned_ivr,answered_in_sl,service_level,abandon_rate,asa_s,aht_s,survey_q1,survey_q1_n" {
		t.Errorf("header %s", head)
	}
	if got := strings.Join(rows[1], ","); got != "total,total,10,8,3,2,1,2,1,1,1,2,0.4,0.2,21.666666666,226.666666666,4,4" {
		t.Errorf("total %s", got)
	}
	if got := strings.Join(rows[4], ","); got != "tier,default,2,1,0,1,1,0,0,0,1,0,,,,,," {
		t.Errorf("default tier %s", got)
	}
	if rows[9][0] != "hour" || rows[9][1] != "2026-11-25 09:00" {
		t.Errorf("first hour row %v", rows[9])
	}
}
