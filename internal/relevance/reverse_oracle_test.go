package relevance

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"balise/internal/cache"
	"balise/internal/geo"
)

// GET /reverse with a radius returns the nearest documents within it,
// checked against an oracle on the shared data: for each point, every
// document's nearest point, those within the radius, nearest first. The
// points are drawn around real housenumbers (σ 300 m, so that small radii
// often hold nothing) with radii from 15 m to 5 km and limits 1 to 20; the
// cached answers are the uncached ones here too.
func TestReverseRadiusOracle(t *testing.T) {
	e := sharedEngine(t)
	pts := loadPoints(t, sourcePath(t))
	grid := newPointGrid(pts)
	rng := rand.New(rand.NewPCG(12, 2026))
	plain := newOracleServer(t, e, nil)
	cc := cache.DefaultConfig()
	cached := newOracleServer(t, e, &cc)

	radii := []float64{15, 60, 250, 1000, 5000}
	limits := []int{1, 5, 20}
	empty, full := 0, 0
	for i := range 600 {
		p := pts[rng.IntN(len(pts))]
		lat, lon := jitterPoint(rng, p.lat, p.lon, 300)
		radius, limit := radii[i%len(radii)], limits[(i/len(radii))%len(limits)]
		path := fmt.Sprintf("/reverse/?lat=%v&lon=%v&limit=%d&radius=%v", lat, lon, limit, radius)
		body := fetch(t, plain, path, "")
		if got := fetch(t, cached, path, ""); got != body {
			t.Fatalf("%s: cached answer differs:\n%s\n%s", path, got, body)
		}
		want := grid.withinRadius(lat, lon, radius)
		got := featureDistances(t, body, lat, lon)
		// A document at the radius, within a metre, may be on either side:
		// the engine compares its distance rounded to the metre.
		lo := countWithin(want, radius-1)
		hi := countWithin(want, radius+1)
		if len(got) < min(lo, limit) || len(got) > min(hi, limit) {
			t.Fatalf("%s: %d results, want %d..%d (of %d within the radius)", path, len(got), min(lo, limit), min(hi, limit), len(want))
		}
		for j, d := range got {
			if math.Abs(d-want[j]) > 0.5 {
				t.Fatalf("%s: result %d at %.2f m, the oracle's %d-th nearest document at %.2f m", path, j+1, d, j+1, want[j])
			}
		}
		if len(got) == 0 {
			empty++
		} else if len(got) == limit {
			full++
		}
	}
	t.Logf("600 lookups: %d with no document within the radius, %d with limit results", empty, full)
	if empty == 0 || full == 0 {
		t.Fatalf("the draw must hold empty and full answers: %d empty, %d full", empty, full)
	}
}

// withinRadius returns, nearest first, the distance in metres of every
// document whose nearest point is within radius metres.
func (g *pointGrid) withinRadius(lat, lon, radius float64) []float64 {
	dLat := radius / 111_195 / gridStep
	dLon := radius / (111_195 * math.Cos(lat*math.Pi/180)) / gridStep
	i0, i1 := int(math.Floor(lat/gridStep-dLat))-1, int(math.Floor(lat/gridStep+dLat))+1
	j0, j1 := int(math.Floor(lon/gridStep-dLon))-1, int(math.Floor(lon/gridStep+dLon))+1
	best := map[int]float64{}
	for i := i0; i <= i1; i++ {
		for j := j0; j <= j1; j++ {
			for _, p := range g.cells[[2]int{i, j}] {
				d := 1000 * geo.HaversineKm(lat, lon, p.lat, p.lon)
				if b, ok := best[p.doc]; d <= radius+1 && (!ok || d < b) {
					best[p.doc] = d
				}
			}
		}
	}
	out := make([]float64, 0, len(best))
	for _, d := range best {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

func countWithin(sorted []float64, d float64) int {
	n, _ := slices.BinarySearch(sorted, math.Nextafter(d, math.Inf(1)))
	return n
}

// featureDistances returns the distance in metres from a point to each
// feature of a GeoJSON answer, in order.
func featureDistances(t *testing.T, body string, lat, lon float64) []float64 {
	t.Helper()
	var fc struct {
		Features []struct {
			Geometry struct{ Coordinates [2]float64 }
		}
	}
	if err := json.Unmarshal([]byte(body), &fc); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	out := make([]float64, len(fc.Features))
	for i, f := range fc.Features {
		out[i] = 1000 * geo.HaversineKm(lat, lon, f.Geometry.Coordinates[1], f.Geometry.Coordinates[0])
	}
	return out
}
