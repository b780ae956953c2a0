package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"kefu/routing/directory"
)

type fakeCustomers struct {
	asked     []string
	reloadErr error
}

func (f *fakeCustomers) Explain(_ context.Context, number string) (CustomerView, error) {
	f.asked = append(f.asked, number)
	if number == "broken" {
		return CustomerView{}, errors.New("redis: connection refused")
	}
	return CustomerView{Caller: directory.Caller{Number: "13800000005", Found: true, Tier: "vip",
		Customer: &directory.Customer{Number: "13800000005", Stars: 5, AccountManager: "1001"}},
		HeadStartSeconds: 120, PreferredAgents: []PreferredAgent{{Queue: "billing", Agent: "1001", Reason: "account_manager", WaitSeconds: 30}}}, nil
}

func (f *fakeCustomers) Status() directory.Status {
	return directory.Status{File: "customers.csv", Version: "abc", Customers: 20}
}

func (f *fakeCustomers) Reload(context.Context) error { return f.reloadErr }

func TestCustomerEndpoints(t *testing.T) {
	fc := &fakeCustomers{}
	srv := httptest.NewServer(New(Deps{Router: nil, Front: &fakeFront{}, Customers: fc}, nil))
	defer srv.Close()
	get := func(path string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	code, body := get("/api/customers/+86%20138-0000-0005")
	if code != 200 || body["tier"] != "vip" || body["head_start_s"] != 120.0 || body["found"] != true {
		t.Fatalf("customer: %d %v", code, body)
	}
	if pa, _ := body["preferred_agents"].([]any); len(pa) != 1 {
		t.Errorf("preferred agents: %v", body["preferred_agents"])
	}
	if fc.asked[0] != "+86 138-0000-0005" {
		t.Errorf("asked for %q, want the number as written", fc.asked[0])
	}
	if code, _ := get("/api/customers/broken"); code != http.StatusInternalServerError && code != http.StatusServiceUnavailable {
		t.Errorf("a directory that cannot be asked: %d, want a 5xx", code)
	}
	if code, body := get("/api/customers"); code != 200 || body["customers"] != 20.0 {
		t.Errorf("status: %d %v", code, body)
	}
	resp, err := http.Post(srv.URL+"/api/customers/reload", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("reload: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	fc.reloadErr = errors.New("customers.csv:7:3: column value_score: \"abc\" is not a score")
	resp, _ = http.Post(srv.URL+"/api/customers/reload", "", nil)
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || out["error"] == nil || out["status"] == nil {
		t.Errorf("broken file reload: %d %v", resp.StatusCode, out)
	}

	none := httptest.NewServer(New(Deps{Front: &fakeFront{}}, nil))
	defer none.Close()
	resp, _ = http.Get(none.URL + "/api/customers/13800000005")
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("without a directory: %d, want 404", resp.StatusCode)
	}
}
