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
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"balise/internal/pyjs"
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
	// maxQuery is the engine's byte bound on a trimmed query, checked here
	// so that a row over it costs nothing (0: none).
	maxQuery int
	// beforeRow, when set, is called before each row is geocoded: the
	// tests' way to make a row fail as a bug would.
	beforeRow func(rec []string)
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

	if err := j.addResultColumns(e); err != nil {
		return nil, err
	}
	j.limit = 1
	if opts.Mode == Search {
		j.limit = 2 // addok-server asks for 2 (the second gives result_score_next)
		if opts.Flavour == Addok {
			j.limit = 3 // addok-csv 1.1.0
		}
	}
	j.maxQuery = queryByteBound(e.Config())
	j.chooseOutputEncoding()
	return j, nil
}

// addResultColumns sets the output header: the input's, then the result
// columns asked for (or the flavour's), result_status always among them.
func (j *Job) addResultColumns(e *search.Engine) error {
	opts, header := j.opts, j.rd.Header()
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
			return &Error{Kind: ErrResultColumn, Title: "Invalid parameter", Detail: fmt.Sprintf("unknown result column %q (known: %s)", name, strings.Join(defaultColumns(opts.Flavour, opts.Mode, fields), ", "))}
		}
		c.pos = slices.Index(header, name) // addok-csv overwrites a column of the same name
		if c.pos < 0 {
			c.pos = len(j.header)
			j.header = append(j.header, name)
		}
		j.cols = append(j.cols, c)
	}

	return nil
}

// chooseOutputEncoding gives the file back in its own encoding, or in the
// flavour's UTF-8.
func (j *Job) chooseOutputEncoding() {
	opts, rd := j.opts, j.rd
	switch {
	case opts.Encoding != "":
		j.out = rd.cs
		j.bom = rd.cs.bom || opts.WithBOM
	case !rd.cs.isUTF8():
		j.out = rd.cs // give a Windows-1252 or UTF-16 file back as it came
		j.bom = rd.cs.bom || opts.WithBOM && rd.cs.order != notUTF16
	case opts.Flavour == Addok:
		j.out = charset{name: "utf-8-sig", bom: true} // addok-csv's CSV_ENCODING
		j.bom = true
	default:
		j.out = charset{name: "utf-8"}
		j.bom = rd.cs.bom || opts.WithBOM
	}
}

// queryByteBound is the length in bytes above which a trimmed query
// cannot pass the engine: its own byte bound when it has one, else 16
// bytes per folded character allowed (4 bytes of UTF-8 each, and room for
// the blanks and punctuation that folding merges).
func queryByteBound(c search.Config) int {
	if c.QueryMaxBytes > 0 {
		return c.QueryMaxBytes
	}
	return max(16*c.QueryMaxLength, 0)
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
	msg := fmt.Sprintf("Cannot found a %s column (%s) in columns %s", names[0], strings.Join(names, ", "), pyjs.PyReprList(header))
	return -1, &Error{Kind: ErrColumn, Title: msg, Detail: msg}
}

// ContentType is the output's media type with its charset (as Addok:
// the encoding's name).
func (j *Job) ContentType() string { return "text/csv; charset=" + j.out.name }

func cell(rec []string, i int) string {
	if i >= 0 && i < len(rec) {
		return rec[i]
	}
	return ""
}

// maxFilterCellValues bounds the values of one filter cell: the engine
// uses the first few distinct ones (search.Config.MaxFilterValues, 10 by
// default), so a cell with more than this many is not data but noise, and
// its row an error.
const maxFilterCellValues = 100

// filters reads the row's filter cells; ok is false when a cell holds too
// many values.
func (j *Job) filters(rec []string, h *maphash.Hash) (out []search.Filter, ok bool) {
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
		vals, ok := splitFilterCell(v, maxFilterCellValues)
		if !ok {
			return nil, false
		}
		out = append(out, search.Filter{Name: f.name, Values: vals})
	}
	return out, true
}

// SplitFilterValue splits a filter cell holding several values, joined with
// "+" (the national API's convention) or else with spaces.
func SplitFilterValue(v string) []string {
	out, _ := splitFilterCell(v, -1)
	if out == nil {
		return []string{}
	}
	return out
}

// splitFilterCell is SplitFilterValue that gives up (ok false) past
// limit values (no limit when negative), in one pass whatever the cell.
func splitFilterCell(v string, limit int) (out []string, ok bool) {
	plus := strings.Contains(v, "+")
	for v != "" {
		var p string
		if plus {
			p, v, _ = strings.Cut(v, "+")
			p = strings.TrimSpace(p)
		} else {
			v = strings.TrimLeftFunc(v, unicode.IsSpace)
			i := strings.IndexFunc(v, unicode.IsSpace)
			if i < 0 {
				i = len(v)
			}
			p, v = v[:i], v[i:]
		}
		if p == "" {
			continue
		}
		if len(out) == limit {
			return nil, false
		}
		out = append(out, p)
	}
	return out, true
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
	trimmed := strings.TrimSpace(q)
	if j.opts.Flavour == BAN {
		q = trimmed
		if !ValidBANQuery(q) {
			m.status = StatusSkipped
			return nil
		}
	} else if trimmed == "" {
		m.status = StatusSkipped
		return nil
	}
	var hs maphash.Hash
	h := j.rowHash(&hs)
	if h != nil {
		h.WriteString(q)
		h.WriteByte(0)
	}
	filters, filtersOK := j.filters(rec, h)
	sq := search.Query{Q: q, Limit: j.limit, Filters: filters}
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
	if !filtersOK || j.maxQuery > 0 && len(trimmed) > j.maxQuery {
		m.status = StatusError // what the engine would say, without the text pipeline
		return nil
	}
	res, err := j.e.Search(ctx, sq)
	switch {
	case err != nil:
		m.status = StatusError
		j.engineFailed(err, m)
	case len(res) == 0:
		m.status = StatusNotFound
	case j.opts.Flavour == Addok && !(pyjs.PyRound(res[0].Score, 2) > j.opts.MinScore):
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
	filters, ok := j.filters(rec, h)
	if h != nil {
		m.key = h.Sum64()
	}
	if !ok {
		m.status = StatusError
		return nil
	}
	res, err := j.e.Reverse(ctx, search.ReverseQuery{Lat: lat, Lon: lon, Limit: 1, Filters: filters})
	switch {
	case err != nil:
		m.status = StatusError
		j.engineFailed(err, m)
	case len(res) == 0:
		m.status = StatusNotFound
	default:
		m.status = StatusOK
	}
	return res
}

// engineFailed reports the engine error of a row that became an error row:
// a panic the engine recovered (a bug of balise, search.InternalError) is
// counted and handed to Options.OnPanic as a panic of the row itself, so
// that it is logged and shows in the metrics instead of hiding among the
// error rows.
func (j *Job) engineFailed(err error, m *rowMeta) {
	var ie *search.InternalError
	if errors.As(err, &ie) {
		m.panicked = true
		j.tellPanic(ie.Value, ie.Stack)
	}
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
		if n += utf16.RuneLen(r); n > 200 {
			return false
		}
	}
	if n < 3 {
		return false
	}
	r, _ := utf8.DecodeRuneInString(q)
	return unicode.ToLower(r) != unicode.ToUpper(r) || (r >= '0' && r <= '9')
}
