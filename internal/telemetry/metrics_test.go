package telemetry

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"balise/internal/testutil"
)

// testSetup returns telemetry writing logs to a buffer.
func testSetup(t *testing.T, mod func(*Config)) (*Telemetry, *testutil.SyncBuffer) {
	t.Helper()
	var logs testutil.SyncBuffer
	cfg := DefaultConfig()
	cfg.LogOutput = &logs
	if mod != nil {
		mod(&cfg)
	}
	tel, shutdown, err := Setup(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(context.Background()) })
	return tel, &logs
}

// testMux is a small API: /search answers, /boom fails, /panic panics,
// /slow waits for release.
func testMux(release chan struct{}) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /search", func(w http.ResponseWriter, r *http.Request) {
		info := RequestInfoFrom(r.Context())
		info.SetCache("l1")
		info.SetResults(3)
		info.SetQuery(r.URL.Query().Get("q"))
		io.WriteString(w, `{"type":"FeatureCollection","features":[]}`)
	})
	mux.HandleFunc("GET /reverse/{$}", func(w http.ResponseWriter, r *http.Request) {
		RequestInfoFrom(r.Context()).SetCache("miss")
		io.WriteString(w, "{}")
	})
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "engine failure", http.StatusInternalServerError)
	})
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
		panic("handler bug")
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// recoverer stands for the server's recovery middleware, outside ours.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// scrape fetches /metrics as Prometheus text and parses it.
func scrape(t *testing.T, tel *Telemetry) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("cannot parse /metrics: %v", err)
	}
	return fams
}

// value finds the sample of family name whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

