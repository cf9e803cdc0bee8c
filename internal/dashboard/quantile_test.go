package dashboard

import (
	"testing"
	"time"
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
