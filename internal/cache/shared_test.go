package cache

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"balise/internal/testutil"
)

// redisCalls returns how many Redis calls of op ended with outcome.
func redisCalls(t *testing.T, c *Cache, op, outcome string) uint64 {
	t.Helper()
	var m dto.Metric
	if err := c.m.redisDuration.WithLabelValues(op, outcome).(interface{ Write(*dto.Metric) error }).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}

// pingsServed returns how many PING commands srv has executed.
func pingsServed(t *testing.T, srv *testutil.RedisServer) int {
	t.Helper()
	info, err := rawClient(t, srv.Addr()).Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`cmdstat_ping:calls=(\d+)`).FindStringSubmatch(info)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// openBreaker makes L2 reads fail until the breaker opens.
func openBreaker(t *testing.T, c *Cache) {
	t.Helper()
	for i := 0; c.Stats().Breaker != "open"; i++ {
		if i > 100 {
			t.Fatalf("the breaker did not open: %+v", c.Stats())
		}
		c.Get(context.Background(), fmt.Sprint("probe-", i))
	}
}

func TestRedisGuardWithoutL2(t *testing.T) {
	if client, guard, ok := mustNew(t, DefaultConfig(), nil).Redis(); ok || client != nil || guard != nil {
		t.Fatalf("Redis() without L2; got %v, %v, %v", client, guard != nil, ok)
	}
}

func TestRedisGuard(t *testing.T) {
	srv := testutil.StartRedis(t)
	cfg := redisConfig(srv.URL())
	cfg.BreakerOpen = time.Minute
	c := mustNew(t, cfg, nil)
	client, guard, ok := c.Redis()
	if !ok {
		t.Fatal("Redis() reports no L2")
	}
	ctx := context.Background()

	var left time.Duration
	err := guard(ctx, func(ctx context.Context) error {
		d, _ := ctx.Deadline()
		left = time.Until(d)
		return client.Incr(ctx, "ratelimit:x").Err()
	})
	if err != nil || left <= 0 || left > cfg.RedisTimeout {
		t.Fatalf("guarded INCR; got %v with %v left; want success within the %v per-call timeout", err, left, cfg.RedisTimeout)
	}
	if err := guard(ctx, func(ctx context.Context) error { return client.Get(ctx, "absent").Err() }); !errors.Is(err, redis.Nil) {
		t.Fatalf("guarded GET of an absent key; got %v; want redis.Nil", err)
	}
	if ok, miss := redisCalls(t, c, "ratelimit", outcomeOK), redisCalls(t, c, "ratelimit", outcomeMiss); ok != 1 || miss != 1 {
		t.Errorf("ratelimit calls: %d ok, %d miss; want 1 and 1", ok, miss)
	}

	// Neither abandoned calls nor panics in the caller's code count
	// against Redis.
	gone, cancel := context.WithCancel(ctx)
	cancel()
	for range 3 * cfg.BreakerFailures {
		if err := guard(gone, func(ctx context.Context) error { return client.Ping(ctx).Err() }); !errors.Is(err, context.Canceled) {
			t.Fatalf("guard with a cancelled context; got %v", err)
		}
		var pe *PanicError
		if err := guard(ctx, func(context.Context) error { panic("limiter bug") }); !errors.As(err, &pe) {
			t.Fatalf("guard over a panic; got %v; want a *PanicError", err)
		}
	}
	if st := c.Stats(); st.Breaker != "closed" || st.Panics != uint64(3*cfg.BreakerFailures) {
		t.Fatalf("after cancelled and panicking calls: %+v; want a closed breaker, panics counted", st)
	}

	// A dead Redis opens the breaker shared with the cache: then fn is
	// not even called, and L2 lookups are skipped too.
	srv.Kill()
	var calls atomic.Int32
	fn := func(ctx context.Context) error { calls.Add(1); return client.Incr(ctx, "ratelimit:x").Err() }
	for range cfg.BreakerFailures {
		if err := guard(ctx, fn); err == nil || errors.Is(err, ErrBreakerOpen) {
			t.Fatalf("guard with Redis down; got %v; want Redis' error", err)
		}
	}
	if err := guard(ctx, fn); !errors.Is(err, ErrBreakerOpen) || calls.Load() != int32(cfg.BreakerFailures) {
		t.Fatalf("guard after %d failures; got %v after %d calls; want ErrBreakerOpen without calling fn", cfg.BreakerFailures, err, calls.Load())
	}
	if st := c.Stats(); st.Breaker != "open" {
		t.Fatalf("cache breaker %q; want open (shared with the guard)", st.Breaker)
	}
	if n := redisCalls(t, c, "ratelimit", outcomeRejected); n != 1 {
		t.Errorf("rejected ratelimit calls; got %d; want 1", n)
	}
}

