package grade

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"kefu/routing/directory"
)

// Keys of the thresholds file.
const (
	keyFive       = "five_star"
	keyFour       = "four_star"
	keyThree      = "three_star"
	keyTwo        = "two_star"
	keyCustomers  = "customers"
	keyComputedAt = "computed_at"
)

// maxThreshold is the largest threshold a file may give: the largest
// composite score (MaxValueScore × 2.0).
const maxThreshold = 2 * MaxValueScore

const thresholdsExample = "five_star: 1230, four_star: 640, three_star: 380, two_star: 120"

// LoadThresholds reads a thresholds file (see ParseThresholds).
func LoadThresholds(path string) (*Thresholds, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("thresholds: %w", err)
	}
	return ParseThresholds(data, path)
}

// ParseThresholds reads a thresholds file: a YAML mapping with five_star,
// four_star, three_star and two_star (numbers ≥ 0, up to 6 decimals, five
// ≥ four ≥ three ≥ two; they need not be multiples of 10), and optionally
// customers (a whole number) and computed_at (an RFC 3339 time). Unknown
// and repeated keys are errors. Errors are *directory.Error values naming
// the line and column, joined.
func ParseThresholds(data []byte, name string) (*Thresholds, error) {
	fail := func(line, col int, field string, err error, fix string) error {
		return &directory.Error{File: name, Line: line, Column: col, Field: field, Err: err, Fix: fix}
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			p := ye.GetToken().Position
			return nil, fail(p.Line, p.Column, "", errors.New(ye.GetMessage()), "fix the YAML syntax; the file is lines of key: number")
		}
		return nil, fail(1, 1, "", err, "fix the YAML syntax; the file is lines of key: number")
	}
	var body ast.Node
	for _, d := range f.Docs {
		if d.Body == nil {
			continue
		}
		if body != nil {
			p := d.Body.GetToken().Position
			return nil, fail(p.Line, p.Column, "", errors.New("a second YAML document"), "keep one set of thresholds per file")
		}
		body = d.Body
	}
	if body == nil {
		return nil, fail(1, 1, "", errors.New("the file has no thresholds"), "write "+thresholdsExample)
	}
	m, ok := body.(*ast.MappingNode)
	if !ok {
		p := body.GetToken().Position
		return nil, fail(p.Line, p.Column, "", errors.New("the file is not a mapping of keys to numbers"), "write "+thresholdsExample)
	}

	var t Thresholds
	var errs []error
	seen := map[string]*token.Position{}
	for _, mv := range m.Values {
		kt := mv.Key.GetToken()
		key := kt.Value
		if first, dup := seen[key]; dup {
			errs = append(errs, fail(kt.Position.Line, kt.Position.Column, key,
				fmt.Errorf("repeated: already on line %d", first.Line), "keep one of them"))
			continue
		}
		seen[key] = kt.Position
		vt := mv.Value.GetToken()
		pos := vt.Position
		_, isScalar := mv.Value.(ast.ScalarNode)
		text := vt.Value
		if !isScalar || mv.Value.Type() == ast.NullType {
			text = ""
		}
		var dst *Score
		switch key {
		case keyFive:
			dst = &t.Five
		case keyFour:
			dst = &t.Four
		case keyThree:
			dst = &t.Three
		case keyTwo:
			dst = &t.Two
		case keyCustomers:
			n, err := strconv.Atoi(text)
			if err != nil || n < 0 {
				errs = append(errs, fail(pos.Line, pos.Column, key, fmt.Errorf("%q is not a number of customers", text), "write a whole number of 0 or more, or delete the line"))
			}
			t.Customers = n
			continue
		case keyComputedAt:
			at, err := time.Parse(time.RFC3339, text)
			if err != nil {
				errs = append(errs, fail(pos.Line, pos.Column, key, fmt.Errorf("%q is not a time", text), "write it like 2026-11-25T10:00:00Z, or delete the line"))
			}
			t.ComputedAt = at
			continue
		default:
			errs = append(errs, fail(kt.Position.Line, kt.Position.Column, key, errors.New("unknown key"),
				"the keys are five_star, four_star, three_star, two_star, customers and computed_at"))
			continue
		}
		v, err := ParseScore(text, maxThreshold)
		switch {
		case text == "":
			errs = append(errs, fail(pos.Line, pos.Column, key, errors.New("no value"), "write the lowest composite score of the grade, like "+key+": 640"))
		case err != nil:
			errs = append(errs, fail(pos.Line, pos.Column, key, fmt.Errorf("%q: %w", text, err),
				fmt.Sprintf("write a number from 0 to %d, like %s: 640", maxThreshold, key)))
		}
		*dst = v
	}
	for _, key := range []string{keyFive, keyFour, keyThree, keyTwo} {
		if _, ok := seen[key]; !ok {
			p := m.GetToken().Position
			errs = append(errs, fail(p.Line, p.Column, key, errors.New("missing"),
				"give all four thresholds: "+thresholdsExample))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := t.validate(); err != nil {
		// Point at the lower threshold of the pair.
		line, col := 1, 1
		for _, key := range []string{keyTwo, keyThree, keyFour, keyFive} {
			if strings.HasPrefix(err.Error(), key) {
				line, col = seen[key].Line, seen[key].Column
				break
			}
		}
		return nil, fail(line, col, "", err, "thresholds must not rise from five_star down to two_star: five_star ≥ four_star ≥ three_star ≥ two_star")
	}
	return &t, nil
}

// MarshalThresholds writes c as a thresholds file, with the raw rank-point
// scores as comments.
func MarshalThresholds(c *Computed) []byte {
	var b strings.Builder
	b.WriteString("# Kefu star-grading thresholds: composite = value_score × tenure coefficient\n")
	fmt.Fprintf(&b, "# each is the composite score at a rank point (5%%, 15%%, 30%%, 70%%) rounded to the nearest 10\n")
	keys := [4]string{keyFive, keyFour, keyThree, keyTwo}
	list := c.list()
	for i, k := range keys {
		fmt.Fprintf(&b, "%-11s %-10s # rank %d of %d, score %s\n", k+":", list[i], c.Rank[i], c.Customers, c.Raw[i])
	}
	fmt.Fprintf(&b, "customers: %d       # how many customers they were computed from\n", c.Customers)
	if !c.ComputedAt.IsZero() {
		fmt.Fprintf(&b, "computed_at: %s\n", c.ComputedAt.UTC().Format(time.RFC3339))
	}
	return []byte(b.String())
}
