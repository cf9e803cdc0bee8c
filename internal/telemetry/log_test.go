package telemetry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"balise/internal/testutil"
)

func TestAccessLogLine(t *testing.T) {
	tel, logs := testSetup(t, nil)
	h := RequestID(tel.Middleware(testMux(nil)))
	req := httptest.NewRequest("GET", "/search?q=12+rue+des+lilas", nil)
	req.Header.Set("X-Request-Id", "req-42")
	req.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	h.ServeHTTP(httptest.NewRecorder(), req)

	ls := testutil.JSONLines(t, logs.String())
	if len(ls) != 1 {
		t.Fatalf("want one access line; got %d:\n%s", len(ls), logs.String())
	}
	l := ls[0]
	want := map[string]any{
		"level": "INFO", "msg": "request", "method": "GET", "route": "/search", "status": 200.0,
		"bytes": 42.0, "cache": "l1", "results": 3.0, "request_id": "req-42",
		// Tracing is off, yet the caller's trace id reaches the logs.
		"trace_id": "0af7651916cd43dd8448eb211c80319c",
	}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("field %s; got %v; want %v", k, l[k], v)
		}
	}
	for _, k := range []string{"time", "dur_ms", "span_id"} {
		if _, ok := l[k]; !ok {
			t.Errorf("missing field %s in %v", k, l)
		}
	}
	if _, ok := l["query"]; ok || strings.Contains(logs.String(), "lilas") {
		t.Errorf("the query text was logged without LogQueries: %v", l)
	}
}

func TestAccessLogQueriesOptIn(t *testing.T) {
	tel, logs := testSetup(t, func(c *Config) { c.LogQueries = true })
	tel.Middleware(testMux(nil)).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/search?q=12+rue+des+lilas", nil))
	if l := testutil.JSONLines(t, logs.String())[0]; l["query"] != "12 rue des lilas" {
		t.Fatalf("query field; got %v", l["query"])
	}
}

func TestAccessLogSampling(t *testing.T) {
	tel, logs := testSetup(t, func(c *Config) { c.AccessLogSample = 0; c.SlowRequest = 50 * time.Millisecond })
	mux := testMux(nil)
	mux.HandleFunc("GET /sleepy", func(w http.ResponseWriter, r *http.Request) { time.Sleep(60 * time.Millisecond) })
	h := tel.Middleware(mux)
	for range 20 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/search", nil))
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/boom", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/sleepy", nil))
	ls := testutil.JSONLines(t, logs.String())
	if len(ls) != 2 || ls[0]["status"] != 500.0 || ls[0]["level"] != "ERROR" || ls[1]["route"] != "/sleepy" {
		t.Fatalf("with sampling 0, want only the error and the slow request; got %v", ls)
	}
	if v, _ := value(t, scrape(t, tel), "balise_http_access_log_sampled_out_total", nil); v != 20 {
		t.Errorf("sampled-out counter; got %v; want 20", v)
	}
}

func TestLoggerAddsIDsFromContext(t *testing.T) {
	var buf testutil.SyncBuffer
	log, err := NewLogger(&buf, "debug", "json", RequestIDFrom)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), requestIDKey{}, "r1")
	log.InfoContext(ctx, "hello", "k", 1)
	log.InfoContext(ctx, "own id", "request_id", "mine")
	log.Info("no context")
	ls := testutil.JSONLines(t, buf.String())
	if ls[0]["request_id"] != "r1" || ls[1]["request_id"] != "mine" {
		t.Errorf("request ids; got %v and %v", ls[0]["request_id"], ls[1]["request_id"])
	}
	if strings.Count(buf.String(), "request_id") != 2 {
		t.Errorf("request_id duplicated or missing:\n%s", buf.String())
	}
	if _, ok := ls[2]["request_id"]; ok {
		t.Errorf("id without a context: %v", ls[2])
	}
	if _, err := NewLogger(&buf, "info", "text", nil); err != nil {
		t.Error(err)
	}
}

func TestRequestIDMiddleware(t *testing.T) {
	var seen string
	h := RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = RequestIDFrom(r.Context()) }))
	f := func(header string, keep bool) {
		t.Helper()
		req := httptest.NewRequest("GET", "/", nil)
		if header != "" {
			req.Header.Set("X-Request-Id", header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := rec.Header().Get("X-Request-Id"); got != seen || seen == "" || (seen == header) != keep {
			t.Errorf("X-Request-Id %q: header %q, context %q, keep %v", header, got, seen, keep)
		}
	}
	f("", false)
	f("proxy-1234", true)
	f("bad id with spaces", false)
	f(strings.Repeat("x", 200), false)
}
