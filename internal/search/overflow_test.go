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
