package search

import (
	"fmt"
	"strings"
	"testing"
	"time"
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
