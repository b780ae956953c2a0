package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"kefu/routing/callrecord"
	"kefu/routing/report"
)

// recordReports is a report.Reporter over the fixture records that
// remembers the last query.
type recordReports struct {
	last report.Query
	err  error
}

func (f *recordReports) Report(ctx context.Context, q report.Query) (report.Report, error) {
	f.last = q
	if f.err != nil {
		return report.Report{}, f.err
	}
	rp := &report.Reporter{Read: func(_ context.Context, from, to time.Time) ([]callrecord.Record, error) {
		return callrecord.ReadJSONL("../../../../testdata/records/day.jsonl", from, to)
	}}
	return rp.Report(ctx, q)
}

var _ Reports = (*report.Reporter)(nil)

func TestReports(t *testing.T) {
	fake := &recordReports{}
	h := New(Deps{Router: &fakeRouter{}, Front: fakeFront{}}, nil)
	h.reportRoutes(fake)
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}

	// JSON: the whole day in Shanghai (10 calls, see routing/report's
	// TestDay).
	rec := get("/api/reports?from=2026-11-25&to=2026-11-26&tz=Asia/Shanghai")
	var body struct {
		Total struct {
			Calls        int      `json:"calls"`
			Offered      int      `json:"offered"`
			ServiceLevel *float64 `json:"service_level"`
		} `json:"total"`
		ByHour []struct {
			Key string `json:"key"`
		} `json:"by_hour"`
	}
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if body.Total.Calls != 10 || body.Total.Offered != 8 || body.Total.ServiceLevel == nil || *body.Total.ServiceLevel != 0.2 ||
		len(body.ByHour) != 2 || body.ByHour[0].Key != "2026-11-25 09:00" {
		t.Errorf("report %+v", body)
	}

	// CSV, from alone: one day.
	rec = get("/api/reports?from=2026-11-25T00:00:00%2B08:00&format=csv")
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if rec.Code != 200 || err != nil || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") || len(rows) < 2 || rows[1][2] != "10" {
		t.Errorf("CSV: %d %v %v", rec.Code, rows, err)
	}
	if want := time.Date(2026, 11, 26, 0, 0, 0, 0, time.FixedZone("", 8*3600)); !fake.last.To.Equal(want) {
		t.Errorf("to = %v, want %v", fake.last.To, want)
	}

	// Default: today in the server's location.
	if rec := get("/api/reports"); rec.Code != 200 {
		t.Errorf("default period: %d %s", rec.Code, rec.Body)
	}
	from, to := report.Today(time.Now(), time.Local)
	if !fake.last.From.Equal(from) || !fake.last.To.Equal(to) || fake.last.Location != time.Local {
		t.Errorf("default query %+v, want today [%v, %v) in Local", fake.last, from, to)
	}

	for _, tc := range []struct{ path, want string }{
		{"/api/reports?from=yesterday", "from: time"},
		{"/api/reports?to=soon", "to: time"},
		{"/api/reports?from=2026-11-25&to=2026-11-25", "to must be after from"},
		{"/api/reports?format=xml", "use json or csv"},
		{"/api/reports?tz=Mars/Olympus", "IANA zone"},
	} {
		if rec := get(tc.path); rec.Code != 400 || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("GET %s = %d %s, want 400 with %q", tc.path, rec.Code, rec.Body, tc.want)
		}
	}
	fake.err = errors.New("disk on fire")
	if rec := get("/api/reports"); rec.Code != 500 || !strings.Contains(rec.Body.String(), "disk on fire") {
		t.Errorf("failing reader: %d %s", rec.Code, rec.Body)
	}
}
