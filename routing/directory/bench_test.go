package directory_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"kefu/routing/directory"
)

// benchDirectory builds a directory of n customers numbered 1380000000x.
func benchDirectory(b *testing.B, n int) *directory.Directory {
	b.Helper()
	var sb strings.Builder
	sb.WriteString("number,name,value_score,tenure_months,brand,vip,account_manager,stars,plan\n")
	for i := range n {
		fmt.Fprintf(&sb, "138%08d,客户%d,%d.5,%d,GoTone,%v,%s,%d,88元套餐\n", i, i, i%5000, i%120, i%50 == 0, map[bool]string{true: "1001"}[i%200 == 0], 1+i%5)
	}
	d, err := directory.Parse(strings.NewReader(sb.String()), "bench.csv")
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkMemoryLookup: one caller lookup in the embedded store of
// 1,000,000 customers.
func BenchmarkMemoryLookup(b *testing.B) {
	const n = 1_000_000
	m := directory.NewMemory(0)
	if err := m.Replace(context.Background(), benchDirectory(b, n), "v"); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, found, err := m.Lookup(ctx, fmt.Sprintf("138%08d", (i*7919)%n)); !found || err != nil {
				b.Fatal("not found", err)
			}
			i++
		}
	})
}

// BenchmarkServiceCaller: the whole caller view (normalise, customer, tier,
// last contact) from the embedded store.
func BenchmarkServiceCaller(b *testing.B) {
	const n = 100_000
	m := directory.NewMemory(0)
	ctx := context.Background()
	if err := m.Replace(ctx, benchDirectory(b, n), "v"); err != nil {
		b.Fatal(err)
	}
	s := directory.NewService(directory.Options{Customers: m, History: m, Policy: directory.Policy{Boosts: map[string]time.Duration{"vip": time.Minute, "five_star": time.Minute}}})
	for i := range 1000 {
		_ = s.Record(ctx, directory.Contact{Number: fmt.Sprintf("138%08d", i), Outcome: "answered", Agent: "1001"})
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Caller(ctx, fmt.Sprintf("+86 138%08d", i%n)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemoryReplace: putting a directory of 1,000,000 customers in
// place (a reload), after parsing.
func BenchmarkMemoryReplace(b *testing.B) {
	d := benchDirectory(b, 1_000_000)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		m := directory.NewMemory(0)
		if err := m.Replace(ctx, d, fmt.Sprint(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse: reading a customer file of 1,000,000 rows.
func BenchmarkParse(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("number,name,value_score,tenure_months,brand,vip,account_manager,stars\n")
	for i := range 1_000_000 {
		fmt.Fprintf(&sb, "138%08d,客户%d,%d.5,%d,GoTone,no,,%d\n", i, i, i%5000, i%120, 1+i%5)
	}
	data := sb.String()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := directory.Parse(strings.NewReader(data), "bench.csv"); err != nil {
			b.Fatal(err)
		}
	}
}
