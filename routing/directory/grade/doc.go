// Package grade grades customers five-star to one-star by the carriers'
// method (China Unicom, mobile public customers): it computes the
// thresholds from a customer file, reads and writes thresholds files, and
// writes a customer file back with each customer's grade.
//
// # The method
//
// Each customer's composite score is value_score × tenure coefficient,
// the coefficient by months on the network:
//
//	months       ≤12  13–24  25–36  37–48  49–60  >60
//	coefficient  1.0  1.1    1.5    1.7    1.9    2.0
//
// Customers are ranked by composite score, highest first. For the rank
// points p = 5 %, 15 %, 30 % and 70 % the rank is r = ceil(p·N) (1-based,
// at least 1) and the raw threshold is the composite score of the customer
// at rank r. Each raw threshold is rounded to the nearest multiple of 10,
// exact halves up (15 → 20, 25 → 30, 274.99999 → 270); those are the five,
// four, three and two star thresholds T5 ≥ T4 ≥ T3 ≥ T2. A customer gets 5
// stars when composite ≥ T5, 4 when ≥ T4, 3 when ≥ T3, 2 when ≥ T2, else 1.
//
// # Arithmetic
//
// Everything is exact fixed point, never float: value_score is read as a
// decimal in millionths (digits, an optional '.', decimals beyond the 6th
// rounded half up at the 6th; no exponent, no '+', a '-' is the error
// "negative", at most MaxValueScore = 1e9); coefficients are tenths; so a
// Score is an int64 in units of 1e-7 and 250 × 1.1 is exactly 275. The
// largest Score, 2e9 × 1e7 = 2e16, is far inside int64. tenure_months is a
// whole number 0–MaxTenureMonths (1200).
//
// # Edge cases, decided
//
//   - Ties: a customer exactly on a threshold gets the higher grade, and
//     equal scores always get equal grades. So the shares drift from
//     5/10/15/40/30 % when many customers share a score or rounding moves a
//     threshold; the real distribution is reported, never forced.
//   - Rounding can make two thresholds equal (say T4 = T3): the grade in
//     between then has no customers. That is allowed and reported.
//   - Too few customers: below 20 customers the 5 % rank point is a single
//     customer, not a percentile. Compute refuses fewer than MinCustomers
//     (default DefaultMinCustomers = 20) with a *TooFewError whose Fix says
//     to grade by the national thresholds (a thresholds file, -thresholds)
//     or lower the minimum on purpose. No customers at all is
//     ErrNoCustomers, also when grading by fixed thresholds.
//   - Selection: the four rank points are found with a multi-way
//     quickselect on an []int64 (expected O(N), worst case O(N log N)),
//     not a full sort.
//   - Thresholds files (YAML): five_star, four_star, three_star, two_star
//     are required, numbers ≥ 0 with up to 6 decimals (they need not be
//     multiples of 10, so national thresholds are taken as published),
//     five ≥ four ≥ three ≥ two (equal allowed); customers and computed_at
//     are optional; unknown or repeated keys are errors; every error names
//     the line and column and says how to fix it.
//
// # Customer files
//
// Prepare (the first pass) reads a customer file with the header rules of
// package directory (required columns in any order, names without regard
// to case, other columns kept, stars optional). For grading, value_score
// and tenure_months are required in every row; an empty, non-numeric,
// negative or too large cell, a number that is not a phone number, and a
// number repeated after directory.Normalize (the error names both lines)
// are errors with file:line:column and a fix, up to 20 at once. Other
// cells (vip, brand, the old stars…) are not checked: grading does not use
// them and keeps them as they are. Rows whose cells are all empty are
// skipped and left out of the output. The first pass keeps only one int64
// per customer.
//
// Plan.Write (the second pass) reads the file again and writes it back byte
// for byte (quotes, spaces, line endings, unnormalised numbers), except
// that each customer's stars cell is set to the grade (replaced where the
// column exists, ",stars" and ",N" appended where not) and blank rows are
// left out. The output has the input's character set (UTF-8 or GB18030,
// see package charset) and byte-order mark. Pass 1 validated the file with
// encoding/csv, so pass 2 only finds record and cell boundaries (newlines
// and commas outside quotes); a file that changed in between is an error.
//
// # Speed
//
// A million customers take about a second on two cores: in each pass one
// goroutine reads, decodes and checks the character set ahead of the
// parser; in pass 1 encoding/csv runs in a goroutine of its own while the
// rows are checked, and repeated numbers (packed into uint64s, an
// open-addressing table) are looked for in a third. Every goroutine is
// stopped and waited for before Prepare or Write returns.
package grade
