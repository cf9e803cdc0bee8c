package ratelimit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"net"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"
)

// Redis shares the budgets across replicas.
type Redis struct {
	Client redis.UniversalClient
	// Guard runs fn through the cache's circuit breaker with its per-call
	// timeout; when the breaker is open it returns an error without
	// calling fn. It must return only once fn has returned (it bounds
	// fn's time through fn's context): every Allow waits at most that
	// long for Redis.
	Guard func(ctx context.Context, fn func(ctx context.Context) error) error
}

// shared decides in Redis with redis_rate's GCRA script, the same
// algorithm as the local table, so that a client sees the same budget
// whichever decides.
type shared struct {
	limiter *redis_rate.Limiter
	guard   func(ctx context.Context, fn func(ctx context.Context) error) error
	prefix  string
	secret  []byte
	m       *metrics
}

var errNoResult = errors.New("redis rate limiter returned no result")

func newShared(cfg Config, m *metrics) *shared {
	return &shared{
		limiter: redis_rate.NewLimiter(cfg.Redis.Client),
		guard:   cfg.Redis.Guard,
		prefix:  cfg.RedisPrefix,
		secret:  cfg.RedisKeySecret,
		m:       m,
	}
}

// take runs one GCRA step in Redis through the guard.
func (s *shared) take(ctx context.Context, c Client, class Class, g gcra, n int) (Decision, error) {
	key := s.keyName(c, class)
	limit := redisLimit(g.rate)
	// The result goes through an atomic so that a guard breaking its
	// contract (returning while fn still runs) cannot race with us.
	var out atomic.Pointer[redis_rate.Result]
	err := s.guard(ctx, func(ctx context.Context) error {
		res, err := s.limiter.AllowN(ctx, key, limit, n)
		if err == nil {
			out.Store(res)
		}
		return err
	})
	res := out.Load()
	if err == nil && res == nil {
		err = errNoResult
	}
	if err != nil {
		s.m.redisErrors[redisErrorReason(err)].Inc()
		return Decision{}, err
	}
	return fromRedis(res, g).decision(g, class, SourceRedis), nil
}

// fromRedis reads redis_rate's result: RetryAfter is -1 when allowed,
// and Remaining is 0 on a refusal, so the units available then are
// computed from ResetAfter (with a microsecond's slack for the script's
// floating point).
func fromRedis(res *redis_rate.Result, g gcra) verdict {
	v := verdict{resetAfter: max(int64(res.ResetAfter), 0)}
	if res.RetryAfter < 0 {
		v.allowed = true
		v.remaining = min(max(res.Remaining, 0), g.rate.Burst)
		return v
	}
	v.retryAfter = max(int64(res.RetryAfter), 1)
	v.remaining = g.available(v.resetAfter - int64(time.Microsecond))
	return v
}

// redisLimit expresses a Rate as redis_rate's Limit, Rate events per
// Period, whose script only uses the emission interval Period/Rate: an
// integral rate is Rate per second, any other one event per interval
// (0.5/s is 1 per 2 s).
func redisLimit(r Rate) redis_rate.Limit {
	if r.PerSecond == math.Trunc(r.PerSecond) {
		return redis_rate.Limit{Rate: int(r.PerSecond), Burst: r.Burst, Period: time.Second}
	}
	return redis_rate.Limit{Rate: 1, Burst: r.Burst, Period: r.interval()}
}

// keyName names c's budget of class in Redis: the prefix, the class, and
// 128 bits of an HMAC of the client's identity, so that neither an
// address nor a key name appears in Redis.
func (s *shared) keyName(c Client, class Class) string {
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte{byte(c.kind)})
	mac.Write(c.id[:])
	var sum [sha256.Size]byte
	mac.Sum(sum[:0])
	buf := make([]byte, 0, len(s.prefix)+2+32)
	buf = append(buf, s.prefix...)
	buf = append(buf, class.String()[0], ':')
	buf = hex.AppendEncode(buf, sum[:16])
	return string(buf)
}

// Reasons of a Redis failure, the reason label of
// balise_ratelimit_redis_errors_total.
const (
	reasonBreakerOpen = iota
	reasonTimeout
	reasonCanceled
	reasonError
	numReasons
)

var reasonNames = [numReasons]string{"breaker_open", "timeout", "canceled", "error"}

func redisErrorReason(err error) int {
	var ne net.Error
	switch {
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		return reasonBreakerOpen
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return reasonTimeout
	case errors.Is(err, context.Canceled):
		return reasonCanceled
	}
	return reasonError
}
