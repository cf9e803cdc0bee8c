package relevance

import (
	"sync/atomic"
	"testing"

	"balise/internal/search"
)

// Engine benchmarks over the shared file; both cores via RunParallel.
// go test -run '^$' -bench . -benchmem ./internal/relevance/

func benchSearch(b *testing.B, filter func(suiteCase) bool) {
	cases, _ := perfCases(b)
	var qs []search.Query
	for _, c := range cases {
		if filter(c) {
			qs = append(qs, c.Query)
		}
	}
	e := sharedEngine(b)
	var i atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			q := qs[int(i.Add(1))%len(qs)]
			if _, err := e.Search(b.Context(), q); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSearchMixed(b *testing.B) {
	benchSearch(b, func(suiteCase) bool { return true })
}

func BenchmarkSearchFull(b *testing.B) {
	benchSearch(b, func(c suiteCase) bool { return c.Kind == "full" })
}

func BenchmarkSearchTypo(b *testing.B) {
	benchSearch(b, func(c suiteCase) bool { return c.Kind == "typo" })
}

func BenchmarkSearchPrefix(b *testing.B) {
	benchSearch(b, func(c suiteCase) bool { return c.Kind == "prefix" })
}

func BenchmarkReverse(b *testing.B) {
	_, points := perfCases(b)
	e := sharedEngine(b)
	var i atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p := points[int(i.Add(1))%len(points)]
			if _, err := e.Reverse(b.Context(), search.ReverseQuery{Lat: p[0], Lon: p[1]}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
