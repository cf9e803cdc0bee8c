package search

import (
	"fmt"
	"testing"
)

func topCity(f *fixture, q Query) string {
	res := f.search(q)
	if len(res) == 0 {
		return ""
	}
	return prop(res[0], "city")
}

// tuilerieFixture is one street name in several communes, as the full BAN
// has "Chemin de la Tuilerie" in hundreds, and words that make the two
// letters being typed a known, required word ("P") and a fuzzy match.
func tuilerieFixture(t *testing.T, cfg func(*Config)) *fixture {
	docs := []doc{
		{"name": "Chemin de la Tuilerie", "city": "Saint-Paul", "type": "street", "importance": 0.1},
		{"name": "Chemin de la Tuilerie", "city": "Vergongheon", "type": "street", "importance": 0.5},
		{"name": "Chemin de la Tuilerie", "city": "Forest-l'Abbaye", "type": "street", "importance": 0.5},
		{"name": "Allée P", "city": "Tuileries", "type": "street", "importance": 0.9},
	}
	return buildFixture(t, withCfg(fr(), cfg), docs...)
}

// TestShortLastWordDropped: a last word of two letters being typed is
// completed by no index term; when it leaves the bucket empty the
// documents of the other words are taken, and the city that goes on with
// what is typed comes first.
func TestShortLastWordDropped(t *testing.T) {
	q := Query{Q: "chemin de la tuilerie saint-p", Limit: 5, Autocomplete: true}
	if got := topCity(tuilerieFixture(t, nil), q); got != "Saint-Paul" {
		t.Errorf("%q: top in %q, want Saint-Paul", q.Q, got)
	}
	for _, on := range []bool{true, false} {
		f := tuilerieFixture(t, func(c *Config) { c.ShortLastWord = on })
		s := newSearcher(t.Context(), f.e, q)
		if err := s.prepare(); err != nil {
			t.Fatal(err)
		}
		s.dropShortLastWord()
		if got := s.bucket.len() > 0; got != on {
			t.Errorf("ShortLastWord %v: bucket of %d documents after the step", on, s.bucket.len())
		}
	}
	f := tuilerieFixture(t, nil)
	// Two letters written in full, autocomplete off: a required word.
	s := newSearcher(t.Context(), f.e, Query{Q: q.Q, Limit: 5})
	if err := s.prepare(); err != nil {
		t.Fatal(err)
	}
	if s.dropShortLastWord(); !s.empty() {
		t.Error("the last word dropped without autocomplete")
	}
}

// maisonsFixture: the completion of "maiso" most documents have
// ("maisons") fills the bucket with another street, and the words that
// tell the two apart ("chemin", "pierres") are common. "Maiso" is a word
// of its own somewhere, so the completions stop once the bucket is full.
func maisonsFixture(t *testing.T, cfg func(*Config)) *fixture {
	var docs []doc
	for i := range 250 {
		city := fmt.Sprintf("Ville%c%c", 'a'+i%26, 'a'+i/26)
		if i < 150 {
			docs = append(docs, doc{"name": "Route des Maisons Blanches", "city": city, "type": "street", "importance": 0.5})
		}
		docs = append(docs, doc{"name": fmt.Sprintf("Chemin des Pierres %c%c", 'a'+i%26, 'a'+i/26), "city": city, "type": "street"})
	}
	docs = append(docs, doc{"name": "Chemin des Pierres Blanches", "city": "Maisonnisses", "type": "street", "importance": 0.1},
		doc{"name": "Impasse Maiso", "city": "Ailleurs", "type": "street"})
	return buildFixture(t, withCfg(fr(), func(c *Config) {
		c.CommonThreshold = 200
		if cfg != nil {
			cfg(c)
		}
	}), docs...)
}

// TestCompletionWithEveryWordFirst: the documents that have a completion
// and every other word of the query, common ones too, are collected first.
func TestCompletionWithEveryWordFirst(t *testing.T) {
	q := Query{Q: "chemin des pierres blanches maiso", Limit: 5, Autocomplete: true}
	if got := topCity(maisonsFixture(t, nil), q); got != "Maisonnisses" {
		t.Errorf("%q: top in %q, want Maisonnisses", q.Q, got)
	}
	if got := topCity(maisonsFixture(t, func(c *Config) { c.PrefixEveryWord = false }), q); got == "Maisonnisses" {
		t.Errorf("%q without PrefixEveryWord: Maisonnisses already", q.Q)
	}
}
