package search

import (
	"fmt"
	"testing"
)

// TestRetypeCommonWord: at the size of the full BAN a city written with a
// typo can make a common word ("Paais" is "pai", the phoneme of "pays", in
// 100,000 documents); the first answer leaves it out, and the second
// search takes it as a typo too.
func TestRetypeCommonWord(t *testing.T) {
	build := func(cfg func(*Config)) *fixture {
		var docs []doc
		for i := range 30 {
			docs = append(docs, doc{"name": "Rue du Pays", "city": fmt.Sprintf("Ville%c", 'a'+i%26), "type": "street"})
		}
		docs = append(docs,
			doc{"name": "Rue des Mignottes", "city": "Gesvres", "type": "street", "importance": 0.5},
			doc{"name": "Rue des Mignottes", "city": "Paris", "type": "street", "importance": 0.1})
		return buildFixture(t, withCfg(fr(), func(c *Config) {
			c.CommonThreshold = 20
			if cfg != nil {
				cfg(c)
			}
		}), docs...)
	}
	// The first answer, a homonymous street in another city, leaves out
	// "pai": a suspect with RetypeCommon only; "ru" and "de", in more
	// documents than IntersectLimit, never are.
	for _, on := range []bool{true, false} {
		f := build(func(c *Config) { c.RetypeCommon = on; c.IntersectLimit = 31 })
		first := f.search(Query{Q: "rue des mignottes gesvres", Limit: 1})
		if len(first) == 0 || prop(first[0], "city") != "Gesvres" {
			t.Fatalf("no first answer in Gesvres: %v", first)
		}
		s := newSearcher(t.Context(), f.e, Query{Q: "rue des mignottes paais", Limit: 5})
		if err := s.prepare(); err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(s.uncovered(first))
		if want := map[bool]string{true: "[pai]", false: "[]"}[on]; got != want {
			t.Errorf("RetypeCommon %v: suspects %s, want %s", on, got, want)
		}
	}
}
