package relevance

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"balise/internal/search"
)

type evalQuery struct {
	Kind       string            `json:"kind"`
	Path       string            `json:"path"`
	Params     map[string]string `json:"params"`
	SourceID   string            `json:"source_id"`
	SourceName string            `json:"source_name"`
	SourceCity string            `json:"source_city"`
	HN         string            `json:"housenumber"`
}

type evalResult struct {
	ID          string  `json:"id"`
	Label       string  `json:"label"`
	Score       float64 `json:"score"`
	Type        string  `json:"type"`
	Housenumber string  `json:"housenumber"`
	Name        string  `json:"name"`
	Street      string  `json:"street"`
	City        string  `json:"city"`
	Lat         float64 `json:"lat"`
	Lon         float64 `json:"lon"`
}

type evalAnswer struct {
	I       int          `json:"i"`
	Results []evalResult `json:"results"`
}

func readJSONL[T any](t testing.TB, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// toQuery maps the HTTP parameters of the evaluation set onto the engine.
func toQuery(p map[string]string) search.Query {
	q := search.Query{Q: p["q"], Limit: 5, Autocomplete: true}
	if v, ok := p["autocomplete"]; ok {
		q.Autocomplete = v != "0" && v != "false"
	}
	if v, err := strconv.Atoi(p["limit"]); err == nil && v > 0 {
		q.Limit = v
	}
	lat, e1 := strconv.ParseFloat(p["lat"], 64)
	lon, e2 := strconv.ParseFloat(p["lon"], 64)
	if e1 == nil && e2 == nil {
		q.HasCenter, q.Lat, q.Lon = true, lat, lon
	}
	for _, name := range []string{"type", "citycode", "postcode"} {
		if v, ok := p[name]; ok {
			q.Filters = append(q.Filters, search.Filter{Name: name, Values: strings.Fields(v)})
		}
	}
	return q
}

func toEval(r *search.Result) evalResult {
	return evalResult{ID: r.ID(), Label: r.Label(), Score: r.Score, Type: r.Type(), Housenumber: propText(r, "housenumber"),
		Name: propText(r, "name"), Street: propText(r, "street"), City: propText(r, "city"), Lat: r.Lat, Lon: r.Lon}
}

func propText(r *search.Result, key string) string {
	for _, p := range r.Properties() {
		if p.Key == key {
			return p.Value.Text()
		}
	}
	return ""
}

func distM(a, b evalResult) float64 {
	const rad = math.Pi / 180
	la1, la2 := a.Lat*rad, b.Lat*rad
	h := math.Pow(math.Sin((la2-la1)/2), 2) + math.Cos(la1)*math.Cos(la2)*math.Pow(math.Sin((b.Lon-a.Lon)*rad/2), 2)
	return 2 * 6371000 * math.Asin(math.Sqrt(h))
}

func sameTop(a, b []evalResult) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	x, y := a[0], b[0]
	if x.ID != "" && x.ID == y.ID {
		return true
	}
	return fold(x.Label) == fold(y.Label) && distM(x, y) < 1
}

// hit follows the evaluation script: the top result is the address, street
// or municipality the query was made from.
func hit(q evalQuery, rs []evalResult) (bool, bool) {
	if q.Path != "/search" || q.SourceID == "" || q.Kind == "prefix" {
		return false, false
	}
	if len(rs) == 0 {
		return false, true
	}
	t := rs[0]
	switch q.Kind {
	case "municipality":
		return t.Type == "municipality" && fold(t.Name) == fold(q.Params["q"]), true
	case "street_city", "filter_type":
		return t.Type == "street" && fold(t.Name) == fold(q.SourceName) && fold(t.City) == fold(q.SourceCity), true
	}
	return t.Type == "housenumber" && fold(t.Housenumber) == fold(q.HN) && fold(t.Street) == fold(q.SourceName), true
}

// TestAddokAgreement runs the shared evaluation set in process and compares
// the top result with Addok 1.3.2's recorded answer.
func TestAddokAgreement(t *testing.T) {
	qs := readJSONL[evalQuery](t, sharedPath(t, "eval/addok-dev/queries.jsonl"))
	ref := readJSONL[evalAnswer](t, sharedPath(t, "eval/addok-dev/addok-answers.jsonl"))
	e := sharedEngine(t)
	type stat struct{ n, agree, hitC, hitR, nHit int }
	per := map[string]*stat{}
	var disagreements []string
	for i, q := range qs {
		var got []evalResult
		if q.Path == "/reverse" {
			lat, _ := strconv.ParseFloat(q.Params["lat"], 64)
			lon, _ := strconv.ParseFloat(q.Params["lon"], 64)
			res, err := e.Reverse(t.Context(), search.ReverseQuery{Lat: lat, Lon: lon, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				got = append(got, toEval(r))
			}
		} else {
			res, err := e.Search(t.Context(), toQuery(q.Params))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				got = append(got, toEval(r))
			}
		}
		s := per[q.Kind]
		if s == nil {
			s = &stat{}
			per[q.Kind] = s
		}
		s.n++
		want := ref[i].Results
		if sameTop(want, got) {
			s.agree++
		} else if q.Kind != "number_last" {
			w, g := "-", "-"
			if len(want) > 0 {
				w = fmt.Sprintf("%s (%.4f)", want[0].Label, want[0].Score)
			}
			if len(got) > 0 {
				g = fmt.Sprintf("%s (%.4f)", got[0].Label, got[0].Score)
			}
			disagreements = append(disagreements, fmt.Sprintf("%-14s %q\n\taddok:  %s\n\tbalise: %s", q.Kind, q.Params["q"], w, g))
		}
		if hc, ok := hit(q, got); ok {
			hr, _ := hit(q, want)
			s.nHit++
			if hc {
				s.hitC++
			}
			if hr {
				s.hitR++
			}
		}
	}
	kinds := make([]string, 0, len(per))
	for k := range per {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var tot stat
	var agreeN, agreeOK int
	for _, k := range kinds {
		s := per[k]
		line := fmt.Sprintf("%-16s n=%4d agree=%6.2f%%", k, s.n, 100*float64(s.agree)/float64(s.n))
		if s.nHit > 0 {
			line += fmt.Sprintf(" hit balise=%6.2f%% addok=%6.2f%%", 100*float64(s.hitC)/float64(s.nHit), 100*float64(s.hitR)/float64(s.nHit))
		}
		t.Log(line)
		tot.nHit += s.nHit
		tot.hitC += s.hitC
		tot.hitR += s.hitR
		if k != "number_last" {
			agreeN += s.n
			agreeOK += s.agree
		}
	}
	agreement := 100 * float64(agreeOK) / float64(agreeN)
	t.Logf("agreement %.2f%% (number_last left out) hit balise %.2f%% addok %.2f%%", agreement,
		100*float64(tot.hitC)/float64(tot.nHit), 100*float64(tot.hitR)/float64(tot.nHit))
	if os.Getenv("BALISE_SHOW_DISAGREEMENTS") != "" {
		for _, d := range disagreements {
			t.Log(d)
		}
	}
	if agreement < 95 {
		t.Errorf("agreement with Addok %.2f%% < 95%%", agreement)
	}
	if tot.hitC < tot.hitR {
		t.Errorf("hit rate %d below Addok's %d", tot.hitC, tot.hitR)
	}
}
