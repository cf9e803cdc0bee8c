package server

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"balise/internal/cache"
	"balise/internal/index"
	"balise/internal/search"
	"balise/internal/telemetry"
	"balise/internal/testutil"
	"balise/internal/text"
)

func l1Config() *cache.Config {
	c := cache.DefaultConfig()
	c.MaxBytes = 8 << 20
	return &c
}

const (
	qFound    = "/search?q=rue+des+sapins+pouembout"
	qNotFound = "/search?q=xqzwv+kpjh"
	qReverse  = "/reverse?lat=-21.120813&lon=164.900029"
)

// The real server, with the cache and telemetry as serve wires them: send
// traffic, scrape /metrics over HTTP, check the series and their values.
func TestMetricsEndToEnd(t *testing.T) {
	r := newRig(t, rigOptions{cache: l1Config()})

	var tiers []string
	var bodies [][]byte
	for range 3 {
		rep := testutil.Get(t, r.url+qFound)
		if rep.Status != 200 {
			t.Fatalf("search: %d %s", rep.Status, rep.Body)
		}
		tiers = append(tiers, rep.Header.Get("X-Cache"))
		bodies = append(bodies, rep.Body)
	}
	if !slices.Equal(tiers, []string{"miss", "l1", "l1"}) {
		t.Errorf("X-Cache = %v, want miss l1 l1", tiers)
	}
	for _, b := range bodies[1:] {
		if string(b) != string(bodies[0]) {
			t.Errorf("cached body differs:\n%s\n%s", bodies[0], b)
		}
	}
	var fc struct {
		Features []json.RawMessage `json:"features"`
		Query    string            `json:"query"`
	}
	if err := json.Unmarshal(bodies[0], &fc); err != nil || len(fc.Features) == 0 || fc.Query != "rue des sapins pouembout" {
		t.Fatalf("bad answer (%v): %s", err, bodies[0])
	}
	// The same folded query typed differently shares the entry, and the
	// envelope echoes the query as typed.
	rep := testutil.Get(t, r.url+"/search?q=Rue+des+SAPINS++Pouembout")
	if rep.Header.Get("X-Cache") != "l1" || !strings.Contains(string(rep.Body), `"query":"Rue des SAPINS  Pouembout"`) {
		t.Errorf("folded variant: X-Cache %q, body %s", rep.Header.Get("X-Cache"), rep.Body)
	}
	for range 2 {
		if rep := testutil.Get(t, r.url+qNotFound); rep.Status != 200 || !strings.Contains(string(rep.Body), `"features":[]`) {
			t.Fatalf("not found: %d %s", rep.Status, rep.Body)
		}
	}
	for range 2 {
		if rep := testutil.Get(t, r.url+qReverse); rep.Status != 200 || !strings.Contains(string(rep.Body), "Sapins") {
			t.Fatalf("reverse: %d %s", rep.Status, rep.Body)
		}
	}
	testutil.Get(t, r.url+"/health")
	testutil.Get(t, r.url+"/nowhere")
	testutil.Get(t, r.url+"/search") // 400: q missing

	for _, base := range []string{r.url, r.admin} {
		mf := scrape(t, base)
		check := func(want float64, name string, labels ...string) {
			t.Helper()
			if got := value(t, mf, name, labels...); got != want {
				t.Errorf("%s: %s%v = %v, want %v", base, name, labels, got, want)
			}
		}
		check(6, "balise_http_requests_total", "route", "/search", "method", "GET", "code_class", "2xx")
		check(1, "balise_http_requests_total", "route", "/search", "method", "GET", "code_class", "4xx")
		check(2, "balise_http_requests_total", "route", "/reverse", "method", "GET", "code_class", "2xx")
		check(1, "balise_http_requests_total", "route", "/health", "method", "GET", "code_class", "2xx")
		check(1, "balise_http_requests_total", "route", "unmatched", "method", "GET", "code_class", "4xx")
		check(6, "balise_http_request_duration_seconds", "route", "/search", "code_class", "2xx")
		// Hits: found ×3 (incl. the folded variant), not found ×1, reverse ×1.
		check(5, "balise_cache_hits_total", "tier", "l1")
		check(2, "balise_cache_computes_total", "class", "exact") // the search and the reverse
		check(1, "balise_cache_computes_total", "class", "not_found")
		// Stages and per-query figures count computed queries only.
		check(2, "balise_search_stage_duration_seconds", "endpoint", "search", "stage", "collect")
		check(2, "balise_search_stage_duration_seconds", "endpoint", "search", "stage", "parse")
		check(2, "balise_search_stage_duration_seconds", "endpoint", "search", "stage", "encode")
		check(1, "balise_search_stage_duration_seconds", "endpoint", "reverse", "stage", "collect")
		check(2, "balise_search_results", "endpoint", "search")
		check(2, "balise_search_candidates", "endpoint", "search")
		check(1, "balise_index_info", "version", r.version)
		check(1951, "balise_index_documents")
		if v := value(t, mf, "balise_cache_bytes"); v <= 0 {
			t.Errorf("balise_cache_bytes = %v", v)
		}
		if v := value(t, mf, "balise_build_info"); v != 1 {
			t.Errorf("balise_build_info = %v", v)
		}
		if _, ok := mf["go_goroutines"]; !ok {
			t.Error("go runtime collector missing")
		}
	}
	// Results per query: one query found something, one did not.
	mf := scrape(t, r.admin)
	h := mf["balise_search_results"].Metric[0].Histogram
	if h.GetSampleSum() < 1 {
		t.Errorf("results sum = %v", h.GetSampleSum())
	}
}

