package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"kefu/routing/report"
)

// Reports computes statistics over the call records (*report.Reporter).
type Reports interface {
	Report(ctx context.Context, q report.Query) (report.Report, error)
}

// reportRoutes registers GET /api/reports on r:
//
//	GET /api/reports?from=2026-11-25&to=2026-11-26&format=json|csv&tz=Asia/Shanghai
//
// from and to are dates (midnight), local times or RFC 3339, as for "kefu
// report"; to is exclusive; tz is the zone of dates and hours (default the
// server's). Without from: today; without to: a day after from. JSON is the
// report.Report; CSV is report.WriteCSV's table.
func (h *Handler) reportRoutes(r Reports) {
	h.mux.HandleFunc("GET /api/reports", func(w http.ResponseWriter, req *http.Request) {
		h.reports(w, req, r)
	})
}

func (h *Handler) reports(w http.ResponseWriter, req *http.Request, r Reports) {
	v := req.URL.Query()
	format := v.Get("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "csv" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("format %q: use json or csv", format))
		return
	}
	loc := time.Local
	if tz := v.Get("tz"); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("tz %q: %v (use an IANA zone name such as Asia/Shanghai, or UTC)", tz, err))
			return
		}
		loc = l
	}
	q := report.Query{Location: loc}
	q.From, q.To = report.Today(time.Now(), loc)
	if s := v.Get("from"); s != "" {
		t, err := report.ParseTime(s, loc)
		if err != nil {
			writeError(w, http.StatusBadRequest, "from: "+err.Error())
			return
		}
		q.From, q.To = t, t.AddDate(0, 0, 1)
	}
	if s := v.Get("to"); s != "" {
		t, err := report.ParseTime(s, loc)
		if err != nil {
			writeError(w, http.StatusBadRequest, "to: "+err.Error())
			return
		}
		q.To = t
	}
	if !q.To.After(q.From) {
		writeError(w, http.StatusBadRequest, "to must be after from (to is exclusive: from=2026-11-25&to=2026-11-26 is one day)")
		return
	}
	rep, err := r.Report(req.Context(), q)
	if err != nil {
		h.log.Error("report failed", "from", q.From, "to", q.To, "err", err)
		writeError(w, http.StatusInternalServerError, "reading the call records: "+err.Error())
		return
	}
	if format == "json" {
		writeJSON(w, http.StatusOK, rep)
		return
	}
	var buf bytes.Buffer
	if err := report.WriteCSV(&buf, rep); err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="kefu-report-%s.csv"`, q.From.Format("2006-01-02")))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}
