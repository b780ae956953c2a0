package report

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"kefu/routing/callrecord"
)

// Defaults.
const (
	DefaultServiceLevel = 20 * time.Second
	DefaultShortAbandon = 5 * time.Second
)

// Query is what to report on.
type Query struct {
	// From and To bound the period: records whose End is in [From, To).
	From, To time.Time
	// Location is the time zone hours are bucketed in. Default time.Local.
	Location *time.Location
	// ServiceLevel is each queue's answer-time threshold. Default 20 s for a
	// queue not in it.
	ServiceLevel map[string]time.Duration
	// ShortAbandon: abandons after a shorter wait are left out of the
	// service level. Default 5 s.
	ShortAbandon time.Duration
}

func (q Query) location() *time.Location {
	if q.Location == nil {
		return time.Local
	}
	return q.Location
}

func (q Query) threshold(queue string) time.Duration {
	if d, ok := q.ServiceLevel[queue]; ok && d > 0 {
		return d
	}
	return DefaultServiceLevel
}

func (q Query) shortAbandon() time.Duration {
	if q.ShortAbandon > 0 {
		return q.ShortAbandon
	}
	return DefaultShortAbandon
}

// MarshalJSON writes from, to, tz, service_level_s (per queue) and
// short_abandon_s.
func (q Query) MarshalJSON() ([]byte, error) {
	sl := map[string]float64{}
	for k, v := range q.ServiceLevel {
		sl[k] = v.Seconds()
	}
	return json.Marshal(struct {
		From          time.Time          `json:"from"`
		To            time.Time          `json:"to"`
		TZ            string             `json:"tz"`
		ServiceLevelS map[string]float64 `json:"service_level_s"`
		DefaultSLS    float64            `json:"default_service_level_s"`
		ShortAbandonS float64            `json:"short_abandon_s"`
	}{q.From, q.To, q.location().String(), sl, DefaultServiceLevel.Seconds(), q.shortAbandon().Seconds()})
}

// Report is the figures for a Query.
type Report struct {
	Query   Query `json:"query"`
	Total   Row   `json:"total"`
	ByQueue []Row `json:"by_queue"`
	ByTier  []Row `json:"by_tier"`
	ByAgent []Row `json:"by_agent"`
	ByHour  []Row `json:"by_hour"`
}

// Row is the figures of one group of calls (see the package doc for the
// definitions).
type Row struct {
	// Key names the group: "total", a queue, a tier, an agent, or an hour
	// ("2026-11-25 09:00").
	Key           string `json:"key"`
	Calls         int    `json:"calls"`
	Offered       int    `json:"offered"`
	Answered      int    `json:"answered"`
	AnsweredInSL  int    `json:"answered_in_sl"`
	Abandoned     int    `json:"abandoned"`
	ShortAbandons int    `json:"short_abandons"`
	Overflowed    int    `json:"overflowed"`
	Callbacks     int    `json:"callbacks"`
	Voicemails    int    `json:"voicemails"`
	AbandonedIVR  int    `json:"abandoned_ivr"`
	// ServiceLevel and AbandonRate are fractions, NaN when their
	// denominator is 0 (null in JSON).
	ServiceLevel float64 `json:"-"`
	AbandonRate  float64 `json:"-"`
	// ASA and AHT are 0 when nothing was answered (null in JSON).
	ASA time.Duration `json:"-"`
	AHT time.Duration `json:"-"`
	// Survey is the mean numeric answer per question; SurveyCount how many
	// numeric answers each mean is over.
	Survey      map[string]float64 `json:"survey,omitempty"`
	SurveyCount map[string]int     `json:"survey_count,omitempty"`

	resolved   int           // the service level's denominator
	waitSum    time.Duration // Σ Answered − Enqueued
	handleSum  time.Duration // Σ handle time
	surveySums map[string]float64
}

// MarshalJSON adds service_level, abandon_rate, asa_s and aht_s, null when
// there is no value.
func (r Row) MarshalJSON() ([]byte, error) {
	type plain Row
	num := func(f float64) *float64 {
		if math.IsNaN(f) {
			return nil
		}
		return &f
	}
	var asa, aht *float64
	if r.Answered > 0 {
		asa, aht = num(r.ASA.Seconds()), num(r.AHT.Seconds())
	}
	return json.Marshal(struct {
		plain
		ServiceLevel *float64 `json:"service_level"`
		AbandonRate  *float64 `json:"abandon_rate"`
		ASAS         *float64 `json:"asa_s"`
		AHTS         *float64 `json:"aht_s"`
	}{plain(r), num(r.ServiceLevel), num(r.AbandonRate), asa, aht})
}

