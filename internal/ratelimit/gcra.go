package ratelimit

import (
	"sync/atomic"
	"time"
)

// gcra is a budget in the form the Generic Cell Rate Algorithm works with,
// in nanoseconds. The whole state of one client's budget is then a single
// int64, its theoretical arrival time (TAT): the moment the budget will be
// full again if nothing more is taken. Taking n units moves the TAT n
// intervals later; the request is refused when that would put it more
// than one tolerance (a full burst) ahead of now.
type gcra struct {
	rate      Rate  // normalized
	interval  int64 // emission interval, 1/rate
	tolerance int64 // interval × burst
}

func newGCRA(r Rate) gcra {
	r = r.normalized()
	if r.Unlimited() {
		return gcra{}
	}
	iv := int64(r.interval())
	return gcra{rate: r, interval: iv, tolerance: iv * int64(r.Burst)}
}

// verdict is the outcome of one GCRA step, durations in nanoseconds.
type verdict struct {
	allowed    bool
	remaining  int
	retryAfter int64 // until the n units are available; 0 when allowed
	resetAfter int64 // until the budget is full again
}

// take consumes n units (n ≤ burst) from the budget whose TAT is at *tat,
// at time now, lock-free: a compare-and-swap on the TAT, retried when
// another request moved it first. n = 0 only reads the budget.
func (g gcra) take(tat *int64, now int64, n int) verdict {
	inc := g.interval * int64(n)
	for {
		old := atomic.LoadInt64(tat)
		start := max(old, now)
		next := start + inc
		if allowAt := next - g.tolerance; allowAt > now {
			return verdict{retryAfter: allowAt - now, resetAfter: start - now, remaining: g.available(start - now)}
		}
		if inc == 0 || atomic.CompareAndSwapInt64(tat, old, next) {
			return verdict{allowed: true, resetAfter: next - now, remaining: g.available(next - now)}
		}
	}
}

// available is the number of units that could be taken at once when the
// budget is resetAfter away from full.
func (g gcra) available(resetAfter int64) int {
	free := (g.tolerance - resetAfter) / g.interval
	return int(min(max(free, 0), int64(g.rate.Burst)))
}

// full reports whether a budget whose TAT is tat is full at now: its
// entry can be dropped, since a fresh one is exactly the same.
func full(tat, now int64) bool { return tat <= now }

// decision turns a verdict into the Decision the caller sees.
func (v verdict) decision(g gcra, class Class, src Source) Decision {
	return Decision{
		Allowed:    v.allowed,
		Remaining:  v.remaining,
		RetryAfter: time.Duration(v.retryAfter),
		ResetAfter: time.Duration(v.resetAfter),
		Policy:     g.rate,
		Class:      class,
		Source:     src,
	}
}
