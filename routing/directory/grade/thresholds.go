package grade

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// DefaultMinCustomers is the fewest customers thresholds are computed from
// unless the caller says otherwise.
const DefaultMinCustomers = 20

// Percent are the rank points, in percent, of the four thresholds: five
// star, four star, three star, two star.
var Percent = [4]int{5, 15, 30, 70}

// TargetShare is the share of customers, in percent, each grade aims at,
// from five star down to one star.
var TargetShare = [5]int{5, 10, 15, 40, 30}

// Thresholds are the lowest composite scores of five, four, three and two
// stars; below Two is one star.
type Thresholds struct {
	Five, Four, Three, Two Score
	// Customers is how many customers they were computed from (0: unknown).
	Customers int
	// ComputedAt is when they were computed (zero: unknown).
	ComputedAt time.Time
}

// Stars grades a composite score: ≥ Five → 5, ≥ Four → 4, ≥ Three → 3,
// ≥ Two → 2, else 1. A score exactly on a threshold gets the higher grade.
func (t *Thresholds) Stars(s Score) int {
	switch {
	case s >= t.Five:
		return 5
	case s >= t.Four:
		return 4
	case s >= t.Three:
		return 3
	case s >= t.Two:
		return 2
	}
	return 1
}

// list returns the thresholds from five star down.
func (t *Thresholds) list() [4]Score { return [4]Score{t.Five, t.Four, t.Three, t.Two} }

// validate checks the order five ≥ four ≥ three ≥ two ≥ 0.
func (t *Thresholds) validate() error {
	l := t.list()
	names := [4]string{"five_star", "four_star", "three_star", "two_star"}
	for i, v := range l {
		if v < 0 {
			return fmt.Errorf("%s is negative", names[i])
		}
		if i > 0 && v > l[i-1] {
			return fmt.Errorf("%s (%s) is above %s (%s)", names[i], v, names[i-1], l[i-1])
		}
	}
	return nil
}

// Computed is the result of Compute: the rank points, the raw scores at
// them and the rounded thresholds.
type Computed struct {
	Thresholds
	// Rank is the 1-based rank (highest score first) of each rank point,
	// ceil(p·N) for p = 5, 15, 30, 70 %.
	Rank [4]int
	// Raw is the composite score of the customer at each rank point.
	Raw [4]Score
}

// ErrNoCustomers is returned by Compute for no customers at all.
var ErrNoCustomers = errors.New("there are no customers to grade")

// TooFewError is returned by Compute for fewer customers than the minimum.
type TooFewError struct{ Customers, Min int }

func (e *TooFewError) Error() string {
	return fmt.Sprintf("only %d customers, fewer than the minimum of %d: with so few the rank points are single customers, not percentiles (the 5%% rank point is rank %d)",
		e.Customers, e.Min, RankPoint(Percent[0], e.Customers))
}

// Fix says how to grade anyway.
func (e *TooFewError) Fix() string {
	return "grade by the national thresholds with -thresholds FILE, or lower -min-customers if you really mean to rank this few"
}

// Compute ranks scores (highest first) and returns the thresholds: for
// each rank point the score at rank ceil(p·N), rounded to the nearest
// multiple of 10 (halves up). It reorders scores. Fewer than minCustomers
// scores (DefaultMinCustomers when minCustomers < 1) is a *TooFewError,
// none at all ErrNoCustomers.
func Compute(scores []int64, minCustomers int) (*Computed, error) {
	if minCustomers < 1 {
		minCustomers = DefaultMinCustomers
	}
	n := len(scores)
	if n == 0 {
		return nil, ErrNoCustomers
	}
	if n < minCustomers {
		return nil, &TooFewError{Customers: n, Min: minCustomers}
	}
	c := &Computed{}
	var ranks []int
	for i, p := range Percent {
		c.Rank[i] = RankPoint(p, n)
		ranks = append(ranks, c.Rank[i])
	}
	raw := SelectRanks(scores, ranks)
	var t [4]Score
	for i := range raw {
		c.Raw[i] = Score(raw[i])
		t[i] = Round10(c.Raw[i])
	}
	c.Thresholds = Thresholds{Five: t[0], Four: t[1], Three: t[2], Two: t[3], Customers: n}
	return c, nil
}

