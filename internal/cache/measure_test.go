package cache

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"balise/internal/geo"
	"balise/internal/index"
	"balise/internal/search"
	"balise/internal/source"
	"balise/internal/testutil"
	"balise/internal/text"
)

// These benchmarks measure what key normalisation buys and costs on the
// shared real data (../shared/data/addok-fr): the hit-rate gain of snapping
// reverse points to a grid and of rounding a search's focus point, and the
// fraction of answers that then differ from the exact ones, reported as
// metrics (b.ReportMetric); ns/op is the cost of one key. Loading the data
// and building its index takes ~15 s, once per binary. Skipped with -short
// and under -race. Run (docs/operations.md gives the figures):
//
//	go test -run '^$' -bench 'ReverseGrid|SearchFocus' ./internal/cache/

const sharedFile = "../../../shared/data/addok-fr/addok.ndjson.gz"

type hnPoint struct {
	lat, lon float64
	street   string // the street's name
	city     string
}

func needShared(t testing.TB) string {
	t.Helper()
	if testing.Short() || raceEnabled {
		t.Skip("measurement: skipped with -short and under -race")
	}
	if _, err := os.Stat(sharedFile); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing in CI", sharedFile)
		}
		t.Skipf("%s not present", sharedFile)
	}
	return sharedFile
}

// loadHousenumbers reads every housenumber point of the shared file, in
// the order of their keys within each document.
func loadHousenumbers(t testing.TB, path string) []hnPoint {
	t.Helper()
	r, err := source.Open(path, source.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []hnPoint
	for {
		d, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		// Clones: a document's strings share its line's buffer.
		name, city := strings.Clone(firstText(d, "name")), strings.Clone(firstText(d, "city"))
		slices.SortFunc(d.Housenumbers, func(a, b source.Housenumber) int { return strings.Compare(a.Raw, b.Raw) })
		for _, h := range d.Housenumbers {
			lat, ok1 := h.Lat.Float()
			lon, ok2 := h.Lon.Float()
			if !ok1 || !ok2 {
				t.Fatalf("line %d: housenumber %q has no numeric lat/lon", d.Line, h.Raw)
			}
			out = append(out, hnPoint{lat, lon, name, city})
		}
	}
}

// firstText is a string field, or the first item of a list of strings.
func firstText(d *source.Document, key string) string {
	v, _ := d.Get(key)
	if v.Kind == source.List && len(v.List) > 0 {
		v = v.List[0]
	}
	if v.Kind != source.String {
		return ""
	}
	return v.Str
}

// shared holds the data both measurements use, loaded once per binary.
var shared struct {
	once   sync.Once
	hns    []hnPoint
	engine *search.Engine
	dir    string
}

func sharedData(t testing.TB, src string) ([]hnPoint, *search.Engine) {
	t.Helper()
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "balise-cache-measure-")
		if err != nil {
			t.Fatal(err)
		}
		shared.dir = dir
		shared.hns = loadHousenumbers(t, src)
		shared.engine = buildEngine(t, src, dir)
	})
	if shared.engine == nil {
		t.Fatal("shared data failed to load in an earlier test")
	}
	return shared.hns, shared.engine
}

