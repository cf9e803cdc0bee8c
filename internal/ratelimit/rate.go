package ratelimit

import (
	"fmt"
	"math"
	"time"
)

// Class is a budget class. Every client has one budget per class, so that
// a client pacing a large CSV file through the batch budget keeps its
// interactive budget for the searches of its users.
type Class uint8

// The budget classes.
const (
	// Interactive is the budget of GET /search, /reverse and /get/{id}:
	// one unit per request.
	Interactive Class = iota
	// Batch is the budget of POST /search/csv, /reverse/csv and /batch:
	// one unit per CSV row or /batch item.
	Batch
	numClasses
)

// String is the class's name, the policy name in the RateLimit headers
// and the class label of the metrics.
func (c Class) String() string {
	if c == Batch {
		return "batch"
	}
	return "interactive"
}

// valid maps an unknown class to Interactive, so that a caller's mistake
// can never index out of the budget tables.
func (c Class) valid() Class {
	if c >= numClasses {
		return Interactive
	}
	return c
}

// Rate is a budget: PerSecond units are credited per second, up to Burst
// units held at once. PerSecond 0 means unlimited; Burst 0 means
// max(1, ceil(PerSecond)), one second's worth.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Bounds of a Rate. They keep every quantity of the GCRA (emission
// interval, tolerance, theoretical arrival time) well inside an int64 of
// nanoseconds, and they are far beyond any sensible budget.
const (
	maxPerSecond = 1e9
	maxBurst     = 1 << 30
	// maxWindow is the longest time a full budget may take to refill
	// (Burst/PerSecond), and so the longest emission interval.
	maxWindow = 1e7 // seconds, about 115 days
)

// Unlimited reports whether the budget never refuses.
func (r Rate) Unlimited() bool { return r.PerSecond == 0 }

// Validate reports a Rate outside its bounds.
func (r Rate) Validate() error {
	switch {
	case math.IsNaN(r.PerSecond) || r.PerSecond < 0 || r.PerSecond > maxPerSecond:
		return fmt.Errorf("rate must be between 0 (unlimited) and %g per second, got %g", float64(maxPerSecond), r.PerSecond)
	case r.Burst < 0 || r.Burst > maxBurst:
		return fmt.Errorf("burst must be between 0 (one second's worth) and %d, got %d", maxBurst, r.Burst)
	case r.PerSecond == 0:
		return nil
	}
	n := r.normalized()
	if 1/n.PerSecond > maxWindow || float64(n.Burst)/n.PerSecond > maxWindow {
		return fmt.Errorf("rate %g per second with burst %d takes more than %g s to refill", r.PerSecond, n.Burst, float64(maxWindow))
	}
	return nil
}

// normalized resolves the Burst 0 default; an unlimited Rate has Burst 0.
func (r Rate) normalized() Rate {
	if r.PerSecond == 0 {
		return Rate{}
	}
	if r.Burst == 0 {
		r.Burst = max(1, int(math.Ceil(r.PerSecond)))
	}
	return r
}

// interval is the emission interval 1/PerSecond, rounded to the
// nanosecond (at least 1).
func (r Rate) interval() time.Duration {
	return time.Duration(max(1, math.Round(float64(time.Second)/r.PerSecond)))
}

// divided is the share of one replica among n when each must decide
// alone: the rate divided by n, the burst too (rounded up, at least 1).
func (r Rate) divided(n int) Rate {
	if n <= 1 || r.PerSecond == 0 {
		return r
	}
	return Rate{PerSecond: r.PerSecond / float64(n), Burst: max(1, (r.Burst+n-1)/n)}
}
