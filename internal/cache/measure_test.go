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
	"time"

	"balise/internal/geo"
	"balise/internal/index"
	"balise/internal/search"
	"balise/internal/source"
	"balise/internal/testutil"
	"balise/internal/text"
)

// These tests measure what key normalisation buys and costs on the shared
// real data (../shared/data/addok-fr): the hit-rate gain of snapping
// reverse points to a grid and of rounding a search's focus point, and
// the fraction of answers that then differ from the exact ones. They take
// ~15 s, so they are skipped with -short and under -race (where they
// would take minutes and measure nothing more). Run:
//
//	go test -run 'TestMeasure' -v ./internal/cache/

const sharedFile = "../../../shared/data/addok-fr/addok.ndjson.gz"

type hnPoint struct {
	lat, lon float64
	street   string // the street's name
	city     string
}

func needShared(t *testing.T) string {
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
func loadHousenumbers(t *testing.T, path string) []hnPoint {
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

func sharedData(t *testing.T, src string) ([]hnPoint, *search.Engine) {
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

func buildEngine(t *testing.T, src, dir string) *search.Engine {
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

// TestMeasureReverseGrid: a stream of reverse lookups around real
// housenumbers. The pool is 20,000 housenumbers drawn at random from the
// 871,371 of the file; each query picks one with Zipf popularity (s=1.1:
// a few busy places, a long tail) and jitters it by σ = 25 m per axis.
func TestMeasureReverseGrid(t *testing.T) {
	src := needShared(t)
	start := time.Now()
	hns, e := sharedData(t, src)
	t.Logf("%d housenumbers loaded and index built in %v", len(hns), time.Since(start).Round(time.Millisecond))

	rng := rand.New(rand.NewPCG(1, 2))
	pool := make([]hnPoint, 20000)
	for i := range pool {
		pool[i] = hns[rng.IntN(len(hns))]
	}
	ctx := context.Background()
	for _, sigma := range []float64{25, 8} {
		zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(pool)-1))
		const n = 200_000
		type q struct{ lat, lon, olat, olon float64 }
		stream := make([]q, n)
		for i := range stream {
			p := pool[zipf.Uint64()]
			stream[i].lat, stream[i].lon = jitter(rng, p.lat, p.lon, sigma)
			stream[i].olat, stream[i].olon = p.lat, p.lon
		}
		var report strings.Builder
		fmt.Fprintf(&report, "\n  %-8s %9s %8s %12s %10s %10s %14s", "grid", "hit rate", "keys", "same top id", "same body", "max shift", "top = origin")
		for _, cell := range []float64{0, 1e-5, 5e-5, 1e-4, 2e-4, 1e-3} {
			k, err := NewKeys(KeyConfig{ReverseCell: cell})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			hits := 0
			for _, p := range stream {
				key, _, _ := k.Reverse(ReverseRequest{IndexVersion: "v", Endpoint: "reverse", Lat: p.lat, Lon: p.lon, Limit: 1})
				if seen[key] {
					hits++
				}
				seen[key] = true
			}
			// Answer changes, on the first 4,000 points of the stream.
			sameID, sameBody, total, originExact, originSnapped := 0, 0, 0, 0, 0
			maxShift := 0.0
			for _, p := range stream[:4000] {
				_, sl, so := k.Reverse(ReverseRequest{Lat: p.lat, Lon: p.lon})
				exact, err1 := e.Reverse(ctx, search.ReverseQuery{Lat: p.lat, Lon: p.lon})
				snapped, err2 := e.Reverse(ctx, search.ReverseQuery{Lat: sl, Lon: so})
				if err1 != nil || err2 != nil {
					t.Fatal(err1, err2)
				}
				total++
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
			name := "exact"
			if cell > 0 {
				name = fmt.Sprintf("%g°", cell)
			}
			fmt.Fprintf(&report, "\n  %-8s %8.1f%% %8d %11.2f%% %9.2f%% %9.1fm %6.2f%% (exact %.2f%%)", name, 100*float64(hits)/n, len(seen),
				100*float64(sameID)/float64(total), 100*float64(sameBody)/float64(total), maxShift,
				100*float64(originSnapped)/float64(total), 100*float64(originExact)/float64(total))
		}
		t.Logf("reverse: %d lookups, 20,000 housenumbers, Zipf s=1.1, jitter σ=%g m, 6-decimal coordinates%s", n, sigma, report.String())
	}
}

// TestMeasureSearchFocus: forward searches biased by a focus point (the
// map centre of a web client). Each query is a street name and city from
// the file; the focus is 1 to 3 km from the street (σ = 2 km).
func TestMeasureSearchFocus(t *testing.T) {
	hns, e := sharedData(t, needShared(t))
	rng := rand.New(rand.NewPCG(3, 4))
	type q struct {
		text     string
		lat, lon float64
		auto     bool
	}
	qs := make([]q, 1500)
	for i := range qs {
		p := hns[rng.IntN(len(hns))]
		lat, lon := jitter(rng, p.lat, p.lon, 2000)
		text := p.street
		auto := i%2 == 1
		if auto && len(text) > 6 { // a prefix, as typed
			text = text[:len(text)*2/3]
		}
		qs[i] = q{text, lat, lon, auto}
	}
	ctx := context.Background()
	var report strings.Builder
	fmt.Fprintf(&report, "\n  %-9s %15s %15s %15s", "decimals", "same top id", "same top-5 ids", "same body")
	for _, dec := range []int{2, 3, 4, 5} {
		k, err := NewKeys(KeyConfig{FocusDecimals: dec})
		if err != nil {
			t.Fatal(err)
		}
		sameTop, sameAll, sameBody := 0, 0, 0
		for _, x := range qs {
			_, rl, ro := k.Search(SearchRequest{HasFocus: true, Lat: x.lat, Lon: x.lon})
			exact, err1 := e.Search(ctx, search.Query{Q: x.text, Autocomplete: x.auto, HasCenter: true, Lat: x.lat, Lon: x.lon})
			rounded, err2 := e.Search(ctx, search.Query{Q: x.text, Autocomplete: x.auto, HasCenter: true, Lat: rl, Lon: ro})
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			a, b := ids(exact), ids(rounded)
			if len(a) == len(b) && (len(a) == 0 || a[0] == b[0]) {
				sameTop++
			}
			if slices.Equal(a, b) {
				sameAll++
			}
			if string(features(exact)) == string(features(rounded)) {
				sameBody++
			}
		}
		n := float64(len(qs))
		fmt.Fprintf(&report, "\n  %-9d %14.2f%% %14.2f%% %14.2f%%", dec, 100*float64(sameTop)/n, 100*float64(sameAll)/n, 100*float64(sameBody)/n)
	}
	t.Logf("search with a focus point: %d queries (half autocomplete prefixes), focus σ=2 km from the street%s", len(qs), report.String())
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
