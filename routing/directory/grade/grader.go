package grade

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"

	"kefu/routing/directory"
	"kefu/routing/directory/charset"
)

// maxErrors is how many row errors Prepare collects before it gives up.
const maxErrors = 20

// Options configure Prepare.
type Options struct {
	// Name is the file name used in errors (default "input").
	Name string
	// Encoding is "auto" (default), "utf-8" or "gb18030" (aliases "gbk",
	// "gb2312"); see package charset.
	Encoding string
	// Thresholds, when set, are fixed thresholds to grade by (the national
	// ones); nil computes them from the file.
	Thresholds *Thresholds
	// MinCustomers is the fewest customers thresholds are computed from
	// (default DefaultMinCustomers); unused with Thresholds.
	MinCustomers int
}

// Plan is a validated customer file ready to be written with grades: the
// result of the first pass.
type Plan struct {
	// Info is the input's character set; the output uses the same.
	Info charset.Info
	// Computed is what Compute found, nil with fixed thresholds.
	Computed *Computed
	// Thresholds are the thresholds graded by.
	Thresholds Thresholds
	// Distribution counts the customers per grade.
	Distribution Distribution

	opts       Options
	composites []int64 // per customer row, in file order
}

// Customers returns the number of customers (rows that are not blank).
func (p *Plan) Customers() int { return len(p.composites) }

// Prepare reads a customer file (the first pass): it checks the header and
// every row, computes each customer's composite score, and the thresholds
// unless opts gives them. Errors are *directory.Error values (up to 20, in
// file order, joined; text that is not in the character set is one too),
// a *TooFewError or ErrNoCustomers wrapped with the file name, or a read
// error.
func Prepare(r io.Reader, opts Options) (*Plan, error) {
	if opts.Name == "" {
		opts.Name = "input"
	}
	p := &Plan{opts: opts}
	rows, err := newRowReader(r, opts)
	if err != nil {
		return nil, err
	}
	defer rows.close()
	p.Info = rows.info
	if err := rows.readHeader(); err != nil {
		return nil, err
	}
	// Repeated numbers are found on the other core: the table lookups miss
	// the cache and cost as much as the parsing.
	dups := newDupFinder(opts.Name, directory.ColNumber)
	defer dups.stop()
	iNum, iValue, iTenure := rows.idx[directory.ColNumber], rows.idx[directory.ColValueScore], rows.idx[directory.ColTenureMonths]
	stream := rows.stream([3]int{iNum, iValue, iTenure})
	defer stream.stop()
scan:
	for len(rows.errs) < maxErrors {
		batch, ok := stream.next()
		if !ok {
			break
		}
		for bi := range batch.recs {
			rec := &batch.recs[bi]
			if rec.n != len(rows.names) {
				rows.add(&directory.Error{File: opts.Name, Line: rec.line, Column: 1,
					Err: fmt.Errorf("the row has %d cells but the header has %d columns", rec.n, len(rows.names)),
					Fix: "every row needs one cell per header column; quote cells that contain commas"})
				if len(rows.errs) >= maxErrors {
					break scan
				}
				continue
			}
			before := len(rows.errs)
			raw := strings.TrimSpace(rec.cells[0])
			if num, ok := directory.Normalize(raw); !ok {
				rows.cellError(rec, 0, iNum, fmt.Errorf("%q is not a phone number", raw),
					"write the number with digits only, optionally with +86, 0086 or 86 in front; spaces, dashes and parentheses are ignored")
			} else {
				dups.add(num, int(rec.pos[0].line), int(rec.pos[0].col))
			}
			value, err := ParseValueScore(rec.cells[1])
			if err != nil {
				rows.cellError(rec, 1, iValue, fmt.Errorf("%q: %w", strings.TrimSpace(rec.cells[1]), err), valueFix(err))
			}
			months, err := ParseTenure(rec.cells[2])
			if err != nil {
				rows.cellError(rec, 2, iTenure, fmt.Errorf("%q: %w", strings.TrimSpace(rec.cells[2]), err), tenureFix(err))
			}
			if len(rows.errs) == before {
				p.composites = append(p.composites, int64(Composite(value, months)))
			} else if len(rows.errs) >= maxErrors {
				break scan
			}
		}
		if batch.err != nil {
			rows.add(rows.readError(batch.err))
			break
		}
	}
	stopped := len(rows.errs) >= maxErrors
	errs := append(rows.errs, dups.stop()...)
	if len(errs) > 0 {
		// In file order, the first 20.
		slices.SortStableFunc(errs, func(a, b error) int { return cmp.Compare(errLine(a), errLine(b)) })
		if len(errs) > maxErrors {
			errs, stopped = errs[:maxErrors], true
		}
		if stopped {
			errs = append(errs, fmt.Errorf("%s: stopped after %d errors", opts.Name, maxErrors))
		}
		return nil, errors.Join(errs...)
	}
	if len(p.composites) == 0 {
		return nil, fmt.Errorf("%s: %w", opts.Name, ErrNoCustomers)
	}
	if opts.Thresholds != nil {
		p.Thresholds = *opts.Thresholds
	} else {
		c, err := Compute(slices.Clone(p.composites), opts.MinCustomers)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", opts.Name, err)
		}
		p.Computed = c
		p.Thresholds = c.Thresholds
	}
	for _, s := range p.composites {
		p.Distribution.Add(p.Thresholds.Stars(Score(s)))
	}
	return p, nil
}

