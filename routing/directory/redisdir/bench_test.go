package redisdir_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"kefu/routing/directory"
	"kefu/routing/internal/redistest"
)

func benchDirectory(b *testing.B, n int) *directory.Directory {
	b.Helper()
	var sb strings.Builder
	sb.WriteString("number,name,value_score,tenure_months,brand,vip,account_manager,stars,plan\n")
	for i := range n {
		fmt.Fprintf(&sb, "138%08d,客户%d,%d.5,%d,GoTone,no,,%d,88元套餐\n", i, i, i%5000, i%120, 1+i%5)
	}
	d, err := directory.Parse(strings.NewReader(sb.String()), "bench.csv")
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkRedisReplace: loading 100,000 customers into Redis (pipelines
// of 1,000) and switching to them.
func BenchmarkRedisReplace(b *testing.B) {
	srv := redistest.Launch(b, redistest.Options{})
	s := newStore(b, srv, "kefu:{bench}:")
	d := benchDirectory(b, 100_000)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := s.Replace(ctx, d, fmt.Sprint("v", i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "customers/s")
}

// BenchmarkRedisLookup: one caller lookup (cached version, one HGETALL),
// 8 callers at once, in a directory of 100,000.
func BenchmarkRedisLookup(b *testing.B) {
	srv := redistest.Launch(b, redistest.Options{})
	s := newStore(b, srv, "kefu:{bench}:")
	ctx := context.Background()
	const n = 100_000
	if err := s.Replace(ctx, benchDirectory(b, n), "v"); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, found, err := s.Lookup(ctx, fmt.Sprintf("138%08d", (i*7919)%n)); !found || err != nil {
				b.Fatal("not found", err)
			}
			i++
		}
	})
}
