package admission

import (
	"context"
	"errors"
	"math"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fakeSched stands for the runtime's scheduling-latency histogram: tests
// add samples to one bucket and the shedder reads the cumulative counts.
type fakeSched struct {
	mu      sync.Mutex
	buckets []float64 // seconds; the last is +Inf
	counts  []uint64
}

func newFakeSched() *fakeSched {
	b := []float64{0, 100e-6, 500e-6, 1e-3, 2e-3, 5e-3, 10e-3, 50e-3, 100e-3, math.Inf(1)}
	return &fakeSched{buckets: b, counts: make([]uint64, len(b)-1)}
}

// add records n samples of latency d (in the bucket holding d).
func (f *fakeSched) add(n uint64, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := d.Seconds()
	for i := range f.counts {
		if s < f.buckets[i+1] {
			f.counts[i] += n
			return
		}
	}
}

func (f *fakeSched) read(h *metrics.Float64Histogram) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h.Counts = append(h.Counts[:0], f.counts...)
	h.Buckets = f.buckets
}

func TestNextShed(t *testing.T) {
	const target = 2 * time.Millisecond
	cases := []struct {
		name    string
		p       float64
		d       time.Duration
		elapsed int
		want    float64
	}{
		{"idle stays at 0", 0, 0, 1, 0},
		{"at target holds", 0.3, target, 1, 0.3},
		{"between half and target holds", 0.3, 3 * target / 4, 1, 0.3},
		{"just above target rises a little", 0, 3 * time.Millisecond, 1, 0.01},
		{"far above target rises by the step cap", 0.2, 100 * time.Millisecond, 1, 0.3},
		{"never above the cap", 0.9, time.Second, 1, maxShed},
		{"below half the target decays", 0.5, 0, 1, 0.3},
		{"idle intervals decay each", 0.5, 0, 2, 0.18},
		{"tiny p drops to 0", 0.015, 0, 1, 0},
		{"a long idle gap ends shedding", maxShed, 0, 1000, 0},
	}
	for _, c := range cases {
		got := nextShed(c.p, c.d, target, c.elapsed)
		if math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: nextShed(%v, %v, %v, %d) = %v, want %v", c.name, c.p, c.d, target, c.elapsed, got, c.want)
		}
	}
}

func TestDeltaQuantile(t *testing.T) {
	buckets := []float64{0, 1e-3, 2e-3, 4e-3, math.Inf(1)}
	cases := []struct {
		name      string
		prev, cur []uint64
		q         float64
		want      time.Duration
		wantN     uint64
	}{
		{"no samples", []uint64{5, 5, 5, 5}, []uint64{5, 5, 5, 5}, 0.9, 0, 0},
		{"first read", nil, []uint64{90, 10, 0, 0}, 0.9, time.Millisecond, 100},
		{"p90 in the second bucket", nil, []uint64{89, 11, 0, 0}, 0.9, 2 * time.Millisecond, 100},
		{"only the new samples count", []uint64{1000, 0, 0, 0}, []uint64{1000, 0, 0, 10}, 0.9, 4 * time.Millisecond, 10},
		{"a counter reset counts the whole bucket", []uint64{50, 0, 0, 0}, []uint64{10, 0, 0, 0}, 0.5, time.Millisecond, 10},
	}
	for _, c := range cases {
		got, n := deltaQuantile(c.prev, c.cur, buckets, c.q)
		if got != c.want || n != c.wantN {
			t.Errorf("%s: deltaQuantile = %v, %d; want %v, %d", c.name, got, n, c.want, c.wantN)
		}
	}
}