// Compute returns the figures of the records whose End is in [q.From,
// q.To) (a zero bound is open).
func Compute(records []callrecord.Record, q Query) Report {
	rep := Report{Query: q, Total: Row{Key: "total"}}
	queues, tiers, agents := map[string]*Row{}, map[string]*Row{}, map[string]*Row{}
	hours := map[time.Time]*Row{}
	group := func(m map[string]*Row, key string) *Row {
		r := m[key]
		if r == nil {
			r = &Row{Key: key}
			m[key] = r
		}
		return r
	}
	loc := q.location()
	for i := range records {
		rec := &records[i]
		if !rec.In(q.From, q.To) {
			continue
		}
		rep.Total.add(rec, q)
		if rec.Queue != "" {
			group(queues, rec.Queue).add(rec, q)
		}
		tier := rec.Tier
		if tier == "" {
			tier = "default"
		}
		group(tiers, tier).add(rec, q)
		if rec.Disposition == callrecord.Answered && rec.Agent != "" {
			group(agents, rec.Agent).add(rec, q)
		}
		at := rec.Enqueued
		if at.IsZero() {
			at = rec.Start
		}
		at = at.In(loc)
		hour := time.Date(at.Year(), at.Month(), at.Day(), at.Hour(), 0, 0, 0, loc)
		h := hours[hour]
		if h == nil {
			h = &Row{Key: hour.Format("2006-01-02 15:04")}
			hours[hour] = h
		}
		h.add(rec, q)
	}
	rep.Total.finish()
	sorted := func(m map[string]*Row) []Row {
		out := make([]Row, 0, len(m))
		for _, k := range slices.Sorted(maps.Keys(m)) {
			m[k].finish()
			out = append(out, *m[k])
		}
		return out
	}
	rep.ByQueue, rep.ByTier, rep.ByAgent = sorted(queues), sorted(tiers), sorted(agents)
	rep.ByHour = make([]Row, 0, len(hours))
	for _, k := range slices.SortedFunc(maps.Keys(hours), func(a, b time.Time) int { return a.Compare(b) }) {
		hours[k].finish()
		rep.ByHour = append(rep.ByHour, *hours[k])
	}
	return rep
}

// add counts one record in the row.
func (r *Row) add(rec *callrecord.Record, q Query) {
	r.Calls++
	queued := !rec.Enqueued.IsZero()
	if queued || (rec.Disposition == callrecord.Callback && rec.Queue != "") {
		r.Offered++
	}
	if rec.OverflowReason != "" {
		r.Overflowed++
		if rec.OverflowReason == callrecord.OverflowMaxWait && queued {
			r.resolved++
		}
	}
	switch rec.Disposition {
	case callrecord.Answered:
		wait := rec.Answered.Sub(rec.Enqueued).Truncate(time.Millisecond)
		r.Answered++
		r.resolved++
		r.waitSum += wait
		if wait <= q.threshold(rec.Queue) {
			r.AnsweredInSL++
		}
		end := rec.AgentEnd
		if end.IsZero() {
			end = rec.End
		}
		r.handleSum += end.Sub(rec.Answered) + rec.WrapUp
	case callrecord.AbandonedQueue:
		r.Abandoned++
		r.resolved++
		if rec.End.Sub(rec.Enqueued).Truncate(time.Millisecond) < q.shortAbandon() {
			r.ShortAbandons++
			r.resolved--
		}
	case callrecord.Callback:
		r.Callbacks++
	case callrecord.Voicemail:
		r.Voicemails++
	case callrecord.AbandonedIVR:
		r.AbandonedIVR++
	}
	for question, answer := range rec.Survey {
		v, err := strconv.ParseFloat(answer, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if r.surveySums == nil {
			r.surveySums, r.SurveyCount = map[string]float64{}, map[string]int{}
		}
		r.surveySums[question] += v
		r.SurveyCount[question]++
	}
}

// finish computes the ratios and means.
func (r *Row) finish() {
	r.ServiceLevel, r.AbandonRate = math.NaN(), math.NaN()
	if r.resolved > 0 {
		r.ServiceLevel = float64(r.AnsweredInSL) / float64(r.resolved)
		r.AbandonRate = float64(r.Abandoned-r.ShortAbandons) / float64(r.resolved)
	}
	if r.Answered > 0 {
		r.ASA = r.waitSum / time.Duration(r.Answered)
		r.AHT = r.handleSum / time.Duration(r.Answered)
	}
	if len(r.surveySums) > 0 {
		r.Survey = map[string]float64{}
		for k, sum := range r.surveySums {
			r.Survey[k] = sum / float64(r.SurveyCount[k])
		}
	}
}

// Reader reads the records whose End is in [from, to) (a zero bound is
// open).
type Reader func(ctx context.Context, from, to time.Time) ([]callrecord.Record, error)

// Reporter answers queries over the records a Reader reads, filling what a
// Query leaves zero (Location, ServiceLevel, ShortAbandon) from Defaults.
// It is what GET /api/reports serves.
type Reporter struct {
	Read     Reader
	Defaults Query
}

// Report reads the records of q's period and computes their figures.
func (rp *Reporter) Report(ctx context.Context, q Query) (Report, error) {
	q.Location = cmp.Or(q.Location, rp.Defaults.Location)
	if q.ServiceLevel == nil {
		q.ServiceLevel = rp.Defaults.ServiceLevel
	}
	q.ShortAbandon = cmp.Or(q.ShortAbandon, rp.Defaults.ShortAbandon)
	recs, err := rp.Read(ctx, q.From, q.To)
	if err != nil {
		return Report{}, err
	}
	return Compute(recs, q), nil
}
