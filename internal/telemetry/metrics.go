package telemetry

import (
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// latencyBuckets are the classic buckets, in seconds, around the SLO
// (p95 < 50 ms): 1, 2.5, 5, 10, 25, 50, 100, 250, 500 ms.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5}

// histogram options shared by every latency histogram: native buckets
// (factor 1.1, at most 160 of them) for precise quantiles, classic ones
// for the SLO rules and for scrapers without native histograms.
func latencyOpts(name, help string) prometheus.HistogramOpts {
	return prometheus.HistogramOpts{
		Name:                            name,
		Help:                            help,
		Buckets:                         latencyBuckets,
		NativeHistogramBucketFactor:     1.1,
		NativeHistogramMaxBucketNumber:  160,
		NativeHistogramMinResetDuration: time.Hour,
	}
}

// newRegistry registers the runtime, process and build collectors.
func newRegistry(cfg Config, reg prometheus.Registerer) error {
	revision, goVersion := "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "balise_build_info",
		Help:        "Always 1; the labels say which build is running.",
		ConstLabels: prometheus.Labels{"version": cfg.Version, "revision": revision, "goversion": goVersion},
	})
	build.Set(1)
	return register(reg, "runtime collectors",
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsGC, collectors.MetricsScheduler)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
		build)
}

// register registers cs on reg; what names them in the error.
func register(reg prometheus.Registerer, what string, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("cannot register %s: %w", what, err)
		}
	}
	return nil
}

// MetricsHandler serves the registry (Prometheus text, OpenMetrics, or
// the protobuf format that carries native histograms, as negotiated).
// Serve it on the admin listener.
func (t *Telemetry) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(t.Registry, promhttp.HandlerOpts{
		Registry:          t.Registry, // promhttp_metric_handler_errors_total
		EnableOpenMetrics: true,
		ErrorLog:          slogPrinter{t},
	})
}

type slogPrinter struct{ t *Telemetry }

func (p slogPrinter) Println(v ...any) { p.t.Logger.Error("metrics handler", "err", fmt.Sprint(v...)) }

// httpMetrics are the golden signals of the HTTP API.
type httpMetrics struct {
	requests *prometheus.CounterVec   // route, method, code_class
	duration *prometheus.HistogramVec // route, method, code_class
	errors   *prometheus.CounterVec   // route, kind
	bytes    *prometheus.CounterVec   // route
	inFlight prometheus.Gauge
	logDrops prometheus.Counter
}

func newHTTPMetrics(reg prometheus.Registerer) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "balise_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status class (1xx..5xx).",
		}, []string{"route", "method", "code_class"}),
		duration: prometheus.NewHistogramVec(latencyOpts("balise_http_request_duration_seconds",
			"Time from the request's arrival to the end of its answer, by route pattern, method and status class."),
			[]string{"route", "method", "code_class"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "balise_http_request_errors_total",
			Help: "Requests that failed, by route and kind: server (a 5xx answer), panic (the handler panicked), client_gone (the client left before the answer).",
		}, []string{"route", "kind"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "balise_http_response_bytes_total",
			Help: "Response body bytes written (before compression by an outer middleware, if any), by route.",
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "balise_http_requests_in_flight",
			Help: "Requests being served.",
		}),
		logDrops: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "balise_http_access_log_sampled_out_total",
			Help: "Access-log lines not written because of access-log sampling.",
		}),
	}
	if err := register(reg, "HTTP metrics", m.requests, m.duration, m.errors, m.bytes, m.inFlight, m.logDrops); err != nil {
		return nil, err
	}
	return m, nil
}

// methodLabel bounds the method label: a client can send any token.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// routeLabel turns a ServeMux pattern into the route label: the path part
// only ("GET /search/{$}" → "/search/{$}"), "unmatched" for a request no
// pattern matched (404s of random paths must not create series).
func routeLabel(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = strings.TrimLeft(pattern[i+1:], " ")
	}
	return pattern
}

