package directory_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kefu/routing/directory"
)

const serviceCSV = `number,name,value_score,tenure_months,brand,vip,account_manager,stars
13800000005,王建国,1860.5,132,GoTone,yes,1001,5
13800000001,李小梅,42.0,7,Easyown,no,,1
13800000004,陈静,540.8,75,GoTone,no,,4
`

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// lockedBuffer is a log sink the test reads while the service writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestPolicyTier(t *testing.T) {
	boosts := map[string]time.Duration{"vip": 120 * time.Second, "key_account": 90 * time.Second, "five_star": 60 * time.Second,
		"four_star": 30 * time.Second, "one_star": 0, "gotone": 45 * time.Second}
	five := directory.Customer{Stars: 5}
	for _, tc := range []struct {
		name   string
		policy directory.Policy
		c      directory.Customer
		want   string
	}{
		{"stars decide", directory.Policy{Boosts: boosts}, five, "five_star"},
		{"vip lifts", directory.Policy{Boosts: boosts}, directory.Customer{Stars: 4, VIP: true}, "vip"},
		{"key account lifts", directory.Policy{Boosts: boosts}, directory.Customer{Stars: 1, AccountManager: "1001"}, "key_account"},
		{"ungraded is default", directory.Policy{Boosts: boosts}, directory.Customer{}, "default"},
		{"two-star without head start is default", directory.Policy{Boosts: boosts}, directory.Customer{Stars: 2}, "default"},
		{"brand lifts four-star", directory.Policy{Boosts: boosts, Brands: map[string]string{"GoTone": "gotone"}}, directory.Customer{Stars: 4, Brand: "gotone"}, "gotone"},
		{"brand below five-star", directory.Policy{Boosts: boosts, Brands: map[string]string{"GoTone": "gotone"}}, directory.Customer{Stars: 5, Brand: "GoTone"}, "five_star"},
		{"renamed stars", directory.Policy{Boosts: map[string]time.Duration{"gold": time.Minute}, Stars: map[int]string{5: "gold", 4: "gold"}}, directory.Customer{Stars: 4}, "gold"},
		{"vip switched off", directory.Policy{Boosts: boosts, VIP: "-"}, directory.Customer{Stars: 4, VIP: true}, "four_star"},
		{"unknown tier renamed", directory.Policy{Boosts: boosts, Unknown: "one_star"}, directory.Customer{}, "one_star"},
		{"no boosts: precedence", directory.Policy{}, directory.Customer{Stars: 3, AccountManager: "1"}, "key_account"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.policy.Tier(tc.c); got != tc.want {
				t.Errorf("Tier(%+v) = %q, want %q (candidates %v)", tc.c, got, tc.want, tc.policy.Candidates(tc.c))
			}
		})
	}
}

func TestPolicyCheck(t *testing.T) {
	p := directory.Policy{Boosts: map[string]time.Duration{"vip": time.Minute}, Stars: map[int]string{5: "gold"}, Anonymous: "withheld"}
	err := p.Check()
	if err == nil || !strings.Contains(err.Error(), `5-star tier "gold"`) || !strings.Contains(err.Error(), `anonymous-caller tier "withheld"`) {
		t.Fatalf("Check: %v", err)
	}
	if err := (directory.Policy{}).Check(); err != nil {
		t.Fatalf("standard policy: %v", err)
	}
}

