package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// errCallerGone marks a call abandoned because the request's own context
// ended: it says nothing about Redis, so the breaker ignores it.
var errCallerGone = errors.New("caller context done")

// l2 is the Redis tier.
type l2 struct {
	cfg    Config
	client redis.UniversalClient
	cb     *gobreaker.CircuitBreaker[[]byte]
	codec  *codec
	m      *metrics
	log    *slog.Logger
	errLog throttle
	tracer trace.Tracer

	queue chan l2Write
	stop  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
}

// l2Write is a queued write; the worker hashes the key and encodes the
// value, so that neither costs the request, nor a dropped write anything.
type l2Write struct {
	key   string
	body  []byte
	class Class
	ttl   time.Duration
	at    time.Time
}

func newL2(cfg Config, m *metrics, log *slog.Logger, tracer trace.Tracer) (*l2, error) {
	client, err := newRedisClient(cfg)
	if err != nil {
		return nil, err
	}
	installRedisLogger(log)
	cd, err := newCodec(cfg.CompressMin)
	if err != nil {
		client.Close()
		return nil, err
	}
	l := &l2{
		cfg:    cfg,
		client: client,
		codec:  cd,
		m:      m,
		log:    log,
		errLog: throttle{every: 10 * time.Second},
		tracer: tracer,
		queue:  make(chan l2Write, cfg.WriteQueue),
		stop:   make(chan struct{}),
	}
	failures := uint32(cfg.BreakerFailures)
	l.cb = gobreaker.NewCircuitBreaker[[]byte](gobreaker.Settings{
		Name:        "redis",
		MaxRequests: 1,
		// Counts are kept over a rolling 10 s window so that the ratio
		// rule sees recent calls only.
		Interval:     10 * time.Second,
		BucketPeriod: time.Second,
		Timeout:      cfg.BreakerOpen,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			// Consecutive failures catch a dead node at once; the ratio
			// catches a flapping one (or one Cluster node of three down).
			return c.ConsecutiveFailures >= failures ||
				(c.Requests >= 4*failures && c.TotalFailures*2 >= c.Requests)
		},
		IsExcluded: func(err error) bool { return errors.Is(err, errCallerGone) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			m.breakerTrans.WithLabelValues(stateLabel(to)).Inc()
			lvl := slog.LevelInfo
			if to == gobreaker.StateOpen {
				lvl = slog.LevelWarn
			}
			log.Log(context.Background(), lvl, "redis circuit breaker changed state",
				"from", stateLabel(from), "to", stateLabel(to))
		},
	})
	for range cfg.WriteWorkers {
		l.wg.Add(1)
		go l.writer()
	}
	return l, nil
}

func stateLabel(s gobreaker.State) string {
	switch s {
	case gobreaker.StateClosed:
		return "closed"
	case gobreaker.StateHalfOpen:
		return "half_open"
	}
	return "open"
}

// newRedisClient builds a go-redis client whose every call is bounded by
// the context deadline we give it: no retries, no waiting for a pooled
// connection beyond the call's own timeout, one dial attempt.
func newRedisClient(cfg Config) (redis.UniversalClient, error) {
	cluster := cfg.RedisCluster || strings.Contains(cfg.RedisURL, "addr=")
	if cluster {
		o, err := redis.ParseClusterURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("cannot parse redis cluster URL: %w", err)
		}
		tuneCluster(o, cfg)
		return redis.NewClusterClient(o), nil
	}
	o, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("cannot parse redis URL (want redis://host:port[/db]): %w", err)
	}
	tuneNode(o, cfg)
	return redis.NewClient(o), nil
}

func tuneNode(o *redis.Options, cfg Config) {
	o.Protocol = 2 // GET/SET only: no HELLO round trip on (re)connect
	o.MaxRetries = -1
	o.DialerRetries = 1
	if o.DialTimeout <= 0 || o.DialTimeout == 5*time.Second {
		o.DialTimeout = 250 * time.Millisecond
	}
	o.ReadTimeout = cfg.RedisWriteTimeout
	o.WriteTimeout = cfg.RedisWriteTimeout
	o.PoolTimeout = cfg.RedisWriteTimeout
	o.ContextTimeoutEnabled = true
	o.DisableIdentity = true
	if cfg.RedisPoolSize > 0 {
		o.PoolSize = cfg.RedisPoolSize
	}
}

