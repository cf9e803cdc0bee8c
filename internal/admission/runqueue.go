package admission

import (
	"math"
	"math/rand/v2"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// The run-queue shedder.
//
// The slots bound the requests that have reached the controller, but a
// saturated server also queues where the controller cannot see: every
// connection has its goroutine, and once the cores are busy those
// goroutines wait in the Go scheduler's run queue, request already
// received, before they run far enough to ask for a slot. A balise request
// runs to completion once it has a core (its work is CPU-bound), so on a
// saturated server the slots look almost free while hundreds of
// goroutines wait, each for tens or hundreds of milliseconds. Measured on
// one core at twice its capacity: no refusal at all, every answer seconds
// late.
//
// The queue the slots cannot see is measured by the runtime itself:
// /sched/latencies:seconds, the time goroutines spent runnable before they
// ran. The shedder reads it every runQueueInterval (on the request path,
// by the first arrival of the interval: no goroutine of its own), takes the
// 90th percentile of the interval's samples, and moves a shedding
// probability p, in the manner of PIE (RFC 8033, an active queue
// management that drops packets with a probability driven by queueing
// delay):
//
//   - above the target, p grows in proportion to how far above (at most
//     maxShedStep per interval): a flood is met within tens of
//     milliseconds;
//   - below half the target, p is multiplied by shedDecay per interval (also
//     for the intervals nobody arrived in): shedding stops within ~50 ms
//     of the load dropping, so clients are back to normal within the
//     second the issue asks;
//   - in between, p holds.
//
// A new interactive request is refused with probability p
// (ReasonRunQueue) before it takes a slot. A refusal costs a few
// microseconds against ~150 µs for a search, so refusing a share of the
// arrivals frees the cores the admitted ones need, and the run queue, so
// their latency, stays near the target. p never exceeds maxShed: some
// requests always pass, which keeps the signal alive.

// Run-queue shedder constants (see the comment above).
const (
	defaultRunQueueTarget = 2 * time.Millisecond
	runQueueInterval      = 10 * time.Millisecond
	runQueueMinSamples    = 8
	runQueueIdleIntervals = 2
	maxShedStep           = 0.1
	shedGain              = 0.02
	shedDecay             = 0.6
	maxShed               = 0.95
	minShed               = 0.01
	schedLatenciesMetric  = "/sched/latencies:seconds"
)

// runQueue is the shedder's state. Decisions read p with one atomic load;
// the update takes mu, by TryLock, so that arrivals never wait for it.
type runQueue struct {
	target time.Duration
	// read fills the histogram of scheduling latencies since the process
	// started (runtime/metrics; tests substitute their own).
	read func(*metrics.Float64Histogram)

	prob       atomic.Uint64 // math.Float64bits of p
	nextUpdate atomic.Int64  // UnixNano of the next update
	updates    atomic.Uint64
	latency    atomic.Int64 // the last interval's p90, in ns

	mu     sync.Mutex
	last   time.Time
	counts []uint64 // the cumulative counts of the previous read
	hist   metrics.Float64Histogram
}

func newRunQueue(target time.Duration, read func(*metrics.Float64Histogram)) *runQueue {
	if read == nil {
		read = readSchedLatencies
	}
	return &runQueue{target: target, read: read}
}

// readSchedLatencies reads the runtime's scheduling-latency histogram.
func readSchedLatencies(h *metrics.Float64Histogram) {
	s := []metrics.Sample{{Name: schedLatenciesMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return
	}
	src := s[0].Value.Float64Histogram()
	h.Counts = append(h.Counts[:0], src.Counts...)
	h.Buckets = src.Buckets
}

// shed updates p when an interval has passed and says whether this
// arrival is refused.
func (q *runQueue) shed(now time.Time) bool {
	if q == nil {
		return false
	}
	if now.UnixNano() >= q.nextUpdate.Load() && q.mu.TryLock() {
		q.update(now)
		q.mu.Unlock()
	}
	p := math.Float64frombits(q.prob.Load())
	return p > 0 && rand.Float64() < p
}

// update reads the histogram and moves p. It runs under mu.
func (q *runQueue) update(now time.Time) {
	if now.UnixNano() < q.nextUpdate.Load() {
		return // another arrival updated it meanwhile
	}
	q.nextUpdate.Store(now.Add(runQueueInterval).UnixNano())
	q.read(&q.hist)
	if q.counts == nil {
		// The first read is the baseline: the histogram holds the
		// process's whole past (its start, an index check), not the load.
		q.counts = append(make([]uint64, 0, len(q.hist.Counts)), q.hist.Counts...)
		q.last = now
		return
	}
	p90, n := deltaQuantile(q.counts, q.hist.Counts, q.hist.Buckets, 0.9)
	q.counts = append(q.counts[:0], q.hist.Counts...)
	elapsed := 1
	if !q.last.IsZero() {
		elapsed = max(1, int(now.Sub(q.last)/runQueueInterval))
	}
	q.last = now
	q.updates.Add(1)
	if n < runQueueMinSamples || elapsed > runQueueIdleIntervals {
		// Too few samples, or nobody arrived for several intervals: the
		// load is gone (what the histogram holds is its tail).
		p90 = 0
	}
	q.latency.Store(int64(p90))
	q.prob.Store(math.Float64bits(nextShed(math.Float64frombits(q.prob.Load()), p90, q.target, elapsed)))
}

// nextShed is the PIE-like step: p after elapsed intervals of which the
// last measured latency d against target.
func nextShed(p float64, d, target time.Duration, elapsed int) float64 {
	switch {
	case d > target:
		over := float64(d)/float64(target) - 1
		p += min(maxShedStep, shedGain*over)
	case d < target/2:
		p *= math.Pow(shedDecay, float64(min(elapsed, 64)))
	}
	switch {
	case p > maxShed:
		return maxShed
	case p < minShed:
		return 0
	}
	return p
}

// deltaQuantile returns the q-quantile of the samples counted by cur but
// not by prev (cumulative counts of the same buckets), as the upper bound
// of the bucket it falls in, and the number of those samples.
func deltaQuantile(prev, cur []uint64, buckets []float64, q float64) (time.Duration, uint64) {
	var total uint64
	for i, c := range cur {
		if i < len(prev) && prev[i] <= c {
			c -= prev[i]
		}
		total += c
	}
	if total == 0 {
		return 0, 0
	}
	want := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range cur {
		if i < len(prev) && prev[i] <= c {
			c -= prev[i]
		}
		seen += c
		if seen >= want {
			upper := buckets[i+1]
			if math.IsInf(upper, 1) {
				upper = buckets[i]
			}
			return time.Duration(upper * float64(time.Second)), total
		}
	}
	return 0, total
}

// RunQueueStats describes the run-queue shedder.
type RunQueueStats struct {
	// Enabled is false with Config.NoRunQueueShedding.
	Enabled bool `json:"enabled"`
	// Target is the scheduling latency above which requests are shed.
	Target time.Duration `json:"target_ns"`
	// Latency is the 90th percentile of the scheduling latency over the
	// last interval measured.
	Latency time.Duration `json:"latency_ns"`
	// ShedProbability is the share of new interactive requests refused.
	ShedProbability float64 `json:"shed_probability"`
}

func (q *runQueue) stats() RunQueueStats {
	if q == nil {
		return RunQueueStats{}
	}
	return RunQueueStats{Enabled: true, Target: q.target, Latency: time.Duration(q.latency.Load()),
		ShedProbability: math.Float64frombits(q.prob.Load())}
}