func buildEngine(t testing.TB, src, dir string) *search.Engine {
	t.Helper()
	path := filepath.Join(dir, "fr.balise")
	if err := testutil.BuildFile(path, src); err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(path, index.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := search.New(ix, search.DefaultConfig(), text.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// jitter moves a point by a Gaussian offset of sigma metres per axis and
// rounds it to 6 decimals, as a phone's GPS fix sent by a web client is.
func jitter(rng *rand.Rand, lat, lon, sigma float64) (float64, float64) {
	const mPerDeg = 111_195.0
	lat += rng.NormFloat64() * sigma / mPerDeg
	lon += rng.NormFloat64() * sigma / (mPerDeg * math.Cos(lat*math.Pi/180))
	return math.Round(lat*1e6) / 1e6, math.Round(lon*1e6) / 1e6
}

// BenchmarkReverseGrid: a stream of reverse lookups around real
// housenumbers. The pool is 20,000 housenumbers drawn at random from the
// 871,371 of the file; each query picks one with Zipf popularity (s=1.1:
// a few busy places, a long tail) and jitters it by σ = 25 m, then 8 m, per
// axis. One sub-benchmark per σ and grid; metrics: the hit rate over
// 200,000 lookups and the number of keys, then, on the first 4,000, how
// often the answer for the snapped point keeps the exact answer's top id
// and body, the largest snap, and how often the top result is the
// housenumber the point was drawn around (snapped, and exact).
func BenchmarkReverseGrid(b *testing.B) {
	src := needShared(b)
	hns, e := sharedData(b, src)
	rng := rand.New(rand.NewPCG(1, 2))
	pool := make([]hnPoint, 20000)
	for i := range pool {
		pool[i] = hns[rng.IntN(len(hns))]
	}
	for _, sigma := range []float64{25, 8} {
		stream := reverseStream(rng, pool, sigma, 200_000)
		for _, cell := range []float64{0, 1e-5, 5e-5, 1e-4, 2e-4, 1e-3} {
			name := "exact"
			if cell > 0 {
				name = fmt.Sprintf("%gdeg", cell)
			}
			b.Run(fmt.Sprintf("sigma=%gm/grid=%s", sigma, name), func(b *testing.B) {
				k, err := NewKeys(KeyConfig{ReverseCell: cell})
				if err != nil {
					b.Fatal(err)
				}
				i := 0
				for b.Loop() {
					p := stream[i%len(stream)]
					k.Reverse(ReverseRequest{IndexVersion: "v", Endpoint: "reverse", Lat: p.lat, Lon: p.lon, Limit: 1})
					i++
				}
				reportReverseGrid(b, k, e, stream)
			})
		}
	}
}

// revPoint is a jittered lookup and the housenumber it was drawn around.
type revPoint struct{ lat, lon, olat, olon float64 }

func reverseStream(rng *rand.Rand, pool []hnPoint, sigma float64, n int) []revPoint {
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(pool)-1))
	stream := make([]revPoint, n)
	for i := range stream {
		p := pool[zipf.Uint64()]
		stream[i].lat, stream[i].lon = jitter(rng, p.lat, p.lon, sigma)
		stream[i].olat, stream[i].olon = p.lat, p.lon
	}
	return stream
}

// reportReverseGrid reports the hit rate of k's keys over the stream and
// how the answers change on its first 4,000 points.
func reportReverseGrid(b *testing.B, k *Keys, e *search.Engine, stream []revPoint) {
	seen := map[string]bool{}
	hits := 0
	for _, p := range stream {
		key, _, _ := k.Reverse(ReverseRequest{IndexVersion: "v", Endpoint: "reverse", Lat: p.lat, Lon: p.lon, Limit: 1})
		if seen[key] {
			hits++
		}
		seen[key] = true
	}
	ctx := context.Background()
	sameID, sameBody, originExact, originSnapped := 0, 0, 0, 0
	maxShift := 0.0
	sample := stream[:4000]
	for _, p := range sample {
		_, sl, so := k.Reverse(ReverseRequest{Lat: p.lat, Lon: p.lon})
		exact, err1 := e.Reverse(ctx, search.ReverseQuery{Lat: p.lat, Lon: p.lon})
		snapped, err2 := e.Reverse(ctx, search.ReverseQuery{Lat: sl, Lon: so})
		if err1 != nil || err2 != nil {
			b.Fatal(err1, err2)
		}
		maxShift = max(maxShift, 1000*geo.HaversineKm(p.lat, p.lon, sl, so))
		if len(exact) == len(snapped) && (len(exact) == 0 || exact[0].ID() == snapped[0].ID()) {
			sameID++
		}
		if string(features(exact)) == string(features(snapped)) {
			sameBody++
		}
		// Is the answer the housenumber the point was drawn around?
		if len(exact) > 0 && geo.HaversineKm(exact[0].Lat, exact[0].Lon, p.olat, p.olon) < 0.001 {
			originExact++
		}
		if len(snapped) > 0 && geo.HaversineKm(snapped[0].Lat, snapped[0].Lon, p.olat, p.olon) < 0.001 {
			originSnapped++
		}
	}
	pct := func(n, of int) float64 { return 100 * float64(n) / float64(of) }
	b.ReportMetric(pct(hits, len(stream)), "hit-%")
	b.ReportMetric(float64(len(seen)), "keys")
	b.ReportMetric(pct(sameID, len(sample)), "same-top-id-%")
	b.ReportMetric(pct(sameBody, len(sample)), "same-body-%")
	b.ReportMetric(maxShift, "max-shift-m")
	b.ReportMetric(pct(originSnapped, len(sample)), "top-is-origin-%")
	b.ReportMetric(pct(originExact, len(sample)), "exact-top-is-origin-%")
}

// BenchmarkSearchFocus: forward searches biased by a focus point (the map
// centre of a web client). Each of 1,500 queries is a street name from the
// file, half of them as autocomplete prefixes; the focus is drawn around
// the street with σ = 2 km. One sub-benchmark per number of decimals the
// focus is rounded to; metrics: how often the rounded search keeps the
// exact one's top id, top-5 ids in order, and body.
func BenchmarkSearchFocus(b *testing.B) {
	hns, e := sharedData(b, needShared(b))
	rng := rand.New(rand.NewPCG(3, 4))
	qs := make([]focusQuery, 1500)
	for i := range qs {
		p := hns[rng.IntN(len(hns))]
		lat, lon := jitter(rng, p.lat, p.lon, 2000)
		text := p.street
		auto := i%2 == 1
		if auto && len(text) > 6 { // a prefix, as typed
			text = text[:len(text)*2/3]
		}
		qs[i] = focusQuery{text, lat, lon, auto}
	}
	for _, dec := range []int{2, 3, 4, 5} {
		b.Run(fmt.Sprintf("decimals=%d", dec), func(b *testing.B) {
			k, err := NewKeys(KeyConfig{FocusDecimals: dec})
			if err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				x := qs[i%len(qs)]
				k.Search(SearchRequest{HasFocus: true, Lat: x.lat, Lon: x.lon})
				i++
			}
			reportSearchFocus(b, k, e, qs)
		})
	}
}

