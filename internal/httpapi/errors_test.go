package httpapi_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"balise/internal/httpapi"
	"balise/internal/text"
)

// Every error path of the addok flavour, with Addok's exact bodies.
func TestSearchErrors(t *testing.T) {
	srv := fixture(t, nil, doc{"name": "rue des avions"})
	for _, c := range []struct {
		path   string
		status int
		body   string
	}{
		{"/search?q=rue&limit=abc", 400, `{"title":"Invalid parameter","description":"The \"limit\" parameter is invalid. The value must be an integer."}`},
		{"/search?q=rue&limit=", 400, `{"title":"Invalid parameter","description":"The \"limit\" parameter is invalid. The value must be an integer."}`},
		{"/search?q=rue&limit=-1", 400, `{"title":"Invalid parameter","description":"The \"limit\" parameter is invalid. out of range (1..100)"}`},
		{"/search?q=rue&limit=101", 400, `{"title":"Invalid parameter","description":"The \"limit\" parameter is invalid. out of range (1..100)"}`},
		{"/search?q=rue&limit=99999999999999999999999", 400, `{"title":"Invalid parameter","description":"The \"limit\" parameter is invalid. out of range (1..100)"}`},
		{"/search?q=rue&autocomplete=maybe", 400, `{"title":"Invalid parameter","description":"The \"autocomplete\" parameter is invalid. The value of the parameter must be \"true\" or \"false\"."}`},
		{"/search?q=rue&lat=abc&lon=2", 400, `{"title":"Invalid parameter","description":"The \"lat\" parameter is invalid. invalid value"}`},
		{"/search?q=rue&lat=nan&lon=2", 400, `{"title":"Invalid parameter","description":"The \"lat\" parameter is invalid. invalid value"}`},
		{"/search?q=rue&lat=1&lng=x", 400, `{"title":"Invalid parameter","description":"The \"lng\" parameter is invalid. invalid value"}`},
		// float() and int() take underscores between digits only.
		{"/search?q=rue&lat=1_.5&lon=2", 400, `{"title":"Invalid parameter","description":"The \"lat\" parameter is invalid. invalid value"}`},
		{"/search?q=rue&limit=%2B_1", 400, `{"title":"Invalid parameter","description":"The \"limit\" parameter is invalid. The value must be an integer."}`},
		{"/search?q=rue&lat=91&lon=2", 400, `{"title":"Invalid parameter","description":"The \"lat\" parameter is invalid. out of range"}`},
		{"/search?q=rue&lat=1&lon=-181", 400, `{"title":"Invalid parameter","description":"The \"lon\" parameter is invalid. out of range"}`},
		{"/search?q=" + url.QueryEscape(strings.Repeat("x", 201)), 413, `{"title":"Query too long, 201 chars, limit is 200"}`},
		{"/search?q=" + strings.Repeat("%C5%93", 101), 413, `{"title":"Query too long, 202 chars, limit is 200"}`}, // œ folds to "oe"
		{"/reverse?lon=2", 400, `{"title":"Missing parameter","description":"The \"lat\" parameter is required."}`},
		{"/reverse?lat=2&lon=2&limit=x", 400, `{"title":"Invalid parameter","description":"The \"limit\" parameter is invalid. The value must be an integer."}`},
		{"/nowhere", 404, `{"title":"404 Not Found"}`},
		{"/get/unknown-id", 404, `{"title":"404 Not Found","description":"No document with id \"unknown-id\"."}`},
		{"/search?" + strings.Repeat("x", 9000), 414, `{"title":"414 URI Too Long","description":"The query string is longer than 8192 bytes."}`},
	} {
		a := get(t, srv, c.path)
		if a.status != c.status || string(a.body) != c.body {
			t.Errorf("%.60s: %d %s\nwant %d %s", c.path, a.status, a.body, c.status, c.body)
		}
		if a.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%.60s: no CORS header on an error", c.path)
		}
	}
}

func TestUnknownFilterIgnored(t *testing.T) {
	srv := fixture(t, nil, doc{"name": "rue des avions"})
	a := get(t, srv, "/search?q=avions&citycode=12345&foo=bar")
	expectStatus(t, a, 200)
	if len(a.features()) != 1 {
		t.Fatalf("%s", a.body)
	}
	if _, ok := a.json["filters"]; ok {
		t.Errorf("filters not in the index's FILTERS echoed: %s", a.body)
	}
}

func TestMethodsAndOptions(t *testing.T) {
	srv := fixture(t, nil, doc{"name": "rue"})
	a := do(t, srv, "POST", "/search?q=rue", "", nil)
	expectStatus(t, a, 405)
	if a.header.Get("Allow") != "GET" || string(a.body) != `{"title":"405 Method Not Allowed"}` {
		t.Errorf("%v %s", a.header, a.body)
	}
	a = do(t, srv, "GET", "/search/csv", "", nil)
	expectStatus(t, a, 405)
	if a.header.Get("Allow") != "POST" {
		t.Errorf("Allow %q", a.header.Get("Allow"))
	}
	a = do(t, srv, "OPTIONS", "/search", "", nil)
	expectStatus(t, a, 200)
	if a.header.Get("Allow") != "GET" || len(a.body) != 0 || a.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("%v %q", a.header, a.body)
	}
}

