package relevance

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"

	"balise/internal/search"
	"balise/internal/source"
)

var writeQueries = flag.String("write-queries", "", "write the generated relevance queries to this JSONL file")

// A case is one query of the suite and what its top result must be.
type suiteCase struct {
	Kind   string       `json:"kind"`
	Query  search.Query `json:"query"`
	Want   string       `json:"want"` // housenumber | street | municipality
	Name   string       `json:"name"` // street or municipality name
	City   string       `json:"city"`
	Number string       `json:"number,omitempty"`
}

type street struct {
	name, city, postcode, citycode string
	numbers                        []source.Housenumber
}

// loadSuiteData reads the streets with housenumbers and the municipalities.
func loadSuiteData(t testing.TB, path string) (streets []street, munis []string) {
	t.Helper()
	lines, err := source.OpenLines(path)
	if err != nil {
		t.Fatal(err)
	}
	defer lines.Close()
	for {
		b, err := lines.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range b.Lines {
			d, err := source.ParseLine(l, b.LineNos[i])
			if err != nil {
				t.Fatal(err)
			}
			first := func(k string) string {
				v, ok := d.Get(k)
				if !ok {
					return ""
				}
				if v.Kind == source.List {
					if len(v.List) == 0 {
						return ""
					}
					v = v.List[0]
				}
				return v.String()
			}
			switch first("type") {
			case "municipality":
				munis = append(munis, first("name"))
			case "street":
				if len(d.Housenumbers) > 0 {
					streets = append(streets, street{first("name"), first("city"), first("postcode"), first("citycode"), d.Housenumbers})
				}
			}
		}
	}
	return streets, munis
}

var standardNumber = regexp.MustCompile(`^[0-9]{1,4}(bis|ter|quater|[a-z])?$`)

var abbreviations = map[string]string{"boulevard": "bd", "avenue": "av", "saint": "st", "sainte": "ste", "place": "pl", "chemin": "ch",
	"route": "rte", "impasse": "imp", "allee": "all", "faubourg": "fg", "rue": "r", "residence": "res", "square": "sq"}

func stripAccents(s string) string { return fold(s) }

// typo applies one edit (substitution, deletion or transposition) inside
// the longest word, as a hurried typist would.
func typo(r *rand.Rand, s string) string {
	words := strings.Fields(s)
	best := 0
	for i, w := range words {
		if len([]rune(w)) > len([]rune(words[best])) {
			best = i
		}
	}
	w := []rune(words[best])
	if len(w) < 5 {
		return ""
	}
	j := 1 + r.IntN(len(w)-2)
	switch r.IntN(3) {
	case 0:
		w[j] = []rune("aeioursnt")[r.IntN(9)]
	case 1:
		w = append(w[:j:j], w[j+1:]...)
	default:
		w[j], w[j+1] = w[j+1], w[j]
	}
	words[best] = string(w)
	return strings.Join(words, " ")
}

func abbreviate(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		if a, ok := abbreviations[fold(w)]; ok {
			words[i] = a
			return strings.Join(words, " ")
		}
	}
	return ""
}

func displayNumber(raw string) string {
	// "12bis" -> "12 bis" sometimes, as people write it.
	i := 0
	for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
		i++
	}
	if i > 0 && i < len(raw) && len(raw)-i > 1 {
		return raw[:i] + " " + raw[i:]
	}
	return raw
}

