package cache

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"balise/internal/testutil"
)

// referenceFilters is the canonical form of filters spelled out in the
// most obvious way (a scan of the values kept so far, quadratic): the
// oracle canonicalFilters must agree with for every input.
func referenceFilters(fs []Filter, maxValues int) []canonicalFilter {
	var out []canonicalFilter
	for _, f := range fs {
		var vals []string
		for _, v := range f.Values {
			v = strings.TrimSpace(v)
			if v != "" && !slices.Contains(vals, v) {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			continue
		}
		if len(vals) <= maxValues {
			slices.Sort(vals)
		}
		out = append(out, canonicalFilter{f.Name, vals})
	}
	slices.SortStableFunc(out, func(a, b canonicalFilter) int { return strings.Compare(a.name, b.name) })
	return out
}

// sameFilters compares canonical forms, an empty one equal to nil.
func sameFilters(a, b []canonicalFilter) bool {
	return len(a) == 0 && len(b) == 0 || reflect.DeepEqual(a, b)
}

func TestCanonicalFiltersMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for _, maxValues := range []int{2, 10, 50} {
		k := mustKeys(t, KeyConfig{MaxFilterValues: maxValues})
		for _, n := range []int{0, 1, 2, 10, 15, 16, 17, 18, 40, 300} {
			for range 20 {
				vals := make([]string, n)
				for i := range vals {
					vals[i] = []string{"", " ", fmt.Sprint(rng.IntN(n + 1)), fmt.Sprintf(" %d ", rng.IntN(n+1))}[rng.IntN(4)]
				}
				fs := []Filter{{"postcode", vals}, {"citycode", slices.Clone(vals[:n/2])}}
				if got, want := k.canonicalFilters(fs), referenceFilters(fs, maxValues); !sameFilters(got, want) {
					t.Fatalf("max %d, %d values: got %q; want %q", maxValues, n, got, want)
				}
			}
		}
	}
}

// manyValues returns n distinct filter values (each given twice, the
// second time padded), in an order that is not sorted.
func manyValues(n int) []string {
	vals := make([]string, 0, 2*n)
	for i := range n {
		v := strconv.Itoa((i * 7919) % (n + 7))
		vals = append(vals, v+"-"+strconv.Itoa(i), " "+v+"-"+strconv.Itoa(i))
	}
	return vals
}

// Key building stays linear in the number of filter values: 40,000
// distinct values took seconds when each was checked against all the
// others.
func TestSearchKeyLinearInFilterValues(t *testing.T) {
	k := mustKeys(t, DefaultKeyConfig())
	const unit = 5000
	inputs := map[int][]Filter{}
	// Sorting makes it n·log n, and a large input no longer fits the CPU
	// caches: 16x the values with a slack of 6 leaves room for both, while
	// a quadratic check would cost 256x.
	for _, n := range []int{1, 16} {
		inputs[n] = []Filter{{"postcode", manyValues(n * unit)}}
	}
	testutil.CheckLinearCost(t, 16, 6, func(n int) {
		k.Search(SearchRequest{Folded: "x", Filters: inputs[n]})
	})
}

// Points are keyed exactly, however far outside the world they are, and
// whatever a neighbour one ulp away is.
func TestKeysExactPoints(t *testing.T) {
	k := mustKeys(t, DefaultKeyConfig())
	for _, pair := range [][2]float64{{1e300, 2e300}, {-1e17, -2e17}, {math.Inf(1), math.MaxFloat64},
		{48.856649, math.Nextafter(48.856649, 90)}, {45.1234, 45.12341}} {
		ka := k.Search(SearchRequest{HasFocus: true, Lat: pair[0], Lon: 2})
		kb := k.Search(SearchRequest{HasFocus: true, Lat: pair[1], Lon: 2})
		if ka == kb {
			t.Errorf("focus %v and %v share the key %q", pair[0], pair[1], ka)
		}
		ra := k.Reverse(ReverseRequest{Lat: pair[0], Lon: 2})
		rb := k.Reverse(ReverseRequest{Lat: pair[1], Lon: 2})
		if ra == rb {
			t.Errorf("reverse %v and %v share the key %q", pair[0], pair[1], ra)
		}
	}
	if a, b := k.Reverse(ReverseRequest{Lat: math.Copysign(0, -1), Lon: 0}), k.Reverse(ReverseRequest{}); a != b {
		t.Errorf("-0 and 0 are one point; keys %q and %q", a, b)
	}
}

// fuzzFilters reads filters from s: filters separated by '|', the name
// before the first '=', values separated by ','.
func fuzzFilters(s string) []Filter {
	if s == "" {
		return nil
	}
	var fs []Filter
	for _, part := range strings.Split(s, "|") {
		name, vals, _ := strings.Cut(part, "=")
		fs = append(fs, Filter{Name: name, Values: strings.Split(vals, ",")})
	}
	return fs
}

// searchCanon is what decides a search's answer, in a form compared with
// ==: two requests with the same canon must share a key, two with
// different canons must not.
type searchCanon struct {
	version, endpoint, flavour, folded string
	limit                              int
	autocomplete, hasFocus             bool
	lat, lon                           float64
	filters                            string
}

func canonOf(k *Keys, r SearchRequest) searchCanon {
	c := searchCanon{version: r.IndexVersion, endpoint: r.Endpoint, flavour: r.Flavour, folded: r.Folded,
		limit: r.Limit, autocomplete: r.Autocomplete, hasFocus: r.HasFocus,
		filters: fmt.Sprintf("%q", referenceFilters(r.Filters, k.cfg.MaxFilterValues))}
	if r.HasFocus {
		c.lat, c.lon = r.Lat, r.Lon
	}
	return c
}