// RankPoint returns ceil(percent·n/100), at least 1: the 1-based rank of
// the percent rank point among n customers.
func RankPoint(percent, n int) int {
	r := (percent*n + 99) / 100
	return max(r, 1)
}

// SelectRanks returns, for each 1-based rank (1 = highest), the value at
// that rank in a sorted-descending order of a, without sorting a: a
// multi-way quickselect with three-way partitions (so that many equal
// values cost nothing extra), O(len(a)) expected; after too many bad
// pivots a range is sorted instead, so the worst case is O(N log N). It
// reorders a. Ranks outside 1..len(a) panic.
func SelectRanks(a []int64, ranks []int) []int64 {
	n := len(a)
	// Rank r from the top is index n-r in ascending order.
	idx := make([]int, len(ranks))
	for i, r := range ranks {
		if r < 1 || r > n {
			panic(fmt.Sprintf("grade: rank %d out of 1..%d", r, n))
		}
		idx[i] = n - r
	}
	sorted := slices.Clone(idx)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	depth := 0
	for m := n; m > 0; m >>= 1 {
		depth += 2
	}
	multiSelect(a, 0, n, sorted, depth)
	out := make([]int64, len(ranks))
	for i, k := range idx {
		out[i] = a[k]
	}
	return out
}

// multiSelect puts a[k] in its sorted place for every k in ks (ascending,
// all within [lo, hi)).
func multiSelect(a []int64, lo, hi int, ks []int, depth int) {
	for len(ks) > 0 {
		if hi-lo <= 16 || depth == 0 {
			slices.Sort(a[lo:hi])
			return
		}
		depth--
		p := pivot(a, lo, hi)
		lt, gt := partition3(a, lo, hi, p) // a[lo:lt] < p, a[lt:gt] == p, a[gt:hi] > p
		i := 0
		for i < len(ks) && ks[i] < lt {
			i++
		}
		j := i
		for j < len(ks) && ks[j] < gt {
			j++
		}
		left, right := ks[:i], ks[j:]
		// Recurse into the smaller side, loop on the larger.
		if len(left) > 0 && len(right) > 0 {
			if lt-lo < hi-gt {
				multiSelect(a, lo, lt, left, depth)
				lo, ks = gt, right
			} else {
				multiSelect(a, gt, hi, right, depth)
				hi, ks = lt, left
			}
			continue
		}
		if len(left) > 0 {
			hi, ks = lt, left
		} else {
			lo, ks = gt, right
		}
	}
}

// pivot picks the median of a[lo], a[mid], a[hi-1] and of two more
// samples: the median of five, cheap and robust against sorted input.
func pivot(a []int64, lo, hi int) int64 {
	n := hi - lo
	s := [5]int64{a[lo], a[lo+n/4], a[lo+n/2], a[lo+3*n/4], a[hi-1]}
	// insertion sort of five
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[2]
}

// partition3 is a Dutch national flag partition of a[lo:hi] around p.
func partition3(a []int64, lo, hi int, p int64) (lt, gt int) {
	lt, i, gt := lo, lo, hi
	for i < gt {
		switch v := a[i]; {
		case v < p:
			a[lt], a[i] = v, a[lt]
			lt++
			i++
		case v > p:
			gt--
			a[gt], a[i] = v, a[gt]
		default:
			i++
		}
	}
	return lt, gt
}

// Distribution counts customers per grade: Count[s] for s stars (Count[0]
// is unused).
type Distribution struct {
	Count [6]int
	Total int
}

// Add counts one customer of the given grade.
func (d *Distribution) Add(stars int) {
	d.Count[stars]++
	d.Total++
}

// Share returns the share of customers with the given grade, in percent.
func (d *Distribution) Share(stars int) float64 {
	if d.Total == 0 {
		return 0
	}
	return 100 * float64(d.Count[stars]) / float64(d.Total)
}
