package index

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The merged chunks give every point once, in the order of one sort of
// them all, whatever the number of chunks, with many points per cell.
func TestPointStoreMergesChunksInFileOrder(t *testing.T) {
	for _, tc := range []struct{ n, chunk int }{{0, 4}, {1, 4}, {4, 4}, {5, 4}, {1000, 7}, {5000, 1000}, {3000, 1 << 20}} {
		r := rand.New(rand.NewPCG(uint64(tc.n), uint64(tc.chunk)))
		s := pointStore{chunk: tc.chunk}
		var all []point
		for i := range tc.n {
			lat, lon := 42+r.Float64()*0.01, 2+r.Float64()*0.01 // few cells: many equal cells
			p, err := newPoint(lat, lon, uint32(i/3), i%3)      // (document, housenumber) unique, as in an index
			if err != nil {
				t.Fatal(err)
			}
			s.add(p)
			all = append(all, p)
		}
		slices.SortFunc(all, comparePoints)
		var got []point
		s.merged(func(i int, p point) {
			if i != len(got) {
				t.Fatalf("n=%d chunk=%d: index %d, want %d", tc.n, tc.chunk, i, len(got))
			}
			got = append(got, p)
		})
		if !slices.Equal(got, all) {
			t.Fatalf("n=%d chunk=%d: merged order differs from one sort", tc.n, tc.chunk)
		}
	}
}

// A point keeps its cell, document, housenumber and exact offsets.
func TestPointPacking(t *testing.T) {
	p, err := newPoint(48.8566, 2.3522, maxDocs-1, 65535)
	if err != nil {
		t.Fatal(err)
	}
	if p.doc() != maxDocs-1 || p.hn != 65535 {
		t.Fatalf("doc %d hn %d", p.doc(), p.hn)
	}
	if _, err := newPoint(48.8566, 2.3522, maxDocs, 0); err == nil {
		t.Fatal("a document id over the range was packed")
	}
	if _, err := newPoint(48.8566, 2.3522, 0, 65536); err == nil {
		t.Fatal("a housenumber index over the range was packed")
	}
}