// With the cache the answers are byte for byte those of a server without
// it, for points given with any number of decimals
// (internal/relevance's TestCacheNeverChangesAnAnswer does the same on
// thousands of real points).
func TestCachedAnswersMatchUncached(t *testing.T) {
	withCache := newRig(t, rigOptions{cache: l1Config()})
	without := newRig(t, rigOptions{})
	for _, q := range []string{qFound, qNotFound, "/reverse?lat=-21.1208&lon=164.9",
		"/search?q=rue+des&lat=-21.12&lon=164.9&limit=3",
		"/search?q=rue+des&lat=-21.123457&lon=164.898765&limit=3",
		"/reverse?lat=-21.121637&lon=164.899412&limit=3",
		"/search?q=impasse&autocomplete=0&type=street",
		"/reverse?lat=-21.1216&lon=164.8994&limit=3",
	} {
		want := testutil.Get(t, without.url+q)
		if want.Header.Get("X-Cache") != "" {
			t.Errorf("X-Cache without a cache: %q", want.Header.Get("X-Cache"))
		}
		for _, tier := range []string{"miss", "l1"} {
			got := testutil.Get(t, withCache.url+q)
			if got.Header.Get("X-Cache") != tier || string(got.Body) != string(want.Body) {
				t.Errorf("%s (%s, X-Cache %q):\n got %s\nwant %s", q, tier, got.Header.Get("X-Cache"), got.Body, want.Body)
			}
		}
	}
}

// Access-log lines carry the request id, the trace id (tracing on, with
// an in-memory exporter), route, status, duration, bytes, cache tier and
// result count; the query text only with --log-queries.
func TestAccessLog(t *testing.T) {
	for _, logQueries := range []bool{false, true} {
		t.Run(fmt.Sprint("log-queries=", logQueries), func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			r := newRig(t, rigOptions{cache: l1Config(), exporter: exp, logQueries: logQueries})
			rep := testutil.Get(t, r.url+"/search?q=rue+des+jameloniers", "X-Request-Id", "req-42")
			if rep.Status != 200 || rep.Header.Get("X-Request-Id") != "req-42" {
				t.Fatalf("%d %v", rep.Status, rep.Header)
			}
			r.tel.ForceFlush(t.Context())
			var line map[string]any
			for _, rec := range testutil.JSONLines(t, r.logs.String()) {
				if rec["msg"] == "request" && rec["request_id"] == "req-42" {
					line = rec
				}
			}
			if line == nil {
				t.Fatalf("no access line for req-42 in:\n%s", r.logs)
			}
			for _, k := range []string{"trace_id", "span_id", "route", "status", "dur_ms", "bytes", "cache", "results"} {
				if _, ok := line[k]; !ok {
					t.Errorf("access line lacks %s: %v", k, line)
				}
			}
			if line["route"] != "/search" || line["status"] != float64(200) || line["cache"] != "miss" ||
				line["results"].(float64) < 1 || line["bytes"].(float64) != float64(len(rep.Body)) {
				t.Errorf("access line: %v", line)
			}
			spans := exp.GetSpans()
			var names []string
			traceOK := false
			for _, s := range spans {
				names = append(names, s.Name)
				if s.Name == "GET /search" && s.SpanContext.TraceID().String() == line["trace_id"] {
					traceOK = true
				}
			}
			if !traceOK {
				t.Errorf("no GET /search span with the logged trace id %v; spans %v", line["trace_id"], names)
			}
			for _, want := range []string{"cache lookup", "search parse", "search collect", "search score", "search encode"} {
				if !slices.Contains(names, want) {
					t.Errorf("span %q missing: %v", want, names)
				}
			}
			hasQuery := strings.Contains(r.logs.String(), "jameloniers")
			if hasQuery != logQueries {
				t.Errorf("query text in the logs = %v with log-queries %v:\n%s", hasQuery, logQueries, r.logs)
			}
		})
	}
}