func TestCSVErrors(t *testing.T) {
	srv := serve(t, newEngine(t, buildIndex(t, text.ProfileDefault, avions), nil), httpapi.Options{MaxUploadBytes: 4096})
	latin1, _ := charmap.Windows1252.NewEncoder().String("adresse;ville\r\nrue des avions;Montbrun-Bocage\r\nchemin brûlé;Montbrun\r\n")
	for _, c := range []struct {
		name, path, content string
		fields              []field
		status              int
		contains            string
	}{
		{"missing file", "/search/csv", "-", nil, 400, `{"title":"Missing file","description":"Missing file"}`},
		{"empty file", "/search/csv", "", nil, 400, `"Empty file"`},
		{"BOM only", "/search/csv", "\ufeff", nil, 400, `"Empty file"`},
		{"blank lines", "/search/csv", "\r\n\r\n", nil, 400, `"Empty file"`},
		{"unknown encoding", "/search/csv", avionsCSV, []field{{"encoding", "klingon"}}, 400, `unknown encoding: klingon`},
		{"wrong encoding", "/search/csv", latin1, []field{{"encoding", "utf-8"}}, 400, `'utf-8' codec can't decode byte 0xfb in position 56: invalid start byte`},
		{"missing column", "/search/csv", avionsCSV, []field{{"columns", "street"}, {"columns", "town"}}, 400, `Cannot found column 'town' in columns ['name', 'street', 'postcode', 'city']`},
		{"missing filter column", "/search/csv", avionsCSV, []field{{"postcode", "zip"}}, 400, `Cannot found column 'zip'`},
		{"unknown result column", "/search/csv", avionsCSV, []field{{"result_columns", "result_nope"}}, 400, `unknown result column`},
		{"bad delimiter", "/search/csv", avionsCSV, []field{{"delimiter", "ab"}}, 400, `invalid delimiter`},
		{"bad quote", "/search/csv", avionsCSV, []field{{"quote", "'"}}, 400, `unsupported quote character`},
		{"reverse without coordinates", "/reverse/csv", avionsCSV, nil, 400, `Cannot found a latitude column`},
		{"oversize", "/search/csv", "adresse\n" + strings.Repeat("rue des avions\n", 400), nil, 413, `larger than the 4096 bytes upload limit`},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := "f.csv"
			if c.content == "-" {
				name = "-" // no data part at all
			}
			a := postCSV(t, srv, c.path, name, c.content, c.fields...)
			if a.status != c.status || !strings.Contains(string(a.body), c.contains) {
				t.Errorf("%d %s\nwant %d containing %s", a.status, a.body, c.status, c.contains)
			}
		})
	}
}

func TestCSVRowsNeverFailTheFile(t *testing.T) {
	srv := fixture(t, nil, avions)
	long := strings.Repeat("x", 201)
	just := "rue des avions " + strings.Repeat("y", 185) // 200 folded characters
	content := "adresse,extra\n" +
		"rue des avions,1\n" +
		long + ",2\n" + // too long: an error row, not a 413 for the file (Addok's answer)
		just + ",3\n" +
		",4\n" + // nothing to geocode
		"rue des avions\n" + // short row: padded
		"rue des avions,6,surplus\n" // long row: the extra cell is dropped (csv.DictWriter)
	// min_score 0: "rue des avions" alone scores about 0.37 against its label.
	a := postCSV(t, srv, "/search/csv", "f.csv", content, field{"columns", "adresse"}, field{"min_score", "0"})
	expectStatus(t, a, 200)
	lines := strings.Split(strings.TrimSuffix(string(a.body), "\r\n"), "\r\n")
	if len(lines) != 7 {
		t.Fatalf("%d lines: %q", len(lines), a.body)
	}
	want := []string{"ok", "error", "", "skipped", "ok", "ok"}
	for i, w := range want {
		cells := strings.Split(lines[i+1], ",")
		got := cells[len(cells)-1]
		if w != "" && got != w {
			t.Errorf("row %d: status %q, want %q (%s)", i+1, got, w, lines[i+1])
		}
		if len(cells) != 2+14 && i != 1 { // input + 8 result columns + 5 fields + status
			t.Errorf("row %d: %d cells", i+1, len(cells))
		}
	}
	if !strings.HasPrefix(lines[5], "rue des avions,,") || strings.Contains(lines[6], "surplus") {
		t.Errorf("row widths: %q / %q", lines[5], lines[6])
	}
}

