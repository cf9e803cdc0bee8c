package search

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// gallop finds the first position at or after from whose document is at
// least the target, as a linear scan does.
func TestGallopMatchesLinearScan(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 70 {
		a := make([]uint32, n)
		for i := range a {
			a[i] = uint32(r.IntN(3 * (n + 1)))
		}
		slices.Sort(a)
		a = slices.Compact(a)
		for from := 0; from <= len(a); from++ {
			for target := uint32(0); target <= uint32(3*(n+1)); target++ {
				want := from
				for want < len(a) && a[want] < target {
					want++
				}
				if got := gallop(a, from, target); got != want {
					t.Fatalf("gallop(%v, %d, %d) = %d, want %d", a, from, target, got, want)
				}
			}
		}
	}
}
