package search

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"balise/internal/text"
)

// TestFuzzyPair: a typo in the street and another in the city; Addok's
// one-word-at-a-time fuzzy step finds another street (the bucket is full
// of documents with "rue" and "des" only), the pair step finds it.
func TestFuzzyPair(t *testing.T) {
	on := parisEngine(t, nil)
	off := parisEngine(t, func(c *Config) { c.FuzzyPair = false })
	for _, c := range []struct{ q, want string }{
		{"12 Rue Vernire Pairs", "12 Rue Vernier 75017 Paris"},
		{"8 Rue des Martrys Pairs", "8 Rue des Martyrs 75009 Paris"},
	} {
		top := func(e *Engine) string {
			rs, err := e.Search(t.Context(), Query{Q: c.q, Limit: 5})
			if err != nil || len(rs) == 0 {
				t.Fatalf("%q: %v, %d results", c.q, err, len(rs))
			}
			return rs[0].Label()
		}
		if got := top(on); got != c.want {
			t.Errorf("%q: top %q; want %q", c.q, got, c.want)
		}
		if got := top(off); got == c.want {
			t.Errorf("%q without FuzzyPair: top %q already", c.q, got)
		}
	}
}

// TestFuzzyPairWrittenWord: the pair step edits the word a token was made
// from as written ("tmple", whose phonemes are "tmpl"), not its phonemes.
func TestFuzzyPairWrittenWord(t *testing.T) {
	e := parisEngine(t, nil)
	s := newSearcher(t.Context(), e, Query{Q: "12 Rue Tmple Paris", Limit: 5})
	if err := s.prepare(); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tk := range s.tokens {
		got[tk.Value] = s.writtenWord(tk)
	}
	if got["tmpl"] != "tmple" || got["pari"] != "paris" || len(got) != 3 {
		t.Errorf("written words %v; want tmpl:tmple pari:paris ru:rue", got)
	}
}

// TestFuzzyPairLongWords: two unknown words of 95 letters, without a time
// budget, are answered at once: their written words are not edited (over
// respellMaxWord), only their phonemes, as Addok's fuzzy step does.
func TestFuzzyPairLongWords(t *testing.T) {
	e := parisEngine(t, nil)
	q := "12 rue " + strings.Repeat("vernire", 14)[:95] + " " + strings.Repeat("pairs", 19)
	start := time.Now()
	if _, err := e.Search(t.Context(), Query{Q: q, Limit: 5}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("two 95-letter words took %v", d)
	}
}

// TestFuzzyPairFewestDocumentsFirst: the most frequent corrections of
// both words ("du", "pai") are seen together in more documents than the
// bucket holds; the pair meant ("duran", "pari") is in one, and goes
// first.
func TestFuzzyPairFewestDocumentsFirst(t *testing.T) {
	var docs []doc
	for i := range 120 {
		docs = append(docs, doc{"name": "Rue Jean du Pays", "city": fmt.Sprintf("Ville%c%c", 'a'+i%26, 'a'+i/26), "type": "street", "importance": 0.5})
	}
	docs = append(docs, doc{"name": "Rue Jean Durand", "city": "Paris", "type": "street", "importance": 0.1})
	f := buildFixture(t, fr(), docs...)
	q := Query{Q: "rue jean duand prais", Limit: 5}
	res := f.search(q)
	if len(res) == 0 || res[0].Label() != "Rue Jean Durand Paris" {
		got := ""
		if len(res) > 0 {
			got = res[0].Label()
		}
		t.Errorf("%q: top %q, want Rue Jean Durand Paris", q.Q, got)
	}
}

// TestSingleUnknownWordBeforeCommonsStop: when every known word is common
// ("rue", "d", and "paris" at the size of the full BAN; here with
// COMMON_THRESHOLD at 3), Addok's chain stops on the completions of the
// common words ("pari": Parizot) before any fuzzy step; balise corrects
// the one unknown word ("natin": "antin") first.
func TestSingleUnknownWordBeforeCommonsStop(t *testing.T) {
	hn := map[string]any{"4": map[string]any{"lat": 48.87, "lon": 2.33}}
	docs := []doc{{"name": "Rue d'Antin", "city": "Paris", "housenumbers": hn}}
	for _, n := range []string{"Rue d'Oran", "Rue d'Alger", "Rue d'Arras"} {
		docs = append(docs, doc{"name": n, "city": "Paris"})
	}
	for _, n := range []string{"Rue d'Aulnay", "Rue d'Enfer", "Rue d'Orgemont", "Rue d'Auvergne", "Rue d'Estienne", "Rue d'Ivry"} {
		docs = append(docs, doc{"name": n, "city": "Parizot"})
	}
	f := buildFixture(t, fixtureOpts{profile: text.ProfileFrench, cfg: func(c *Config) { c.CommonThreshold = 3 }}, docs...)
	s := newSearcher(t.Context(), f.e, Query{Q: "4 Rue d'nAtin Paris", Limit: 5})
	if err := s.prepare(); err != nil {
		t.Fatal(err)
	}
	if len(s.meaningful) > 0 || len(s.notFound) != 1 {
		t.Fatalf("fixture: %d meaningful words and %d unknown, want none and one", len(s.meaningful), len(s.notFound))
	}
	rs := s.run() // the chain alone, without the second searches
	if s.stats.Collector != "no_meaningful_but_common_try_autocomplete" {
		t.Fatalf("fixture: the chain stopped at %q", s.stats.Collector)
	}
	if len(rs) == 0 || rs[0].Label() != "4 Rue d'Antin Paris" {
		t.Errorf("results %v; want 4 Rue d'Antin Paris first", names(rs))
	}
}