// TestRunQueueRisesAndDecays drives the shedder through a saturation and
// its end on a simulated clock: p rises while the latency is above the
// target, refuses about that share of arrivals, and falls back to 0 once
// the latency is gone, within the second the clients expect.
func TestRunQueueRisesAndDecays(t *testing.T) {
	sched := newFakeSched()
	q := newRunQueue(2*time.Millisecond, sched.read)
	now := time.Unix(1_700_000_000, 0)
	step := func() { now = now.Add(runQueueInterval) }

	for range 5 {
		sched.add(1000, 100*time.Microsecond)
		q.shed(now)
		step()
	}
	if p := q.stats().ShedProbability; p != 0 {
		t.Fatalf("latency under the target: p = %v, want 0", p)
	}

	for range 40 {
		sched.add(1000, 20*time.Millisecond)
		q.shed(now)
		step()
	}
	st := q.stats()
	if st.ShedProbability != maxShed {
		t.Fatalf("after 400 ms at 10× the target: p = %v, want the cap %v", st.ShedProbability, maxShed)
	}
	if st.Latency != 50*time.Millisecond {
		t.Errorf("latency = %v, want the 50 ms bucket's bound", st.Latency)
	}
	refused := 0
	within := now.Add(-time.Millisecond) // before the next update is due
	for range 10000 {
		if q.shed(within) {
			refused++
		}
	}
	if refused < 9000 || refused > 9900 {
		t.Errorf("refused %d of 10000 at p = %v", refused, maxShed)
	}

	// The load ends: a few samples only, below runQueueMinSamples.
	for range 10 {
		sched.add(2, 20*time.Millisecond)
		q.shed(now)
		step()
	}
	if p := q.stats().ShedProbability; p != 0 {
		t.Errorf("100 ms after the load ended: p = %v, want 0", p)
	}
}

// TestRunQueueIdleGap checks that nobody arriving for a while counts as
// idle: the first arrival after the gap finds p decayed, even though the
// histogram still holds the saturation's tail.
func TestRunQueueIdleGap(t *testing.T) {
	sched := newFakeSched()
	q := newRunQueue(2*time.Millisecond, sched.read)
	now := time.Unix(1_700_000_000, 0)
	for range 20 {
		sched.add(1000, 20*time.Millisecond)
		q.shed(now)
		now = now.Add(runQueueInterval)
	}
	if p := q.stats().ShedProbability; p < 0.5 {
		t.Fatalf("saturated: p = %v", p)
	}
	sched.add(1000, 20*time.Millisecond) // the tail, read after the gap
	q.shed(now.Add(time.Second))
	if p := q.stats().ShedProbability; p != 0 {
		t.Errorf("first arrival after 1 s idle: p = %v, want 0", p)
	}
}

// TestRunQueueSheddingThroughController checks the wiring: a saturated
// run queue refuses interactive requests with ReasonRunQueue (counted in
// Stats) while slots are free, and batch jobs are never refused by it.
func TestRunQueueSheddingThroughController(t *testing.T) {
	checkGoroutines(t)
	c, err := New(Config{}, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	sched := newFakeSched()
	c.runQueue.read = sched.read

	ctx := context.Background()
	var shed, admitted int
	deadline := time.Now().Add(10 * time.Second)
	for shed < 50 && time.Now().Before(deadline) {
		sched.add(1000, 100*time.Millisecond)
		release, err := c.AcquireInteractive(ctx)
		var rej *Rejection
		switch {
		case err == nil:
			admitted++
			release()
		case errors.As(err, &rej) && rej.Reason == ReasonRunQueue:
			shed++
			if rej.RetryAfter != runQueueRetryAfter {
				t.Errorf("Retry-After %v, want %v", rej.RetryAfter, runQueueRetryAfter)
			}
		default:
			t.Fatalf("unexpected error: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	if shed < 50 {
		t.Fatalf("in 10 s at 50× the target: %d shed, %d admitted", shed, admitted)
	}
	st := c.Stats()
	if !st.RunQueue.Enabled || st.RunQueue.ShedProbability == 0 {
		t.Errorf("stats: %+v", st.RunQueue)
	}
	release, err := c.AcquireBatchJob(ctx)
	if err != nil {
		t.Fatalf("batch job refused by the run-queue shedder: %v", err)
	}
	release()
}

// TestRunQueueFirstReadIsBaseline checks that the latency the process
// accumulated before its first request (start, index check) sheds
// nothing: only what happens after the first read counts.
func TestRunQueueFirstReadIsBaseline(t *testing.T) {
	sched := newFakeSched()
	sched.add(100000, 100*time.Millisecond)
	q := newRunQueue(2*time.Millisecond, sched.read)
	now := time.Unix(1_700_000_000, 0)
	for range 3 {
		sched.add(1000, 100*time.Microsecond)
		if q.shed(now) {
			t.Fatal("refused on the past's latency")
		}
		now = now.Add(runQueueInterval)
	}
	if p := q.stats().ShedProbability; p != 0 {
		t.Errorf("p = %v after the baseline, want 0", p)
	}
}
