package relevance

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"balise/internal/cache"
	"balise/internal/geo"
	"balise/internal/httpapi"
	"balise/internal/search"
	"balise/internal/source"
	"balise/internal/testutil"
)

// The answer cache never changes an answer: on thousands of reverse
// points jittered around real housenumbers, and on focus searches, the
// body served by a cache (on a miss, an L1 hit and an L2 hit) is byte for
// byte the body of a server without one, also for a second point a few
// metres from one already cached (the case a grid-snapping key gets
// wrong). The reverse answers are checked against an oracle as well: the
// exact nearest point of the data, found by scanning every point around.
func TestCacheNeverChangesAnAnswer(t *testing.T) {
	e := unboundedEngine(t)
	pts := loadPoints(t, sourcePath(t))
	redis := testutil.StartRedis(t)
	rng := rand.New(rand.NewPCG(2026, 12))

	reverse := reverseCases(rng, pts, 2000)
	focus := focusCases(rng, pts, 1500)
	paths := append(reverse, focus...)

	plain := newOracleServer(t, e, nil)
	uncached := make([]string, len(paths))
	for i, p := range paths {
		uncached[i] = fetch(t, plain, p, "")
	}

	cc := cache.DefaultConfig()
	cc.RedisURL, cc.WriteQueue = redis.URL(), 1<<16
	// Every write must land and every read be answered, also on a loaded
	// machine: the test checks which tier served each answer.
	cc.RedisTimeout, cc.RedisWriteTimeout = 10*time.Second, 10*time.Second
	filled := newOracleServer(t, e, &cc)
	for i, p := range paths {
		// The first request computes; the second is an L1 hit.
		if got := fetch(t, filled, p, ""); got != uncached[i] {
			t.Fatalf("%s: a cache miss changed the answer:\n cached   %s\n uncached %s", p, got, uncached[i])
		}
		if got := fetch(t, filled, p, "l1"); got != uncached[i] {
			t.Fatalf("%s: an L1 hit changed the answer:\n cached   %s\n uncached %s", p, got, uncached[i])
		}
	}
	filled.Close()
	if err := filled.cache.Close(); err != nil { // flushes the L2 writes
		t.Fatal(err)
	}

	l2only := cc
	l2only.MaxBytes = 0
	fromRedis := newOracleServer(t, e, &l2only)
	for i, p := range paths {
		if got := fetch(t, fromRedis, p, "l2"); got != uncached[i] {
			t.Fatalf("%s: an L2 hit changed the answer:\n cached   %s\n uncached %s", p, got, uncached[i])
		}
	}
	checkNearest(t, pts, reverse, uncached[:len(reverse)])
}

// oracleServer is balise's HTTP API over the shared index, with or
// without an answer cache.
type oracleServer struct {
	*httptest.Server
	cache *cache.Cache
}

type oneEngine struct{ e *search.Engine }

func (o oneEngine) Acquire() (*search.Engine, func()) { return o.e, func() {} }

func newOracleServer(t *testing.T, e *search.Engine, cc *cache.Config) *oracleServer {
	t.Helper()
	s := &oracleServer{}
	opts := httpapi.Options{Engines: oneEngine{e}}
	if cc != nil {
		c, err := cache.New(*cc, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		s.cache, opts.Cache = c, c
	}
	s.Server = httptest.NewServer(httpapi.New(opts))
	t.Cleanup(s.Close)
	return s
}

// fetch GETs a path and returns its body; tier, when not empty, is the
// X-Cache value the answer must carry.
func fetch(t *testing.T, s *oracleServer, path, tier string) string {
	t.Helper()
	res, err := http.Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s %v", path, res.StatusCode, body, err)
	}
	if got := res.Header.Get("X-Cache"); tier != "" && got != tier {
		t.Fatalf("%s: X-Cache %q, want %q", path, got, tier)
	}
	return string(body)
}

// dataPoint is one point of the data: a document's own or a housenumber's.
type dataPoint struct {
	lat, lon float64
	doc      int // the document's line
	hn       bool
	name     string // the street's (or place's) name
	city     string
}

