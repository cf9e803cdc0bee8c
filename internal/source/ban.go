package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"balise/internal/pyjs"
)

// BANStats counts what the BAN CSV reader saw.
type BANStats struct {
	Rows             int // address rows grouped into streets
	NoCoords         int // rows without lat or lon (skipped silently, as to_addok.py does)
	Malformed        int // rows reported as LineError
	DuplicateNumbers int // (street, number) pairs seen again: first kept
	Streets          int
	Municipalities   int
}

// BANReader reads a BAN addresses CSV ("adresses-XX.csv[.gz]", ';'-separated,
// 2020+ header id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;
// nom_commune;code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;...)
// and yields the documents shared/data/tools/to_addok.py --ban makes of it:
// one street per street id in first-seen order, then the municipalities.
// The whole file is grouped in memory on the first Next call.
type BANReader struct {
	in    *input
	name  string
	opts  Options
	gaz   *Gazetteer
	stats BANStats

	loaded bool
	err    error

	streets  []*banStreet
	next     int
	muni     []*Document
	nextMuni int
}

type banStreet struct {
	id               string
	name, code, city string // nom_voie, code_insee, nom_commune of the first row
	oldCode, oldCity string
	line             int
	postcodes        []pcCount // first-seen order
	hns              []banNumber
	resolved         banCity
	forceOld         bool
}

type pcCount struct {
	pc string
	n  int
}

type banNumber struct {
	key, id  string
	lat, lon float64 // rounded to 6 decimals
	x, y     float64
	hasXY    bool
}

// banCity is the commune information of a street after gazetteer lookup.
type banCity struct {
	code, city, oldCode, oldCity string
	parent, parentName           string // arrondissement: the commune
	population                   string
	context                      string
}

func newBANReader(in *input, opts Options) (*BANReader, error) {
	r := &BANReader{in: in, name: in.name, opts: opts}
	if opts.Communes != "" {
		g, err := LoadGazetteer(opts.Communes)
		if err != nil {
			return nil, err
		}
		r.gaz = g
	}
	return r, nil
}

// NewBANReader reads a BAN CSV from r (gzip detected); name is used in error
// messages, size is the input size for Progress (0 when unknown).
func NewBANReader(r io.Reader, name string, size int64, opts Options) (*BANReader, error) {
	in, err := newInput(r, name, size, nil)
	if err != nil {
		return nil, err
	}
	return newBANReader(in, opts)
}

// SetGazetteer sets the communes gazetteer (instead of Options.Communes);
// call it before the first Next.
func (r *BANReader) SetGazetteer(g *Gazetteer) { r.gaz = g }

// Stats returns counters (complete once Next has returned the first document).
func (r *BANReader) Stats() BANStats { return r.stats }

// Progress returns bytes consumed of the (compressed) input and its size.
func (r *BANReader) Progress() (done, total int64) { return r.in.count.Count(), r.in.total }

// Close closes the input.
func (r *BANReader) Close() error { return r.in.close() }

