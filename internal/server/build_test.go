package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"balise/internal/cache"
	"balise/internal/memlimit"
	"balise/internal/search"
	"balise/internal/telemetry"
	"balise/internal/testutil"
)

// buildConfig is a ServiceConfig over a one-street index, logging into
// logs; opened records the verify argument of every Open.
func buildConfig(t *testing.T, logs *testutil.SyncBuffer, opened *[]bool) ServiceConfig {
	t.Helper()
	tcfg := telemetry.DefaultConfig()
	tcfg.LogOutput = logs
	ccfg := cache.DefaultConfig()
	ccfg.MaxBytes = 1 << 20
	var mu sync.Mutex
	sc := DefaultConfig()
	sc.Addr, sc.AdminAddr = "127.0.0.1:0", ""
	return ServiceConfig{
		Server:      sc,
		Telemetry:   tcfg,
		Metrics:     true,
		Cache:       ccfg,
		CacheKeys:   cache.DefaultKeyConfig(),
		MemoryLimit: memlimit.Options{Value: "off", Getenv: func(string) string { return "" }},
		Open: func(ctx context.Context, verify bool) (*search.Engine, error) {
			mu.Lock()
			*opened = append(*opened, verify)
			mu.Unlock()
			e, _ := testEngine(t, "rue des lilas")
			return e, nil
		},
		Verify: true,
	}
}

// Build makes the parts in order (each logged), the server answers from
// the cache on the second request, and a reload opens with checksums.
func TestBuildServesAndReloads(t *testing.T) {
	logs := &testutil.SyncBuffer{}
	var opened []bool
	svc, err := Build(context.Background(), buildConfig(t, logs, &opened))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(context.Background())
	var order []int
	for _, msg := range []string{`"msg":"cache"`, `"msg":"admission control off"`, `"msg":"memory limit"`, `"msg":"index loaded"`} {
		i := strings.Index(logs.String(), msg)
		if i < 0 {
			t.Fatalf("no %s in the logs:\n%s", msg, logs.String())
		}
		order = append(order, i)
	}
	for i := 1; i < len(order); i++ {
		if order[i] < order[i-1] {
			t.Errorf("startup lines out of order:\n%s", logs.String())
		}
	}
	for _, want := range []string{"miss", "l1"} {
		rec := httptest.NewRecorder()
		svc.Server().Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/search?q=lilas", nil))
		if rec.Code != http.StatusOK || rec.Header().Get("X-Cache") != want || !strings.Contains(rec.Body.String(), "rue des lilas") {
			t.Errorf("search: %d X-Cache %q, want %q: %s", rec.Code, rec.Header().Get("X-Cache"), want, rec.Body)
		}
	}
	if _, err := svc.Server().Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(opened) != 2 || !opened[0] || !opened[1] {
		t.Errorf("Open called with verify %v, want [true true]", opened)
	}
}

// A bad part of the configuration is a ConfigError, found before the
// index is opened.
func TestBuildConfigError(t *testing.T) {
	logs := &testutil.SyncBuffer{}
	var opened []bool
	cfg := buildConfig(t, logs, &opened)
	cfg.CacheKeys.MaxFilterValues = -1
	_, err := Build(context.Background(), cfg)
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "max filter values") {
		t.Fatalf("Build: %v, want a ConfigError about max filter values", err)
	}
	if len(opened) != 0 {
		t.Errorf("index opened %d times despite the bad configuration", len(opened))
	}
}
