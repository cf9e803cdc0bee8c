//go:build linux

package nginx

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The load: loadClients clients, each from its own loopback address
// (Linux routes all of 127/8 to lo), each at loadRate requests per second:
// 300 req/s in all. Each client stays below the fallback share of its rate
// limit (a third of it per replica while Redis is down) even if all its
// requests land on one replica, which they do: the clients tick in a fixed
// order and nginx's turn-taking then sends a given client to the same
// replica every time.
const (
	loadClients = 60
	loadRate    = 5
)

// clientFrom is an HTTP client whose connections leave from the loopback
// address src: nginx's $remote_addr, hence the replicas' client, is src.
func clientFrom(src string, timeout time.Duration) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext:         d.DialContext,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}}
}

// samplePaths are GET /search and /reverse requests built from the first
// documents of the bundled sample: real streets, real points.
func samplePaths(t *testing.T, sample string, n int) []string {
	t.Helper()
	f, err := os.Open(sample)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var paths []string
	for sc.Scan() && len(paths) < n {
		var d struct {
			Name     string          `json:"name"`
			Postcode string          `json:"postcode"`
			Lat      float64         `json:"lat"`
			Lon      float64         `json:"lon"`
			Numbers  json.RawMessage `json:"housenumbers"`
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil || d.Name == "" {
			continue
		}
		q := d.Name + " " + d.Postcode + " paris"
		if len(d.Numbers) > 2 && len(paths)%4 == 0 {
			q = "3 " + q
		}
		paths = append(paths, "/search?limit=3&q="+url.QueryEscape(q),
			fmt.Sprintf("/reverse?lat=%.6f&lon=%.6f", d.Lat, d.Lon))
	}
	if len(paths) < n {
		t.Fatalf("only %d requests from the sample", len(paths))
	}
	return paths
}

// phase counts the requests sent while it was current (by their start).
type phase struct {
	name       string
	start, end time.Time
	ok, failed atomic.Int64
	mu         sync.Mutex
	failures   []string // the first few, for the failure message
}

func (p *phase) fail(format string, args ...any) {
	p.failed.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.failures) < 8 {
		p.failures = append(p.failures, fmt.Sprintf(format, args...))
	}
}

// load sends the continuous traffic through nginx.
type load struct {
	base   string
	paths  []string
	cur    atomic.Pointer[phase]
	mu     sync.Mutex
	phases []*phase
	cancel context.CancelFunc
	wg     sync.WaitGroup
	next   atomic.Int64 // request counter, to spread the paths
}

// startLoad starts the clients in the phase named first.
func startLoad(base string, paths []string, first string) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{base: base, paths: paths, cancel: cancel}
	l.phase(first)
	for i := range loadClients {
		src := "127.0.0." + strconv.Itoa(10+i)
		l.wg.Add(1)
		go l.client(ctx, src, time.Duration(i)*time.Second/loadClients/loadRate)
	}
	return l
}

// phase ends the current phase and starts the next.
func (l *load) phase(name string) *phase {
	now := time.Now()
	p := &phase{name: name, start: now}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.phases) > 0 {
		l.phases[len(l.phases)-1].end = now
	}
	l.phases = append(l.phases, p)
	l.cur.Store(p)
	return p
}

// stop ends the load and returns its phases; requests in flight finish.
func (l *load) stop() []*phase {
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.phases[len(l.phases)-1].end = time.Now()
	return l.phases
}

// client sends loadRate requests per second from src, paced (a slow answer
// delays the next request rather than piling requests up), offset so that
// the clients do not tick together.
func (l *load) client(ctx context.Context, src string, offset time.Duration) {
	defer l.wg.Done()
	hc := clientFrom(src, 10*time.Second)
	defer hc.CloseIdleConnections()
	select {
	case <-ctx.Done():
		return
	case <-time.After(offset):
	}
	tick := time.NewTicker(time.Second / loadRate)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		path := l.paths[int(l.next.Add(1))%len(l.paths)]
		l.one(hc, src, path)
	}
}

// one sends a request and counts it in the current phase: anything but a
// 200 with a GeoJSON body is a failure, with what it was.
func (l *load) one(hc *http.Client, src, path string) {
	p := l.cur.Load()
	start := time.Now()
	resp, err := hc.Get(l.base + path)
	if err != nil {
		p.fail("%s GET %s from %s: transport error after %v: %v", start.Format("15:04:05.000"), path, src, time.Since(start).Round(time.Millisecond), err)
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		p.fail("%s GET %s from %s: %d, body cut after %d bytes: %v", start.Format("15:04:05.000"), path, src, resp.StatusCode, len(body), err)
	case resp.StatusCode != http.StatusOK:
		p.fail("%s GET %s from %s: status %d (X-Request-Id %s, Retry-After %q): %.200s", start.Format("15:04:05.000"), path, src,
			resp.StatusCode, resp.Header.Get("X-Request-Id"), resp.Header.Get("Retry-After"), body)
	case !strings.Contains(string(body), `"FeatureCollection"`):
		p.fail("%s GET %s from %s: 200 without a FeatureCollection: %.200s", start.Format("15:04:05.000"), path, src, body)
	default:
		p.ok.Add(1)
	}
}

// report logs every phase with nginx's view of it (requests, retries,
// non-200 answers from its access log) and fails the test for any failed
// request.
func report(t *testing.T, phases []*phase, log []accessLine) {
	t.Helper()
	for _, p := range phases {
		var lines, retried, non200 int
		var retries []string
		for _, l := range log {
			at := time.UnixMilli(int64(l.Msec * 1000))
			if at.Before(p.start) || !at.Before(p.end) || l.URI != "/search" && l.URI != "/reverse" {
				continue
			}
			lines++
			if strings.Contains(l.UpstreamAddr, ",") {
				retried++
				if len(retries) < 3 {
					retries = append(retries, fmt.Sprintf("%s [%s]", l.UpstreamAddr, l.UpstreamStatus))
				}
			}
			if l.Status != http.StatusOK {
				non200++
			}
		}
		dur := p.end.Sub(p.start).Seconds()
		t.Logf("phase %-22s %5.1f s  %5d ok  %d failed  (%.0f req/s); nginx: %d GETs, %d retried on another replica %v, %d not 200",
			p.name, dur, p.ok.Load(), p.failed.Load(), float64(p.ok.Load()+p.failed.Load())/dur, lines, retried, retries, non200)
		if n := p.failed.Load(); n > 0 {
			t.Errorf("phase %s: %d of %d requests through nginx failed; first ones:\n  %s",
				p.name, n, n+p.ok.Load(), strings.Join(p.failures, "\n  "))
		}
		if p.ok.Load() == 0 {
			t.Errorf("phase %s: no request succeeded: the load did not run", p.name)
		}
	}
}
