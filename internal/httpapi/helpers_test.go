package httpapi_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"balise/internal/httpapi"
	"balise/internal/index"
	"balise/internal/search"
	"balise/internal/testutil"
	"balise/internal/text"
)

// doc is a fixture document built like Addok's test factory (see
// testutil.Doc).
type doc = testutil.Doc

// buildIndex writes an index of docs with the given profile.
func buildIndex(t testing.TB, profile text.Profile, docs ...doc) *index.Index {
	t.Helper()
	path := testutil.WriteIndex(t, index.BuildOptions{Text: text.Config{Profile: profile}, Workers: 2}, testutil.NDJSON(docs...)...)
	return testutil.OpenIndex(t, path, index.OpenOptions{})
}

// newEngine builds an engine with Addok's test configuration
// (COMMON_THRESHOLD 1000) and no time budget, then applies cfg.
func newEngine(t testing.TB, ix *index.Index, cfg func(*search.Config)) *search.Engine {
	t.Helper()
	c := search.DefaultConfig()
	c.CommonThreshold = 1000
	c.TimeBudget = 0
	if cfg != nil {
		cfg(&c)
	}
	e, err := search.New(ix, c, text.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// source lends one engine forever.
type source1 struct{ e *search.Engine }

func (s source1) Acquire() (*search.Engine, func()) { return s.e, func() {} }

// serve starts a real HTTP server over the API.
func serve(t testing.TB, e *search.Engine, opts httpapi.Options) *httptest.Server {
	t.Helper()
	opts.Engines = source1{e}
	srv := httptest.NewServer(httpapi.New(opts))
	t.Cleanup(srv.Close)
	return srv
}

// fixture builds a default-profile index of docs and serves it.
func fixture(t testing.TB, cfg func(*search.Config), docs ...doc) *httptest.Server {
	t.Helper()
	return serve(t, newEngine(t, buildIndex(t, text.ProfileDefault, docs...), cfg), httpapi.Options{})
}

// banNC returns the index of the real BAN sample (testdata/ban-nc, the
// 1951 documents checked against Addok 1.3.2), built once per test binary.
func banNC(t testing.TB) *index.Index {
	t.Helper()
	return testutil.OpenIndex(t, testutil.BanNC(t), index.OpenOptions{})
}

func TestMain(m *testing.M) { testutil.Main(m) }

// answer is a decoded response.
type answer struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func get(t testing.TB, srv *httptest.Server, pathAndQuery string) answer {
	t.Helper()
	return do(t, srv, "GET", pathAndQuery, "", nil)
}

func do(t testing.TB, srv *httptest.Server, method, pathAndQuery, contentType string, body io.Reader) answer {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+pathAndQuery, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, body: b}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && len(b) > 0 {
		if err := json.Unmarshal(b, &a.json); err != nil {
			t.Fatalf("%s %s: invalid JSON %q: %v", method, pathAndQuery, b, err)
		}
	}
	return a
}

func (a answer) features() []map[string]any {
	fs, _ := a.json["features"].([]any)
	out := make([]map[string]any, len(fs))
	for i, f := range fs {
		out[i] = f.(map[string]any)
	}
	return out
}

func props(f map[string]any) map[string]any { return f["properties"].(map[string]any) }

// propKeys lists a feature's property names in their JSON order.
func propKeys(t testing.TB, body []byte, feature int) []string {
	t.Helper()
	var raw struct {
		Features []struct {
			Properties json.RawMessage `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw.Features[feature].Properties)))
	dec.Token()
	var keys []string
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var v any
		dec.Decode(&v)
	}
	return keys
}

func expectStatus(t testing.TB, a answer, want int) {
	t.Helper()
	if a.status != want {
		t.Fatalf("status %d, want %d; body %s", a.status, want, a.body)
	}
}

// banText is the engine's text configuration for the BAN sample (the
// profile itself comes from the index).
var banText = text.Config{}

func getURL(t testing.TB, u string) answer {
	t.Helper()
	srv := &httptest.Server{URL: ""}
	return do(t, srv, "GET", u, "", nil)
}

// banServer serves the BAN sample with opts; its engine has search's
// default configuration without time budget, then changed by cfg (when
// not nil).
func banServer(t *testing.T, cfg func(*search.Config), opts httpapi.Options) *httptest.Server {
	t.Helper()
	c := search.DefaultConfig()
	c.TimeBudget = 0
	if cfg != nil {
		cfg(&c)
	}
	e, err := search.New(banNC(t), c, banText)
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, e, opts)
}
