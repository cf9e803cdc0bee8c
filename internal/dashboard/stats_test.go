package dashboard_test

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"balise/internal/dashboard"
	"balise/internal/server"
	"balise/internal/testutil"
)

// eventually polls cond every 100 ms for at most d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestStatsFollowRealRequests(t *testing.T) {
	l := startServer(t, nil)
	before := l.stats(t)
	if before.Index == nil || before.Index.Attribution != "BAN" || before.Index.Documents == 0 ||
		before.Index.File != "ban-nc.balise" || before.Index.Version == "" {
		t.Fatalf("index: %+v", before.Index)
	}
	if before.Breaker != "off" || before.IntervalSeconds != 1 {
		t.Fatalf("breaker %q, interval %v", before.Breaker, before.IntervalSeconds)
	}
	l.search(t, 40)
	var st dashboard.Stats
	eventually(t, 5*time.Second, "the counters did not move", func() bool {
		st = l.stats(t)
		return st.Totals.Requests >= before.Totals.Requests+40
	})
	// The dashboard's own polls are not counted.
	if st.Totals.Requests != before.Totals.Requests+40 {
		t.Errorf("requests %v, want %v", st.Totals.Requests, before.Totals.Requests+40)
	}
	l1 := st.Totals.Cache["l1"]
	if l1.Hits < 30 || l1.Misses < 4 {
		t.Errorf("l1 %+v: want ≥ 36 hits and ≥ 4 misses", l1)
	}
	var rps float64
	for _, s := range st.Samples {
		rps += s.Rate
		if s.P50 == nil {
			continue
		}
		p50, p95, p99 := *s.P50, *s.P95, *s.P99
		if p50 <= 0 || p50 > p95 || p95 > p99 || p99 > 500 || math.IsNaN(p99) {
			t.Errorf("percentiles %v %v %v ms", p50, p95, p99)
		}
		if h := s.HitRate["l1"]; h != nil && (*h < 0 || *h > 1) {
			t.Errorf("l1 hit rate %v", *h)
		}
	}
	// A late tick makes an interval longer (the rate is per second of
	// it), so the sum of the rates is only bounded by the requests.
	if rps <= 0 || rps > 41 {
		t.Errorf("sum of the sampled rates %v, want in (0, 40]", rps)
	}
}

func TestRingIsBounded(t *testing.T) {
	l := startServer(t, nil)
	d := dashboard.New(dashboard.Options{Gatherer: l.tel.Registry, Size: 5})
	now := time.Now()
	for i := range 12 {
		if i == 6 {
			l.search(t, 3)
		}
		d.Sample(now.Add(time.Duration(i) * time.Second))
	}
	st := d.Stats()
	if len(st.Samples) != 5 {
		t.Fatalf("%d samples, want 5", len(st.Samples))
	}
	for i := 1; i < len(st.Samples); i++ {
		if st.Samples[i].Time-st.Samples[i-1].Time != 1000 {
			t.Fatalf("samples out of order: %+v", st.Samples)
		}
	}
	if st.Samples[4].Time != now.Add(11*time.Second).UnixMilli() {
		t.Errorf("last sample at %d", st.Samples[4].Time)
	}
}

func TestHandlerHeaders(t *testing.T) {
	l := startServer(t, nil)
	for path, ctype := range map[string]string{
		"/dashboard":           "text/html; charset=utf-8",
		"/dashboard/":          "text/html; charset=utf-8",
		"/dashboard/stats":     "application/json",
		"/dashboard/app.js":    "text/javascript; charset=utf-8",
		"/dashboard/style.css": "text/css; charset=utf-8",
	} {
		r := testutil.Get(t, l.url+path)
		if r.Status != 200 || r.Header.Get("Content-Type") != ctype {
			t.Errorf("%s: %d %q", path, r.Status, r.Header.Get("Content-Type"))
		}
		if r.Header.Get("Content-Security-Policy") != dashboard.CSP || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", path, r.Header)
		}
		if path == "/dashboard/stats" && r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("stats Cache-Control %q", r.Header.Get("Cache-Control"))
		}
	}
	if r := testutil.Get(t, l.url+"/dashboard/nothing"); r.Status != 404 {
		t.Errorf("unknown file: %d", r.Status)
	}
	resp, err := http.Post(l.url+"/dashboard/stats", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("POST: %d", resp.StatusCode)
	}
	// The route label is the pattern, and the CSP allows no inline code.
	if !strings.Contains(dashboard.CSP, "script-src 'self';") || strings.Contains(dashboard.CSP, "unsafe") {
		t.Errorf("CSP %q", dashboard.CSP)
	}
	m := testutil.Get(t, l.url+"/metrics", "Accept", "text/plain")
	if !bytes.Contains(m.Body, []byte(`route="/dashboard/stats"`)) {
		t.Errorf("no /dashboard/stats route in /metrics")
	}
}

// The JSON has nothing per client or per query: no query text, no
// address, no route but sums.
func TestStatsHoldNoQuery(t *testing.T) {
	l := startServer(t, nil)
	testutil.Get(t, l.url+"/search?q=secretquerytext")
	time.Sleep(1100 * time.Millisecond)
	r := testutil.Get(t, l.url+"/dashboard/stats")
	if bytes.Contains(r.Body, []byte("secretquerytext")) || bytes.Contains(r.Body, []byte("127.0.0.1")) {
		t.Errorf("stats leak a query or a client: %s", r.Body)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &top); err != nil {
		t.Fatal(err)
	}
	for k := range top {
		switch k {
		case "time", "interval_seconds", "totals", "in_flight", "breaker", "index", "samples":
		default:
			t.Errorf("unexpected field %q", k)
		}
	}
}

func TestDashboardOff(t *testing.T) {
	for name, mutate := range map[string]func(*server.Config){
		"--dashboard=false": func(c *server.Config) { c.Dashboard = false },
		"--metrics=false":   func(c *server.Config) { c.DisableMetrics = true },
	} {
		t.Run(name, func(t *testing.T) {
			l := startServer(t, mutate)
			for _, p := range []string{"/dashboard", "/dashboard/stats"} {
				if r := testutil.Get(t, l.url+p); r.Status != 404 {
					t.Errorf("%s: %d", p, r.Status)
				}
			}
		})
	}
}
