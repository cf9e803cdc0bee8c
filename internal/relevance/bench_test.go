package relevance

import (
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
