package ratelimit

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"balise/internal/testutil"
)

// guardTimeout is the per-call timeout of the test guard.
const guardTimeout = 50 * time.Millisecond

// testRedis is a client tuned as the cache tunes its own (every call
// bounded by its context, no retries) and a guard of the same shape as
// the cache's: a breaker and a per-call timeout.
func testRedis(t testing.TB, addr string) *Redis {
	t.Helper()
	rc := redis.NewClient(&redis.Options{
		Addr: addr, Protocol: 2, DisableIdentity: true,
		MaxRetries: -1, DialTimeout: guardTimeout, ReadTimeout: guardTimeout, WriteTimeout: guardTimeout,
		PoolTimeout: guardTimeout, ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { rc.Close() })
	cb := gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "redis",
		MaxRequests: 1,
		Timeout:     200 * time.Millisecond,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 3 },
	})
	return &Redis{Client: rc, Guard: func(ctx context.Context, fn func(ctx context.Context) error) error {
		_, err := cb.Execute(func() (struct{}, error) {
			ctx, cancel := context.WithTimeout(ctx, guardTimeout)
			defer cancel()
			return struct{}{}, fn(ctx)
		})
		return err
	}}
}

func redisConfig(t testing.TB, addr string, budgets Budgets) Config {
	return Config{Budgets: budgets, Redis: testRedis(t, addr), RedisKeySecret: []byte("test secret")}
}

