package batch

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"balise/internal/search"
)

// Job is one CSV file being geocoded. Build it with NewJob (which reads
// the header, so input errors surface before any output), then Run it.
type Job struct {
	e      *search.Engine
	opts   Options
	rd     *Reader
	out    charset
	bom    bool
	header []string // output header: input columns + added result columns
	width  int      // number of input columns
	query  []int    // query columns (search)
	filter []filterCol
	latCol int // -1: none
	lonCol int
	cols   []resultCol
	limit  int
	seed   maphash.Seed
}

type filterCol struct {
	name string
	col  int
}

// NewJob prepares the geocoding of r with engine e. Input problems (empty
// file, unknown encoding or column…) are returned as *Error.
func NewJob(e *search.Engine, r io.Reader, opts Options) (*Job, error) {
	opts.normalise()
	rd, err := NewReader(r, opts)
	if err != nil {
		return nil, err
	}
	header := rd.Header()
	j := &Job{e: e, opts: opts, rd: rd, width: len(header), latCol: -1, lonCol: -1, seed: maphash.MakeSeed()}
	col := func(name string) (int, error) {
		if i := slices.Index(header, name); i >= 0 {
			return i, nil
		}
		return -1, columnError(name, header, opts.Flavour)
	}
	if opts.Mode == Search {
		if len(opts.Columns) == 0 {
			for i := range header {
				j.query = append(j.query, i)
			}
		}
		for _, c := range opts.Columns {
			i, err := col(c)
			if err != nil {
				return nil, err
			}
			j.query = append(j.query, i)
		}
	}
	for _, f := range opts.Filters {
		if f.Column == "" {
			continue
		}
		i, err := col(f.Column)
		if err != nil {
			return nil, err
		}
		j.filter = append(j.filter, filterCol{f.Filter, i})
	}
	if opts.Mode == Search {
		if opts.LatColumn != "" && opts.LonColumn != "" {
			if j.latCol, err = col(opts.LatColumn); err != nil {
				return nil, err
			}
			if j.lonCol, err = col(opts.LonColumn); err != nil {
				return nil, err
			}
		}
	} else {
		if j.latCol, err = coordColumn(header, opts.LatColumn, opts.Flavour, "latitude", "lat"); err != nil {
			return nil, err
		}
		if j.lonCol, err = coordColumn(header, opts.LonColumn, opts.Flavour, "longitude", "lon", "lng", "long"); err != nil {
			return nil, err
		}
	}

	var fields []string
	for _, f := range e.Index().Meta().Fields {
		if f.Key != "housenumbers" {
			fields = append(fields, f.Key)
		}
	}
	names := opts.ResultColumns
	if len(names) == 0 {
		names = defaultColumns(opts.Flavour, opts.Mode, fields)
	} else if !slices.Contains(names, StatusColumn) {
		names = append(names[:len(names):len(names)], StatusColumn)
	}
	j.header = append([]string(nil), header...)
	seen := map[string]bool{}
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		c, ok := lookupColumn(name, opts.Flavour, fields)
		if !ok {
			return nil, &Error{Kind: ErrResultColumn, Title: "Invalid parameter", Detail: fmt.Sprintf("unknown result column %q (known: %s)", name, strings.Join(defaultColumns(opts.Flavour, opts.Mode, fields), ", "))}
		}
		c.pos = slices.Index(header, name) // addok-csv overwrites a column of the same name
		if c.pos < 0 {
			c.pos = len(j.header)
			j.header = append(j.header, name)
		}
		j.cols = append(j.cols, c)
	}

	j.limit = 1
	if opts.Mode == Search {
		j.limit = 2 // addok-server asks for 2 (the second gives result_score_next)
		if opts.Flavour == Addok {
			j.limit = 3 // addok-csv 1.1.0
		}
	}
	switch {
	case opts.Encoding != "":
		j.out = rd.cs
		j.bom = rd.cs.bom || opts.WithBOM
	case !rd.cs.isUTF8():
		j.out = rd.cs // give a Windows-1252 file back in Windows-1252
	case opts.Flavour == Addok:
		j.out = charset{name: "utf-8-sig", bom: true} // addok-csv's CSV_ENCODING
		j.bom = true
	default:
		j.out = charset{name: "utf-8"}
		j.bom = rd.cs.bom || opts.WithBOM
	}
	return j, nil
}

func coordColumn(header []string, given string, f Flavour, names ...string) (int, error) {
	if given != "" {
		if i := slices.Index(header, given); i >= 0 {
			return i, nil
		}
		return -1, columnError(given, header, f)
	}
	for _, n := range names {
		if i := slices.Index(header, n); i >= 0 {
			return i, nil
		}
	}
	msg := fmt.Sprintf("Cannot found a %s column (%s) in columns %s", names[0], strings.Join(names, ", "), pyList(header))
	return -1, &Error{Kind: ErrColumn, Title: msg, Detail: msg}
}

