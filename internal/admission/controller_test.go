package admission

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Many goroutines hammering the controller never get more than the limit
// in flight, and every one is admitted when the queue can hold them all.
func TestLimitRespectedUnderConcurrency(t *testing.T) {
	const limit, goroutines, rounds = 3, 64, 200
	c := newTestController(t, Config{Cores: 2, InteractiveLimit: limit, InteractiveMinLimit: limit,
		InteractiveQueue: goroutines, QueueTimeout: time.Minute, OverloadQueueTimeout: time.Minute})
	var inFlight, peak atomic.Int64
	var wg sync.WaitGroup
	var failures atomic.Int64
	for range goroutines {
		wg.Go(func() {
			for range rounds {
				release, err := c.AcquireInteractive(context.Background())
				if err != nil {
					failures.Add(1)
					continue
				}
				n := inFlight.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				burn(2000)
				inFlight.Add(-1)
				release()
			}
		})
	}
	wg.Wait()
	if got := peak.Load(); got > limit {
		t.Fatalf("%d requests in flight at once, limit %d", got, limit)
	}
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d acquisitions failed with room for every waiter in the queue", n)
	}
	s := c.Stats().Interactive
	if s.InFlight != 0 || s.Queued != 0 || s.Admitted != goroutines*rounds {
		t.Fatalf("after the run: %+v", s)
	}
	t.Logf("peak in flight %d of %d", peak.Load(), limit)
}

// burn spends CPU: n rounds of a cheap hash the compiler cannot drop.
func burn(n int) uint64 {
	h := uint64(14695981039346656037)
	for i := range n {
		h ^= uint64(i)
		h *= 1099511628211
	}
	burnSink.Store(h)
	return h
}

var burnSink atomic.Uint64

