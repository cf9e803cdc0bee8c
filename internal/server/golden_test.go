package server

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"balise/internal/httpapi"
	"balise/internal/index"
	"balise/internal/sample"
	"balise/internal/search"
	"balise/internal/text"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current answers")

// goldenCase is one request; its answer (status, headers but Date, body,
// byte for byte) is testdata/golden/<flavour>/<name>.http.
type goldenCase struct {
	name   string
	method string
	path   string
	ctype  string // of body
	body   []byte
	// streamed answers (CSV) are pushed out whenever the writer waits for
	// the next rows: whether it had to wait, a matter of timing, decides
	// between a chunked answer and one with a Content-Length, which the
	// golden file then leaves out.
	streamed bool
}

func get(name, path string) goldenCase { return goldenCase{name: name, method: "GET", path: path} }

// csvUpload is a multipart form as curl -F sends it, with a fixed boundary
// so that the request, and the golden file, are the same on every run.
func csvUpload(name, path, file string, fields ...string) goldenCase {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	w.SetBoundary("balise-golden")
	for i := 0; i+1 < len(fields); i += 2 {
		w.WriteField(fields[i], fields[i+1])
	}
	fw, _ := w.CreateFormFile("data", "addresses.csv")
	io.WriteString(fw, file)
	w.Close()
	return goldenCase{name: name, method: "POST", path: path, ctype: w.FormDataContentType(), body: b.Bytes(), streamed: true}
}

// goldenCases are a handful of representative requests: search (plain,
// autocomplete, filters, focus point), reverse, /get, errors, CSV and
// /batch, the same in both flavours so that their answers can be compared.
func goldenCases() []goldenCase {
	return []goldenCase{
		get("search", "/search?q=10+rue+de+rivoli+paris&limit=3"),
		get("search-autocomplete", "/search?q=8+bd+du+temp&autocomplete=1&limit=3"),
		get("search-filters", "/search?q=rue+de+la+paix&type=street&postcode=75002&limit=2"),
		get("search-center", "/search?q=rue+de+la+roquette&lat=48.857&lon=2.378&limit=2"),
		get("search-municipality", "/search?q=paris+11e&type=municipality&limit=2"),
		get("reverse", "/reverse?lat=48.8566&lon=2.3522&limit=2"),
		get("reverse-type", "/reverse?lat=48.8566&lon=2.3522&type=street"),
		get("get", "/get/75104_8249_00010"),
		get("get-street", "/get/75102_6998"),
		get("get-unknown", "/get/75104_nope"),
		get("error-no-q", "/search"),
		get("error-limit", "/search?q=rue+de+rivoli&limit=abc"),
		get("error-coordinates", "/reverse?lat=91&lon=2.35"),
		get("error-route", "/nowhere"),
		{name: "error-method", method: "POST", path: "/search?q=rivoli"},
		csvUpload("search-csv", "/search/csv", "adresse,cp\n10 rue de rivoli,75004\n1 place de la bastille,\nnulle part,\n",
			"columns", "adresse", "postcode", "cp"),
		csvUpload("reverse-csv", "/reverse/csv", "lat,lon\n48.8566,2.3522\n48.853,2.369\n"),
		{name: "batch", method: "POST", path: "/batch", ctype: "application/json", body: []byte(`{"requests":[` +
			`{"id":"a","operation":"geocode","params":{"q":"10 rue de rivoli paris"}},` +
			`{"id":2,"operation":"reverse","params":{"lat":48.8566,"lon":2.3522}},` +
			`{"id":"c","operation":"geocode","params":{"q":"-"}}]}`)},
	}
}

// TestGoldenAnswers serves the bundled Paris sample in both flavours on a
// real loopback server and compares each answer with its golden file. A
// change to any answer fails here; when the change is meant, rewrite the
// files with
//
//	go test -run TestGoldenAnswers ./internal/server/ -update
//
// and review the diff.
func TestGoldenAnswers(t *testing.T) {
	e := sampleEngine(t)
	for _, fl := range []struct {
		name    string
		flavour httpapi.Flavour
	}{{"addok", httpapi.Addok}, {"ban", httpapi.BAN}} {
		t.Run(fl.name, func(t *testing.T) {
			url, _, _ := start(t, Config{API: httpapi.Options{Flavour: fl.flavour, CSVWorkers: 1}}, NewHolder(e, nil), quietLog())
			for _, c := range goldenCases() {
				t.Run(c.name, func(t *testing.T) {
					checkGolden(t, filepath.Join("testdata", "golden", fl.name, c.name+".http"), goldenExchange(t, url, c))
				})
			}
		})
	}
}

// sampleEngine builds the bundled sample's index as `balise serve` would
// serve it, without a time budget: an answer cut short on a loaded machine
// would differ from its golden file.
func sampleEngine(t *testing.T) *search.Engine {
	t.Helper()
	path := filepath.Join(t.TempDir(), "paris.balise")
	if err := sample.Build(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(path, index.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	cfg := search.DefaultConfig()
	cfg.TimeBudget = 0
	e, err := search.New(ix, cfg, text.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// goldenExchange sends c and writes the request and its answer as text:
// the request line and body, then the status, every header but Date
// (sorted; and Content-Length for streamed answers), and the body as
// received.
func goldenExchange(t *testing.T, url string, c goldenCase) []byte {
	t.Helper()
	req, err := http.NewRequest(c.method, url+c.path, bytes.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	if c.ctype != "" {
		req.Header.Set("Content-Type", c.ctype)
	}
	req.Header.Set("X-Request-Id", "golden") // echoed in the answer
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "%s %s\n", c.method, c.path)
	if c.ctype != "" {
		fmt.Fprintf(&out, "Content-Type: %s\n\n%s\n", c.ctype, c.body)
	}
	fmt.Fprintf(&out, "\n%s\n", resp.Status)
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range resp.Header {
			if !yield(k) {
				return
			}
		}
	}) {
		if k != "Date" && !(c.streamed && k == "Content-Length") {
			fmt.Fprintf(&out, "%s: %s\n", k, strings.Join(resp.Header[k], ", "))
		}
	}
	fmt.Fprintf(&out, "\n")
	out.Write(body)
	return out.Bytes()
}

// checkGolden compares got with the file at path, or rewrites the file
// with -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run TestGoldenAnswers ./internal/server/ -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		from := max(0, i-80)
		t.Errorf("answer differs from %s at byte %d (-update rewrites it if the change is meant):\n got …%q…\nwant …%q…",
			path, i, got[from:min(len(got), i+120)], want[from:min(len(want), i+120)])
	}
}
