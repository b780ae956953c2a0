package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"kefu/cmd/kefu/internal/config"
	"kefu/ivr"
	"kefu/routing"
	"kefu/routing/callrecord"
	"kefu/routing/directory"
	"kefu/routing/redisstore"
	"kefu/routing/report"
)

// recorder writes one call record per call when its flow ends, and keeps
// today's records at hand for the agents' and the wallboard's figures.
type recorder struct {
	w      callrecord.Writer
	node   string
	queues map[string]config.Queue
	log    *slog.Logger
	now    func() time.Time

	// running counts flows that may still write a record; Close waits
	// for them.
	running sync.WaitGroup

	mu    sync.Mutex
	day   time.Time // the start of the day held in today
	today []callrecord.Record
	// read is the durable store's reader (the file or the stream).
	read func(ctx context.Context, from, to time.Time) ([]callrecord.Record, error)
}

func newRecorder(w callrecord.Writer, read func(ctx context.Context, from, to time.Time) ([]callrecord.Record, error),
	node string, queues []config.Queue, log *slog.Logger) *recorder {
	r := &recorder{w: w, read: read, node: node, queues: map[string]config.Queue{}, log: log, now: time.Now}
	for _, q := range queues {
		r.queues[q.Name] = q
	}
	return r
}

// loadToday reads today's records written before this start.
func (r *recorder) loadToday(ctx context.Context) error {
	day, next := report.Today(r.now(), nil)
	recs, err := r.read(ctx, day, next)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.day, r.today = day, recs
	r.mu.Unlock()
	return nil
}

// Read implements report.Reader: today's records from memory, anything
// else from the durable store.
func (r *recorder) Read(ctx context.Context, from, to time.Time) ([]callrecord.Record, error) {
	r.mu.Lock()
	day := r.day
	if !day.IsZero() && !from.Before(day) && !to.IsZero() && !to.After(day.AddDate(0, 0, 1)) {
		var out []callrecord.Record
		for _, rec := range r.today {
			if rec.In(from, to) {
				out = append(out, rec)
			}
		}
		r.mu.Unlock()
		return out, nil
	}
	r.mu.Unlock()
	return r.read(ctx, from, to)
}

// begin notes that a flow started; the record it writes is waited for.
func (r *recorder) begin() { r.running.Add(1) }

