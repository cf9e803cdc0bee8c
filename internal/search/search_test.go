package search

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"balise/internal/text"
)

// Port of Addok's black-box search tests (addok's tests/test_search.py), default
// profile, Python search() defaults: limit 10, autocomplete off.

func def() fixtureOpts { return fixtureOpts{profile: text.ProfileDefault} }

func withCfg(o fixtureOpts, f func(*Config)) fixtureOpts { o.cfg = f; return o }

func TestSearchBasics(t *testing.T) {
	f := buildFixture(t, def(), doc{"name": "Conflans"}, doc{"name": "Andrésy"}, doc{"name": "Other"})
	for _, q := range []string{"Conflans", "conflans"} {
		res := f.search(Query{Q: q})
		if len(res) != 1 || prop(res[0], "name") != "Conflans" || res[0].publicID != "doc000" {
			t.Errorf("S1/S2 %q: got %v", q, names(res))
		}
	}
	for _, q := range []string{"andrésy", "andresy"} {
		if res := f.search(Query{Q: q}); len(res) != 1 || prop(res[0], "name") != "Andrésy" {
			t.Errorf("S3 %q: got %v", q, names(res))
		}
	}
	empty := buildFixture(t, def(), doc{"name": "Other"})
	if res := empty.search(Query{Q: "Conflans"}); len(res) != 0 {
		t.Errorf("S1 before indexing: got %v", names(res))
	}
}

func TestShorterLabelFirst(t *testing.T) {
	f := buildFixture(t, def(), doc{"name": "rue d'Andrésy"}, doc{"name": "Andrésy", "type": "city"})
	res := f.search(Query{Q: "andresy"})
	if len(res) != 2 || prop(res[0], "type") != "city" {
		t.Fatalf("got %v", names(res))
	}
}

func TestWordOrder(t *testing.T) {
	f := buildFixture(t, def(), doc{"name": "rue d'Andrésy", "city": "Conflans"}, doc{"name": "rue de Conflans", "city": "Andrésy"})
	res := f.search(Query{Q: "rue andresy"})
	if len(res) != 2 || prop(res[0], "name") != "rue d'Andrésy" {
		t.Fatalf("S5: got %v", names(res))
	}
	g := buildFixture(t, def(), doc{"name": "rue de Lille", "city": "Douai"}, doc{"name": "rue de Douai", "city": "Lille"})
	if res := g.search(Query{Q: "rue de lille douai"}); len(res) != 2 || prop(res[0], "name") != "rue de Lille" {
		t.Errorf("S6 lille douai: got %v", names(res))
	}
	if res := g.search(Query{Q: "rue de douai lille"}); len(res) != 2 || prop(res[0], "name") != "rue de Douai" {
		t.Errorf("S6 douai lille: got %v", names(res))
	}
}

func TestFuzzySearch(t *testing.T) {
	all := fixtureOpts{profile: text.ProfileDefault, textCfg: text.Config{FuzzyAllLetters: true}}
	f := buildFixture(t, all, doc{"name": "Andrésy", "type": "city"})
	if res := f.search(Query{Q: "antresy"}); len(res) != 1 {
		t.Errorf("S7 antresy (one substitution): got %v", names(res))
	}
	if res := f.search(Query{Q: "antresu"}); len(res) != 0 {
		t.Errorf("S7 antresu (two edits): got %v", names(res))
	}
	g := buildFixture(t, def(), doc{"name": "Andrésy", "type": "city"})
	if res := g.search(Query{Q: "andreys"}); len(res) != 1 {
		t.Errorf("S8 transposition: got %v", names(res))
	}
	if res := g.search(Query{Q: "andressy"}); len(res) != 1 {
		t.Errorf("S9 deletion: got %v", names(res))
	}
}

