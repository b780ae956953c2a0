package nodetest

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kefu/routing"
)

// benchCallers is how many calls are in progress at once in the loaded
// routing benchmarks (fewer than the 50 agents: every call can be matched as
// it arrives).
const benchCallers = 16

// BenchmarkMatch1Node measures routing decisions of one router on a local
// Redis: callers (1, or 16 at once) each enqueue a call, wait for its offer
// on the Ticket, answer it and finish it, 50 agents serving. Metrics:
// matches/s (full cycles per second: enqueue, match, answer, finish);
// p50-µs and p99-µs, the latency of one routing decision: from Enqueue
// until the EventOffer arrives on the Ticket; redis-cpu-µs/op, the CPU
// time redis-server spent per cycle (INFO cpu). Sub-benchmarks: Redis with
// an append-only file fsynced on every write (aof=always) or without
// persistence (aof=no), and the number of callers.
func BenchmarkMatch1Node(b *testing.B) { benchMatch(b, 1) }

// BenchmarkMatch3Nodes is BenchmarkMatch1Node with three routers, each with
// its own Redis client, the callers spread over them; it also reports
// bus-offers/op, the share of offers that reached their Ticket through the
// Redis bus from another node.
func BenchmarkMatch3Nodes(b *testing.B) { benchMatch(b, 3) }

func benchMatch(b *testing.B, nodeCount int) {
	for _, persist := range []bool{true, false} {
		name := "aof=no"
		if persist {
			name = "aof=always"
		}
		for _, callers := range []int{1, benchCallers} {
			b.Run(fmt.Sprintf("%s/callers=%d", name, callers), func(b *testing.B) { benchMatchOn(b, nodeCount, callers, persist) })
		}
	}
}

func benchMatchOn(b *testing.B, nodeCount, callers int, persist bool) {
	srv := startRedis(b, persist)
	var agents []routing.AgentConfig
	for i := range 50 {
		agents = append(agents, routing.AgentConfig{ID: fmt.Sprintf("a%02d", i+1), Skills: map[string]int{"support": 1 + i%5}})
	}
	cfg := routing.Config{Queues: []routing.QueueConfig{{Name: "support", Skill: "support"}}, Agents: agents, Misses: fastMisses}
	var nodes []*node
	for i := range nodeCount {
		c := cfg
		c.Node = fmt.Sprintf("n%d", i+1)
		nodes = append(nodes, startNode(b, srv, "bench", c))
	}
	loginAll(b, nodes, agents)
	ctx, cancel := context.WithTimeout(b.Context(), 10*time.Minute)
	defer cancel()

	var next atomic.Int64
	var failed atomic.Bool
	lat := make([][]time.Duration, callers)
	var wg sync.WaitGroup
	admin := srv.Client(b, 64)
	cpuBefore := redisCPU(b, admin)
	b.ResetTimer()
	start := time.Now()
	for w := range callers {
		r := nodes[w%nodeCount].router
		wg.Go(func() {
			for i := next.Add(1); i <= int64(b.N) && !failed.Load(); i = next.Add(1) {
				id := fmt.Sprintf("c%d", i)
				t0 := time.Now()
				tk, err := r.Enqueue(ctx, routing.CallRequest{CallID: id, Queue: "support"})
				if err != nil {
					b.Errorf("enqueue %s: %v", id, err)
					failed.Store(true)
					return
				}
				var e routing.Event
				select {
				case e = <-tk.Events():
				case <-ctx.Done():
				}
				if e.Kind != routing.EventOffer {
					b.Errorf("call %s: got %v instead of an offer", id, e)
					failed.Store(true)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
				if err := r.Answered(ctx, e.Offer); err != nil {
					b.Errorf("answered %s: %v", id, err)
				}
				if err := r.Finished(ctx, e.Offer); err != nil {
					b.Errorf("finished %s: %v", id, err)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := redisCPU(b, admin) - cpuBefore

	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))]) / float64(time.Microsecond) }
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "matches/s")
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(cpu.Seconds()*1e6/float64(len(all)), "redis-cpu-µs/op")
	if nodeCount > 1 {
		var received int64
		for _, n := range nodes {
			received += n.bus.received.Load()
		}
		b.ReportMetric(float64(received)/float64(len(all)), "bus-offers/op")
	}
}

