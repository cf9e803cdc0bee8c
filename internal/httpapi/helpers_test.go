package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"balise/internal/httpapi"
	"balise/internal/index"
	"balise/internal/search"
	"balise/internal/source"
	"balise/internal/text"
)

// doc is a fixture document built like Addok's test factory: type street,
// name "ellington", importance 0, lat 48.3254, lon 2.256 and a unique id
// unless given (a nil value removes the field).
type doc map[string]any

var keyOrder = []string{"id", "type", "name", "postcode", "citycode", "city", "context", "lat", "lon", "importance", "housenumbers"}

func (d doc) json(n int) string {
	full := map[string]any{"id": fmt.Sprintf("doc%03d", n), "type": "street", "name": "ellington", "importance": 0, "lat": 48.3254, "lon": 2.256}
	for k, v := range d {
		if v == nil {
			delete(full, k)
			continue
		}
		full[k] = v
	}
	var keys []string
	for _, k := range keyOrder {
		if _, ok := full[k]; ok {
			keys = append(keys, k)
		}
	}
	var extra []string
	for k := range full {
		if !slices.Contains(keyOrder, k) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	keys = append(keys, extra...)
	var sb strings.Builder
	sb.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			sb.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(full[k])
		sb.Write(kb)
		sb.WriteByte(':')
		sb.Write(vb)
	}
	sb.WriteByte('}')
	return sb.String()
}

// buildIndex writes an index of docs with Addok's default profile.
func buildIndex(t testing.TB, profile text.Profile, docs ...doc) *index.Index {
	t.Helper()
	var lines []string
	for i, d := range docs {
		lines = append(lines, d.json(i))
	}
	path := filepath.Join(t.TempDir(), "test.balise")
	b, err := index.NewBuilder(path, index.BuildOptions{Text: text.Config{Profile: profile}, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	done := false
	_, err = b.Build(context.Background(), func() (index.Batch, error) {
		if done {
			return nil, io.EOF
		}
		done = true
		var batch index.Batch
		for i, l := range lines {
			batch = append(batch, index.Item{Line: []byte(l), LineNo: i + 1})
		}
		return batch, io.EOF
	}, func(line int, err error) error { return fmt.Errorf("line %d: %w", line, err) })
	if err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(path, index.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
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

var (
	banOnce sync.Once
	banPath string
	banErr  error
)

// banNC returns the index of the real BAN sample (testdata/ban-nc, the
// 1951 documents CASES G was verified on), built once per test binary.
func banNC(t testing.TB) *index.Index {
	t.Helper()
	banOnce.Do(func() {
		dir, err := os.MkdirTemp("", "balise-ban-nc")
		if err != nil {
			banErr = err
			return
		}
		banPath = filepath.Join(dir, "ban-nc.balise")
		banErr = buildFromFile(banPath, filepath.Join("..", "..", "testdata", "ban-nc", "addok.ndjson.gz"))
	})
	if banErr != nil {
		t.Fatal(banErr)
	}
	ix, err := index.Open(banPath, index.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func buildFromFile(out, in string) error {
	lines, err := source.OpenLines(in)
	if err != nil {
		return err
	}
	defer lines.Close()
	b, err := index.NewBuilder(out, index.BuildOptions{Text: text.Config{Profile: text.ProfileFrench}})
	if err != nil {
		return err
	}
	_, err = b.Build(context.Background(), index.FromLines(lines), func(line int, err error) error {
		return fmt.Errorf("line %d: %w", line, err)
	})
	return err
}

func TestMain(m *testing.M) {
	code := m.Run()
	if banPath != "" {
		os.RemoveAll(filepath.Dir(banPath))
	}
	os.Exit(code)
}

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

// banServerDefault serves the BAN sample with the addok flavour.
func banServerDefault(t *testing.T) *httptest.Server {
	t.Helper()
	c := search.DefaultConfig()
	c.TimeBudget = 0
	e, err := search.New(banNC(t), c, banText)
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, e, httpapi.Options{})
}
