package search

import (
	"slices"
	"strings"
	"unsafe"

	"balise/internal/geo"
	"balise/internal/index"
	"balise/internal/text"
)

// Result is one geocoding answer.
type Result struct {
	Doc         index.Doc
	Housenumber *index.Housenumber // the matched housenumber, nil for a street/municipality result
	Labels      []string
	Score       float64
	Lat, Lon    float64 // the result's point (the housenumber's when one matched)
	Distance    int     // metres, when HasDistance
	HasDistance bool

	strScore        float64
	importanceScore float64
	importanceCeil  float64
	geoScore        float64
	geoCeil         float64
	publicID        string
	noScore         bool // a document fetched by id: nothing was scored
}

// Label is the display label (Addok's labels[0]).
func (r *Result) Label() string {
	if len(r.Labels) == 0 {
		return ""
	}
	return r.Labels[0]
}

// Type is the result type: "housenumber" when a number matched, else the document's type.
func (r *Result) Type() string {
	if r.Housenumber != nil {
		return "housenumber"
	}
	v, _ := r.Doc.Get("type")
	return v.First().Text()
}

// ID is the public id (the housenumber's own id when it has one).
func (r *Result) ID() string {
	if r.Housenumber != nil {
		for _, f := range r.Housenumber.Payload {
			if f.Key == "id" {
				return f.Value.First().Text()
			}
		}
	}
	return r.publicID
}

// Components returns the named score parts (value, ceiling), for debugging.
func (r *Result) Components() map[string][2]float64 {
	m := map[string][2]float64{"str_distance": {r.strScore, 1}, "importance": {r.importanceScore, r.importanceCeil}}
	if r.geoCeil > 0 {
		m["geo_distance"] = [2]float64{r.geoScore, r.geoCeil}
	}
	return m
}

// StringScore is the label similarity part of the score (0..1).
func (r *Result) StringScore() float64 { return r.strScore }

func fieldValues(d *index.Doc, key string) []index.Value {
	v, ok := d.Get(key)
	if !ok {
		return nil
	}
	if v.Kind == index.KindList {
		return v.Items
	}
	return []index.Value{v}
}

func firstText(d *index.Doc, key string) string {
	v, ok := d.Get(key)
	if !ok || !v.Truthy() {
		return ""
	}
	f := v.First()
	if !f.Truthy() {
		return ""
	}
	return f.Text()
}

// result scores one candidate, memoised; nil when it cannot be a result
// (only-housenumber mode without a matching number, or an unreadable doc).
func (s *searcher) result(d uint32) *Result {
	if r, ok := s.results[d]; ok {
		return r
	}
	r := &Result{}
	if err := s.e.ix.Doc(d, &r.Doc); err != nil {
		s.results[d] = nil
		return nil
	}
	s.stats.Candidates++
	if s.filter.checkHN && r.Doc.NumHousenumbers() > 0 {
		if s.hnRef != "" {
			if h, ok, _ := r.Doc.FindHousenumber(s.hnRef); ok {
				r.Housenumber = &h
			}
		} else if len(s.hnLoose) > 0 {
			s.matchLooseNumber(r)
		}
	}
	if s.filter.onlyHN && r.Housenumber == nil {
		s.results[d] = nil
		return nil
	}
	s.finishResult(r, s.q.HasCenter, s.q.Lat, s.q.Lon)
	r.strScore = s.stringScore(s.e.labelSet(r, true, &s.labels))
	r.Score = r.total(s.e.profile == text.ProfileDefault && s.q.HasCenter)
	s.results[d] = r
	return r
}

// matchLooseNumber attaches a number written after the street, unless that
// number is part of the street's own name ("rue du 8 mai").
func (s *searcher) matchLooseNumber(r *Result) {
	nameWords := strings.Fields(text.ASCII(firstText(&r.Doc, "name")))
	for _, n := range s.hnLoose {
		if slices.Contains(nameWords, n.word) {
			continue
		}
		if h, ok, _ := r.Doc.FindHousenumber(n.key); ok {
			r.Housenumber = &h
			return
		}
	}
}

