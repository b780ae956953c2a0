package api

import (
	"errors"
	"net/http"

	"kefu/ivr/switchboard"
)

// The switch endpoints: announcements (announce.<name>) and emergency
// closures of calendars (emergency.<calendar>), switched by operations
// without editing a flow.
//
//	GET  /api/switches         every switch that has been set, with who set it and when
//	POST /api/switches/{name}  {"on": true, "by": "ops-li"} sets it;
//	                           {"clear": true} goes back to the flow files' default

// Switches is what the switch endpoints need (a *switchboard.Board).
type Switches interface {
	Set(name string, on bool, by string) error
	Clear(name string) error
	List() []switchboard.Switch
}

type switchRequest struct {
	On    *bool  `json:"on"`
	Clear bool   `json:"clear"`
	By    string `json:"by"`
}

func (h *Handler) switchList(w http.ResponseWriter, r *http.Request) {
	list := h.switches.List()
	if list == nil {
		list = []switchboard.Switch{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (h *Handler) switchSet(w http.ResponseWriter, r *http.Request) {
	const example = `{"on": true, "by": "ops-li"}`
	name := r.PathValue("name")
	var req switchRequest
	if !decodeJSON(w, r, &req, false, example) {
		return
	}
	if req.By == "" {
		req.By = "api " + r.RemoteAddr
	}
	var err error
	switch {
	case req.Clear && req.On != nil:
		writeError(w, http.StatusBadRequest, `give either "on" or "clear", not both`)
		return
	case req.Clear:
		err = h.switches.Clear(name)
	case req.On != nil:
		err = h.switches.Set(name, *req.On, req.By)
	default:
		writeError(w, http.StatusBadRequest, `say what to do: {"on": true}, {"on": false} or {"clear": true}`)
		return
	}
	switch {
	case errors.Is(err, switchboard.ErrBadName) || errors.Is(err, switchboard.ErrBadBy):
		writeError(w, http.StatusBadRequest, err.Error())
		return
	case err != nil:
		h.log.Error("switch not saved", "switch", name, "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	h.log.Info("switch changed", "switch", name, "on", req.On != nil && *req.On, "clear", req.Clear, "by", req.By)
	h.switchList(w, r)
}