// Next returns the next document, io.EOF at the end.
func (r *BANReader) Next() (*Document, error) {
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

// banColumns are the header columns the reader uses.
type banColumns struct {
	n                                             int
	id, fantoir, numero, rep, voie, cp, insee     int
	commune, oldInsee, oldCommune, x, y, lon, lat int
}

func (r *BANReader) lineErr(line int, format string, args ...any) error {
	r.stats.Malformed++
	return r.opts.report(&LineError{File: r.name, Line: line, Err: fmt.Errorf(format, args...)})
}

// floatPair parses two numeric columns of the row at line (lat and lon, x
// and y). When one is not a number the row is malformed: ok is false, and
// err is what reporting it returned.
func (r *BANReader) floatPair(line int, aName, a, bName, b string) (x, y float64, ok bool, err error) {
	x, okx := pyjs.ParsePyFloat(a)
	y, oky := pyjs.ParsePyFloat(b)
	if okx && oky {
		return x, y, true, nil
	}
	bad, val := aName, a
	if okx {
		bad, val = bName, b
	}
	return 0, 0, false, r.lineErr(line, "invalid %s %s", bad, quoteForError(val))
}

// load reads and groups every row.
func (r *BANReader) load() error {
	br := r.in.br
	lineNo := 0
	readLine := func() ([]byte, error) {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
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
		lineNo++
		return line, nil
	}
	// header
	hl, err := readLine()
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	header := splitCSV(string(trimEOL(hl)), nil)
	var c banColumns
	c.n = len(header)
	idx := map[string]int{}
	for i, h := range header {
		if _, ok := idx[h]; !ok {
			idx[h] = i
		}
	}
	col := func(name string, required bool) (int, error) {
		if i, ok := idx[name]; ok {
			return i, nil
		}
		if required {
			return -1, fmt.Errorf("%s: BAN CSV header has no %q column", r.name, name)
		}
		return -1, nil
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
		i, err := col(s.name, s.required)
		if err != nil {
			return err
		}
		*s.p = i
	}

	byID := map[string]int32{}
	type numKey struct {
		street int32
		key    string
	}
	seen := map[numKey]struct{}{}
	var fields []string
	for {
		raw, err := readLine()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		first := lineNo
		text := string(trimEOL(raw))
		// a quoted field may span lines (Python's csv module allows it)
		var q quoteState
		if q.feed(text) {
			long := []byte(text)
			for {
				more, err := readLine()
				if errors.Is(err, io.EOF) {
					break // unterminated quote at the end: Python csv keeps the field
				}
				if err != nil {
					return fmt.Errorf("%s: %w", r.name, err)
				}
				part := trimEOL(more)
				long = append(append(long, '\n'), part...)
				if !q.feed("\n" + string(part)) {
					break
				}
			}
			text = string(long)
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
		get := func(i int) string {
			if i < 0 {
				return ""
			}
			return fields[i]
		}
		latS, lonS := fields[c.lat], fields[c.lon]
		if latS == "" || lonS == "" {
			r.stats.NoCoords++
			continue
		}
		lat, lon, ok, err := r.floatPair(first, "lat", latS, "lon", lonS)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		hn := banNumber{lat: pyjs.PyRound(lat, 6), lon: pyjs.PyRound(lon, 6)}
		if xs, ys := get(c.x), get(c.y); xs != "" && ys != "" {
			x, y, ok, err := r.floatPair(first, "x", xs, "y", ys)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			hn.x, hn.y, hn.hasXY = x, y, true
		}
		hid := fields[c.id]
		var sid string
		if n := strings.Count(hid, "_"); n >= 2 {
			i := strings.IndexByte(hid, '_')
			j := i + 1 + strings.IndexByte(hid[i+1:], '_')
			sid = hid[:j]
		} else if f := get(c.fantoir); f != "" {
			sid = f
		} else {
			sid = hid
		}
		si, ok := byID[sid]
		if !ok {
			si = int32(len(r.streets))
			sid = strings.Clone(sid)
			byID[sid] = si
			r.streets = append(r.streets, &banStreet{id: sid, name: strings.Clone(fields[c.voie]),
				code: strings.Clone(fields[c.insee]), city: strings.Clone(fields[c.commune]),
				oldCode: strings.Clone(get(c.oldInsee)), oldCity: strings.Clone(get(c.oldCommune)), line: first})
		}
		st := r.streets[si]
		hn.id = strings.Clone(hid)
		hn.key = numkey(fields[c.numero], fields[c.rep])
		if pc := fields[c.cp]; pc != "" {
			found := false
			for i := range st.postcodes {
				if st.postcodes[i].pc == pc {
					st.postcodes[i].n++
					found = true
					break
				}
			}
			if !found {
				st.postcodes = append(st.postcodes, pcCount{strings.Clone(pc), 1})
			}
		}
		k := numKey{si, hn.key}
		if _, dup := seen[k]; dup {
			r.stats.DuplicateNumbers++
		} else {
			seen[k] = struct{}{}
			st.hns = append(st.hns, hn)
		}
		r.stats.Rows++
	}
	return nil
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte{'\n'})
	return bytes.TrimSuffix(b, []byte{'\r'})
}

// quoteState tracks, across the physical lines of one record, whether the
// record is inside a quoted field (Python csv rules, ';' delimiter), so a
// record spanning many lines is scanned once.
type quoteState struct {
	inQuoted, started bool
	fieldStart        bool
}

// feed scans the next part of the record and reports whether it ends inside
// a quoted field. Parts are separated by a newline, so a quote ending one
// part inside a quoted field closes it.
func (q *quoteState) feed(s string) bool {
	if !q.started {
		q.started, q.fieldStart = true, true
	}
	if !q.inQuoted && strings.IndexByte(s, '"') < 0 {
		if i := strings.LastIndexByte(s, ';'); i >= 0 {
			q.fieldStart = i == len(s)-1
		} else if s != "" {
			q.fieldStart = false
		}
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q.inQuoted:
			if c == '"' {
				if i+1 < len(s) && s[i+1] == '"' {
					i++
				} else {
					q.inQuoted = false
				}
			}
		case c == ';':
			q.fieldStart = true
			continue
		case c == '"' && q.fieldStart:
			q.inQuoted = true
		}
		q.fieldStart = false
	}
	return q.inQuoted
}