// finishResult sets the point, id, importance and geo components (reverse
// scores by distance alone: the labels are built for the results kept).
func (s *searcher) finishResult(r *Result, hasCenter bool, lat, lon float64) {
	e := s.e
	r.Lat, r.Lon = r.Doc.Lat, r.Doc.Lon
	if r.Housenumber != nil {
		r.Lat, r.Lon = r.Housenumber.Lat, r.Housenumber.Lon
	}
	r.publicID = firstText(&r.Doc, "id")
	r.importanceScore = r.Doc.Importance * e.cfg.ImportanceWeight
	r.importanceCeil = e.cfg.ImportanceWeight
	if hasCenter {
		km := geo.HaversineKm(r.Lat, r.Lon, lat, lon)
		r.Distance = int(km * 1000)
		r.HasDistance = true
		r.geoScore = geoScore(km) * e.cfg.GeoWeight
		r.geoCeil = e.cfg.GeoWeight
	}
}

// total is sum(values)/sum(ceilings); adjust is Addok core's adjust_scores
// (default profile with a center): the string value x0.9 and the
// importance value x0.1, ceilings unchanged, so the geo part weighs more.
func (r *Result) total(adjust bool) float64 {
	str, strCeil := r.strScore, 1.0
	imp, impCeil := r.importanceScore, r.importanceCeil
	if adjust {
		str *= 0.9
		imp *= 0.1
		r.importanceScore = imp
	}
	ceil := strCeil + impCeil + r.geoCeil
	if ceil == 0 {
		return 0
	}
	return (str + imp + r.geoScore) / ceil
}

// makeLabels builds the display labels (Addok's make_labels).
func (e *Engine) makeLabels(r *Result) []string { return e.labelSet(r, false, nil) }

// labelBuf holds the folded labels of the candidate being scored: they
// are compared with the query and dropped, so one buffer serves every
// candidate of a search instead of a string per label and candidate.
type labelBuf struct {
	b   []byte
	out []string
}

// str returns b[start:] as a string over the buffer: valid until the
// next candidate's labels are built.
func (lb *labelBuf) str(start int) string {
	if start == len(lb.b) {
		return ""
	}
	return unsafe.String(&lb.b[start], len(lb.b)-start)
}

type part struct{ display, folded string }

func mkPart(s string) part { return part{s, text.ASCII(s)} }

// join concatenates up to three parts. Folded labels skip parts that fold
// to nothing, so they equal ASCII() of the display label.
func join(folded bool, ps [3]part, n int, lb *labelBuf) string {
	if lb != nil {
		start := len(lb.b)
		lb.b = appendJoin(lb.b, folded, ps, n)
		return lb.str(start)
	}
	size := 0
	for i := 0; i < n; i++ {
		size += len(ps[i].display) + len(ps[i].folded) + 1
	}
	return string(appendJoin(make([]byte, 0, size), folded, ps, n))
}

func appendJoin(b []byte, folded bool, ps [3]part, n int) []byte {
	start := len(b)
	for i := 0; i < n; i++ {
		s := ps[i].display
		if folded {
			s = ps[i].folded
			if s == "" {
				continue
			}
		}
		if i > 0 && (!folded || len(b) > start) {
			b = append(b, ' ')
		}
		b = append(b, s...)
	}
	return b
}