func codeClass(status int) string {
	switch {
	case status >= 500:
		return "5xx"
	case status >= 400:
		return "4xx"
	case status >= 300:
		return "3xx"
	case status >= 200:
		return "2xx"
	}
	return "1xx"
}

// Endpoints, stages and CSV row statuses the search metrics accept as
// label values; anything else is counted as "other".
var (
	endpoints   = []string{"search", "reverse", "search_csv", "reverse_csv", "get"}
	stages      = []string{"parse", "collect", "fuzzy", "score", "encode"}
	rowStatuses = []string{"ok", "not_found", "skipped", "error"}
)

func bounded(v string, allowed []string) string {
	if slices.Contains(allowed, v) {
		return v
	}
	return "other"
}

// SearchMetrics are the engine-level series the server reports: stage
// timings, candidates and results per query, time-budget cut-offs, CSV
// throughput and row statuses, and what index is loaded. Every method is
// safe for concurrent use.
type SearchMetrics struct {
	stage      *prometheus.HistogramVec // endpoint, stage
	candidates *prometheus.HistogramVec // endpoint
	results    *prometheus.HistogramVec // endpoint
	budgetCuts *prometheus.CounterVec   // endpoint
	fuzzy      *prometheus.CounterVec   // endpoint
	csvRows    *prometheus.CounterVec   // endpoint, status
	csvBatch   *prometheus.HistogramVec // endpoint
	csvRowRate *prometheus.GaugeVec     // endpoint
	csvRecErrs *prometheus.CounterVec   // endpoint

	indexInfo   *prometheus.GaugeVec // version
	indexDocs   prometheus.Gauge
	indexHNs    prometheus.Gauge
	indexSize   prometheus.Gauge
	indexBuilt  prometheus.Gauge
	indexLoaded prometheus.Gauge
	reloads     *prometheus.CounterVec // result
	unavailable prometheus.Gauge
	panics      *prometheus.CounterVec // component
}

// panicComponents are the places a panic is recovered and counted.
var panicComponents = []string{"handler", "engine", "cache", "csv", "batch_item"}

