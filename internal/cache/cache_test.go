package cache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakeClock drives L1 expiry. It never ticks: expired entries are seen as
// absent on read, which is what the tests check.
type fakeClock struct{ now atomic.Int64 }

func (c *fakeClock) NowNano() int64                      { return c.now.Load() }
func (c *fakeClock) Tick(time.Duration) <-chan time.Time { return nil }
func (c *fakeClock) advance(d time.Duration)             { c.now.Add(int64(d)) }
func newFakeClock() *fakeClock                           { c := &fakeClock{}; c.now.Store(1e18); return c }
func mustNew(t testing.TB, cfg Config, reg prometheus.Registerer) *Cache {
	t.Helper()
	c, err := New(cfg, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func constant(body string, class Class) func(context.Context) ([]byte, Class, error) {
	return func(context.Context) ([]byte, Class, error) { return []byte(body), class, nil }
}

func TestL1HitMissAndTTLClasses(t *testing.T) {
	clk := newFakeClock()
	cfg := DefaultConfig()
	cfg.clock = clk
	reg := prometheus.NewRegistry()
	c := mustNew(t, cfg, reg)
	ctx := context.Background()

	c.Set(ctx, "exact", []byte("e"), ClassExact)
	c.Set(ctx, "fuzzy", []byte("f"), ClassFuzzy)
	c.Set(ctx, "none", []byte("n"), ClassNotFound)
	c.Set(ctx, "nostore", []byte("x"), ClassNoStore)

	present := func(when string, want map[string]bool) {
		t.Helper()
		for k, w := range want {
			v, tier, ok := c.Get(ctx, k)
			if ok != w || (ok && (tier != TierL1 || string(v) != k[:1])) {
				t.Errorf("%s: Get(%q); got %q, %v, %v; want present=%v", when, k, v, tier, ok, w)
			}
		}
	}
	present("at once", map[string]bool{"exact": true, "fuzzy": true, "none": true, "nostore": false})
	clk.advance(5*time.Minute + time.Second)
	present("after 5 min", map[string]bool{"exact": true, "fuzzy": true, "none": false})
	clk.advance(time.Hour)
	present("after 1 h", map[string]bool{"exact": true, "fuzzy": false})
	clk.advance(23 * time.Hour)
	present("after 24 h", map[string]bool{"exact": false})

	if got := testutil.ToFloat64(c.m.hits.WithLabelValues("l1")); got != 3+2+1 {
		t.Errorf("l1 hits; got %v; want 6", got)
	}
	if got := testutil.ToFloat64(c.m.misses.WithLabelValues("l1")); got != 1+1+1+1 {
		t.Errorf("l1 misses; got %v; want 4", got)
	}
}

func TestL1BoundedInBytes(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxBytes = 64 << 10
	cfg.EntryOverhead = 100
	c := mustNew(t, cfg, nil)
	body := make([]byte, 1000)
	for i := range 1000 {
		c.Set(context.Background(), fmt.Sprintf("key-%04d", i), body, ClassExact)
	}
	c.l1.c.CleanUp()
	st := c.Stats()
	if st.L1Bytes > uint64(cfg.MaxBytes) {
		t.Fatalf("L1 holds %d bytes; budget %d", st.L1Bytes, cfg.MaxBytes)
	}
	perEntry := uint64(len("key-0000") + len(body) + 100)
	if st.L1Bytes != uint64(st.L1Entries)*perEntry {
		t.Errorf("weighted size %d != %d entries x %d bytes", st.L1Bytes, st.L1Entries, perEntry)
	}
	// Deletion events are delivered on their own goroutines: wait for them.
	for deadline := time.Now().Add(2 * time.Second); st.Evictions < 900 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		st = c.Stats()
	}
	if st.L1Entries < 40 || st.Evictions < 900 {
		t.Errorf("unexpected fill: %d entries, %d evictions (want ~58 entries, ~940 evictions)", st.L1Entries, st.Evictions)
	}
}

func TestDisabledL1(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxBytes = 0
	c := mustNew(t, cfg, nil)
	var n atomic.Int32
	for range 3 {
		v, tier, err := c.Do(context.Background(), "k", func(context.Context) ([]byte, Class, error) {
			n.Add(1)
			return []byte("v"), ClassExact, nil
		})
		if err != nil || string(v) != "v" || tier != TierNone {
			t.Fatalf("Do; got %q, %v, %v", v, tier, err)
		}
	}
	if n.Load() != 3 {
		t.Fatalf("computes; got %d; want 3", n.Load())
	}
}

func TestDoComputesOnceForConcurrentMisses(t *testing.T) {
	c := mustNew(t, DefaultConfig(), nil)
	var calls atomic.Int32
	release := make(chan struct{})
	compute := func(context.Context) ([]byte, Class, error) {
		calls.Add(1)
		<-release
		return []byte("answer"), ClassExact, nil
	}
	const n = 50
	var wg sync.WaitGroup
	tiers := make([]Tier, n)
	for i := range n {
		wg.Go(func() {
			v, tier, err := c.Do(context.Background(), "same", compute)
			if err != nil || string(v) != "answer" {
				t.Errorf("Do; got %q, %v", v, err)
			}
			tiers[i] = tier
		})
	}
	// Let every goroutine reach the singleflight group, then release.
	deadline := time.Now().Add(2 * time.Second)
	for calls.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if calls.Load() != 1 {
		t.Fatalf("computes; got %d; want 1", calls.Load())
	}
	if v, tier, err := c.Do(context.Background(), "same", compute); err != nil || tier != TierL1 || string(v) != "answer" {
		t.Fatalf("Do after fill; got %q, %v, %v; want an L1 hit", v, tier, err)
	}
	st := c.Stats()
	if st.Computes != 1 || st.SharedCalls == 0 {
		t.Errorf("stats: %+v", st)
	}
}

func TestDoErrorsAreNotCached(t *testing.T) {
	c := mustNew(t, DefaultConfig(), nil)
	boom := errors.New("boom")
	if _, _, err := c.Do(context.Background(), "k", func(context.Context) ([]byte, Class, error) { return nil, 0, boom }); !errors.Is(err, boom) {
		t.Fatalf("Do; got %v; want boom", err)
	}
	v, tier, err := c.Do(context.Background(), "k", constant("ok", ClassExact))
	if err != nil || tier != TierNone || string(v) != "ok" {
		t.Fatalf("Do after error; got %q, %v, %v", v, tier, err)
	}
}

func TestDoNoStore(t *testing.T) {
	c := mustNew(t, DefaultConfig(), nil)
	for range 2 {
		_, tier, _ := c.Do(context.Background(), "partial", constant("cut by the time budget", ClassNoStore))
		if tier != TierNone {
			t.Fatalf("a no-store answer was served from %v", tier)
		}
	}
}

// A follower must not inherit the leader's cancellation.
func TestDoFollowerSurvivesLeaderCancel(t *testing.T) {
	c := mustNew(t, DefaultConfig(), nil)
	leaderCtx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	leaderDone := make(chan error, 1)
	go func() {
		_, _, err := c.Do(leaderCtx, "k", func(ctx context.Context) ([]byte, Class, error) {
			close(started)
			<-ctx.Done()
			return nil, 0, ctx.Err()
		})
		leaderDone <- err
	}()
	<-started
	followerDone := make(chan error, 1)
	var got []byte
	go func() {
		v, _, err := c.Do(context.Background(), "k", constant("fresh", ClassExact))
		got = v
		followerDone <- err
	}()
	time.Sleep(20 * time.Millisecond) // the follower joins the flight
	cancel()
	if err := <-leaderDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader; got %v; want context.Canceled", err)
	}
	if err := <-followerDone; err != nil || string(got) != "fresh" {
		t.Fatalf("follower; got %q, %v; want its own answer", got, err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	f := func(name string, mod func(*Config), want string) {
		t.Helper()
		cfg := DefaultConfig()
		mod(&cfg)
		_, err := New(cfg, nil, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v; want an error containing %q", name, err, want)
		}
	}
	f("negative budget", func(c *Config) { c.MaxBytes = -1 }, "max bytes")
	f("bad url", func(c *Config) { c.RedisURL = "http://x" }, "cannot parse redis URL")
	f("no timeout", func(c *Config) { c.RedisURL = "redis://127.0.0.1:1"; c.RedisTimeout = 0 }, "redis timeout")
	f("no queue", func(c *Config) { c.RedisURL = "redis://127.0.0.1:1"; c.WriteQueue = 0 }, "queue")
	reg := prometheus.NewRegistry()
	mustNew(t, DefaultConfig(), reg)
	if _, err := New(DefaultConfig(), reg, nil); err == nil || !strings.Contains(err.Error(), "register") {
		t.Errorf("double registration; got %v", err)
	}
}

func BenchmarkDoL1Hit(b *testing.B) {
	c := mustNew(b, DefaultConfig(), nil)
	ctx := context.Background()
	c.Set(ctx, "k", geojson(5), ClassExact)
	compute := constant("x", ClassExact)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Do(ctx, "k", compute)
		}
	})
}

// A partial answer is never stored whatever it holds; then no result is a
// not-found, and a fuzzy match outranks an exact one.
func TestClassOf(t *testing.T) {
	for _, c := range []struct {
		o    Outcome
		want Class
	}{
		{Outcome{Results: 3}, ClassExact},
		{Outcome{Results: 3, Fuzzy: true}, ClassFuzzy},
		{Outcome{}, ClassNotFound},
		{Outcome{Fuzzy: true}, ClassNotFound},
		{Outcome{Results: 3, BudgetSpent: true}, ClassNoStore},
		{Outcome{Fuzzy: true, BudgetSpent: true}, ClassNoStore},
		{Outcome{BudgetSpent: true}, ClassNoStore},
	} {
		if got := ClassOf(c.o); got != c.want {
			t.Errorf("ClassOf(%+v) = %s, want %s", c.o, got, c.want)
		}
	}
}
