package geo

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestCellString(t *testing.T) {
	f := func(lat, lon float64, want string) {
		t.Helper()
		if got := CellOf(lat, lon).String(); got != want {
			t.Fatalf("CellOf(%v, %v) = %s; want %s", lat, lon, got, want)
		}
	}
	// Reference values computed by bisection, as geohash is defined ("u09tvw0" is central Paris).
	f(48.8566, 2.3522, "u09tvw0")
	f(57.64911, 10.40744, "u4pruyd")
	f(-21.120919, 164.900792, "rsjrb7j")
}

func TestAroundAndRing(t *testing.T) {
	c := CellOf(48.8566, 2.3522)
	if n := len(Around(c, 1)); n != 9 {
		t.Fatalf("Around(1) = %d cells; want 9", n)
	}
	if n := len(Around(c, 2)); n != 25 {
		t.Fatalf("Around(2) = %d cells; want 25", n)
	}
	if n := len(Ring(c, 2)); n != 16 {
		t.Fatalf("Ring(2) = %d cells; want 16", n)
	}
	lon, lat := split(c)
	if interleave(lon, lat) != c {
		t.Fatal("split/interleave do not round-trip")
	}
}

func TestHaversine(t *testing.T) {
	// Addok's radius: 1 degree of latitude is 6367*pi/180 km.
	got := HaversineKm(0, 0, 1, 0)
	want := 6367 * math.Pi / 180
	if math.Abs(got-want) > 1e-9 {
		t.Fatalf("got %v; want %v", got, want)
	}
	if d := DistanceMeters(48.8566, 2.3522, 48.8566, 2.3522); d != 0 {
		t.Fatalf("distance to self = %d", d)
	}
}

// TestCorner7 checks the bound the index relies on: a point rounded to
// 1e-7 degree is within 13,734 units north and east of its cell's corner,
// at the extremes and at cell boundaries too.
func TestCorner7(t *testing.T) {
	check := func(lat, lon float64) {
		t.Helper()
		cLat, cLon := CellOf(lat, lon).Corner7()
		dLat := int64(math.Round(lat*1e7)) - int64(cLat)
		dLon := int64(math.Round(lon*1e7)) - int64(cLon)
		if dLat < 0 || dLat > 13734 || dLon < 0 || dLon > 13734 {
			t.Fatalf("(%v, %v): offsets %d, %d from the corner", lat, lon, dLat, dLon)
		}
	}
	for _, p := range [][2]float64{{-90, -180}, {90, 180}, {0, 0}, {-90, 180}, {90, -180}, {48.8566, 2.3522}, {-21.120919, 164.900792}} {
		check(p[0], p[1])
	}
	rng := rand.New(rand.NewPCG(1, 2))
	latStep, lonStep := 180.0/(1<<17), 360.0/(1<<18)
	for i := 0; i < 200000; i++ {
		lat, lon := rng.Float64()*180-90, rng.Float64()*360-180
		check(lat, lon)
		// Cell boundaries, and a hair either side of them.
		bl := math.Floor((lat+90)/latStep)*latStep - 90
		bo := math.Floor((lon+180)/lonStep)*lonStep - 180
		for _, e := range []float64{0, 1e-12, -1e-12, 4.9e-8, -4.9e-8} {
			check(math.Max(-90, math.Min(90, bl+e)), math.Max(-180, math.Min(180, bo+e)))
		}
	}
}
