// Package directory is the customer directory: who is calling, read from the
// customer CSV file, and which routing tier that caller gets.
//
// The file has a header row naming its columns, in any order:
//
//	number,name,value_score,tenure_months,brand,vip,account_manager[,stars]
//
// All of these are required except stars; further columns are kept in
// Customer.Extra. Header names are matched without regard to case or
// surrounding spaces; a UTF-8 byte-order mark (as spreadsheet programs write)
// is ignored. Cells:
//
//   - number: a phone number, normalised by Normalize; unique after that.
//   - name, brand: free text (GoTone 全球通, M-Zone 动感地带, Easyown 神州行…).
//   - value_score: a number ≥ 0; tenure_months: a whole number ≥ 0. Both may
//     be empty (0); they feed customer grading.
//   - vip: true/false, yes/no, y/n, 1/0, 是/否 (any case); empty means no.
//   - account_manager: the agent id of the customer's account manager, or empty.
//   - stars: the grade, 1 (one-star) to 5 (five-star); empty or 0: not graded.
//
// Rows whose cells are all empty are skipped. Errors name the file, line and
// column and say how to fix the cell; Parse reports up to 20 of them at once.
package directory

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Column names.
const (
	ColNumber         = "number"
	ColName           = "name"
	ColValueScore     = "value_score"
	ColTenureMonths   = "tenure_months"
	ColBrand          = "brand"
	ColVIP            = "vip"
	ColAccountManager = "account_manager"
	ColStars          = "stars"
)

// requiredColumns lists the columns every file must have, in the documented order.
func requiredColumns() []string {
	return []string{ColNumber, ColName, ColValueScore, ColTenureMonths, ColBrand, ColVIP, ColAccountManager}
}

// maxErrors is how many row errors Parse collects before it gives up.
const maxErrors = 20

// Customer is one row of the directory.
type Customer struct {
	// Number is the normalised phone number (see Normalize).
	Number string `json:"number"`
	Name   string `json:"name,omitempty"`
	// ValueScore and TenureMonths are the grading inputs (0 when empty).
	ValueScore   float64 `json:"value_score"`
	TenureMonths int     `json:"tenure_months"`
	// Stars is the grade, 1-5; 0 means not graded (tier default).
	Stars int    `json:"stars"`
	Brand string `json:"brand,omitempty"`
	VIP   bool   `json:"vip"`
	// AccountManager is the agent id of the customer's account manager.
	AccountManager string `json:"account_manager,omitempty"`
	// Extra holds the cells of columns the directory does not know, by
	// header name; nil when there are none.
	Extra map[string]string `json:"extra,omitempty"`
}

// Directory is a loaded customer file. It is read-only and safe for
// concurrent use.
type Directory struct {
	customers []Customer
	byNumber  map[string]int
}

// Error is a problem in a customer file, at a line and column (1-based; the
// column counts bytes, as editors and encoding/csv do).
type Error struct {
	File   string
	Line   int
	Column int
	// Field is the column name the cell belongs to, when known.
	Field string
	// Err says what is wrong; Fix, when set, says how to put it right.
	Err error
	Fix string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.Column)
	if e.Field != "" {
		fmt.Fprintf(&b, "column %s: ", e.Field)
	}
	b.WriteString(e.Err.Error())
	if e.Fix != "" {
		fmt.Fprintf(&b, " (%s)", e.Fix)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Load reads the customer file at path.
func Load(path string) (*Directory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads a customer file from r; name is the file name used in errors.
// The error, if any, joins up to 20 *Error values.
func Parse(r io.Reader, name string) (*Directory, error) {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\ufeff" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // checked here, with a better message
	cr.ReuseRecord = true

	p := &parser{file: name, cr: cr}
	header, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return nil, &Error{File: name, Line: 1, Column: 1, Err: errors.New("the file is empty"),
			Fix: "start it with the header row " + strings.Join(requiredColumns(), ",") + ",stars"}
	case err != nil:
		return nil, p.csvError(err)
	}
	if err := p.header(header); err != nil {
		return nil, err
	}

	d := &Directory{}
	var where [][2]int // line and column of each customer's number, for duplicate errors
	for len(p.errs) < maxErrors {
		record, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			p.add(p.csvError(err))
			break
		}
		c, ok := p.row(record)
		if !ok || c.Number == "" { // an error, or an empty row
			continue
		}
		line, col := cr.FieldPos(p.idx[ColNumber])
		where = append(where, [2]int{line, col})
		d.customers = append(d.customers, c)
	}
	// Index by number once the size is known: a map grown row by row
	// rehashes a million keys again and again.
	d.byNumber = make(map[string]int, len(d.customers))
	for i, c := range d.customers {
		first, dup := d.byNumber[c.Number]
		if !dup {
			d.byNumber[c.Number] = i
			continue
		}
		if len(p.errs) >= maxErrors {
			break
		}
		p.add(&Error{File: name, Line: where[i][0], Column: where[i][1], Field: ColNumber,
			Err: fmt.Errorf("number %s is already on line %d", c.Number, where[first][0]),
			Fix: "each customer must appear once; merge or delete one of the rows"})
	}
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b error) int { return cmp.Compare(errorLine(a), errorLine(b)) })
		errs := p.errs
		if len(errs) >= maxErrors {
			errs = append(errs, fmt.Errorf("%s: stopped after %d errors", name, maxErrors))
		}
		return nil, errors.Join(errs...)
	}
	return d, nil
}

