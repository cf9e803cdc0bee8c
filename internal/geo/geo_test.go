package geo

import (
	"math"
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