func newSearchMetrics(reg prometheus.Registerer) (*SearchMetrics, error) {
	counts := []float64{0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000}
	m := &SearchMetrics{
		stage: prometheus.NewHistogramVec(latencyOpts("balise_search_stage_duration_seconds",
			"Time spent in each search stage (parse, collect, fuzzy, score, encode), by endpoint."),
			[]string{"endpoint", "stage"}),
		candidates: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "balise_search_candidates", Help: "Documents scored per query, by endpoint.", Buckets: counts,
		}, []string{"endpoint"}),
		results: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "balise_search_results", Help: "Results returned per query, by endpoint.", Buckets: []float64{0, 1, 2, 3, 5, 10, 20, 50, 100},
		}, []string{"endpoint"}),
		budgetCuts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "balise_search_budget_exhausted_total",
			Help: "Queries cut short by their time budget (partial answers, never cached), by endpoint.",
		}, []string{"endpoint"}),
		fuzzy: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "balise_search_fuzzy_total",
			Help: "Queries that needed fuzzy matching, by endpoint.",
		}, []string{"endpoint"}),
		csvRows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "balise_csv_rows_total",
			Help: "CSV rows geocoded, by endpoint and result_status (ok, not_found, skipped, error). rate() of it is rows/s.",
		}, []string{"endpoint", "status"}),
		csvBatch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:                        "balise_csv_batch_duration_seconds",
			Help:                        "Duration of CSV batches (one uploaded file or one batch of rows), by endpoint.",
			Buckets:                     []float64{.01, .05, .1, .5, 1, 5, 10, 30, 60, 300, 1800},
			NativeHistogramBucketFactor: 1.1,
		}, []string{"endpoint"}),
		csvRowRate: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "balise_csv_last_batch_rows_per_second",
			Help: "Throughput of the last CSV batch that finished, by endpoint.",
		}, []string{"endpoint"}),
		csvRecErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "balise_csv_record_errors_total",
			Help: "CSV records over the record-size or field-count caps, skipped and answered as error rows, by endpoint.",
		}, []string{"endpoint"}),
		indexInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "balise_index_info",
			Help: "Always 1, labelled with the loaded index's content version (one series at a time).",
		}, []string{"version"}),
		indexDocs:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "balise_index_documents", Help: "Documents in the loaded index."}),
		indexHNs:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "balise_index_housenumbers", Help: "Housenumbers in the loaded index."}),
		indexSize:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "balise_index_file_size_bytes", Help: "Size of the loaded index file."}),
		indexBuilt:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "balise_index_build_timestamp_seconds", Help: "When the loaded index was built (Unix time)."}),
		indexLoaded: prometheus.NewGauge(prometheus.GaugeOpts{Name: "balise_index_loaded_timestamp_seconds", Help: "When the loaded index was opened (Unix time)."}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "balise_index_reloads_total",
			Help: "Index reloads (SIGHUP, POST /admin/reload, --reload-poll), by result: swapped, unchanged (same content version) or failed (the previous index kept serving).",
		}, []string{"result"}),
		unavailable: prometheus.NewGauge(prometheus.GaugeOpts{Name: "balise_index_unavailable",
			Help: "1 while the served index file was truncated or rewritten in place under its mapping (requests get 503 until a reload succeeds), else 0."}),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "balise_panics_recovered_total",
			Help: "Panics recovered and turned into an error for one request, row or item (a bug: each one is logged with its stack), by component.",
		}, []string{"component"}),
	}
	if err := register(reg, "search metrics", m.stage, m.candidates, m.results, m.budgetCuts, m.fuzzy, m.csvRows,
		m.csvBatch, m.csvRowRate, m.csvRecErrs, m.indexInfo, m.indexDocs, m.indexHNs, m.indexSize, m.indexBuilt, m.indexLoaded, m.reloads,
		m.unavailable, m.panics); err != nil {
		return nil, err
	}
	for _, r := range reloadResults {
		m.reloads.WithLabelValues(r)
	}
	for _, c := range panicComponents {
		m.panics.WithLabelValues(c)
	}
	for _, e := range endpoints[:2] {
		m.budgetCuts.WithLabelValues(e)
		m.fuzzy.WithLabelValues(e)
	}
	return m, nil
}

// ObserveStage records the duration of one stage of one query. endpoint is
// search, reverse, search_csv, reverse_csv or get; stage is parse,
// collect, fuzzy, score or encode.
func (m *SearchMetrics) ObserveStage(endpoint, stage string, d time.Duration) {
	m.stage.WithLabelValues(bounded(endpoint, endpoints), bounded(stage, stages)).Observe(d.Seconds())
}

// QueryStats is what one query reports once answered.
type QueryStats struct {
	Candidates  int  // documents scored
	Results     int  // results returned
	BudgetSpent bool // the time budget ended the search (search.Stats.BudgetSpent)
	Fuzzy       bool // fuzzy matching was needed
}

// ObserveQuery records one answered query.
func (m *SearchMetrics) ObserveQuery(endpoint string, q QueryStats) {
	e := bounded(endpoint, endpoints)
	m.candidates.WithLabelValues(e).Observe(float64(q.Candidates))
	m.results.WithLabelValues(e).Observe(float64(q.Results))
	if q.BudgetSpent {
		m.budgetCuts.WithLabelValues(e).Inc()
	}
	if q.Fuzzy {
		m.fuzzy.WithLabelValues(e).Inc()
	}
}

// CSVRows counts n rows of a CSV batch with one result_status (ok,
// not-found, skipped, error; the dash is read as an underscore).
func (m *SearchMetrics) CSVRows(endpoint, status string, n int) {
	status = strings.ReplaceAll(status, "-", "_")
	m.csvRows.WithLabelValues(bounded(endpoint, endpoints), bounded(status, rowStatuses)).Add(float64(n))
}

