package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"kefu/cmd/kefu/internal/config"
	"kefu/routing/callrecord"
	"kefu/routing/redisstore"
	"kefu/routing/report"
)

const reportUsage = `usage: kefu report [--from DATE] [--to DATE] [--records FILE | --redis URL [--prefix NAME]]
                   [--format text|csv] [--tz ZONE] [--config FILE] [--skip-bad]

Statistics over the call records whose call ended in [--from, --to): per
queue, tier, agent and hour — calls offered, answered, abandoned, service
level, ASA, AHT, survey averages. Dates are midnight in --tz; --to is
exclusive. Default: today.

`

// reportOptions are the flags of kefu report.
type reportOptions struct {
	from, to, records, redis, prefix, format, tz, config, data string
	skipBad                                                    bool
}

// reportCommand runs "kefu report".
func reportCommand(args []string, stdout, stderr io.Writer) int {
	var o reportOptions
	fs := flag.NewFlagSet("kefu report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, reportUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.from, "from", "", "start of the period: 2026-11-25, 2026-11-25T09:00 (in -tz) or RFC 3339; default today")
	fs.StringVar(&o.to, "to", "", "end of the period, exclusive; default a day after -from")
	fs.StringVar(&o.records, "records", "", "call records file (JSON Lines); default DATA/records.jsonl")
	fs.StringVar(&o.data, "data", os.Getenv("KEFU_DATA"), "Kefu's data directory, as for kefu serve (env KEFU_DATA); default "+defaultDataDir())
	fs.StringVar(&o.redis, "redis", "", "read the records from the Redis Stream of this Redis URL instead of a file (as kefu serve -redis)")
	fs.StringVar(&o.prefix, "prefix", "", "with -redis: the deployment's key prefix; default the URL's ?prefix=, else kefu")
	fs.StringVar(&o.format, "format", "text", "output: text or csv")
	fs.StringVar(&o.tz, "tz", "", "time zone of dates and hours, e.g. Asia/Shanghai; default the machine's")
	fs.StringVar(&o.config, "config", "", "configuration file for the queues' service-level thresholds; default the built-in sample")
	fs.BoolVar(&o.skipBad, "skip-bad", false, "skip (and report on stderr) record lines that cannot be read, instead of stopping")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kefu report: unexpected arguments %q: give the period with --from and --to\n", fs.Args())
		return 2
	}
	rep, err := runReport(context.Background(), o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "kefu report:", err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	if o.format == "csv" {
		err = report.WriteCSV(stdout, rep)
	} else {
		err = report.WriteText(stdout, rep)
	}
	if err != nil {
		fmt.Fprintln(stderr, "kefu report:", err)
		return 1
	}
	return 0
}

// usageError is a mistake in the command line (exit 2).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func runReport(ctx context.Context, o reportOptions, stderr io.Writer) (report.Report, error) {
	var none report.Report
	if o.format != "text" && o.format != "csv" {
		return none, usagef("-format %q: use text or csv", o.format)
	}
	loc := time.Local
	if o.tz != "" {
		l, err := time.LoadLocation(o.tz)
		if err != nil {
			return none, usagef("-tz %q: %v (use an IANA zone name such as Asia/Shanghai, or UTC)", o.tz, err)
		}
		loc = l
	}
	q := report.Query{Location: loc}
	q.From, q.To = report.Today(time.Now(), loc)
	if o.from != "" {
		t, err := report.ParseTime(o.from, loc)
		if err != nil {
			return none, usagef("-from: %v", err)
		}
		q.From, q.To = t, t.AddDate(0, 0, 1)
	}
	if o.to != "" {
		t, err := report.ParseTime(o.to, loc)
		if err != nil {
			return none, usagef("-to: %v", err)
		}
		q.To = t
	}
	if !q.To.After(q.From) {
		return none, usagef("-to %s is not after -from %s: --to is exclusive, e.g. --from 2026-11-25 --to 2026-11-26", q.To.Format(time.RFC3339), q.From.Format(time.RFC3339))
	}
	if o.redis != "" && o.records != "" {
		return none, usagef("give -records or -redis, not both")
	}
	if o.prefix != "" && o.redis == "" {
		return none, usagef("-prefix goes with -redis")
	}
	cfg, err := loadReportConfig(o.config)
	if err != nil {
		return none, err
	}
	q.ServiceLevel = map[string]time.Duration{}
	for _, qu := range cfg.Queues {
		q.ServiceLevel[qu.Name] = qu.ServiceLevel.D()
	}

	var recs []callrecord.Record
	if o.redis != "" {
		recs, err = readRedisRecords(ctx, o, q)
	} else {
		path := o.records
		if path == "" {
			data := o.data
			if data == "" {
				data = defaultDataDir()
			}
			path = filepath.Join(data, "records.jsonl")
		}
		var skip func(*callrecord.LineError)
		skipped := 0
		if o.skipBad {
			skip = func(e *callrecord.LineError) {
				skipped++
				fmt.Fprintln(stderr, "kefu report: skipped:", e)
			}
		}
		recs, err = callrecord.ReadJSONLSkipping(path, q.From, q.To, skip)
		switch {
		case errors.Is(err, os.ErrNotExist):
			err = fmt.Errorf("%w (give the records file with -records FILE, the data directory with -data, or read Redis with -redis URL)", err)
		case errors.As(err, new(*callrecord.LineError)):
			err = fmt.Errorf("%w (fix or remove that line, or run with -skip-bad to leave it out)", err)
		}
		if skipped > 0 {
			fmt.Fprintf(stderr, "kefu report: %d bad lines left out of the figures\n", skipped)
		}
	}
	if err != nil {
		return none, err
	}
	return report.Compute(recs, q), nil
}

func loadReportConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Parse(config.SampleName, config.Sample)
	}
	return config.Load(path)
}

// readRedisRecords reads the records from the Stream "kefu:{PREFIX}:records"
// of the Redis at o.redis.
func readRedisRecords(ctx context.Context, o reportOptions, q report.Query) ([]callrecord.Record, error) {
	url := o.redis
	if o.prefix != "" {
		sep := "?"
		if strings.Contains(url, "?") {
			sep = "&"
		}
		url += sep + "prefix=" + o.prefix
	}
	store, err := redisstore.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	return callrecord.ReadStream(ctx, store.Client(), callrecord.StreamKey(store.KeyPrefix()), q.From, q.To)
}
