package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"balise/internal/admission"
	"balise/internal/cache"
	"balise/internal/httpapi"
	"balise/internal/ratelimit"
	"balise/internal/testutil"
)

// loopbackProxy trusts 127.0.0.1 as a load balancer, so that tests can
// play several clients from one address with X-Forwarded-For.
var loopbackProxy = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

// tally counts answers by status; anything else (a transport error) is a
// failure.
type tally struct {
	mu       sync.Mutex
	byStatus map[int]int
	failures []string
	bad      []string // answers with a wrong shape
}

func newTally() *tally { return &tally{byStatus: map[int]int{}} }

func (t *tally) count(status int) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byStatus[status]
}

// send makes one request as the client named by xff and checks the shape
// of a refusal: Retry-After, the flavour's JSON error body, and for a 429
// the RateLimit headers.
func (t *tally) send(c *http.Client, method, url, xff, contentType string, body []byte) {
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.mu.Lock()
		t.failures = append(t.failures, err.Error())
		t.mu.Unlock()
		return
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		t.failures = append(t.failures, err.Error())
		return
	}
	t.byStatus[resp.StatusCode]++
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		h := resp.Header
		switch {
		case h.Get("Retry-After") == "":
			t.bad = append(t.bad, fmt.Sprintf("%d without Retry-After", resp.StatusCode))
		case !json.Valid(b) || !bytes.Contains(b, []byte(`"title"`)) && !bytes.Contains(b, []byte(`"code"`)):
			t.bad = append(t.bad, fmt.Sprintf("%d body %q", resp.StatusCode, b))
		case resp.StatusCode == http.StatusTooManyRequests && (h.Get("RateLimit-Policy") == "" || h.Get("RateLimit") == ""):
			t.bad = append(t.bad, "429 without RateLimit headers")
		}
	}
}

func (t *tally) check(tb testing.TB) {
	tb.Helper()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.failures) > 0 || len(t.bad) > 0 {
		tb.Fatalf("failed requests: %v; malformed refusals: %v", t.failures, t.bad)
	}
}

// flood sends requests as fast as `workers` goroutines can for d.
func flood(t *tally, workers int, d time.Duration, send func(c *http.Client, i int)) {
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 5 * time.Second}
			for i := w; time.Now().Before(end); i += workers {
				send(c, i)
			}
		}()
	}
	wg.Wait()
}

// A flooder gets its budget (burst + rate × time, ±10 %) and 429s with
// Retry-After and the RateLimit headers beyond; a polite client on
// another address is untouched meanwhile.
func TestRateLimitFlooderAndPoliteClient(t *testing.T) {
	const rate, burst = 40, 20
	r := newRig(t, rigOptions{rateLimit: &ratelimit.Config{
		Budgets:        ratelimit.Budgets{Interactive: ratelimit.Rate{PerSecond: rate, Burst: burst}},
		TrustedProxies: loopbackProxy,
	}})
	flooder, polite := newTally(), newTally()
	stop := make(chan struct{})
	var politeDone sync.WaitGroup
	politeDone.Add(1)
	go func() {
		defer politeDone.Done()
		c := &http.Client{Timeout: 5 * time.Second}
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				polite.send(c, "GET", r.url+"/search?q=rue+de+la+republique", "198.51.100.9", "", nil)
			}
		}
	}()
	start := time.Now()
	flood(flooder, 4, 2*time.Second, func(c *http.Client, i int) {
		flooder.send(c, "GET", fmt.Sprintf("%s/search?q=nouméa+%d", r.url, i), "203.0.113.7", "", nil)
	})
	elapsed := time.Since(start).Seconds()
	close(stop)
	politeDone.Wait()
	flooder.check(t)
	polite.check(t)
	allowed, limited := flooder.count(200), flooder.count(429)
	want := burst + rate*elapsed
	if float64(allowed) < 0.9*want || float64(allowed) > 1.1*want+2 {
		t.Errorf("flooder got %d answers in %.2fs, want %.0f ±10%% (%d refused)", allowed, elapsed, want, limited)
	}
	if limited == 0 {
		t.Error("the flooder was never refused")
	}
	if p := polite.count(200); p < 10 || polite.count(429) != 0 {
		t.Errorf("polite client: %d answers, %d refused", p, polite.count(429))
	}
	t.Logf("flooder: %d allowed (want %.0f), %d refused in %.2fs; polite: %d allowed", allowed, want, limited, elapsed, polite.count(200))
}