// A paused Redis costs a guarded call its per-call timeout, no more.
func TestRedisGuardTimeout(t *testing.T) {
	srv := testutil.StartRedis(t)
	cfg := redisConfig(srv.URL())
	c := mustNew(t, cfg, nil)
	client, guard, _ := c.Redis()
	srv.Pause()
	defer srv.Resume()
	start := time.Now()
	err := guard(context.Background(), func(ctx context.Context) error { return client.Incr(ctx, "x").Err() })
	if err == nil || time.Since(start) > cfg.RedisTimeout+500*time.Millisecond {
		t.Fatalf("guard over a paused Redis; got %v after %v", err, time.Since(start))
	}
	if n := redisCalls(t, c, "ratelimit", outcomeTimeout); n != 1 {
		t.Errorf("timed-out ratelimit calls; got %d; want 1", n)
	}
}

func TestPingStatus(t *testing.T) {
	srv := testutil.StartRedis(t)
	cfg := redisConfig(srv.URL())
	cfg.BreakerOpen = time.Minute
	c := mustNew(t, cfg, nil)
	ctx := context.Background()
	if h := c.Ping(ctx); h.Status != L2StatusOK || h.Err != nil || h.Breaker != "closed" || h.Latency <= 0 {
		t.Fatalf("Ping of a healthy Redis: %+v", h)
	}
	srv.Pause()
	h := c.Ping(ctx)
	srv.Resume()
	if h.Status != L2StatusTimeout || h.Err == nil {
		t.Fatalf("Ping of a paused Redis: %+v; want status timeout", h)
	}
	if n := redisCalls(t, c, "ping", outcomeTimeout); n != 1 {
		t.Errorf("timed-out pings; got %d; want 1", n)
	}

	refused := mustNew(t, redisConfig(fmt.Sprintf("redis://127.0.0.1:%d", testutil.FreePort(t))), nil)
	if h := refused.Ping(ctx); h.Status != L2StatusRefused || h.Err == nil || h.Breaker != "closed" {
		t.Fatalf("Ping of a closed port: %+v; want status refused", h)
	}
	if h := mustNew(t, DefaultConfig(), nil).Ping(ctx); h.Enabled || h.Status != "" {
		t.Fatalf("Ping without L2: %+v", h)
	}
}

// An open breaker answers the readiness check without dialling Redis.
func TestPingOpenBreakerDoesNotDial(t *testing.T) {
	srv := testutil.StartRedis(t)
	cfg := redisConfig(srv.URL())
	cfg.BreakerOpen = time.Minute
	c := mustNew(t, cfg, nil)
	srv.Kill()
	openBreaker(t, c)
	srv.Start()
	before := pingsServed(t, srv)
	for range 5 {
		h := c.Ping(context.Background())
		if h.Status != L2StatusBreakerOpen || !errors.Is(h.Err, ErrBreakerOpen) || h.Breaker != "open" || h.Latency != 0 {
			t.Fatalf("Ping with the breaker open: %+v; want breaker_open", h)
		}
	}
	if after := pingsServed(t, srv); after != before {
		t.Fatalf("Redis served %d PINGs while the breaker was open", after-before)
	}
}

// A half-open breaker lets the readiness check probe Redis, and closes
// when it answers.
func TestPingProbesHalfOpenBreaker(t *testing.T) {
	srv := testutil.StartRedis(t)
	cfg := redisConfig(srv.URL())
	cfg.BreakerOpen = 100 * time.Millisecond
	c := mustNew(t, cfg, nil)
	srv.Kill()
	openBreaker(t, c)
	srv.Start()
	for deadline := time.Now().Add(5 * time.Second); c.Stats().Breaker != "half_open"; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the breaker did not turn half-open: %+v", c.Stats())
		}
	}
	before := pingsServed(t, srv)
	if h := c.Ping(context.Background()); h.Status != L2StatusOK || h.Breaker != "closed" {
		t.Fatalf("Ping with the breaker half-open and Redis back: %+v; want ok and closed", h)
	}
	if after := pingsServed(t, srv); after != before+1 {
		t.Fatalf("Redis served %d PINGs; want the one probe", after-before)
	}
}
