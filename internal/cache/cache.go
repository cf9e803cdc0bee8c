package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"golang.org/x/sync/singleflight"
)

// Cache is the two-tier answer cache. It is safe for concurrent use.
// Values returned by Get and Do are shared with the cache: never modify
// them.
type Cache struct {
	cfg    Config
	l1     *l1 // nil when MaxBytes is 0
	l2     *l2 // nil without RedisURL
	m      *metrics
	log    *slog.Logger
	tracer trace.Tracer
	group  singleflight.Group
	// panicLog throttles the logging of recovered panics: a computation
	// that panics on every request must not flood the logs.
	panicLog throttle
}

// New builds the cache and starts the L2 write workers when Redis is
// configured. It does not contact Redis: an unreachable Redis is not an
// error (the breaker handles it), only a malformed configuration is. reg
// may be nil (metrics are then kept but not exported); logger may be nil.
func New(cfg Config, reg prometheus.Registerer, logger *slog.Logger) (*Cache, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	tp := cfg.TracerProvider
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	c := &Cache{cfg: cfg, log: logger.With("component", "cache"), tracer: tp.Tracer("balise/internal/cache"),
		panicLog: throttle{every: 10 * time.Second}}
	var err error
	if c.m, err = newMetrics(reg, c); err != nil {
		return nil, err
	}
	if c.l1, err = newL1(cfg, c.m, c.log); err != nil {
		return nil, err
	}
	if cfg.RedisURL != "" {
		if c.l2, err = newL2(cfg, c.m, c.log, c.tracer, &c.panicLog); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Close stops the L2 writers (flushing what is queued, within one write
// timeout per batch) and closes the Redis client.
func (c *Cache) Close() error {
	if c.l1 != nil {
		c.l1.c.StopAllGoroutines()
	}
	if c.l2 != nil {
		if err := c.l2.close(); err != nil {
			return fmt.Errorf("cannot close redis client: %w", err)
		}
	}
	return nil
}

// Get looks key up in L1, then L2 (promoting an L2 hit into L1). An L2
// value that is undecodable or refused (see Config.Validate) is a miss,
// and is deleted from Redis.
func (c *Cache) Get(ctx context.Context, key string) (value []byte, tier Tier, ok bool) {
	if v, ok := c.getL1(key); ok {
		return v, TierL1, true
	}
	v, found := c.getL2(ctx, key)
	switch found {
	case lookupHit:
		return v, TierL2, true
	case lookupInvalid:
		c.l2.enqueueDelete(key)
	}
	return nil, TierNone, false
}

// Set stores value in L1 and queues it for L2, with the class's TTL.
// ClassNoStore (or a class whose TTL is 0) stores nothing.
func (c *Cache) Set(ctx context.Context, key string, value []byte, class Class) {
	c.set(key, value, class)
}

// set is Set; it reports whether the value was queued for L2 (where it
// will overwrite whatever the key holds).
func (c *Cache) set(key string, value []byte, class Class) (queuedL2 bool) {
	ttl := c.cfg.TTL.Of(class)
	if ttl <= 0 {
		return false
	}
	if c.l1 != nil {
		c.m.l1.stored.Add(float64(c.l1.set(key, value, ttl)))
	}
	return c.l2 != nil && c.l2.enqueue(key, value, class, ttl)
}

// result is what one singleflight call yields.
type result struct {
	body []byte
	tier Tier
}

// Do returns the cached answer for key or computes it. Concurrent calls
// for one key share one L2 lookup and one computation. The answer is
// stored with the class compute returns (ClassNoStore: not stored).
// compute receives the context of the call that runs it. The errors Do
// returns are compute's, the caller's own context error, and a
// *PanicError when compute panicked (given to every caller waiting for
// that key; nothing is cached).
func (c *Cache) Do(ctx context.Context, key string, compute func(ctx context.Context) ([]byte, Class, error)) ([]byte, Tier, error) {
	if v, ok := c.getL1(key); ok {
		return v, TierL1, nil
	}
	ch := c.group.DoChan(key, func() (any, error) {
		return c.safeFill(ctx, key, compute)
	})
	var r singleflight.Result
	select {
	case r = <-ch:
	case <-ctx.Done():
		// The caller is gone; the shared call carries on for the others.
		return nil, TierNone, ctx.Err()
	}
	if r.Shared {
		c.m.shared.Inc()
	}
	if r.Err != nil {
		if r.Shared && ctx.Err() == nil && isContextErr(r.Err) {
			// The leader's own request ended; ours has not.
			res, err := c.safeFill(ctx, key, compute)
			if err != nil {
				return nil, TierNone, err
			}
			return res.body, res.tier, nil
		}
		return nil, TierNone, r.Err
	}
	res := r.Val.(result)
	return res.body, res.tier, nil
}

// safeFill is fill with its panics recovered: run inside singleflight,
// a panic would be re-raised on a goroutine nothing can recover.
func (c *Cache) safeFill(ctx context.Context, key string, compute func(context.Context) ([]byte, Class, error)) (res result, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = result{}, c.recovered(siteCompute, p)
		}
	}()
	return c.fill(ctx, key, compute)
}

// fill is one miss: L1 again (another call may just have filled it), L2,
// then compute and store.
func (c *Cache) fill(ctx context.Context, key string, compute func(context.Context) ([]byte, Class, error)) (result, error) {
	if c.l1 != nil {
		if v, ok := c.l1.get(key); ok {
			return result{v, TierL1}, nil
		}
	}
	v, found := c.getL2(ctx, key)
	if found == lookupHit {
		return result{v, TierL2}, nil
	}
	replaced := false
	if found == lookupInvalid {
		// The fresh answer, once written, overwrites the bad value; when
		// there is none to write (an error, a panic, a no-store answer),
		// the bad value is deleted so that it is not read again.
		defer func() {
			if !replaced {
				c.l2.enqueueDelete(key)
			}
		}()
	}
	body, class, err := compute(ctx)
	if err != nil {
		c.m.computeErrors.Inc()
		return result{}, err
	}
	c.m.computes.WithLabelValues(class.String()).Inc()
	replaced = c.set(key, body, class)
	return result{body, TierNone}, nil
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (c *Cache) getL1(key string) ([]byte, bool) {
	if c.l1 == nil {
		return nil, false
	}
	v, ok := c.l1.get(key)
	if ok {
		c.m.l1.hits.Inc()
	} else {
		c.m.l1.misses.Inc()
	}
	return v, ok
}

// getL2 reads L2 and promotes a hit into L1 for the rest of its life,
// capped at its class's TTL: the expiry comes from Redis, which this
// process does not control.
func (c *Cache) getL2(ctx context.Context, key string) ([]byte, lookup) {
	if c.l2 == nil {
		return nil, lookupMiss
	}
	ctx, span := c.tracer.Start(ctx, "cache l2 lookup")
	defer span.End()
	body, class, expires, found := c.l2.get(ctx, key)
	span.SetAttributes(attribute.Bool("balise.cache.hit", found == lookupHit))
	if found != lookupHit {
		return nil, found
	}
	if c.l1 != nil {
		if ttl := min(time.Until(expires), c.cfg.TTL.Of(class)); ttl > 0 {
			c.m.l1.stored.Add(float64(c.l1.set(key, body, ttl)))
		}
	}
	return body, lookupHit
}

// Stats is a snapshot of the cache for health endpoints and tests.
type Stats struct {
	L1Entries    int
	L1Bytes      uint64
	L1MaxBytes   int64
	L2Enabled    bool
	Breaker      string // closed, half_open, open ("" without L2)
	QueueLen     int
	QueueCap     int
	L1Hits       uint64
	L1Misses     uint64
	L2Hits       uint64
	L2Misses     uint64
	Computes     uint64
	WritesDone   uint64
	WritesDrop   uint64
	Evictions    uint64
	SharedCalls  uint64
	BreakerOpens uint64
	// L2Invalid counts L2 values refused or undecodable (all reasons).
	L2Invalid uint64
	// Panics counts recovered panics (all sites).
	Panics uint64
}

// Stats returns a snapshot; the counters are the Prometheus ones.
func (c *Cache) Stats() Stats {
	s := Stats{
		L1Entries:   c.l1Entries(),
		L1Bytes:     c.l1Bytes(),
		L1MaxBytes:  c.cfg.MaxBytes,
		L2Enabled:   c.l2 != nil,
		QueueLen:    c.queueLen(),
		QueueCap:    c.queueCap(),
		L1Hits:      counterValue(c.m.l1.hits),
		L1Misses:    counterValue(c.m.l1.misses),
		L2Hits:      counterValue(c.m.l2.hits),
		L2Misses:    counterValue(c.m.l2.misses),
		WritesDone:  counterValue(c.m.writesDone),
		SharedCalls: counterValue(c.m.shared),
	}
	for _, class := range []Class{ClassExact, ClassFuzzy, ClassNotFound, ClassNoStore} {
		s.Computes += counterValue(c.m.computes.WithLabelValues(class.String()))
	}
	for _, r := range dropReasons {
		s.WritesDrop += counterValue(c.m.writesDropped.WithLabelValues(r))
	}
	for _, r := range evictReasons {
		s.Evictions += counterValue(c.m.evictions.WithLabelValues("l1", r))
	}
	s.L2Invalid = counterValue(c.m.redisDecodeErr)
	for _, r := range invalidReasons {
		s.L2Invalid += counterValue(c.m.redisInvalid.WithLabelValues(r))
	}
	for _, site := range panicSites {
		s.Panics += counterValue(c.m.panics.WithLabelValues(site))
	}
	if c.l2 != nil {
		s.Breaker = stateLabel(c.l2.cb.State())
		s.BreakerOpens = counterValue(c.m.breakerTrans.WithLabelValues("open"))
	}
	return s
}

func (c *Cache) l1Bytes() uint64 {
	if c.l1 == nil {
		return 0
	}
	return c.l1.c.WeightedSize()
}

func (c *Cache) l1Entries() int {
	if c.l1 == nil {
		return 0
	}
	return c.l1.c.EstimatedSize()
}

func (c *Cache) breakerState() int {
	if c.l2 == nil {
		return 0
	}
	switch c.l2.cb.State() {
	case gobreaker.StateHalfOpen:
		return 1
	case gobreaker.StateOpen:
		return 2
	}
	return 0
}

func (c *Cache) queueLen() int {
	if c.l2 == nil {
		return 0
	}
	return len(c.l2.queue)
}

func (c *Cache) queueCap() int {
	if c.l2 == nil {
		return 0
	}
	return cap(c.l2.queue)
}
