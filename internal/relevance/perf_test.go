package relevance

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"balise/internal/bench"
	"balise/internal/search"
)

// perfCases is the relevance suite's query mix, without the formulations
// of bench.WrittenFormulations (added after the figures were measured),
// plus reverse points: the workload of the engine figures in
// docs/benchmarks.md.
func perfCases(t testing.TB) ([]bench.Case, [][2]float64) {
	corpus, all := suiteCases(t)
	var cases []bench.Case
	for _, c := range all {
		if !slices.Contains(bench.WrittenFormulations(), c.Kind) {
			cases = append(cases, c)
		}
	}
	r := rand.New(rand.NewPCG(7, 7))
	var points [][2]float64
	for len(points) < 2000 {
		s := corpus.Streets[r.IntN(len(corpus.Streets))]
		h := s.Numbers[r.IntN(len(s.Numbers))]
		points = append(points, [2]float64{h.Lat + (r.Float64()-0.5)*0.0008, h.Lon + (r.Float64()-0.5)*0.0012})
	}
	return cases, points
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d)-1) * p)
	return d[i]
}

// BenchmarkLatencyProfile measures per-kind latency and throughput with
// every core busy: one iteration is a round of every query of the suite and
// every reverse point, spread over GOMAXPROCS goroutines, each request timed
// on its own. It reports the percentiles of all searches, of reverse, the
// worst p99 of any kind and requests/s as metrics; with -v it also prints
// the per-kind table of docs/benchmarks.md.
func BenchmarkLatencyProfile(b *testing.B) {
	cases, points := perfCases(b)
	e := sharedEngine(b)
	// Warm the page cache and the code paths once.
	for _, c := range cases {
		e.Search(b.Context(), c.Query)
	}
	workers := runtime.GOMAXPROCS(0)
	results := make([][]latencySample, workers)
	var elapsed time.Duration
	for b.Loop() {
		start := time.Now()
		latencyRound(b, e, cases, points, results)
		elapsed += time.Since(start)
	}
	per := map[string][]time.Duration{}
	var searches []time.Duration
	n := 0
	for _, rs := range results {
		for _, s := range rs {
			per[s.kind] = append(per[s.kind], s.d)
			if s.kind != "reverse" {
				searches = append(searches, s.d)
			}
			n++
		}
	}
	kinds := slices.Sorted(maps.Keys(per))
	worst := time.Duration(0)
	for _, k := range kinds {
		slices.Sort(per[k])
		if k != "reverse" {
			worst = max(worst, percentile(per[k], .99))
		}
	}
	slices.Sort(searches)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	b.ReportMetric(us(percentile(searches, .5)), "search-p50-µs")
	b.ReportMetric(us(percentile(searches, .9)), "search-p90-µs")
	b.ReportMetric(us(percentile(searches, .99)), "search-p99-µs")
	b.ReportMetric(us(worst), "worst-kind-p99-µs")
	b.ReportMetric(us(percentile(per["reverse"], .99)), "reverse-p99-µs")
	b.ReportMetric(float64(n)/elapsed.Seconds(), "requests/s")
	if testing.Verbose() {
		printLatencyTable(kinds, per, searches, n, workers, elapsed)
	}
}

type latencySample struct {
	kind string
	d    time.Duration
}

// latencyRound sends every case and every reverse point once from len(out)
// goroutines, appending each request's kind and duration to its worker's
// slice of out.
func latencyRound(b *testing.B, e *search.Engine, cases []bench.Case, points [][2]float64, out [][]latencySample) {
	var next atomic.Int64
	total := int64(len(cases) + len(points))
	var wg sync.WaitGroup
	for w := range out {
		wg.Go(func() {
			for {
				k := next.Add(1) - 1
				if k >= total {
					return
				}
				t0 := time.Now()
				kind := "reverse"
				if k < int64(len(cases)) {
					kind = cases[k].Kind
					e.Search(b.Context(), cases[k].Query)
				} else {
					p := points[k-int64(len(cases))]
					e.Reverse(b.Context(), search.ReverseQuery{Lat: p[0], Lon: p[1]})
				}
				out[w] = append(out[w], latencySample{kind, time.Since(t0)})
			}
		})
	}
	wg.Wait()
}

func printLatencyTable(kinds []string, per map[string][]time.Duration, searches []time.Duration, n, workers int, elapsed time.Duration) {
	row := func(name string, d []time.Duration) {
		fmt.Printf("| %s | %d | %v | %v | %v | %v |\n", name, len(d), percentile(d, .5).Round(time.Microsecond), percentile(d, .9).Round(time.Microsecond),
			percentile(d, .99).Round(time.Microsecond), d[len(d)-1].Round(time.Microsecond))
	}
	fmt.Printf("| kind | n | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|\n")
	for _, k := range kinds {
		if k != "reverse" {
			row(k, per[k])
		}
	}
	row("all searches", searches)
	if d := per["reverse"]; len(d) > 0 {
		row("reverse", d)
	}
	fmt.Printf("\n%d requests (%d searches, %d reverse) on %d goroutines in %v: %.0f requests/s\n", n, len(searches), n-len(searches),
		workers, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
}