// finish writes the record of a call whose flow ended.
func (r *recorder) finish(ctx context.Context, call ivr.Call, res *ivr.Result, tr trail, who directory.Caller) {
	defer r.running.Done()
	rec := r.build(call, res, tr, who)
	if err := rec.Validate(); err != nil {
		r.log.Error("call record incomplete: written anyway without the queue times it lacks", "call", rec.CallID, "err", err)
		rec = degrade(rec)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.w.Write(ctx, rec); err != nil {
		r.log.Error("call record not written", "call", rec.CallID, "err", err)
		return
	}
	r.mu.Lock()
	if day, _ := report.Today(rec.End, nil); day.Equal(r.day) {
		r.today = append(r.today, rec)
	} else if day.After(r.day) {
		r.day, r.today = day, []callrecord.Record{rec}
	}
	r.mu.Unlock()
}

// build assembles the record of a call.
func (r *recorder) build(call ivr.Call, res *ivr.Result, tr trail, who directory.Caller) callrecord.Record {
	rec := callrecord.Record{
		CallID: call.ID(), Node: r.node, Caller: call.Caller(), Called: call.Called(),
		Tier: tr.Tier, Flow: res.Flow, FlowVersion: res.Version, Queue: res.Queue,
		Start: tr.Start, End: r.now(), Enqueued: tr.Enqueued, Offered: tr.Offered, Answered: tr.Answered, AgentEnd: tr.AgentEnd,
		Agent: tr.Agent, RingAttempts: tr.Rings, Survey: res.Survey, Recordings: res.Recordings,
	}
	if rec.Start.IsZero() {
		rec.Start = rec.End
	}
	if rec.Queue == "" {
		rec.Queue = tr.Queue
	}
	if rec.Tier == "" {
		rec.Tier = who.Tier
	}
	if who.Customer != nil {
		rec.Stars = who.Customer.Stars
	}
	if res.AgentID != "" {
		rec.Agent = res.AgentID
	}
	for _, s := range res.Steps {
		rec.Path = append(rec.Path, callrecord.Step{Node: s.Node, Exit: s.Exit, Digits: s.Digits})
	}
	switch res.QueueOutcome {
	case ivr.QueueMaxWait, ivr.QueueNoAgents, ivr.QueueFull:
		rec.OverflowReason = string(res.QueueOutcome)
	}
	switch {
	case rec.Agent != "" && !rec.Answered.IsZero():
		rec.Disposition = callrecord.Answered
		rec.WrapUp = r.queues[rec.Queue].WrapUp.D()
		if rec.AgentEnd.IsZero() {
			rec.AgentEnd = rec.End
		}
	case len(res.Recordings) > 0:
		rec.Disposition = callrecord.Voicemail
	case res.QueueOutcome == ivr.QueueCallback:
		rec.Disposition = callrecord.Callback
	case rec.OverflowReason != "":
		rec.Disposition = callrecord.Overflowed
	case res.Queue != "" && !rec.Enqueued.IsZero():
		rec.Disposition = callrecord.AbandonedQueue
	case res.End == ivr.EndCallerHangup:
		rec.Disposition = callrecord.AbandonedIVR
	default:
		rec.Disposition = callrecord.Completed
	}
	return rec
}

// degrade drops what makes a record inconsistent (queue times this node did
// not see, as when another node's events were missed), keeping the rest.
func degrade(rec callrecord.Record) callrecord.Record {
	if rec.Validate() == nil {
		return rec
	}
	if rec.Disposition == callrecord.Answered || rec.Disposition == callrecord.AbandonedQueue {
		rec.Disposition = callrecord.Completed
	}
	rec.Enqueued, rec.Offered, rec.Answered, rec.AgentEnd = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return rec
}

// Close waits (up to timeout) for flows still ending to write their
// records, then closes the writer (the JSONL file is synced to disk).
func (r *recorder) Close(timeout time.Duration) error {
	done := make(chan struct{})
	go func() { r.running.Wait(); close(done) }()
	var errs []error
	select {
	case <-done:
	case <-time.After(timeout):
		errs = append(errs, fmt.Errorf("call records: flows still running after %s; their records are lost", timeout))
	}
	if err := r.w.Close(); err != nil {
		errs = append(errs, fmt.Errorf("call records: %w", err))
	}
	return errors.Join(errs...)
}

// openRecords opens where call records go: the JSONL file (records.file,
// default DATA/records.jsonl), or with -redis the nodes' Redis Stream with
// that file as the spool for records written while Redis is unreachable.
func openRecords(cfg *config.Config, o serveOptions, store routing.Store, dataDir, node string, log *slog.Logger) (*recorder, error) {
	path := cfg.Resolve(cfg.Records.File)
	if path == "" {
		path = filepath.Join(dataDir, "records.jsonl")
	}
	file, err := callrecord.NewJSONL(path)
	if err != nil {
		return nil, fmt.Errorf("call records: %w (choose another file with records.file, or another -data)", err)
	}
	var w callrecord.Writer = file
	read := func(_ context.Context, from, to time.Time) ([]callrecord.Record, error) {
		return callrecord.ReadJSONLSkipping(path, from, to, func(e *callrecord.LineError) {
			log.Warn("unreadable call record skipped", "err", e)
		})
	}
	if rs, ok := store.(*redisstore.Store); ok {
		maxLen := cfg.Records.StreamMaxLen
		if maxLen == 0 {
			maxLen = 1_000_000
		}
		key := callrecord.StreamKey(rs.KeyPrefix())
		w = callrecord.NewFallback(callrecord.NewStream(rs.Client(), key, maxLen), file, func(r callrecord.Record, err error) {
			log.Error("call record spooled to the file: Redis unreachable", "call", r.CallID, "file", path, "err", err)
		})
		read = func(ctx context.Context, from, to time.Time) ([]callrecord.Record, error) {
			return callrecord.ReadStream(ctx, rs.Client(), key, from, to)
		}
		log.Info("call records go to the Redis Stream", "key", key, "spool", path)
	} else {
		log.Info("call records go to the file", "file", path)
	}
	r := newRecorder(w, read, node, cfg.Queues, log)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.loadToday(ctx); err != nil {
		log.Warn("today's earlier call records not read: the day's figures start now", "err", err)
	}
	return r, nil
}

// serviceLevels are the queues' service-level thresholds, for reports.
func serviceLevels(cfg *config.Config) map[string]time.Duration {
	m := map[string]time.Duration{}
	for _, q := range cfg.Queues {
		m[q.Name] = q.ServiceLevel.D()
	}
	return m
}
