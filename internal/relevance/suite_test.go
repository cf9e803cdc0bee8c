package relevance

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"

	"balise/internal/bench"
	"balise/internal/search"
)

var writeQueries = flag.String("write-queries", "", "write the generated relevance queries to this JSONL file")

var (
	suiteOnce   sync.Once
	suiteCorpus *bench.Corpus
	suiteList   []bench.Case
	suiteErr    error
)

// suiteCases is the suite's query list: 150 queries of each formulation of
// bench.Cases, seeded, drawn from every street and municipality of the
// source file (sourcePath), asking for 5 results; and the corpus they come
// from. Read once per test binary: the suite and every benchmark share it.
func suiteCases(t testing.TB) (*bench.Corpus, []bench.Case) {
	t.Helper()
	path := sourcePath(t)
	suiteOnce.Do(func() {
		suiteCorpus, suiteErr = bench.LoadWholeCorpus(path)
		if suiteErr != nil {
			return
		}
		suiteList = bench.Cases(suiteCorpus, 150, 2026)
		for i := range suiteList {
			suiteList[i].Query.Limit = 5
		}
	})
	if suiteErr != nil {
		t.Fatal(suiteErr)
	}
	return suiteCorpus, suiteList
}

// caseHit tells whether the top result is the address c was written from.
func caseHit(c bench.Case, rs []*search.Result) bool {
	if len(rs) == 0 {
		return false
	}
	t := rs[0]
	switch c.Want {
	case bench.WantMunicipality:
		return t.Type() == "municipality" && fold(propText(t, "name")) == fold(c.Name)
	case bench.WantStreet:
		return t.Type() == "street" && fold(propText(t, "name")) == fold(c.Name) && fold(propText(t, "city")) == fold(c.City)
	}
	return t.Type() == "housenumber" && t.Housenumber.Raw == c.Number && fold(propText(t, "street")) == fold(c.Name) && fold(propText(t, "city")) == fold(c.City)
}

// TestRelevance is balise's own relevance suite over the shared BAN/BANO
// file: 2,400 queries in 16 formulations; top-1 must be the source address.
func TestRelevance(t *testing.T) {
	_, cases := suiteCases(t)
	if *writeQueries != "" {
		f, err := os.Create(*writeQueries)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(f)
		for _, c := range cases {
			b, _ := json.Marshal(c)
			w.Write(append(b, '\n'))
		}
		w.Flush()
		f.Close()
	}
	e := sharedEngine(t)
	type stat struct{ n, hit int }
	per := map[string]*stat{}
	var misses []string
	total, hits := 0, 0
	for _, c := range cases {
		res, err := e.Search(t.Context(), c.Query)
		if err != nil {
			t.Fatalf("%q: %v", c.Query.Q, err)
		}
		s := per[c.Kind]
		if s == nil {
			s = &stat{}
			per[c.Kind] = s
		}
		s.n++
		total++
		if caseHit(c, res) {
			s.hit++
			hits++
		} else {
			got := "-"
			if len(res) > 0 {
				got = res[0].Label()
			}
			misses = append(misses, fmt.Sprintf("%-15s %q -> %s", c.Kind, c.Query.Q, got))
		}
	}
	kinds := make([]string, 0, len(per))
	for k := range per {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		t.Logf("relevance %-16s n=%4d top-1 %6.2f%%", k, per[k].n, 100*float64(per[k].hit)/float64(per[k].n))
	}
	rate := 100 * float64(hits) / float64(total)
	t.Logf("relevance overall n=%d top-1 %.2f%%", total, rate)
	if os.Getenv("BALISE_SHOW_MISSES") != "" {
		for _, m := range misses {
			t.Log(m)
		}
	}
	if total < 2000 {
		t.Errorf("only %d queries", total)
	}
	if rate < 97 {
		t.Errorf("top-1 %.2f%% < 97%%", rate)
	}
}
