package server

import (
	"bytes"
	"context"
	"net"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"balise/internal/admission"
	"balise/internal/cache"
	"balise/internal/httpapi"
	"balise/internal/index"
	"balise/internal/ratelimit"
	"balise/internal/search"
	"balise/internal/telemetry"
	"balise/internal/testutil"
	"balise/internal/text"
)

func TestMain(m *testing.M) { testutil.Main(m) }

type rigOptions struct {
	cache         *cache.Config // nil: no cache
	exporter      sdktrace.SpanExporter
	logQueries    bool
	shutdownDelay time.Duration
	// rateLimit and admission, when set, turn them on (the limiter
	// shares the cache's Redis when it has one, as serve does).
	rateLimit *ratelimit.Config
	admission *admission.Config
	flavour   httpapi.Flavour
	// disableMetrics is --metrics=false.
	disableMetrics bool
}

// rig is a real server (public and admin listeners on 127.0.0.1:0) over
// the ban-nc index, with telemetry and optionally the cache, as serve
// wires them.
type rig struct {
	url, admin string
	tel        *telemetry.Telemetry
	cache      *cache.Cache
	logs       *testutil.SyncBuffer
	version    string
	cancel     func() // starts the graceful shutdown
}

func newRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	ix, err := index.Open(testutil.BanNC(t), index.OpenOptions{})
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
	r := &rig{logs: &testutil.SyncBuffer{}, version: ix.Meta().Version}
	tcfg := telemetry.DefaultConfig()
	tcfg.LogOutput = r.logs
	tcfg.LogQueries = o.logQueries
	tcfg.SpanExporter = o.exporter
	tel, shutdownTel, err := telemetry.Setup(context.Background(), tcfg)
	if err != nil {
		t.Fatal(err)
	}
	r.tel = tel
	holder := NewHolder(e, ix.Close)
	cfg := DefaultConfig()
	cfg.ShutdownDelay = o.shutdownDelay
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.Version = "test"
	cfg.API.LogQueries = o.logQueries
	cfg.Telemetry = tel
	cfg.DisableMetrics = o.disableMetrics
	if o.cache != nil {
		c, err := cache.New(*o.cache, tel.Registry, tel.Logger)
		if err != nil {
			t.Fatal(err)
		}
		r.cache = c
		cfg.Cache = c
	}
	cfg.API.Flavour = o.flavour
	if o.rateLimit != nil {
		lc := *o.rateLimit
		if r.cache != nil {
			if client, guard, ok := r.cache.Redis(); ok {
				lc.Redis = &ratelimit.Redis{Client: client, Guard: guard}
			}
		}
		lim, err := ratelimit.New(lc, tel.Registry)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lim.Close() })
		cfg.RateLimiter = lim
	}
	if o.admission != nil {
		ctrl, err := admission.New(*o.admission, tel.Registry)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Admission = ctrl
	}
	s, err := New(cfg, holder, tel.Logger)
	if err != nil {
		t.Fatal(err)
	}
	var wait func() error
	r.url, r.admin, r.cancel, wait = serveOnLoopback(t, s)
	t.Cleanup(func() {
		r.cancel()
		wait()
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

// serveOnLoopback serves s on two loopback listeners, public and admin,
// and returns their base URLs; cancel starts the graceful shutdown and
// wait returns once it is over (callers wait before closing what the
// server uses).
func serveOnLoopback(t *testing.T, s *Server) (url, admin string, cancel func(), wait func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	aln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeWithAdmin(ctx, ln, aln) }()
	return "http://" + ln.Addr().String(), "http://" + aln.Addr().String(), cancel, sync.OnceValue(func() error { return <-done })
}

// scrape reads /metrics over HTTP in the text format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	r := testutil.Get(t, url+"/metrics", "Accept", "text/plain")
	if r.Status != 200 {
		t.Fatalf("GET /metrics: %d %s", r.Status, r.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(bytes.NewReader(r.Body))
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