// loadPoints reads every point of an Addok ndjson file.
func loadPoints(t *testing.T, path string) []dataPoint {
	t.Helper()
	r, err := source.Open(path, source.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []dataPoint
	for {
		d, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		name, city := strings.Clone(firstString(d, "name")), strings.Clone(firstString(d, "city"))
		lat, ok1 := fieldFloat(d, "lat")
		lon, ok2 := fieldFloat(d, "lon")
		if ok1 && ok2 {
			out = append(out, dataPoint{lat: lat, lon: lon, doc: d.Line, name: name, city: city})
		}
		for _, h := range d.Housenumbers {
			lat, ok1 := h.Lat.Float()
			lon, ok2 := h.Lon.Float()
			if ok1 && ok2 {
				out = append(out, dataPoint{lat: lat, lon: lon, doc: d.Line, hn: true, name: name, city: city})
			}
		}
	}
}

func fieldFloat(d *source.Document, key string) (float64, bool) {
	v, ok := d.Get(key)
	if !ok {
		return 0, false
	}
	return v.Float()
}

// firstString is a string field, or the first item of a list of strings.
func firstString(d *source.Document, key string) string {
	v, _ := d.Get(key)
	if v.Kind == source.List && len(v.List) > 0 {
		v = v.List[0]
	}
	if v.Kind != source.String {
		return ""
	}
	return v.Str
}

// jitterPoint moves a point by a Gaussian offset of sigma metres per axis
// and rounds it to 6 decimals, as a web client sends a GPS fix.
func jitterPoint(rng *rand.Rand, lat, lon, sigma float64) (float64, float64) {
	const mPerDeg = 111_195.0
	lat += rng.NormFloat64() * sigma / mPerDeg
	lon += rng.NormFloat64() * sigma / (mPerDeg * math.Cos(lat*math.Pi/180))
	return math.Round(lat*1e6) / 1e6, math.Round(lon*1e6) / 1e6
}

// nearby is a second point 1 to 3 m away, in a random direction: it falls
// in the same cell of any coarse grid most of the time.
func nearby(rng *rand.Rand, lat, lon float64) (float64, float64) {
	const mPerDeg = 111_195.0
	d, a := 1+2*rng.Float64(), 2*math.Pi*rng.Float64()
	lat += d * math.Sin(a) / mPerDeg
	lon += d * math.Cos(a) / (mPerDeg * math.Cos(lat*math.Pi/180))
	return math.Round(lat*1e6) / 1e6, math.Round(lon*1e6) / 1e6
}

// reverseCases draws n housenumbers, jitters each (σ 25 m for half, 8 m for
// the other half) and returns two /reverse paths per housenumber: the
// point and one a few metres away; limits 1, 3 and 5.
func reverseCases(rng *rand.Rand, pts []dataPoint, n int) []string {
	var hns []dataPoint
	for _, p := range pts {
		if p.hn {
			hns = append(hns, p)
		}
	}
	var out []string
	for i := range n {
		p := hns[rng.IntN(len(hns))]
		sigma := 25.0
		if i%2 == 1 {
			sigma = 8
		}
		lat, lon := jitterPoint(rng, p.lat, p.lon, sigma)
		lat2, lon2 := nearby(rng, lat, lon)
		limit := []int{1, 1, 3, 5}[i%4]
		for _, q := range [][2]float64{{lat, lon}, {lat2, lon2}} {
			out = append(out, fmt.Sprintf("/reverse/?lat=%v&lon=%v&limit=%d", q[0], q[1], limit))
		}
	}
	return out
}

// focusCases draws n streets' names (half as autocomplete prefixes, as
// typed) with a focus point drawn around the street with σ = 2 km, and
// returns two /search paths per query: that focus and one a few metres
// away.
func focusCases(rng *rand.Rand, pts []dataPoint, n int) []string {
	var out []string
	for i := range n {
		p := pts[rng.IntN(len(pts))]
		for p.name == "" {
			p = pts[rng.IntN(len(pts))]
		}
		q, auto := p.name, i%2 == 1
		if auto && len(q) > 6 {
			q = strings.ToValidUTF8(q[:len(q)*2/3], "")
		}
		if i%3 == 0 {
			q += " " + p.city
		}
		lat, lon := jitterPoint(rng, p.lat, p.lon, 2000)
		lat2, lon2 := nearby(rng, lat, lon)
		for _, f := range [][2]float64{{lat, lon}, {lat2, lon2}} {
			out = append(out, fmt.Sprintf("/search/?q=%s&lat=%v&lon=%v&limit=5&autocomplete=%d",
				url.QueryEscape(q), f[0], f[1], map[bool]int{false: 0, true: 1}[auto]))
		}
	}
	return out
}

// checkNearest compares each reverse answer's first feature with the
// nearest point of the data. Addok's reverse looks at the 3x3 geohash
// cells around the point only, so a point whose nearest address lies
// beyond one cell is not checked; nearly none are (counted).
func checkNearest(t *testing.T, pts []dataPoint, paths, bodies []string) {
	grid := newPointGrid(pts)
	checked := 0
	for i, p := range paths {
		u, err := url.Parse(p)
		if err != nil {
			t.Fatal(err)
		}
		var lat, lon float64
		fmt.Sscan(u.Query().Get("lat"), &lat)
		fmt.Sscan(u.Query().Get("lon"), &lon)
		best := grid.nearest(lat, lon)
		if h, w := geo.CellSizeMeters(lat); best >= min(h, w) {
			continue
		}
		checked++
		var fc struct {
			Features []struct {
				Geometry struct{ Coordinates [2]float64 }
			}
		}
		if err := json.Unmarshal([]byte(bodies[i]), &fc); err != nil || len(fc.Features) == 0 {
			t.Fatalf("%s: no feature in %s (%v)", p, bodies[i], err)
		}
		c := fc.Features[0].Geometry.Coordinates
		if got := 1000 * geo.HaversineKm(lat, lon, c[1], c[0]); got > best+0.5 {
			t.Errorf("%s: first result %.2f m away, the nearest point of the data %.2f m", p, got, best)
		}
	}
	t.Logf("%d reverse answers checked against the nearest point of the data (%d beyond one cell)", checked, len(paths)-checked)
	if checked < len(paths)*95/100 {
		t.Fatalf("only %d of %d reverse points checked", checked, len(paths))
	}
}

// pointGrid buckets points by 0.01° cells, for an exact nearest search.
type pointGrid struct {
	cells map[[2]int][]dataPoint
}

const gridStep = 0.01

func newPointGrid(pts []dataPoint) *pointGrid {
	g := &pointGrid{cells: map[[2]int][]dataPoint{}}
	for _, p := range pts {
		k := [2]int{int(math.Floor(p.lat / gridStep)), int(math.Floor(p.lon / gridStep))}
		g.cells[k] = append(g.cells[k], p)
	}
	return g
}

// nearest returns the distance in metres to the nearest point: it scans
// rings of cells until no unscanned cell can hold a closer point.
func (g *pointGrid) nearest(lat, lon float64) float64 {
	ci, cj := int(math.Floor(lat/gridStep)), int(math.Floor(lon/gridStep))
	// The narrowest a cell is near this latitude, with a margin.
	cellM := gridStep * 111_195 * math.Cos((math.Abs(lat)+1)*math.Pi/180) * 0.99
	best := math.Inf(1)
	for r := 0; r < 200; r++ {
		for i := ci - r; i <= ci+r; i++ {
			for j := cj - r; j <= cj+r; j++ {
				if max(abs(i-ci), abs(j-cj)) != r {
					continue
				}
				for _, p := range g.cells[[2]int{i, j}] {
					best = min(best, 1000*geo.HaversineKm(lat, lon, p.lat, p.lon))
				}
			}
		}
		if best <= float64(r)*cellM {
			break
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
