package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"kefu/cmd/kefu/internal/api"
	"kefu/cmd/kefu/internal/config"
	"kefu/cmd/kefu/internal/web"
	"kefu/routing"
	"kefu/routing/callrecord"
	"kefu/routing/directory"
	"kefu/routing/report"
	"kefu/routing/stats"
)

// agentLogins checks agents' web logins against their SIP passwords.
type agentLogins map[string]config.Agent

func newAgentLogins(agents []config.Agent) agentLogins {
	m := agentLogins{}
	for _, a := range agents {
		m[a.ID] = a
	}
	return m
}

// CheckPassword implements web.AgentDirectory, in constant time (over
// hashes, so the length does not show either).
func (l agentLogins) CheckPassword(agentID, password string) bool {
	a, ok := l[agentID]
	want := sha256.Sum256([]byte(a.Password))
	got := sha256.Sum256([]byte(password))
	return subtle.ConstantTimeCompare(want[:], got[:]) == 1 && ok && a.Password != ""
}

// Name implements web.AgentDirectory.
func (l agentLogins) Name(agentID string) string { return l[agentID].Name }

// live is the data of the agent desktop and the wallboard (web.Live).
type live struct {
	router  *routing.Router
	figures *stats.Stats
	trails  *trails
	callers *callers
	reports *report.Reporter

	mu      sync.Mutex
	dayAt   time.Time // when day was computed
	day     report.Report
	byTier  map[string]report.Report
	dayFrom time.Time
}

// dayCache is how long the day's figures are reused across the pages'
// polls.
const dayCache = 3 * time.Second

func (l *live) Agents(ctx context.Context) ([]routing.AgentStatus, error) {
	return l.router.Agents(ctx)
}
func (l *live) Calls(ctx context.Context) ([]routing.CallStatus, error) { return l.router.Calls(ctx) }

func (l *live) Figures(ctx context.Context) (api.FiguresResponse, error) {
	return api.BuildFigures(ctx, l.router, l.figures)
}

// ScreenPop implements web.Live: the agent's current call with what the
// directory, the IVR and the router know of it.
func (l *live) ScreenPop(ctx context.Context, agentID string) (*web.Pop, error) {
	agents, err := l.router.Agents(ctx)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(agents, func(a routing.AgentStatus) bool { return a.ID == agentID })
	if i < 0 || agents[i].CallID == "" {
		return nil, nil
	}
	ag := agents[i]
	pop := &web.Pop{CallID: ag.CallID, Queue: ag.Queue, State: string(ag.State), Path: []web.PopStep{}, Timeline: []web.TimelineEntry{}}
	switch ag.State {
	case routing.AgentOffered:
		pop.State = "offered"
	case routing.AgentTalking:
		pop.State = "talking"
	case routing.AgentWrapUp:
		pop.State = "wrap_up"
	}
	calls, err := l.router.Calls(ctx)
	if err != nil {
		return nil, err
	}
	if j := slices.IndexFunc(calls, func(c routing.CallStatus) bool { return c.CallID == ag.CallID }); j >= 0 {
		c := calls[j]
		pop.Caller, pop.Tier, pop.WaitedSeconds = c.Caller, c.Tier, c.WaitSeconds
		if pop.Queue == "" {
			pop.Queue = c.Queue
		}
	}
	if tr, ok := l.trails.get(ag.CallID); ok {
		for _, s := range tr.Steps {
			pop.Path = append(pop.Path, web.PopStep{Node: s.Node, Exit: s.Exit, Digits: s.Digits})
		}
		for _, e := range tr.Timeline {
			pop.Timeline = append(pop.Timeline, web.TimelineEntry{At: e.At, What: e.What})
		}
		if pop.Tier == "" {
			pop.Tier = tr.Tier
		}
	}
	if pop.Caller != "" {
		who, err := l.callers.svc.Caller(ctx, pop.Caller)
		if err == nil {
			if pop.Tier == "" {
				pop.Tier = who.Tier
			}
			if cu := who.Customer; cu != nil {
				pop.Stars, pop.Brand, pop.VIP, pop.AccountManager, pop.Extra = cu.Stars, cu.Brand, cu.VIP, cu.AccountManager, cu.Extra
			}
			if last := who.Last; last != nil {
				pop.Repeat = who.Repeat
				pop.LastContact = describeContact(*last, time.Now())
			}
		}
	}
	return pop, nil
}