// errLine returns the line of an error for sorting; errors without one
// (reading failed) go last.
func errLine(err error) int {
	var e *directory.Error
	if errors.As(err, &e) {
		return e.Line
	}
	return math.MaxInt
}

// dupFinder finds repeated numbers in a goroutine of its own.
type dupFinder struct {
	file, field string
	batch       []numberAt
	ch          chan []numberAt
	done        chan []error
	errs        []error        // from long, then from the goroutine
	long        map[string]int // numbers that do not pack → first line
	stopped     bool
}

func (d *dupFinder) dupError(number string, first, line, col int) error {
	return &directory.Error{File: d.file, Line: line, Column: col, Field: d.field,
		Err: fmt.Errorf("number %s is already on line %d", number, first),
		Fix: "each customer must appear once; merge or delete one of the rows"}
}

// numberAt is a packed number (see pack) and where it is.
type numberAt struct {
	key       uint64
	line, col int32
}

const dupBatch = 4096

func newDupFinder(file, field string) *dupFinder {
	d := &dupFinder{file: file, field: field, ch: make(chan []numberAt, 4), done: make(chan []error, 1)}
	d.batch = make([]numberAt, 0, dupBatch)
	go d.run()
	return d
}

func (d *dupFinder) add(number string, line, col int) {
	k, ok := pack(number)
	if !ok || line > math.MaxInt32 || col > math.MaxInt32 {
		// Not expected: numbers of more than 16 characters, files of more
		// than 2^31 lines. Checked here, in a map.
		if d.long == nil {
			d.long = map[string]int{}
		}
		if first, dup := d.long[number]; dup {
			d.errs = append(d.errs, d.dupError(number, first, line, col))
		} else {
			d.long[number] = line
		}
		return
	}
	d.batch = append(d.batch, numberAt{k, int32(line), int32(col)})
	if len(d.batch) == dupBatch {
		d.ch <- d.batch
		d.batch = make([]numberAt, 0, dupBatch)
	}
}

func (d *dupFinder) run() {
	set := newNumberSet()
	var errs []error
	for batch := range d.ch {
		for _, n := range batch {
			if first, dup := set.add(n.key, n.line); dup && len(errs) < maxErrors {
				errs = append(errs, d.dupError(unpack(n.key), first, int(n.line), int(n.col)))
			}
		}
	}
	d.done <- errs
}

// stop waits for the goroutine and returns the errors it found; it is
// idempotent.
func (d *dupFinder) stop() []error {
	if d.stopped {
		return d.errs
	}
	d.stopped = true
	if len(d.batch) > 0 {
		d.ch <- d.batch
	}
	close(d.ch)
	d.errs = append(d.errs, <-d.done...)
	return d.errs
}

func valueFix(err error) string {
	switch {
	case errors.Is(err, ErrEmpty):
		return "grading needs every customer's value_score: fill it in, or remove the customer from the file"
	case errors.Is(err, ErrNegative):
		return "a value score is 0 or more"
	case errors.Is(err, ErrTooLarge):
		return fmt.Sprintf("a value score is at most %d; check the cell", MaxValueScore)
	}
	return "write a plain number of 0 or more, like 356.5 (no exponent, no thousands separator, '.' for decimals)"
}

