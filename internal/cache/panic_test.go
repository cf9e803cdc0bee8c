package cache

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"balise/internal/testutil"
)

// newLoggedCache is mustNew with the cache's logs captured as JSON lines.
func newLoggedCache(t *testing.T, cfg Config) (*Cache, *testutil.SyncBuffer) {
	t.Helper()
	var buf testutil.SyncBuffer
	c, err := New(cfg, nil, slog.New(slog.NewJSONHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, &buf
}

// logLines returns the captured records whose msg contains substr.
func logLines(t *testing.T, buf *testutil.SyncBuffer, substr string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, rec := range testutil.JSONLines(t, buf.String()) {
		if msg, _ := rec["msg"].(string); strings.Contains(msg, substr) {
			out = append(out, rec)
		}
	}
	return out
}

// A panicking computation reaches every waiting caller as a *PanicError,
// the process survives (a panic inside singleflight would otherwise be
// re-raised where nothing can recover it), and nothing is cached.
func TestDoPanicBecomesError(t *testing.T) {
	c, logs := newLoggedCache(t, DefaultConfig())
	const secret = "12 rue des Lilas, Nantes"
	var calls atomic.Int32
	release := make(chan struct{})
	compute := func(context.Context) ([]byte, Class, error) {
		calls.Add(1)
		<-release
		panic("cannot score " + secret)
	}
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, _, errs[i] = c.Do(context.Background(), "k", compute) })
	}
	for deadline := time.Now().Add(5 * time.Second); calls.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("compute never started")
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	for i, err := range errs {
		var pe *PanicError
		if !errors.As(err, &pe) {
			t.Fatalf("caller %d: got %v; want a *PanicError", i, err)
		}
		if pe.Value != "cannot score "+secret || !strings.Contains(string(pe.Stack), "panic_test.go") {
			t.Fatalf("caller %d: PanicError{%v, %d-byte stack}; want the panic value and its stack", i, pe.Value, len(pe.Stack))
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("the error message quotes the panic value: %q", err)
		}
	}
	if got := promtest.ToFloat64(c.m.panics.WithLabelValues(siteCompute)); got != float64(calls.Load()) {
		t.Errorf("compute panics counted %v; want %d (one per computation)", got, calls.Load())
	}
	if st := c.Stats(); st.Panics != uint64(calls.Load()) || st.L1Entries != 0 {
		t.Errorf("stats after the panic: %+v", st)
	}
	recs := logLines(t, logs, "recovered a panic")
	if len(recs) != 1 || recs[0]["site"] != siteCompute || strings.Contains(logs.String(), secret) {
		t.Errorf("panic log: %v; want one record for site compute, without the panic value", recs)
	}
	// Nothing was cached: the next call computes.
	v, tier, err := c.Do(context.Background(), "k", constant("fine", ClassExact))
	if err != nil || tier != TierNone || string(v) != "fine" {
		t.Fatalf("Do after the panic; got %q, %v, %v; want a fresh computation", v, tier, err)
	}
}

// A runtime error carries no request data: its message is quoted.
func TestPanicErrorQuotesRuntimeErrors(t *testing.T) {
	c := mustNew(t, DefaultConfig(), nil)
	_, _, err := c.Do(context.Background(), "k", func(context.Context) ([]byte, Class, error) {
		b := []byte("x")
		return b[bytes.IndexByte(b, 'y'):], ClassExact, nil
	})
	var pe *PanicError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "slice bounds out of range [-1:]") {
		t.Fatalf("got %v; want a *PanicError naming the runtime error", err)
	}
	_, _, err = c.Do(context.Background(), "k2", func(context.Context) ([]byte, Class, error) { panic(42) })
	if !errors.As(err, &pe) || pe.Value != 42 || !strings.Contains(err.Error(), "type int") {
		t.Fatalf("got %v; want a *PanicError naming the value's type", err)
	}
}

// A panic after the L2 lookup writes nothing to Redis either.
func TestDoPanicStoresNothingInRedis(t *testing.T) {
	srv := testutil.StartRedis(t)
	c := mustNew(t, redisConfig(srv.URL()), nil)
	ctx := context.Background()
	if _, _, err := c.Do(ctx, "k", func(context.Context) ([]byte, Class, error) { panic("boom") }); err == nil {
		t.Fatal("Do returned no error for a panicking computation")
	}
	// A later write proves the queue was drained: the panic queued nothing.
	c.Set(ctx, "other", []byte("v"), ClassExact)
	waitWrites(t, c, 1)
	if n, err := rawClient(t, srv.Addr()).DBSize(ctx).Result(); err != nil || n != 1 {
		t.Fatalf("DBSIZE; got %d, %v; want 1 (only the later write)", n, err)
	}
}

// An L2 write worker that panics drops its batch, is counted and logged
// (throttled), and goes on writing.
func TestL2WriterSurvivesPanic(t *testing.T) {
	srv := testutil.StartRedis(t)
	cfg := redisConfig(srv.URL())
	cfg.WriteWorkers = 1
	var batches atomic.Int32
	cfg.beforeFlush = func() {
		if batches.Add(1) <= 3 {
			panic("writer fault")
		}
	}
	c, logs := newLoggedCache(t, cfg)
	ctx := context.Background()
	for i := range 3 {
		c.Set(ctx, "lost", []byte("v"), ClassExact)
		for deadline := time.Now().Add(5 * time.Second); promtest.ToFloat64(c.m.panics.WithLabelValues(siteWriter)) < float64(i+1); {
			if time.Now().After(deadline) {
				t.Fatalf("writer panic %d not counted", i+1)
			}
			time.Sleep(time.Millisecond)
		}
	}
	c.Set(ctx, "kept", answerBody(1), ClassExact)
	waitWrites(t, c, 1)
	if got := promtest.ToFloat64(c.m.writesDropped.WithLabelValues("panic")); got != 3 {
		t.Errorf("writes dropped by panics; got %v; want 3", got)
	}
	fresh := mustNew(t, redisConfig(srv.URL()), nil)
	if v, tier, ok := fresh.Get(ctx, "kept"); !ok || tier != TierL2 || string(v) != string(answerBody(1)) {
		t.Fatalf("Get after the panics; got %v, %v; want the later write from L2", tier, ok)
	}
	if recs := logLines(t, logs, "recovered a panic"); len(recs) != 1 || recs[0]["site"] != siteWriter {
		t.Errorf("panic logs: %v; want exactly one (throttled) for site l2_writer", recs)
	}
}
