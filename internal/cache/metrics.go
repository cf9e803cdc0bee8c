package cache

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// metrics are the cache's Prometheus series. Labels are bounded: tier,
// class, operation, outcome and reason take a handful of fixed values.
type metrics struct {
	hits, misses   *prometheus.CounterVec // tier
	evictions      *prometheus.CounterVec // tier, reason
	storedBytes    *prometheus.CounterVec // tier
	computes       *prometheus.CounterVec // class
	computeErrors  prometheus.Counter
	shared         prometheus.Counter
	redisDuration  *prometheus.HistogramVec // op, outcome
	redisDecodeErr prometheus.Counter
	redisInvalid   *prometheus.CounterVec // reason
	redisDeletes   prometheus.Counter
	panics         *prometheus.CounterVec // site
	breakerTrans   *prometheus.CounterVec // to
	writesDropped  *prometheus.CounterVec // reason
	writesDone     prometheus.Counter

	// l1 and l2 are the tier series, resolved once so that the request
	// path counts without a label lookup.
	l1, l2 tierSeries
}

// tierSeries are the hits, misses and stored bytes of one tier.
type tierSeries struct {
	hits, misses, stored prometheus.Counter
}

// Label values of the reasons, listed once for newMetrics and Stats.
var (
	evictReasons   = []string{"size", "expired"}
	dropReasons    = []string{"queue_full", "breaker_open", "error", "panic"}
	invalidReasons = []string{invalidExpiry, invalidValidator}
	panicSites     = []string{siteCompute, siteValidate, siteWriter, siteGuard}
)

// Reasons an L2 value that decodes is refused.
const (
	invalidExpiry    = "expiry"    // expires further ahead than its class's TTL
	invalidValidator = "validator" // Config.Validate rejected the body
)

// Where a recovered panic happened.
const (
	siteCompute  = "compute"   // the computation given to Cache.Do
	siteValidate = "validate"  // Config.Validate
	siteWriter   = "l2_writer" // an L2 write worker
	siteGuard    = "guard"     // a call run through the guard of Cache.Redis
)

// Redis call outcomes.
const (
	outcomeOK       = "ok"
	outcomeMiss     = "miss"
	outcomeError    = "error"
	outcomeTimeout  = "timeout"
	outcomeRejected = "rejected" // the breaker refused the call
)

