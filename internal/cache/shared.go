package cache

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// ErrBreakerOpen is returned (wrapped) by the guard of [Cache.Redis] and
// reported by [Cache.Ping] when the circuit breaker refused the call
// without contacting Redis: it is open, or half-open with its one probe
// already in flight.
var ErrBreakerOpen = errors.New("redis circuit breaker open")

// L2 health statuses, the values of L2Health.Status.
const (
	L2StatusOK          = "ok"
	L2StatusTimeout     = "timeout"
	L2StatusRefused     = "refused"
	L2StatusBreakerOpen = "breaker_open"
	L2StatusError       = "error"
)

// L2Health is what a readiness check reports about Redis.
type L2Health struct {
	Enabled bool
	// Breaker is closed, half_open or open, after the check.
	Breaker string
	// Status classifies the check for public reports: exactly one of
	// L2StatusOK, L2StatusTimeout, L2StatusRefused, L2StatusBreakerOpen,
	// L2StatusError ("" when L2 is off).
	Status string
	// Latency of the PING; 0 when the breaker refused it.
	Latency time.Duration
	// Err is the failure as Redis or the network reported it. It may name
	// hosts, addresses and server messages: for the admin report and
	// logs, never for a public endpoint (use Status there).
	Err error
}

// Ping checks Redis through the circuit breaker, like any other call: an
// open breaker reports L2StatusBreakerOpen without dialling Redis, a
// half-open one lets the check be its probe. A cache without L2 reports
// Enabled false. A failing Redis does not make the service unready:
// answers are computed instead.
func (c *Cache) Ping(ctx context.Context) L2Health {
	if c.l2 == nil {
		return L2Health{}
	}
	ctx, span := c.tracer.Start(ctx, "redis PING", trace.WithSpanKind(trace.SpanKindClient))
	defer span.End()
	d, err := c.l2.ping(ctx)
	status := healthStatus(err)
	if err != nil {
		span.SetStatus(codes.Error, status)
	}
	return L2Health{Enabled: true, Breaker: stateLabel(c.l2.cb.State()), Status: status, Latency: d, Err: err}
}

// healthStatus classifies a PING's error into an L2Health.Status.
func healthStatus(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return L2StatusOK
	case errors.Is(err, ErrBreakerOpen):
		return L2StatusBreakerOpen
	case errors.Is(err, syscall.ECONNREFUSED):
		return L2StatusRefused
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return L2StatusTimeout
	}
	return L2StatusError
}

// ping measures one round trip through the breaker.
func (l *l2) ping(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	var rtt time.Duration
	_, err := l.cb.Execute(func() ([]byte, error) {
		cctx, cancel := context.WithTimeout(ctx, max(l.cfg.RedisWriteTimeout, l.cfg.RedisTimeout))
		defer cancel()
		sent := time.Now()
		err := l.client.Ping(cctx).Err()
		rtt = time.Since(sent)
		if err != nil && ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", errCallerGone, err)
		}
		return nil, err
	})
	return rtt, l.settle("ping", start, err)
}

// settle counts and logs the outcome of a call run through the breaker,
// and marks a refusal by the breaker with ErrBreakerOpen.
func (l *l2) settle(op string, start time.Time, err error) error {
	outcome := outcomeOK
	if err != nil {
		outcome = l.failure(op, err)
	}
	l.m.redisDuration.WithLabelValues(op, outcome).Observe(time.Since(start).Seconds())
	if outcome == outcomeRejected {
		return fmt.Errorf("%w: %w", ErrBreakerOpen, err)
	}
	return err
}

// Redis returns the L2 client and a guard running a call through the
// breaker under the configured per-call timeout; ok is false without L2.
//
// The rate limiter shares them so that one breaker decides for every
// Redis call of the process: a Redis that stopped answering costs the
// requests a few timeouts in all, not a few per component. The guard
// gives fn a context bounded by Config.RedisTimeout; fn's error comes
// back as is, except that redis.Nil (a missing key) is a success for the
// breaker, calls abandoned because ctx ended do not count against Redis,
// and a panic in fn comes back as a *PanicError (not counted either). A
// call the breaker refuses returns an error matching ErrBreakerOpen at
// once, without calling fn. Outcomes are in
// balise_cache_redis_request_duration_seconds{op="ratelimit"}.
func (c *Cache) Redis() (client redis.UniversalClient, guard func(ctx context.Context, fn func(ctx context.Context) error) error, ok bool) {
	if c.l2 == nil {
		return nil, nil, false
	}
	return c.l2.client, func(ctx context.Context, fn func(ctx context.Context) error) error {
		return c.guard(ctx, "ratelimit", fn)
	}, true
}

func (c *Cache) guard(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	l := c.l2
	ctx, span := c.tracer.Start(ctx, "redis "+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", "redis")))
	defer span.End()
	start := time.Now()
	missed := false
	_, err := l.cb.Execute(func() (_ []byte, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = c.recovered(siteGuard, p)
			}
		}()
		cctx, cancel := context.WithTimeout(ctx, l.cfg.RedisTimeout)
		defer cancel()
		switch err := fn(cctx); {
		case err == nil:
			return nil, nil
		case errors.Is(err, redis.Nil):
			missed = true
			return nil, nil
		case ctx.Err() != nil:
			return nil, fmt.Errorf("%w: %w", errCallerGone, err)
		default:
			return nil, err
		}
	})
	var pe *PanicError
	switch {
	case missed:
		l.m.redisDuration.WithLabelValues(op, outcomeMiss).Observe(time.Since(start).Seconds())
		return redis.Nil
	case errors.As(err, &pe):
		// Already counted and logged where it was recovered.
		l.m.redisDuration.WithLabelValues(op, outcomeError).Observe(time.Since(start).Seconds())
		span.SetStatus(codes.Error, "panic")
		return pe
	}
	if err = l.settle(op, start, err); err != nil {
		span.SetStatus(codes.Error, healthStatus(err))
	}
	return err
}

// excludedFromBreaker tells the breaker which failures say nothing about
// Redis: the caller's own context ending, a panic in the caller's code, a
// Cluster write (the reads judge a Cluster).
func excludedFromBreaker(err error) bool {
	var pe *PanicError
	return errors.Is(err, errCallerGone) || errors.Is(err, errShardWrite) || errors.As(err, &pe)
}

// errShardWrite marks a failed write to a Redis Cluster, which the breaker
// leaves to the reads to judge (see l2.flush).
var errShardWrite = errors.New("redis cluster write failed")

// isBreakerRefusal reports whether err is the breaker's refusal.
func isBreakerRefusal(err error) bool {
	return errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests)
}