// The RateLimit headers follow the IETF draft and an unknown API key is
// a 401.
func TestRateLimitHeadersAndKeys(t *testing.T) {
	keys, err := ratelimit.ParseKeys(strings.NewReader("partner 0123456789abcdef0123 rate=5 burst=2\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, rigOptions{rateLimit: &ratelimit.Config{
		Budgets:   ratelimit.Budgets{Interactive: ratelimit.Rate{PerSecond: 50, Burst: 50}},
		KeyHeader: "X-Api-Key", Keys: keys,
	}})
	a := testutil.Get(t, r.url+"/search?q=rue", "X-Api-Key", "0123456789abcdef0123")
	if a.Status != 200 || a.Header.Get("RateLimit-Policy") != `"interactive";q=2;w=1` || !strings.HasPrefix(a.Header.Get("RateLimit"), `"interactive";r=1;t=`) {
		t.Fatalf("keyed: %d %q %q", a.Status, a.Header.Get("RateLimit-Policy"), a.Header.Get("RateLimit"))
	}
	testutil.Get(t, r.url+"/search?q=rue", "X-Api-Key", "0123456789abcdef0123")
	if a := testutil.Get(t, r.url+"/search?q=rue", "X-Api-Key", "0123456789abcdef0123"); a.Status != 429 || a.Header.Get("Retry-After") != "1" {
		t.Fatalf("keyed over its burst: %d %q", a.Status, a.Header.Get("Retry-After"))
	}
	if a := testutil.Get(t, r.url+"/search?q=rue"); a.Status != 200 || a.Header.Get("RateLimit-Policy") != `"interactive";q=50;w=1` {
		t.Fatalf("anonymous: %d %q", a.Status, a.Header.Get("RateLimit-Policy"))
	}
	if a := testutil.Get(t, r.url+"/search?q=rue", "X-Api-Key", "not-a-known-key-at-all"); a.Status != 401 {
		t.Fatalf("unknown key: %d %s", a.Status, a.Body)
	}
	if a := testutil.Get(t, r.url+"/health"); a.Status != 200 || a.Header.Get("RateLimit") != "" {
		t.Fatalf("/health is not rate limited: %d %q", a.Status, a.Header.Get("RateLimit"))
	}
}

// POST /batch costs one unit of the batch budget per item: over the
// budget it is a 429, larger than the whole burst a 413 saying so.
func TestBatchChargedPerItem(t *testing.T) {
	r := newRig(t, rigOptions{flavour: httpapi.BAN, rateLimit: &ratelimit.Config{
		Budgets: ratelimit.Budgets{Batch: ratelimit.Rate{PerSecond: 1, Burst: 10}},
	}})
	body := func(n int) []byte {
		items := make([]string, n)
		for i := range items {
			items[i] = `{"operation":"geocode","params":{"q":"rue de la république"}}`
		}
		return []byte(`{"requests":[` + strings.Join(items, ",") + `]}`)
	}
	tl := newTally()
	c := &http.Client{Timeout: 5 * time.Second}
	tl.send(c, "POST", r.url+"/batch", "", "application/json", body(8))
	tl.send(c, "POST", r.url+"/batch", "", "application/json", body(8))
	tl.send(c, "POST", r.url+"/batch", "", "application/json", body(11))
	tl.check(t)
	if tl.count(200) != 1 || tl.count(429) != 1 || tl.count(413) != 1 {
		t.Fatalf("statuses %v, want one each of 200, 429, 413", tl.byStatus)
	}
	// Interactive requests have a budget of their own.
	if a := testutil.Get(t, r.url+"/search?q=rue"); a.Status != 200 {
		t.Fatalf("interactive after batch: %d", a.Status)
	}
}

// A CSV file is paced to the client's batch budget rather than refused
// halfway: 250 rows at 200 rows/s with a burst of 50 take at least 1 s,
// and every row is geocoded.
func TestCSVPacedToBatchBudget(t *testing.T) {
	r := newRig(t, rigOptions{rateLimit: &ratelimit.Config{
		Budgets: ratelimit.Budgets{Batch: ratelimit.Rate{PerSecond: 200, Burst: 50}},
	}, admission: &admission.Config{}})
	var csv strings.Builder
	csv.WriteString("adresse\n")
	for i := range 250 {
		fmt.Fprintf(&csv, "%d rue de la république nouméa\n", i%40+1)
	}
	start := time.Now()
	resp, err := http.Post(r.url+"/search/csv?columns=adresse", "text/csv", strings.NewReader(csv.String()))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, %v", resp.StatusCode, err)
	}
	if rows := bytes.Count(out, []byte("\n")); rows != 251 {
		t.Fatalf("%d output lines, want 251", rows)
	}
	if took < 900*time.Millisecond {
		t.Fatalf("250 rows took %v: not paced to 200 rows/s", took)
	}
	t.Logf("250 rows in %v", took)
}

