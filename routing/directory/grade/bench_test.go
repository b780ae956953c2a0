package grade

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// writeBenchFile writes n customers with wide-spread random scores.
func writeBenchFile(tb testing.TB, path string, n int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	rng := rand.New(rand.NewPCG(1, 2))
	fmt.Fprintln(w, "number,name,value_score,tenure_months,brand,vip,account_manager,stars")
	for i := range n {
		fmt.Fprintf(w, "1%d%09d,客户%d,%d.%02d,%d,GoTone 全球通,no,a%d,\n", 3+i%7, i, i, rng.IntN(3000), rng.IntN(100), rng.IntN(121), i%50)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkGradeMillion grades a 1,000,000-customer file end to end: both
// passes, thresholds computed, output written to a file.
//
//	go test -run '^$' -bench GradeMillion -benchtime 5x ./routing/directory/grade
func BenchmarkGradeMillion(b *testing.B) {
	const n = 1_000_000
	dir := b.TempDir()
	in := filepath.Join(dir, "in.csv")
	writeBenchFile(b, in, n)
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	for range b.N {
		if err := gradeFileOnce(in, filepath.Join(dir, "out.csv")); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/time.Since(start).Seconds(), "customers/s")
	// CPU time (user + system, all cores) says what the machine's load does
	// not: wall time on a busy machine waits for other processes.
	b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is the process's user + system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func gradeFileOnce(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	plan, err := Prepare(f, Options{Name: in})
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	o, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := plan.Write(f, o); err != nil {
		o.Close()
		return err
	}
	return o.Close()
}

// BenchmarkSelectRanks finds the four rank points of 1,000,000 scores.
//
//	go test -run '^$' -bench SelectRanks ./routing/directory/grade
func BenchmarkSelectRanks(b *testing.B) {
	const n = 1_000_000
	rng := rand.New(rand.NewPCG(3, 4))
	src := make([]int64, n)
	for i := range src {
		src[i] = rng.Int64N(2e16)
	}
	a := make([]int64, n)
	ranks := []int{RankPoint(5, n), RankPoint(15, n), RankPoint(30, n), RankPoint(70, n)}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		copy(a, src)
		b.StartTimer()
		SelectRanks(a, ranks)
	}
}
