package directory_test

import (
	"context"
	"testing"
	"time"

	"kefu/routing/directory"
	"kefu/routing/directory/dirtest"
)

func TestMemoryContract(t *testing.T) {
	dirtest.Run(t, func(t *testing.T) (directory.Customers, directory.History) {
		m := directory.NewMemory(0)
		return m, m
	})
}

func TestMemoryContactsExpire(t *testing.T) {
	m := directory.NewMemory(time.Hour)
	ctx := context.Background()
	now := time.Now()
	if err := m.Record(ctx, directory.Contact{Number: "13800000005", At: now.Add(-2 * time.Hour), Outcome: "answered"}); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := m.LastContact(ctx, "13800000005"); found {
		t.Error("a contact older than the keep time is returned")
	}
	if err := m.Record(ctx, directory.Contact{Number: "13800000001", At: now.Add(-30 * time.Minute), Outcome: "answered"}); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := m.LastContact(ctx, "13800000001"); !found {
		t.Error("a contact within the keep time is not returned")
	}
}

func TestMemoryManaged(t *testing.T) {
	m := directory.NewMemory(0)
	d := dirtest.Parse(t, "", "13800000005,a,1,1,GoTone,yes,1001,5", "13800000006,b,1,1,GoTone,no,1001,4", "13800000007,c,1,1,GoTone,no,1002,4", "13800000008,d,1,1,,no,,1")
	if err := m.Replace(context.Background(), d, "v"); err != nil {
		t.Fatal(err)
	}
	got, err := m.Managed("1001")
	if err != nil || len(got) != 2 || got[0] != "13800000005" || got[1] != "13800000006" {
		t.Fatalf("customers of 1001: %v %v", got, err)
	}
}