// ContentType is the output's media type with its charset (as Addok:
// the encoding's name).
func (j *Job) ContentType() string { return "text/csv; charset=" + j.out.name }

// chunk is a run of consecutive rows, geocoded by one worker.
type chunk struct {
	recs [][]string
	out  [][]string
	meta []rowMeta
	done chan struct{}
}

type rowMeta struct {
	status string
	score  float64
	typ    string
	key    uint64
}

// Run geocodes every row and writes the output CSV to w. progress, when
// not nil, is called after each written chunk with the rows written so
// far. A row that cannot be geocoded gets result_status=error and the file
// goes on; Run fails only on I/O errors or when ctx ends.
func (j *Job) Run(ctx context.Context, w io.Writer, progress func(rows int64)) (*Summary, error) {
	cw, err := newWriter(w, j.rd.delim, j.out, j.bom)
	if err != nil {
		return nil, err
	}
	if err := cw.WriteRow(j.header); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	workers := j.opts.Workers
	order := make(chan *chunk, 2*workers)
	work := make(chan *chunk, workers)
	var readErr error // written by the reader before it closes order
	go func() {
		defer close(order)
		defer close(work)
		for {
			c := &chunk{done: make(chan struct{})}
			for len(c.recs) < j.opts.ChunkRows {
				rec, err := j.rd.Read()
				if err != nil {
					if !errors.Is(err, io.EOF) {
						readErr = err
					}
					break
				}
				c.recs = append(c.recs, rec)
			}
			if len(c.recs) == 0 {
				return
			}
			select {
			case order <- c:
			case <-ctx.Done():
				return
			}
			select {
			case work <- c:
			case <-ctx.Done():
				return
			}
			if len(c.recs) < j.opts.ChunkRows {
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case c, ok := <-work:
					if !ok {
						return
					}
					j.geocodeChunk(ctx, c)
					close(c.done)
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	defer wg.Wait() // no engine use once Run has returned

	sum := newSummary(j.opts.TrackDuplicates)
	for c := range order {
		select {
		case <-c.done:
		case <-ctx.Done():
			cancel()
			return sum, ctx.Err()
		}
		for i, out := range c.out {
			if err := cw.WriteRow(out); err != nil {
				cancel()
				return sum, err
			}
			sum.add(&c.meta[i])
		}
		if err := cw.Flush(); err != nil {
			cancel()
			return sum, err
		}
		if progress != nil {
			progress(sum.Rows)
		}
	}
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	if readErr != nil {
		return sum, readErr
	}
	return sum, cw.Close()
}

func (j *Job) geocodeChunk(ctx context.Context, c *chunk) {
	c.out = make([][]string, len(c.recs))
	c.meta = make([]rowMeta, len(c.recs))
	for i, rec := range c.recs {
		c.out[i] = j.row(ctx, rec, &c.meta[i])
		c.recs[i] = nil
	}
}

// row geocodes one record into its output record.
func (j *Job) row(ctx context.Context, rec []string, m *rowMeta) (out []string) {
	out = make([]string, len(j.header))
	copy(out[:min(len(rec), j.width)], rec) // short rows padded, extra cells dropped (csv.DictWriter)
	defer func() {
		if p := recover(); p != nil {
			m.status = StatusError // one odd row must not take the file down
		}
		for _, c := range j.cols {
			if c.kind == cStatus {
				out[c.pos] = m.status
			}
		}
	}()
	var res []*search.Result
	if j.opts.Mode == Search {
		res = j.search(ctx, rec, m)
	} else {
		res = j.reverse(ctx, rec, m)
	}
	if m.status != StatusOK {
		return out
	}
	cl := cells{js: j.opts.Flavour == BAN, r: res[0]}
	if len(res) > 1 {
		cl.next = res[1]
	}
	m.score = res[0].Score
	m.typ = res[0].Type()
	for i := range j.cols {
		if c := &j.cols[i]; c.kind != cStatus {
			out[c.pos] = cl.value(c)
		}
	}
	return out
}

func cell(rec []string, i int) string {
	if i >= 0 && i < len(rec) {
		return rec[i]
	}
	return ""
}

func (j *Job) filters(rec []string, h *maphash.Hash) []search.Filter {
	var out []search.Filter
	for _, f := range j.filter {
		v := strings.TrimSpace(cell(rec, f.col))
		if v == "" {
			continue
		}
		if h != nil {
			h.WriteString(f.name)
			h.WriteByte(0)
			h.WriteString(v)
			h.WriteByte(0)
		}
		out = append(out, search.Filter{Name: f.name, Values: SplitFilterValue(v)})
	}
	return out
}

// SplitFilterValue splits a filter cell holding several values, joined with
// "+" (the national API's convention) or else with spaces.
func SplitFilterValue(v string) []string {
	var parts []string
	if strings.Contains(v, "+") {
		parts = strings.Split(v, "+")
	} else {
		parts = strings.Fields(v)
	}
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (j *Job) search(ctx context.Context, rec []string, m *rowMeta) []*search.Result {
	var sb strings.Builder
	for k, i := range j.query {
		if k > 0 {
			sb.WriteByte(' ')
		}
		if j.opts.Flavour == BAN {
			sb.WriteString(strings.TrimSpace(cell(rec, i)))
		} else {
			sb.WriteString(cell(rec, i))
		}
	}
	q := sb.String()
	if j.opts.Flavour == BAN {
		q = strings.TrimSpace(q)
		if !ValidBANQuery(q) {
			m.status = StatusSkipped
			return nil
		}
	} else if strings.TrimSpace(q) == "" {
		m.status = StatusSkipped
		return nil
	}
	var hs maphash.Hash
	h := j.rowHash(&hs)
	if h != nil {
		h.WriteString(q)
		h.WriteByte(0)
	}
	sq := search.Query{Q: q, Limit: j.limit, Filters: j.filters(rec, h)}
	if j.latCol >= 0 && j.lonCol >= 0 {
		lat, okLat := parseCoord(cell(rec, j.latCol))
		lon, okLon := parseCoord(cell(rec, j.lonCol))
		if okLat && okLon && math.Abs(lat) <= 90 && math.Abs(lon) <= 180 {
			sq.HasCenter, sq.Lat, sq.Lon = true, lat, lon
			hashPoint(h, lat, lon)
		}
	}
	if h != nil {
		m.key = h.Sum64()
	}
	res, err := j.e.Search(ctx, sq)
	switch {
	case err != nil:
		m.status = StatusError
	case len(res) == 0:
		m.status = StatusNotFound
	case j.opts.Flavour == Addok && !(round2(res[0].Score) > j.opts.MinScore):
		m.status = StatusNotFound // below addok-csv's min_score: cells stay empty
	default:
		m.status = StatusOK
	}
	return res
}

func (j *Job) reverse(ctx context.Context, rec []string, m *rowMeta) []*search.Result {
	lat, okLat := parseCoord(cell(rec, j.latCol))
	lon, okLon := parseCoord(cell(rec, j.lonCol))
	if !okLat || !okLon {
		m.status = StatusSkipped // addok-csv leaves such rows untouched
		return nil
	}
	if math.Abs(lat) > 90 || math.Abs(lon) > 180 {
		m.status = StatusError
		return nil
	}
	var hs maphash.Hash
	h := j.rowHash(&hs)
	hashPoint(h, lat, lon)
	res, err := j.e.Reverse(ctx, search.ReverseQuery{Lat: lat, Lon: lon, Limit: 1, Filters: j.filters(rec, h)})
	if h != nil {
		m.key = h.Sum64()
	}
	switch {
	case err != nil:
		m.status = StatusError
	case len(res) == 0:
		m.status = StatusNotFound
	default:
		m.status = StatusOK
	}
	return res
}

// rowHash seeds h, the hash keying a row's query for the summary's
// duplicate count, and returns it; nil when duplicates are not tracked.
func (j *Job) rowHash(h *maphash.Hash) *maphash.Hash {
	if !j.opts.TrackDuplicates {
		return nil
	}
	h.SetSeed(j.seed)
	return h
}

// hashPoint adds a point to a row's key (nothing when h is nil).
func hashPoint(h *maphash.Hash, lat, lon float64) {
	if h == nil {
		return
	}
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], math.Float64bits(lat))
	binary.LittleEndian.PutUint64(b[8:], math.Float64bits(lon))
	h.Write(b[:])
}

// parseCoord reads a coordinate like Python's float(): surrounding spaces
// allowed; NaN and infinities refused.
func parseCoord(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// ValidBANQuery is addok-server's rule for a query worth sending: 3 to 200
// UTF-16 units once trimmed, starting with a letter (a cased one, as
// JavaScript's toLowerCase/toUpperCase test sees it) or an ASCII digit.
func ValidBANQuery(q string) bool {
	n := 0
	for _, r := range q {
		n += utf16.RuneLen(r)
	}
	if n < 3 || n > 200 {
		return false
	}
	r, _ := utf8.DecodeRuneInString(q)
	return unicode.ToLower(r) != unicode.ToUpper(r) || (r >= '0' && r <= '9')
}
