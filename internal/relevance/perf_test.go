package relevance

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"balise/internal/bench"
	"balise/internal/search"
)

// perfCases is the relevance suite's query mix plus reverse points, the
// workload of the engine figures in docs/benchmarks.md.
func perfCases(t testing.TB) ([]bench.Case, [][2]float64) {
	corpus, cases := suiteCases(t)
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

// TestLatencyProfile measures per-kind latency and throughput with every
// core busy. It is a measurement, not a check: run it with
// BALISE_LATENCY=1 (see docs/benchmarks.md).
func TestLatencyProfile(t *testing.T) {
	if os.Getenv("BALISE_LATENCY") == "" {
		t.Skip("set BALISE_LATENCY=1 to measure")
	}
	cases, points := perfCases(t)
	e := sharedEngine(t)
	rounds := 20
	if v, err := strconv.Atoi(os.Getenv("BALISE_LATENCY_ROUNDS")); err == nil {
		rounds = v
	}
	workers := runtime.GOMAXPROCS(0)
	type sample struct {
		kind string
		d    time.Duration
	}
	// Warm the page cache and the code paths once.
	for _, c := range cases {
		e.Search(t.Context(), c.Query)
	}
	var next atomic.Int64
	total := int64(len(cases)+len(points)) * int64(rounds)
	results := make([][]sample, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			local := make([]sample, 0, total/int64(workers)+1)
			for {
				i := next.Add(1) - 1
				if i >= total {
					break
				}
				k := int(i % int64(len(cases)+len(points)))
				t0 := time.Now()
				kind := "reverse"
				if k < len(cases) {
					kind = cases[k].Kind
					e.Search(t.Context(), cases[k].Query)
				} else {
					p := points[k-len(cases)]
					e.Reverse(t.Context(), search.ReverseQuery{Lat: p[0], Lon: p[1]})
				}
				local = append(local, sample{kind, time.Since(t0)})
			}
			results[w] = local
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	per := map[string][]time.Duration{}
	var all, searches []time.Duration
	for _, rs := range results {
		for _, s := range rs {
			per[s.kind] = append(per[s.kind], s.d)
			all = append(all, s.d)
			if s.kind != "reverse" {
				searches = append(searches, s.d)
			}
		}
	}
	kinds := make([]string, 0, len(per))
	for k := range per {
		kinds = append(kinds, k)
		slices.Sort(per[k])
	}
	sort.Strings(kinds)
	slices.Sort(all)
	slices.Sort(searches)
	fmt.Printf("| kind | n | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|\n")
	for _, k := range kinds {
		d := per[k]
		fmt.Printf("| %s | %d | %v | %v | %v | %v |\n", k, len(d), percentile(d, .5).Round(time.Microsecond), percentile(d, .9).Round(time.Microsecond),
			percentile(d, .99).Round(time.Microsecond), d[len(d)-1].Round(time.Microsecond))
	}
	fmt.Printf("| all searches | %d | %v | %v | %v | %v |\n", len(searches), percentile(searches, .5).Round(time.Microsecond),
		percentile(searches, .9).Round(time.Microsecond), percentile(searches, .99).Round(time.Microsecond), searches[len(searches)-1].Round(time.Microsecond))
	fmt.Printf("\n%d requests (%d searches, %d reverse) on %d goroutines in %v: %.0f requests/s\n", len(all), len(searches), len(all)-len(searches),
		workers, elapsed.Round(time.Millisecond), float64(len(all))/elapsed.Seconds())
}