func TestSearchHousenumbers(t *testing.T) {
	f := buildFixture(t, def(),
		doc{"name": "rue des Berges", "housenumbers": map[string]any{"11": map[string]any{"lat": 48.3254, "lon": 2.256}}},
		doc{"name": "rue 1814", "housenumbers": map[string]any{"8": map[string]any{"lat": 48.3254, "lon": 2.256}}},
	)
	res := f.search(Query{Q: "rue des berges"})
	if len(res) == 0 || prop(res[0], "housenumber") != "" || prop(res[0], "type") != "street" {
		t.Errorf("S10 without number: got %v", names(res))
	}
	res = f.search(Query{Q: "11 rue des berges"})
	if len(res) == 0 || prop(res[0], "housenumber") != "11" || prop(res[0], "type") != "housenumber" {
		t.Errorf("S10 with number: got %v", names(res))
	}
	res = f.search(Query{Q: "rue 1814"})
	if len(res) == 0 || prop(res[0], "name") != "rue 1814" || prop(res[0], "housenumber") != "" {
		t.Errorf("S11 rue 1814: got %v", names(res))
	}
	res = f.search(Query{Q: "8 rue 1814"})
	if len(res) == 0 || prop(res[0], "housenumber") != "8" {
		t.Errorf("S11 8 rue 1814: got %v", names(res))
	}
}

func TestOnlyLastTokenIsAPrefix(t *testing.T) {
	f := buildFixture(t, def(), doc{"name": "rue de Wambrechies", "city": "Bondues"})
	if res := f.search(Query{Q: "avenue wambre", Autocomplete: true}); len(res) != 1 {
		t.Errorf("avenue wambre: got %v", names(res))
	}
	if res := f.search(Query{Q: "wambre avenue", Autocomplete: true}); len(res) != 0 {
		t.Errorf("wambre avenue: got %v", names(res))
	}
}

func TestSynonym(t *testing.T) {
	o := fixtureOpts{profile: text.ProfileDefault, synonyms: map[string][]string{"bd": {"boulevard"}}, cfg: func(c *Config) { c.MinScore = 0 }}
	f := buildFixture(t, o, doc{"name": "boulevard des Fleurs"})
	if res := f.search(Query{Q: "bd"}); len(res) != 1 {
		t.Errorf("got %v", names(res))
	}
}

func TestCommonTokensManualScan(t *testing.T) {
	docs := []doc{
		{"name": "rue de la monnaie", "city": "Vitry"},
		{"name": "rue de la monnaie", "city": "Paris"},
		{"name": "rue de la monnaie", "city": "Condom"},
		{"name": "La monnaye", "city": "Saint-Loup-Cammas"},
	}
	for _, cfg := range []func(*Config){
		func(c *Config) { c.CommonThreshold, c.IntersectLimit, c.BucketMax = 2, 2, 3 },
		func(c *Config) { c.CommonThreshold, c.BucketMax = 2, 3 },
	} {
		f := buildFixture(t, withCfg(def(), cfg), docs...)
		res := f.search(Query{Q: "rue de la monnaie"})
		got := names(res)
		if len(res) != 3 || slices.Contains(got, "La monnaye") {
			t.Errorf("S14: got %v", got)
		}
	}
	f := buildFixture(t, withCfg(def(), func(c *Config) { c.CommonThreshold, c.IntersectLimit, c.BucketMax = 2, 2, 3 }),
		append(slices.Clone(docs[:3]), doc{"name": "La monnaie", "type": "city"})...)
	res := f.search(Query{Q: "la monnaie", Filters: []Filter{{"type", []string{"city"}}}})
	if len(res) != 1 || prop(res[0], "type") != "city" {
		t.Errorf("S15: got %v", names(res))
	}
}

func TestFilterAndCommonToken(t *testing.T) {
	cfg := func(c *Config) { c.CommonThreshold, c.IntersectLimit, c.BucketMax = 2, 2, 10 }
	f := buildFixture(t, withCfg(def(), cfg),
		doc{"name": "rue de la monnaie"}, doc{"name": "rue de la monnaie"}, doc{"name": "rue de la republique"},
		doc{"name": "La monnaie", "type": "city"}, doc{"name": "La poste", "type": "city"})
	res := f.search(Query{Q: "la", Filters: []Filter{{"type", []string{"city"}}}})
	if got := names(res); len(res) != 2 || !slices.Contains(got, "La monnaie") || !slices.Contains(got, "La poste") {
		t.Errorf("S16: got %v", got)
	}
	g := buildFixture(t, withCfg(def(), cfg),
		doc{"name": "La rue", "type": "street"}, doc{"name": "La place", "type": "locality"}, doc{"name": "La avenue", "type": "way"},
		doc{"name": "rue des Lilas"}, doc{"name": "rue des Roses"}, doc{"name": "rue des Tulipes"}, doc{"name": "rue des Iris"})
	res = g.search(Query{Q: "la", Filters: []Filter{{"type", []string{"street"}}}})
	if len(res) != 1 || prop(res[0], "name") != "La rue" {
		t.Errorf("S17: got %v", names(res))
	}
}

