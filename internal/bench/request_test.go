package bench

import (
	"reflect"
	"strings"
	"testing"

	"balise/internal/search"
)

func TestParseLine(t *testing.T) {
	f := func(line string, want Request) {
		t.Helper()
		got, ok, err := ParseLine(line)
		if err != nil || !ok {
			t.Fatalf("ParseLine(%q): ok=%v err=%v", line, ok, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("ParseLine(%q)\ngot  %+v\nwant %+v", line, got, want)
		}
	}
	f("8 bd du port", Request{Kind: "search", Path: "/search?q=8+bd+du+port", Endpoint: EndpointSearch,
		Search: search.Query{Q: "8 bd du port", Autocomplete: true}})
	f("/search?q=rue&limit=3&autocomplete=0&lat=48.8&lng=2.3&type=street%20locality&postcode=75001",
		Request{Kind: "search", Path: "/search?q=rue&limit=3&autocomplete=0&lat=48.8&lng=2.3&type=street%20locality&postcode=75001",
			Endpoint: EndpointSearch, Search: search.Query{Q: "rue", Limit: 3, HasCenter: true, Lat: 48.8, Lon: 2.3,
				Filters: []search.Filter{{Name: "postcode", Values: []string{"75001"}}, {Name: "type", Values: []string{"street", "locality"}}}}})
	// The last occurrence wins, as in Addok.
	f("/search?q=a&q=b", Request{Kind: "search", Path: "/search?q=a&q=b", Endpoint: EndpointSearch, Search: search.Query{Q: "b", Autocomplete: true}})
	f("http://127.0.0.1:7878/reverse?lat=48.85&lon=2.35&type=housenumber",
		Request{Kind: "reverse", Path: "/reverse?lat=48.85&lon=2.35&type=housenumber", Endpoint: EndpointReverse,
			Reverse: search.ReverseQuery{Lat: 48.85, Lon: 2.35, Filters: []search.Filter{{Name: "type", Values: []string{"housenumber"}}}}})
	f("/addok/search?q=x", Request{Kind: "search", Path: "/addok/search?q=x", Endpoint: EndpointSearch, Search: search.Query{Q: "x", Autocomplete: true}})
	f("/health", Request{Kind: "health", Path: "/health"})
	// The relevance suite's --write-queries lines.
	f(`{"kind":"typo","query":{"Q":"12 rue de la pix paris","Limit":5,"Autocomplete":false,"HasCenter":false,"Lat":0,"Lon":0,"Filters":[{"Name":"citycode","Values":["75056"]}]},"want":"housenumber"}`,
		Request{Kind: "typo", Path: "/search?q=12+rue+de+la+pix+paris&limit=5&autocomplete=0&citycode=75056", Endpoint: EndpointSearch,
			Search: search.Query{Q: "12 rue de la pix paris", Limit: 5, Filters: []search.Filter{{Name: "citycode", Values: []string{"75056"}}}}})

	for _, skip := range []string{"", "   ", "# a comment"} {
		if _, ok, err := ParseLine(skip); ok || err != nil {
			t.Errorf("ParseLine(%q) = ok %v, err %v; want skipped", skip, ok, err)
		}
	}
	for _, bad := range []string{"/search?q=a&limit=x", "/reverse?lat=48", "/reverse?lat=91&lon=2", "/search?q=a&lat=NaN&lon=1",
		"/search?q=a&autocomplete=maybe", "{not json", "/search?q=%zz"} {
		if _, _, err := ParseLine(bad); err == nil {
			t.Errorf("ParseLine(%q): no error", bad)
		}
	}
}

func TestRequestPathRoundTrip(t *testing.T) {
	f := func(r Request) {
		t.Helper()
		back, err := ParsePath(r.Path)
		if err != nil {
			t.Fatalf("ParsePath(%q): %v", r.Path, err)
		}
		back.Kind = r.Kind
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("round trip of %q\ngot  %+v\nwant %+v", r.Path, back, r)
		}
	}
	f(SearchRequest("full", search.Query{Q: "1 Rue de l'Église & Co 75001 Paris", Limit: 3}))
	f(SearchRequest("focus", search.Query{Q: "é", Autocomplete: true, HasCenter: true, Lat: -0.5, Lon: 179.25}))
	f(SearchRequest("filters", search.Query{Q: "x", Filters: []search.Filter{{Name: "type", Values: []string{"street city"}}, {Name: "citycode", Values: []string{"1"}}}}))
	f(ReverseRequest("reverse", search.ReverseQuery{Lat: 48.1, Lon: -1.5, Limit: 2, Radius: 150}))
	f(ReverseRequest("reverse", search.ReverseQuery{Lat: 0, Lon: 0}))
}

