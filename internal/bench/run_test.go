package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"balise/internal/search"
)

// The timing tests use loopback httptest servers only, and every run is
// bounded by a duration or a count of a few seconds at most.

const oneFeature = `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[2.3,48.8]},"properties":{"label":"x"}}]}`
const noFeature = `{"type": "FeatureCollection", "features": []}`

// sleepRequests is a list whose request i asks the server to sleep ms[i].
func sleepRequests(ms ...int) []Request {
	var rs []Request
	for i, m := range ms {
		rs = append(rs, Request{Kind: fmt.Sprintf("sleep%d", m), Path: fmt.Sprintf("/search?q=%d&sleep=%d", i, m), Endpoint: EndpointSearch})
	}
	return rs
}

func sleepServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ms, err := strconv.Atoi(r.URL.Query().Get("sleep")); err == nil {
			time.Sleep(time.Duration(ms) * time.Millisecond)
		}
		w.Write([]byte(oneFeature))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func httpTarget(t *testing.T, url string, o HTTPOptions) *HTTP {
	t.Helper()
	h, err := NewHTTP(url, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func within(t *testing.T, what string, got, lo, hi float64) {
	t.Helper()
	if got < lo || got > hi {
		t.Errorf("%s = %.3f; want in [%.3f, %.3f]", what, got, lo, hi)
	}
}

// TestHistogramKnownLatencies: 90 % of requests take 10 ms and 10 % take
// 60 ms, so p50 is 10 ms and p99 is 60 ms, plus the loopback's overhead.
func TestHistogramKnownLatencies(t *testing.T) {
	srv := sleepServer(t)
	var ms []int
	for i := range 100 {
		if i%10 == 9 {
			ms = append(ms, 60)
		} else {
			ms = append(ms, 10)
		}
	}
	res, err := Run(t.Context(), Config{Target: httpTarget(t, srv.URL, HTTPOptions{}), Requests: sleepRequests(ms...),
		Concurrency: 8, MaxRequests: 200})
	if err != nil {
		t.Fatal(err)
	}
	if res.Answers != 200 || res.ErrorCount != 0 || res.Sent != 200 {
		t.Fatalf("sent %d answers %d errors %v", res.Sent, res.Answers, res.Errors)
	}
	l := res.Latency
	within(t, "p50 ms", l.P50, 10, 16)
	within(t, "p80 ms", res.PercentileMs(80), 10, 16)
	within(t, "p99 ms", l.P99, 60, 75)
	within(t, "min ms", l.Min, 10, 14)
	within(t, "max ms", l.Max, 60, 90)
	within(t, "non-empty rate", res.NonEmptyRate, 1, 1)
	// Per kind: the two sleeps are told apart.
	for _, k := range res.Kinds {
		switch k.Kind {
		case "sleep10":
			within(t, "sleep10 p50", k.P50, 10, 16)
		case "sleep60":
			within(t, "sleep60 p50", k.P50, 60, 75)
		default:
			t.Errorf("unexpected kind %q", k.Kind)
		}
	}
}

// TestOpenLoopRate: 200 req/s for 2 s is 400 requests, spread evenly.
func TestOpenLoopRate(t *testing.T) {
	var mu sync.Mutex
	var arrivals []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
		w.Write([]byte(oneFeature))
	}))
	defer srv.Close()
	start := time.Now()
	res, err := Run(t.Context(), Config{Target: httpTarget(t, srv.URL, HTTPOptions{}), Requests: sleepRequests(0, 0, 0),
		Rate: 200, Duration: 2 * time.Second, Interval: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 400 || res.Answers != 400 || res.Unsent != 0 {
		t.Fatalf("sent %d answered %d unsent %d; want 400", res.Sent, res.Answers, res.Unsent)
	}
	within(t, "throughput", res.Throughput, 190, 210)
	within(t, "elapsed s", res.ElapsedS, 1.95, 2.2)
	mu.Lock()
	defer mu.Unlock()
	firstSecond := 0
	for _, a := range arrivals {
		if a.Sub(start) < time.Second {
			firstSecond++
		}
	}
	within(t, "arrivals in the first second", float64(firstSecond), 190, 210)
	within(t, "span of arrivals (s)", arrivals[len(arrivals)-1].Sub(arrivals[0]).Seconds(), 1.9, 2.1)
	if len(res.Timeline) < 6 {
		t.Fatalf("timeline has %d points", len(res.Timeline))
	}
	for _, tk := range res.Timeline[1 : len(res.Timeline)-1] {
		within(t, fmt.Sprintf("rps at %.2fs", tk.T), tk.RPS, 150, 250)
	}
}

// TestCoordinatedOmission: the server stalls once for 500 ms. Open loop
// with a single connection must charge the stall to every request due
// during it (about 50 at 100 req/s), not only to the one that hit it; a
// closed loop only sees one slow request, which is the bias the open loop
// exists to avoid.
func TestCoordinatedOmission(t *testing.T) {
	newStall := func() *httptest.Server {
		var n atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 50 {
				time.Sleep(500 * time.Millisecond)
			}
			w.Write([]byte(oneFeature))
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	srv := newStall()
	open, err := Run(t.Context(), Config{Target: httpTarget(t, srv.URL, HTTPOptions{}), Requests: sleepRequests(0),
		Rate: 100, Concurrency: 1, Duration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if open.Sent != 200 {
		t.Fatalf("open loop sent %d; want 200", open.Sent)
	}
	// Requests due during the stall waited 500, 490, … 10 ms: a quarter
	// of the run is above 0 and p90 is about 300 ms.
	within(t, "open-loop p90 ms", open.Latency.P90, 200, 420)
	within(t, "open-loop max ms", open.Latency.Max, 490, 650)
	if open.Late < 40 {
		t.Errorf("only %d requests sent late; the stall delayed about 50", open.Late)
	}

	srv = newStall()
	closed, err := Run(t.Context(), Config{Target: httpTarget(t, srv.URL, HTTPOptions{}), Requests: sleepRequests(0),
		Concurrency: 1, MaxRequests: 200})
	if err != nil {
		t.Fatal(err)
	}
	if closed.Latency.P90 > 20 || closed.Latency.Max < 490 {
		t.Errorf("closed loop p90 %.2f ms max %.2f ms; want a small p90 and one 500 ms outlier", closed.Latency.P90, closed.Latency.Max)
	}
}

func TestStopConditions(t *testing.T) {
	srv := sleepServer(t)
	tgt := httpTarget(t, srv.URL, HTTPOptions{})
	reqs := sleepRequests(1)

	t.Run("duration", func(t *testing.T) {
		for _, rate := range []float64{0, 500} {
			start := time.Now()
			res, err := Run(t.Context(), Config{Target: tgt, Requests: reqs, Rate: rate, Duration: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			// An open-loop run ends with its last scheduled request (up to
			// one interval before the deadline); the upper bound leaves room
			// for a loaded machine under the race detector.
			el := time.Since(start)
			if el < 250*time.Millisecond || el > 2*time.Second {
				t.Errorf("rate %v: a 300 ms run took %v", rate, el)
			}
			if res.Sent == 0 || res.Interrupted {
				t.Errorf("rate %v: sent %d interrupted %v", rate, res.Sent, res.Interrupted)
			}
		}
	})
	t.Run("count", func(t *testing.T) {
		for _, rate := range []float64{0, 1000} {
			res, err := Run(t.Context(), Config{Target: tgt, Requests: reqs, Rate: rate, MaxRequests: 37, Duration: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if res.Sent != 37 || res.Answers != 37 {
				t.Errorf("rate %v: sent %d answered %d; want 37", rate, res.Sent, res.Answers)
			}
		}
	})
	t.Run("cancel", func(t *testing.T) {
		for _, rate := range []float64{0, 100} {
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			start := time.Now()
			res, err := Run(ctx, Config{Target: tgt, Requests: reqs, Rate: rate, Duration: time.Minute})
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			if el := time.Since(start); el > 2*time.Second {
				t.Errorf("rate %v: cancelled after 200 ms, returned after %v", rate, el)
			}
			if !res.Interrupted || res.Sent == 0 {
				t.Errorf("rate %v: interrupted %v sent %d", rate, res.Interrupted, res.Sent)
			}
		}
	})
	t.Run("hung server", func(t *testing.T) {
		// Requests in flight at the end get the grace period, then are
		// cancelled: the run ends even if the server never answers.
		release := make(chan struct{})
		hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer hung.Close()
		defer close(release)
		start := time.Now()
		res, err := Run(t.Context(), Config{Target: httpTarget(t, hung.URL, HTTPOptions{Timeout: time.Minute}), Requests: reqs,
			Concurrency: 3, Duration: 200 * time.Millisecond, Grace: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el > 3*time.Second {
			t.Errorf("run against a hung server took %v", el)
		}
		if res.Aborted != 3 || res.Answers != 0 {
			t.Errorf("aborted %d answers %d; want 3 and 0", res.Aborted, res.Answers)
		}
	})
	t.Run("unbounded", func(t *testing.T) {
		if _, err := Run(t.Context(), Config{Target: tgt, Requests: reqs}); err == nil {
			t.Error("a run without duration or count was accepted")
		}
	})
}

func TestErrorKinds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("q") {
		case "404":
			http.NotFound(w, r)
		case "500":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "slow":
			time.Sleep(300 * time.Millisecond)
		case "empty":
			w.Header().Set("X-Cache", "miss")
			w.Write([]byte(noFeature))
		default:
			w.Header().Set("X-Cache", "l1")
			w.Write([]byte(oneFeature))
		}
	}))
	defer srv.Close()
	var reqs []Request
	for _, q := range []string{"ok", "404", "500", "slow", "empty"} {
		reqs = append(reqs, Request{Kind: q, Path: "/search?q=" + q, Endpoint: EndpointSearch})
	}
	res, err := Run(t.Context(), Config{Target: httpTarget(t, srv.URL, HTTPOptions{Timeout: 50 * time.Millisecond}), Requests: reqs,
		Concurrency: 5, MaxRequests: 50})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"status_4xx": 10, "status_5xx": 10, "timeout": 10}
	for k, n := range want {
		if res.Errors[k] != n {
			t.Errorf("errors[%s] = %d; want %d (all: %v)", k, res.Errors[k], n, res.Errors)
		}
	}
	if res.Answers != 20 || res.NonEmpty != 10 || res.NonEmptyRate != 0.5 {
		t.Errorf("answers %d non-empty %d (%.2f); want 20, 10, 0.5", res.Answers, res.NonEmpty, res.NonEmptyRate)
	}
	if res.CacheHits != 10 || res.CacheMisses != 10 || res.CacheHitRate != 0.5 {
		t.Errorf("cache hits %d misses %d rate %v; want 10, 10, 0.5", res.CacheHits, res.CacheMisses, res.CacheHitRate)
	}
	// Timeouts are in the latency (at about the timeout); 4xx/5xx too.
	if res.Latency.Max < 50 {
		t.Errorf("max latency %.1f ms: the timeouts are missing", res.Latency.Max)
	}

	// A closed port: connection errors, not timed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	res, err = Run(t.Context(), Config{Target: httpTarget(t, "http://"+addr, HTTPOptions{Timeout: time.Second}), Requests: reqs, MaxRequests: 5})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors["connection"] != 5 || len(res.Percentiles) != 0 {
		t.Errorf("closed port: errors %v, %d latency points", res.Errors, len(res.Percentiles))
	}
}

func TestRemoteRefused(t *testing.T) {
	for _, u := range []string{"http://example.com", "http://10.1.2.3:7878", "https://8.8.8.8/", "http://[2001:db8::1]:80", "http://127.0.0.1.example.com"} {
		_, err := NewHTTP(u, HTTPOptions{})
		if !errors.Is(err, ErrRemoteTarget) {
			t.Errorf("NewHTTP(%q): %v; want ErrRemoteTarget", u, err)
		}
		if _, err := NewHTTP(u, HTTPOptions{AllowRemote: true}); err != nil {
			t.Errorf("NewHTTP(%q) with AllowRemote: %v", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:7878", "http://127.9.9.9", "http://[::1]:7878", "http://localhost:7878/addok", "http://LOCALHOST"} {
		if _, err := NewHTTP(u, HTTPOptions{}); err != nil {
			t.Errorf("NewHTTP(%q): %v", u, err)
		}
	}
	for _, u := range []string{"ftp://127.0.0.1", "127.0.0.1:7878", "http://127.0.0.1/?q=x"} {
		if _, err := NewHTTP(u, HTTPOptions{}); err == nil {
			t.Errorf("NewHTTP(%q): no error", u)
		}
	}
	// localhost is allowed by name, and what it resolves to is checked
	// when dialling: here it is loopback, so the run works.
	srv := sleepServer(t)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	res, err := Run(t.Context(), Config{Target: httpTarget(t, "http://localhost:"+port, HTTPOptions{}), Requests: sleepRequests(0), MaxRequests: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Answers != 3 {
		t.Errorf("localhost: %d answers, errors %v", res.Answers, res.Errors)
	}
}

func TestInProcess(t *testing.T) {
	e := sampleEngine(t)
	tgt := NewInProcess(e)
	if err := tgt.Prepare([]Request{{Kind: "health", Path: "/health"}}); err == nil {
		t.Fatal("an in-process run accepted /health")
	}
	reqs, err := Generate(sampleCorpus(t), MixMixed, 500, 3)
	if err != nil {
		t.Fatal(err)
	}
	// A filter the index does not know is ignored, as over HTTP.
	reqs = append(reqs, SearchRequest("unknown_filter", search.Query{Q: "rue de rivoli paris", Filters: []search.Filter{{Name: "colour", Values: []string{"red"}}}}))
	res, err := Run(t.Context(), Config{Target: tgt, Requests: reqs, MaxRequests: 2000, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Answers != 2000 || res.ErrorCount != 0 {
		t.Fatalf("answers %d errors %v", res.Answers, res.Errors)
	}
	// Generated from the same data, nearly every request finds something.
	within(t, "non-empty rate", res.NonEmptyRate, 0.97, 1)
}

// TestAdmittedAndRejectedApart: answers taking 20 ms and refusals (429,
// 503) taking nothing get separate latency summaries, and the refusals
// are counted by kind.
func TestAdmittedAndRejectedApart(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 4 {
		case 1:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			time.Sleep(20 * time.Millisecond)
			w.Write([]byte(oneFeature))
		}
	}))
	t.Cleanup(srv.Close)
	res, err := Run(t.Context(), Config{Target: httpTarget(t, srv.URL, HTTPOptions{}), Requests: sleepRequests(0),
		Concurrency: 4, MaxRequests: 200})
	if err != nil {
		t.Fatal(err)
	}
	if res.Admitted == nil || res.Rejected == nil {
		t.Fatalf("no admitted/rejected split: %+v", res)
	}
	if res.RejectedCount != 100 || res.Errors["rate_limited"] != 50 || res.Errors["shed"] != 50 || res.Answers != 100 {
		t.Fatalf("rejected %d, errors %v, answers %d", res.RejectedCount, res.Errors, res.Answers)
	}
	within(t, "admitted p50 ms", res.Admitted.P50, 20, 30)
	within(t, "rejected p99 ms", res.Rejected.P99, 0, 10)
	var b strings.Builder
	if err := WriteText(&b, res); err != nil || !strings.Contains(b.String(), "rejected   100 (429 rate limited: 50, 503 shed: 50)") {
		t.Fatalf("text report:\n%s", b.String())
	}
}