func TestAutocomplete(t *testing.T) {
	cfg := func(c *Config) { c.CommonThreshold, c.BucketMax = 3, 3 }
	f := buildFixture(t, withCfg(def(), cfg), doc{"name": "rue de la monnaie", "city": "Vitry"})
	if res := f.search(Query{Q: "rue de la mon", Autocomplete: true}); len(res) != 1 {
		t.Errorf("S18: got %v", names(res))
	}
	g := buildFixture(t, withCfg(def(), cfg), doc{"name": "rue de la montagne", "city": "Vitry"}, doc{"name": "rue du mont", "city": "Vitry"})
	if res := g.search(Query{Q: "rue mont", Autocomplete: true}); len(res) != 2 {
		t.Errorf("S19: got %v", names(res))
	}
	h := buildFixture(t, withCfg(def(), cfg), doc{"name": "rue de la montagne", "city": "Vitry"},
		doc{"name": "rue du mont", "city": "Vitry"}, doc{"name": "rue du mont", "city": "Paris"}, doc{"name": "rue du mont", "city": "Lille"})
	res := h.search(Query{Q: "rue mont", Autocomplete: true, Limit: 2})
	if got := names(res); len(res) != 2 || slices.Contains(got, "rue de la montagne") {
		t.Errorf("S20: got %v", got)
	}
}

func TestCommonsGeohashAutocomplete(t *testing.T) {
	cfg := func(c *Config) { c.CommonThreshold, c.BucketMax = 3, 3 }
	at := func(name string) doc { return doc{"name": name, "lat": 48.1, "lon": 2.2} }
	f := buildFixture(t, withCfg(def(), cfg), at("rue des tilleuls"), at("rue des chênes"), at("rue des hètres"), at("rue des aulnes"), at("rue descartes"))
	res := f.search(Query{Q: "rue des", Autocomplete: true, HasCenter: true, Lat: 48.1, Lon: 2.2})
	if len(res) == 0 || prop(res[0], "name") != "rue descartes" {
		t.Errorf("got %v", names(res))
	}
}

func TestHousenumberOnlyWithCenter(t *testing.T) {
	cfg := func(c *Config) { c.MinScore = 0.05 }
	f := buildFixture(t, withCfg(def(), cfg), doc{"name": "rue des tilleuls"}, doc{"name": "rue des chênes"}, doc{"name": "rue des hètres"}, doc{"name": "rue des aulnes"},
		doc{"name": "rue descartes", "housenumbers": map[string]any{"11": map[string]any{"lat": 48.3254, "lon": 2.256}}})
	res := f.search(Query{Q: "11", Autocomplete: true, HasCenter: true, Lat: 48.3254, Lon: 2.256})
	if len(res) == 0 || prop(res[0], "street") != "rue descartes" || prop(res[0], "housenumber") != "11" {
		t.Errorf("got %v", names(res))
	}
}

func TestGeoBreaksTies(t *testing.T) {
	f := buildFixture(t, def(), doc{"name": "rue de paris", "city": "Cergy", "lat": 48.1, "lon": 2.2},
		doc{"name": "rue de paris", "city": "Perpète", "lat": -48.1, "lon": -2.2}, doc{"name": "rue de paris", "city": "Loin", "lat": 8.1, "lon": 42.2})
	res := f.search(Query{Q: "rue de la monnaie", HasCenter: true, Lat: 48.1, Lon: 2.2})
	if len(res) != 3 || prop(res[0], "city") != "Cergy" {
		t.Errorf("got %v", names(res))
	}
}

func TestGeohashResultsIncluded(t *testing.T) {
	cfg := func(c *Config) { c.BucketMax, c.BucketMin = 3, 2 }
	f := buildFixture(t, withCfg(def(), cfg),
		doc{"name": "Le Bourg", "lat": 48.1, "lon": 2.2, "importance": 0.09, "id": "near"},
		doc{"name": "Le Bourg", "lat": -1.1, "lon": 1.1, "importance": 0.1},
		doc{"name": "Le Bourg", "lat": 8.1, "lon": 22.1, "importance": 0.1},
		doc{"name": "Le Bourg", "lat": 28.1, "lon": 42.1, "importance": 0.1})
	for _, q := range []Query{{Q: "bourg"}, {Q: "bou", Autocomplete: true}} {
		q.HasCenter, q.Lat, q.Lon, q.Limit = true, 48.1, 2.2, 3
		res := f.search(q)
		if len(res) != 3 || !slices.Contains(ids(res), "near") {
			t.Errorf("%q: got %v", q.Q, ids(res))
		}
	}
}

