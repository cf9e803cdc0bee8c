package dashboard

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Tiers are the cache tiers the dashboard charts.
var Tiers = []string{"l1", "l2"}

// snapshot is what one Gather gives the dashboard: cumulative values.
type snapshot struct {
	time        time.Time
	requests    float64
	errors5xx   float64
	inFlight    float64
	buckets     []bucket // cumulative, by upper bound, summed over routes
	native      nativeSum
	hits        map[string]float64
	misses      map[string]float64
	rateLimited float64
	shed        float64
	redisOn     bool
	breakerVal  float64
}

type bucket struct{ upper, count float64 }

var inf = math.Inf(1)

// Totals are the cumulative counters since the server started.
type Totals struct {
	Requests    float64         `json:"requests"` // every route but /dashboard's
	Errors5xx   float64         `json:"errors_5xx"`
	RateLimited float64         `json:"rate_limited"` // refused by the rate limiter (429)
	Shed        float64         `json:"shed"`         // refused by admission control (503)
	Cache       map[string]Tier `json:"cache"`
}

// Tier is one cache tier's lookups.
type Tier struct {
	Hits   float64 `json:"hits"`
	Misses float64 `json:"misses"`
}

// Sample is one interval: rates per second and latency percentiles in
// milliseconds of the requests that ended in it. A percentile or hit rate
// is null when nothing happened in the interval.
type Sample struct {
	Time        int64               `json:"t"` // Unix milliseconds at the interval's end
	Rate        float64             `json:"rps"`
	P50         *float64            `json:"p50_ms"`
	P95         *float64            `json:"p95_ms"`
	P99         *float64            `json:"p99_ms"`
	InFlight    float64             `json:"in_flight"`
	HitRate     map[string]*float64 `json:"hit_rate"`
	RateLimited float64             `json:"rate_limited_per_s"`
	Shed        float64             `json:"shed_per_s"`
}

// own tells the dashboard's own routes, left out of rates and latencies.
func own(m *dto.Metric) bool {
	return strings.HasPrefix(label(m, "route"), "/dashboard")
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// gather reads g once. A Gather error still returns what was gathered
// (prometheus returns the families it could collect).
func gather(g prometheus.Gatherer, now time.Time) *snapshot {
	s := &snapshot{time: now, hits: map[string]float64{}, misses: map[string]float64{}}
	if g == nil {
		return s
	}
	mfs, _ := g.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			s.add(mf.GetName(), m)
		}
	}
	return s
}

func (s *snapshot) add(name string, m *dto.Metric) {
	switch name {
	case "balise_http_requests_total":
		if own(m) {
			return
		}
		s.requests += m.GetCounter().GetValue()
		if label(m, "code_class") == "5xx" {
			s.errors5xx += m.GetCounter().GetValue()
		}
	case "balise_http_request_duration_seconds":
		if !own(m) {
			s.addBuckets(m.GetHistogram())
		}
	case "balise_http_requests_in_flight":
		s.inFlight = m.GetGauge().GetValue()
	case "balise_cache_hits_total":
		s.hits[label(m, "tier")] += m.GetCounter().GetValue()
	case "balise_cache_misses_total":
		s.misses[label(m, "tier")] += m.GetCounter().GetValue()
	case "balise_ratelimit_decisions_total":
		if label(m, "result") != "allowed" {
			s.rateLimited += m.GetCounter().GetValue()
		}
	case "balise_admission_rejections_total":
		s.shed += m.GetCounter().GetValue()
	case "balise_cache_redis_enabled":
		s.redisOn = m.GetGauge().GetValue() == 1
	case "balise_cache_redis_breaker_state":
		s.breakerVal = m.GetGauge().GetValue()
	}
}

// addBuckets sums a histogram's classic buckets into s.buckets (every
// series of the family has the same bounds) plus +Inf from the count, and
// its native buckets into s.native.
func (s *snapshot) addBuckets(h *dto.Histogram) {
	s.native.add(h)
	bs := h.GetBucket()
	if s.buckets == nil {
		s.buckets = make([]bucket, len(bs)+1)
		for i, b := range bs {
			s.buckets[i].upper = b.GetUpperBound()
		}
		s.buckets[len(bs)].upper = math.Inf(1)
	}
	if len(bs)+1 != len(s.buckets) {
		return
	}
	for i, b := range bs {
		s.buckets[i].count += float64(b.GetCumulativeCount())
	}
	s.buckets[len(bs)].count += float64(h.GetSampleCount())
}

func (s *snapshot) totals() Totals {
	t := Totals{Requests: s.requests, Errors5xx: s.errors5xx, RateLimited: s.rateLimited, Shed: s.shed,
		Cache: map[string]Tier{}}
	for _, tier := range Tiers {
		t.Cache[tier] = Tier{Hits: s.hits[tier], Misses: s.misses[tier]}
	}
	return t
}

func (s *snapshot) breaker() string {
	if !s.redisOn {
		return "off"
	}
	switch s.breakerVal {
	case 0:
		return "closed"
	case 1:
		return "half_open"
	}
	return "open"
}

// delta is the sample of the interval from a to b. A counter that went
// down (a registry reset) counts as 0.
func delta(a, b *snapshot) Sample {
	secs := b.time.Sub(a.time).Seconds()
	if secs <= 0 {
		secs = 1
	}
	rate := func(x, y float64) float64 { return max(y-x, 0) / secs }
	s := Sample{
		Time:        b.time.UnixMilli(),
		Rate:        rate(a.requests, b.requests),
		InFlight:    b.inFlight,
		RateLimited: rate(a.rateLimited, b.rateLimited),
		Shed:        rate(a.shed, b.shed),
		HitRate:     map[string]*float64{},
	}
	for _, tier := range Tiers {
		h, m := max(b.hits[tier]-a.hits[tier], 0), max(b.misses[tier]-a.misses[tier], 0)
		if h+m > 0 {
			r := h / (h + m)
			s.HitRate[tier] = &r
		}
	}
	if d := a.native.delta(&b.native); d != nil {
		s.P50, s.P95, s.P99 = quantile(d, .5), quantile(d, .95), quantile(d, .99)
	} else if d := bucketDelta(a.buckets, b.buckets); d != nil {
		s.P50, s.P95, s.P99 = quantile(d, .5), quantile(d, .95), quantile(d, .99)
	}
	return s
}

func bucketDelta(a, b []bucket) []bucket {
	if len(b) == 0 {
		return nil
	}
	d := slices.Clone(b)
	if len(a) == len(b) {
		for i := range d {
			d[i].count = max(b[i].count-a[i].count, 0)
		}
	}
	if d[len(d)-1].count == 0 {
		return nil
	}
	return d
}

// quantile interpolates linearly inside the bucket holding the q-th
// observation, as Prometheus' histogram_quantile does; in the +Inf bucket
// it answers the highest finite bound. The answer is in milliseconds.
func quantile(bs []bucket, q float64) *float64 {
	total := bs[len(bs)-1].count
	rank := q * total
	lower, below := 0.0, 0.0
	for i, b := range bs {
		if b.count >= rank && b.count > below {
			v := lower
			if math.IsInf(b.upper, 1) {
				if i > 0 {
					v = bs[i-1].upper
				}
			} else {
				v = lower + (b.upper-lower)*(rank-below)/(b.count-below)
			}
			ms := v * 1000
			return &ms
		}
		lower, below = b.upper, b.count
	}
	ms := lower * 1000
	return &ms
}