// CSVRecordErrors counts n CSV records skipped for exceeding the caps.
func (m *SearchMetrics) CSVRecordErrors(endpoint string, n int) {
	if n > 0 {
		m.csvRecErrs.WithLabelValues(bounded(endpoint, endpoints)).Add(float64(n))
	}
}

// ObserveCSVBatch records a finished batch of rows.
func (m *SearchMetrics) ObserveCSVBatch(endpoint string, rows int, d time.Duration) {
	e := bounded(endpoint, endpoints)
	m.csvBatch.WithLabelValues(e).Observe(d.Seconds())
	if d > 0 {
		m.csvRowRate.WithLabelValues(e).Set(float64(rows) / d.Seconds())
	}
}

// IndexInfo describes the loaded index.
type IndexInfo struct {
	Version      string // content version (index.Meta.Version)
	Documents    int64
	Housenumbers int64
	FileSize     int64
	BuildTime    time.Time
	LoadedAt     time.Time // zero: now
}

var reloadResults = []string{"swapped", "unchanged", "failed"}

// ObserveReload counts one index reload by its result: swapped, unchanged
// or failed.
func (m *SearchMetrics) ObserveReload(result string) {
	m.reloads.WithLabelValues(bounded(result, reloadResults)).Inc()
}

// ObservePanic counts one recovered panic of a component: handler, engine,
// cache, csv or batch_item.
func (m *SearchMetrics) ObservePanic(component string) {
	if m != nil {
		m.panics.WithLabelValues(bounded(component, panicComponents)).Inc()
	}
}

// SetIndexUnavailable publishes whether the served index can be read.
func (m *SearchMetrics) SetIndexUnavailable(unavailable bool) {
	v := 0.0
	if unavailable {
		v = 1
	}
	m.unavailable.Set(v)
}

// SetIndex publishes the loaded index; a reload replaces the previous
// version's series.
func (m *SearchMetrics) SetIndex(info IndexInfo) {
	m.indexInfo.Reset()
	m.indexInfo.WithLabelValues(info.Version).Set(1)
	m.indexDocs.Set(float64(info.Documents))
	m.indexHNs.Set(float64(info.Housenumbers))
	m.indexSize.Set(float64(info.FileSize))
	if !info.BuildTime.IsZero() {
		m.indexBuilt.Set(float64(info.BuildTime.Unix()))
	}
	if info.LoadedAt.IsZero() {
		info.LoadedAt = time.Now()
	}
	m.indexLoaded.Set(float64(info.LoadedAt.Unix()))
}

// namingRegisterer registers on the registry and remembers the names of
// the metrics, even of vectors that have no series yet, for MetricNames.
type namingRegisterer struct {
	prometheus.Registerer
	names map[string]bool
}

var fqNameRE = regexp.MustCompile(`fqName: "([^"]+)"`)

func (n *namingRegisterer) Register(c prometheus.Collector) error {
	if err := n.Registerer.Register(c); err != nil {
		return err
	}
	ch := make(chan *prometheus.Desc)
	go func() {
		c.Describe(ch)
		close(ch)
	}()
	for d := range ch {
		if m := fqNameRE.FindStringSubmatch(d.String()); m != nil {
			n.names[m[1]] = true
		}
	}
	return nil
}

func (n *namingRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := n.Register(c); err != nil {
			panic(err)
		}
	}
}

// MetricNames lists the metric families this package registered (runtime
// collectors included), sorted. deploy/monitoring's test checks that the
// dashboard and the rules only use names the code exports.
func (t *Telemetry) MetricNames() []string {
	return slices.Sorted(maps.Keys(t.names.names))
}

// NamingRegisterer wraps reg so that NamesOf can list what others (the
// cache) register through it.
func NamingRegisterer(reg prometheus.Registerer) prometheus.Registerer {
	return &namingRegisterer{Registerer: reg, names: map[string]bool{}}
}

// NamesOf lists the metric names registered through a NamingRegisterer.
func NamesOf(reg prometheus.Registerer) []string {
	n, ok := reg.(*namingRegisterer)
	if !ok {
		return nil
	}
	return slices.Sorted(maps.Keys(n.names))
}
