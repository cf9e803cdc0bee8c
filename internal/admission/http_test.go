package admission

import (
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The overload test's shape; the defaults keep it to a few seconds on a
// shared 2-core machine. Raise them by hand to explore, e.g.
// go test -run HTTPOverload -v -overload.rate 20000 -overload.for 30s.
var (
	overloadRate = flag.Int("overload.rate", 9000, "requests per second offered by TestHTTPOverload")
	overloadFor  = flag.Duration("overload.for", 2*time.Second, "how long TestHTTPOverload offers them")
	overloadCPU  = flag.Duration("overload.cpu", 200*time.Microsecond, "CPU burnt by each admitted request")
	overloadL    = flag.Int("overload.limit", 1, "interactive limit of TestHTTPOverload's server")
)

// durations collects latencies from many goroutines.
type durations struct {
	mu sync.Mutex
	d  []time.Duration
}

func (d *durations) add(v time.Duration) {
	d.mu.Lock()
	d.d = append(d.d, v)
	d.mu.Unlock()
}

// summary sorts the latencies and returns the quantile function and the
// fraction under bound.
func (d *durations) summary(bound time.Duration) (q func(float64) time.Duration, under float64, n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	slices.Sort(d.d)
	n = len(d.d)
	q = func(p float64) time.Duration {
		if n == 0 {
			return 0
		}
		return d.d[min(n-1, int(p*float64(n)))]
	}
	if n > 0 {
		i, _ := slices.BinarySearch(d.d, bound)
		under = float64(i) / float64(n)
	}
	return q, under, n
}

// overloadServer is balise's admission as the server middleware uses it,
// around a handler that burns a fixed amount of CPU.
type overloadServer struct {
	c                  *Controller
	work               int
	admitted, rejected durations // server side: from the handler's start to the answer
}

func (s *overloadServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	release, err := s.c.AcquireInteractive(r.Context())
	if err != nil {
		var rej *Rejection
		if errors.As(err, &rej) {
			w.Header().Set("Retry-After", strconv.Itoa(rej.RetryAfterSeconds()))
			http.Error(w, rej.Reason, http.StatusServiceUnavailable)
			s.rejected.add(time.Since(start))
		}
		return
	}
	defer release()
	admittedAt := time.Now()
	burn(s.work)
	s.c.ObserveOutcome(time.Since(admittedAt), false)
	_, _ = io.WriteString(w, "ok")
	s.admitted.add(time.Since(start))
}

// calibrate returns the burn rounds that take d of CPU (the fastest of a
// few runs: the others were slowed by other work on the machine).
func calibrate(d time.Duration) int {
	const rounds = 200_000
	best := time.Hour
	for range 5 {
		start := time.Now()
		burn(rounds)
		best = min(best, time.Since(start))
	}
	return max(1, int(float64(rounds)*float64(d)/float64(best)))
}

// clientResults are the latencies seen by the load generator, timed from
// each request's scheduled send (no coordinated omission).
type clientResults struct {
	ok, refused         durations
	failed, skipped     atomic.Int64
	retryAfterBelowOne  atomic.Int64
	maxGoroutinesInTest atomic.Int64
}

// offer sends rate requests per second for d, open loop: each request
// leaves at its scheduled time whatever happened to the previous ones,
// bounded to maxOutstanding at once (beyond, a request is skipped).
func offer(client *http.Client, url string, rate int, d time.Duration, res *clientResults) {
	const maxOutstanding = 1024
	sem := make(chan struct{}, maxOutstanding)
	var wg sync.WaitGroup
	start := time.Now()
	total := int(float64(rate) * d.Seconds())
	ticker := time.NewTicker(time.Millisecond)
	defer ticker.Stop()
	for sent := 0; sent < total; {
		due := min(total, int(time.Since(start).Seconds()*float64(rate)))
		for ; sent < due; sent++ {
			scheduled := start.Add(time.Duration(float64(sent) / float64(rate) * float64(time.Second)))
			select {
			case sem <- struct{}{}:
			default:
				res.skipped.Add(1)
				continue
			}
			wg.Go(func() {
				defer func() { <-sem }()
				get(client, url, scheduled, res)
			})
		}
		res.maxGoroutinesInTest.Store(max(res.maxGoroutinesInTest.Load(), int64(runtime.NumGoroutine())))
		<-ticker.C
	}
	wg.Wait()
}

func get(client *http.Client, url string, scheduled time.Time, res *clientResults) {
	resp, err := client.Get(url)
	if err != nil {
		res.failed.Add(1)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	took := time.Since(scheduled)
	switch resp.StatusCode {
	case http.StatusOK:
		res.ok.add(took)
	case http.StatusServiceUnavailable:
		res.refused.add(took)
		if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || n < 1 {
			res.retryAfterBelowOne.Add(1)
		}
	default:
		res.failed.Add(1)
	}
}

// Offered far more than it can serve, over real HTTP on loopback, the
// server keeps the latency of what it admits bounded and refuses the rest
// at once; the goroutines come back down and the next requests are served
// normally. The figures are logged; the bounds asserted are generous,
// since the load generator shares the machine's cores with the server.
func TestHTTPOverload(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	checkGoroutines(t)
	c, err := New(Config{InteractiveLimit: *overloadL, InteractiveMinLimit: *overloadL, NoRunQueueShedding: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := &overloadServer{c: c, work: calibrate(*overloadCPU)}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4096, DisableCompression: true}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	capacity := float64(*overloadL) / overloadCPU.Seconds()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	var res clientResults
	offer(client, ts.URL, *overloadRate, *overloadFor, &res)
	loadEnd := time.Now()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)

	sAdm, _, nAdm := srv.admitted.summary(0)
	sRej, rejFast, nRej := srv.rejected.summary(time.Millisecond)
	cOK, _, _ := res.ok.summary(0)
	cRej, cRejFast, _ := res.refused.summary(time.Millisecond)
	st := c.Stats().Interactive
	t.Logf("offered %d req/s for %v (≈ %.1f× the %.0f req/s a limit of %d serves at %v each), skipped %d, failed %d",
		*overloadRate, *overloadFor, float64(*overloadRate)/capacity, capacity, *overloadL, *overloadCPU, res.skipped.Load(), res.failed.Load())
	served := float64(nAdm) / overloadFor.Seconds()
	t.Logf("admitted %d (%.0f req/s: the offer is %.1f× what was served), refused %d: %v",
		nAdm, served, float64(*overloadRate)/served, nRej, st.Rejected)
	t.Logf("server side, admitted: p50 %v p99 %v max %v", sAdm(.5), sAdm(.99), sAdm(1))
	t.Logf("server side, refused: p50 %v p90 %v p99 %v; %.1f %% under 1 ms", sRej(.5), sRej(.9), sRej(.99), 100*rejFast)
	t.Logf("client side (from the scheduled send), admitted: p50 %v p99 %v; refused: p50 %v p99 %v, %.1f %% under 1 ms",
		cOK(.5), cOK(.99), cRej(.5), cRej(.99), 100*cRejFast)
	t.Logf("goroutines peak %d; heap in use %d → %d KiB; limit %d, service time %v",
		res.maxGoroutinesInTest.Load(), before.HeapInuse>>10, after.HeapInuse>>10, st.Limit, st.ServiceTime)

	if nAdm == 0 || nRej == 0 {
		t.Fatalf("admitted %d, refused %d: the offered load did not overload the server", nAdm, nRej)
	}
	if p := sAdm(.99); p > 250*time.Millisecond {
		t.Errorf("admitted p99 %v under overload", p)
	}
	if rejFast < .5 {
		t.Errorf("only %.0f %% of refusals took under 1 ms in the handler", 100*rejFast)
	}
	if n := res.retryAfterBelowOne.Load(); n > 0 {
		t.Errorf("%d refusals without a Retry-After of at least 1 s", n)
	}
	checkRecovery(t, c, client, ts.URL, loadEnd, served)
}

// checkRecovery offers, for half a second after the overload, a tenth of
// the rate served during it (what this machine could serve while shared
// with the load generator and whatever else runs on it): that load must be
// served as if nothing had happened.
func checkRecovery(t *testing.T, c *Controller, client *http.Client, url string, loadEnd time.Time, capacity float64) {
	var firstOK time.Duration
	waitUntil(t, "a request is admitted after the overload", func() bool {
		var res clientResults
		get(client, url, time.Now(), &res)
		firstOK = time.Since(loadEnd)
		return res.ok.d != nil
	})
	var res clientResults
	offer(client, url, int(capacity/10), 500*time.Millisecond, &res)
	q, _, ok := res.ok.summary(0)
	_, _, refused := res.refused.summary(0)
	t.Logf("after the overload: first request admitted %v after the load ended; then at %.0f req/s (a tenth of the rate served): %d admitted (p50 %v p99 %v), %d refused",
		firstOK, capacity/10, ok, q(.5), q(.99), refused)
	if refused > (ok+refused)/10 {
		t.Errorf("%d of %d requests refused at a tenth of the capacity after the overload", refused, ok+refused)
	}
	if s := c.Stats().Interactive; s.Queued != 0 || s.Overloaded {
		t.Errorf("after the overload: %+v", s)
	}
}

// Over real HTTP, a client that leaves
// while queued frees its place and costs no refusal.
func TestHTTPClientLeavesQueue(t *testing.T) {
	checkGoroutines(t)
	c, err := New(Config{Cores: 1, InteractiveLimit: 1, QueueTimeout: time.Minute, OverloadQueueTimeout: time.Minute, NoRunQueueShedding: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	block := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		release, err := c.AcquireInteractive(r.Context())
		if err != nil {
			return
		}
		defer release()
		if r.URL.Path == "/block" {
			<-block
		}
	}))
	defer ts.Close()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	blocked := make(chan error, 1)
	go func() {
		resp, err := client.Get(ts.URL + "/block")
		if err == nil {
			_ = resp.Body.Close()
		}
		blocked <- err
	}()
	waitUntil(t, "the slot is taken", func() bool { return c.Stats().Interactive.InFlight == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/queued", nil)
	left := make(chan error, 1)
	go func() {
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		left <- err
	}()
	waitUntil(t, "the request queues", func() bool { return c.Stats().Interactive.Queued == 1 })
	cancel()
	if err := <-left; !errors.Is(err, context.Canceled) {
		t.Fatalf("client: %v", err)
	}
	waitUntil(t, "the server sees the client leave", func() bool { return c.Stats().Interactive.Abandoned == 1 })
	close(block)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	if s := c.Stats().Interactive; s.Queued != 0 || s.InFlight != 0 || s.Rejected[ReasonQueueTimeout] != 0 {
		t.Fatalf("stats %+v", s)
	}
}
