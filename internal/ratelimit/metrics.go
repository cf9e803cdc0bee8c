package ratelimit

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Results of a decision, the result label.
const (
	resultAllowed = iota
	resultLimited
	resultTooLarge
	numResults
)

var resultNames = [numResults]string{"allowed", "limited", "too_large"}

// metrics are the limiter's series. Every label takes a few fixed values
// (never a client), and the series are resolved once so that a decision
// costs two atomic additions.
type metrics struct {
	decisions   [numClasses][numResults][numSources]prometheus.Counter
	units       [numClasses][numResults]prometheus.Counter
	identified  [numVias]prometheus.Counter
	unknownKeys prometheus.Counter
	redisErrors [numReasons]prometheus.Counter
	evictions   prometheus.Counter
	wait        [numClasses]prometheus.Observer
}

func newMetrics(reg prometheus.Registerer, l *Limiter) (*metrics, error) {
	decisions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "balise_ratelimit_decisions_total",
		Help: "Rate limit decisions, by class (interactive, batch), result (allowed, limited, too_large: costs more than the whole burst) and source (local, redis, fallback: Redis unavailable so this replica decided alone, overflow: table full so the shared overflow budget decided, unlimited).",
	}, []string{"class", "result", "source"})
	units := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "balise_ratelimit_units_total",
		Help: "Units asked for (requests, CSV rows, batch items), by class and result.",
	}, []string{"class", "result"})
	identified := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "balise_ratelimit_identifications_total",
		Help: "Clients identified, by how (peer, x_forwarded_for, forwarded, proxy_fallback: malformed or opaque forwarding header so the last trusted hop, api_key, unknown_peer).",
	}, []string{"via"})
	unknownKeys := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "balise_ratelimit_unknown_keys_total",
		Help: "Requests refused because their API key header held no known key.",
	})
	redisErrors := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "balise_ratelimit_redis_errors_total",
		Help: "Rate limit decisions Redis did not answer, each decided by this replica alone, by reason (breaker_open, timeout, canceled, error).",
	}, []string{"reason"})
	evictions := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "balise_ratelimit_table_evictions_total",
		Help: "Full budgets dropped from the table (a fresh budget is the same).",
	})
	wait := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "balise_ratelimit_wait_seconds",
		Help:    "Time spent pacing a stream to its budget in Wait, by class.",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
	}, []string{"class"})
	entries := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "balise_ratelimit_table_entries",
		Help: "Client budgets held by the table.",
	}, func() float64 { return float64(l.table.size.Load()) })
	capacity := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "balise_ratelimit_table_capacity",
		Help: "Most client budgets the table holds; beyond, new clients share the overflow budget.",
	})
	capacity.Set(float64(l.table.limit))

	m := &metrics{unknownKeys: unknownKeys, evictions: evictions}
	for c := range numClasses {
		for r := range numResults {
			m.units[c][r] = units.WithLabelValues(c.String(), resultNames[r])
			for s := range numSources {
				m.decisions[c][r][s] = decisions.WithLabelValues(c.String(), resultNames[r], s.String())
			}
		}
		m.wait[c] = wait.WithLabelValues(c.String())
	}
	for v := range numVias {
		m.identified[v] = identified.WithLabelValues(v.String())
	}
	for r := range numReasons {
		m.redisErrors[r] = redisErrors.WithLabelValues(reasonNames[r])
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{decisions, units, identified, unknownKeys, redisErrors, evictions, wait, entries, capacity} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// record counts a decision.
func (m *metrics) record(d Decision) {
	r := resultLimited
	switch {
	case d.TooLarge:
		r = resultTooLarge
	case d.Allowed:
		r = resultAllowed
	}
	m.decisions[d.Class][r][d.Source].Inc()
	if d.Cost == 1 {
		m.units[d.Class][r].Inc()
	} else if d.Cost > 0 {
		m.units[d.Class][r].Add(float64(d.Cost))
	}
}

// evicted counts dropped table entries.
func (m *metrics) evicted(n int) {
	if n > 0 {
		m.evictions.Add(float64(n))
	}
}
