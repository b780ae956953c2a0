package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kefu/routing/callrecord"
	"kefu/routing/redisstore"
)

func TestReportCommand(t *testing.T) {
	day := "../../testdata/records/day.jsonl"
	cfg := filepath.Join(t.TempDir(), "kefu.yaml")
	// The sample config with the complaints queue's threshold at 30 s.
	sample := strings.Replace(string(mustSample(t)), "  - name: complaints\n", "  - name: complaints\n    service_level: 30s\n", 1)
	if err := os.WriteFile(cfg, []byte(sample), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyData := t.TempDir()
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		out, err string // substrings expected
	}{
		{"text", []string{"--from", "2026-11-25", "--to", "2026-11-26", "--records", day, "--tz", "Asia/Shanghai"}, 0,
			"Calls ended from 2026-11-25 00:00:00 to 2026-11-26 00:00:00 (Asia/Shanghai)", ""},
		{"csv", []string{"-from", "2026-11-25", "-records", day, "-tz", "Asia/Shanghai", "-format", "csv"}, 0,
			"total,total,10,8,3,2,1,2,1,1,1,1,0.2,0.2,", ""},
		{"rfc3339", []string{"-from", "2026-11-25T10:00:00+08:00", "-to", "2026-11-25T11:00:00+08:00", "-records", day, "-format", "csv"}, 0,
			"total,total,6,", ""},
		{"config", []string{"-from", "2026-11-25", "-records", day, "-tz", "Asia/Shanghai", "-format", "csv", "-config", cfg}, 0, "total,total,10,8,3,2,1,2,1,1,1,2,0.4,0.2,", ""},
		{"bad line", []string{"-from", "2026-11-25", "-records", "../../testdata/records/bad.jsonl"}, 1, "",
			"../../testdata/records/bad.jsonl:2: "},
		{"skip bad", []string{"-from", "2026-11-25", "-records", "../../testdata/records/bad.jsonl", "-tz", "Asia/Shanghai", "-format", "csv", "-skip-bad"}, 0,
			"total,total,2,", "1 bad lines left out"},
		{"missing file", []string{"-data", emptyData}, 1, "", "-records FILE"},
		{"bad from", []string{"-from", "yesterday", "-records", day}, 2, "", "-from: time \"yesterday\": write a date"},
		{"to before from", []string{"-from", "2026-11-25", "-to", "2026-11-25", "-records", day}, 2, "", "exclusive"},
		{"bad format", []string{"-format", "xml", "-records", day}, 2, "", "use text or csv"},
		{"bad tz", []string{"-tz", "Mars/Olympus", "-records", day}, 2, "", "IANA zone"},
		{"both sources", []string{"-records", day, "-redis", "redis://127.0.0.1:1"}, 2, "", "not both"},
		{"prefix alone", []string{"-records", day, "-prefix", "east"}, 2, "", "-prefix goes with -redis"},
		{"stray argument", []string{"today"}, 2, "", "unexpected arguments"},
		{"missing config", []string{"-records", day, "-config", "/nonexistent/kefu.yaml"}, 1, "", "/nonexistent/kefu.yaml"},
		{"redis down", []string{"-redis", "redis://127.0.0.1:1"}, 1, "", "does not answer"},
		{"help", []string{"-h"}, 0, "", "usage: kefu report"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(append([]string{"report"}, tc.args...), &out, &errb)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tc.out) {
				t.Errorf("stdout %q does not contain %q", out.String(), tc.out)
			}
			if !strings.Contains(errb.String(), tc.err) {
				t.Errorf("stderr %q does not contain %q", errb.String(), tc.err)
			}
		})
	}
}

func mustSample(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("internal/config/sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReportRedis(t *testing.T) {
	url := startRedis(t) // redis://127.0.0.1:PORT/0?prefix=e2e
	base := strings.TrimSuffix(url, "?prefix=e2e")
	store, err := redisstore.Dial(t.Context(), base+"?prefix=east")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	recs, err := callrecord.ReadJSONL("../../testdata/records/day.jsonl", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// Written to the "east" deployment's stream. The entry IDs are the
	// writing time, not the records' 2026 End times, so report over a
	// period that holds both.
	w := callrecord.NewStream(store.Client(), callrecord.StreamKey(store.KeyPrefix()), 0)
	for _, r := range recs {
		if err := w.Write(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	var out, errb bytes.Buffer
	code := run([]string{"report", "-redis", base, "-prefix", "east", "-from", "2000-01-01", "-to", "2100-01-01", "-format", "csv", "-tz", "Asia/Shanghai"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(rows) < 2 || rows[1][2] != "12" {
		t.Errorf("report over Redis: %v (%v), want 12 calls", rows, err)
	}
	// Another prefix is another deployment: no calls.
	out.Reset()
	if code := run([]string{"report", "-redis", base + "?prefix=west", "-from", "2000-01-01", "-to", "2100-01-01", "-format", "csv"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "total,total,0,") {
		t.Errorf("west: exit %d, %s %s", code, out.String(), errb.String())
	}
}