// The access log is one: --metrics=false takes away metrics and traces,
// not a field of the access line.
func TestAccessLogSameWithoutMetrics(t *testing.T) {
	fields := map[bool][]string{}
	for _, disable := range []bool{false, true} {
		r := newRig(t, rigOptions{cache: l1Config(), disableMetrics: disable})
		rep := testutil.Get(t, r.url+"/search?q=rue+des+jameloniers", "X-Request-Id", "req-7")
		if rep.Status != 200 {
			t.Fatalf("metrics disabled %v: %d", disable, rep.Status)
		}
		var line map[string]any
		for _, rec := range testutil.JSONLines(t, r.logs.String()) {
			if rec["msg"] == "request" && rec["request_id"] == "req-7" {
				line = rec
			}
		}
		if line == nil {
			t.Fatalf("metrics disabled %v: no access line in:\n%s", disable, r.logs)
		}
		if line["route"] != "/search" || line["cache"] != "miss" || line["bytes"].(float64) != float64(len(rep.Body)) {
			t.Errorf("metrics disabled %v: access line %v", disable, line)
		}
		for k := range line {
			if k != "time" {
				fields[disable] = append(fields[disable], k)
			}
		}
		slices.Sort(fields[disable])
		for _, u := range []string{r.url, r.admin} {
			if code := testutil.Get(t, u+"/metrics").Status; (code == 200) == disable {
				t.Errorf("metrics disabled %v: %s/metrics answered %d", disable, u, code)
			}
		}
	}
	if !slices.Equal(fields[false], fields[true]) {
		t.Errorf("access-line fields with metrics %v, without %v", fields[false], fields[true])
	}
}

// X-Cache goes miss → l1 with L1; with L1 disabled, answers come from
// Redis (l2), including those another instance computed.
func TestRedisTiers(t *testing.T) {
	rs := testutil.StartRedis(t)
	c1 := cache.DefaultConfig()
	c1.RedisURL = rs.URL()
	c1.RedisTimeout = 200 * time.Millisecond // -race and a shared machine
	a := newRig(t, rigOptions{cache: &c1})
	c2 := c1
	c2.MaxBytes = 0
	b := newRig(t, rigOptions{cache: &c2})

	if got := testutil.Get(t, a.url+qFound).Header.Get("X-Cache"); got != "miss" {
		t.Errorf("first: %q", got)
	}
	if got := testutil.Get(t, a.url+qFound).Header.Get("X-Cache"); got != "l1" {
		t.Errorf("second: %q", got)
	}
	// a's write to Redis is asynchronous.
	waitTier(t, b.url+qFound, "l2")
	// b computes a new answer, writes it, then reads it back from Redis.
	if got := testutil.Get(t, b.url+qReverse).Header.Get("X-Cache"); got != "miss" {
		t.Errorf("b reverse first: %q", got)
	}
	waitTier(t, b.url+qReverse, "l2")
	mf := scrape(t, b.admin)
	if v := value(t, mf, "balise_cache_hits_total", "tier", "l2"); v < 2 {
		t.Errorf("l2 hits = %v", v)
	}
	if v := value(t, mf, "balise_cache_redis_enabled"); v != 1 {
		t.Errorf("redis enabled = %v", v)
	}
	if v := value(t, mf, "balise_cache_redis_breaker_state"); v != 0 {
		t.Errorf("breaker state = %v", v)
	}
	status, rb := ready(t, b.admin)
	if status != 200 || !rb.Checks.Redis.Enabled || !rb.Checks.Redis.OK || rb.Checks.Redis.Breaker != "closed" {
		t.Errorf("ready with redis: %d %+v", status, rb.Checks.Redis)
	}
}

