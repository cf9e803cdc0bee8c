package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"balise/internal/httpapi"
	"balise/internal/index"
	"balise/internal/search"
	"balise/internal/telemetry"
	"balise/internal/testutil"
	"balise/internal/text"
)

func testEngine(t testing.TB, name string) (*search.Engine, *index.Index) {
	t.Helper()
	line := fmt.Sprintf(`{"id":"d1","type":"street","name":%q,"lat":44,"lon":4,"importance":0.5}`, name)
	path := testutil.WriteIndex(t, index.BuildOptions{Text: text.Config{Profile: text.ProfileDefault}, Workers: 1}, line)
	ix, err := index.Open(path, index.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := search.DefaultConfig()
	cfg.TimeBudget = 0 // the race detector is slow: no partial answers
	e, err := search.New(ix, cfg, text.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return e, ix
}

// start runs a server on real loopback listeners until the test ends (or
// cancel is called); wait returns Serve's result once it has stopped.
func start(t *testing.T, cfg Config, h *Holder, log *slog.Logger) (url string, cancel func(), wait func() error) {
	t.Helper()
	s, err := New(cfg, h, log)
	if err != nil {
		t.Fatal(err)
	}
	url, _, cancel, wait = serveOnLoopback(t, s)
	t.Cleanup(func() { cancel(); wait() })
	return url, cancel, wait
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestHolderSwapUnderLoad(t *testing.T) {
	e1, ix1 := testEngine(t, "rue un")
	h := NewHolder(e1, ix1.Close)
	var closed atomic.Int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				e, release := h.Acquire()
				res, err := e.Search(context.Background(), search.Query{Q: "rue", Limit: 1})
				if err != nil || len(res) != 1 {
					t.Errorf("search on a leased engine: %v %d", err, len(res))
				} else if !strings.HasPrefix(res[0].Label(), "rue ") { // reads the mapping: must still be open
					t.Errorf("label %q", res[0].Label())
				}
				release()
			}
		}()
	}
	var olds []*index.Index
	for i := range 20 {
		e, ix := testEngine(t, fmt.Sprintf("rue %d", i))
		olds = append(olds, ix)
		h.Swap(e, func() error { closed.Add(1); return ix.Close() })
		time.Sleep(2 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if got := closed.Load(); got != 19 {
		t.Errorf("%d retired engines closed, want 19", got)
	}
	h.Close()
	if got := closed.Load(); got != 20 {
		t.Errorf("%d closed after Close, want 20", got)
	}
	_ = olds
}

func TestRequestIDAndRecover(t *testing.T) {
	var logs testutil.SyncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	tcfg := telemetry.DefaultConfig()
	tcfg.LogOutput = &logs
	tel, shutdown, err := telemetry.Setup(t.Context(), tcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(context.Background())
	// The panic value quotes the query, as a careless message would: the
	// log names its type only.
	boom := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom on " + r.URL.RawQuery) })
	h := Chain(boom, RequestID(), tel.AccessLog, Recover(log, httpapi.Addok, nil))
	srv := &http.Server{Handler: h}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()
	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/search?q=12+rue+secrete", nil)
	req.Header.Set("X-Request-Id", "abc-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || resp.Header.Get("X-Request-Id") != "abc-123" || !strings.Contains(string(body), "abc-123") {
		t.Errorf("%d %v %s", resp.StatusCode, resp.Header, body)
	}
	if !strings.Contains(logs.String(), `"request_id":"abc-123"`) || !strings.Contains(logs.String(), `"panic":"panic of type string"`) || !strings.Contains(logs.String(), `"status":500`) ||
		strings.Contains(logs.String(), "secrete") {
		t.Errorf("logs: %s", logs.String())
	}
	// An unusable client id is replaced.
	req.Header.Set("X-Request-Id", "bad id with spaces")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if id := resp.Header.Get("X-Request-Id"); id == "" || strings.Contains(id, " ") {
		t.Errorf("generated id %q", id)
	}
}

func TestServerEndToEnd(t *testing.T) {
	e, ix := testEngine(t, "rue des avions")
	h := NewHolder(e, ix.Close)
	cfg := DefaultConfig()
	url, _, _ := start(t, cfg, h, quietLog())

	// gzip and zstd are negotiated; identity otherwise.
	for _, enc := range []string{"gzip", "zstd", ""} {
		req, _ := http.NewRequest("GET", url+"/openapi.json", nil)
		if enc != "" {
			req.Header.Set("Accept-Encoding", enc)
		}
		tr := &http.Transport{DisableCompression: true}
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := resp.Header.Get("Content-Encoding"); got != enc {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q", enc, got)
		}
		if enc == "zstd" {
			d, _ := zstd.NewReader(nil)
			if body, err = d.DecodeAll(body, nil); err != nil {
				t.Fatal(err)
			}
		}
		if enc != "gzip" && !bytes.Equal(body, httpapi.OpenAPI()) {
			t.Errorf("%s: body differs", enc)
		}
	}
	resp, err := http.Get(url + "/search?q=avions")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("%d %v", resp.StatusCode, resp.Header)
	}
}

// A shutdown lets an in-flight request finish, answers /health 503 while
// draining, then refuses connections.
func TestGracefulShutdown(t *testing.T) {
	e, ix := testEngine(t, "rue des avions")
	h := NewHolder(e, ix.Close)
	cfg := DefaultConfig()
	cfg.ShutdownDelay = 300 * time.Millisecond
	cfg.API.CSVWorkers = 1
	url, cancel, wait := start(t, cfg, h, quietLog())

	// A slow CSV upload is in flight when the shutdown starts.
	pr, pw := io.Pipe()
	result := make(chan string, 1)
	go func() {
		resp, err := http.Post(url+"/search/csv?columns=a", "text/csv", pr)
		if err != nil {
			result <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		result <- string(b)
	}()
	pw.Write([]byte("a\nrue des avions\n"))
	time.Sleep(100 * time.Millisecond)
	cancel()
	time.Sleep(100 * time.Millisecond)
	resp, err := http.Get(url + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("health while draining: %d", resp.StatusCode)
	}
	pw.Write([]byte("rue des avions\n"))
	pw.Close()
	if got := <-result; strings.Count(got, ";ok\r\n") != 2 {
		t.Errorf("in-flight upload: %q", got)
	}
	if err := wait(); err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := http.Get(url + "/health"); err == nil {
		t.Error("still accepting after shutdown")
	}
}

// During the shutdown delay a replica still answers, but asks every client
// to leave its connection ("Connection: close"), so that clients behind an
// L4 balancer reconnect to a replica that is staying; a connection kept
// from before the SIGTERM is closed rather than left to race the
// listener's close.
func TestShutdownDelayClosesKeepAlives(t *testing.T) {
	e, ix := testEngine(t, "rue des avions")
	h := NewHolder(e, ix.Close)
	cfg := DefaultConfig()
	cfg.ShutdownDelay = 2 * time.Second
	url, cancel, wait := start(t, cfg, h, quietLog())
	get := func(c *http.Client) *http.Response {
		t.Helper()
		resp, err := c.Get(url + "/search?q=rue+des+avions")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	before := &http.Client{Transport: &http.Transport{}}
	if resp := get(before); resp.Close || resp.Header.Get("Connection") == "close" {
		t.Fatalf("before the shutdown: the answer closed its connection")
	}
	cancel()
	time.Sleep(100 * time.Millisecond)
	during := &http.Client{Transport: &http.Transport{}}
	resp := get(during)
	if resp.StatusCode != 200 || !resp.Close {
		t.Errorf("during the shutdown delay: status %d, Close %v; want 200 with Connection: close", resp.StatusCode, resp.Close)
	}
	// The pooled connection of the first client was closed by the server:
	// its next request dials a new one (and still gets an answer).
	if resp := get(before); resp.StatusCode != 200 || !resp.Close {
		t.Errorf("a client pooled from before the shutdown: status %d, Close %v", resp.StatusCode, resp.Close)
	}
	if err := wait(); err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// The server's write timeout does not cut a CSV answer that keeps flowing:
// CSV routes push their deadlines as data moves.
func TestCSVOutlivesWriteTimeout(t *testing.T) {
	e, ix := testEngine(t, "rue des avions")
	h := NewHolder(e, ix.Close)
	cfg := DefaultConfig()
	cfg.ReadTimeout = 300 * time.Millisecond
	cfg.WriteTimeout = 300 * time.Millisecond
	cfg.API.CSVIdleTimeout = 2 * time.Second
	url, _, _ := start(t, cfg, h, quietLog())
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("a\n"))
		for range 12 {
			pw.Write([]byte("rue des avions\n"))
			time.Sleep(100 * time.Millisecond)
		}
		pw.Close()
	}()
	resp, err := http.Post(url+"/search/csv", "text/csv", pr)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || strings.Count(string(b), ";ok\r\n") != 12 {
		t.Errorf("%v %q", err, b)
	}
}
