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
	// cluster: a Redis Cluster, whose shards fail one at a time.
	cluster bool
	cfg     Config
	client  redis.UniversalClient
	cb      *gobreaker.CircuitBreaker[[]byte]
	codec   *codec
	m       *metrics
	log     *slog.Logger
	errLog  throttle
	// panicLog is the cache's: one throttle for every recovered panic.
	panicLog *throttle
	tracer   trace.Tracer

	queue chan l2Write
	stop  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
}

// l2Write is a queued write; the worker hashes the key and encodes the
// value, so that neither costs the request, nor a dropped write anything.
// A delete (of a bad value) is a write with del set.
type l2Write struct {
	key   string
	body  []byte
	class Class
	ttl   time.Duration
	at    time.Time
	del   bool
}

// lookup is the outcome of an L2 read.
type lookup uint8

const (
	// lookupMiss: absent, of an earlier format, or L2 unavailable.
	lookupMiss lookup = iota
	lookupHit
	// lookupInvalid: present but undecodable or refused; it must be
	// overwritten or deleted.
	lookupInvalid
)

// expirySlack is how far beyond its class's TTL a stored expiry may lie
// (clock skew between the balise processes sharing Redis) before the value
// is refused as forged or corrupt.
const expirySlack = time.Minute

func newL2(cfg Config, m *metrics, log *slog.Logger, tracer trace.Tracer, panicLog *throttle) (*l2, error) {
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
		cluster:  isCluster(cfg),
		cfg:      cfg,
		client:   client,
		codec:    cd,
		m:        m,
		log:      log,
		errLog:   throttle{every: 10 * time.Second},
		panicLog: panicLog,
		tracer:   tracer,
		queue:    make(chan l2Write, cfg.WriteQueue),
		stop:     make(chan struct{}),
	}
	failures := uint32(cfg.BreakerFailures)
	cluster := l.cluster
	l.cb = gobreaker.NewCircuitBreaker[[]byte](gobreaker.Settings{
		Name:        "redis",
		MaxRequests: 1,
		// Counts are kept over a rolling 10 s window so that the ratio
		// rule sees recent calls only.
		Interval:     10 * time.Second,
		BucketPeriod: time.Second,
		Timeout:      cfg.BreakerOpen,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			// The ratio catches a flapping node, and a Cluster most of
			// whose nodes are gone.
			if c.Requests >= 4*failures && c.TotalFailures*2 >= c.Requests {
				return true
			}
			// Consecutive failures catch a dead single node at once. Not
			// in a Cluster: there one primary of three lost (until its
			// replica takes over) fails a third of the calls, and runs of
			// five come within milliseconds: the breaker would then skip
			// the live shards too, losing the whole L2 for a third of it.
			return !cluster && c.ConsecutiveFailures >= failures
		},
		IsExcluded: excludedFromBreaker,
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
	if isCluster(cfg) {
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

// isCluster reports whether cfg names a Redis Cluster (a seed flagged as
// one, or several addresses).
func isCluster(cfg Config) bool {
	return cfg.RedisCluster || strings.Contains(cfg.RedisURL, "addr=")
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
	// go-redis re-reads the slot map on a MOVED or ASK answer, which a dead
	// primary never sends: without a short reload interval the lost
	// shard's keys would go on being sent to its old address for up to the
	// default 60 s after its replica has taken over. A CLUSTER SLOTS every
	// 2 s per replica costs nothing beside the traffic.
	o.ClusterStateReloadInterval = clusterStateReload
}

// clusterStateReload bounds how long a failed-over primary's slots stay
// routed to its old address.
const clusterStateReload = 2 * time.Second

// redisKey hashes a cache key: short, evenly spread over Cluster slots,
// and free of query text.
func (l *l2) redisKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	b := make([]byte, 0, len(l.cfg.RedisKeyPrefix)+32)
	b = append(b, l.cfg.RedisKeyPrefix...)
	b = hex.AppendEncode(b, sum[:16])
	return string(b)
}

// get reads one key. A miss, an error, a timeout or an open breaker is a
// lookupMiss, a value that is undecodable or refused a lookupInvalid: the
// caller computes the answer in every such case.
func (l *l2) get(ctx context.Context, key string) (body []byte, class Class, expires time.Time, found lookup) {
	v, ok := l.fetch(ctx, key)
	if !ok {
		return nil, 0, time.Time{}, lookupMiss
	}
	body, class, expires, err := l.codec.decode(v)
	switch {
	case errors.Is(err, errOldVersion):
		l.m.l2.misses.Inc()
		return nil, 0, time.Time{}, lookupMiss
	case err != nil:
		l.m.redisDecodeErr.Inc()
		l.m.l2.misses.Inc()
		l.logInvalid(key, len(v), "decode", err)
		return nil, 0, time.Time{}, lookupInvalid
	}
	if reason := l.refuse(body, class, expires, time.Now()); reason != "" {
		l.m.redisInvalid.WithLabelValues(reason).Inc()
		l.m.l2.misses.Inc()
		// The validator's error is not logged: it may quote the body.
		l.logInvalid(key, len(v), reason, nil)
		return nil, 0, time.Time{}, lookupInvalid
	}
	l.m.l2.hits.Inc()
	return body, class, expires, lookupHit
}

// fetch runs the GET through the breaker; ok is false on a miss or any
// failure (counted and logged here).
func (l *l2) fetch(ctx context.Context, key string) (v []byte, ok bool) {
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
		l.m.l2.misses.Inc()
	}
	span.SetAttributes(attribute.String("balise.outcome", outcome))
	l.m.redisDuration.WithLabelValues("get", outcome).Observe(time.Since(start).Seconds())
	return v, outcome == outcomeOK
}