func tenureFix(err error) string {
	switch {
	case errors.Is(err, ErrEmpty):
		return "grading needs every customer's tenure_months: fill in the months on the network, or remove the customer from the file"
	case errors.Is(err, ErrNegative):
		return "months on the network are 0 or more"
	case errors.Is(err, ErrTooLarge):
		return fmt.Sprintf("months on the network are at most %d; check the cell", MaxTenureMonths)
	}
	return "write a whole number of months, like 36"
}

// Write reads the same file again (the second pass) and writes it to w with
// each customer's grade in the stars column. The output is the input, byte
// for byte (quotes, spaces, line endings), except that the stars cell of
// each customer row is replaced by the grade, or ",stars" and ",N" are
// appended to the header and the rows when the file has no stars column;
// blank rows are left out. It is written in the input's character set and
// with its byte-order mark.
//
// The file was checked by Prepare with encoding/csv, so Write only needs to
// find record and cell boundaries: a record ends at a newline outside
// quotes, a cell at a comma outside quotes.
func (p *Plan) Write(r io.Reader, w io.Writer) error {
	text, _, err := charset.NewReader(r, p.Info.Encoding.String())
	if err != nil {
		return fmt.Errorf("%s: %w", p.opts.Name, err)
	}
	pre := newPrefetcher(text)
	defer pre.stop()
	sc := &recordScanner{br: bufio.NewReaderSize(pre, 64<<10)}
	cw := charset.NewWriter(w, p.Info)
	bw := bufio.NewWriterSize(cw, 64<<10)
	changed := fmt.Errorf("%s: the file changed between the two passes", p.opts.Name)

	// The header: encoding/csv skips empty lines before it.
	var header []byte
	for {
		rec, err := sc.next()
		if err != nil {
			return fmt.Errorf("%s: %w", p.opts.Name, err)
		}
		if body, _ := splitEOL(rec); len(body) > 0 {
			header = rec
			break
		}
	}
	starsAt := -1
	sc.cells(header)
	columns := len(sc.spans) / 2
	for i := 0; i < columns; i++ {
		if strings.EqualFold(strings.TrimSpace(string(unquote(header[sc.spans[2*i]:sc.spans[2*i+1]]))), directory.ColStars) {
			starsAt = i
		}
	}
	if starsAt < 0 {
		body, eol := splitEOL(header)
		bw.Write(body)
		bw.WriteString("," + directory.ColStars)
		bw.Write(eol)
	} else {
		bw.Write(header)
	}

	n := 0
	for {
		rec, err := sc.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p.opts.Name, err)
		}
		if sc.cells(rec) {
			continue // blank
		}
		if n >= len(p.composites) || len(sc.spans)/2 != columns {
			return changed
		}
		star := byte('0' + p.Thresholds.Stars(Score(p.composites[n])))
		n++
		if starsAt < 0 {
			body, eol := splitEOL(rec)
			bw.Write(body)
			bw.Write([]byte{',', star})
			bw.Write(eol)
			continue
		}
		bw.Write(rec[:sc.spans[2*starsAt]])
		bw.WriteByte(star)
		if _, err := bw.Write(rec[sc.spans[2*starsAt+1]:]); err != nil {
			return err
		}
	}
	if n != len(p.composites) {
		return changed
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return cw.Close()
}

// recordScanner splits CSV text that encoding/csv accepted into records
// and cells, without unquoting anything.
type recordScanner struct {
	br    *bufio.Reader
	rec   []byte // a record of several lines, or longer than the buffer
	spans []int  // start and end of each cell in the last record
}

// next returns the next record with its line ending; it is valid until
// the next call.
func (s *recordScanner) next() ([]byte, error) {
	s.rec = s.rec[:0]
	quotes := 0
	for {
		line, err := s.br.ReadSlice('\n')
		q := quotes + bytes.Count(line, quote)
		if err == nil && len(s.rec) == 0 && q%2 == 0 {
			return line, nil // the usual case: one line, no copy
		}
		s.rec = append(s.rec, line...)
		quotes = q
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(s.rec) == 0 {
				return nil, io.EOF
			}
			return s.rec, nil
		case err != nil:
			return nil, err
		case quotes%2 == 0:
			return s.rec, nil
		}
	}
}