func newMetrics(reg prometheus.Registerer, c *Cache) (*metrics, error) {
	m := &metrics{
		hits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "balise_cache_hits_total",
			Help: "Cache lookups answered, by tier (l1, l2).",
		}, []string{"tier"}),
		misses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "balise_cache_misses_total",
			Help: "Cache lookups not answered, by tier (l1, l2). An L2 lookup the breaker refused is not counted here but in balise_cache_redis_request_duration_seconds{outcome=\"rejected\"}.",
		}, []string{"tier"}),
		evictions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "balise_cache_evictions_total",
			Help: "L1 entries removed by the cache itself, by reason (size: the byte budget; expired: the TTL). L2 evictions are Redis' own (redis_exporter: redis_evicted_keys_total).",
		}, []string{"tier", "reason"}),
		storedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "balise_cache_stored_bytes_total",
			Help: "Bytes written to each tier (L1: key + body + overhead; L2: encoded, compressed value).",
		}, []string{"tier"}),
		computes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "balise_cache_computes_total",
			Help: "Answers computed after a miss in every tier, by the class the engine gave them.",
		}, []string{"class"}),
		computeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "balise_cache_compute_errors_total",
			Help: "Computations that returned an error (not cached).",
		}),
		shared: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "balise_cache_singleflight_shared_total",
			Help: "Lookups that waited for an identical in-flight lookup instead of doing their own.",
		}),
		redisDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:                           "balise_cache_redis_request_duration_seconds",
			Help:                           "Redis calls by operation (get; set: a pipelined batch of writes and deletes; ping: readiness checks; ratelimit: calls of the rate limiter sharing the client and breaker) and outcome (ok, miss, error, timeout, rejected by the breaker: then the duration is ~0).",
			Buckets:                        []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1},
			NativeHistogramBucketFactor:    1.1,
			NativeHistogramMaxBucketNumber: 100,
		}, []string{"op", "outcome"}),
		redisDecodeErr: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "balise_cache_redis_decode_errors_total",
			Help: "L2 values that could not be decoded (bad header, corrupt body, checksum mismatch); treated as misses and deleted. Values of an earlier format are plain misses.",
		}),
		redisInvalid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "balise_cache_redis_invalid_total",
			Help: "L2 values that decoded but were refused, by reason (expiry: expires further ahead than its class's TTL; validator: the body failed validation); treated as misses and replaced or deleted.",
		}, []string{"reason"}),
		redisDeletes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "balise_cache_redis_deletes_total",
			Help: "Undecodable or refused L2 values deleted from Redis (when no fresh answer overwrote them).",
		}),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "balise_cache_panics_total",
			Help: "Panics recovered by the cache, by site (compute: an answer computation, returned to its callers as an error; validate: the L2 validator, the value is refused; l2_writer: a write worker, its batch is dropped; guard: a call run through the shared Redis guard).",
		}, []string{"site"}),
		breakerTrans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "balise_cache_redis_breaker_transitions_total",
			Help: "Redis circuit breaker state changes, by new state (closed, half_open, open).",
		}, []string{"to"}),
		writesDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "balise_cache_redis_writes_dropped_total",
			Help: "L2 writes given up, by reason (queue_full, breaker_open, error).",
		}, []string{"reason"}),
		writesDone: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "balise_cache_redis_writes_total",
			Help: "L2 writes that Redis acknowledged.",
		}),
	}
	gauges := cacheGauges(c)
	for _, col := range append([]prometheus.Collector{m.hits, m.misses, m.evictions, m.storedBytes,
		m.computes, m.computeErrors, m.shared, m.redisDuration, m.redisDecodeErr, m.redisInvalid,
		m.redisDeletes, m.panics, m.breakerTrans, m.writesDropped, m.writesDone}, gauges...) {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("cannot register cache metrics: %w", err)
		}
	}
	// Make the usual series exist from the start, so rate() and the
	// dashboard see zeros rather than gaps.
	m.l1, m.l2 = m.tier("l1"), m.tier("l2")
	for _, r := range evictReasons {
		m.evictions.WithLabelValues("l1", r)
	}
	for _, r := range dropReasons {
		m.writesDropped.WithLabelValues(r)
	}
	for _, r := range invalidReasons {
		m.redisInvalid.WithLabelValues(r)
	}
	for _, s := range panicSites {
		m.panics.WithLabelValues(s)
	}
	return m, nil
}

// cacheGauges are the gauges read from the cache's state at scrape time.
func cacheGauges(c *Cache) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "balise_cache_bytes",
			Help: "L1 weighted size in bytes (keys + bodies + per-entry overhead).",
		}, func() float64 { return float64(c.l1Bytes()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "balise_cache_max_bytes",
			Help: "L1 byte budget.",
		}, func() float64 { return float64(c.cfg.MaxBytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "balise_cache_entries",
			Help: "L1 entries (estimate; may count expired entries not yet cleaned up).",
		}, func() float64 { return float64(c.l1Entries()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "balise_cache_redis_enabled",
			Help: "1 when L2 (Redis) is configured.",
		}, func() float64 {
			if c.l2 != nil {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "balise_cache_redis_breaker_state",
			Help: "Redis circuit breaker state: 0 closed (L2 in use), 1 half-open (probing), 2 open (L2 skipped). 0 when L2 is off.",
		}, func() float64 { return float64(c.breakerState()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "balise_cache_redis_write_queue_length",
			Help: "L2 writes waiting in the asynchronous queue.",
		}, func() float64 { return float64(c.queueLen()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "balise_cache_redis_write_queue_capacity",
			Help: "Capacity of the asynchronous L2 write queue.",
		}, func() float64 { return float64(c.queueCap()) }),
	}
}

func (m *metrics) tier(t string) tierSeries {
	return tierSeries{m.hits.WithLabelValues(t), m.misses.WithLabelValues(t), m.storedBytes.WithLabelValues(t)}
}

// counterValue reads a counter for Stats; the Prometheus counters are the
// single source of truth.
func counterValue(c prometheus.Counter) uint64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil || m.Counter == nil {
		return 0
	}
	return uint64(m.Counter.GetValue())
}