func tuneCluster(o *redis.ClusterOptions, cfg Config) {
	o.Protocol = 2
	o.MaxRetries = -1
	o.MaxRedirects = 1
	o.DialerRetries = 1
	if o.DialTimeout <= 0 || o.DialTimeout == 5*time.Second {
		o.DialTimeout = 250 * time.Millisecond
	}
	o.ReadTimeout = cfg.RedisWriteTimeout
	o.WriteTimeout = cfg.RedisWriteTimeout
	o.PoolTimeout = cfg.RedisWriteTimeout
	o.ContextTimeoutEnabled = true
	o.DisableIdentity = true
	if cfg.RedisPoolSize > 0 {
		o.PoolSize = cfg.RedisPoolSize
	}
}

// redisKey hashes a cache key: short, evenly spread over Cluster slots,
// and free of query text.
func (l *l2) redisKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	b := make([]byte, 0, len(l.cfg.RedisKeyPrefix)+32)
	b = append(b, l.cfg.RedisKeyPrefix...)
	b = hex.AppendEncode(b, sum[:16])
	return string(b)
}

// get reads one key. ok is false on a miss, an error, a timeout or an open
// breaker: the caller computes the answer in every such case.
func (l *l2) get(ctx context.Context, key string) (body []byte, class Class, expires time.Time, ok bool) {
	ctx, span := l.tracer.Start(ctx, "redis GET", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", "redis"),
			attribute.String("db.operation.name", "GET")))
	defer span.End()
	start := time.Now()
	v, err := l.cb.Execute(func() ([]byte, error) {
		cctx, cancel := context.WithTimeout(ctx, l.cfg.RedisTimeout)
		defer cancel()
		b, err := l.client.Get(cctx, l.redisKey(key)).Bytes()
		switch {
		case err == nil:
			return b, nil
		case errors.Is(err, redis.Nil):
			return nil, nil
		case ctx.Err() != nil:
			return nil, fmt.Errorf("%w: %w", errCallerGone, err)
		}
		return nil, err
	})
	outcome := outcomeOK
	switch {
	case err != nil:
		outcome = l.failure("get", err)
		span.SetStatus(codes.Error, outcome)
	case v == nil:
		outcome = outcomeMiss
	}
	span.SetAttributes(attribute.String("balise.outcome", outcome))
	l.m.redisDuration.WithLabelValues("get", outcome).Observe(time.Since(start).Seconds())
	if outcome != outcomeOK {
		if outcome == outcomeMiss {
			l.m.l2.misses.Inc()
		}
		return nil, 0, time.Time{}, false
	}
	body, class, expires, err = l.codec.decode(v)
	if err != nil {
		l.m.redisDecodeErr.Inc()
		l.m.l2.misses.Inc()
		l.logErr("cannot decode an L2 value; treated as a miss", err)
		return nil, 0, time.Time{}, false
	}
	l.m.l2.hits.Inc()
	return body, class, expires, true
}

// failure classifies an error into an outcome label and logs it,
// throttled: a dead Redis must not flood the logs.
func (l *l2) failure(op string, err error) string {
	switch {
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		return outcomeRejected
	case errors.Is(err, errCallerGone):
		return outcomeError
	}
	outcome := outcomeError
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		outcome = outcomeTimeout
	}
	l.logErr("redis "+op+" failed; answering without L2", err)
	return outcome
}

func (l *l2) logErr(msg string, err error) {
	if n, ok := l.errLog.allow(); ok {
		l.log.Warn(msg, "err", err, "suppressed", n)
	}
}

// enqueue schedules a write; it never blocks.
func (l *l2) enqueue(key string, body []byte, class Class, ttl time.Duration) {
	select {
	case l.queue <- l2Write{key: key, body: body, class: class, ttl: ttl, at: time.Now()}:
	default:
		l.m.writesDropped.WithLabelValues("queue_full").Inc()
	}
}