// openQuote reports whether a record ends inside a quoted field.
func openQuote(s string) bool {
	var q quoteState
	return q.feed(s)
}

// splitCSV splits one record with Python csv's default dialect rules and a
// ';' delimiter: a field starting with '"' is quoted ("" is a quote, text
// after the closing quote is kept), a quote elsewhere is literal.
func splitCSV(s string, dst []string) []string {
	if strings.IndexByte(s, '"') < 0 {
		for {
			i := strings.IndexByte(s, ';')
			if i < 0 {
				return append(dst, s)
			}
			dst = append(dst, s[:i])
			s = s[i+1:]
		}
	}
	var b []byte
	i := 0
	for {
		// start of a field
		if i < len(s) && s[i] == '"' {
			b = b[:0]
			i++
			for i < len(s) {
				c := s[i]
				if c == '"' {
					if i+1 < len(s) && s[i+1] == '"' {
						b = append(b, '"')
						i += 2
						continue
					}
					i++
					break
				}
				b = append(b, c)
				i++
			}
			// after the closing quote: anything up to ';' is appended
			j := strings.IndexByte(s[i:], ';')
			if j < 0 {
				b = append(b, s[i:]...)
				return append(dst, string(b))
			}
			b = append(b, s[i:i+j]...)
			dst = append(dst, string(b))
			i += j + 1
			continue
		}
		j := strings.IndexByte(s[i:], ';')
		if j < 0 {
			return append(dst, s[i:])
		}
		dst = append(dst, s[i:i+j])
		i += j + 1
	}
}