var quote = []byte{'"'}

// cells finds the cells of rec in s.spans and reports whether every cell
// is empty or spaces (a blank row).
func (s *recordScanner) cells(rec []byte) (blank bool) {
	body, _ := splitEOL(rec)
	s.spans = s.spans[:0]
	blank = true
	start, inQuotes := 0, false
	cell := func(end int) {
		s.spans = append(s.spans, start, end)
		if blank && len(bytes.TrimSpace(unquote(body[start:end]))) > 0 {
			blank = false
		}
	}
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '"':
			inQuotes = !inQuotes
		case ',':
			if !inQuotes {
				cell(i)
				start = i + 1
			}
		}
	}
	cell(len(body))
	return blank
}

// unquote drops the quotes around a quoted cell (doubled quotes inside
// stay doubled: enough to tell empty from not).
func unquote(cell []byte) []byte {
	if len(cell) >= 2 && cell[0] == '"' && cell[len(cell)-1] == '"' {
		return cell[1 : len(cell)-1]
	}
	return cell
}

// splitEOL splits a record into its text and its line ending: "\n",
// "\r\n", or at the end of the file "" or a lone "\r" (which encoding/csv
// drops too).
func splitEOL(rec []byte) (body, eol []byte) {
	n := len(rec)
	switch {
	case n >= 2 && rec[n-2] == '\r' && rec[n-1] == '\n':
		return rec[:n-2], rec[n-2:]
	case n >= 1 && (rec[n-1] == '\n' || rec[n-1] == '\r'):
		return rec[:n-1], rec[n-1:]
	}
	return rec, nil
}

// Report prints the thresholds and the distribution as aligned tables.
func (p *Plan) Report(w io.Writer, source string) error {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	grades := [4]string{"five-star", "four-star", "three-star", "two-star"}
	t := p.Thresholds.list()
	if c := p.Computed; c != nil {
		fmt.Fprintf(&b, "thresholds computed from %d customers, input %s; composite = value_score × tenure coefficient:\n", c.Customers, p.Info)
		fmt.Fprintln(tw, "grade\trank point\trank\traw score\tthreshold\t")
		for i, g := range grades {
			fmt.Fprintf(tw, "%s\t%d%%\t%d\t%s\t%s\t\n", g, Percent[i], c.Rank[i], c.Raw[i], t[i])
		}
	} else {
		from := ""
		if p.Thresholds.Customers > 0 {
			from = fmt.Sprintf(", computed from %d customers", p.Thresholds.Customers)
		}
		if !p.Thresholds.ComputedAt.IsZero() {
			from += " at " + p.Thresholds.ComputedAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		fmt.Fprintf(&b, "fixed thresholds from %s%s; %d customers graded, input %s:\n", source, from, p.Customers(), p.Info)
		fmt.Fprintln(tw, "grade\tthreshold\t")
		for i, g := range grades {
			fmt.Fprintf(tw, "%s\t%s\t\n", g, t[i])
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b.WriteString("\ndistribution:\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stars\tcustomers\tshare\ttarget\t")
	var empty []string
	d := &p.Distribution
	for s := 5; s >= 1; s-- {
		fmt.Fprintf(tw, "%d\t%d\t%.2f%%\t%d%%\t\n", s, d.Count[s], d.Share(s), TargetShare[5-s])
		if d.Count[s] == 0 {
			empty = append(empty, strconv.Itoa(s))
		}
	}
	fmt.Fprintf(tw, "total\t%d\t100.00%%\t100%%\t\n", d.Total)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(empty) > 0 {
		fmt.Fprintf(&b, "note: no customer has %s star(s): ties or rounding made thresholds meet\n", strings.Join(empty, ", "))
	}
	_, err := w.Write(b.Bytes())
	return err
}

// rowReader reads a customer file's header and records.
type rowReader struct {
	file string
	info charset.Info
	// prefetch reads ahead in a goroutine; close stops it.
	prefetch *prefetcher
	cr       *csv.Reader
	header   []string       // the header as written
	names    []string       // header names, lower case, trimmed
	idx      map[string]int // known column → field index
	errs     []error
}

func newRowReader(r io.Reader, opts Options) (*rowReader, error) {
	text, info, err := charset.NewReader(r, opts.Encoding)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opts.Name, err)
	}
	pre := newPrefetcher(text)
	br := bufio.NewReaderSize(pre, 64<<10)
	rr := &rowReader{file: opts.Name, info: info, prefetch: pre}
	rr.cr = csv.NewReader(br)
	rr.cr.FieldsPerRecord = -1
	rr.cr.ReuseRecord = true
	return rr, nil
}

func (rr *rowReader) add(err error) { rr.errs = append(rr.errs, err) }

// close stops reading ahead; call it after the record stream has stopped.
func (rr *rowReader) close() { rr.prefetch.stop() }

// readError turns an error of the CSV reader into an *directory.Error, or
// names the file.
func (rr *rowReader) readError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &directory.Error{File: rr.file, Line: pe.Line, Column: pe.Column, Err: pe.Err,
			Fix: "check the quotes: a cell with a comma or quote must be wrapped in double quotes, and a quote inside it doubled (\"\")"}
	}
	var ie *charset.InvalidError
	if errors.As(err, &ie) {
		return &directory.Error{File: rr.file, Line: ie.Line, Column: 1, Err: errors.New(ie.What()), Fix: ie.Fix()}
	}
	return fmt.Errorf("%s: %w", rr.file, err)
}