// generateSuite makes n queries per formulation, seeded.
func generateSuite(streets []street, munis []string, perKind int, seed uint64) []suiteCase {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	kinds := []string{"full", "no_postcode", "street_city", "municipality", "prefix", "typo", "abbreviation", "no_accents",
		"number_last", "focus_point", "filter_postcode", "filter_citycode", "filter_type", "uppercase", "bis_ter", "commas"}
	var out []suiteCase
	for _, kind := range kinds {
		made := 0
		for tries := 0; made < perKind && tries < perKind*50; tries++ {
			s := streets[r.IntN(len(streets))]
			h := s.numbers[r.IntN(len(s.numbers))]
			if !standardNumber.MatchString(h.Raw) {
				// Keys like "145p2" (Paris private ways, whose street is
				// named "145P2 Avenue de Flandre") or 5-digit BANO numbers
				// are identifiers nobody types.
				continue
			}
			c := suiteCase{Kind: kind, Want: "housenumber", Name: s.name, City: s.city, Number: h.Raw}
			q := search.Query{Limit: 5}
			switch kind {
			case "full":
				q.Q = fmt.Sprintf("%s %s %s %s", h.Raw, s.name, s.postcode, s.city)
			case "no_postcode":
				q.Q = fmt.Sprintf("%s %s %s", h.Raw, s.name, s.city)
			case "street_city":
				q.Q, c.Want, c.Number = fmt.Sprintf("%s %s", s.name, s.city), "street", ""
			case "municipality":
				m := munis[r.IntN(len(munis))]
				q.Q, c.Want, c.Name, c.City, c.Number = m, "municipality", m, "", ""
			case "prefix":
				full := fmt.Sprintf("%s %s %s", h.Raw, s.name, s.city)
				cut := len(h.Raw) + 1 + len(s.name) + 1 + 3 + r.IntN(max(1, len(s.city)-2))
				if cut >= len(full) {
					cut = len(full)
				}
				for cut < len(full) && (full[cut]&0xC0) == 0x80 { // do not cut inside a UTF-8 sequence
					cut++
				}
				q.Q, q.Autocomplete = full[:cut], true
			case "typo":
				q.Q = typo(r, fmt.Sprintf("%s %s %s", h.Raw, s.name, s.city))
			case "abbreviation":
				if a := abbreviate(s.name); a != "" {
					q.Q = fmt.Sprintf("%s %s %s", h.Raw, a, s.city)
				}
			case "no_accents":
				q.Q = stripAccents(fmt.Sprintf("%s %s %s %s", h.Raw, s.name, s.postcode, s.city))
			case "number_last":
				q.Q = fmt.Sprintf("%s %s %s", s.name, h.Raw, s.city)
			case "focus_point":
				lat, _ := h.Lat.Float()
				lon, _ := h.Lon.Float()
				q.Q, q.HasCenter, q.Lat, q.Lon = fmt.Sprintf("%s %s", h.Raw, s.name), true, lat, lon
			case "filter_postcode":
				q.Q, q.Filters = fmt.Sprintf("%s %s", h.Raw, s.name), []search.Filter{{Name: "postcode", Values: []string{s.postcode}}}
			case "filter_citycode":
				q.Q, q.Filters = fmt.Sprintf("%s %s", h.Raw, s.name), []search.Filter{{Name: "citycode", Values: []string{s.citycode}}}
			case "filter_type":
				q.Q, q.Filters, c.Want, c.Number = fmt.Sprintf("%s %s", s.name, s.city), []search.Filter{{Name: "type", Values: []string{"street"}}}, "street", ""
			case "uppercase":
				q.Q = strings.ToUpper(fmt.Sprintf("%s %s %s %s", h.Raw, s.name, s.postcode, s.city))
			case "bis_ter":
				if !strings.ContainsFunc(h.Raw, unicode.IsLetter) {
					continue
				}
				q.Q = fmt.Sprintf("%s %s %s", displayNumber(h.Raw), s.name, s.city)
			case "commas":
				q.Q = fmt.Sprintf("%s, %s, %s %s", h.Raw, s.name, s.postcode, s.city)
			}
			if q.Q == "" {
				continue
			}
			c.Query = q
			out = append(out, c)
			made++
		}
	}
	return out
}

func (c suiteCase) hit(rs []*search.Result) bool {
	if len(rs) == 0 {
		return false
	}
	t := rs[0]
	switch c.Want {
	case "municipality":
		return t.Type() == "municipality" && fold(propText(t, "name")) == fold(c.Name)
	case "street":
		return t.Type() == "street" && fold(propText(t, "name")) == fold(c.Name) && fold(propText(t, "city")) == fold(c.City)
	}
	return t.Type() == "housenumber" && t.Housenumber.Raw == c.Number && fold(propText(t, "street")) == fold(c.Name) && fold(propText(t, "city")) == fold(c.City)
}

// TestRelevance is balise's own relevance suite over the shared BAN/BANO
// file: 2,400 queries in 16 formulations; top-1 must be the source address.
func TestRelevance(t *testing.T) {
	streets, munis := loadSuiteData(t, sharedPath(t, "data/addok-fr/addok.ndjson.gz"))
	cases := generateSuite(streets, munis, 150, 2026)
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
		if c.hit(res) {
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