func TestNamelessDocumentNotIndexed(t *testing.T) {
	f := buildFixture(t, def(), doc{"name": nil, "city": "Montceau-les-Mines"}, doc{"name": "Other"})
	if res := f.search(Query{Q: "Montceau-les-Mines"}); len(res) != 0 {
		t.Errorf("got %v", names(res))
	}
}

func TestScoreNeverAboveOne(t *testing.T) {
	f := buildFixture(t, def(), doc{"name": "rue de paris", "importance": 1})
	res := f.search(Query{Q: "rue de paris"})
	if len(res) != 1 || res[0].Score != 1 {
		t.Fatalf("got %v", res)
	}
}

func TestSearchFilters(t *testing.T) {
	f := buildFixture(t, def(), doc{"name": "rue de Paris", "type": "street"}, doc{"name": "Paris", "type": "city"}, doc{"name": "Grenelle", "type": "locality"})
	typ := func(v ...string) []Filter { return []Filter{{"type", v}} }
	if res := f.search(Query{Q: "paris", Filters: typ("street")}); len(res) != 1 || prop(res[0], "type") != "street" {
		t.Errorf("S27 street: got %v", names(res))
	}
	if res := f.search(Query{Q: "paris", Filters: typ("street", "city")}); len(res) != 2 {
		t.Errorf("S27 street+city: got %v", names(res))
	}
	g := buildFixture(t, def(), doc{"name": "rue de Paris", "type": "street", "postcode": "75000"},
		doc{"name": "avenue de Paris", "type": "street", "postcode": "77000"}, doc{"name": "Paris", "type": "city", "postcode": "75000"})
	res := g.search(Query{Q: "paris", Filters: []Filter{{"type", []string{"street", "city"}}, {"postcode", []string{"75000"}}}})
	if got := names(res); len(res) != 2 || !slices.Contains(got, "rue de Paris") || !slices.Contains(got, "Paris") {
		t.Errorf("S28: got %v", got)
	}
	h := buildFixture(t, def(), doc{"name": "rue de Paris", "type": "Street"}, doc{"name": "Paris", "type": "City"}, doc{"name": "Paris", "type": "locality"})
	if res := h.search(Query{Q: "paris", Filters: typ("Street", "City")}); len(res) != 2 {
		t.Errorf("S29: got %v", names(res))
	}
	i := buildFixture(t, def(), doc{"name": "Paris", "type": []string{"city", "municipality"}})
	for _, v := range []string{"city", "municipality"} {
		if res := i.search(Query{Q: "paris", Filters: typ(v)}); len(res) != 1 {
			t.Errorf("S31 %s: got %v", v, names(res))
		}
	}
}

func TestHousenumberFilter(t *testing.T) {
	pt := map[string]any{"lat": 48.3254, "lon": 2.256}
	f := buildFixture(t, def(), doc{"name": "avenue de Paris"}, doc{"name": "boulevard de Paris", "housenumbers": map[string]any{"12": pt}},
		doc{"name": "rue de Paris", "housenumbers": map[string]any{"11": pt}})
	for _, typ := range [][]string{{"housenumber"}} {
		res := f.search(Query{Q: "11 paris", Filters: []Filter{{"type", typ}}})
		if len(res) != 1 || prop(res[0], "street") != "rue de Paris" || prop(res[0], "type") != "housenumber" {
			t.Errorf("S30 %v: got %v", typ, names(res))
		}
	}
	res := f.search(Query{Q: "11 paris", Filters: []Filter{{"type", []string{"housenumber", "street"}}}})
	found := false
	for _, r := range res {
		if prop(r, "street") == "rue de Paris" && prop(r, "housenumber") == "11" {
			found = true
		}
	}
	if !found {
		t.Errorf("S30 [housenumber street]: got %v", names(res))
	}
	g := buildFixture(t, def(), doc{"name": "rue de Bamako", "housenumbers": map[string]any{"11": pt}})
	for _, c := range []struct {
		filter []string
		want   string
	}{{nil, "housenumber"}, {[]string{"housenumber"}, "housenumber"}, {[]string{"street"}, "street"}, {[]string{"street", "locality"}, "street"}} {
		var fl []Filter
		if c.filter != nil {
			fl = []Filter{{"type", c.filter}}
		}
		res := g.search(Query{Q: "11 rue de bamako", Filters: fl})
		if len(res) != 1 || prop(res[0], "type") != c.want {
			t.Errorf("S32 %v: got %v", c.filter, names(res))
		}
	}
}

