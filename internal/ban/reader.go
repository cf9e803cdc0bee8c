package ban

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"balise/internal/pyjs"
	"balise/internal/source"
)

// Stats counts what the BAN CSV reader saw.
type Stats struct {
	Rows             int // address rows grouped into streets
	NoCoords         int // rows without lat or lon (skipped silently, as to_addok.py does)
	Malformed        int // rows reported as LineError
	DuplicateNumbers int // (street, number) pairs seen again: first kept
	Streets          int
	Municipalities   int
}

// Options configure a Reader: what to do with malformed rows, and the
// optional communes gazetteer.
type Options struct {
	source.Options
	// Communes is an optional path to a communes gazetteer
	// (communes.csv.gz, see shared/data/communes/PROVENANCE.md), used for
	// population, context, current commune codes and municipality centres.
	Communes string
}

// Reader reads a BAN addresses CSV ("adresses-XX.csv[.gz]", ';'-separated,
// 2020+ header id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;
// nom_commune;code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;...)
// and yields the documents shared/data/tools/to_addok.py --ban makes of it:
// one street per street id in first-seen order, then the municipalities.
// The whole file is grouped in memory on the first Next call: a
// municipality needs the points of all its streets.
type Reader struct {
	in    *source.Input
	name  string
	opts  Options
	gaz   *Gazetteer
	stats Stats

	loaded bool
	err    error

	streets  []*street
	next     int
	muni     []*source.Document
	nextMuni int
}

// The importer reads a Reader like any other input (index.FromReader).
var _ source.Reader = (*Reader)(nil)

// street is one street being grouped: the fields of its first row and its
// housenumbers.
type street struct {
	id               string
	name, code, city string // nom_voie, code_insee, nom_commune of the first row
	oldCode, oldCity string
	line             int
	postcodes        []pcCount // first-seen order
	hns              []housenumber
	resolved         cityFields
	forceOld         bool
}

type pcCount struct {
	pc string
	n  int
}

type housenumber struct {
	key, id  string
	lat, lon float64 // rounded to 6 decimals
	x, y     float64
	hasXY    bool
}

// Open opens the BAN CSV at path (gzip detected by its magic bytes; "-"
// reads standard input).
func Open(path string, opts Options) (*Reader, error) {
	in, err := source.OpenInput(path)
	if err != nil {
		return nil, err
	}
	r, err := newReader(in, opts)
	if err != nil {
		in.Close()
		return nil, err
	}
	return r, nil
}

// NewReader reads a BAN CSV from r (gzip detected); name is used in error
// messages, size is the input size for Progress (0 when unknown).
func NewReader(r io.Reader, name string, size int64, opts Options) (*Reader, error) {
	in, err := source.NewInput(r, name, size)
	if err != nil {
		return nil, err
	}
	return newReader(in, opts)
}

func newReader(in *source.Input, opts Options) (*Reader, error) {
	r := &Reader{in: in, name: in.Name(), opts: opts}
	if opts.Communes != "" {
		g, err := LoadGazetteer(opts.Communes)
		if err != nil {
			return nil, err
		}
		r.gaz = g
	}
	return r, nil
}

// SetGazetteer sets the communes gazetteer (instead of Options.Communes);
// call it before the first Next.
func (r *Reader) SetGazetteer(g *Gazetteer) { r.gaz = g }

// Stats returns counters (complete once Next has returned the first document).
func (r *Reader) Stats() Stats { return r.stats }

// Progress returns bytes consumed of the (compressed) input and its size.
func (r *Reader) Progress() (done, total int64) { return r.in.Progress() }

// Close closes the input.
func (r *Reader) Close() error { return r.in.Close() }

// Next returns the next document, io.EOF at the end.
func (r *Reader) Next() (*source.Document, error) {
	if r.err != nil {
		return nil, r.err
	}
	if !r.loaded {
		r.loaded = true
		if err := r.load(); err != nil {
			r.err = err
			return nil, err
		}
		r.prepare()
	}
	if r.next < len(r.streets) {
		st := r.streets[r.next]
		r.streets[r.next] = nil // let the street be collected once emitted
		r.next++
		return r.streetDoc(st), nil
	}
	if r.nextMuni < len(r.muni) {
		d := r.muni[r.nextMuni]
		r.muni[r.nextMuni] = nil
		r.nextMuni++
		return d, nil
	}
	r.err = io.EOF
	return nil, io.EOF
}