// cellError records a problem with field i of rec, whose position is
// rec.pos[k].
func (rr *rowReader) cellError(rec *record, k, i int, err error, fix string) {
	p := rec.pos[k]
	rr.add(&directory.Error{File: rr.file, Line: int(p.line), Column: int(p.col), Field: rr.names[i], Err: err, Fix: fix})
}

// record is what the first pass needs of a CSV record that is not blank:
// its line, its number of cells, and three of its cells with their
// positions.
type record struct {
	cells [3]string
	n     int
	line  int
	pos   [3]struct{ line, col int32 }
}

// recordStream reads records in a goroutine of its own, in batches, so
// that parsing the CSV and checking or writing rows use both cores.
type recordStream struct {
	ch      chan recordBatch
	done    chan struct{}
	wg      sync.WaitGroup
	stopped bool
}

type recordBatch struct {
	recs []record
	err  error // the read error that ended the stream, not io.EOF
}

const streamBatch = 1024

// stream starts reading the records after the header; fields names the
// cells each record keeps, with their positions.
func (rr *rowReader) stream(fields [3]int) *recordStream {
	s := &recordStream{ch: make(chan recordBatch, 8), done: make(chan struct{})}
	s.wg.Go(func() {
		defer close(s.ch)
		batch := make([]record, 0, streamBatch)
		for {
			cells, err := rr.cr.Read()
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				if len(batch) > 0 || err != nil {
					select {
					case s.ch <- recordBatch{recs: batch, err: err}:
					case <-s.done:
					}
				}
				return
			}
			if blank(cells) {
				continue
			}
			r := record{n: len(cells)}
			r.line, _ = rr.cr.FieldPos(0)
			for k, i := range fields {
				if i < len(cells) {
					r.cells[k] = cells[i]
					line, col := rr.cr.FieldPos(i)
					r.pos[k].line, r.pos[k].col = int32(min(line, math.MaxInt32)), int32(min(col, math.MaxInt32))
				}
			}
			batch = append(batch, r)
			if len(batch) == streamBatch {
				select {
				case s.ch <- recordBatch{recs: batch}:
				case <-s.done:
					return
				}
				batch = make([]record, 0, streamBatch)
			}
		}
	})
	return s
}

// next returns the next batch; false at the end.
func (s *recordStream) next() (recordBatch, bool) {
	b, ok := <-s.ch
	return b, ok
}

// stop ends the stream and waits for its goroutine; it is idempotent.
func (s *recordStream) stop() {
	if s.stopped {
		return
	}
	s.stopped = true
	close(s.done)
	s.wg.Wait()
}