func TestPayloadOnlyWhenMatched(t *testing.T) {
	for _, c := range []struct {
		payload          map[string]any
		key, street, hit string
	}{
		{map[string]any{"key": "abc"}, "key", "", "abc"},
		{map[string]any{"id": "abc"}, "id", "123", "abc"},
		{map[string]any{"postcode": "54321"}, "postcode", "12345", "54321"},
	} {
		hn := map[string]any{"lat": 48.3254, "lon": 2.256}
		for k, v := range c.payload {
			hn[k] = v
		}
		f := buildFixture(t, def(), doc{"name": "rue de Paris", "id": "123", "postcode": "12345", "housenumbers": map[string]any{"1": hn}})
		if r := f.search(Query{Q: "rue de paris"}); len(r) != 1 || prop(r[0], c.key) != c.street {
			t.Errorf("%v without number: %s=%q", c.payload, c.key, prop(r[0], c.key))
		}
		if r := f.search(Query{Q: "1 rue de paris"}); len(r) != 1 || prop(r[0], c.key) != c.hit {
			t.Errorf("%v with number: %s=%q", c.payload, c.key, prop(r[0], c.key))
		}
	}
}

func TestAliasesCompared(t *testing.T) {
	f := buildFixture(t, def(), doc{"name": []string{"Vernou-la-Celle-sur-Seine", "Vernou"}, "type": "city"}, doc{"name": "Vernou", "type": "city"})
	res := f.search(Query{Q: "vernou"})
	if len(res) != 2 || res[0].Score != res[1].Score {
		t.Fatalf("got %v", res)
	}
}

func TestCityInQuery(t *testing.T) {
	f := buildFixture(t, def(), doc{"name": "avenue de paris", "city": "saint-mandé", "importance": 0.0185},
		doc{"name": "avenue de saint-mandé", "city": "paris", "importance": 0.0463})
	if res := f.search(Query{Q: "avenue de paris saint-mandé"}); len(res) == 0 || prop(res[0], "name") != "avenue de paris" {
		t.Errorf("got %v", names(res))
	}
	if res := f.search(Query{Q: "avenue de saint-mandé paris"}); len(res) == 0 || prop(res[0], "name") != "avenue de saint-mandé" {
		t.Errorf("got %v", names(res))
	}
}

func TestLimitAboveBucketMax(t *testing.T) {
	var docs []doc
	for i := 0; i < 200; i++ {
		docs = append(docs, doc{"name": "allée des acacias", "postcode": 10000 + i, "housenumbers": map[string]any{"1": map[string]any{"lat": 48.3254, "lon": 2.256}}})
	}
	f := buildFixture(t, def(), docs...)
	for _, ac := range []bool{true, false} {
		if res := f.search(Query{Q: "allée des acacias", Limit: 200, Autocomplete: ac}); len(res) != 200 {
			t.Errorf("autocomplete=%v: %d results", ac, len(res))
		}
	}
}

func TestCenterFavoursNearby(t *testing.T) {
	o := fixtureOpts{profile: text.ProfileDefault, synonyms: map[string][]string{"vla": {"villa"}}}
	f := buildFixture(t, o,
		doc{"name": "Villa Eugène", "city": "Colombes", "importance": 0.0147, "lat": 48.915805, "lon": 2.260938, "id": "colombes",
			"housenumbers": map[string]any{"13": map[string]any{"lat": 48.915805, "lon": 2.260938}}},
		doc{"name": "Villa Eugène", "city": "Fontenay", "importance": 0.0191, "lat": 48.879839, "lon": 2.393369, "id": "fontenay",
			"housenumbers": map[string]any{"13": map[string]any{"lat": 48.879839, "lon": 2.393369}}})
	for _, ac := range []bool{true, false} {
		res := f.search(Query{Q: "13 vla eugène", Autocomplete: ac, HasCenter: true, Lat: 48.9158, Lon: 2.2609})
		if len(res) == 0 || res[0].publicID != "colombes" {
			t.Errorf("autocomplete=%v: got %v", ac, ids(res))
		}
	}
}