func waitTier(t *testing.T, u, tier string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		rep := testutil.Get(t, u)
		if rep.Status != 200 {
			t.Fatalf("%s: %d", u, rep.Status)
		}
		if rep.Header.Get("X-Cache") == tier {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: X-Cache %q after 3 s, want %q", u, rep.Header.Get("X-Cache"), tier)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Chaos through HTTP: Redis killed (or paused: a Redis that stops
// answering) under load → no failed request, the breaker opens (readiness
// shows it, as a warning: still 200), p99 stays bounded; Redis restarted
// (resumed) → L2 hits resume.
func TestChaosRedisUnderLoad(t *testing.T) {
	for _, fault := range []string{"kill", "pause"} {
		t.Run(fault, func(t *testing.T) { chaos(t, fault) })
	}
}

func chaos(t *testing.T, fault string) {
	rs := testutil.StartRedis(t)
	cc := cache.DefaultConfig()
	cc.RedisURL = rs.URL()
	cc.MaxBytes = 0 // every lookup goes to Redis
	cc.RedisTimeout = 25 * time.Millisecond
	cc.BreakerOpen = 500 * time.Millisecond
	r := newRig(t, rigOptions{cache: &cc})
	queries := chaosQueries()
	load := startChaosLoad(r.url, queries)

	time.Sleep(800 * time.Millisecond)
	killedAt := time.Since(load.start)
	if fault == "kill" {
		rs.Kill()
	} else {
		rs.Pause()
	}
	sawOpen := watchBreakerOpen(t, r.admin, 1500*time.Millisecond)
	restartedAt := time.Since(load.start)
	if fault == "kill" {
		rs.Start()
	} else {
		rs.Resume()
	}
	// Load goes on until L2 hits are seen again (bounded).
	var resumedAt time.Duration
	deadline := time.Now().Add(8 * time.Second)
	for resumedAt == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		mf := scrape(t, r.admin)
		if value(t, mf, "balise_cache_redis_breaker_state") == 0 {
			rep := testutil.Get(t, r.url+queries[0])
			if rep.Header.Get("X-Cache") == "l2" {
				resumedAt = time.Since(load.start)
			}
		}
	}
	time.Sleep(300 * time.Millisecond)
	samples := load.stop()

	if n := load.failures.Load(); n != 0 {
		t.Errorf("%d failed requests (first: %v)", n, load.firstErr.Load())
	}
	if !sawOpen {
		t.Error("readiness never showed the breaker open while Redis was down")
	}
	if resumedAt == 0 {
		t.Error("no L2 hit within 8 s of the restart")
	}
	mf := scrape(t, r.admin)
	if v := value(t, mf, "balise_cache_redis_breaker_transitions_total", "to", "open"); v < 1 {
		t.Errorf("breaker opened %v times", v)
	}
	checkChaosSamples(t, fault, samples, load.failures.Load(), killedAt, restartedAt, resumedAt)
}

// chaosQueries are searches and reverse lookups of the test index.
func chaosQueries() []string {
	var queries []string
	for _, q := range []string{"rue des sapins", "rue du pigeonnier", "impasse des yuccas", "rue des goyaviers",
		"avenue de pouembout", "rue du parc", "route du lycee", "rue sabiran", "impasse des kaoris", "rue des flamboyants",
		"pouembout", "rue adeline seux", "impasse des cassis", "rue alexis gibert", "route du creek sale", "rue"} {
		queries = append(queries, "/search?q="+url.QueryEscape(q))
	}
	return append(queries, "/reverse?lat=-21.1208&lon=164.9", "/reverse?lat=-21.1163&lon=164.8994")
}

// chaosSample is one request of the load: when it was answered (since the
// load started), how long it took and which cache tier answered.
type chaosSample struct {
	at   time.Duration
	d    time.Duration
	tier string
}

// chaosLoad is 8 closed-loop clients cycling through the queries.
type chaosLoad struct {
	start    time.Time
	mu       sync.Mutex
	samples  []chaosSample
	failures atomic.Int64
	firstErr atomic.Value
	stopped  atomic.Bool
	wg       sync.WaitGroup
}

func startChaosLoad(base string, queries []string) *chaosLoad {
	l := &chaosLoad{start: time.Now()}
	for g := range 8 {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			var local []chaosSample
			for i := g; !l.stopped.Load(); i++ {
				q := queries[(i*7+g)%len(queries)]
				t0 := time.Now()
				tier, ok := l.get(base + q)
				if ok {
					local = append(local, chaosSample{time.Since(l.start), time.Since(t0), tier})
				}
			}
			l.mu.Lock()
			l.samples = append(l.samples, local...)
			l.mu.Unlock()
		}()
	}
	return l
}

