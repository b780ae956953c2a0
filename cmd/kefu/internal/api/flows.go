package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"kefu/ivr/reload"
)

// The flow endpoints:
//
//	GET  /api/flows           the reloader's status (reload.Status)
//	POST /api/flows/reload    reload now; 200 with the status, or 422 with
//	                          the issues when the flows do not load
//	POST /api/flows/rollback  {"version": "…"}: re-activate a kept set; 404
//	                          with the kept versions when it is not kept

func (h *Handler) flowStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.flows.Status())
}

type reloadRequest struct {
	// Reason is recorded with the reload, after "api: ".
	Reason string `json:"reason"`
}

// ReloadFailure is the 422 answer of POST /api/flows/reload: what is wrong,
// one issue per line as file:line:col: message, and the status (the
// previous version is still active).
type ReloadFailure struct {
	Error  string        `json:"error"`
	Issues []string      `json:"issues"`
	Status reload.Status `json:"status"`
}

func (h *Handler) flowReload(w http.ResponseWriter, r *http.Request) {
	var req reloadRequest
	if !decodeJSON(w, r, &req, true, `{"reason":"deploy 42"}`) {
		return
	}
	reason := "api"
	if req.Reason = strings.TrimSpace(req.Reason); req.Reason != "" {
		reason += ": " + req.Reason
	}
	st := h.flows.Reload(reason)
	if st.LastReload != nil {
		h.log.Info("flows reloaded over HTTP", "result", st.LastReload.Result, "version", st.Version, "remote", r.RemoteAddr)
	}
	if st.LastReload != nil && st.LastReload.Result == reload.ResultFailed && st.LastError != nil {
		writeJSON(w, http.StatusUnprocessableEntity, ReloadFailure{
			Error: fmt.Sprintf("the flows did not load (%d issues): fix them and reload again; version %s keeps serving",
				len(st.LastError.Issues), st.Version),
			Issues: st.LastError.Issues,
			Status: st,
		})
		return
	}
	writeJSON(w, http.StatusOK, st)
}

type rollbackRequest struct {
	Version string `json:"version"`
}

// RollbackUnknown is the 404 answer of POST /api/flows/rollback: the
// version is not kept; Kept lists those that are, newest first.
type RollbackUnknown struct {
	Error  string   `json:"error"`
	Active string   `json:"active"`
	Kept   []string `json:"kept"`
}

func (h *Handler) flowRollback(w http.ResponseWriter, r *http.Request) {
	var req rollbackRequest
	if !decodeJSON(w, r, &req, false, `{"version":"3f2a9c0d1e2b"}`) {
		return
	}
	if req.Version == "" {
		writeError(w, http.StatusBadRequest, `give the version to roll back to, e.g. {"version":"3f2a9c0d1e2b"}; GET /api/flows lists the kept versions under "history"`)
		return
	}
	err := h.flows.Rollback(req.Version)
	if errors.Is(err, reload.ErrNotKept) {
		st := h.flows.Status()
		kept := make([]string, 0, len(st.History))
		for _, k := range st.History {
			kept = append(kept, k.Version)
		}
		writeJSON(w, http.StatusNotFound, RollbackUnknown{
			Error:  fmt.Sprintf("version %q is not kept: roll back to one of the kept versions (GET /api/flows, \"history\")", req.Version),
			Active: st.Version,
			Kept:   kept,
		})
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("flows rolled back over HTTP", "version", req.Version, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, h.flows.Status())
}
