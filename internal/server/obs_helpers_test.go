package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"balise/internal/cache"
	"balise/internal/index"
	"balise/internal/search"
	"balise/internal/source"
	"balise/internal/telemetry"
	"balise/internal/text"
)

var (
	ncOnce sync.Once
	ncPath string
	ncErr  error
)

// ncIndex builds testdata/ban-nc (1,951 documents) once per test binary.
func ncIndex(t testing.TB) string {
	t.Helper()
	ncOnce.Do(func() {
		dir, err := os.MkdirTemp("", "balise-server-nc")
		if err != nil {
			ncErr = err
			return
		}
		ncPath = filepath.Join(dir, "nc.balise")
		lines, err := source.OpenLines(filepath.Join("..", "..", "testdata", "ban-nc", "addok.ndjson.gz"))
		if err != nil {
			ncErr = err
			return
		}
		defer lines.Close()
		b, err := index.NewBuilder(ncPath, index.BuildOptions{Text: text.Config{Profile: text.ProfileFrench}})
		if err != nil {
			ncErr = err
			return
		}
		_, ncErr = b.Build(context.Background(), index.FromLines(lines), func(line int, err error) error {
			return fmt.Errorf("line %d: %w", line, err)
		})
	})
	if ncErr != nil {
		t.Fatal(ncErr)
	}
	return ncPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if ncPath != "" {
		os.RemoveAll(filepath.Dir(ncPath))
	}
	os.Exit(code)
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lines returns the JSON log records.
func (s *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

type rigOptions struct {
	cache         *cache.Config // nil: no cache
	exporter      sdktrace.SpanExporter
	logQueries    bool
	shutdownDelay time.Duration
	noTelemetry   bool
}

// rig is a real server (public and admin listeners on 127.0.0.1:0) over
// the ban-nc index, with telemetry and optionally the cache, as serve
// wires them.
type rig struct {
	url, admin string
	tel        *telemetry.T
	cache      *cache.Cache
	logs       *syncBuffer
	version    string
	cancel     func()
	done       chan error
}

func newRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	ix, err := index.Open(ncIndex(t), index.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scfg := search.DefaultConfig()
	scfg.CommonThreshold = 200
	scfg.TimeBudget = 0 // the race detector is slow: no partial (uncached) answers
	e, err := search.New(ix, scfg, text.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{logs: &syncBuffer{}, version: ix.Meta().Version}
	tcfg := telemetry.DefaultConfig()
	tcfg.LogOutput = r.logs
	tcfg.LogQueries = o.logQueries
	tcfg.RequestID = RequestIDFrom
	tcfg.SpanExporter = o.exporter
	tel, shutdownTel, err := telemetry.Setup(context.Background(), tcfg)
	if err != nil {
		t.Fatal(err)
	}
	r.tel = tel
	holder := &Holder{}
	holder.OnSwap(func(e *search.Engine) { tel.Search.SetIndex(IndexInfo(e)) })
	holder.Swap(e, ix.Close)
	cfg := DefaultConfig()
	cfg.ShutdownDelay = o.shutdownDelay
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.Version = "test"
	cfg.API.LogQueries = o.logQueries
	if !o.noTelemetry {
		cfg.Telemetry = tel
	}
	if o.cache != nil {
		c, err := cache.New(*o.cache, tel.Registry, tel.Logger)
		if err != nil {
			t.Fatal(err)
		}
		r.cache = c
		cfg.Cache = c
	}
	s, err := New(cfg, holder, tel.Logger)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	aln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.url, r.admin = "http://"+ln.Addr().String(), "http://"+aln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	go func() { r.done <- s.ServeWithAdmin(ctx, ln, aln) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
		if r.cache != nil {
			r.cache.Close()
		}
		holder.Close()
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		shutdownTel(sctx)
	})
	return r
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func get(t testing.TB, url string, hdr ...string) reply {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

// scrape reads /metrics over HTTP in the text format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	r := get(t, url+"/metrics", "Accept", "text/plain")
	if r.status != 200 {
		t.Fatalf("GET /metrics: %d %s", r.status, r.body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("cannot parse /metrics: %v", err)
	}
	return mf
}

// value returns the value of the series of name with exactly the given
// labels among its labels (a counter, gauge, or a histogram's count).
func value(t *testing.T, mf map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	f, ok := mf[name]
	if !ok {
		t.Fatalf("metric %s missing", name)
	}
	var sum float64
	found := false
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			sum += m.Untyped.GetValue()
		}
	}
	if !found {
		t.Fatalf("no series %s%v", name, labels)
	}
	return sum
}

// redisServer is a real redis-server child process on 127.0.0.1, owned by
// one test and stopped by its pid (the launcher of internal/cache's tests).
type redisServer struct {
	t      testing.TB
	port   int
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
}

func startRedis(t testing.TB) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server is required in CI (apt-get install -y redis-server): %v", err)
		}
		t.Skip("redis-server not installed (apt-get install -y redis-server); skipping")
	}
	s := &redisServer{t: t, dir: t.TempDir()}
	for range 200 {
		p := 20000 + rand.IntN(10000)
		if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
			l.Close()
			s.port = p
			break
		}
	}
	if s.port == 0 {
		t.Fatal("no free port")
	}
	s.start()
	t.Cleanup(s.kill)
	return s
}

func (s *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }
func (s *redisServer) url() string  { return "redis://" + s.addr() }

func (s *redisServer) start() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", s.dir,
		"--logfile", filepath.Join(s.dir, "redis.log"))
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("cannot start redis-server: %v", err)
	}
	s.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(s.cmd, s.exited)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if s.ping() == nil {
			return
		}
		select {
		case <-s.exited:
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.t.Fatalf("redis-server exited at start:\n%s", log)
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.t.Fatalf("redis-server on %s did not answer PING within 5 s", s.addr())
}

func (s *redisServer) ping() error {
	c, err := net.DialTimeout("tcp", s.addr(), 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("unexpected PING answer %q", line)
	}
	return nil
}

func (s *redisServer) pause()  { s.cmd.Process.Signal(syscall.SIGSTOP) }
func (s *redisServer) resume() { s.cmd.Process.Signal(syscall.SIGCONT) }

// kill sends SIGKILL to our own child and waits for it.
func (s *redisServer) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGCONT) // a paused process must not outlive the test
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	s.cmd = nil
}