// columns are the header columns the reader uses (-1: absent optional column).
type columns struct {
	n                                             int
	id, fantoir, numero, rep, voie, cp, insee     int
	commune, oldInsee, oldCommune, x, y, lon, lat int
}

func (r *Reader) lineErr(line int, format string, args ...any) error {
	r.stats.Malformed++
	return r.opts.Report(&source.LineError{File: r.name, Line: line, Err: fmt.Errorf(format, args...)})
}

// floatPair parses two numeric columns of the row at line (lat and lon, x
// and y). When one is not a number the row is malformed: ok is false, and
// err is what reporting it returned.
func (r *Reader) floatPair(line int, aName, a, bName, b string) (x, y float64, ok bool, err error) {
	x, okx := pyjs.ParsePyFloat(a)
	y, oky := pyjs.ParsePyFloat(b)
	if okx && oky {
		return x, y, true, nil
	}
	bad, val := aName, a
	if okx {
		bad, val = bName, b
	}
	return 0, 0, false, r.lineErr(line, "invalid %s %s", bad, source.QuoteForError(val))
}

// lineReader reads the physical lines of the CSV, however long, counting them.
type lineReader struct {
	br     *bufio.Reader
	lineNo int
}

// next returns the next line with its end of line, io.EOF after the last.
func (lr *lineReader) next() ([]byte, error) {
	line, err := lr.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = lr.br.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(line) == 0 {
		return nil, io.EOF
	}
	lr.lineNo++
	return line, nil
}

// record returns the next record and the number of its first line. A
// quoted field may span lines (Python's csv module allows it); an
// unterminated quote at the end of the file keeps the rest, as Python's
// csv does.
func (lr *lineReader) record() (text string, first int, err error) {
	raw, err := lr.next()
	if err != nil {
		return "", 0, err
	}
	first = lr.lineNo
	text = string(trimEOL(raw))
	var q quoteState
	if !q.feed(text) {
		return text, first, nil
	}
	long := []byte(text)
	for {
		more, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", 0, err
		}
		part := trimEOL(more)
		long = append(append(long, '\n'), part...)
		if !q.feed("\n" + string(part)) {
			break
		}
	}
	return string(long), first, nil
}

// readHeader reads the header line and finds the columns by name (the
// first of duplicate names); a missing required column is an error.
func (r *Reader) readHeader(lr *lineReader) (columns, error) {
	hl, err := lr.next()
	if err != nil && !errors.Is(err, io.EOF) {
		return columns{}, fmt.Errorf("%s: %w", r.name, err)
	}
	header := splitCSV(string(trimEOL(hl)), nil)
	c := columns{n: len(header)}
	idx := map[string]int{}
	for i, h := range header {
		if _, ok := idx[h]; !ok {
			idx[h] = i
		}
	}
	for _, s := range []struct {
		p        *int
		name     string
		required bool
	}{{&c.id, "id", true}, {&c.fantoir, "id_fantoir", false}, {&c.numero, "numero", true}, {&c.rep, "rep", true},
		{&c.voie, "nom_voie", true}, {&c.cp, "code_postal", true}, {&c.insee, "code_insee", true},
		{&c.commune, "nom_commune", true}, {&c.oldInsee, "code_insee_ancienne_commune", false},
		{&c.oldCommune, "nom_ancienne_commune", false}, {&c.x, "x", false}, {&c.y, "y", false},
		{&c.lon, "lon", true}, {&c.lat, "lat", true}} {
		i, ok := idx[s.name]
		if !ok {
			if s.required {
				return columns{}, fmt.Errorf("%s: BAN CSV header has no %q column", r.name, s.name)
			}
			i = -1
		}
		*s.p = i
	}
	return c, nil
}

