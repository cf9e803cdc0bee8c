package search

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestIntersectOfHugeListsScansTheTop: when every operand of an
// intersection is over INTERSECT_LIMIT ("rue" and "de" at the size of the
// full BAN), only the best-weighted documents of the smallest are probed
// in the others. The answer still has every word, is the same on every
// run, and holds the best-weighted document that has them all.
func TestIntersectOfHugeListsScansTheTop(t *testing.T) {
	var docs []doc
	for i := range 700 {
		// "rue de" everywhere; a few short names weigh the most.
		name := fmt.Sprintf("rue de l%c%c%c long nom numero %d", 'a'+i%26, 'a'+i/26%26, 'a'+i/676, i)
		if i%100 == 7 {
			name = "rue de"
		}
		docs = append(docs, doc{"name": name})
	}
	for i := range 100 {
		docs = append(docs, doc{"name": fmt.Sprintf("rue seule %d", i)})
	}
	cfg := func(c *Config) { c.CommonThreshold, c.IntersectLimit = 1000, 600 }
	f := buildFixture(t, withCfg(def(), cfg), docs...)
	var first []string
	for run := range 3 {
		res := f.search(Query{Q: "rue de", Limit: 10})
		if len(res) == 0 {
			t.Fatal("no result")
		}
		got := names(res)
		for _, n := range got {
			if !strings.Contains(n, "rue de") {
				t.Errorf("%q lacks a word of the query", n)
			}
		}
		if !slices.Contains(got, "rue de") {
			t.Errorf("the best-weighted documents (named \"rue de\") are missing: %v", got)
		}
		if run == 0 {
			first = got
		} else if !slices.Equal(got, first) {
			t.Fatalf("run %d: %v, first run %v", run, got, first)
		}
	}
}

// TestScanTopIsTheIntersectionOfTheBest: over lists whose best documents
// hold the answer, the scan of the top gives the full intersection's own.
func TestScanTopIsTheIntersectionOfTheBest(t *testing.T) {
	var docs []doc
	for i := range 700 {
		name := fmt.Sprintf("rue de l%c%c%c nom %d", 'a'+i%26, 'a'+i/26%26, 'a'+i/676, i)
		if i%100 == 7 {
			name = "rue de"
		}
		docs = append(docs, doc{"name": name})
	}
	f := buildFixture(t, withCfg(def(), func(c *Config) { c.IntersectLimit = 600 }), docs...)
	s := newSearcher(t.Context(), f.e, Query{Q: "rue de", Limit: 10})
	if err := s.prepare(); err != nil {
		t.Fatal(err)
	}
	keys := s.tokenKeys(s.tokens)
	scanned := s.intersect(keys, 10)
	s.cfg.IntersectLimit, s.memo = 1<<30, nil
	full := s.intersect(keys, 10)
	if len(full) != 10 || !slices.Equal(scanned, full) {
		t.Errorf("scan of the top %v, full intersection %v", scanned, full)
	}
}