// TestRedisSharedBudget runs two replicas against one Redis: together
// they grant one budget, burst + rate × elapsed, within 15 %.
func TestRedisSharedBudget(t *testing.T) {
	srv := testutil.StartRedis(t)
	budgets := Budgets{Interactive: Rate{PerSecond: 100, Burst: 20}}
	a := newTestLimiter(t, redisConfig(t, srv.Addr(), budgets))
	b := newTestLimiter(t, redisConfig(t, srv.Addr(), budgets))
	c := addrClient("203.0.113.7")

	var mu sync.Mutex
	granted := 0
	sources := map[Source]int{}
	start := time.Now()
	var wg sync.WaitGroup
	for _, l := range []*Limiter{a, b} {
		wg.Go(func() {
			for time.Since(start) < 1500*time.Millisecond {
				d := l.Allow(t.Context(), c, Interactive, 1)
				mu.Lock()
				sources[d.Source]++
				if d.Allowed {
					granted++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	want := 20 + 100*elapsed
	if float64(granted) < 0.85*want || float64(granted) > 1.15*want || sources[SourceRedis] == 0 {
		t.Errorf("granted by two replicas in %.2fs; got %d (sources %v); want %.0f ± 15%%", elapsed, granted, sources, want)
	}
	t.Logf("granted %d in %.2fs (want %.0f); sources %v", granted, elapsed, want, sources)
	if total := sources[SourceRedis] + sources[SourceFallback]; sources[SourceFallback] > total/100+5 {
		t.Errorf("fallbacks with Redis up: %v", sources)
	}

	// Key names hold neither the address nor the client string.
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2, DisableIdentity: true})
	defer rc.Close()
	keys, err := rc.Keys(t.Context(), "*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("KEYS; got %v, %v; want one key", keys, err)
	}
	if k := keys[0]; !strings.HasPrefix(k, "rate:balise:rl:i:") || len(k) != len("rate:balise:rl:i:")+32 || strings.Contains(k, "203") {
		t.Errorf("Redis key %q; want rate:balise:rl:i: and 32 hex digits", k)
	}
}

// TestRedisOutage kills then pauses Redis during a loop of decisions:
// every decision returns within the guard's timeout plus slack, from
// the local table, and decisions go back to Redis once it is back.
func TestRedisOutage(t *testing.T) {
	srv := testutil.StartRedis(t)
	l := newTestLimiter(t, redisConfig(t, srv.Addr(), Budgets{Interactive: Rate{PerSecond: 1000, Burst: 1000}}))
	c := addrClient("203.0.113.7")
	const slack = 300 * time.Millisecond

	decide := func(what string, n int) map[Source]int {
		t.Helper()
		sources := map[Source]int{}
		for i := range n {
			start := time.Now()
			d := l.Allow(t.Context(), c, Interactive, 1)
			if el := time.Since(start); el > guardTimeout+slack {
				t.Errorf("%s, decision %d took %v; want at most %v", what, i, el, guardTimeout+slack)
			}
			if !d.Allowed {
				t.Errorf("%s, decision %d refused: %+v", what, i, d)
			}
			sources[d.Source]++
		}
		return sources
	}
	backToRedis := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for l.Allow(t.Context(), c, Interactive, 1).Source != SourceRedis {
			if time.Now().After(deadline) {
				t.Fatalf("%s: decisions did not go back to Redis", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	if s := decide("up", 20); s[SourceRedis] != 20 {
		t.Fatalf("Redis up; got sources %v", s)
	}
	srv.Kill()
	if s := decide("killed", 50); s[SourceFallback] != 50 {
		t.Errorf("Redis killed; got sources %v; want every decision a fallback", s)
	}
	srv.Start()
	backToRedis("restarted")

	srv.Pause()
	if s := decide("paused", 30); s[SourceFallback] != 30 {
		t.Errorf("Redis paused; got sources %v; want every decision a fallback", s)
	}
	srv.Resume()
	backToRedis("resumed")

	timeouts := promtest.ToFloat64(l.m.redisErrors[reasonTimeout])
	open := promtest.ToFloat64(l.m.redisErrors[reasonBreakerOpen])
	if timeouts < 1 || open < 1 {
		t.Errorf("Redis errors; got %v timeouts, %v breaker refusals; want some of each", timeouts, open)
	}
	if n := promtest.ToFloat64(l.m.decisions[Interactive][resultAllowed][SourceFallback]); n < 80 {
		t.Errorf("fallback decisions counted; got %v; want at least 80", n)
	}
}

// TestRedisFallbackShare checks the divided fallback budget: with three
// replicas, one grants a third of the burst alone.
func TestRedisFallbackShare(t *testing.T) {
	srv := testutil.StartRedis(t)
	cfg := redisConfig(t, srv.Addr(), Budgets{Interactive: Rate{PerSecond: 1, Burst: 30}})
	cfg.FallbackReplicas = 3
	l := newTestLimiter(t, cfg)
	srv.Kill()
	c := addrClient("203.0.113.7")
	granted := 0
	for range 40 {
		d := l.Allow(t.Context(), c, Interactive, 1)
		if d.Source != SourceFallback {
			t.Fatalf("Redis down; got source %s", d.Source)
		}
		if d.Allowed {
			granted++
		}
	}
	if granted < 10 || granted > 11 {
		t.Errorf("granted alone with 3 replicas; got %d; want a third of 30", granted)
	}
	// A request within the whole burst but beyond the share passes when
	// the share is full: it is not TooLarge.
	if d := l.Allow(t.Context(), addrClient("203.0.113.8"), Interactive, 20); !d.Allowed || d.TooLarge {
		t.Errorf("20 units with a share of 10; got %+v", d)
	}
}

func TestRedisTooLargeAndHeaders(t *testing.T) {
	srv := testutil.StartRedis(t)
	l := newTestLimiter(t, redisConfig(t, srv.Addr(), Budgets{Batch: Rate{PerSecond: 100, Burst: 1000}}))
	c := addrClient("203.0.113.7")
	if d := l.Allow(t.Context(), c, Batch, 600); !d.Allowed || d.Source != SourceRedis || d.Remaining != 400 {
		t.Fatalf("600 of 1000; got %+v", d)
	}
	d := l.Allow(t.Context(), c, Batch, 500)
	if d.Allowed || d.Remaining < 399 || d.Remaining > 400 || d.RetryAfter < 900*time.Millisecond || d.RetryAfter > time.Second {
		t.Errorf("500 with 400 left; got %+v", d)
	}
	d = l.Allow(t.Context(), c, Batch, 1001)
	if !d.TooLarge || d.Allowed || d.Source != SourceRedis || d.Remaining < 399 {
		t.Errorf("1001 > burst; got %+v", d)
	}
}

// TestRedisKeyedClient checks that a keyed client is shared too, under a
// name that does not reveal the key's name.
func TestRedisKeyedClient(t *testing.T) {
	srv := testutil.StartRedis(t)
	keys, err := ParseKeys(strings.NewReader("partner key-of-partner-0001 rate=1 burst=2\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := redisConfig(t, srv.Addr(), Budgets{Interactive: Rate{PerSecond: 100}})
	cfg.KeyHeader, cfg.Keys = "X-Api-Key", keys
	a, b := newTestLimiter(t, cfg), newTestLimiter(t, cfg)
	granted := 0
	for _, l := range []*Limiter{a, b, a, b} {
		c, err := l.Identify(request("203.0.113.7:1", "X-Api-Key: key-of-partner-0001"))
		if err != nil {
			t.Fatal(err)
		}
		if d := l.Allow(t.Context(), c, Interactive, 1); d.Allowed && d.Source == SourceRedis {
			granted++
		}
	}
	if granted != 2 {
		t.Errorf("granted to the key by two replicas; got %d; want its burst, 2", granted)
	}
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2, DisableIdentity: true})
	defer rc.Close()
	keyNames, _ := rc.Keys(t.Context(), "*").Result()
	if len(keyNames) != 1 || strings.Contains(keyNames[0], "partner") {
		t.Errorf("Redis keys %v; want one, not naming the key", keyNames)
	}
}

func TestRedisLimit(t *testing.T) {
	cases := map[Rate]redis_rate.Limit{
		{50, 50}:  {Rate: 50, Burst: 50, Period: time.Second},
		{0.5, 1}:  {Rate: 1, Burst: 1, Period: 2 * time.Second},
		{2.5, 3}:  {Rate: 1, Burst: 3, Period: 400 * time.Millisecond},
		{1000, 5}: {Rate: 1000, Burst: 5, Period: time.Second},
	}
	for r, want := range cases {
		if got := redisLimit(r); got != want {
			t.Errorf("redisLimit(%+v); got %+v; want %+v", r, got, want)
		}
	}
}

func TestRedisConfigRefused(t *testing.T) {
	if _, err := New(Config{Redis: &Redis{}}, nil); err == nil {
		t.Error("Redis without client nor guard accepted")
	}
	if redisErrorReason(errors.New("x")) != reasonError || redisErrorReason(gobreaker.ErrOpenState) != reasonBreakerOpen ||
		redisErrorReason(context.DeadlineExceeded) != reasonTimeout || redisErrorReason(context.Canceled) != reasonCanceled {
		t.Error("redisErrorReason misclassifies")
	}
}