// redisCPU returns the CPU time redis-server has used (INFO cpu:
// used_cpu_sys + used_cpu_user).
func redisCPU(tb testing.TB, c *redis.Client) time.Duration {
	tb.Helper()
	info, err := c.Info(tb.Context(), "cpu").Result()
	if err != nil {
		tb.Fatalf("INFO cpu: %v", err)
	}
	var total float64
	for line := range strings.SplitSeq(info, "\r\n") {
		name, v, _ := strings.Cut(line, ":")
		if name == "used_cpu_sys" || name == "used_cpu_user" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				tb.Fatalf("INFO cpu: %q: %v", line, err)
			}
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}

// BenchmarkRedisCeiling runs redis-benchmark against a test redis-server
// started as the routing benchmarks' (aof=always, aof=no): ZADD and the
// EVALSHA of a script that only returns 1, with one connection and with 16
// (as many as the routing benchmarks' callers). Each run measures once,
// whatever b.N, so its time per op means nothing: read the metrics (requests
// per second, and the p50 latency with one connection), next to Kefu's.
// Run it with -benchtime 1x.
func BenchmarkRedisCeiling(b *testing.B) {
	for _, persist := range []bool{true, false} {
		name := "aof=no"
		if persist {
			name = "aof=always"
		}
		b.Run(name, func(b *testing.B) {
			srv := startRedis(b, persist)
			sha, err := srv.Client(b, 64).ScriptLoad(b.Context(), "return 1").Result()
			if err != nil {
				b.Fatalf("SCRIPT LOAD: %v", err)
			}
			for _, clients := range []int{1, benchCallers} {
				rps, p50 := redisBenchmark(b, srv, clients, "-t", "zadd")
				b.ReportMetric(rps, fmt.Sprintf("zadd-c%d/s", clients))
				if clients == 1 {
					b.ReportMetric(p50, "zadd-c1-p50-µs")
				}
				rps, p50 = redisBenchmark(b, srv, clients, "evalsha", sha, "0")
				b.ReportMetric(rps, fmt.Sprintf("evalsha-c%d/s", clients))
				if clients == 1 {
					b.ReportMetric(p50, "evalsha-c1-p50-µs")
				}
			}
		})
	}
}

// rpsLine is redis-benchmark -q's result line: "ZADD: 39292.73 requests per
// second, p50=0.023 msec".
var rpsLine = regexp.MustCompile(`([0-9.]+) requests per second(?:, p50=([0-9.]+) msec)?`)

// redisBenchmark runs redis-benchmark (Debian package redis-tools, which
// redis-server depends on) with 50,000 requests from clients connections
// against srv, and returns its requests per second and p50 latency in µs.
func redisBenchmark(tb testing.TB, srv *redisServer, clients int, test ...string) (rps, p50 float64) {
	tb.Helper()
	bin, err := exec.LookPath("redis-benchmark")
	if err != nil {
		tb.Fatalf("redis-benchmark not found (%v): install redis-tools: apt-get install redis-tools", err)
	}
	args := append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(srv.Port()), "-q", "-n", "50000",
		"-c", strconv.Itoa(clients)}, test...)
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("redis-benchmark %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	var m []string
	for line := range strings.FieldsFuncSeq(string(out), func(r rune) bool { return r == '\r' || r == '\n' }) {
		if found := rpsLine.FindStringSubmatch(line); found != nil && !strings.Contains(line, "rps=") {
			m = found
		}
	}
	if m == nil {
		tb.Fatalf("redis-benchmark %s: no result line in its output:\n%s", strings.Join(args, " "), out)
	}
	rps, err = strconv.ParseFloat(m[1], 64)
	if err != nil {
		tb.Fatalf("redis-benchmark: %q: %v", m[0], err)
	}
	if m[2] != "" {
		ms, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			tb.Fatalf("redis-benchmark: %q: %v", m[0], err)
		}
		p50 = ms * 1000
	}
	return rps, p50
}