// errorLine is the line an error is on (0 when it has none).
func errorLine(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Line
	}
	return 0
}

// Lookup finds the customer calling from number (any form Normalize accepts).
func (d *Directory) Lookup(number string) (Customer, bool) {
	n, ok := Normalize(number)
	if !ok {
		return Customer{}, false
	}
	i, ok := d.byNumber[n]
	if !ok {
		return Customer{}, false
	}
	return d.customers[i].clone(), true
}

// Len returns the number of customers.
func (d *Directory) Len() int { return len(d.customers) }

// Customers returns every customer in file order (copies).
func (d *Directory) Customers() []Customer {
	out := make([]Customer, len(d.customers))
	for i, c := range d.customers {
		out[i] = c.clone()
	}
	return out
}

func (c Customer) clone() Customer {
	if c.Extra != nil {
		extra := make(map[string]string, len(c.Extra))
		for k, v := range c.Extra {
			extra[k] = v
		}
		c.Extra = extra
	}
	return c
}

// parser holds the state of one Parse.
type parser struct {
	file   string
	cr     *csv.Reader
	names  []string       // header names by field index
	idx    map[string]int // known column → field index
	extras []int          // field indexes of unknown columns
	errs   []error
}

func (p *parser) add(err error) { p.errs = append(p.errs, err) }

// csvError turns an encoding/csv error into an *Error.
func (p *parser) csvError(err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", p.file, err)
	}
	fix := "check the quotes: a cell with a comma or quote must be wrapped in double quotes, and a quote inside it doubled (\"\")"
	return &Error{File: p.file, Line: pe.Line, Column: pe.Column, Err: pe.Err, Fix: fix}
}

// cellError records a problem with field i of the current record.
func (p *parser) cellError(i int, err error, fix string) {
	line, col := p.cr.FieldPos(i)
	field := ""
	if i < len(p.names) {
		field = p.names[i]
	}
	p.add(&Error{File: p.file, Line: line, Column: col, Field: field, Err: err, Fix: fix})
}

func (p *parser) header(record []string) error {
	p.idx = map[string]int{}
	p.names = make([]string, len(record))
	var errs []error
	for i, raw := range record {
		name := strings.ToLower(strings.TrimSpace(raw))
		p.names[i] = name
		line, col := p.cr.FieldPos(i)
		switch {
		case name == "":
			errs = append(errs, &Error{File: p.file, Line: line, Column: col, Err: fmt.Errorf("header column %d has no name", i+1),
				Fix: "name every column, or delete the empty one"})
			continue
		case p.has(name):
			errs = append(errs, &Error{File: p.file, Line: line, Column: col, Err: fmt.Errorf("column %q appears twice in the header", name),
				Fix: "delete or rename one of them"})
			continue
		}
		if isKnown(name) {
			p.idx[name] = i
		} else {
			p.extras = append(p.extras, i)
		}
	}
	for _, col := range requiredColumns() {
		if _, ok := p.idx[col]; !ok {
			errs = append(errs, &Error{File: p.file, Line: 1, Column: 1, Err: fmt.Errorf("the header has no %q column", col),
				Fix: "the header must name " + strings.Join(requiredColumns(), ",") + " (any order) and may add stars"})
		}
	}
	return errors.Join(errs...)
}