func TestMetricsAfterTraffic(t *testing.T) {
	tel, _ := testSetup(t, nil)
	release := make(chan struct{})
	srv := httptest.NewServer(recoverer(tel.Middleware(testMux(release))))
	defer srv.Close()

	for i := range 10 {
		testutil.Get(t, fmt.Sprintf("%s/search?q=secret+street+%d", srv.URL, i))
	}
	for range 3 {
		testutil.Get(t, srv.URL+"/reverse/?lat=48.1&lon=2.3")
	}
	for range 2 {
		testutil.Get(t, srv.URL+"/boom")
	}
	testutil.Get(t, srv.URL+"/panic")
	for i := range 4 {
		testutil.Get(t, fmt.Sprintf("%s/random/path/%d", srv.URL, i))
	}
	// One request held in flight while we scrape.
	done := make(chan struct{})
	go func() { testutil.Get(t, srv.URL+"/slow"); close(done) }()
	deadline := time.Now().Add(2 * time.Second)
	for {
		v, _ := value(t, scrape(t, tel), "balise_http_requests_in_flight", nil)
		if v == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("in-flight gauge; got %v; want 1 while /slow waits", v)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	<-done

	fams := scrape(t, tel)
	f := func(name string, labels map[string]string, want float64) {
		t.Helper()
		got, ok := value(t, fams, name, labels)
		if !ok || got != want {
			t.Errorf("%s%v; got %v (present %v); want %v", name, labels, got, ok, want)
		}
	}
	f("balise_http_requests_total", map[string]string{"route": "/search", "method": "GET", "code_class": "2xx"}, 10)
	f("balise_http_requests_total", map[string]string{"route": "/reverse/{$}", "code_class": "2xx"}, 3)
	f("balise_http_requests_total", map[string]string{"route": "/boom", "code_class": "5xx"}, 2)
	f("balise_http_requests_total", map[string]string{"route": "/panic", "code_class": "5xx"}, 1)
	f("balise_http_requests_total", map[string]string{"route": "unmatched", "code_class": "4xx"}, 4)
	f("balise_http_requests_total", map[string]string{"route": "/slow", "code_class": "2xx"}, 1)
	f("balise_http_request_duration_seconds", map[string]string{"route": "/search", "code_class": "2xx"}, 10)
	f("balise_http_request_errors_total", map[string]string{"route": "/boom", "kind": "server"}, 2)
	f("balise_http_request_errors_total", map[string]string{"route": "/panic", "kind": "panic"}, 1)
	f("balise_http_requests_in_flight", nil, 0)
	f("balise_http_response_bytes_total", map[string]string{"route": "/search"}, float64(10*len(`{"type":"FeatureCollection","features":[]}`)))
	f("balise_build_info", map[string]string{"version": "dev"}, 1)

	// The /search latencies sit in the classic SLO buckets.
	h := fams["balise_http_request_duration_seconds"]
	var les []string
	for _, b := range h.Metric[0].Histogram.Bucket {
		les = append(les, fmt.Sprint(b.GetUpperBound()))
	}
	if got := strings.Join(les, " "); got != "0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 +Inf" {
		t.Errorf("classic buckets; got %s", got)
	}
	// The runtime collectors are there.
	for _, name := range []string{"go_goroutines", "go_gc_duration_seconds", "process_cpu_seconds_total",
		"process_resident_memory_bytes", "go_build_info", "go_sched_latencies_seconds"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("missing %s", name)
		}
	}
	// Cardinality: no query text, path or id in any label value.
	for name, fam := range fams {
		for _, m := range fam.Metric {
			for _, l := range m.Label {
				if strings.Contains(l.GetValue(), "secret") || strings.Contains(l.GetValue(), "random") || strings.Contains(l.GetValue(), "48.1") {
					t.Errorf("%s has label %s=%q", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
}

func TestNativeHistograms(t *testing.T) {
	tel, _ := testSetup(t, nil)
	srv := httptest.NewServer(tel.Middleware(testMux(nil)))
	defer srv.Close()
	testutil.Get(t, srv.URL+"/search?q=x")
	fams, err := tel.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "balise_http_request_duration_seconds" {
			continue
		}
		h := f.Metric[0].Histogram
		if h.Schema == nil || h.GetZeroThreshold() == 0 || len(h.Bucket) == 0 {
			t.Fatalf("want a native histogram with classic buckets too; got schema %v, %d classic buckets", h.Schema, len(h.Bucket))
		}
		return
	}
	t.Fatal("histogram not gathered")
}

func TestSearchMetrics(t *testing.T) {
	tel, _ := testSetup(t, nil)
	s := tel.Search
	s.ObserveStage("search", "score", 3*time.Millisecond)
	s.ObserveStage("search", "score", 30*time.Millisecond)
	s.ObserveStage("search", "made-up stage", time.Millisecond)
	s.ObserveStage("/search?q=x", "parse", time.Millisecond)
	s.ObserveQuery("search", QueryStats{Candidates: 120, Results: 5, BudgetSpent: true, Fuzzy: true})
	s.ObserveQuery("reverse", QueryStats{Candidates: 9, Results: 1})
	s.CSVRows("search_csv", "ok", 90)
	s.CSVRows("search_csv", "not-found", 8)
	s.CSVRows("search_csv", "error", 2)
	s.ObserveCSVBatch("search_csv", 100, 500*time.Millisecond)
	s.SetIndex(IndexInfo{Version: "old", Documents: 1})
	s.SetIndex(IndexInfo{Version: "abc123", Documents: 100367, Housenumbers: 871371, FileSize: 1 << 30, BuildTime: time.Unix(1_800_000_000, 0)})
	ctx, end := tel.Stage(context.Background(), "reverse", "collect")
	_ = ctx
	end()
	_, endBatch := tel.CSVBatch(context.Background(), "reverse_csv")
	endBatch(10, nil)

	fams := scrape(t, tel)
	f := func(name string, labels map[string]string, want float64) {
		t.Helper()
		got, ok := value(t, fams, name, labels)
		if !ok || got != want {
			t.Errorf("%s%v; got %v (present %v); want %v", name, labels, got, ok, want)
		}
	}
	f("balise_search_stage_duration_seconds", map[string]string{"endpoint": "search", "stage": "score"}, 2)
	f("balise_search_stage_duration_seconds", map[string]string{"endpoint": "search", "stage": "other"}, 1)
	f("balise_search_stage_duration_seconds", map[string]string{"endpoint": "other", "stage": "parse"}, 1)
	f("balise_search_stage_duration_seconds", map[string]string{"endpoint": "reverse", "stage": "collect"}, 1)
	f("balise_search_candidates", map[string]string{"endpoint": "search"}, 1)
	f("balise_search_results", map[string]string{"endpoint": "reverse"}, 1)
	f("balise_search_budget_exhausted_total", map[string]string{"endpoint": "search"}, 1)
	f("balise_search_budget_exhausted_total", map[string]string{"endpoint": "reverse"}, 0)
	f("balise_search_fuzzy_total", map[string]string{"endpoint": "search"}, 1)
	f("balise_csv_rows_total", map[string]string{"endpoint": "search_csv", "status": "ok"}, 90)
	f("balise_csv_rows_total", map[string]string{"endpoint": "search_csv", "status": "not_found"}, 8)
	f("balise_csv_rows_total", map[string]string{"endpoint": "search_csv", "status": "error"}, 2)
	f("balise_csv_batch_duration_seconds", map[string]string{"endpoint": "search_csv"}, 1)
	f("balise_csv_batch_duration_seconds", map[string]string{"endpoint": "reverse_csv"}, 1)
	f("balise_csv_last_batch_rows_per_second", map[string]string{"endpoint": "search_csv"}, 200)
	f("balise_index_info", map[string]string{"version": "abc123"}, 1)
	f("balise_index_documents", nil, 100367)
	f("balise_index_housenumbers", nil, 871371)
	f("balise_index_file_size_bytes", nil, 1<<30)
	f("balise_index_build_timestamp_seconds", nil, 1_800_000_000)
	if _, ok := value(t, fams, "balise_index_info", map[string]string{"version": "old"}); ok {
		t.Error("the previous index version is still exported")
	}
	for _, m := range fams["balise_search_candidates"].Metric {
		if m.Label[0].GetValue() == "search" && m.Histogram.GetSampleSum() != 120 {
			t.Errorf("candidates sum; got %v; want 120", m.Histogram.GetSampleSum())
		}
	}
}

func TestSetupRejectsBadConfig(t *testing.T) {
	for _, mod := range []func(*Config){
		func(c *Config) { c.LogLevel = "loud" },
		func(c *Config) { c.LogFormat = "xml" },
		func(c *Config) { c.AccessLogSample = 2 },
		func(c *Config) { c.TraceSampleRatio = -1 },
		func(c *Config) { c.TracesExporter = "zipkin" },
		func(c *Config) { c.TracesExporter = "otlp"; c.TraceProtocol = "http/json" },
	} {
		cfg := DefaultConfig()
		cfg.LogOutput = io.Discard
		mod(&cfg)
		if _, _, err := Setup(context.Background(), cfg); err == nil {
			t.Errorf("Setup accepted %+v", cfg)
		}
	}
}

func BenchmarkMiddleware(b *testing.B) {
	cfg := DefaultConfig()
	cfg.LogOutput = io.Discard
	tel, shutdown, err := Setup(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer shutdown(context.Background())
	h := tel.Middleware(testMux(nil))
	req := httptest.NewRequest("GET", "/search?q=x", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}
