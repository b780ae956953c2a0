package grade

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSelectRanksMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	gens := map[string]func(i, n int) int64{
		"random":    func(i, n int) int64 { return rng.Int64N(1e12) },
		"few ties":  func(i, n int) int64 { return rng.Int64N(5) },
		"all equal": func(i, n int) int64 { return 42 },
		"ascending": func(i, n int) int64 { return int64(i) },
		"desc":      func(i, n int) int64 { return int64(n - i) },
		"organ":     func(i, n int) int64 { return int64(min(i, n-i)) },
	}
	for name, gen := range gens {
		for _, n := range []int{1, 2, 3, 17, 20, 100, 1000, 10007} {
			a := make([]int64, n)
			for i := range a {
				a[i] = gen(i, n)
			}
			sorted := slices.Clone(a)
			slices.Sort(sorted)
			slices.Reverse(sorted) // highest first
			var ranks []int
			for _, p := range Percent {
				ranks = append(ranks, RankPoint(p, n))
			}
			ranks = append(ranks, 1, n, RankPoint(5, n)) // repeats are fine
			got := SelectRanks(a, ranks)
			for i, r := range ranks {
				if got[i] != sorted[r-1] {
					t.Errorf("%s n=%d rank %d: %d, want %d", name, n, r, got[i], sorted[r-1])
				}
			}
		}
	}
}

func TestRankPoint(t *testing.T) {
	for _, tc := range []struct{ p, n, want int }{
		{5, 20, 1}, {15, 20, 3}, {30, 20, 6}, {70, 20, 14}, // the 20-customer fixture
		{5, 21, 2}, {5, 1, 1}, {70, 1, 1}, {5, 1_000_000, 50_000}, {70, 1_000_001, 700_001},
	} {
		if got := RankPoint(tc.p, tc.n); got != tc.want {
			t.Errorf("RankPoint(%d%%, %d) = %d, want %d", tc.p, tc.n, got, tc.want)
		}
	}
}

func scores(t *testing.T, values ...string) []int64 {
	t.Helper()
	var out []int64
	for _, v := range values {
		s, err := ParseScore(v, maxThreshold)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, int64(s))
	}
	return out
}

func TestCompute(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scores []string
		min    int
		want   [4]string // five, four, three, two
		raw    [4]string
		rank   [4]int
		dist   [6]int
	}{
		{
			// The fixture testdata/grading/twenty.csv, composites sorted:
			// 1200, 950, 645, 645, 275, 274.99999, 272, 200, 187, 171, 130,
			// 125×5, 100, 55, 10.5, 0. Ranks ceil(.05·20)=1, ceil(.15·20)=3,
			// ceil(.3·20)=6, ceil(.7·20)=14: raw 1200, 645, 274.99999, 125;
			// rounded 1200, 650 (half up), 270, 130 (half up).
			// 645 < 650: both 645s get 3 stars; 125 < 130: all five 125s 1 star.
			name: "twenty",
			scores: []string{"1200", "950", "645", "645", "275", "274.99999", "272", "200", "187", "171", "130",
				"125", "125", "125", "125", "125", "100", "55", "10.5", "0"},
			want: [4]string{"1200", "650", "270", "130"},
			raw:  [4]string{"1200", "645", "274.99999", "125"},
			rank: [4]int{1, 3, 6, 14},
			dist: [6]int{0, 9, 4, 5, 1, 1},
		},
		{
			// All equal: every threshold is round(100) = 100, everyone 5 stars.
			name:   "equal scores",
			scores: []string{"100", "100", "100", "100", "100"},
			min:    5,
			want:   [4]string{"100", "100", "100", "100"},
			raw:    [4]string{"100", "100", "100", "100"},
			rank:   [4]int{1, 1, 2, 4},
			dist:   [6]int{0, 0, 0, 0, 0, 5},
		},
		{
			// 10 customers 10, 20, …, 100 (min lowered): ranks 1, 2, 3, 7:
			// raw 100, 90, 80, 40, already multiples of 10. Ties on the
			// thresholds get the higher grade: 100 → 5, 90 → 4, 80 → 3,
			// 70..40 → 2, 30..10 → 1.
			name:   "ten, on the thresholds",
			scores: []string{"10", "20", "30", "40", "50", "60", "70", "80", "90", "100"},
			min:    10,
			want:   [4]string{"100", "90", "80", "40"},
			raw:    [4]string{"100", "90", "80", "40"},
			rank:   [4]int{1, 2, 3, 7},
			dist:   [6]int{0, 3, 4, 1, 1, 1},
		},
		{
			// Rounding makes thresholds meet: sorted 104, 101, 99, 96, 1×6;
			// ranks 1, 2, 3, 7: raw 104, 101, 99, 1 round to 100, 100, 100,
			// 0. 104 and 101 are five-star; four- and three-star are empty;
			// 99, 96 and the 1s are ≥ 0: two-star; nobody is one-star.
			name:   "thresholds meet",
			scores: []string{"104", "101", "99", "96", "1", "1", "1", "1", "1", "1"},
			min:    10,
			want:   [4]string{"100", "100", "100", "0"},
			raw:    [4]string{"104", "101", "99", "1"},
			rank:   [4]int{1, 2, 3, 7},
			dist:   [6]int{0, 0, 8, 0, 0, 2},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := scores(t, tc.scores...)
			c, err := Compute(slices.Clone(s), tc.min)
			if err != nil {
				t.Fatal(err)
			}
			got := c.list()
			for i := range 4 {
				if got[i].String() != tc.want[i] || c.Raw[i].String() != tc.raw[i] || c.Rank[i] != tc.rank[i] {
					t.Errorf("point %d: rank %d raw %s threshold %s; want rank %d raw %s threshold %s",
						i, c.Rank[i], c.Raw[i], got[i], tc.rank[i], tc.raw[i], tc.want[i])
				}
			}
			var d Distribution
			for _, v := range s {
				d.Add(c.Stars(Score(v)))
			}
			if d.Count != tc.dist {
				t.Errorf("distribution %v, want %v", d.Count, tc.dist)
			}
		})
	}
}