func TestServiceCaller(t *testing.T) {
	path := filepath.Join(t.TempDir(), "customers.csv")
	writeFile(t, path, serviceCSV)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	s := directory.NewService(directory.Options{File: path, Now: func() time.Time { return now },
		Policy: directory.Policy{Boosts: map[string]time.Duration{"vip": 2 * time.Minute, "five_star": time.Minute, "one_star": 0, "withheld": 0},
			Anonymous: "withheld"}})
	ctx := context.Background()
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := s.Caller(ctx, "+86 138-0000-0005")
	if err != nil || !c.Found || c.Tier != "vip" || c.HeadStart != 2*time.Minute || c.Customer.Name != "王建国" || c.Last != nil {
		t.Fatalf("known caller: %+v %v", c, err)
	}
	c, _ = s.Caller(ctx, "13999999999")
	if c.Found || c.Tier != "default" || c.Anonymous {
		t.Fatalf("unknown caller: %+v", c)
	}
	c, _ = s.Caller(ctx, "anonymous")
	if !c.Anonymous || c.Tier != "withheld" {
		t.Fatalf("withheld caller: %+v", c)
	}

	// History: a call 3 hours ago makes a repeat caller within 24 h, and
	// not after.
	if err := s.Record(ctx, directory.Contact{Number: "008613800000001", At: now.Add(-3 * time.Hour), Queue: "billing", Agent: "1002", Outcome: "answered"}); err != nil {
		t.Fatal(err)
	}
	c, _ = s.Caller(ctx, "13800000001")
	if c.Last == nil || c.Last.Agent != "1002" || !c.Repeat {
		t.Fatalf("repeat caller: %+v", c)
	}
	now = now.Add(22 * time.Hour)
	if c, _ = s.Caller(ctx, "13800000001"); c.Last == nil || c.Repeat {
		t.Fatalf("25 hours later: %+v, want last contact but no repeat", c)
	}
	if err := s.Record(ctx, directory.Contact{Number: "anonymous", Outcome: "ivr"}); err != nil {
		t.Fatalf("an anonymous call is not recorded, without error: %v", err)
	}
}

// TestServiceReload: a changed file is put in place by Watch; a broken one
// is rejected with its line and the last good version keeps serving.
func TestServiceReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "customers.csv")
	writeFile(t, path, serviceCSV)
	var logs lockedBuffer
	s := directory.NewService(directory.Options{File: path, Debounce: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	first := s.Status()
	if first.Customers != 3 || first.Version == "" {
		t.Fatalf("status: %+v", first)
	}
	done := make(chan error)
	go func() { done <- s.Watch(ctx) }()
	waitFor := func(what string, ok func(directory.Status) bool) directory.Status {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if st := s.Status(); ok(st) {
				return st
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("%s: status %+v", what, s.Status())
		return directory.Status{}
	}
	time.Sleep(100 * time.Millisecond) // the watch is set up

	writeFile(t, path, serviceCSV+"13800000002,张伟,118.3,26,M-Zone,no,,2\n")
	st := waitFor("reload after a change", func(st directory.Status) bool { return st.Customers == 4 })
	if st.Version == first.Version {
		t.Error("the version did not change with the content")
	}
	if c, _ := s.Caller(ctx, "13800000002"); !c.Found {
		t.Error("the added customer is not found")
	}

	writeFile(t, path, serviceCSV+"13800000003,刘洋,abc,40,GoTone,no,,3\n")
	st = waitFor("broken file rejected", func(st directory.Status) bool { return st.LastError != "" })
	if !strings.Contains(st.LastError, path+":5:") || !strings.Contains(st.LastError, "value_score") {
		t.Errorf("error %q does not name the file, line 5 and the column", st.LastError)
	}
	if st.Customers != 4 {
		t.Errorf("after a broken file: %d customers, want the last good 4", st.Customers)
	}
	if c, _ := s.Caller(ctx, "13800000002"); !c.Found {
		t.Error("the last good version stopped serving")
	}
	if !strings.Contains(logs.String(), "last good version keeps serving") {
		t.Errorf("log does not say the last good version serves:\n%s", logs.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestServicePrepare: the Prepare hook sees every directory before it is
// used, and its error rejects the file.
func TestServicePrepare(t *testing.T) {
	path := filepath.Join(t.TempDir(), "customers.csv")
	writeFile(t, path, serviceCSV)
	calls := 0
	s := directory.NewService(directory.Options{File: path, Prepare: func(d *directory.Directory) error {
		calls++
		if calls > 1 {
			return os.ErrInvalid
		}
		return nil
	}})
	ctx := context.Background()
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, serviceCSV+"13800000002,张伟,118.3,26,M-Zone,no,,2\n")
	if err := s.Load(ctx); err == nil {
		t.Fatal("Prepare's error did not reject the file")
	}
	if st := s.Status(); st.Customers != 3 || st.Failures != 1 {
		t.Errorf("status %+v", st)
	}
}
