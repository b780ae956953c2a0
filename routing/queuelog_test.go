package routing_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kefu/routing"
)

// recordingLog is an EventLog keeping every event in memory, in order.
type recordingLog struct {
	mu     sync.Mutex
	events []routing.QueueEvent
}

func (l *recordingLog) Append(_ context.Context, e routing.QueueEvent) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
	return nil
}

func (l *recordingLog) take() []routing.QueueEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	return out
}

// logWorld is a router on memstore with a manual clock and a recording log.
type logWorld struct {
	t     *testing.T
	r     *routing.Router
	clock *manualClock
	log   *recordingLog
	start time.Time
}

func (w *logWorld) at(d time.Duration) time.Time { return w.start.Add(d) }

func (w *logWorld) state(agent string, s routing.AgentState, reason string) {
	w.t.Helper()
	must(w.t, w.r.SetAgentState(w.t.Context(), agent, s, reason))
}

// TestEventLog walks the router through each kind of queue event and checks
// the exact events logged, times and fields included.
func TestEventLog(t *testing.T) {
	const caller = "+4930123456"
	tests := []struct {
		name string
		// run drives the router and returns the events it expects.
		run func(w *logWorld) []routing.QueueEvent
	}{
		{"no answer, offered again, answered, finished", func(w *logWorld) []routing.QueueEvent {
			ctx := w.t.Context()
			w.state("1001", routing.AgentReady, "")
			w.state("1002", routing.AgentReady, "")
			tk := enqueue(w.t, w.r, routing.CallRequest{CallID: "c1", Queue: "billing", Tier: "vip", Caller: caller})
			first := offerTo(w.t, tk, "1001")
			w.clock.Add(15 * time.Second)
			must(w.t, w.r.NoAnswer(ctx, first, ""))
			second := offerTo(w.t, tk, "1002")
			w.clock.Add(3 * time.Second)
			must(w.t, w.r.Answered(ctx, second))
			w.clock.Add(time.Minute)
			must(w.t, w.r.Finished(ctx, second))
			if first.Token == 0 || second.Token <= first.Token {
				w.t.Fatalf("tokens %d then %d, want increasing", first.Token, second.Token)
			}
			return []routing.QueueEvent{
				{Time: w.at(0), Event: "ADDMEMBER", Agent: "1001"},
				{Time: w.at(0), Event: "ADDMEMBER", Agent: "1002"},
				{Time: w.at(0), Event: "ENTERQUEUE", CallID: "c1", Queue: "billing", Tier: "vip", Caller: caller},
				{Time: w.at(0), Event: "AGENTCALLED", CallID: "c1", Queue: "billing", Agent: "1001", Token: first.Token},
				{Time: w.at(15 * time.Second), Event: "RINGNOANSWER", CallID: "c1", Queue: "billing", Agent: "1001", Token: first.Token, Reason: "no_answer"},
				{Time: w.at(15 * time.Second), Event: "AGENTCALLED", CallID: "c1", Queue: "billing", Agent: "1002", Token: second.Token},
				{Time: w.at(18 * time.Second), Event: "CONNECT", CallID: "c1", Queue: "billing", Agent: "1002", Tier: "vip", Caller: caller, WaitMS: 18000, Token: second.Token},
				{Time: w.at(78 * time.Second), Event: "COMPLETE", CallID: "c1", Queue: "billing", Agent: "1002", Tier: "vip", Caller: caller, WaitMS: 18000, TalkMS: 60000, Token: second.Token},
			}
		}},
		{"caller abandons while queued", func(w *logWorld) []routing.QueueEvent {
			w.state("1001", routing.AgentNotReady, "lunch")
			enqueue(w.t, w.r, routing.CallRequest{CallID: "c2", Queue: "complaints", Caller: caller})
			w.clock.Add(12500 * time.Millisecond)
			must(w.t, w.r.Leave(w.t.Context(), "c2"))
			return []routing.QueueEvent{
				{Time: w.at(0), Event: "ADDMEMBER", Agent: "1001"},
				{Time: w.at(0), Event: "PAUSE", Agent: "1001", Reason: "lunch"},
				{Time: w.at(0), Event: "ENTERQUEUE", CallID: "c2", Queue: "complaints", Tier: "default", Caller: caller},
				{Time: w.at(12500 * time.Millisecond), Event: "ABANDON", CallID: "c2", Queue: "complaints", Tier: "default", Caller: caller, WaitMS: 12500},
			}
		}},
		{"caller hangs up while talking, then wrap-up", func(w *logWorld) []routing.QueueEvent {
			ctx := w.t.Context()
			w.state("1001", routing.AgentReady, "")
			tk := enqueue(w.t, w.r, routing.CallRequest{CallID: "c3", Queue: "complaints", Caller: caller})
			o := offerTo(w.t, tk, "1001")
			w.clock.Add(4 * time.Second)
			must(w.t, w.r.Answered(ctx, o))
			w.clock.Add(time.Minute)
			must(w.t, w.r.Leave(ctx, "c3"))
			return []routing.QueueEvent{
				{Time: w.at(0), Event: "ADDMEMBER", Agent: "1001"},
				{Time: w.at(0), Event: "ENTERQUEUE", CallID: "c3", Queue: "complaints", Tier: "default", Caller: caller},
				{Time: w.at(0), Event: "AGENTCALLED", CallID: "c3", Queue: "complaints", Agent: "1001", Token: o.Token},
				{Time: w.at(4 * time.Second), Event: "CONNECT", CallID: "c3", Queue: "complaints", Agent: "1001", Tier: "default", Caller: caller, WaitMS: 4000, Token: o.Token},
				{Time: w.at(64 * time.Second), Event: "COMPLETECALLER", CallID: "c3", Queue: "complaints", Agent: "1001", Tier: "default", Caller: caller, WaitMS: 4000, TalkMS: 60000, Token: o.Token},
				{Time: w.at(64 * time.Second), Event: "WRAPUP", CallID: "c3", Queue: "complaints", Agent: "1001"},
			}
		}},
		{"finished with wrap-up", func(w *logWorld) []routing.QueueEvent {
			ctx := w.t.Context()
			w.state("1001", routing.AgentReady, "")
			tk := enqueue(w.t, w.r, routing.CallRequest{CallID: "c4", Queue: "complaints"})
			o := offerTo(w.t, tk, "1001")
			must(w.t, w.r.Answered(ctx, o))
			w.clock.Add(time.Minute)
			must(w.t, w.r.Finished(ctx, o))
			return []routing.QueueEvent{
				{Time: w.at(0), Event: "ADDMEMBER", Agent: "1001"},
				{Time: w.at(0), Event: "ENTERQUEUE", CallID: "c4", Queue: "complaints", Tier: "default"},
				{Time: w.at(0), Event: "AGENTCALLED", CallID: "c4", Queue: "complaints", Agent: "1001", Token: o.Token},
				{Time: w.at(0), Event: "CONNECT", CallID: "c4", Queue: "complaints", Agent: "1001", Tier: "default", Token: o.Token},
				{Time: w.at(time.Minute), Event: "COMPLETE", CallID: "c4", Queue: "complaints", Agent: "1001", Tier: "default", TalkMS: 60000, Token: o.Token},
				{Time: w.at(time.Minute), Event: "WRAPUP", CallID: "c4", Queue: "complaints", Agent: "1001"},
			}
		}},
		{"max wait overflows", func(w *logWorld) []routing.QueueEvent {
			w.state("1001", routing.AgentNotReady, "lunch")
			tk := enqueue(w.t, w.r, routing.CallRequest{CallID: "c5", Queue: "complaints", Tier: "four_star", Caller: caller})
			w.clock.Add(time.Minute)
			must(w.t, w.r.Tick(w.t.Context()))
			if e := event(w.t, tk); e.Kind != routing.EventOverflow {
				w.t.Fatalf("event %+v, want overflow", e)
			}
			return []routing.QueueEvent{
				{Time: w.at(0), Event: "ADDMEMBER", Agent: "1001"},
				{Time: w.at(0), Event: "PAUSE", Agent: "1001", Reason: "lunch"},
				{Time: w.at(0), Event: "ENTERQUEUE", CallID: "c5", Queue: "complaints", Tier: "four_star", Caller: caller},
				{Time: w.at(time.Minute), Event: "EXITWITHTIMEOUT", CallID: "c5", Queue: "complaints", Tier: "four_star", Caller: caller, WaitMS: 60000},
			}
		}},
		{"no agent logged in", func(w *logWorld) []routing.QueueEvent {
			_, err := w.r.Enqueue(w.t.Context(), routing.CallRequest{CallID: "c6", Queue: "billing", Caller: caller})
			if !errors.Is(err, routing.ErrNoAgents) {
				w.t.Fatalf("Enqueue with nobody logged in: %v, want ErrNoAgents", err)
			}
			return []routing.QueueEvent{
				{Time: w.at(0), Event: "EXITEMPTY", CallID: "c6", Queue: "billing", Tier: "default", Caller: caller},
			}
		}},
		{"callback requests", func(w *logWorld) []routing.QueueEvent {
			w.state("1001", routing.AgentNotReady, "lunch")
			enqueue(w.t, w.r, routing.CallRequest{CallID: "c7", Queue: "billing", Callback: "+4930777"})
			enqueue(w.t, w.r, routing.CallRequest{CallID: "c8", Queue: "billing", Caller: caller})
			w.clock.Add(30 * time.Second)
			must(w.t, w.r.Callback(w.t.Context(), "c8", caller))
			return []routing.QueueEvent{
				{Time: w.at(0), Event: "ADDMEMBER", Agent: "1001"},
				{Time: w.at(0), Event: "PAUSE", Agent: "1001", Reason: "lunch"},
				{Time: w.at(0), Event: "CALLBACK", CallID: "c7", Queue: "billing", Tier: "default", Caller: "+4930777"},
				{Time: w.at(0), Event: "ENTERQUEUE", CallID: "c8", Queue: "billing", Tier: "default", Caller: caller},
				{Time: w.at(30 * time.Second), Event: "CALLBACK", CallID: "c8", Queue: "billing", Tier: "default", Caller: caller, WaitMS: 30000},
			}
		}},
		{"agent login, pause, unpause, logout", func(w *logWorld) []routing.QueueEvent {
			w.state("1001", routing.AgentReady, "")
			w.state("1001", routing.AgentReady, "") // no change
			w.clock.Add(time.Second)
			w.state("1001", routing.AgentNotReady, "break")
			w.state("1001", routing.AgentNotReady, "training") // new reason
			w.state("1001", routing.AgentNotReady, "training") // no change
			w.clock.Add(time.Second)
			w.state("1001", routing.AgentReady, "")
			w.clock.Add(time.Second)
			w.state("1001", routing.AgentLoggedOut, "")
			w.state("1001", routing.AgentLoggedOut, "") // no change
			return []routing.QueueEvent{
				{Time: w.at(0), Event: "ADDMEMBER", Agent: "1001"},
				{Time: w.at(time.Second), Event: "PAUSE", Agent: "1001", Reason: "break"},
				{Time: w.at(time.Second), Event: "PAUSE", Agent: "1001", Reason: "training"},
				{Time: w.at(2 * time.Second), Event: "UNPAUSE", Agent: "1001"},
				{Time: w.at(3 * time.Second), Event: "REMOVEMEMBER", Agent: "1001"},
			}
		}},
		{"logout while talking is logged when it happens, not before", func(w *logWorld) []routing.QueueEvent {
			ctx := w.t.Context()
			w.state("1001", routing.AgentReady, "")
			tk := enqueue(w.t, w.r, routing.CallRequest{CallID: "c9", Queue: "billing"})
			o := offerTo(w.t, tk, "1001")
			must(w.t, w.r.Answered(ctx, o))
			w.state("1001", routing.AgentLoggedOut, "") // pending: no event
			return []routing.QueueEvent{
				{Time: w.at(0), Event: "ADDMEMBER", Agent: "1001"},
				{Time: w.at(0), Event: "ENTERQUEUE", CallID: "c9", Queue: "billing", Tier: "default"},
				{Time: w.at(0), Event: "AGENTCALLED", CallID: "c9", Queue: "billing", Agent: "1001", Token: o.Token},
				{Time: w.at(0), Event: "CONNECT", CallID: "c9", Queue: "billing", Agent: "1001", Tier: "default", Token: o.Token},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
			w := &logWorld{t: t, clock: &manualClock{t: start}, log: &recordingLog{}, start: start}
			cfg := testConfig()
			cfg.Now, cfg.Events = w.clock.Now, w.log
			w.r = newRouter(t, cfg)
			want := tt.run(w)
			got := w.log.take()
			if !slices.Equal(got, want) {
				t.Errorf("events:\n%s\nwant:\n%s", eventLines(got), eventLines(want))
			}
		})
	}
}

func eventLines(es []routing.QueueEvent) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "  %v\n", e.Fields())
	}
	return b.String()
}