// get sends one request and reads its answer; ok is false when it failed
// to get an answer at all.
func (l *chaosLoad) get(u string) (tier string, ok bool) {
	resp, err := testutil.Client.Get(u)
	if err != nil {
		l.failures.Add(1)
		l.firstErr.CompareAndSwap(nil, err.Error())
		return "", false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		l.failures.Add(1)
		l.firstErr.CompareAndSwap(nil, resp.Status)
	}
	return resp.Header.Get("X-Cache"), true
}

// stop ends the load and returns its samples.
func (l *chaosLoad) stop() []chaosSample {
	l.stopped.Store(true)
	l.wg.Wait()
	return l.samples
}

// watchBreakerOpen polls readiness for d while Redis is down: always 200
// (Redis is a warning), and it reports whether the breaker was seen open,
// with the details readiness must give then.
func watchBreakerOpen(t *testing.T, admin string, d time.Duration) bool {
	sawOpen := false
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		status, b := ready(t, admin)
		if status != 200 {
			t.Errorf("readiness %d with Redis down: Redis is a warning, not a failure: %+v", status, b)
		}
		if b.Checks.Redis.Breaker == "open" {
			sawOpen = true
			if b.Checks.Redis.OK || !slices.Contains(b.Warnings, "redis") || b.Checks.Redis.Error == "" {
				t.Errorf("readiness with the breaker open: %+v", b)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return sawOpen
}

// checkChaosSamples logs the load's figures and holds its bounds: enough
// requests, some while Redis was down, and a bounded p99.
func checkChaosSamples(t *testing.T, fault string, samples []chaosSample, failures int64, killedAt, restartedAt, resumedAt time.Duration) {
	durs := make([]time.Duration, len(samples))
	var l2Before, l2After, during int
	for i, s := range samples {
		durs[i] = s.d
		switch {
		case s.at < killedAt && s.tier == "l2":
			l2Before++
		case s.at >= killedAt && s.at < restartedAt:
			during++
		case resumedAt > 0 && s.at >= resumedAt && s.tier == "l2":
			l2After++
		}
	}
	if len(durs) < 100 || during == 0 {
		t.Errorf("too little load: %d requests, %d while Redis was down", len(durs), during)
		if len(durs) == 0 {
			return
		}
	}
	sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
	pct := func(p float64) time.Duration { return durs[min(len(durs)-1, int(p*float64(len(durs))))] }
	t.Logf("chaos (%s): %d requests, %d failed; p50 %v p99 %v p99.9 %v max %v; l2 hits before the fault %d, requests during the fault %d, l2 hits after recovery %d; fault at %v, ended at %v, L2 resumed at %v",
		fault, len(durs), failures, pct(0.5), pct(0.99), pct(0.999), durs[len(durs)-1], l2Before, during, l2After,
		killedAt.Round(time.Millisecond), restartedAt.Round(time.Millisecond), resumedAt.Round(time.Millisecond))
	// Generous: -race, 8 clients and the server share a loaded machine.
	if p99 := pct(0.99); p99 > 500*time.Millisecond {
		t.Errorf("p99 %v > 500 ms", p99)
	}
}

// A hot swap publishes the new index in the metrics and in readiness, and
// cache keys carry the version: the new index never serves old answers.
func TestHotSwapIndexInfo(t *testing.T) {
	tcfg := telemetry.DefaultConfig()
	tcfg.LogOutput = io.Discard
	tel, shutdown, err := telemetry.Setup(t.Context(), tcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(t.Context())
	c, err := cache.New(*l1Config(), tel.Registry, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	e1, ix1 := testEngine(t, "rue un")
	e2, ix2 := testEngine(t, "rue deux")
	h := &Holder{}
	h.OnSwap(func(e *search.Engine) { tel.Search.SetIndex(IndexInfo(e)) })
	h.Swap(e1, ix1.Close)
	cfg := DefaultConfig()
	cfg.Telemetry, cfg.Cache = tel, c
	url, _, _ := start(t, cfg, h, quietLog())

	first := testutil.Get(t, url+"/search?q=rue")
	if !strings.Contains(string(first.Body), "rue un") || first.Header.Get("X-Cache") != "miss" {
		t.Fatalf("%s %s", first.Header.Get("X-Cache"), first.Body)
	}
	if testutil.Get(t, url+"/search?q=rue").Header.Get("X-Cache") != "l1" {
		t.Fatal("no l1 hit")
	}
	mf := scrape(t, url)
	if v := value(t, mf, "balise_index_info", "version", ix1.Meta().Version); v != 1 {
		t.Fatalf("index_info v1 = %v", v)
	}
	h.Swap(e2, ix2.Close)
	rep := testutil.Get(t, url+"/search?q=rue")
	if !strings.Contains(string(rep.Body), "rue deux") || rep.Header.Get("X-Cache") != "miss" {
		t.Errorf("after the swap: %s %s", rep.Header.Get("X-Cache"), rep.Body)
	}
	mf = scrape(t, url)
	if v := value(t, mf, "balise_index_info", "version", ix2.Meta().Version); v != 1 {
		t.Errorf("index_info v2 = %v", v)
	}
	if len(mf["balise_index_info"].Metric) != 1 {
		t.Errorf("index_info has %d series", len(mf["balise_index_info"].Metric))
	}
}

// The cost of the telemetry middlewares on an L1 hit (the cheapest
// answer, where it shows most), without the network:
//
//	go test -run '^$' -bench ObservabilityOverhead -benchtime 2s -count 3 ./internal/server/
func BenchmarkObservabilityOverhead(b *testing.B) {
	ix, err := index.Open(testutil.BanNC(b), index.OpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	scfg := search.DefaultConfig()
	scfg.CommonThreshold = 200
	e, err := search.New(ix, scfg, text.Config{})
	if err != nil {
		b.Fatal(err)
	}
	h := NewHolder(e, ix.Close)
	defer h.Close()
	for _, mode := range []string{"off", "metrics", "metrics+accesslog", "metrics+traces-10%", "metrics+traces-100%"} {
		b.Run(mode, func(b *testing.B) {
			tcfg := telemetry.DefaultConfig()
			tcfg.LogOutput = io.Discard
			tcfg.AccessLog = mode == "metrics+accesslog"
			switch mode {
			case "metrics+traces-10%":
				tcfg.SpanExporter, tcfg.TraceSampleRatio = tracetest.NewNoopExporter(), 0.1
			case "metrics+traces-100%":
				tcfg.SpanExporter, tcfg.TraceSampleRatio = tracetest.NewNoopExporter(), 1
			}
			tel, shutdown, err := telemetry.Setup(b.Context(), tcfg)
			if err != nil {
				b.Fatal(err)
			}
			defer shutdown(b.Context())
			c, err := cache.New(*l1Config(), tel.Registry, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			cfg := DefaultConfig()
			cfg.Compression = false
			cfg.Cache = c
			if mode != "off" {
				cfg.Telemetry = tel
			}
			s, err := New(cfg, h, slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			handler := s.Handler()
			req := httptest.NewRequest("GET", qFound, nil)
			handler.ServeHTTP(httptest.NewRecorder(), req)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					w := httptest.NewRecorder()
					handler.ServeHTTP(w, req)
					if w.Code != 200 || w.Header().Get("X-Cache") != "l1" {
						b.Fatalf("%d %q", w.Code, w.Header().Get("X-Cache"))
					}
				}
			})
		})
	}
}