type focusQuery struct {
	text     string
	lat, lon float64
	auto     bool
}

func reportSearchFocus(b *testing.B, k *Keys, e *search.Engine, qs []focusQuery) {
	ctx := context.Background()
	sameTop, sameAll, sameBody := 0, 0, 0
	for _, x := range qs {
		_, rl, ro := k.Search(SearchRequest{HasFocus: true, Lat: x.lat, Lon: x.lon})
		exact, err1 := e.Search(ctx, search.Query{Q: x.text, Autocomplete: x.auto, HasCenter: true, Lat: x.lat, Lon: x.lon})
		rounded, err2 := e.Search(ctx, search.Query{Q: x.text, Autocomplete: x.auto, HasCenter: true, Lat: rl, Lon: ro})
		if err1 != nil || err2 != nil {
			b.Fatal(err1, err2)
		}
		a, r := ids(exact), ids(rounded)
		if len(a) == len(r) && (len(a) == 0 || a[0] == r[0]) {
			sameTop++
		}
		if slices.Equal(a, r) {
			sameAll++
		}
		if string(features(exact)) == string(features(rounded)) {
			sameBody++
		}
	}
	n := float64(len(qs))
	b.ReportMetric(100*float64(sameTop)/n, "same-top-id-%")
	b.ReportMetric(100*float64(sameAll)/n, "same-top5-ids-%")
	b.ReportMetric(100*float64(sameBody)/n, "same-body-%")
}

func ids(rs []*search.Result) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID()
	}
	return out
}

// features encodes the results as the body's features array (with scores
// and distances): what a client would see change.
func features(rs []*search.Result) []byte {
	var b []byte
	for _, r := range rs {
		b = r.AppendFeature(b)
	}
	return b
}

// TestMain removes the measurement's temporary index.
func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}