// Both bounded classes share the queue logic: the queue holds at most its
// bound and the next request is refused at once.
func TestQueueBound(t *testing.T) {
	for _, tc := range classCases() {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestController(t, tc.cfg(1, 2, time.Minute))
			held, err := tc.acquire(c)(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			a, b := acquireAsync(ctx, tc.acquire(c)), acquireAsync(ctx, tc.acquire(c))
			waitUntil(t, "two requests queue", func() bool { return tc.stats(c).Queued == 2 })

			start := time.Now()
			_, err = tc.acquire(c)(context.Background())
			rejection(t, err, ReasonQueueFull)
			t.Logf("queue_full answered in %v", time.Since(start))

			cancel()
			for _, ch := range []<-chan result{a, b} {
				if r := receive(t, ch); !errors.Is(r.err, context.Canceled) {
					t.Fatalf("cancelled waiter got %v", r.err)
				}
			}
			held()
			s := tc.stats(c)
			if s.Queued != 0 || s.InFlight != 0 || s.Abandoned != 2 || s.Rejected[ReasonQueueFull] != 1 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

// classCase runs a test against interactive requests or batch jobs.
type classCase struct {
	name    string
	cfg     func(limit, queue int, timeout time.Duration) Config
	acquire func(*Controller) func(context.Context) (func(), error)
	stats   func(*Controller) ClassStats
}

func classCases() []classCase {
	return []classCase{{
		name: ClassInteractive,
		cfg: func(limit, queue int, timeout time.Duration) Config {
			return Config{Cores: 1, InteractiveLimit: limit, InteractiveQueue: queue,
				QueueTimeout: timeout, OverloadQueueTimeout: timeout}
		},
		acquire: func(c *Controller) func(context.Context) (func(), error) { return c.AcquireInteractive },
		stats:   func(c *Controller) ClassStats { return c.Stats().Interactive },
	}, {
		name: ClassBatchJob,
		cfg: func(limit, queue int, timeout time.Duration) Config {
			return Config{Cores: 1, BatchJobs: limit, BatchJobQueue: queue, BatchJobQueueTimeout: timeout}
		},
		acquire: func(c *Controller) func(context.Context) (func(), error) { return c.AcquireBatchJob },
		stats:   func(c *Controller) ClassStats { return c.Stats().BatchJobs },
	}}
}

// A request that waits its whole deadline is refused then, and leaves the
// queue.
func TestQueueDeadline(t *testing.T) {
	for _, tc := range classCases() {
		t.Run(tc.name, func(t *testing.T) {
			const deadline = 30 * time.Millisecond
			c := newTestController(t, tc.cfg(1, 4, deadline))
			held, err := tc.acquire(c)(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer held()
			start := time.Now()
			_, err = tc.acquire(c)(context.Background())
			waited := time.Since(start)
			rej := rejection(t, err, ReasonQueueTimeout)
			if waited < deadline {
				t.Fatalf("refused after %v, before the %v deadline", waited, deadline)
			}
			if rej.Class != tc.name || rej.RetryAfterSeconds() < 1 {
				t.Fatalf("rejection %+v", rej)
			}
			if s := tc.stats(c); s.Queued != 0 || s.Rejected[ReasonQueueTimeout] != 1 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

// Once the service time is known, a request whose predicted wait exceeds
// the deadline is refused at arrival, without waiting.
func TestPredictedWaitRejectsAtOnce(t *testing.T) {
	const deadline = 20 * time.Millisecond
	c := newTestController(t, Config{Cores: 1, InteractiveLimit: 1, QueueTimeout: deadline})
	release := mustAcquire(t, c)
	held := time.Now()
	// The first sample sets the service-time average: hold the slot for
	// three deadlines.
	waitUntil(t, "the slot is held long enough", func() bool { return time.Since(held) > 3*deadline })
	release()
	if st := c.Stats().Interactive.ServiceTime; st < 3*deadline {
		t.Fatalf("service time %v after holding the slot %v", st, 3*deadline)
	}

	defer mustAcquire(t, c)()
	start := time.Now()
	_, err := c.AcquireInteractive(context.Background())
	took := time.Since(start)
	rej := rejection(t, err, ReasonPredictedWait)
	if took >= deadline {
		t.Fatalf("predicted-wait refusal took %v, the deadline is %v", took, deadline)
	}
	if rej.RetryAfter < 3*deadline || rej.RetryAfterSeconds() != 1 {
		t.Fatalf("RetryAfter %v (%d s), want the predicted wait", rej.RetryAfter, rej.RetryAfterSeconds())
	}
	t.Logf("predicted_wait answered in %v, retry after %v", took, rej.RetryAfter)
}

// A waiter whose context ends leaves the queue at once, and the slot goes
// to the next one.
func TestCancelWhileWaiting(t *testing.T) {
	c := newTestController(t, Config{Cores: 1, InteractiveLimit: 1, QueueTimeout: time.Minute, OverloadQueueTimeout: time.Minute})
	release := mustAcquire(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	first := acquireAsync(ctx, c.AcquireInteractive)
	waitUntil(t, "the first waiter queues", func() bool { return c.Stats().Interactive.Queued == 1 })
	second := acquireAsync(context.Background(), c.AcquireInteractive)
	waitUntil(t, "the second waiter queues", func() bool { return c.Stats().Interactive.Queued == 2 })

	start := time.Now()
	cancel()
	if r := receive(t, first); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled waiter got %v", r.err)
	}
	t.Logf("cancelled waiter left in %v", time.Since(start))
	if s := c.Stats().Interactive; s.Queued != 1 || s.Abandoned != 1 {
		t.Fatalf("stats %+v", s)
	}
	release()
	r := receive(t, second)
	if r.err != nil {
		t.Fatalf("second waiter: %v", r.err)
	}
	r.release()
}

// Waiters are served in arrival order.
func TestFIFO(t *testing.T) {
	c := newTestController(t, Config{Cores: 1, InteractiveLimit: 1, QueueTimeout: time.Minute, OverloadQueueTimeout: time.Minute})
	release := mustAcquire(t, c)
	order := make(chan int, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			r, err := c.AcquireInteractive(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			order <- i
			r()
		})
		waitUntil(t, "the waiter queues", func() bool { return c.Stats().Interactive.Queued == i+1 })
	}
	release()
	wg.Wait()
	close(order)
	var got []int
	for i := range order {
		got = append(got, i)
	}
	if len(got) != 3 || got[0] != 0 || got[1] != 1 || got[2] != 2 {
		t.Fatalf("served in order %v", got)
	}
}

// A queue that has not emptied for OverloadAfter gives newcomers the
// short deadline, and the long one again once it has emptied and
// OverloadAfter has passed without a refusal.
func TestOverloadShortensDeadline(t *testing.T) {
	const long, short = time.Minute, 15 * time.Millisecond
	c := newTestController(t, Config{Cores: 1, InteractiveLimit: 1, QueueTimeout: long,
		OverloadQueueTimeout: short, OverloadAfter: 20 * time.Millisecond})
	release := mustAcquire(t, c)
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	standing := acquireAsync(ctx, c.AcquireInteractive)
	waitUntil(t, "the queue is overloaded", func() bool { return c.Stats().Interactive.Overloaded })
	if d := c.Stats().Interactive.QueueTimeout; d != short {
		t.Fatalf("deadline %v in overload, want %v", d, short)
	}
	start := time.Now()
	_, err := c.AcquireInteractive(context.Background())
	rejection(t, err, ReasonQueueTimeout)
	if took := time.Since(start); took < short || took > long/2 {
		t.Fatalf("refused after %v with a %v overload deadline", took, short)
	}
	cancel()
	receive(t, standing)
	// The refusal keeps the short deadline for OverloadAfter more.
	waitUntil(t, "the overload ends", func() bool { return !c.Stats().Interactive.Overloaded })
	if s := c.Stats().Interactive; s.QueueTimeout != long || s.Queued != 0 {
		t.Fatalf("after the overload: %+v", s)
	}
	// The refusal came at least short after start.
	if d := time.Since(start); d < short+20*time.Millisecond {
		t.Fatalf("overload over %v after the refused request arrived, want at least its deadline plus OverloadAfter", d)
	}
}

// Drain refuses the queued requests and every new one, of both classes,
// lets admitted work finish, and still grants batch slots.
func TestDrain(t *testing.T) {
	c := newTestController(t, Config{Cores: 4, InteractiveLimit: 1, QueueTimeout: time.Minute,
		OverloadQueueTimeout: time.Minute, BatchJobs: 1, BatchJobQueueTimeout: time.Minute})
	interactive := mustAcquire(t, c)
	job, err := c.AcquireBatchJob(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	queuedInteractive := acquireAsync(context.Background(), c.AcquireInteractive)
	queuedJob := acquireAsync(context.Background(), c.AcquireBatchJob)
	waitUntil(t, "both queue", func() bool {
		s := c.Stats()
		return s.Interactive.Queued == 1 && s.BatchJobs.Queued == 1
	})

	c.Drain()
	for _, ch := range []<-chan result{queuedInteractive, queuedJob} {
		rej := rejection(t, receive(t, ch).err, ReasonDraining)
		if rej.RetryAfterSeconds() != 1 {
			t.Fatalf("draining Retry-After %d s", rej.RetryAfterSeconds())
		}
	}
	_, err = c.AcquireInteractive(context.Background())
	rejection(t, err, ReasonDraining)
	_, err = c.AcquireBatchJob(context.Background())
	rejection(t, err, ReasonDraining)

	slot, err := c.AcquireBatchSlot(context.Background())
	if err != nil {
		t.Fatalf("batch slot while draining: %v", err)
	}
	slot()
	interactive()
	job()
	s := c.Stats()
	if !s.Draining || s.Interactive.InFlight != 0 || s.BatchJobs.InFlight != 0 ||
		s.Interactive.Rejected[ReasonDraining] != 2 || s.BatchJobs.Rejected[ReasonDraining] != 2 {
		t.Fatalf("stats %+v", s)
	}
}

// Releasing twice frees one slot only.
func TestReleaseIdempotent(t *testing.T) {
	c := newTestController(t, Config{Cores: 1, InteractiveLimit: 2, BatchSlots: 1})
	a, b := mustAcquire(t, c), mustAcquire(t, c)
	a()
	a()
	if got := c.Stats().Interactive.InFlight; got != 1 {
		t.Fatalf("in flight %d after releasing one of two slots twice", got)
	}
	b()
	a, err := c.AcquireBatchSlot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	a()
	a()
	if got := c.Stats().BatchSlots.InUse; got != 0 {
		t.Fatalf("batch slots in use %d", got)
	}
}

// A context already ended is not admitted, and not counted as a refusal.
func TestEndedContext(t *testing.T) {
	c := newTestController(t, Config{Cores: 1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, acquire := range map[string]func(context.Context) (func(), error){
		"interactive": c.AcquireInteractive, "job": c.AcquireBatchJob, "slot": c.AcquireBatchSlot,
	} {
		if _, err := acquire(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if s := c.Stats(); s.Interactive.Admitted+s.BatchJobs.Admitted+s.BatchSlots.Granted != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// A nil controller is admission turned off: everything passes.
func TestNilControllerAdmitsEverything(t *testing.T) {
	var c *Controller
	for _, acquire := range []func(context.Context) (func(), error){c.AcquireInteractive, c.AcquireBatchJob, c.AcquireBatchSlot} {
		release, err := acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		release()
	}
	c.ObserveOutcome(time.Second, true)
	c.Drain()
	if s := c.Stats(); s.Draining || s.BudgetExhausted != 0 {
		t.Fatalf("nil controller stats %+v", s)
	}
}

func TestConfig(t *testing.T) {
	c, err := New(Config{Cores: 8}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := c.Config()
	want := Config{Cores: 8, InteractiveLimit: 16, InteractiveMinLimit: 8, InteractiveQueue: 1024,
		QueueTimeout: 20 * time.Millisecond, OverloadQueueTimeout: 5 * time.Millisecond,
		OverloadAfter: 100 * time.Millisecond, IncreaseInterval: 100 * time.Millisecond,
		BatchJobs: 8, BatchJobQueue: 8, BatchJobQueueTimeout: 2 * time.Second,
		BatchSlots: 4, BatchTargetLoad: 0.5, BatchMaxDelay: 50 * time.Millisecond,
		RunQueueTarget: 2 * time.Millisecond}
	if got != want {
		t.Fatalf("defaults for 8 cores:\n got %+v\nwant %+v", got, want)
	}
	if got, _ := New(Config{Cores: 1}, nil); got.Config().BatchSlots != 1 || got.Config().BatchJobs != 4 {
		t.Fatalf("defaults for 1 core: %+v", got.Config())
	}
	for _, bad := range []Config{{Cores: -1}, {QueueTimeout: -time.Second}, {InteractiveLimit: 2, InteractiveMinLimit: 3}, {BatchTargetLoad: 1.5}} {
		if _, err := New(bad, nil); err == nil || !strings.HasPrefix(err.Error(), "admission: ") {
			t.Fatalf("New(%+v) = %v, want an error", bad, err)
		}
	}
}

func TestRejectionError(t *testing.T) {
	r := &Rejection{Class: ClassInteractive, Reason: ReasonQueueFull, RetryAfter: 1500 * time.Millisecond}
	if got, want := r.Error(), "admission: interactive request refused (queue_full), retry after 1.5s"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	for d, want := range map[time.Duration]int{0: 1, time.Millisecond: 1, time.Second: 1, time.Second + 1: 2, 59 * time.Second: 59} {
		if got := (&Rejection{RetryAfter: d}).RetryAfterSeconds(); got != want {
			t.Errorf("RetryAfterSeconds(%v) = %d, want %d", d, got, want)
		}
	}
}