func TestParseQueries(t *testing.T) {
	in := "# requests\n/search?q=a\n\nplain query\n{\"Q\":\"json query\",\"Autocomplete\":true}\n"
	rs, err := ParseQueries(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, r := range rs {
		paths = append(paths, r.Path)
	}
	want := []string{"/search?q=a", "/search?q=plain+query", "/search?q=json+query&autocomplete=1"}
	if !reflect.DeepEqual(paths, want) {
		t.Fatalf("got %q; want %q", paths, want)
	}
	f := func(in, wantErr string) {
		t.Helper()
		_, err := ParseQueries(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("ParseQueries(%q): err %v; want %q", in, err, wantErr)
		}
	}
	f("", "no request")
	f("# only comments\n", "no request")
	f("/search?q=a\n/reverse?lat=1\n", "line 2")
	f(strings.Repeat("x", maxLineBytes+1)+"\n", "longer than")
}

// FuzzParseQueries checks the query-file parser never panics, and that
// every request it returns is self-consistent: its path parses back to the
// same request (so the HTTP and in-process targets run the same thing).
func FuzzParseQueries(f *testing.F) {
	for _, s := range []string{
		"/search?q=8+bd+du+port&limit=1\n",
		"8 bd du port 44380 pornichet\n# comment\n\n",
		"http://127.0.0.1:7878/reverse?lat=48.85&lon=2.35\n",
		`{"kind":"typo","query":{"Q":"rue","Limit":5,"HasCenter":true,"Lat":1,"Lon":2,"Filters":[{"Name":"type","Values":["street city"]}]}}` + "\n",
		"/search?q=a&type=street&type=city&lat=1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseQueries(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		for _, r := range rs {
			if !strings.HasPrefix(r.Path, "/") {
				t.Fatalf("path %q does not start with /", r.Path)
			}
			back, err := ParsePath(r.Path)
			if err != nil {
				t.Fatalf("ParsePath(%q) of a parsed request: %v", r.Path, err)
			}
			if back.Endpoint != r.Endpoint || !reflect.DeepEqual(back.Search, r.Search) || !reflect.DeepEqual(back.Reverse, r.Reverse) {
				t.Fatalf("%q does not parse back to its request\ngot  %+v\nwant %+v", r.Path, back, r)
			}
		}
	})
}

func TestWriteRequests(t *testing.T) {
	reqs, err := Generate(sampleCorpus(t), MixMixed, 300, 5)
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	if err := WriteRequests(&buf, reqs, false); err != nil {
		t.Fatal(err)
	}
	back, err := ParseQueries(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(reqs) {
		t.Fatalf("%d requests back; want %d", len(back), len(reqs))
	}
	for i := range reqs {
		if back[i].Path != reqs[i].Path || !reflect.DeepEqual(back[i].Search, reqs[i].Search) || !reflect.DeepEqual(back[i].Reverse, reqs[i].Reverse) {
			t.Fatalf("request %d: %+v; want %+v", i, back[i], reqs[i])
		}
	}
	if err := WriteRequests(&buf, reqs, true); err == nil {
		t.Error("a mixed list written as CSV")
	}
	f := func(reqs []Request, want string) {
		t.Helper()
		var b strings.Builder
		if err := WriteRequests(&b, reqs, true); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Fatalf("CSV %q; want %q", b.String(), want)
		}
	}
	f([]Request{SearchRequest("a", search.Query{Q: `8 "bd", du port`}), SearchRequest("b", search.Query{Q: "x"})}, "q\n\"8 \"\"bd\"\", du port\"\nx\n")
	f([]Request{ReverseRequest("r", search.ReverseQuery{Lat: 48.5, Lon: -2.25})}, "lat,lon\n48.5,-2.25\n")
}