// failingLog refuses every event.
type failingLog struct{ n int }

func (l *failingLog) Append(context.Context, routing.QueueEvent) error {
	l.n++
	return errors.New("disk full")
}

// TestEventLogFailureDoesNotDropCalls: every Append fails, and the call is
// still queued, offered, answered and finished, with a warning per event.
func TestEventLogFailureDoesNotDropCalls(t *testing.T) {
	var logs strings.Builder
	var mu sync.Mutex
	cfg := testConfig()
	fl := &failingLog{}
	cfg.Events = fl
	cfg.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	r := newRouter(t, cfg)
	ctx := t.Context()
	must(t, r.SetAgentState(ctx, "1001", routing.AgentReady, ""))
	tk := enqueue(t, r, routing.CallRequest{CallID: "c1", Queue: "billing"})
	o := offerTo(t, tk, "1001")
	must(t, r.Answered(ctx, o))
	must(t, r.Finished(ctx, o))
	closed(t, tk)
	mu.Lock()
	defer mu.Unlock()
	warnings := strings.Count(logs.String(), "event log append failed")
	if fl.n != 5 || warnings != 5 { // ADDMEMBER ENTERQUEUE AGENTCALLED CONNECT COMPLETE
		t.Errorf("%d appends tried, %d warnings; want 5 and 5:\n%s", fl.n, warnings, logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
