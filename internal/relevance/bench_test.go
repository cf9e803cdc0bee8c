package relevance

import (
	"fmt"
	"sync/atomic"
	"testing"

	"balise/internal/bench"
	"balise/internal/search"
)

// Engine benchmarks over the shared file; both cores via RunParallel.
// go test -run '^$' -bench . -benchmem ./internal/relevance/

// runParallel calls do with 0, 1, 2… from every core until b is done.
func runParallel(b *testing.B, do func(i int) error) {
	var i atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := do(int(i.Add(1))); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func benchSearch(b *testing.B, filter func(bench.Case) bool) {
	cases, _ := perfCases(b)
	var qs []search.Query
	for _, c := range cases {
		if filter(c) {
			qs = append(qs, c.Query)
		}
	}
	e := sharedEngine(b)
	runParallel(b, func(i int) error {
		_, err := e.Search(b.Context(), qs[i%len(qs)])
		return err
	})
}

func BenchmarkSearchMixed(b *testing.B) {
	benchSearch(b, func(bench.Case) bool { return true })
}

func BenchmarkSearchFull(b *testing.B) {
	benchSearch(b, func(c bench.Case) bool { return c.Kind == "full" })
}

func BenchmarkSearchTypo(b *testing.B) {
	benchSearch(b, func(c bench.Case) bool { return c.Kind == "typo" })
}

func BenchmarkSearchPrefix(b *testing.B) {
	benchSearch(b, func(c bench.Case) bool { return c.Kind == "prefix" })
}

func BenchmarkReverse(b *testing.B) {
	_, points := perfCases(b)
	e := sharedEngine(b)
	runParallel(b, func(i int) error {
		p := points[i%len(points)]
		_, err := e.Reverse(b.Context(), search.ReverseQuery{Lat: p[0], Lon: p[1]})
		return err
	})
}

// BenchmarkReverseRadius: the same points with a radius and limit 20; the
// scan stops once no farther ring can hold a closer answer, so a large
// radius costs little where addresses are dense. The worst case, a radius
// that holds nothing (far at sea or near a pole), is its own benchmark.
func BenchmarkReverseRadius(b *testing.B) {
	_, points := perfCases(b)
	e := sharedEngine(b)
	for _, radius := range []float64{100, 1000, 5000} {
		b.Run(fmt.Sprintf("radius=%gm", radius), func(b *testing.B) {
			runParallel(b, func(i int) error {
				p := points[i%len(points)]
				_, err := e.Reverse(b.Context(), search.ReverseQuery{Lat: p[0], Lon: p[1], Limit: 20, Radius: radius})
				return err
			})
		})
	}
	b.Run("radius=5000m/empty", func(b *testing.B) {
		runParallel(b, func(i int) error {
			_, err := e.Reverse(b.Context(), search.ReverseQuery{Lat: 89.9, Lon: float64(i%360) - 180, Limit: 20, Radius: 5000})
			return err
		})
	})
}
