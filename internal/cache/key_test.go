package cache

import (
	"math"
	"testing"
)

func mustKeys(t *testing.T, cfg KeyConfig) *Keys {
	t.Helper()
	k, err := NewKeys(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSearchKeySameAnswerSameKey(t *testing.T) {
	k := mustKeys(t, DefaultKeyConfig())
	base := SearchRequest{IndexVersion: "v1", Endpoint: "search", Flavour: "addok", Folded: "8 bd du port", Limit: 5}
	f := func(name string, a, b SearchRequest) {
		t.Helper()
		ka := k.Search(a)
		kb := k.Search(b)
		if ka != kb {
			t.Errorf("%s: keys differ; got %q and %q", name, ka, kb)
		}
	}
	a, b := base, base
	a.Filters = []Filter{{"postcode", []string{"75001", "75002"}}, {"citycode", []string{"75101"}}}
	b.Filters = []Filter{{"citycode", []string{" 75101 "}}, {"postcode", []string{"75002", "75001", "75002", ""}}}
	f("filters sorted, trimmed, deduplicated", a, b)

	a, b = base, base
	a.Filters = []Filter{{"type", []string{""}}}
	f("filter without values ignored", a, b)

	a, b = base, base
	a.HasFocus, a.Lat, a.Lon = true, 48.85661, 0
	b.HasFocus, b.Lat, b.Lon = true, 48.85661, math.Copysign(0, -1)
	f("focus longitude -0 is 0", a, b)
}

func TestSearchKeyDifferentAnswerDifferentKey(t *testing.T) {
	k := mustKeys(t, DefaultKeyConfig())
	base := SearchRequest{IndexVersion: "v1", Endpoint: "search", Flavour: "addok", Folded: "rue de la paix", Limit: 5}
	seen := map[string]string{}
	f := func(name string, r SearchRequest) {
		t.Helper()
		key := k.Search(r)
		if prev, ok := seen[key]; ok {
			t.Errorf("%s: same key as %s: %q", name, prev, key)
		}
		seen[key] = name
	}
	f("base", base)
	r := base
	r.IndexVersion = "v2"
	f("new index version", r)
	r = base
	r.Endpoint = "search_csv"
	f("endpoint", r)
	r = base
	r.Flavour = "ban"
	f("flavour", r)
	r = base
	r.Limit = 6
	f("limit", r)
	r = base
	r.Autocomplete = true
	f("autocomplete", r)
	r = base
	r.Folded = "rue de la paix paris"
	f("query", r)
	r = base
	r.HasFocus, r.Lat, r.Lon = true, 48.8566, 2.3522
	f("focus", r)
	r.Lat = 48.8567
	f("focus moved 11 m", r)
	r = base
	r.Filters = []Filter{{"postcode", []string{"75001"}}}
	f("filter", r)
	r.Filters = []Filter{{"citycode", []string{"75001"}}}
	f("filter name", r)
	r.Filters = []Filter{{"postcode", []string{"7500", "1"}}}
	f("filter values split differently", r)
	// Length-prefixing makes field boundaries unforgeable.
	r = base
	r.Folded, r.Flavour = "1:x", "addok"
	f("query mimicking a prefix", r)
	r = base
	r.IndexVersion, r.Endpoint = "v1:6:search", ""
	f("version mimicking the endpoint", r)
}

func TestFilterValuesBeyondEngineLimitKeepOrder(t *testing.T) {
	// The engine keeps the first MaxFilterValues distinct values, then
	// sorts: two lists that differ beyond that limit only in order may
	// select different values, so their keys must differ.
	k := mustKeys(t, KeyConfig{MaxFilterValues: 2})
	a := SearchRequest{Folded: "x", Filters: []Filter{{"postcode", []string{"1", "2", "3"}}}}
	b := SearchRequest{Folded: "x", Filters: []Filter{{"postcode", []string{"3", "2", "1"}}}}
	ka := k.Search(a)
	kb := k.Search(b)
	if ka == kb {
		t.Fatalf("keys equal for differently truncated value lists: %q", ka)
	}
	a.Filters[0].Values = []string{"2", "1"}
	b.Filters[0].Values = []string{"1", "2", "1"}
	ka = k.Search(a)
	kb = k.Search(b)
	if ka != kb {
		t.Fatalf("keys differ for the same set within the limit; got %q and %q", ka, kb)
	}
}

func TestReverseKeyFields(t *testing.T) {
	k := mustKeys(t, DefaultKeyConfig())
	base := ReverseRequest{IndexVersion: "v", Endpoint: "reverse", Lat: 48.8566, Lon: 2.3522, Limit: 1}
	seen := map[string]bool{}
	for _, r := range []ReverseRequest{
		base,
		{IndexVersion: "w", Endpoint: "reverse", Lat: 48.8566, Lon: 2.3522, Limit: 1},
		{IndexVersion: "v", Endpoint: "reverse", Lat: 48.8566, Lon: 2.3522, Limit: 2},
		{IndexVersion: "v", Endpoint: "reverse", Lat: 48.8566, Lon: 2.3522, Limit: 1, Radius: 100},
		{IndexVersion: "v", Endpoint: "reverse", Lat: 48.8566, Lon: 2.3522, Limit: 1, Filters: []Filter{{"type", []string{"street"}}}},
		{IndexVersion: "v", Endpoint: "reverse_csv", Lat: 48.8566, Lon: 2.3522, Limit: 1},
	} {
		key := k.Reverse(r)
		if seen[key] {
			t.Errorf("duplicate key %q for %+v", key, r)
		}
		seen[key] = true
	}
}

func TestKeysRejectBadConfig(t *testing.T) {
	for _, cfg := range []KeyConfig{{MaxFilterValues: -1}} {
		if _, err := NewKeys(cfg); err == nil {
			t.Errorf("NewKeys(%+v) accepted", cfg)
		}
	}
}

func BenchmarkSearchKey(b *testing.B) {
	k, _ := NewKeys(DefaultKeyConfig())
	r := SearchRequest{IndexVersion: "3f9a0c1d2e", Endpoint: "search", Flavour: "addok", Folded: "8 boulevard du port amiens",
		Limit: 5, HasFocus: true, Lat: 49.89, Lon: 2.29, Filters: []Filter{{"type", []string{"housenumber"}}}}
	b.ReportAllocs()
	for b.Loop() {
		k.Search(r)
	}
}

func BenchmarkReverseKey(b *testing.B) {
	k, _ := NewKeys(DefaultKeyConfig())
	r := ReverseRequest{IndexVersion: "3f9a0c1d2e", Endpoint: "reverse", Flavour: "addok", Lat: 48.856613, Lon: 2.352222,
		Limit: 1, Filters: []Filter{{"type", []string{"housenumber"}}}}
	b.ReportAllocs()
	for b.Loop() {
		k.Reverse(r)
	}
}
