package redisdir_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"kefu/routing/directory"
	"kefu/routing/directory/dirtest"
	"kefu/routing/directory/redisdir"
	"kefu/routing/internal/redistest"
)

func newStore(t testing.TB, srv *redistest.Server, prefix string) *redisdir.Store {
	t.Helper()
	s, err := redisdir.New(srv.Client(t, 4), prefix)
	if err != nil {
		t.Fatal(err)
	}
	s.Grace = 50 * time.Millisecond
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	srv := redistest.Launch(t, redistest.Options{})
	n := 0
	dirtest.Run(t, func(t *testing.T) (directory.Customers, directory.History) {
		n++
		s := newStore(t, srv, fmt.Sprintf("kefu:{t%d}:", n))
		return s, s
	})
}

// TestNodesShareOneLoad: two nodes load the same file; the second finds the
// version in place, a third node that loads nothing sees it, and the old
// version's keys are gone after the grace time.
func TestNodesShareOneLoad(t *testing.T) {
	srv := redistest.Launch(t, redistest.Options{})
	ctx := context.Background()
	a, b, c := newStore(t, srv, "kefu:{x}:"), newStore(t, srv, "kefu:{x}:"), newStore(t, srv, "kefu:{x}:")
	v1 := dirtest.Parse(t, "", "13800000005,王建国,1860.5,132,GoTone,yes,1001,5", "13800000001,李小梅,42,7,Easyown,no,,1")
	if err := a.Replace(ctx, v1, "v1"); err != nil {
		t.Fatal(err)
	}
	if err := b.Replace(ctx, v1, "v1"); err != nil {
		t.Fatal(err)
	}
	if cu, found, err := c.Lookup(ctx, "13800000005"); err != nil || !found || cu.Stars != 5 {
		t.Fatalf("third node: %+v %v %v", cu, found, err)
	}
	v2 := dirtest.Parse(t, "", "13800000005,王建国,1860.5,132,GoTone,yes,1001,4")
	if err := b.Replace(ctx, v2, "v2"); err != nil {
		t.Fatal(err)
	}
	rdb := srv.Client(t, 4)
	deadline := time.Now().Add(10 * time.Second)
	for {
		keys, err := rdb.Keys(ctx, "kefu:{x}:cust:v1:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("old version's keys still there: %v", keys)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if members, _ := rdb.SMembers(ctx, "kefu:{x}:cust:versions").Result(); len(members) != 1 || members[0] != "v2" {
		t.Errorf("versions set: %v, want [v2]", members)
	}
	// Node c trusts its cached version for up to VersionTTL, then sees v2.
	time.Sleep(c.VersionTTL)
	if cu, _, _ := c.Lookup(ctx, "13800000005"); cu.Stars != 4 {
		t.Errorf("third node after the switch: %+v, want 4 stars", cu)
	}
}

// TestContactsExpire: the last contact is kept Keep, then Redis drops it.
func TestContactsExpire(t *testing.T) {
	srv := redistest.Launch(t, redistest.Options{})
	s := newStore(t, srv, "kefu:{e}:")
	s.Keep = 200 * time.Millisecond
	ctx := context.Background()
	if err := s.Record(ctx, directory.Contact{Number: "13800000005", At: time.Now(), Outcome: "answered"}); err != nil {
		t.Fatal(err)
	}
	ttl, err := srv.Client(t, 4).PTTL(ctx, "kefu:{e}:hist:13800000005").Result()
	if err != nil || ttl <= 0 || ttl > 200*time.Millisecond {
		t.Fatalf("contact TTL %v (%v), want (0, 200ms]", ttl, err)
	}
}

// TestRedisDown: lookups fail with an error (the caller is then routed
// with the unknown tier), never hang or panic.
func TestRedisDown(t *testing.T) {
	srv := redistest.Launch(t, redistest.Options{})
	s := newStore(t, srv, "kefu:{d}:")
	s.VersionTTL = 0
	ctx := context.Background()
	if err := s.Replace(ctx, dirtest.Parse(t, "", "13800000005,a,1,1,GoTone,yes,1001,5"), "v1"); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, _, err := s.Lookup(ctx, "13800000005"); err == nil {
		t.Error("lookup with Redis down: no error")
	}
	if err := s.Record(ctx, directory.Contact{Number: "13800000005", At: time.Now(), Outcome: "answered"}); err == nil {
		t.Error("record with Redis down: no error")
	}
}
