//go:build linux

package nginx

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestScaleOut runs the shipped nginx configuration in front of three
// balise replicas sharing one index file and one Redis, under continuous
// load (300 req/s from 60 client addresses), and requires zero failed
// requests through nginx while a replica is killed, while another drains
// on SIGTERM, while a new index is rolled across them and while Redis is
// killed. It also checks that the replicas grant a client one rate-limit
// budget in all, and that CSV uploads stream through nginx both ways.
func TestScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nginx, redis-server and three balise processes (~40 s)")
	}
	begin := time.Now()
	c := newCluster(t)
	root := repoRoot(t)
	sample := filepath.Join(root, "internal", "sample", "paris.ndjson.gz")
	// The next index is built now, off the phases' clocks.
	changedSample(t, sample, filepath.Join(c.dir, "next.ndjson"))
	next := filepath.Join(c.dir, "next.balise")
	nextVersion := importIndex(t, c.bin, next, filepath.Join(c.dir, "next.ndjson"))
	t.Logf("cluster up in %v (nginx :%d, redis :%d, replicas %v)", time.Since(begin).Round(time.Millisecond),
		c.port, c.redis.Port(), c.replicaAddrs())

	l := startLoad(c.url(), samplePaths(t, sample, 400), "steady")
	t.Cleanup(func() { l.stop() }) // a failed phase must not leave the clients running
	time.Sleep(time.Second)
	csvThroughNginx(t, c)
	time.Sleep(time.Second)

	l.phase("shared-rate-limit")
	sharedRateLimit(t, c)

	l.phase("sigkill-replica")
	killPhase(t, c, c.replicas[0])

	l.phase("sigterm-replica")
	drainPhase(t, c, c.replicas[1])

	l.phase("rolling-reload")
	reloadPhase(t, c, next, nextVersion)

	l.phase("redis-killed")
	redisPhase(t, c)

	l.phase("steady-after")
	time.Sleep(time.Second)
	phases := l.stop()
	report(t, phases, c.accessLog())
	t.Logf("whole test: %v", time.Since(begin).Round(time.Millisecond))
}

func (c *cluster) replicaAddrs() []string {
	var out []string
	for _, r := range c.replicas {
		out = append(out, fmt.Sprintf("%s (admin :%d)", r.addr(), r.admin))
	}
	return out
}

// waitFor polls cond every 50 ms for at most d.
func waitFor(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// csvThroughNginx checks that a CSV upload streams through nginx: answers
// come back while the upload is still open.
func csvThroughNginx(t *testing.T, c *cluster) {
	t.Helper()
	const slow = 10
	res := streamCSV(clientFrom("127.0.0.200", 30*time.Second), c.url(), slow, 50*time.Millisecond, nil)
	if want := leadRows + slow + 1; res.err != nil || res.status != 200 || res.lines != want {
		t.Fatalf("CSV through nginx: status %d, %d lines (want %d), err %v", res.status, res.lines, want, res.err)
	}
	t.Logf("CSV through nginx: %d answer lines %v after the upload began, while it was still open; %d rows in %v",
		earlyAnswers, res.early.Round(time.Millisecond), leadRows+slow, res.took.Round(time.Millisecond))
}

// sharedRateLimit sends, from one client address, four times the rate
// limit through nginx for 3 s, every request with a forged
// X-Forwarded-For that nginx must overwrite. The three replicas decide in
// Redis: the client gets about burst + rate × duration answers in all, not
// three times that. Every 429 must carry Retry-After.
func sharedRateLimit(t *testing.T, c *cluster) {
	t.Helper()
	const src, workers, perWorker, window = "127.0.0.250", 4, rateLimit, 3 * time.Second
	hc := clientFrom(src, 5*time.Second)
	var ok, limited, noRetryAfter atomic.Int64
	var mu sync.Mutex
	var first, last time.Time
	var others []string
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			time.Sleep(time.Duration(w) * time.Second / workers / perWorker)
			tick := time.NewTicker(time.Second / perWorker)
			defer tick.Stop()
			for i := 0; time.Since(start) < window; i++ {
				req, _ := http.NewRequest("GET", c.url()+"/search?q=rue+de+rivoli+paris", nil)
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", (w*perWorker*4+i)%250+1))
				sent := time.Now()
				mu.Lock()
				if first.IsZero() || sent.Before(first) {
					first = sent
				}
				if sent.After(last) {
					last = sent
				}
				mu.Unlock()
				resp, err := hc.Do(req)
				if err != nil {
					mu.Lock()
					others = append(others, err.Error())
					mu.Unlock()
				} else {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					switch resp.StatusCode {
					case http.StatusOK:
						ok.Add(1)
					case http.StatusTooManyRequests:
						limited.Add(1)
						if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
							noRetryAfter.Add(1)
						}
					default:
						mu.Lock()
						others = append(others, strconv.Itoa(resp.StatusCode))
						mu.Unlock()
					}
				}
				<-tick.C
			}
		})
	}
	wg.Wait()
	elapsed := last.Sub(first)
	want := rateBurst + rateLimit*elapsed.Seconds()
	perReplica := grantsByReplica(c.accessLog(), src)
	t.Logf("shared rate limit (%d/s, burst %d, %d replicas): one client sent %d requests in %v: %d × 200 (expected %.0f ±15 %%; a per-replica limit would allow ~%.0f), %d × 429; 200s by replica %v",
		rateLimit, rateBurst, replicaCount, ok.Load()+limited.Load()+int64(len(others)), elapsed.Round(time.Millisecond),
		ok.Load(), want, replicaCount*want, limited.Load(), perReplica)
	if got := float64(ok.Load()); math.Abs(got-want) > 0.15*want {
		t.Errorf("shared rate limit: %.0f answers granted to one client, want %.0f ±15 %%", got, want)
	}
	if limited.Load() == 0 || noRetryAfter.Load() > 0 {
		t.Errorf("shared rate limit: %d × 429, %d of them without a positive Retry-After", limited.Load(), noRetryAfter.Load())
	}
	if len(others) > 0 {
		t.Errorf("shared rate limit: %d answers neither 200 nor 429: %v", len(others), others[:min(len(others), 5)])
	}
	if len(perReplica) < 2 {
		t.Errorf("shared rate limit: the granted requests all came from %v: nginx did not spread them", perReplica)
	}
}