// refuse returns why a decoded value must not be served ("" if it may).
// The expiry is checked before the body: a value claiming to live longer
// than its class allows was not written by a balise sharing this
// configuration.
func (l *l2) refuse(body []byte, class Class, expires, now time.Time) string {
	ttl := l.cfg.TTL.Of(class)
	if ttl <= 0 || expires.Sub(now) > ttl+expirySlack {
		return invalidExpiry
	}
	if l.cfg.Validate != nil && !l.valid(body) {
		return invalidValidator
	}
	return ""
}

// valid runs Config.Validate; a panic in it is a rejection.
func (l *l2) valid(body []byte) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			recordPanic(l.m, l.log, l.panicLog, siteValidate, p)
			ok = false
		}
	}()
	return l.cfg.Validate(body) == nil
}

// logInvalid reports a refused value by its hashed Redis key (so that an
// operator can inspect it) and size, never its content.
func (l *l2) logInvalid(key string, size int, reason string, err error) {
	if n, ok := l.errLog.allow(); ok {
		attrs := []any{"reason", reason, "redis_key", l.redisKey(key), "bytes", size, "suppressed", n}
		if err != nil {
			attrs = append(attrs, "err", err)
		}
		l.log.Warn("refused an L2 value; treated as a miss and replaced", attrs...)
	}
}

// failure classifies an error into an outcome label and logs it,
// throttled: a dead Redis must not flood the logs.
func (l *l2) failure(op string, err error) string {
	switch {
	case isBreakerRefusal(err):
		return outcomeRejected
	case errors.Is(err, errCallerGone):
		return outcomeError
	}
	outcome := outcomeError
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		outcome = outcomeTimeout
	}
	l.logErr("redis call failed; going on without it", op, err)
	return outcome
}

func (l *l2) logErr(msg, op string, err error) {
	if n, ok := l.errLog.allow(); ok {
		l.log.Warn(msg, "op", op, "err", err, "suppressed", n)
	}
}

// enqueue schedules a write and reports whether it was queued; it never
// blocks.
func (l *l2) enqueue(key string, body []byte, class Class, ttl time.Duration) bool {
	return l.push(l2Write{key: key, body: body, class: class, ttl: ttl, at: time.Now()})
}

// enqueueDelete schedules the deletion of a bad value.
func (l *l2) enqueueDelete(key string) {
	l.push(l2Write{key: key, del: true})
}

func (l *l2) push(w l2Write) bool {
	select {
	case l.queue <- w:
		return true
	default:
		l.m.writesDropped.WithLabelValues("queue_full").Inc()
		return false
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
			l.safeFlush(batch)
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
				l.safeFlush(batch)
				batch = batch[:0]
			}
		default:
			if len(batch) > 0 {
				l.safeFlush(batch)
			}
			return
		}
	}
}

