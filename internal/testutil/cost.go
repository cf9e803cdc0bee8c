package testutil

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// CheckLinearCost fails t when run(scale) costs far more than scale times
// run(1): the signature of a loop that is quadratic (or worse) in its
// input, like a duplicate check scanning everything seen so far. run(k)
// must do the same work on an input k times larger (k times as many
// values, items, parts…), ideally with distinct content, since repeats are
// what caches and dedupes make cheap.
//
// Time is measured, so the bound is loose: the best of a few runs on each
// side, and a failure only when the larger input costs more than slack
// times scale times the smaller one and more than 5 ms (below that, noise
// and fixed costs dominate). A linear cost gives a ratio near scale; a
// quadratic one gives scale², so with scale 32 and slack 6 it is caught
// by a factor of five while the linear one has a factor of six of margin
// for a loaded machine; each run starts after a collection, and an
// apparent failure is measured four more times before it is reported.
func CheckLinearCost(t testing.TB, scale int, slack float64, run func(k int)) {
	t.Helper()
	best := func(k, runs int) time.Duration {
		b := time.Duration(1<<63 - 1)
		for range runs {
			// Start each run without another's garbage to collect: GC
			// debt left by the previous run would be charged to this one.
			runtime.GC()
			start := time.Now()
			run(k)
			b = min(b, time.Since(start))
		}
		return b
	}
	var small, large time.Duration
	for range 5 {
		small = max(best(1, 5), time.Microsecond)
		large = best(scale, 3)
		if large <= 5*time.Millisecond || float64(large) <= slack*float64(scale)*float64(small) {
			return
		}
		// A loaded machine can stall one side of the comparison: measure
		// again before calling it superlinear (a quadratic cost fails every
		// time).
	}
	t.Fatalf("cost grows faster than the input: %v for 1 unit, %v for %d units (%.0fx, linear would be about %dx)",
		small, large, scale, float64(large)/float64(small), scale)
}

// Sample is a fuzz target's gate for the costly checks (CheckLinearCost):
// true for one call in every n, per process.
type Sample struct {
	n    uint64
	seen atomic.Uint64
}

// NewSample returns a gate open one call in n.
func NewSample(n int) *Sample { return &Sample{n: uint64(max(n, 1))} }

// Next reports whether this call is sampled.
func (s *Sample) Next() bool { return s.seen.Add(1)%s.n == 1 }