// grantsByReplica counts the 200s nginx's log shows for one client, by the
// replica that answered.
func grantsByReplica(log []accessLine, src string) map[string]int {
	out := map[string]int{}
	for _, l := range log {
		if l.RemoteAddr == src && l.Status == http.StatusOK {
			out[l.UpstreamAddr]++
		}
	}
	return out
}

// killPhase SIGKILLs a replica under load (nginx retries what it had in
// flight and what it sends before max_fails takes it out), then restarts
// it and waits until it is ready.
func killPhase(t *testing.T, c *cluster, r *replica) {
	t.Helper()
	time.Sleep(500 * time.Millisecond)
	r.p.kill()
	time.Sleep(2 * time.Second)
	start := time.Now()
	c.start(r)
	t.Logf("SIGKILL replica %d: restarted and ready in %v", r.n, time.Since(start).Round(time.Millisecond))
	time.Sleep(time.Second)
}

// drainPhase sends SIGTERM to a replica under load and checks its
// graceful shutdown: readiness 503 at once while it still serves during
// --shutdown-delay, an in-flight CSV upload that finishes, its idle
// keep-alive connections closed, and an exit within a bound. Then it is
// restarted.
func drainPhase(t *testing.T, c *cluster, r *replica) {
	t.Helper()
	idle, idleReader := idleConn(t, r)
	defer idle.Close()
	csvDone := make(chan csvResult, 1)
	answered := make(chan struct{})
	const rows, every = 30, 100 * time.Millisecond // 3 s of upload, past the delay
	go func() {
		csvDone <- streamCSV(&http.Client{Timeout: 30 * time.Second}, r.publicURL(), rows, every, answered)
	}()
	select {
	case <-answered:
	case res := <-csvDone:
		t.Fatalf("sigterm: the CSV upload to replica %d failed before SIGTERM: status %d, %v", r.n, res.status, res.err)
	}
	t0 := time.Now()
	r.p.signal(syscall.SIGTERM)
	var rep readyReport
	if !waitFor(time.Second, func() bool {
		var err error
		rep, err = readiness(r)
		return err == nil && rep.code == http.StatusServiceUnavailable && slices.Contains(rep.Failing, "shutdown")
	}) {
		t.Fatalf("sigterm: replica %d's admin readiness did not turn 503 [shutdown]: %d %+v", r.n, rep.code, rep)
	}
	notReady := time.Since(t0)
	resp, err := http.Get(r.publicURL() + "/search?q=rue+du+bac+paris")
	if err != nil {
		t.Fatalf("sigterm: replica %d refused a search during its shutdown delay: %v", r.n, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if served := time.Since(t0); resp.StatusCode != 200 || served > shutdownDelay {
		t.Errorf("sigterm: a search during the delay: status %d at +%v (want 200 before +%v)", resp.StatusCode, served, shutdownDelay)
	}
	idle.SetReadDeadline(t0.Add(shutdownDelay + 5*time.Second))
	_, err = idleReader.ReadByte()
	idleClosed := time.Since(t0)
	if !isClosed(err) {
		t.Errorf("sigterm: replica %d did not close an idle keep-alive connection within delay + 5 s: %v", r.n, err)
	}
	res := <-csvDone
	if want := leadRows + rows + 1; res.err != nil || res.status != 200 || res.lines != want {
		t.Errorf("sigterm: the CSV upload in flight during the shutdown: status %d, %d lines (want %d), %v", res.status, res.lines, want, res.err)
	}
	csvEnd := time.Since(t0)
	select {
	case <-r.p.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("sigterm: replica %d still running 10 s after SIGTERM:\n%s", r.n, tail(r.log, 2000))
	}
	exited := time.Since(t0)
	if r.p.err != nil || exited > csvEnd+2*time.Second {
		t.Errorf("sigterm: replica %d exited at +%v (%v); want exit status 0 within 2 s of its last request (+%v)", r.n, exited, r.p.err, csvEnd)
	}
	t.Logf("SIGTERM replica %d: not ready at +%v, served during the delay, idle keep-alive connection closed at +%v, in-flight CSV (%d rows) done at +%v, exited at +%v",
		r.n, notReady.Round(time.Millisecond), idleClosed.Round(time.Millisecond), leadRows+rows, csvEnd.Round(time.Millisecond), exited.Round(time.Millisecond))
	c.start(r)
}

// idleConn opens a keep-alive connection straight to a replica and leaves
// it idle after one request.
func idleConn(t *testing.T, r *replica) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", r.addr())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /health HTTP/1.1\r\nHost: %s\r\n\r\n", r.addr())
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("keep-alive request to replica %d: %v", r.n, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Close {
		t.Fatalf("keep-alive request to replica %d: status %d, close %v", r.n, resp.StatusCode, resp.Close)
	}
	return conn, br
}

// reloadPhase publishes the next index by renaming it over the served path
// and reloads the replicas one after the other, two by POST /admin/reload
// and one by SIGHUP, under load; each must then report the new version.
func reloadPhase(t *testing.T, c *cluster, next, version string) {
	t.Helper()
	if rep, err := readiness(c.replicas[0]); err != nil || rep.Checks.Index.Version == version {
		t.Fatalf("reload: the next index has the served version %q (%v)", version, err)
	}
	if err := os.Rename(next, c.index); err != nil {
		t.Fatal(err)
	}
	for _, r := range c.replicas {
		how := "POST /admin/reload"
		if r.n == 1 {
			how = "SIGHUP"
			r.p.signal(syscall.SIGHUP)
		} else {
			adminReload(t, r, version)
		}
		var rep readyReport
		if !waitFor(10*time.Second, func() bool { rep, _ = readiness(r); return rep.Checks.Index.Version == version }) {
			t.Fatalf("reload: replica %d reports index %q 10 s after %s, want %q:\n%s", r.n, rep.Checks.Index.Version, how, version, tail(r.log, 1500))
		}
		time.Sleep(500 * time.Millisecond)
	}
	var got []string
	for _, r := range c.replicas {
		resp, err := http.Get(r.publicURL() + "/health")
		if err != nil {
			t.Fatal(err)
		}
		var h struct {
			Index struct {
				Version string `json:"version"`
			} `json:"index"`
		}
		err = json.NewDecoder(resp.Body).Decode(&h)
		resp.Body.Close()
		if err != nil || h.Index.Version != version {
			t.Errorf("reload: replica %d's /health shows index %q (%v), want %q", r.n, h.Index.Version, err, version)
		}
		got = append(got, h.Index.Version)
	}
	t.Logf("rolling reload: every replica serves index %s (/health: %v)", version, got)
}

func adminReload(t *testing.T, r *replica, version string) {
	t.Helper()
	resp, err := adminClient.Post(r.adminURL()+"/admin/reload", "", nil)
	if err != nil {
		t.Fatalf("reload: POST /admin/reload on replica %d: %v", r.n, err)
	}
	defer resp.Body.Close()
	var rep struct {
		Result  string `json:"result"`
		Current struct {
			Version string `json:"version"`
		} `json:"current"`
	}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &rep); err != nil || resp.StatusCode != 200 || rep.Result != "swapped" || rep.Current.Version != version {
		t.Fatalf("reload: POST /admin/reload on replica %d: %d %.300s (want 200, swapped to %s)", r.n, resp.StatusCode, b, version)
	}
}