// describeContact says a last contact in a few words: "3 h ago, billing,
// answered by 1002".
func describeContact(c directory.Contact, now time.Time) string {
	ago := now.Sub(c.At)
	var when string
	switch {
	case ago < time.Hour:
		when = fmt.Sprintf("%d min ago", int(ago.Minutes()))
	case ago < 48*time.Hour:
		when = fmt.Sprintf("%d h ago", int(ago.Hours()))
	default:
		when = fmt.Sprintf("%d days ago", int(ago.Hours()/24))
	}
	parts := []string{when}
	if c.Queue != "" {
		parts = append(parts, c.Queue)
	}
	outcome := c.Outcome
	if c.Agent != "" {
		outcome += " by " + c.Agent
	}
	return strings.Join(append(parts, outcome), ", ")
}

// today returns today's report and one per tier, computed at most every
// dayCache.
func (l *live) today(ctx context.Context) (report.Report, map[string]report.Report, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.dayAt) < dayCache {
		return l.day, l.byTier, nil
	}
	from, to := report.Today(now, nil)
	recs, err := l.reports.Read(ctx, from, to)
	if err != nil {
		return report.Report{}, nil, err
	}
	q := l.reports.Defaults
	q.From, q.To = from, to
	l.day = report.Compute(recs, q)
	tiers := map[string][]callrecord.Record{}
	for _, r := range recs {
		tiers[r.Tier] = append(tiers[r.Tier], r)
	}
	l.byTier = map[string]report.Report{}
	for t, rs := range tiers {
		if t == "" {
			t = "default"
		}
		l.byTier[t] = report.Compute(rs, q)
	}
	l.dayAt, l.dayFrom = now, from
	return l.day, l.byTier, nil
}

// AgentDay implements web.Live from today's call records.
func (l *live) AgentDay(ctx context.Context, agentID string) (web.DayFigures, error) {
	day, _, err := l.today(ctx)
	if err != nil {
		return web.DayFigures{}, err
	}
	for _, row := range day.ByAgent {
		if row.Key == agentID {
			return web.DayFigures{Answered: row.Answered, ASASeconds: row.ASA.Seconds(), AHTSeconds: row.AHT.Seconds(), Survey: row.Survey}, nil
		}
	}
	return web.DayFigures{}, nil
}

// TierChart implements web.Live: today's service level per tier per hour,
// from the call records.
func (l *live) TierChart(ctx context.Context) (web.Chart, error) {
	_, tiers, err := l.today(ctx)
	if err != nil {
		return web.Chart{}, err
	}
	l.mu.Lock()
	from := l.dayFrom
	l.mu.Unlock()
	hours := time.Now().Hour() + 1
	ch := web.Chart{Series: map[string][]float64{}}
	for h := range hours {
		ch.Hours = append(ch.Hours, fmt.Sprintf("%02d:00", h))
	}
	for t, rep := range tiers {
		series := make([]float64, hours)
		for i := range series {
			series[i] = math.NaN()
		}
		for _, row := range rep.ByHour {
			at, err := time.ParseInLocation("2006-01-02 15:04", row.Key, from.Location())
			if err != nil {
				continue
			}
			if h := int(at.Sub(from).Hours()); h >= 0 && h < hours {
				series[h] = row.ServiceLevel
			}
		}
		ch.Series[t] = series
	}
	return ch, nil
}
