package dashboard

import (
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestQuantileInterpolates(t *testing.T) {
	// 100 observations: 50 ≤ 1 ms, 40 in (1, 10] ms, 10 above 10 ms.
	bs := []bucket{{.001, 50}, {.01, 90}, {inf, 100}}
	for q, want := range map[float64]float64{.5: 1, .7: 5.5, .95: 10, .99: 10} {
		if got := *quantile(bs, q); got < want-1e-9 || got > want+1e-9 {
			t.Errorf("q%v = %v ms, want %v", q, got, want)
		}
	}
}

func TestDeltaOfAResetIsZero(t *testing.T) {
	now := time.Now()
	a := &snapshot{time: now, requests: 10, hits: map[string]float64{}, misses: map[string]float64{}}
	b := &snapshot{time: now.Add(time.Second), requests: 3, hits: map[string]float64{}, misses: map[string]float64{}}
	if s := delta(a, b); s.Rate != 0 || s.P50 != nil || s.HitRate["l1"] != nil {
		t.Errorf("%+v", s)
	}
}

// Percentiles of sub-millisecond latencies come from the native buckets:
// a real histogram with balise's options, 1,000 observations at 0.2 ms and
// 100 at 0.6 ms in the interval, gives p50 ≈ 0.2 ms and p99 ≈ 0.6 ms (the
// classic buckets would say 1 ms for both).
func TestNativePercentilesBelowOneMillisecond(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "balise_http_request_duration_seconds", Buckets: []float64{.001, .01},
		NativeHistogramBucketFactor: 1.1, NativeHistogramMaxBucketNumber: 160, NativeHistogramMinResetDuration: time.Hour,
	}, []string{"route"})
	reg.MustRegister(h)
	h.WithLabelValues("/search").Observe(0.05) // before the interval
	now := time.Now()
	a := gather(reg, now)
	for i := range 1100 {
		v := 0.0002
		if i%11 == 0 {
			v = 0.0006
		}
		h.WithLabelValues([]string{"/search", "/reverse"}[i%2]).Observe(v)
	}
	s := delta(a, gather(reg, now.Add(time.Second)))
	near := func(got *float64, want float64) bool { return got != nil && math.Abs(*got-want) <= want*0.1 }
	if !near(s.P50, 0.2) || !near(s.P95, 0.6) || !near(s.P99, 0.6) {
		t.Errorf("p50 %v, p95 %v, p99 %v ms; want 0.2, 0.6, 0.6 within 10 %%", deref(s.P50), deref(s.P95), deref(s.P99))
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
