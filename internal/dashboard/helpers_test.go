package dashboard_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/url"
	"testing"
	"time"

	"balise/internal/cache"
	"balise/internal/dashboard"
	"balise/internal/index"
	"balise/internal/search"
	"balise/internal/server"
	"balise/internal/telemetry"
	"balise/internal/testutil"
	"balise/internal/text"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// live is a real server over the ban-nc index on 127.0.0.1:0, with
// telemetry and an L1 cache, as serve wires them.
type live struct {
	url string
	tel *telemetry.Telemetry
}

func startServer(t testing.TB, mutate func(*server.Config)) *live {
	t.Helper()
	ix, err := index.Open(testutil.BanNC(t), index.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scfg := search.DefaultConfig()
	scfg.TimeBudget = 0
	e, err := search.New(ix, scfg, text.Config{})
	if err != nil {
		t.Fatal(err)
	}
	tcfg := telemetry.DefaultConfig()
	tcfg.LogOutput = io.Discard
	tel, shutdownTel, err := telemetry.Setup(context.Background(), tcfg)
	if err != nil {
		t.Fatal(err)
	}
	cc := cache.DefaultConfig()
	cc.MaxBytes = 1 << 20
	c, err := cache.New(cc, tel.Registry, tel.Logger)
	if err != nil {
		t.Fatal(err)
	}
	holder := server.NewHolder(e, ix.Close)
	cfg := server.DefaultConfig()
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.Telemetry = tel
	cfg.Cache = c
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := server.New(cfg, holder, tel.Logger)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeWithAdmin(ctx, ln, nil) }()
	t.Cleanup(func() {
		cancel()
		<-done
		c.Close()
		holder.Close()
		sctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		shutdownTel(sctx)
	})
	return &live{url: "http://" + ln.Addr().String(), tel: tel}
}

// search sends n real /search requests (a few distinct queries, so that
// the cache both hits and misses).
func (l *live) search(t testing.TB, n int) {
	t.Helper()
	qs := []string{"nouméa", "rue de la république", "dumbéa", "avenue foch"}
	for i := range n {
		r := testutil.Get(t, l.url+"/search?q="+url.QueryEscape(qs[i%len(qs)]))
		if r.Status != 200 {
			t.Fatalf("search: %d %s", r.Status, r.Body)
		}
	}
}

func (l *live) stats(t testing.TB) dashboard.Stats {
	t.Helper()
	r := testutil.Get(t, l.url+"/dashboard/stats")
	if r.Status != 200 {
		t.Fatalf("stats: %d %s", r.Status, r.Body)
	}
	var s dashboard.Stats
	if err := json.Unmarshal(r.Body, &s); err != nil {
		t.Fatal(err)
	}
	return s
}
