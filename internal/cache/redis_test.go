package cache

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"balise/internal/testutil"
)

// redisConfig is a test configuration against srv: small L1, tight
// timeouts, a short open breaker.
func redisConfig(url string) Config {
	cfg := DefaultConfig()
	cfg.RedisURL = url
	cfg.RedisTimeout = 20 * time.Millisecond
	cfg.BreakerOpen = 300 * time.Millisecond
	return cfg
}

// waitWrites waits until n L2 writes have been acknowledged.
func waitWrites(t testing.TB, c *Cache, n uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.Stats().WritesDone < n {
		if time.Now().After(deadline) {
			t.Fatalf("L2 writes; got %d; want %d (stats %+v)", c.Stats().WritesDone, n, c.Stats())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func rawClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	rc := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { rc.Close() })
	return rc
}

func TestRedisHitMissAndTTL(t *testing.T) {
	srv := testutil.StartRedis(t)
	ctx := context.Background()
	cfg := redisConfig(srv.URL())
	a := mustNew(t, cfg, nil)

	if _, _, ok := a.Get(ctx, "k-exact"); ok {
		t.Fatal("hit in an empty cache")
	}
	a.Set(ctx, "k-exact", geojson(5), ClassExact)
	a.Set(ctx, "k-fuzzy", geojson(1), ClassFuzzy)
	a.Set(ctx, "k-none", []byte(`{"features":[]}`), ClassNotFound)
	a.Set(ctx, "k-nostore", []byte("partial"), ClassNoStore)
	waitWrites(t, a, 3)

	// Redis holds the three with their class's TTL, under hashed keys.
	rc := rawClient(t, srv.Addr())
	for key, want := range map[string]time.Duration{"k-exact": 24 * time.Hour, "k-fuzzy": time.Hour, "k-none": 5 * time.Minute} {
		ttl, err := rc.PTTL(ctx, a.l2.redisKey(key)).Result()
		if err != nil || ttl > want || ttl < want-5*time.Second {
			t.Errorf("PTTL(%s); got %v, %v; want ~%v", key, ttl, err, want)
		}
	}
	if n, _ := rc.DBSize(ctx).Result(); n != 3 {
		t.Errorf("DBSIZE; got %d; want 3 (no-store answers are not written)", n)
	}
	keys, _ := rc.Keys(ctx, "*").Result()
	for _, k := range keys {
		if len(k) != len("balise:")+32 {
			t.Errorf("unexpected Redis key %q (want prefix + 32 hex digits)", k)
		}
	}

	// A second process (fresh L1) gets L2 hits, then L1 hits.
	b := mustNew(t, cfg, nil)
	v, tier, ok := b.Get(ctx, "k-exact")
	if !ok || tier != TierL2 || string(v) != string(geojson(5)) {
		t.Fatalf("Get from a fresh L1; got %d bytes, %v, %v; want an L2 hit", len(v), tier, ok)
	}
	if _, tier, _ := b.Get(ctx, "k-exact"); tier != TierL1 {
		t.Fatalf("second Get; got %v; want l1 (promoted)", tier)
	}
	body, tier, err := b.Do(ctx, "k-fuzzy", constant("recomputed", ClassExact))
	if err != nil || tier != TierL2 || string(body) != string(geojson(1)) {
		t.Fatalf("Do; got %q, %v, %v; want the L2 value", body, tier, err)
	}
	if _, _, ok := b.Get(ctx, "k-nostore"); ok {
		t.Fatal("a no-store answer reached L2")
	}
	// The promoted entry keeps its L2 expiry, not a fresh 24 h.
	e, ok := b.l1.c.GetEntryQuietly("k-fuzzy")
	if !ok || e.Value.ttl > time.Hour || e.Value.ttl < time.Hour-time.Minute {
		t.Errorf("promoted TTL; got %v; want ~1h", e.Value.ttl)
	}
	st := b.Stats()
	if st.L2Hits != 2 || st.L2Misses != 1 || st.Breaker != "closed" {
		t.Errorf("stats %+v; want 2 L2 hits, 1 L2 miss, closed breaker", st)
	}
	if h := b.Ping(ctx); h.Err != nil || !h.Enabled || h.Breaker != "closed" || h.Latency <= 0 {
		t.Errorf("Ping: %+v", h)
	}
}

func TestRedisShortTTLExpires(t *testing.T) {
	srv := testutil.StartRedis(t)
	ctx := context.Background()
	cfg := redisConfig(srv.URL())
	cfg.TTL.NotFound = 150 * time.Millisecond
	cfg.MaxBytes = 0 // L2 only
	c := mustNew(t, cfg, nil)
	c.Set(ctx, "gone-soon", []byte("{}"), ClassNotFound)
	waitWrites(t, c, 1)
	if _, tier, ok := c.Get(ctx, "gone-soon"); !ok || tier != TierL2 {
		t.Fatalf("Get; got %v, %v; want an L2 hit", tier, ok)
	}
	time.Sleep(250 * time.Millisecond)
	if _, _, ok := c.Get(ctx, "gone-soon"); ok {
		t.Fatal("entry outlived its 150 ms TTL in Redis")
	}
}

// With an L1 far smaller than the working set, evicted entries come back
// from L2.
func TestRedisServesL1Evictions(t *testing.T) {
	srv := testutil.StartRedis(t)
	ctx := context.Background()
	cfg := redisConfig(srv.URL())
	cfg.MaxBytes = 16 << 10
	reg := prometheus.NewRegistry()
	c := mustNew(t, cfg, reg)
	const n = 300
	for i := range n {
		key := fmt.Sprintf("key-%d", i)
		if _, tier, err := c.Do(ctx, key, constant(string(geojson(1+i%3)), ClassExact)); err != nil || tier != TierNone {
			t.Fatalf("first Do(%s); got %v, %v", key, tier, err)
		}
	}
	waitWrites(t, c, n)
	tiers := map[Tier]int{}
	for i := range n {
		key := fmt.Sprintf("key-%d", i)
		v, tier, err := c.Do(ctx, key, constant("recomputed", ClassExact))
		if err != nil || string(v) != string(geojson(1+i%3)) {
			t.Fatalf("second Do(%s); got %q, %v", key, v, err)
		}
		tiers[tier]++
	}
	if tiers[TierNone] != 0 || tiers[TierL2] < n/2 {
		t.Fatalf("tiers of the second pass: %v; want no computes and mostly L2", tiers)
	}
	if ev := promtest.ToFloat64(c.m.evictions.WithLabelValues("l1", "size")); ev == 0 {
		t.Error("no L1 size evictions counted")
	}
	t.Logf("second pass over %d keys with a 16 KiB L1: %v", n, tiers)
}

func TestRedisBadValueIsAMiss(t *testing.T) {
	srv := testutil.StartRedis(t)
	ctx := context.Background()
	c := mustNew(t, redisConfig(srv.URL()), nil)
	rc := rawClient(t, srv.Addr())
	if err := rc.Set(ctx, c.l2.redisKey("k"), "not a balise value", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	v, tier, err := c.Do(ctx, "k", constant("computed", ClassExact))
	if err != nil || tier != TierNone || string(v) != "computed" {
		t.Fatalf("Do over a foreign value; got %q, %v, %v", v, tier, err)
	}
	if got := promtest.ToFloat64(c.m.redisDecodeErr); got != 1 {
		t.Fatalf("decode errors; got %v; want 1", got)
	}
}

func TestRedisWriteQueueDropsWhenFull(t *testing.T) {
	srv := testutil.StartRedis(t)
	ctx := context.Background()
	cfg := redisConfig(srv.URL())
	cfg.WriteQueue = 4
	cfg.WriteWorkers = 1
	c := mustNew(t, cfg, nil)
	srv.Pause() // the worker blocks on its first batch; the queue fills
	for i := range 100 {
		c.Set(ctx, fmt.Sprintf("k%d", i), []byte("v"), ClassExact)
	}
	if got := promtest.ToFloat64(c.m.writesDropped.WithLabelValues("queue_full")); got < 90 {
		t.Fatalf("dropped writes; got %v; want >= 90 of 100 with a queue of 4", got)
	}
	srv.Resume()
}

// Without a reachable Redis, New succeeds and requests are served.
func TestRedisUnreachableAtStart(t *testing.T) {
	cfg := redisConfig(fmt.Sprintf("redis://127.0.0.1:%d", testutil.FreePort(t)))
	c := mustNew(t, cfg, nil)
	for i := range 20 {
		start := time.Now()
		v, _, err := c.Do(context.Background(), fmt.Sprint(i), constant("ok", ClassExact))
		if err != nil || string(v) != "ok" || time.Since(start) > 100*time.Millisecond {
			t.Fatalf("Do without Redis; got %q, %v in %v", v, err, time.Since(start))
		}
	}
	if st := c.Stats(); st.Breaker != "open" {
		t.Fatalf("breaker; got %q; want open after 20 refused connections", st.Breaker)
	}
	if h := c.Ping(context.Background()); h.Err == nil {
		t.Fatalf("Ping succeeded without Redis: %+v", h)
	}
}
