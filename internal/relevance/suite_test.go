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
// file: 3,150 queries in 21 formulations; top-1 must be the source address,
// overall and in each formulation (formulationFloors).
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
		res, st, err := e.SearchStats(t.Context(), c.Query)
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
		if !caseHit(c, res) && st.BudgetSpent {
			// Once more, only when the 50 ms time budget cut the query
			// short (a loaded machine): the floors are about relevance,
			// not load. A miss with the budget unspent is a miss.
			if res, err = e.Search(t.Context(), c.Query); err != nil {
				t.Fatalf("%q: %v", c.Query.Q, err)
			}
		}
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
	if rate < 98.5 {
		t.Errorf("top-1 %.2f%% < 98.5%%", rate)
	}
	if os.Getenv("BALISE_RELEVANCE_SOURCE") != "" {
		t.Log("per-formulation floors not checked: they were measured on the shared file")
		return
	}
	checkFloors(t, kinds, func(k string) (int, int) { return per[k].hit, per[k].n })
}

// formulationFloors is the top-1 rate (%) each formulation must keep on the
// shared file, one point under the rate measured when it was set (150
// queries each: one point lets one more query miss, two do not). An
// overall rate hides one formulation falling while the others hold; these
// do not. Raise a floor when a formulation improves, never lower it to make
// a change pass.
var formulationFloors = map[string]float64{
	"abbreviation":    99.0,  // measured 100.00
	"bis_ter":         98.33, // 99.33
	"commas":          99.0,  // 100.00
	"filter_citycode": 99.0,  // 100.00
	"filter_postcode": 95.67, // 96.67
	"filter_type":     99.0,  // 100.00
	"focus_point":     96.33, // 97.33
	"full":            99.0,  // 100.00
	"municipality":    98.33, // 99.33
	"no_accents":      99.0,  // 100.00
	"no_postcode":     99.0,  // 100.00
	"number_last":     99.0,  // 100.00
	"prefix":          97.0,  // 98.00
	"street_city":     99.0,  // 100.00
	"typo":            97.67, // 99.33
	"uppercase":       99.0,  // 100.00
	// Queries as people write them (bench.WrittenFormulations); Addok
	// (and balise before they were handled): glued_number 0.00,
	// glued_city 83.33, two_typos 80.67, city_typo and country_suffix
	// 100.00.
	"city_typo":      99.0,  // 100.00
	"country_suffix": 99.0,  // 100.00
	"glued_city":     99.0,  // 100.00
	"glued_number":   99.0,  // 100.00
	"two_typos":      97.67, // 98.67: misses are two typos whose corrections are each another street or city
}

// checkFloors fails for every formulation under its floor, for a
// formulation the suite no longer produces, and for one without a floor.
func checkFloors(t *testing.T, kinds []string, stat func(kind string) (hit, n int)) {
	t.Helper()
	seen := map[string]bool{}
	for _, k := range kinds {
		seen[k] = true
		floor, ok := formulationFloors[k]
		if !ok {
			t.Errorf("formulation %s has no floor in formulationFloors", k)
			continue
		}
		hit, n := stat(k)
		if rate := 100 * float64(hit) / float64(n); rate < floor {
			t.Errorf("%s: top-1 %.2f%% (%d/%d) < floor %.2f%%", k, rate, hit, n, floor)
		}
	}
	for k := range formulationFloors {
		if !seen[k] {
			t.Errorf("formulation %s has a floor but no query", k)
		}
	}
}
