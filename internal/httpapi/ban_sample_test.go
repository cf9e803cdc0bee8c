package httpapi_test

import (
	"math"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"balise/internal/httpapi"
	"balise/internal/search"
)

// Answers checked against a running Addok 1.3.2 with the real BAN sample
// (testdata/ban-nc), BAN configuration, HTTP defaults.

// threshold sets Addok's COMMON_THRESHOLD.
func threshold(n int) func(*search.Config) {
	return func(c *search.Config) { c.CommonThreshold = n }
}

func near(got any, want, tol float64) bool {
	f, ok := got.(float64)
	return ok && math.Abs(f-want) <= tol
}

// feat is what a result of the sample must be.
type feat struct {
	label, typ, id string
	score, tol     float64 // tol 0: not checked
	prefix         bool    // the label is abbreviated: compare its start
	extra          map[string]any
}

func TestBANSampleAnswers(t *testing.T) {
	def := banServer(t, threshold(10000), httpapi.Options{}).URL
	low := banServer(t, threshold(200), httpapi.Options{}).URL
	addokDef := banServer(t, func(c *search.Config) { c.CommonThreshold, c.PrefixInFront = 10000, false }, httpapi.Options{}).URL
	cases := []struct {
		name   string
		base   string
		path   string
		status int
		want   []feat // checked in order, as the first results
		absent string // no result label contains this
		check  func(t *testing.T, a answer)
	}{
		{name: "street and city", base: def, path: "/search?q=rue+des+sapins+pouembout&limit=1", status: 200,
			want: []feat{{label: "Rue des Sapins Pouembout", typ: "street", id: "98825_y6as4k", score: 0.9474181818, tol: 1e-9, extra: map[string]any{"street": "Rue des Sapins"}}}},
		{name: "filters, center and property order", base: def, path: "/search?q=10+rue+des+sapins&type=street+housenumber&citycode=98825&lat=-21.12&lon=164.9&limit=1", status: 200,
			want: []feat{{label: "10 Rue des Sapins Pouembout", typ: "housenumber", id: "98825_y6as4k_00010", extra: map[string]any{"housenumber": "10", "distance": 131.0}}},
			check: func(t *testing.T, a answer) {
				if !reflect.DeepEqual(a.json["filters"], map[string]any{"type": []any{"street", "housenumber"}, "citycode": []any{"98825"}}) {
					t.Errorf("filters %v", a.json["filters"])
				}
				if !strings.Contains(string(a.body), `"filters":{"type":["street","housenumber"],"citycode":["98825"]}`) {
					t.Errorf("filters order: %s", a.body)
				}
				// The property order Addok 1.3.2 gives for this query.
				want := []string{"label", "score", "housenumber", "id", "name", "citycode", "x", "y", "city", "context", "type", "importance", "street", "distance"}
				if got := propKeys(t, a.body, 0); !reflect.DeepEqual(got, want) {
					t.Errorf("property order %v\nwant %v", got, want)
				}
				if !reflect.DeepEqual(a.json["center"], []any{164.9, -21.12}) {
					t.Errorf("center %v", a.json["center"])
				}
			}},
		{name: "municipality before its streets", base: def, path: "/search?q=pouembout&limit=2", status: 200,
			want: []feat{
				{label: "Pouembout", typ: "municipality", score: 0.9401, tol: 1e-4, extra: map[string]any{"municipality": "Pouembout", "population": 2752.0}},
				{label: "Rue des Cagous Pouembout", score: 0.6868, tol: 1e-4},
			}},
		{name: "reverse nearest first", base: def, path: "/reverse?lat=-21.120919&lon=164.900792&limit=3", status: 200,
			want: []feat{
				{label: "10 Rue des Sapins Pouembout", score: 1.0, tol: 1e-9, extra: map[string]any{"distance": 0.0}},
				{label: "362 Avenue de Pouembout", prefix: true, extra: map[string]any{"distance": 31.0}},
				{label: "241 Rue Paul Kuhn", prefix: true, extra: map[string]any{"distance": 53.0}},
			}},
		// Addok stops before expanding "sap" once the documents of "rue"
		// and "des" fill its bucket; balise expands it all the same
		// (search.Config.PrefixInFront, docs/compatibility.md).
		{name: "common prefix under the default threshold, as Addok", base: addokDef, path: "/search?q=rue+des+sap&limit=3", status: 200, absent: "Sapins"},
		{name: "common prefix under the default threshold", base: def, path: "/search?q=rue+des+sap&limit=3", status: 200,
			want: []feat{{label: "Rue des Sapins", prefix: true}, {label: "Rue des Sapins", prefix: true}}},
		{name: "common prefix under threshold 200", base: low, path: "/search?q=rue+des+sap&limit=3", status: 200,
			want: []feat{
				{label: "Rue des Sapins Le Mont-Dore", score: 0.8717, tol: 1e-4},
				{label: "Rue des Sapins Pouembout", score: 0.8565, tol: 1e-4},
			}},
		{name: "housenumber with a typo in the street", base: low, path: "/search?q=10+rue+des+sapin+pouembout", status: 200,
			want: []feat{{label: "10 Rue des Sapins Pouembout", score: 0.7656, tol: 1e-4}}},
		{name: "typo in the last word without autocomplete", base: low, path: "/search?q=rue+des+sapims", status: 200, absent: "Sapins"},
		{name: "empty type filter ignored", base: def, path: "/search?q=rue&type=&limit=1", status: 200,
			check: func(t *testing.T, a answer) {
				if !reflect.DeepEqual(a.json["filters"], map[string]any{"type": []any{""}}) {
					t.Errorf("filters %v", a.json["filters"])
				}
				if len(a.features()) != 1 {
					t.Errorf("type= must be ignored: %d features", len(a.features()))
				}
			}},
		{name: "blank query", base: def, path: "/search?q=%20", status: 200,
			check: func(t *testing.T, a answer) {
				if len(a.features()) != 0 || a.json["query"] != " " {
					t.Errorf("%s", a.body)
				}
			}},
		{name: "limit=0 is the default", base: def, path: "/search?q=rue&limit=0", status: 200,
			check: func(t *testing.T, a answer) {
				if len(a.features()) != 5 || a.json["limit"] != 5.0 {
					t.Errorf("%d features, limit %v", len(a.features()), a.json["limit"])
				}
			}},
		{name: "limit=101 refused", base: def, path: "/search?q=rue&limit=101", status: 400},
		{name: "limit=abc refused", base: def, path: "/search?q=rue&limit=abc", status: 400},
		{name: "autocomplete=maybe refused", base: def, path: "/search?q=rue&autocomplete=maybe", status: 400},
		{name: "query of 201 characters refused", base: def, path: "/search?q=" + url.QueryEscape(strings.Repeat("a", 201)), status: 413},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := getURL(t, c.base+c.path)
			expectStatus(t, a, c.status)
			fs := a.features()
			if len(fs) < len(c.want) {
				t.Fatalf("%d features, want at least %d: %s", len(fs), len(c.want), a.body)
			}
			checkFeatures(t, fs, c.want)
			if c.absent != "" {
				for _, f := range fs {
					if strings.Contains(props(f)["label"].(string), c.absent) {
						t.Errorf("unexpected %v", props(f)["label"])
					}
				}
			}
			if c.check != nil {
				c.check(t, a)
			}
		})
	}
}

// checkFeatures holds the first results to want, in order.
func checkFeatures(t *testing.T, fs []map[string]any, want []feat) {
	t.Helper()
	for i, w := range want {
		p := props(fs[i])
		if l, _ := p["label"].(string); l != w.label && !(w.prefix && strings.HasPrefix(l, w.label+" ")) {
			t.Errorf("feature %d: label %q, want %q", i, p["label"], w.label)
		}
		if w.typ != "" && p["type"] != w.typ {
			t.Errorf("feature %d: type %v, want %s", i, p["type"], w.typ)
		}
		if w.id != "" && p["id"] != w.id {
			t.Errorf("feature %d: id %v, want %s", i, p["id"], w.id)
		}
		if w.tol > 0 && !near(p["score"], w.score, w.tol) {
			t.Errorf("feature %d: score %v, want %v (±%g)", i, p["score"], w.score, w.tol)
		}
		for k, v := range w.extra {
			if !reflect.DeepEqual(p[k], v) {
				t.Errorf("feature %d: %s=%v, want %v", i, k, p[k], v)
			}
		}
	}
}