// writer drains the queue, pipelining whatever has accumulated (up to
// WriteBatch) into one round trip.
func (l *l2) writer() {
	defer l.wg.Done()
	batch := make([]l2Write, 0, l.cfg.WriteBatch)
	for {
		select {
		case <-l.stop:
			l.drain(batch[:0])
			return
		case w := <-l.queue:
			batch = append(batch[:0], w)
		more:
			for len(batch) < cap(batch) {
				select {
				case w := <-l.queue:
					batch = append(batch, w)
				default:
					break more
				}
			}
			l.flush(batch)
		}
	}
}

// drain flushes what is queued at Close, within one write timeout per
// batch; whatever cannot be flushed is dropped.
func (l *l2) drain(batch []l2Write) {
	for {
		select {
		case w := <-l.queue:
			batch = append(batch, w)
			if len(batch) == cap(batch) {
				l.flush(batch)
				batch = batch[:0]
			}
		default:
			if len(batch) > 0 {
				l.flush(batch)
			}
			return
		}
	}
}

func (l *l2) flush(batch []l2Write) {
	if l.cb.State() == gobreaker.StateOpen {
		// Do not spend the encoding on writes the breaker will refuse.
		l.m.writesDropped.WithLabelValues("breaker_open").Add(float64(len(batch)))
		l.m.redisDuration.WithLabelValues("set", outcomeRejected).Observe(0)
		return
	}
	start := time.Now()
	type kv struct {
		key string
		val []byte
		ttl time.Duration
	}
	writes := make([]kv, 0, len(batch))
	size := 0
	for _, w := range batch {
		// The TTL counts from Set: a value that waited in the queue does
		// not outlive it, in Redis or in its header.
		exp := w.at.Add(w.ttl)
		ttl := time.Until(exp)
		if ttl <= 0 {
			continue
		}
		v := l.codec.encode(w.body, w.class, exp)
		writes = append(writes, kv{l.redisKey(w.key), v, ttl})
		size += len(v)
	}
	if len(writes) == 0 {
		return
	}
	_, err := l.cb.Execute(func() ([]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), l.cfg.RedisWriteTimeout)
		defer cancel()
		pipe := l.client.Pipeline()
		for _, w := range writes {
			pipe.Set(ctx, w.key, w.val, w.ttl)
		}
		_, err := pipe.Exec(ctx)
		return nil, err
	})
	outcome := outcomeOK
	if err != nil {
		outcome = l.failure("set", err)
		reason := "error"
		if outcome == outcomeRejected {
			reason = "breaker_open"
		}
		l.m.writesDropped.WithLabelValues(reason).Add(float64(len(writes)))
	} else {
		l.m.writesDone.Add(float64(len(writes)))
		l.m.l2.stored.Add(float64(size))
	}
	l.m.redisDuration.WithLabelValues("set", outcome).Observe(time.Since(start).Seconds())
}

// ping measures one round trip, bypassing the breaker so that health
// checks see Redis as it is.
func (l *l2) ping(ctx context.Context) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, max(l.cfg.RedisWriteTimeout, l.cfg.RedisTimeout))
	defer cancel()
	start := time.Now()
	err := l.client.Ping(ctx).Err()
	return time.Since(start), err
}

func (l *l2) close() error {
	var err error
	l.once.Do(func() {
		close(l.stop)
		l.wg.Wait()
		err = l.client.Close()
		l.codec.close()
	})
	return err
}

// throttle lets one event through per period and counts the others.
type throttle struct {
	every      time.Duration
	last       atomic.Int64
	suppressed atomic.Int64
}

func (t *throttle) allow() (suppressed int64, ok bool) {
	now := time.Now().UnixNano()
	last := t.last.Load()
	if now-last < int64(t.every) || !t.last.CompareAndSwap(last, now) {
		t.suppressed.Add(1)
		return 0, false
	}
	return t.suppressed.Swap(0), true
}

// redisLogger carries go-redis' own messages (dial failures, pool
// events) into slog at debug level: our L2 code already reports each
// failure, throttled, at warn level, and go-redis would otherwise print
// plain-text lines on stderr amid the JSON logs.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}

// go-redis' logger is process-wide; the first cache with L2 installs ours.
var redisLoggerOnce sync.Once

func installRedisLogger(log *slog.Logger) {
	redisLoggerOnce.Do(func() { redis.SetLogger(redisLogger{log}) })
}