// sameAnswer reports whether two canons ask the same question; NaN
// points (keyed as such) equal each other, and -0 equals 0.
func sameAnswer(a, b searchCanon) bool {
	eq := func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }
	la, lb := a.lat, b.lat
	oa, ob := a.lon, b.lon
	a.lat, a.lon, b.lat, b.lon = 0, 0, 0, 0
	return a == b && eq(la, lb) && eq(oa, ob)
}

// variant derives a second request from the first: the fuzzer explores
// pairs that differ a little, where collisions hide.
func variant(r SearchRequest, op uint8, extra string) SearchRequest {
	v := r
	v.Filters = slices.Clone(r.Filters)
	switch op % 8 {
	case 0: // shift a field boundary
		v.Folded, v.Flavour = r.Folded+r.Flavour, ""
	case 1:
		v.Folded = r.Folded + extra
	case 2: // reorder the values of each filter
		for i, f := range v.Filters {
			vals := slices.Clone(f.Values)
			slices.Reverse(vals)
			v.Filters[i] = Filter{f.Name, vals}
		}
	case 3:
		v.Filters = append(v.Filters, fuzzFilters(extra)...)
	case 4: // move the focus by one ulp
		v.Lat = math.Nextafter(r.Lat, math.Inf(1))
	case 5:
		v.HasFocus = !r.HasFocus
	case 6:
		v.Limit++
	case 7: // pad every value
		for i, f := range v.Filters {
			vals := make([]string, len(f.Values))
			for j, s := range f.Values {
				vals[j] = " " + s + extra
			}
			v.Filters[i] = Filter{f.Name, vals}
		}
	}
	return v
}

var keysCostSample = testutil.NewSample(2000)

func FuzzKeys(f *testing.F) {
	f.Add("8 bd du port", "addok", "postcode=80000,80000, 80090|type=housenumber", " x", 49.89, 2.29, uint8(0), uint8(0))
	f.Add("rue", "ban", "a=1,2,3|a=3,2,1", "|a=", 48.85661, 2.35222, uint8(1), uint8(2))
	f.Add("1:x", "", "=,,", "1:", math.NaN(), math.Inf(-1), uint8(3), uint8(4))
	f.Fuzz(func(t *testing.T, folded, flavour, filters, extra string, lat, lon float64, flags, op uint8) {
		configs := []KeyConfig{DefaultKeyConfig(), {MaxFilterValues: 2}, {MaxFilterValues: 50}}
		k := mustKeys(t, configs[int(flags>>1)%len(configs)])
		r := SearchRequest{IndexVersion: "v", Endpoint: "search", Flavour: flavour, Folded: folded,
			Filters: fuzzFilters(filters), Limit: int(flags >> 4), Autocomplete: flags&1 == 1,
			HasFocus: flags&8 == 8, Lat: lat, Lon: lon}
		v := variant(r, op, extra)
		ka, kb := k.Search(r), k.Search(v)
		ca, cb := canonOf(k, r), canonOf(k, v)
		if ka == kb && !sameAnswer(ca, cb) {
			t.Fatalf("collision: %+v and %+v share key %q", ca, cb, ka)
		}
		if ka != kb && sameAnswer(ca, cb) {
			t.Fatalf("one question, two keys: %+v: %q and %q", ca, ka, kb)
		}
		if got := k.canonicalFilters(r.Filters); !sameFilters(got, referenceFilters(r.Filters, k.cfg.MaxFilterValues)) {
			t.Fatalf("canonical filters differ from the reference: %q", got)
		}
		rk := k.Reverse(ReverseRequest{Lat: lat, Lon: lon, Filters: r.Filters})
		rk2 := k.Reverse(ReverseRequest{Lat: v.Lat, Lon: v.Lon, Filters: r.Filters})
		if same := sameAnswer(searchCanon{lat: lat, lon: lon}, searchCanon{lat: v.Lat, lon: v.Lon}); (rk == rk2) != same {
			t.Fatalf("reverse points %v,%v and %v,%v: keys %q and %q", lat, lon, v.Lat, v.Lon, rk, rk2)
		}
		if keysCostSample.Next() {
			checkKeyCost(t, k, folded+filters+extra)
		}
	})
}

// checkKeyCost builds keys over 2,000 and 16,000 distinct values derived
// from seed: the cost must grow with the input, not its square.
func checkKeyCost(t *testing.T, k *Keys, seed string) {
	inputs := map[int][]Filter{}
	for _, n := range []int{1, 8} {
		vals := manyValues(n * 2000)
		for i := range vals {
			vals[i] += seed
		}
		inputs[n] = []Filter{{"postcode", vals}}
	}
	testutil.CheckLinearCost(t, 8, 5, func(n int) {
		k.Search(SearchRequest{Folded: seed, Filters: inputs[n]})
	})
}

// BenchmarkSearchKeyManyValues builds the key of a search carrying 40,000
// distinct values of one filter (each given twice).
func BenchmarkSearchKeyManyValues(b *testing.B) {
	k, _ := NewKeys(DefaultKeyConfig())
	r := SearchRequest{Folded: "x", Filters: []Filter{{"postcode", manyValues(40000)}}}
	b.ReportAllocs()
	for b.Loop() {
		k.Search(r)
	}
}
