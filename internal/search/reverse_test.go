package search

import (
	"testing"
)

// Port of Addok's reverse tests (addok's tests/test_reverse.py), default profile.

func TestReverseNearestAndLimit(t *testing.T) {
	f := buildFixture(t, def(), doc{"lat": 78.23, "lon": -15.23, "id": "far"}, doc{"lat": 48.234545, "lon": 5.235445, "id": "G"},
		doc{"lat": 48.234546, "lon": 5.235446, "id": "G2"})
	res := f.reverse(ReverseQuery{Lat: 48.234545, Lon: 5.235445})
	if len(res) != 1 || res[0].publicID != "G" {
		t.Errorf("R1/R3 default limit: got %v", ids(res))
	}
	if res := f.reverse(ReverseQuery{Lat: 48.234545, Lon: 5.235445, Limit: 2}); len(res) != 2 {
		t.Errorf("R3 limit 2: got %v", ids(res))
	}
}

func TestReverseHousenumberPayload(t *testing.T) {
	f := buildFixture(t, def(), doc{"lat": 48.2, "lon": 5.2, "housenumbers": map[string]any{"24": map[string]any{"lat": 48.234545, "lon": 5.235445, "key": "value"}}})
	res := f.reverse(ReverseQuery{Lat: 48.234545, Lon: 5.235445})
	if len(res) != 1 || prop(res[0], "housenumber") != "24" || prop(res[0], "type") != "housenumber" || prop(res[0], "key") != "value" || prop(res[0], "raw") != "" {
		t.Errorf("got %+v", res[0].Properties())
	}
}

func TestReverseTypeFilters(t *testing.T) {
	f := buildFixture(t, def(), doc{"lat": 48.234545, "lon": 5.235445, "type": "street", "postcode": "75001"},
		doc{"lat": 48.234546, "lon": 5.235446, "type": "city", "postcode": "75002"},
		doc{"lat": 48.234547, "lon": 5.235447, "type": "locality", "postcode": "75001"})
	res := f.reverse(ReverseQuery{Lat: 48.234545, Lon: 5.235445, Filters: []Filter{{"type", []string{"city"}}}})
	if len(res) != 1 || prop(res[0], "type") != "city" {
		t.Errorf("type=city: got %v", ids(res))
	}
	res = f.reverse(ReverseQuery{Lat: 48.234545, Lon: 5.235445, Limit: 10, Filters: []Filter{{"type", []string{"street", "city"}}}})
	if len(res) != 2 {
		t.Errorf("type=street city: got %v", ids(res))
	}
	res = f.reverse(ReverseQuery{Lat: 48.234545, Lon: 5.235445, Limit: 10, Filters: []Filter{{"type", []string{"street", "city"}}, {"postcode", []string{"75001"}}}})
	if len(res) != 1 || prop(res[0], "type") != "street" {
		t.Errorf("AND postcode: got %v", ids(res))
	}
}

func TestReverseHousenumberModes(t *testing.T) {
	street := doc{"lat": 48.234544, "lon": 5.235444, "type": "street", "housenumbers": map[string]any{"24": map[string]any{"lat": 48.234545, "lon": 5.235445}}}
	f := buildFixture(t, def(), street)
	at := func(lat, lon float64, types ...string) string {
		t.Helper()
		var fl []Filter
		if types != nil {
			fl = []Filter{{"type", types}}
		}
		res := f.reverse(ReverseQuery{Lat: lat, Lon: lon, Filters: fl})
		if len(res) != 1 {
			t.Fatalf("types %v: %d results", types, len(res))
		}
		return prop(res[0], "type")
	}
	num, st := [2]float64{48.234545, 5.235445}, [2]float64{48.234544, 5.235444}
	for _, c := range []struct {
		name  string
		point [2]float64
		types []string
		want  string
	}{
		{"R5 street filter", num, []string{"street"}, "street"},
		{"R5 no filter", num, nil, "housenumber"},
		{"R5 housenumber", num, []string{"housenumber"}, "housenumber"},
		{"R6 forced", st, []string{"housenumber"}, "housenumber"},
		{"R7 closest wins", st, []string{"housenumber", "street"}, "street"},
		{"R7 number point", num, []string{"housenumber", "street"}, "housenumber"},
		{"R7 street locality", num, []string{"street", "locality"}, "street"},
	} {
		if got := at(c.point[0], c.point[1], c.types...); got != c.want {
			t.Errorf("%s: got %s; want %s", c.name, got, c.want)
		}
	}
}

func TestReverseEmptyFarAway(t *testing.T) {
	f := buildFixture(t, def(), doc{"lat": 48.2, "lon": 5.2})
	if res := f.reverse(ReverseQuery{Lat: 10, Lon: 10}); len(res) != 0 {
		t.Errorf("got %v", ids(res))
	}
}

func TestReverseRadius(t *testing.T) {
	// ~1.1 km north: outside Addok's cells, inside a 2 km radius, outside 500 m.
	f := buildFixture(t, def(), doc{"lat": 48.21, "lon": 5.2, "id": "north"})
	if res := f.reverse(ReverseQuery{Lat: 48.2, Lon: 5.2}); len(res) != 0 {
		t.Errorf("no radius: got %v", ids(res))
	}
	if res := f.reverse(ReverseQuery{Lat: 48.2, Lon: 5.2, Radius: 2000}); len(res) != 1 || res[0].Distance < 1000 || res[0].Distance > 1200 {
		t.Errorf("radius 2000: got %v", ids(res))
	}
	if res := f.reverse(ReverseQuery{Lat: 48.2, Lon: 5.2, Radius: 500}); len(res) != 0 {
		t.Errorf("radius 500: got %v", ids(res))
	}
}