// safeFlush is flush with its panics recovered: the batch is dropped,
// the worker goes on with the next one.
func (l *l2) safeFlush(batch []l2Write) {
	defer func() {
		if p := recover(); p != nil {
			recordPanic(l.m, l.log, l.panicLog, siteWriter, p)
			l.m.writesDropped.WithLabelValues("panic").Add(float64(len(batch)))
		}
	}()
	l.flush(batch)
}

// pendingWrite is one command of a pipelined batch, ready to send.
type pendingWrite struct {
	key string
	val []byte // nil for a delete
	ttl time.Duration
}

func (l *l2) flush(batch []l2Write) {
	if l.cfg.beforeFlush != nil {
		l.cfg.beforeFlush()
	}
	if l.cb.State() == gobreaker.StateOpen {
		// Do not spend the encoding on writes the breaker will refuse.
		l.m.writesDropped.WithLabelValues("breaker_open").Add(float64(len(batch)))
		l.m.redisDuration.WithLabelValues("set", outcomeRejected).Observe(0)
		return
	}
	start := time.Now()
	writes, size, deletes := l.prepare(batch)
	if len(writes) == 0 {
		return
	}
	var failed []bool // per write, when the pipeline failed in part
	_, err := l.cb.Execute(func() ([]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), l.cfg.RedisWriteTimeout)
		defer cancel()
		pipe := l.client.Pipeline()
		for _, w := range writes {
			if w.val == nil {
				pipe.Del(ctx, w.key)
			} else {
				pipe.Set(ctx, w.key, w.val, w.ttl)
			}
		}
		cmds, err := pipe.Exec(ctx)
		if err != nil && len(cmds) == len(writes) {
			// In a Cluster the batch spans the shards: with one shard
			// down its writes fail and the others' succeed. That is a
			// partial outage, not a dead Redis: the breaker must not count
			// it against the live shards (the reads of the dead shard's
			// keys count on their own).
			failed = make([]bool, len(cmds))
			some := false
			for i, c := range cmds {
				failed[i] = c.Err() != nil
				some = some || !failed[i]
			}
			if some {
				l.logErr("redis writes failed in part; going on without them", "set", err)
				return nil, nil
			}
		}
		if err != nil && l.cluster {
			// A Cluster's reads alone judge it: every missed read of a dead
			// shard's key is followed by a write of it, so counting writes
			// too would double that shard's weight and trip the breaker on
			// one shard of three. A whole Cluster down fails the reads.
			return nil, fmt.Errorf("%w: %w", errShardWrite, err)
		}
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
		l.countWrites(writes, failed, size, deletes)
	}
	l.m.redisDuration.WithLabelValues("set", outcome).Observe(time.Since(start).Seconds())
}

// countWrites records a pipeline that ran: every write, or those not
// marked in failed (a Cluster with a shard down).
func (l *l2) countWrites(writes []pendingWrite, failed []bool, size, deletes int) {
	if failed == nil {
		l.m.writesDone.Add(float64(len(writes) - deletes))
		l.m.redisDeletes.Add(float64(deletes))
		l.m.l2.stored.Add(float64(size))
		return
	}
	for i, w := range writes {
		switch {
		case failed[i]:
			l.m.writesDropped.WithLabelValues("error").Inc()
		case w.val == nil:
			l.m.redisDeletes.Inc()
		default:
			l.m.writesDone.Inc()
			l.m.l2.stored.Add(float64(len(w.val)))
		}
	}
}

// prepare hashes the keys and encodes the values of a batch, skipping
// writes that expired while queued.
func (l *l2) prepare(batch []l2Write) (writes []pendingWrite, size, deletes int) {
	writes = make([]pendingWrite, 0, len(batch))
	for _, w := range batch {
		if w.del {
			writes = append(writes, pendingWrite{key: l.redisKey(w.key)})
			deletes++
			continue
		}
		// The TTL counts from Set: a value that waited in the queue does
		// not outlive it, in Redis or in its header.
		exp := w.at.Add(w.ttl)
		ttl := time.Until(exp)
		if ttl <= 0 {
			continue
		}
		v := l.codec.encode(w.body, w.class, exp)
		writes = append(writes, pendingWrite{l.redisKey(w.key), v, ttl})
		size += len(v)
	}
	return writes, size, deletes
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
