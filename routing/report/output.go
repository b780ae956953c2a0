package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// questions returns every survey question of the report, sorted.
func (rep Report) questions() []string {
	set := map[string]bool{}
	for _, r := range rep.rows() {
		for q := range r.row.Survey {
			set[q] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

type groupRow struct {
	group string
	row   Row
}

// rows returns every row with its group: total, queue, tier, agent, hour.
func (rep Report) rows() []groupRow {
	out := []groupRow{{"total", rep.Total}}
	for _, g := range []struct {
		name string
		rows []Row
	}{{"queue", rep.ByQueue}, {"tier", rep.ByTier}, {"agent", rep.ByAgent}, {"hour", rep.ByHour}} {
		for _, r := range g.rows {
			out = append(out, groupRow{g.name, r})
		}
	}
	return out
}

var counts = []struct {
	name string
	get  func(Row) int
}{
	{"calls", func(r Row) int { return r.Calls }},
	{"offered", func(r Row) int { return r.Offered }},
	{"answered", func(r Row) int { return r.Answered }},
	{"abandoned", func(r Row) int { return r.Abandoned }},
	{"short_abandons", func(r Row) int { return r.ShortAbandons }},
	{"overflowed", func(r Row) int { return r.Overflowed }},
	{"callbacks", func(r Row) int { return r.Callbacks }},
	{"voicemails", func(r Row) int { return r.Voicemails }},
	{"abandoned_ivr", func(r Row) int { return r.AbandonedIVR }},
}

// WriteText writes the report as aligned tables: the period, then one table
// per group (total, queue, tier, agent, hour). Missing values are "-".
func WriteText(w io.Writer, rep Report) error {
	q := rep.Query
	loc := q.location()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "Calls ended from %s to %s (%s)\n", fmtTime(q.From, loc), fmtTime(q.To, loc), loc)
	questions := rep.questions()
	header := []string{"", "calls", "offered", "answered", "abandoned", "short", "overflow", "callback", "voicemail", "ivr_abandon", "SL", "abandon%", "ASA", "AHT"}
	for _, qn := range questions {
		header = append(header, "survey:"+qn)
	}
	sections := []struct {
		title string
		rows  []Row
	}{{"total", []Row{rep.Total}}, {"queue", rep.ByQueue}, {"tier", rep.ByTier}, {"agent", rep.ByAgent}, {"hour", rep.ByHour}}
	for _, s := range sections {
		if len(s.rows) == 0 {
			continue
		}
		fmt.Fprintln(tw)
		width := len(s.title) // keys are left-aligned, the figures right-aligned
		for _, r := range s.rows {
			width = max(width, len(r.Key))
		}
		header[0] = fmt.Sprintf("%-*s", width, s.title)
		fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
		for _, r := range s.rows {
			cells := []string{fmt.Sprintf("%-*s", width, r.Key)}
			for _, c := range counts {
				cells = append(cells, strconv.Itoa(c.get(r)))
			}
			cells = append(cells, percent(r.ServiceLevel), percent(r.AbandonRate), seconds(r, r.ASA), seconds(r, r.AHT))
			for _, qn := range questions {
				if n := r.SurveyCount[qn]; n > 0 {
					cells = append(cells, fmt.Sprintf("%.2f (%d)", r.Survey[qn], n))
				} else {
					cells = append(cells, "-")
				}
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
		}
	}
	return tw.Flush()
}

func fmtTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("2006-01-02 15:04:05")
}

func percent(f float64) string {
	if math.IsNaN(f) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", f*100)
}

func seconds(r Row, d time.Duration) string {
	if r.Answered == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// WriteCSV writes the report as one CSV table with a header line and a
// "group" column (total, queue, tier, agent, hour) before the key.
// service_level and abandon_rate are fractions, asa_s and aht_s seconds;
// a missing value is empty. Each survey question has a mean column
// survey_<id> and a count column survey_<id>_n.
func WriteCSV(w io.Writer, rep Report) error {
	cw := csv.NewWriter(w)
	questions := rep.questions()
	header := []string{"group", "key"}
	for _, c := range counts {
		header = append(header, c.name)
	}
	header = append(header, "answered_in_sl", "service_level", "abandon_rate", "asa_s", "aht_s")
	for _, qn := range questions {
		header = append(header, "survey_"+qn, "survey_"+qn+"_n")
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	num := func(f float64) string {
		if math.IsNaN(f) {
			return ""
		}
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	for _, gr := range rep.rows() {
		r := gr.row
		rec := []string{gr.group, r.Key}
		for _, c := range counts {
			rec = append(rec, strconv.Itoa(c.get(r)))
		}
		asa, aht := math.NaN(), math.NaN()
		if r.Answered > 0 {
			asa, aht = r.ASA.Seconds(), r.AHT.Seconds()
		}
		rec = append(rec, strconv.Itoa(r.AnsweredInSL), num(r.ServiceLevel), num(r.AbandonRate), num(asa), num(aht))
		for _, qn := range questions {
			if n := r.SurveyCount[qn]; n > 0 {
				rec = append(rec, num(r.Survey[qn]), strconv.Itoa(n))
			} else {
				rec = append(rec, "", "")
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
