package search

import (
	"context"
	"math"
	"slices"
	"sync"

	"balise/internal/geo"
	"balise/internal/index"
)

// ReverseQuery is one reverse-geocoding request.
type ReverseQuery struct {
	Lat, Lon float64
	Limit    int // 0: 1
	Filters  []Filter
	// Radius, in metres, looks as far as that (and no further); 0 keeps
	// Addok's behaviour: the 3x3 cells around the point, else the next ring.
	Radius float64
}

// Reverse finds the nearest documents (one result per document, its closest
// housenumber attached when housenumbers are wanted).
func (e *Engine) Reverse(ctx context.Context, q ReverseQuery) (results []*Result, err error) {
	defer index.CatchFaults()()
	defer func() {
		if p := recover(); p != nil {
			results, err = nil, e.recovered("reverse", p)
		}
	}()
	if err := e.unavailable(); err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		q.Limit = 1
	}
	s := newSearcher(ctx, e, Query{Limit: q.Limit, Filters: q.Filters})
	s.filter = e.setupFilters(q.Filters)
	radius := q.Radius
	if radius > 0 {
		radius = min(radius, e.cfg.MaxReverseRadius)
	}
	cands := s.nearestPoints(q.Lat, q.Lon, radius, q.Limit)
	keep := reverseKeep(cands, q.Limit)
	results = make([]*Result, 0, keep)
	for _, b := range cands[:keep] {
		r := &Result{}
		if err := e.ix.Doc(b.doc, &r.Doc); err != nil {
			return nil, err
		}
		if b.hn > 0 {
			h, err := r.Doc.HousenumberAt(int(b.hn - 1))
			if err != nil {
				return nil, err
			}
			r.Housenumber = &h
		}
		s.finishResult(r, true, q.Lat, q.Lon)
		if radius > 0 && float64(r.Distance) > radius {
			continue
		}
		// Reverse scores by distance only.
		r.strScore, r.importanceScore, r.importanceCeil = 0, 0, 0
		r.Score = r.geoScore / r.geoCeil
		results = append(results, r)
	}
	sortResults(results)
	if len(results) > q.Limit {
		results = results[:q.Limit]
	}
	for _, r := range results {
		r.Labels = e.makeLabels(r)
	}
	return results, nil
}

// nearPoint is a document's point nearest to a reverse query: the
// document's own (hn 0) or one of its housenumbers (hn = index + 1).
type nearPoint struct {
	doc  uint32
	hn   uint32
	dist float64 // squared planar distance, only for choosing
}

// maxReverseRings bounds the rings of cells a reverse lookup with a radius
// scans: (2*64+1)^2 cells at most. A 5 km radius needs 50 rings at 48° of
// latitude; near the poles cells narrow to nothing, and the reachable
// radius shrinks instead of the scan growing without bound.
const maxReverseRings = 64

// nearestPoints returns, for every document with an admitted point in the
// cells looked at, its nearest point, sorted by distance then document.
// With radius 0 the cells are Addok's: the 3x3 around the point, else the
// next ring. With a radius, rings of cells out to that distance, nearest
// first, stopping as soon as no unscanned cell can hold a point that would
// be among the first limit answers.
func (s *searcher) nearestPoints(lat, lon, radius float64, limit int) []nearPoint {
	sc := nearScratchPool.Get().(*nearScratch)
	defer sc.release()
	bestByDoc := sc.best
	order := sc.order[:0]
	defer func() { sc.order = order }()
	cosLat := math.Cos(lat * math.Pi / 180)
	consider := func(p index.Point) bool {
		if !s.filter.admitsPoint(p) {
			return true
		}
		plat, plon := p.LatLon()
		dy, dx := plat-lat, (plon-lon)*cosLat
		d := dx*dx + dy*dy
		if b, ok := bestByDoc[p.Doc]; !ok {
			bestByDoc[p.Doc] = nearPoint{p.Doc, p.HN, d}
			order = append(order, p.Doc)
		} else if d < b.dist || (d == b.dist && preferPoint(p.HN, b.hn)) {
			bestByDoc[p.Doc] = nearPoint{p.Doc, p.HN, d}
		}
		return true
	}
	ix := s.e.ix
	center := geo.CellOf(lat, lon)
	sorted := func() []nearPoint {
		cands := make([]nearPoint, 0, len(order))
		for _, d := range order {
			cands = append(cands, bestByDoc[d])
		}
		slices.SortFunc(cands, compareNear)
		return cands
	}
	if radius <= 0 {
		for _, c := range geo.Around(center, 1) {
			ix.CellPoints(c, consider)
		}
		if len(order) == 0 {
			for _, c := range geo.Ring(center, 2) {
				ix.CellPoints(c, consider)
			}
		}
		return sorted()
	}
	h, w := geo.CellSizeMeters(lat)
	cell := min(h, w) * 0.99 // rows away from the point's narrow slightly
	rings := min(int(math.Ceil(radius/cell))+1, maxReverseRings)
	ix.CellPoints(center, consider)
	for r := 1; r <= rings; r++ {
		// Every point of ring r is at least (r-1) cells away: stop when
		// that is beyond the limit-th nearest so far (and the metre of
		// ties reverseKeep looks at).
		if len(order) >= limit {
			cands := sorted()
			if float64(r-1)*cell > degToMetres(cands[limit-1].dist)+1 {
				return cands
			}
		}
		for _, c := range geo.Ring(center, r) {
			ix.CellPoints(c, consider)
		}
	}
	return sorted()
}

// nearScratch is the per-lookup table of each document's nearest point.
// A crowded area puts hundreds of documents in the cells looked at; a map
// grown from empty for each lookup was a tenth of a reverse request's
// allocations, so the tables are reused.
type nearScratch struct {
	best  map[uint32]nearPoint
	order []uint32
}

var nearScratchPool = sync.Pool{New: func() any {
	return &nearScratch{best: make(map[uint32]nearPoint, 256), order: make([]uint32, 0, 256)}
}}

// release empties the tables and returns them to the pool, unless a huge
// lookup (a 5 km radius downtown) grew them: those are left to the GC.
func (sc *nearScratch) release() {
	if len(sc.best) > 4096 {
		return
	}
	clear(sc.best)
	sc.order = sc.order[:0]
	nearScratchPool.Put(sc)
}

// degToMetres turns a squared planar distance in degrees into metres.
func degToMetres(d float64) float64 { return math.Sqrt(d) * 111195 }

// compareNear orders candidates by distance, then document.
func compareNear(a, b nearPoint) int {
	switch {
	case a.dist < b.dist:
		return -1
	case a.dist > b.dist:
		return 1
	}
	return int(a.doc) - int(b.doc)
}

// reverseKeep is how many of the sorted candidates to decode: the limit,
// plus what ties with the last kept within a metre (the exact haversine
// distance and the importance tie-break decide those).
func reverseKeep(cands []nearPoint, limit int) int {
	keep := min(len(cands), limit)
	if keep > 0 {
		last := degToMetres(cands[keep-1].dist)
		for keep < len(cands) && degToMetres(cands[keep].dist) < last+1 {
			keep++
		}
	}
	return keep
}

// preferPoint breaks a distance tie between two points of one document as
// Addok does: a housenumber beats the document's own point (street centres
// often sit on one of their numbers), then the first housenumber wins.
func preferPoint(hn, current uint32) bool {
	if current == 0 {
		return hn != 0
	}
	return hn != 0 && hn < current
}
