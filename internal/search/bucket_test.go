package search

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestTopNMatchesFullSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		n := r.IntN(300)
		hits := make([]scored, n)
		for i := range hits {
			// Few distinct weights: ties must break by document.
			hits[i] = scored{doc: uint32(r.IntN(1000)), w: float64(r.IntN(5))}
		}
		k := r.IntN(120)
		want := slices.Clone(hits)
		slices.SortFunc(want, cmpScored)
		if len(want) > k {
			want = want[:k]
		}
		var wantDocs []uint32
		for _, h := range want {
			wantDocs = append(wantDocs, h.doc)
		}
		got := topN(slices.Clone(hits), k)
		if !slices.Equal(got, wantDocs) && !(len(got) == 0 && len(wantDocs) == 0) {
			t.Fatalf("n=%d k=%d: got %v; want %v", n, k, got, wantDocs)
		}
	}
}