func TestComputeTooFew(t *testing.T) {
	s := scores(t, "1", "2", "3")
	_, err := Compute(s, 0) // default 20
	var few *TooFewError
	if !errors.As(err, &few) || few.Customers != 3 || few.Min != DefaultMinCustomers {
		t.Fatalf("error %v", err)
	}
	if _, err := Compute(nil, 1); !errors.Is(err, ErrNoCustomers) {
		t.Fatalf("no customers: %v", err)
	}
	if _, err := Compute(s, 3); err != nil {
		t.Fatalf("min 3: %v", err)
	}
	// 19 customers: refused by default; 20: computed.
	if _, err := Compute(make([]int64, 19), 0); !errors.As(err, &few) {
		t.Fatalf("19: %v", err)
	}
	if _, err := Compute(make([]int64, 20), 0); err != nil {
		t.Fatalf("20: %v", err)
	}
}

// TestSharesProperty: on large random files the shares follow 5/10/15/40/30
// up to rounding and ties, exactly as bounded here.
func TestSharesProperty(t *testing.T) {
	sizes := []int{50_000, 200_000}
	if testing.Short() || raceEnabled {
		sizes = []int{20_000, 50_000}
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range sizes {
		for _, kind := range []string{"continuous", "coarse"} {
			values := make([]int64, n)
			for i := range values {
				var micro int64
				if kind == "continuous" {
					micro = rng.Int64N(5000 * microPerUnit) // 0–5000 with 6 decimals
				} else {
					micro = rng.Int64N(40) * 5 * microPerUnit // multiples of 5: ties and halves
				}
				values[i] = int64(Composite(micro, rng.IntN(121)))
			}
			c, err := Compute(slices.Clone(values), 0)
			if err != nil {
				t.Fatal(err)
			}
			atLeast := func(s Score) int {
				k := 0
				for _, v := range values {
					if Score(v) >= s {
						k++
					}
				}
				return k
			}
			var d Distribution
			for _, v := range values {
				d.Add(c.Stars(Score(v)))
			}
			t5 := c.list()
			cum := 0
			for k := range 4 {
				cum += d.Count[5-k]
				T, raw, r := t5[k], c.Raw[k], c.Rank[k]
				if got := atLeast(T); got != cum {
					t.Fatalf("%s n=%d point %d: %d customers ≥ threshold but %d graded at or above", kind, n, k, got, cum)
				}
				// Rounding moves the threshold by at most 5 either way.
				lo, hi := atLeast(raw+5*ScoreUnit), atLeast(raw-5*ScoreUnit)
				if cum < lo || cum > hi {
					t.Errorf("%s n=%d point %d: %d at or above, outside [%d, %d]", kind, n, k, cum, lo, hi)
				}
				if T <= raw && cum < r {
					t.Errorf("%s n=%d point %d: threshold %s ≤ raw %s but only %d ≥ it, rank %d", kind, n, k, T, raw, cum, r)
				}
				if T > raw && cum >= r {
					t.Errorf("%s n=%d point %d: threshold %s > raw %s but %d ≥ it, rank %d", kind, n, k, T, raw, cum, r)
				}
			}
			if kind == "continuous" {
				for s := 5; s >= 1; s-- {
					if diff := d.Share(s) - float64(TargetShare[5-s]); diff < -0.5 || diff > 0.5 {
						t.Errorf("n=%d: %d stars %.2f%%, target %d%%", n, s, d.Share(s), TargetShare[5-s])
					}
				}
			}
		}
	}
}