func TestCSVEncodings(t *testing.T) {
	srv := fixture(t, nil, doc{"name": "chemin brûlé", "city": "Montbrun"})
	src := "adresse;ville\r\nchemin brûlé;Montbrun\r\n"
	cp1252, _ := charmap.Windows1252.NewEncoder().String(src)
	for _, c := range []struct {
		name, content string
		fields        []field
		charset       string
		bom           bool
		out           func(string) string
	}{
		{"utf-8 detected", src, nil, "utf-8-sig", true, func(s string) string { return s }},
		{"utf-8 BOM detected", "\ufeff" + src, nil, "utf-8-sig", true, func(s string) string { return s }},
		{"windows-1252 detected", cp1252, nil, "windows-1252", false, func(s string) string { o, _ := charmap.Windows1252.NewEncoder().String(s); return o }},
		{"latin-1 given", cp1252, []field{{"encoding", "latin-1"}}, "latin-1", false, func(s string) string { o, _ := charmap.ISO8859_1.NewEncoder().String(s); return o }},
		{"utf-8 given", src, []field{{"encoding", "utf-8"}}, "utf-8", false, func(s string) string { return s }},
		{"utf-8 with_bom", src, []field{{"encoding", "utf-8"}, {"with_bom", "true"}}, "utf-8", true, func(s string) string { return s }},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := postCSV(t, srv, "/search/csv", "f.csv", c.content, c.fields...)
			expectStatus(t, a, 200)
			if ct := a.header.Get("Content-Type"); ct != "text/csv; charset="+c.charset {
				t.Errorf("Content-Type %q", ct)
			}
			if got := bytes.HasPrefix(a.body, []byte("\ufeff")); got != c.bom {
				t.Errorf("BOM %v: %q", got, a.body)
			}
			if !bytes.Contains(a.body, []byte(c.out("chemin brûlé;Montbrun;"))) || !bytes.Contains(a.body, []byte(c.out("chemin brûlé Montbrun;"))) {
				t.Errorf("round trip: %q", a.body)
			}
		})
	}
}

// A body that is not multipart is the CSV itself, options in the query
// string, geocoded while it arrives.
func TestCSVRawBody(t *testing.T) {
	srv := fixture(t, nil, avions)
	var body strings.Builder
	body.WriteString("rue;cp\n")
	for range 5000 {
		body.WriteString("rue des avions;31310\n")
	}
	a := do(t, srv, "POST", "/search/csv?columns=rue&postcode=cp&filename=mine.csv&min_score=0", "text/csv", strings.NewReader(body.String()))
	expectStatus(t, a, 200)
	if cd := a.header.Get("Content-Disposition"); cd != `attachment; filename="mine.geocoded.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if n := strings.Count(string(a.body), ";ok\r\n"); n != 5000 {
		t.Errorf("%d ok rows", n)
	}
}

func TestCSVDeclaredOversize(t *testing.T) {
	srv := serve(t, newEngine(t, buildIndex(t, text.ProfileDefault, avions), nil), httpapi.Options{MaxUploadBytes: 1000})
	req, _ := http.NewRequest("POST", srv.URL+"/search/csv", strings.NewReader(strings.Repeat("a\n", 1000)))
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

// A client dripping its upload (a byte every 100 ms) is cut once it has
// averaged less than the minimum rate over 5 s of waiting, instead of
// holding the connection, and its job's index lease, for as long as it
// keeps sending.
func TestCSVDripFeedIsCut(t *testing.T) {
	e := newEngine(t, buildIndex(t, text.ProfileDefault, doc{"name": "rue des avions"}), nil)
	srv := serve(t, e, httpapi.Options{CSVMinRate: 1000, CSVIdleTimeout: time.Minute})
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /search/csv HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 100000\r\n\r\nadresse\n")
	start := time.Now()
	cut := make(chan time.Duration, 1)
	go func() {
		io.Copy(io.Discard, conn) // returns when the server closes the connection
		cut <- time.Since(start)
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case d := <-cut:
			if d < 4*time.Second || d > 12*time.Second {
				t.Fatalf("cut after %v, want after about 5 s of dripping", d)
			}
			return
		case <-tick.C:
			if time.Since(start) > 20*time.Second {
				t.Fatal("a dripping client was never cut")
			}
			conn.Write([]byte("r"))
		}
	}
}

// Every answer says how it may be cached and forbids content sniffing:
// successful GETs with the configured policy, everything else no-store.
func TestCacheControlHeaders(t *testing.T) {
	e := newEngine(t, buildIndex(t, text.ProfileDefault, doc{"name": "rue des avions"}), nil)
	srv := serve(t, e, httpapi.Options{CacheControl: "public, max-age=60"})
	for path, want := range map[string]string{
		"/search?q=avions":      "public, max-age=60",
		"/reverse?lat=48&lon=2": "public, max-age=60",
		"/search":               "no-store", // 400
		"/nowhere":              "no-store", // 404
		"/health":               "no-store",
	} {
		if a := get(t, srv, path); a.header.Get("Cache-Control") != want {
			t.Errorf("%s: %d Cache-Control %q, want %q", path, a.status, a.header.Get("Cache-Control"), want)
		}
	}
	a := do(t, srv, "POST", "/search/csv", "text/csv", strings.NewReader("adresse\nrue des avions\n"))
	if a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("CSV: Cache-Control %q", a.header.Get("Cache-Control"))
	}
}