// grouping is the state of load: streets by id and the (street, number)
// pairs already seen.
type grouping struct {
	c     columns
	byID  map[string]int32
	seen  map[numKey]struct{}
	first int // line of the record being added
}

type numKey struct {
	street int32
	key    string
}

// load reads and groups every row.
func (r *Reader) load() error {
	lr := &lineReader{br: r.in.Reader()}
	c, err := r.readHeader(lr)
	if err != nil {
		return err
	}
	g := &grouping{c: c, byID: map[string]int32{}, seen: map[numKey]struct{}{}}
	var fields []string
	for {
		text, first, err := lr.record()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		if text == "" {
			continue // csv yields [] for a blank line; DictReader skips it
		}
		if !utf8.ValidString(text) {
			if err := r.lineErr(first, "invalid UTF-8"); err != nil {
				return err
			}
			continue
		}
		fields = splitCSV(text, fields[:0])
		if len(fields) != c.n {
			if err := r.lineErr(first, "expected %d fields, got %d", c.n, len(fields)); err != nil {
				return err
			}
			continue
		}
		g.first = first
		if err := r.addRow(g, fields); err != nil {
			return err
		}
	}
}

// addRow adds one well-formed row to its street (to_addok.py's read_ban):
// rows without a position are skipped, a repeated (street, number) keeps
// the first one.
func (r *Reader) addRow(g *grouping, fields []string) error {
	c := &g.c
	get := func(i int) string {
		if i < 0 {
			return ""
		}
		return fields[i]
	}
	latS, lonS := fields[c.lat], fields[c.lon]
	if latS == "" || lonS == "" {
		r.stats.NoCoords++
		return nil
	}
	lat, lon, ok, err := r.floatPair(g.first, "lat", latS, "lon", lonS)
	if !ok {
		return err
	}
	hn := housenumber{lat: pyjs.PyRound(lat, 6), lon: pyjs.PyRound(lon, 6)}
	if xs, ys := get(c.x), get(c.y); xs != "" && ys != "" {
		x, y, ok, err := r.floatPair(g.first, "x", xs, "y", ys)
		if !ok {
			return err
		}
		hn.x, hn.y, hn.hasXY = x, y, true
	}
	hid := fields[c.id]
	sid := streetID(hid, get(c.fantoir))
	si, ok := g.byID[sid]
	if !ok {
		si = int32(len(r.streets))
		sid = strings.Clone(sid)
		g.byID[sid] = si
		r.streets = append(r.streets, &street{id: sid, name: strings.Clone(fields[c.voie]),
			code: strings.Clone(fields[c.insee]), city: strings.Clone(fields[c.commune]),
			oldCode: strings.Clone(get(c.oldInsee)), oldCity: strings.Clone(get(c.oldCommune)), line: g.first})
	}
	st := r.streets[si]
	hn.id = strings.Clone(hid)
	hn.key = numkey(fields[c.numero], fields[c.rep])
	if pc := fields[c.cp]; pc != "" {
		st.countPostcode(pc)
	}
	k := numKey{si, hn.key}
	if _, dup := g.seen[k]; dup {
		r.stats.DuplicateNumbers++
	} else {
		g.seen[k] = struct{}{}
		st.hns = append(st.hns, hn)
	}
	r.stats.Rows++
	return nil
}

// streetID is the street part of a housenumber id ("75101_cfq3tf" of
// "75101_cfq3tf_00001_b"), else the FANTOIR id, else the whole id.
func streetID(hid, fantoir string) string {
	if n := strings.Count(hid, "_"); n >= 2 {
		i := strings.IndexByte(hid, '_')
		j := i + 1 + strings.IndexByte(hid[i+1:], '_')
		return hid[:j]
	}
	if fantoir != "" {
		return fantoir
	}
	return hid
}

func (st *street) countPostcode(pc string) {
	for i := range st.postcodes {
		if st.postcodes[i].pc == pc {
			st.postcodes[i].n++
			return
		}
	}
	st.postcodes = append(st.postcodes, pcCount{strings.Clone(pc), 1})
}
