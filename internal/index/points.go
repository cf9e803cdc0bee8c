package index

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"balise/internal/geo"
)

// A point is packed in 16 bytes (29 M of them for the full BAN): its
// geohash cell and document in one sort key, then its housenumber and its
// exact offsets from the cell's south-west corner, which are what the file
// stores.
type point struct {
	key        uint64 // cell << docBits | doc: the file's order is (key, hn)
	hn         uint16 // stored housenumber index + 1, 0 for the document itself
	dLat, dLon uint16
}

const (
	cellBits = 5 * geo.Precision // a precision-7 geohash: 35 bits
	// docBits bounds the document ids a point can hold: 2^28 documents is
	// more than the 4 GiB of records allow (every record is over 24 bytes).
	docBits = 64 - cellBits - 1
	maxDocs = 1 << docBits
)

func (p point) cell() geo.Cell { return geo.Cell(p.key >> docBits) }
func (p point) doc() uint32    { return uint32(p.key & (maxDocs - 1)) }

// newPoint packs a point; it fails when the coordinates are not in their
// own cell (impossible for valid coordinates: Corner7 guarantees it) or
// the document cannot be numbered.
func newPoint(lat, lon float64, doc uint32, hn int) (point, error) {
	cell := geo.CellOf(lat, lon)
	lat7, lon7 := int64(math.Round(lat*1e7)), int64(math.Round(lon*1e7))
	cLat, cLon := cell.Corner7()
	dLat, dLon := lat7-int64(cLat), lon7-int64(cLon)
	if dLat < 0 || dLat > maxCellOffset || dLon < 0 || dLon > maxCellOffset {
		return point{}, fmt.Errorf("point (%d, %d) of document %d is not in its geohash cell", lat7, lon7, doc)
	}
	if uint64(cell) >= 1<<cellBits || doc >= maxDocs || hn < 0 || hn > math.MaxUint16 {
		return point{}, errors.New("point out of the index's ranges")
	}
	return point{key: uint64(cell)<<docBits | uint64(doc), hn: uint16(hn), dLat: uint16(dLat), dLon: uint16(dLon)}, nil
}

func comparePoints(p, q point) int {
	if c := cmp.Compare(p.key, q.key); c != 0 {
		return c
	}
	return cmp.Compare(p.hn, q.hn)
}

// pointChunk is the number of points sorted together (16 MiB).
const pointChunk = 1 << 20

// pointStore accumulates points in fixed-size chunks, each sorted in a
// goroutine of its own once full, and gives them back merged in file
// order. A single growing slice would be copied at every growth (the full
// BAN's 29 M points are 460 MB) and sorted in one piece at the end of the
// import, on one core.
type pointStore struct {
	chunk  int // points per chunk; 0: pointChunk
	cur    []point
	chunks [][]point
	n      int
	sorts  sync.WaitGroup
}

func (s *pointStore) add(p point) {
	if s.chunk == 0 {
		s.chunk = pointChunk
	}
	if s.cur == nil {
		s.cur = make([]point, 0, s.chunk)
	}
	s.cur = append(s.cur, p)
	s.n++
	if len(s.cur) == s.chunk {
		s.seal()
	}
}

func (s *pointStore) seal() {
	c := s.cur
	s.cur = nil
	if len(c) == 0 {
		return
	}
	s.chunks = append(s.chunks, c)
	s.sorts.Go(func() { slices.SortFunc(c, comparePoints) })
}

// merged calls fn with every point in file order, then releases them.
func (s *pointStore) merged(fn func(i int, p point)) {
	s.seal()
	s.sorts.Wait()
	chunks := s.chunks
	s.chunks = nil
	// A binary min-heap of the chunks' cursors (a few dozen chunks for
	// the full BAN): log2(chunks) comparisons per point.
	heap := make([]int, 0, len(chunks))
	pos := make([]int, len(chunks))
	less := func(a, b int) bool {
		return comparePoints(chunks[a][pos[a]], chunks[b][pos[b]]) < 0
	}
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(heap) {
				return
			}
			m := l
			if r := l + 1; r < len(heap) && less(heap[r], heap[l]) {
				m = r
			}
			if !less(heap[m], heap[i]) {
				return
			}
			heap[i], heap[m] = heap[m], heap[i]
			i = m
		}
	}
	for c := range chunks {
		heap = append(heap, c)
	}
	for i := len(heap)/2 - 1; i >= 0; i-- {
		down(i)
	}
	for i := 0; len(heap) > 0; i++ {
		c := heap[0]
		fn(i, chunks[c][pos[c]])
		pos[c]++
		if pos[c] == len(chunks[c]) {
			chunks[c] = nil
			heap[0] = heap[len(heap)-1]
			heap = heap[:len(heap)-1]
		}
		down(0)
	}
}

// geoSections lays the points out as the geo sections: the distinct cells
// with where each starts, and one little-endian array per field.
func (s *pointStore) geoSections() []section {
	n := s.n
	var cells, cellOffs []byte
	lat, lon := make([]byte, 2*n), make([]byte, 2*n)
	docs, hn := make([]byte, 4*n), make([]byte, 2*n)
	last := geo.Cell(math.MaxUint64)
	s.merged(func(i int, p point) {
		if c := p.cell(); c != last {
			cells = binary.LittleEndian.AppendUint64(cells, uint64(c))
			cellOffs = binary.LittleEndian.AppendUint32(cellOffs, uint32(i))
			last = c
		}
		binary.LittleEndian.PutUint16(lat[2*i:], p.dLat)
		binary.LittleEndian.PutUint16(lon[2*i:], p.dLon)
		binary.LittleEndian.PutUint32(docs[4*i:], p.doc())
		binary.LittleEndian.PutUint16(hn[2*i:], p.hn)
	})
	cellOffs = binary.LittleEndian.AppendUint32(cellOffs, uint32(n))
	return []section{
		{secGeoCells, cells}, {secGeoCellOffsets, cellOffs},
		{secGeoLat, lat}, {secGeoLon, lon}, {secGeoDocs, docs}, {secGeoHN, hn},
	}
}