func (p *parser) has(name string) bool {
	if _, ok := p.idx[name]; ok {
		return true
	}
	for _, i := range p.extras {
		if p.names[i] == name {
			return true
		}
	}
	return false
}

func isKnown(name string) bool {
	switch name {
	case ColNumber, ColName, ColValueScore, ColTenureMonths, ColBrand, ColVIP, ColAccountManager, ColStars:
		return true
	}
	return false
}

// row parses one record. It returns a zero Customer and true for a row
// whose cells are all empty, and false if it recorded an error.
func (p *parser) row(record []string) (Customer, bool) {
	blank := true
	for _, cell := range record {
		if strings.TrimSpace(cell) != "" {
			blank = false
			break
		}
	}
	if blank {
		return Customer{}, true
	}
	if len(record) != len(p.names) {
		line, _ := p.cr.FieldPos(0)
		p.add(&Error{File: p.file, Line: line, Column: 1,
			Err: fmt.Errorf("the row has %d cells but the header has %d columns", len(record), len(p.names)),
			Fix: "every row needs one cell per header column; quote cells that contain commas"})
		return Customer{}, false
	}
	errsBefore := len(p.errs)
	cell := func(col string) (string, int) {
		i, ok := p.idx[col]
		if !ok {
			return "", -1
		}
		return strings.TrimSpace(record[i]), i
	}

	var c Customer
	raw, i := cell(ColNumber)
	if n, ok := Normalize(raw); ok {
		c.Number = n
	} else {
		p.cellError(i, fmt.Errorf("%q is not a phone number", raw),
			"write the number with digits only, optionally with +86, 0086 or 86 in front; spaces, dashes and parentheses are ignored")
	}
	c.Name, _ = cell(ColName)
	c.Brand, _ = cell(ColBrand)
	c.AccountManager, _ = cell(ColAccountManager)

	if raw, i := cell(ColValueScore); raw != "" {
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			p.cellError(i, fmt.Errorf("%q is not a score", raw), "write a number of 0 or more, like 356.5, or leave the cell empty")
		}
		c.ValueScore = v
	}
	if raw, i := cell(ColTenureMonths); raw != "" {
		v, err := strconv.Atoi(raw)
		if err != nil || v < 0 {
			p.cellError(i, fmt.Errorf("%q is not a number of months", raw), "write a whole number of 0 or more, like 36, or leave the cell empty")
		}
		c.TenureMonths = v
	}
	raw, i = cell(ColVIP)
	vip, ok := parseYesNo(raw)
	if !ok {
		p.cellError(i, fmt.Errorf("%q is not a yes/no value", raw), "write one of true/false, yes/no, Y/N, 1/0, or leave the cell empty for no")
	}
	c.VIP = vip
	if raw, i := cell(ColStars); raw != "" {
		v, err := strconv.Atoi(raw)
		if err != nil || v < 0 || v > 5 {
			p.cellError(i, fmt.Errorf("%q is not a star grade", raw), "write 1 (one-star) to 5 (five-star), or leave the cell empty if the customer is not graded")
		}
		c.Stars = v
	}
	for _, i := range p.extras {
		if c.Extra == nil {
			c.Extra = make(map[string]string, len(p.extras))
		}
		c.Extra[p.names[i]] = strings.TrimSpace(record[i])
	}
	return c, len(p.errs) == errsBefore
}

// parseYesNo reads a vip cell; empty is no.
func parseYesNo(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "y", "1", "是":
		return true, true
	case "false", "no", "n", "0", "否", "":
		return false, true
	}
	return false, false
}

// GradeUngraded sets the grade of every customer without one (Stars 0) to
// stars(customer), and returns how many it graded. Use it before the
// directory is put in place (Options.Prepare); it is not safe to use
// concurrently with lookups.
func (d *Directory) GradeUngraded(stars func(Customer) int) int {
	n := 0
	for i := range d.customers {
		if d.customers[i].Stars == 0 {
			d.customers[i].Stars = stars(d.customers[i])
			n++
		}
	}
	return n
}