// readHeader reads the header with the directory's rules: the required
// columns in any order, names without regard to case or surrounding
// spaces, no empty or repeated names, other columns kept.
func (rr *rowReader) readHeader() error {
	record, err := rr.cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return &directory.Error{File: rr.file, Line: 1, Column: 1, Err: errors.New("the file is empty"),
			Fix: "start it with the header row number,name,value_score,tenure_months,brand,vip,account_manager"}
	case err != nil:
		return rr.readError(err)
	}
	rr.header = append([]string(nil), record...)
	rr.names = make([]string, len(record))
	rr.idx = map[string]int{}
	seen := map[string]bool{}
	var errs []error
	for i, raw := range record {
		name := strings.ToLower(strings.TrimSpace(raw))
		rr.names[i] = name
		line, col := rr.cr.FieldPos(i)
		switch {
		case name == "":
			errs = append(errs, &directory.Error{File: rr.file, Line: line, Column: col, Err: fmt.Errorf("header column %d has no name", i+1),
				Fix: "name every column, or delete the empty one"})
			continue
		case seen[name]:
			errs = append(errs, &directory.Error{File: rr.file, Line: line, Column: col, Err: fmt.Errorf("column %q appears twice in the header", name),
				Fix: "delete or rename one of them"})
			continue
		}
		seen[name] = true
		switch name {
		case directory.ColNumber, directory.ColName, directory.ColValueScore, directory.ColTenureMonths,
			directory.ColBrand, directory.ColVIP, directory.ColAccountManager, directory.ColStars:
			rr.idx[name] = i
		}
	}
	required := []string{directory.ColNumber, directory.ColName, directory.ColValueScore, directory.ColTenureMonths,
		directory.ColBrand, directory.ColVIP, directory.ColAccountManager}
	for _, col := range required {
		if _, ok := rr.idx[col]; !ok {
			errs = append(errs, &directory.Error{File: rr.file, Line: 1, Column: 1, Err: fmt.Errorf("the header has no %q column", col),
				Fix: "the header must name " + strings.Join(required, ",") + " (any order) and may add stars"})
		}
	}
	return errors.Join(errs...)
}

// blank reports whether every cell of record is empty or spaces.
func blank(record []string) bool {
	for _, cell := range record {
		if strings.TrimSpace(cell) != "" {
			return false
		}
	}
	return true
}

// numberSet finds repeated packed numbers: an open-addressing table with
// linear probing, at most half full. A million numbers cost 32 MB and no
// allocation per number.
type numberSet struct {
	slots []slot // key 0: empty (a packed number is never 0)
	used  int
}

type slot struct {
	key  uint64
	line int32
}

func newNumberSet() *numberSet {
	return &numberSet{slots: make([]slot, 1<<12)}
}

// add records the packed number k on line; when it was already there, it
// returns the first line and true.
func (s *numberSet) add(k uint64, line int32) (int, bool) {
	if 2*(s.used+1) > len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := hash64(k) & mask; ; i = (i + 1) & mask {
		switch sl := &s.slots[i]; sl.key {
		case 0:
			sl.key, sl.line = k, line
			s.used++
			return 0, false
		case k:
			return int(sl.line), true
		}
	}
}

func (s *numberSet) grow() {
	old := s.slots
	s.slots = make([]slot, 2*len(old))
	mask := uint64(len(s.slots) - 1)
	for _, sl := range old {
		if sl.key == 0 {
			continue
		}
		i := hash64(sl.key) & mask
		for s.slots[i].key != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = sl
	}
}

// hash64 mixes the bits of a packed number (the finaliser of SplitMix64).
func hash64(k uint64) uint64 {
	k ^= k >> 30
	k *= 0xbf58476d1ce4e5b9
	k ^= k >> 27
	k *= 0x94d049bb133111eb
	k ^= k >> 31
	return k
}

// pack packs a number of up to 16 characters, each "+" or a digit, into a
// uint64 of 4-bit codes 1–11.
func pack(number string) (uint64, bool) {
	if len(number) > 16 {
		return 0, false
	}
	var k uint64
	for i := 0; i < len(number); i++ {
		switch c := number[i]; {
		case c >= '0' && c <= '9':
			k = k<<4 | (uint64(c-'0') + 1)
		case c == '+':
			k = k<<4 | 11
		default:
			return 0, false
		}
	}
	return k, k != 0
}

// unpack is the inverse of pack.
func unpack(k uint64) string {
	var b [16]byte
	i := len(b)
	for ; k != 0; k >>= 4 {
		i--
		if c := k & 15; c == 11 {
			b[i] = '+'
		} else {
			b[i] = byte('0' + c - 1)
		}
	}
	return string(b[i:])
}