// labelSet builds the labels (display or folded form) in Addok's order.
// With lb, the labels are views over its buffer, valid until its next use.
func (e *Engine) labelSet(r *Result, folded bool, lb *labelBuf) []string {
	if lb != nil {
		lb.b = lb.b[:0]
	}
	d := &r.Doc
	var hn part
	hasHN := r.Housenumber != nil
	if hasHN {
		hn = mkPart(r.Housenumber.Raw)
	}
	nameVals := fieldValues(d, "name")
	names := make([]part, 0, max(1, len(nameVals)))
	for _, v := range nameVals {
		names = append(names, mkPart(v.Text()))
	}
	if len(names) == 0 {
		names = append(names, part{})
	}
	postcode := mkPart(firstText(d, "postcode"))
	pick := func(p part) string {
		if folded {
			return p.folded
		}
		return p.display
	}
	if e.profile != text.ProfileFrench {
		// Addok core: only labels[0] is customised ("name [postcode] city",
		// then the housenumber in front); other name values stay as aliases.
		out := make([]string, 0, len(names))
		for _, n := range names {
			out = append(out, pick(n))
		}
		first := names[0]
		if city := firstText(d, "city"); city != "" && city != first.display {
			ps, n := [3]part{first}, 1
			if postcode.display != "" {
				ps[n], n = postcode, n+1
			}
			ps[n], n = mkPart(city), n+1
			out[0] = join(folded, ps, n, lb)
			first = part{join(false, ps, n, lb), join(true, ps, n, lb)}
		}
		if hasHN {
			out[0] = join(folded, [3]part{hn, first}, 2, lb)
		}
		return out
	}
	// addok-france: every name x every city; within one combination each
	// label is inserted at the front (with its housenumber variant before it).
	cityVals := fieldValues(d, "city")
	cities := make([]part, 0, max(1, len(cityVals)))
	for _, v := range cityVals {
		if v.Truthy() {
			cities = append(cities, mkPart(v.Text()))
		}
	}
	if len(cities) == 0 {
		cities = append(cities, part{})
	}
	isMunicipality := firstText(d, "type") == "municipality"
	var out []string
	if lb != nil {
		out = lb.out[:0]
	} else {
		out = make([]string, 0, 8*len(names)*len(cities))
	}
	var combo [8]string // one combination's labels, built back to front
	for _, name := range names {
		for _, city := range cities {
			n := 0
			add := func(ps [3]part, k int) {
				combo[n] = join(folded, ps, k, lb)
				n++
				if hasHN {
					// The number goes in front of the whole label.
					if folded {
						combo[n] = joinFoldedHN(hn.folded, combo[n-1], lb)
					} else {
						combo[n] = hn.display + " " + combo[n-1]
					}
					n++
				}
			}
			if isMunicipality && postcode.display != "" {
				add([3]part{name, postcode}, 2)
				add([3]part{postcode, name}, 2)
			}
			add([3]part{name}, 1)
			if city.display != "" && city.display != name.display {
				add([3]part{name, city}, 2)
				if postcode.display != "" {
					add([3]part{name, postcode}, 2)
					add([3]part{name, postcode, city}, 3)
				}
			}
			for i := n - 1; i >= 0; i-- {
				out = append(out, combo[i])
			}
		}
	}
	if lb != nil {
		lb.out = out[:0] // kept, grown, for the next candidate
	}
	return out
}

func joinFoldedHN(hn, label string, lb *labelBuf) string {
	switch {
	case hn == "":
		return label
	case label == "":
		return hn
	case lb == nil:
		return hn + " " + label
	}
	start := len(lb.b)
	lb.b = append(append(append(lb.b, hn...), ' '), label...)
	return lb.str(start)
}

// stringScore compares the folded labels with the folded query, as Addok's
// score_by_ngram_distance and score_by_autocomplete_distance do.
func (s *searcher) stringScore(folded []string) float64 {
	q := s.folded
	if s.q.Autocomplete {
		for _, f := range folded {
			switch {
			case f == q:
				return 1
			case strings.HasPrefix(f, q):
				return 0.9
			case strings.Contains(f, q):
				return 0.7
			}
		}
		return s.ngramBest(folded) * 0.9
	}
	return s.ngramBest(folded)
}

// ngramBest is the best bigram similarity over the labels, stopping at 0.9
// like Addok. A label whose bigram count alone bounds its similarity below
// the best so far is skipped: shared <= min(n, m), so the similarity is at
// most min(n, m) / max(n, m).
func (s *searcher) ngramBest(folded []string) float64 {
	if s.ngq == nil {
		s.ngq = text.NewNgramQuery(s.folded)
	}
	qn := s.ngq.Bigrams()
	best := 0.0
	for _, f := range folded {
		if ln := len(f) - 1; best > 0 && ln > 0 && qn > 0 {
			if float64(min(ln, qn))/float64(max(ln, qn)) <= best {
				continue
			}
		}
		v := s.ngq.Compare(f)
		if v > best {
			best = v
		}
		if best >= 0.9 {
			break
		}
	}
	return best
}

// rank sorts the bucket's results: score, then importance, then id (Addok's
// order is undefined between equal scores; balise's is fixed).
func (s *searcher) rank() []*Result {
	out := make([]*Result, 0, s.bucket.len())
	for _, d := range s.bucket.docs {
		if r := s.result(d); r != nil {
			out = append(out, r)
		}
	}
	sortResults(out)
	if len(out) > s.q.Limit {
		out = out[:s.q.Limit]
	}
	for _, r := range out {
		r.Labels = s.e.makeLabels(r)
	}
	kept := out[:0]
	for _, r := range out {
		if r.Score >= s.cfg.MinScore {
			kept = append(kept, r)
		}
	}
	return kept
}

func sortResults(rs []*Result) {
	slices.SortStableFunc(rs, func(a, b *Result) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		case a.Doc.Importance > b.Doc.Importance:
			return -1
		case a.Doc.Importance < b.Doc.Importance:
			return 1
		}
		if c := strings.Compare(a.ID(), b.ID()); c != 0 {
			return c
		}
		return int(a.Doc.ID) - int(b.Doc.ID)
	})
}
