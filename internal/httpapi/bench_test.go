package httpapi_test

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"balise/internal/httpapi"
	"balise/internal/search"
)

// benchQueries is a mixed list over the BAN sample: full addresses,
// streets, towns, prefixes (autocomplete), typos, filters and a center.
var benchQueries = []string{
	"q=10+rue+des+sapins+pouembout",
	"q=rue+des+sapins",
	"q=pouembout&limit=1",
	"q=avenue+de+pouembout&type=street",
	"q=241+rue+paul+kuhn&citycode=98825",
	"q=noum",
	"q=rue+des+sapims",
	"q=lotissement&lat=-21.12&lon=164.9",
	"q=route+territoriale+1&autocomplete=0",
	"q=le+mont+dore&limit=10",
}

// BenchmarkSearchHandler measures the API layer plus the engine, without
// the network: parameter parsing, search, GeoJSON encoding.
func BenchmarkSearchHandler(b *testing.B) {
	c := search.DefaultConfig()
	e, err := search.New(banNC(b), c, banText)
	if err != nil {
		b.Fatal(err)
	}
	api := httpapi.New(httpapi.Options{Engines: source1{e}})
	reqs := make([]*url.URL, len(benchQueries))
	for i, q := range benchQueries {
		reqs[i] = &url.URL{Path: "/search", RawQuery: q}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := httptest.NewRequest("GET", "http://x/search", nil)
		req.URL = reqs[i%len(reqs)]
		w := httptest.NewRecorder()
		api.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%s: %d", req.URL, w.Code)
		}
		i++
	}
}

// BenchmarkReverseHandler is the same for /reverse.
func BenchmarkReverseHandler(b *testing.B) {
	e, err := search.New(banNC(b), search.DefaultConfig(), banText)
	if err != nil {
		b.Fatal(err)
	}
	api := httpapi.New(httpapi.Options{Engines: source1{e}})
	u := &url.URL{Path: "/reverse", RawQuery: "lat=-21.120919&lon=164.900792"}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("GET", "http://x/reverse", nil)
		req.URL = u
		w := httptest.NewRecorder()
		api.ServeHTTP(w, req)
	}
}