// Saturated, the server answers 503 with Retry-After at once instead of
// queueing: every request is answered (200 or 503), refusals are counted.
func TestSheddingRefusesCleanly(t *testing.T) {
	r := newRig(t, rigOptions{admission: &admission.Config{
		InteractiveLimit: 1, InteractiveMinLimit: 1, InteractiveQueue: 1, QueueTimeout: time.Millisecond,
	}})
	tl := newTally()
	flood(tl, 32, time.Second, func(c *http.Client, i int) {
		tl.send(c, "GET", fmt.Sprintf("%s/search?q=%d+rue+nouméa&autocomplete=1", r.url, i), "", "", nil)
	})
	tl.check(t)
	if tl.count(503) == 0 || tl.count(200) == 0 {
		t.Fatalf("statuses %v: want both answers and refusals", tl.byStatus)
	}
	for s := range tl.byStatus {
		if s != 200 && s != 503 {
			t.Fatalf("statuses %v", tl.byStatus)
		}
	}
	mf := scrape(t, r.url)["balise_admission_rejections_total"]
	if mf == nil {
		t.Fatal("balise_admission_rejections_total not exported")
	}
	var refused float64
	for _, m := range mf.Metric {
		refused += m.GetCounter().GetValue()
	}
	if int(refused) != tl.count(503) {
		t.Errorf("metric counts %v refusals, clients saw %d", refused, tl.count(503))
	}
	t.Logf("statuses %v", tl.byStatus)
}

// Three replicas sharing one Redis give a client one budget in all (±15 %),
// not one each; Redis killed meanwhile fails no request (each replica
// falls back to its own budget).
func TestSharedBudgetAcrossReplicas(t *testing.T) {
	redis := testutil.StartRedis(t)
	const rate, burst = 30, 30
	var urls []string
	for range 3 {
		cc := cache.DefaultConfig()
		cc.MaxBytes = 0
		cc.RedisURL = redis.URL()
		cc.RedisTimeout = 50 * time.Millisecond
		r := newRig(t, rigOptions{cache: &cc, rateLimit: &ratelimit.Config{
			Budgets:        ratelimit.Budgets{Interactive: ratelimit.Rate{PerSecond: rate, Burst: burst}},
			TrustedProxies: loopbackProxy, FallbackReplicas: 3,
		}})
		urls = append(urls, r.url)
	}
	tl := newTally()
	var n atomic.Int64
	start := time.Now()
	flood(tl, 6, 2*time.Second, func(c *http.Client, i int) {
		u := urls[n.Add(1)%3]
		tl.send(c, "GET", fmt.Sprintf("%s/reverse?lat=-22.27&lon=166.44&i=%d", u, i), "203.0.113.7", "", nil)
	})
	elapsed := time.Since(start).Seconds()
	tl.check(t)
	want := burst + rate*elapsed
	if got := float64(tl.count(200)); got < 0.85*want || got > 1.15*want {
		t.Errorf("three replicas granted %v in %.2fs, want one budget: %.0f ±15%%", got, elapsed, want)
	}
	t.Logf("shared: %d allowed (want %.0f), %d refused", tl.count(200), want, tl.count(429))

	redis.Kill()
	down := newTally()
	flood(down, 6, time.Second, func(c *http.Client, i int) {
		u := urls[n.Add(1)%3]
		down.send(c, "GET", fmt.Sprintf("%s/reverse?lat=-22.27&lon=166.44&i=%d", u, i), "203.0.113.7", "", nil)
	})
	down.check(t)
	for s := range down.byStatus {
		if s != 200 && s != 429 {
			t.Fatalf("with Redis down: statuses %v", down.byStatus)
		}
	}
	if down.count(200) == 0 {
		t.Fatalf("with Redis down nothing was allowed: %v", down.byStatus)
	}
	t.Logf("Redis down: %v", down.byStatus)
}

// Query text is personal data: with --log-queries off it appears in no
// log line, whatever happens to the request (answered, too long, refused,
// a CSV with a broken row, a /batch item).
func TestQueryTextNeverLogged(t *testing.T) {
	r := newRig(t, rigOptions{rateLimit: &ratelimit.Config{
		Budgets: ratelimit.Budgets{Interactive: ratelimit.Rate{PerSecond: 1, Burst: 2}},
	}, admission: &admission.Config{NoRunQueueShedding: true}})
	const secret = "impasseconfidentielle"
	c := &http.Client{Timeout: 5 * time.Second}
	tl := newTally()
	for _, q := range []string{secret, secret + strings.Repeat("x", 300), strings.Repeat(secret+" ", 2000)} {
		tl.send(c, "GET", r.url+"/search?q="+q, "", "", nil)
	}
	tl.send(c, "GET", r.url+"/get/"+secret, "", "", nil)
	tl.send(c, "POST", r.url+"/search/csv", "", "text/csv", []byte("adresse\n"+secret+"\n\""+secret+"\n"))
	tl.send(c, "POST", r.url+"/batch", "", "application/json", []byte(`{"requests":[{"operation":"geocode","params":{"q":"`+secret+`"}}]}`))
	tl.check(t)
	if tl.count(429) == 0 || tl.count(413) == 0 {
		t.Fatalf("statuses %v: want a refusal and a too-long query among them", tl.byStatus)
	}
	if logs := r.logs.String(); strings.Contains(logs, secret) {
		t.Fatalf("query text logged:\n%s", logs)
	}
}
