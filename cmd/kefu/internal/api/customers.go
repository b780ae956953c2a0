package api

import (
	"context"
	"net/http"

	"kefu/routing/directory"
)

// Customers is the customer directory as the API shows it.
type Customers interface {
	// Explain says what the router will use for a caller.
	Explain(ctx context.Context, number string) (CustomerView, error)
	// Status says what is loaded; Reload loads the file again.
	Status() directory.Status
	Reload(ctx context.Context) error
}

// CustomerView is GET /api/customers/{number}: the caller as the directory
// knows them (customer, tier, last contact, repeat flag), the tier's head
// start, and the agents the caller would wait for first, per queue.
type CustomerView struct {
	directory.Caller
	HeadStartSeconds float64          `json:"head_start_s"`
	PreferredAgents  []PreferredAgent `json:"preferred_agents"`
}

// PreferredAgent is an agent a caller waits for first in a queue.
type PreferredAgent struct {
	Queue string `json:"queue"`
	Agent string `json:"agent"`
	// Reason is account_manager or last_agent.
	Reason      string  `json:"reason"`
	WaitSeconds float64 `json:"wait_s"`
}

func (h *Handler) customerRoutes(c Customers) {
	h.customers = c
	h.mux.HandleFunc("GET /api/customers", h.customerStatus)
	h.mux.HandleFunc("POST /api/customers/reload", h.customerReload)
	h.mux.HandleFunc("GET /api/customers/{number}", h.customer)
}

func (h *Handler) customer(w http.ResponseWriter, r *http.Request) {
	v, err := h.customers.Explain(r.Context(), r.PathValue("number"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if v.PreferredAgents == nil {
		v.PreferredAgents = []PreferredAgent{}
	}
	writeJSON(w, http.StatusOK, v)
}

func (h *Handler) customerStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.customers.Status())
}

func (h *Handler) customerReload(w http.ResponseWriter, r *http.Request) {
	if err := h.customers.Reload(r.Context()); err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": err.Error(), "status": h.customers.Status()})
		return
	}
	writeJSON(w, http.StatusOK, h.customers.Status())
}