// redisPhase kills redis-server under load: answers go on (the cache's
// breaker, the rate limits' fallback share), readiness stays 200 with a
// Redis warning; then Redis is restarted and every replica sees it again.
func redisPhase(t *testing.T, c *cluster) {
	t.Helper()
	c.redis.Kill()
	time.Sleep(1500 * time.Millisecond)
	for _, r := range c.replicas {
		rep, err := readiness(r)
		if err != nil || rep.code != 200 || !slices.Contains(rep.Warnings, "redis") || rep.Checks.Redis.OK {
			t.Errorf("redis killed: replica %d readiness %d %+v (%v), want 200 with warnings [redis]", r.n, rep.code, rep, err)
		}
	}
	time.Sleep(time.Second)
	c.redis.Start()
	start := time.Now()
	for _, r := range c.replicas {
		var rep readyReport
		if !waitFor(15*time.Second, func() bool {
			rep, _ = readiness(r)
			return rep.Checks.Redis.OK && rep.Checks.Redis.Breaker == "closed"
		}) {
			t.Errorf("redis restarted: replica %d still reports %+v after 15 s", r.n, rep.Checks.Redis)
		}
	}
	t.Logf("redis killed for 2.5 s, then restarted: every replica's breaker closed again within %v", time.Since(start).Round(time.Millisecond))
	time.Sleep(500 * time.Millisecond)
}