// numkey is to_addok.py's numkey(numero, rep): numero with leading zeros
// removed (when all digits), the suffix appended, spaces removed, lower
// case, "0" when empty.
func numkey(numero, rep string) string {
	n := strings.TrimFunc(numero, pyjs.IsPySpace)
	if n != "" && allDigits(n) {
		i := 0
		for i < len(n)-1 && n[i] == '0' {
			i++
		}
		n = n[i:]
	}
	k := n + strings.TrimFunc(rep, pyjs.IsPySpace)
	if strings.IndexByte(k, ' ') >= 0 {
		k = strings.ReplaceAll(k, " ", "")
	}
	k = strings.ToLower(k)
	if k == "" {
		return "0"
	}
	return strings.Clone(k)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// resolve computes the commune fields of a street (build_street_doc).
func (r *BANReader) resolve(st *banStreet) banCity {
	c := banCity{code: st.code, city: st.city, oldCode: st.oldCode, oldCity: st.oldCity}
	if r.gaz == nil {
		if a, ok := arrondissements[st.code]; ok {
			c.parent, c.parentName = a.parent, a.parentName
		}
		c.context = builtinContext(c.code)
		return c
	}
	cur := r.gaz.Current(st.code)
	if cur != nil {
		if cur.Code != st.code && st.oldCode == "" {
			// the source commune has since merged into cur: keep it as the old commune
			c.oldCode, c.oldCity = st.code, st.city
		}
		c.code = cur.Code
		c.city = cur.Name
		c.population = cur.Population
		if cur.Type == "arrondissement-municipal" && cur.Parent != "" {
			c.parent = cur.Parent
			if p := r.gaz.Lookup(cur.Parent); p != nil {
				c.parentName = p.Name
			}
		}
	}
	c.context = r.gaz.Context(c.code)
	return c
}

// prepare resolves communes, the "name (old commune)" rule and builds the
// municipality documents (which need every street's points).
func (r *BANReader) prepare() {
	type slugKey struct{ code, slug string }
	slugCount := map[slugKey]int{}
	slugs := make([]string, len(r.streets))
	for i, st := range r.streets {
		slugs[i] = slug(st.name)
		slugCount[slugKey{st.code, slugs[i]}]++
	}
	type muniAcc struct {
		code, name string
		line       int
		context    string
		postcodes  map[string]bool
		lats, lons []float64
	}
	accs := map[string]*muniAcc{}
	var order []string
	for i, st := range r.streets {
		st.resolved = r.resolve(st)
		st.forceOld = slugCount[slugKey{st.code, slugs[i]}] > 1
		code := st.resolved.code
		a := accs[code]
		if a == nil {
			a = &muniAcc{code: code, name: st.resolved.city, line: st.line, context: st.resolved.context, postcodes: map[string]bool{}}
			accs[code] = a
			order = append(order, code)
		}
		for _, pc := range st.postcodes {
			a.postcodes[pc.pc] = true
		}
		for _, h := range st.hns {
			a.lats = append(a.lats, h.lat)
			a.lons = append(a.lons, h.lon)
		}
	}
	r.stats.Streets = len(r.streets)
	if r.gaz != nil {
		// to_addok.py --municipalities covered: every current commune of the
		// départements the streets are in, in gazetteer order.
		covered := map[string]bool{}
		for _, code := range order {
			covered[depOf(code)] = true
		}
		for _, cm := range r.gaz.order {
			if !covered[cm.Dep] {
				continue
			}
			a := accs[cm.Code]
			if a == nil && cm.Lat == "" {
				continue
			}
			d := &Document{}
			var lat, lon Value
			if a != nil && len(a.lats) > 0 {
				la, lo := center(a.lats, a.lons)
				lat, lon = FloatValue(la), FloatValue(lo)
				d.Line = a.line
			} else {
				la, _ := pyjs.ParsePyFloat(cm.Lat)
				lo, _ := pyjs.ParsePyFloat(cm.Lon)
				lat, lon = FloatValue(la), FloatValue(lo)
			}
			var pcs []Value
			for _, p := range strings.Split(cm.Postcodes, "|") {
				if p != "" {
					pcs = append(pcs, StringValue(p))
				}
			}
			pop := int64(0)
			if cm.Population != "" {
				if n, err := strconv.ParseInt(strings.TrimSpace(cm.Population), 10, 64); err == nil {
					pop = n
				}
			}
			d.Fields = []Field{
				{"id", StringValue(cm.Code)},
				{"type", StringValue("municipality")},
				{"name", StringValue(cm.Name)},
				{"postcode", Value{Kind: List, List: nonNil(pcs)}},
				{"citycode", StringValue(cm.Code)},
				{"lat", lat},
				{"lon", lon},
				{"population", IntValue(pop)},
				{"city", StringValue(cm.Name)},
				{"context", StringValue(cm.Context)},
				{"importance", FloatValue(importance(cm.Population, 0))},
			}
			r.muni = append(r.muni, d)
		}
	} else {
		// no gazetteer: one municipality per commune code of the streets
		for _, code := range order {
			a := accs[code]
			if len(a.lats) == 0 {
				continue
			}
			pcs := make([]string, 0, len(a.postcodes))
			for p := range a.postcodes {
				pcs = append(pcs, p)
			}
			sort.Strings(pcs)
			pv := make([]Value, len(pcs))
			for i, p := range pcs {
				pv[i] = StringValue(p)
			}
			la, lo := center(a.lats, a.lons)
			r.muni = append(r.muni, &Document{Line: a.line, Fields: []Field{
				{"id", StringValue(code)},
				{"type", StringValue("municipality")},
				{"name", StringValue(a.name)},
				{"postcode", Value{Kind: List, List: pv}},
				{"citycode", StringValue(code)},
				{"lat", FloatValue(la)},
				{"lon", FloatValue(lo)},
				{"city", StringValue(a.name)},
				{"context", StringValue(a.context)},
				{"importance", FloatValue(importance("", 0))},
			}})
		}
	}
	r.stats.Municipalities = len(r.muni)
}

func nonNil(v []Value) []Value {
	if v == nil {
		return []Value{}
	}
	return v
}

// nonEmptyList is the list of the names that are not "" (an empty list when
// none is).
func nonEmptyList(names ...string) Value {
	var l []Value
	for _, s := range names {
		if s != "" {
			l = append(l, StringValue(s))
		}
	}
	return Value{Kind: List, List: nonNil(l)}
}

// streetDoc builds one street document (build_street_doc).
func (r *BANReader) streetDoc(st *banStreet) *Document {
	c := st.resolved
	name := st.name
	if st.forceOld && c.oldCity != "" {
		name = name + " (" + c.oldCity + ")"
	}
	postcode := ""
	best := 0
	for _, p := range st.postcodes { // most frequent, first seen on ties
		if p.n > best {
			postcode, best = p.pc, p.n
		}
	}
	fields := make([]Field, 0, 13)
	fields = append(fields,
		Field{"id", StringValue(st.id)},
		Field{"type", StringValue("street")},
		Field{"name", StringValue(name)},
		Field{"postcode", StringValue(postcode)})
	switch {
	case c.parent != "":
		fields = append(fields,
			Field{"citycode", ListValue(StringValue(c.code), StringValue(c.parent))},
			Field{"city", nonEmptyList(c.parentName, c.city)},
			Field{"district", StringValue(c.city)})
	case c.oldCode != "":
		fields = append(fields,
			Field{"citycode", ListValue(StringValue(c.code), StringValue(c.oldCode))},
			Field{"city", nonEmptyList(c.city, c.oldCity)},
			Field{"oldcitycode", StringValue(c.oldCode)},
			Field{"oldcity", StringValue(c.oldCity)})
	default:
		fields = append(fields,
			Field{"citycode", StringValue(c.code)},
			Field{"city", StringValue(c.city)})
	}
	lats := make([]float64, len(st.hns))
	lons := make([]float64, len(st.hns))
	for i, h := range st.hns {
		lats[i], lons[i] = h.lat, h.lon
	}
	la, lo := center(lats, lons)
	fields = append(fields,
		Field{"context", StringValue(c.context)},
		Field{"lat", FloatValue(la)},
		Field{"lon", FloatValue(lo)},
		Field{"importance", FloatValue(importance(c.population, len(st.hns)))})
	hns := make([]Housenumber, len(st.hns))
	np := 1
	for _, h := range st.hns {
		if h.hasXY {
			np = 3
			break
		}
	}
	payload := make([]Field, 0, np*len(st.hns))
	for i, h := range st.hns {
		start := len(payload)
		payload = append(payload, Field{"id", StringValue(h.id)})
		if h.hasXY {
			payload = append(payload, Field{"x", FloatValue(h.x)}, Field{"y", FloatValue(h.y)})
		}
		hns[i] = Housenumber{Raw: h.key, Lat: FloatValue(h.lat), Lon: FloatValue(h.lon),
			Payload: payload[start:len(payload):len(payload)], LatAt: 1, LonAt: 2}
	}
	return &Document{Fields: fields, Housenumbers: hns, HousenumbersAt: len(fields), Line: st.line}
}

// importance is to_addok.py's importance(population, n_numbers).
func importance(population string, n int) float64 {
	pop, ok := pyjs.ParsePyFloat(population)
	if !ok {
		pop = 0
	}
	return pyjs.PyRound((math.Log(1+pop/3)+math.Log(1+float64(n)))/20, 5)
}

// degToRad is computed at run time like CPython's math.radians (pi / 180.0
// in double precision), not as an exact constant.
var degToRad = func() float64 { pi := math.Pi; return pi / 180.0 }()

// center is to_addok.py's center(): mean of up to 3 points, else the point
// nearest to the mean (first one on ties), rounded to 6 decimals.
func center(lats, lons []float64) (float64, float64) {
	n := float64(len(lats))
	var slat, slon float64
	for i := range lats {
		slat += lats[i]
		slon += lons[i]
	}
	mlat, mlon := slat/n, slon/n
	if len(lats) <= 3 {
		return pyjs.PyRound(mlat, 6), pyjs.PyRound(mlon, 6)
	}
	k := math.Cos(mlat * degToRad)
	best, bestD := 0, math.Inf(1)
	for i := range lats {
		dy := lats[i] - mlat
		dx := (lons[i] - mlon) * k
		if d := dy*dy + dx*dx; d < bestD {
			best, bestD = i, d
		}
	}
	return pyjs.PyRound(lats[best], 6), pyjs.PyRound(lons[best], 6)
}
