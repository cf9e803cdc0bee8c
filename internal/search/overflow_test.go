package search

import (
	"fmt"
	"testing"
)

// overflowFixture is a street name in more communes than a bucket holds
// (BucketMax 100), as "Rue des Martyrs" or "Rue de la Liberté" are in the
// full BAN, and one commune the queries below mean.
func overflowFixture(t *testing.T, cfg func(*Config)) *fixture {
	var docs []doc
	for i := range 150 {
		city := fmt.Sprintf("Ville%c%c", 'a'+i%26, 'a'+i/26)
		docs = append(docs, doc{"name": "Rue de la Liberté", "city": city, "type": "street", "importance": 0.5})
	}
	docs = append(docs, doc{"name": "Rue de la Liberté", "city": "Danjoutin", "type": "street", "importance": 0.1})
	docs = append(docs, doc{"name": "Place Centrale", "city": "Danjoutin", "type": "street", "importance": 0.1})
	return buildFixture(t, withCfg(fr(), cfg), docs...)
}

// TestOverflowedBucketStillCorrectsTheCity: Addok's fuzzy step runs on a
// dry bucket only, so once the street's documents fill it a city written
// with a typo is never corrected; balise's correction step is.
func TestOverflowedBucketStillCorrectsTheCity(t *testing.T) {
	top := func(f *fixture, q Query) string {
		res := f.search(q)
		if len(res) == 0 {
			return ""
		}
		return prop(res[0], "city")
	}
	q := Query{Q: "rue de la liberte danroutin", Limit: 5}
	if got := top(overflowFixture(t, nil), q); got != "Danjoutin" {
		t.Errorf("%q: top in %q, want Danjoutin", q.Q, got)
	}
	if got := top(overflowFixture(t, func(c *Config) { c.FuzzyPair = false }), q); got == "Danjoutin" {
		t.Errorf("%q without the correction step: Danjoutin already", q.Q)
	}
	// The word being typed, expanded although the bucket overflowed.
	p := Query{Q: "rue de la liberte danj", Limit: 5, Autocomplete: true}
	if got := top(overflowFixture(t, nil), p); got != "Danjoutin" {
		t.Errorf("%q: top in %q, want Danjoutin", p.Q, got)
	}
	if got := top(overflowFixture(t, func(c *Config) { c.PrefixInFront = false }), p); got == "Danjoutin" {
		t.Errorf("%q without PrefixInFront: Danjoutin already", p.Q)
	}
}

// TestLooseNumberIsNotRequired: a number written after the street is a
// housenumber, so its token is not one of the words every candidate must
// have: it goes after the common words, and the street is found by its
// words even where they are common.
func TestLooseNumberIsNotRequired(t *testing.T) {
	var docs []doc
	for i := range 12 {
		docs = append(docs, doc{"name": "Avenue de la Gare", "city": fmt.Sprintf("Ville%c", 'a'+i), "type": "street",
			"housenumbers": map[string]any{"6": map[string]any{"lat": 44.1, "lon": 2.3}}})
	}
	docs = append(docs,
		doc{"name": "Avenue de la Gare", "city": "Naucelle", "type": "street", "housenumbers": map[string]any{"6": map[string]any{"lat": 44.2, "lon": 2.3}}},
		doc{"name": "Rue des Six Chemins", "city": "Naucelle", "type": "street"},
		doc{"name": "Avenue de Naucelle", "city": "Six-Fours", "type": "street"})
	f := buildFixture(t, withCfg(fr(), func(c *Config) { c.CommonThreshold = 5 }), docs...)
	s := newSearcher(t.Context(), f.e, Query{Q: "avenue de la gare 6 naucelle", Limit: 5})
	if err := s.prepare(); err != nil {
		t.Fatal(err)
	}
	for _, m := range s.meaningful {
		if m.Value == "six" {
			t.Errorf("the number's token is meaningful: %v", m)
		}
	}
	if n := len(s.common); n == 0 || s.common[n-1].Value != "six" {
		t.Errorf("the number's token is not last of the common words")
	}
	res := f.search(Query{Q: "avenue de la gare 6 naucelle", Limit: 5})
	if len(res) == 0 || res[0].Label() != "6 Avenue de la Gare Naucelle" {
		got := ""
		if len(res) > 0 {
			got = res[0].Label()
		}
		t.Errorf("top %q, want 6 Avenue de la Gare Naucelle", got)
	}
}
