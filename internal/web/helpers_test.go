package web_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"balise/internal/index"
	"balise/internal/sample"
	"balise/internal/search"
	"balise/internal/server"
	"balise/internal/text"
	"balise/internal/web"
)

var (
	sampleOnce sync.Once
	samplePath string
	sampleErr  error
)

// sampleEngine opens the bundled Paris sample, built once per test binary
// (the build is the slow part).
func sampleEngine(t *testing.T) *search.Engine {
	t.Helper()
	sampleOnce.Do(func() {
		dir, err := mkdirTemp()
		if err != nil {
			sampleErr = err
			return
		}
		samplePath = filepath.Join(dir, "paris.balise")
		sampleErr = sample.Build(context.Background(), samplePath)
	})
	if sampleErr != nil {
		t.Fatal(sampleErr)
	}
	ix, err := index.Open(samplePath, index.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	cfg := search.DefaultConfig()
	cfg.TimeBudget = 0 // a loaded machine must not cut answers short
	e, err := search.New(ix, cfg, text.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// startServer runs the real server (every middleware) on a loopback port
// until the test ends, with the page on unless webOpts is nil; no tiles.
func startServer(t *testing.T, webOpts *web.Options) string {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Web = webOpts
	return startServerWith(t, cfg)
}

// startServerWith is startServer with a configuration of the test's.
func startServerWith(t *testing.T, cfg server.Config) string {
	t.Helper()
	cfg.AdminAddr = ""
	s, err := server.New(cfg, server.NewHolder(sampleEngine(t), nil), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && err != http.ErrServerClosed {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}
