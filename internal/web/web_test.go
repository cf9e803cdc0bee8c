package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"balise/internal/server"
	"balise/internal/telemetry"
	"balise/internal/testutil"
	"balise/internal/web"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
	os.Exit(code)
}

var tmpDir string

func mkdirTemp() (string, error) {
	d, err := os.MkdirTemp("", "balise-web-")
	tmpDir = d
	return d, err
}

func fetchPath(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

func TestPageAndFiles(t *testing.T) {
	h := web.New(web.Options{})
	for _, c := range []struct{ path, ctype, cache string }{
		{"/", "text/html; charset=utf-8", "no-cache"},
		{"/web/app.js", "text/javascript; charset=utf-8", "public, max-age=3600"},
		{"/web/style.css", "text/css; charset=utf-8", "public, max-age=3600"},
		{"/web/vendor/leaflet/leaflet.js", "text/javascript; charset=utf-8", "public, max-age=3600"},
		{"/web/vendor/leaflet/images/marker-icon.png", "image/png", "public, max-age=3600"},
		{"/web/vendor/leaflet/LICENSE", "text/plain; charset=utf-8", "public, max-age=3600"},
		{"/web/config.json", "application/json", "no-cache"},
	} {
		r := fetchPath(t, h, "GET", c.path)
		body, _ := io.ReadAll(r.Body)
		if r.StatusCode != 200 || len(body) == 0 {
			t.Errorf("%s: %d, %d bytes", c.path, r.StatusCode, len(body))
		}
		if got := r.Header.Get("Content-Type"); got != c.ctype {
			t.Errorf("%s: Content-Type %q, want %q", c.path, got, c.ctype)
		}
		if got := r.Header.Get("Cache-Control"); got != c.cache {
			t.Errorf("%s: Cache-Control %q, want %q", c.path, got, c.cache)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", c.path)
		}
		csp := r.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "http") {
			t.Errorf("%s: CSP %q", c.path, csp)
		}
	}
}

func TestHead(t *testing.T) {
	h := web.New(web.Options{})
	r := fetchPath(t, h, "HEAD", "/")
	body, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 || len(body) != 0 || r.Header.Get("Content-Length") == "" {
		t.Errorf("HEAD /: %d, %d bytes, %v", r.StatusCode, len(body), r.Header)
	}
}

func TestUnknownFiles(t *testing.T) {
	h := web.New(web.Options{})
	for _, p := range []string{"/web/nope.js", "/web/", "/web/vendor", "/web/index.html", "/web/../web.go", "/other"} {
		if r := fetchPath(t, h, "GET", p); r.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, r.StatusCode)
		}
	}
	if r := fetchPath(t, h, "POST", "/"); r.StatusCode != 405 {
		t.Errorf("POST /: %d", r.StatusCode)
	}
}

// The tiles' host is allowed for images only, and only when configured.
func TestPolicyWithTiles(t *testing.T) {
	for tiles, want := range map[string]string{
		web.DefaultTilesURL: "img-src 'self' data: blob: https://tile.openstreetmap.org;",
		"https://{s}.tile.example.org/{z}/{x}/{y}{r}.png": "img-src 'self' data: blob: https://*.tile.example.org;",
		"/tiles/{z}/{x}/{y}.png":                          "img-src 'self' data: blob:;",
	} {
		csp := fetchPath(t, web.New(web.Options{TilesURL: tiles}), "GET", "/").Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, want) || !strings.Contains(csp, "connect-src 'self'") {
			t.Errorf("%s: CSP %q", tiles, csp)
		}
	}
}

// The page's own code (everything but the vendored Leaflet) stays small.
func TestPageSize(t *testing.T) {
	total := 0
	for _, p := range []string{"/", "/web/app.js", "/web/csv.js", "/web/style.css"} {
		b, _ := io.ReadAll(fetchPath(t, web.New(web.Options{}), "GET", p).Body)
		total += len(b)
	}
	if total > 100<<10 {
		t.Errorf("the page's code is %d bytes, over 100 KB", total)
	}
}

// Mounted in the server: the page at / and the API around it; without it
// (--web=false) / is the API's 404 again.
func TestMountedInServer(t *testing.T) {
	url := startServer(t, &web.Options{})
	for path, ctype := range map[string]string{"/": "text/html", "/web/app.js": "text/javascript", "/search?q=rivoli": "application/json"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), ctype) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	off := startServer(t, nil)
	for _, path := range []string{"/", "/web/app.js"} {
		resp, err := http.Get(off + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || !strings.Contains(string(body), `"404 Not Found"`) {
			t.Errorf("without the page, %s: %d %s", path, resp.StatusCode, body)
		}
	}
}

// The page's requests are counted under their own routes, and a shared
// link's query text (/?q=...) stays out of the access log.
func TestMetricsAndLogs(t *testing.T) {
	logs := &testutil.SyncBuffer{}
	tcfg := telemetry.DefaultConfig()
	tcfg.LogOutput = logs
	tel, shutdown, err := telemetry.Setup(context.Background(), tcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(context.Background()) })
	cfg := server.DefaultConfig()
	cfg.Web = &web.Options{}
	cfg.Telemetry = tel
	url := startServerWith(t, cfg)
	for _, p := range []string{"/?q=secret+avenue", "/web/app.js", "/web/nope.js"} {
		resp, err := http.Get(url + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`balise_http_requests_total{code_class="2xx",method="GET",route="/"} 1`,
		`balise_http_requests_total{code_class="2xx",method="GET",route="/web/"} 1`,
		`balise_http_requests_total{code_class="4xx",method="GET",route="/web/"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if !strings.Contains(logs.String(), `"route":"/"`) {
		t.Errorf("no access line for /:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "secret") {
		t.Errorf("the query text is in the logs:\n%s", logs.String())
	}
}