func TestAdjustScoresWithCenter(t *testing.T) {
	f := buildFixture(t, def(), doc{"name": "rue descartes", "importance": 1, "lat": 48.1, "lon": 2.2})
	res := f.search(Query{Q: "rue descartes"})
	if len(res) != 1 || math.Abs(res[0].Components()["importance"][0]-0.1) > 1e-12 {
		t.Errorf("without center: %v", res[0].Components())
	}
	res = f.search(Query{Q: "rue descartes", HasCenter: true, Lat: 48.1, Lon: 2.2})
	if len(res) != 1 || math.Abs(res[0].Components()["importance"][0]-0.01) > 1e-12 {
		t.Errorf("with center: %v", res[0].Components())
	}
}

func TestDropsMisleadingToken(t *testing.T) {
	// Addok's test runs only these two collectors.
	o := withCfg(def(), func(c *Config) {
		c.Collectors = []string{"bucket_with_meaningful", "extend_results_reducing_tokens"}
	})
	f := buildFixture(t, o, doc{"name": "quai jules verne", "city": "saint cyprien"}, doc{"name": "allee des cyprie", "city": "larmor plage"},
		doc{"name": "rue jules verne", "city": "chatelaillon plage"}, doc{"name": "quai saint truc", "city": "la plage"})
	res := f.search(Query{Q: "quai jules verne saint cyprie plage"})
	if len(res) == 0 || prop(res[0], "name") != "quai jules verne" {
		t.Errorf("got %v", names(res))
	}
}

func TestPunctuation(t *testing.T) {
	f := buildFixture(t, def(), doc{"name": "rue de Paris"})
	if res := f.search(Query{Q: "./.$*"}); len(res) != 0 {
		t.Errorf("got %v", names(res))
	}
	if res := f.search(Query{Q: "   "}); len(res) != 0 {
		t.Errorf("blank: got %v", names(res))
	}
}

func TestQueryTooLong(t *testing.T) {
	f := buildFixture(t, withCfg(def(), func(c *Config) { c.QueryMaxLength = 10 }), doc{"name": "rue de Paris"})
	_, err := f.e.Search(t.Context(), Query{Q: "this is too long"})
	qe, ok := err.(*QueryTooLongError)
	if !ok || qe.Error() != "Query too long, 16 chars, limit is 10" {
		t.Fatalf("got %v", err)
	}
}

var _ = strings.Contains

func TestTimeBudgetCutsCollection(t *testing.T) {
	var docs []doc
	for i := 0; i < 50; i++ {
		docs = append(docs, doc{"name": "rue de la gare", "city": "Ville" + strings.Repeat("x", i%7)})
	}
	f := buildFixture(t, withCfg(def(), func(c *Config) { c.TimeBudget = time.Nanosecond }), docs...)
	res, st, err := f.e.SearchStats(t.Context(), Query{Q: "rue de la gar", Autocomplete: true, Limit: 5})
	if err != nil || !st.BudgetSpent {
		t.Fatalf("err %v, budget spent %v", err, st.BudgetSpent)
	}
	// Whatever was collected before the cut is scored and returned, never an error.
	if len(res) > 5 {
		t.Errorf("%d results", len(res))
	}
	g := buildFixture(t, def(), docs...)
	_, st, _ = g.e.SearchStats(t.Context(), Query{Q: "rue de la gar", Autocomplete: true, Limit: 5})
	if st.BudgetSpent {
		t.Error("budget spent without a budget")
	}
}

func TestStatsReportFuzzyTime(t *testing.T) {
	f := buildFixture(t, def(), doc{"name": "Andrésy", "type": "city"})
	_, st, err := f.e.SearchStats(t.Context(), Query{Q: "andreys", Limit: 5})
	if err != nil || !st.Fuzzy || st.FuzzyTime <= 0 || st.FuzzyTime > st.Collect {
		t.Fatalf("typo: %+v %v", st, err)
	}
	_, st, _ = f.e.SearchStats(t.Context(), Query{Q: "andresy", Limit: 5})
	if st.Fuzzy || st.FuzzyTime != 0 {
		t.Errorf("exact: %+v", st)
	}
}
