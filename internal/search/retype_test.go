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

// TestRetypedWordKeepsItsTerm: a known word taken as a typo by the second
// search may be the right one, the typo being in another word: the pair
// step tries it as written too ("dijon" with "josoph" → "joseph"), so
// that retyping every word of a query with an uncorrected typo does not
// lose the words that were right.
func TestRetypedWordKeepsItsTerm(t *testing.T) {
	e := parisEngine(t, nil)
	q := Query{Q: "3 Rue Josoph Dijon Pais", Limit: 5}
	s := newSearcher(t.Context(), e, q)
	s.retyped = []string{"dijon", "pai"}
	if err := s.prepare(); err != nil {
		t.Fatal(err)
	}
	if len(s.notFound) != 3 {
		t.Fatalf("fixture: %d unknown words, want 3", len(s.notFound))
	}
	rs := s.run()
	if len(rs) == 0 || rs[0].Label() != "3 Rue Joseph Dijon 75018 Paris" {
		t.Errorf("results %v; want 3 Rue Joseph Dijon 75018 Paris first", names(rs))
	}
}

// TestRetypeWeakFirstAnswer: a first answer that has every known word of
// the query but matches it poorly (as "Rue Jean-Jacques Rousseau,
// Saint-Paul-en-Pareds" for "262 Rue Saint-Jacques Pars", whose typo made
// "par") makes those words suspects, below RetypeWeak and with
// autocomplete off only.
func TestRetypeWeakFirstAnswer(t *testing.T) {
	first := func(strScore float64) []*Result {
		return []*Result{{Labels: []string{"Rue Jean-Jacques Rousseau 85500 Saint-Paul-en-Pareds"}, strScore: strScore}}
	}
	for _, c := range []struct {
		weak, strScore float64
		autocomplete   bool
		want           string
	}{
		{0.6, 0.45, false, "[rouseau jak]"},
		{0.6, 0.45, true, "[]"}, // the last word is being typed
		{0.6, 0.65, false, "[]"},
		{0, 0.45, false, "[]"},
	} {
		e := parisEngine(t, func(cfg *Config) { cfg.RetypeWeak = c.weak })
		s := newSearcher(t.Context(), e, Query{Q: "12 Rue Jacques Rousseau", Limit: 5, Autocomplete: c.autocomplete})
		if err := s.prepare(); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(s.uncovered(first(c.strScore))); got != c.want {
			t.Errorf("RetypeWeak %v, string score %v, autocomplete %v: suspects %s, want %s", c.weak, c.strScore, c.autocomplete, got, c.want)
		}
	}
}
