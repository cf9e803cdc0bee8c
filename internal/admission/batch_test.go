package admission

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// However many batch workers ask, at most BatchSlots units run at once.
func TestBatchSlotsBounded(t *testing.T) {
	const slots, workers, units = 2, 16, 100
	c := newTestController(t, Config{Cores: 8, BatchSlots: slots})
	var inUse, peak atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range units {
				release, err := c.AcquireBatchSlot(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				n := inUse.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				burn(2000)
				inUse.Add(-1)
				release()
			}
		})
	}
	wg.Wait()
	if got := peak.Load(); got > slots {
		t.Fatalf("%d units at once, %d slots", got, slots)
	}
	if s := c.Stats().BatchSlots; s.InUse != 0 || s.Waiting != 0 || s.Granted != workers*units {
		t.Fatalf("stats %+v", s)
	}
	t.Logf("peak %d of %d slots", peak.Load(), slots)
}

// noResultWithin checks that an acquisition is still pending after d: the
// one place where waiting a fixed time is the test (absence cannot be
// polled for).
func noResultWithin(t *testing.T, ch <-chan result, d time.Duration, why string) {
	t.Helper()
	select {
	case r := <-ch:
		if r.release != nil {
			r.release()
		}
		t.Fatalf("batch slot granted (err %v) %s", r.err, why)
	case <-time.After(d):
	}
}

// While interactive requests wait, batch slots are withheld; they are
// granted once the interactive queue is gone.
func TestBatchYieldsToInteractiveWaiters(t *testing.T) {
	c := newTestController(t, Config{Cores: 4, InteractiveLimit: 1, QueueTimeout: time.Minute,
		OverloadQueueTimeout: time.Minute, BatchSlots: 2, BatchMaxDelay: time.Minute})
	held := mustAcquire(t, c)
	queued := acquireAsync(context.Background(), c.AcquireInteractive)
	waitUntil(t, "an interactive request queues", func() bool { return c.Stats().Interactive.Queued == 1 })

	slot := acquireAsync(context.Background(), c.AcquireBatchSlot)
	waitUntil(t, "the batch unit waits", func() bool { return c.Stats().BatchSlots.Waiting == 1 })
	noResultWithin(t, slot, 50*time.Millisecond, "while an interactive request waits")

	held() // the queued request gets the slot: the queue is gone
	r := receive(t, queued)
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.release()
	s := receive(t, slot)
	if s.err != nil {
		t.Fatal(s.err)
	}
	s.release()
	if st := c.Stats().BatchSlots; st.Granted != 1 || st.GrantedOverdue != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// Batch work runs only on idle cores: with every core busy with
// interactive requests, the unit waits for one to be released.
func TestBatchWaitsForAnIdleCore(t *testing.T) {
	c := newTestController(t, Config{Cores: 2, InteractiveLimit: 4, BatchSlots: 2, BatchMaxDelay: time.Minute})
	a, b := mustAcquire(t, c), mustAcquire(t, c)
	slot := acquireAsync(context.Background(), c.AcquireBatchSlot)
	waitUntil(t, "the batch unit waits", func() bool { return c.Stats().BatchSlots.Waiting == 1 })
	noResultWithin(t, slot, 50*time.Millisecond, "with both cores busy")
	a()
	s := receive(t, slot)
	if s.err != nil {
		t.Fatal(s.err)
	}
	// One interactive request and one unit fill the two cores: the next
	// unit waits although a batch slot is free.
	next := acquireAsync(context.Background(), c.AcquireBatchSlot)
	waitUntil(t, "the second unit waits", func() bool { return c.Stats().BatchSlots.Waiting == 1 })
	b()
	n := receive(t, next)
	if n.err != nil {
		t.Fatal(n.err)
	}
	s.release()
	n.release()
}

// A unit that has waited BatchMaxDelay takes a free slot whatever the
// interactive load: batch work never starves.
func TestBatchStarvationGuard(t *testing.T) {
	const maxDelay = 30 * time.Millisecond
	c := newTestController(t, Config{Cores: 1, InteractiveLimit: 1, QueueTimeout: time.Minute,
		OverloadQueueTimeout: time.Minute, BatchSlots: 1, BatchMaxDelay: maxDelay})
	held := mustAcquire(t, c)
	defer held()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	queued := acquireAsync(ctx, c.AcquireInteractive)
	waitUntil(t, "an interactive request queues", func() bool { return c.Stats().Interactive.Queued == 1 })

	start := time.Now()
	release, err := c.AcquireBatchSlot(context.Background())
	waited := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if waited < maxDelay {
		t.Fatalf("granted after %v, before the %v maximum delay, with interactive requests waiting", waited, maxDelay)
	}
	if st := c.Stats().BatchSlots; st.GrantedOverdue != 1 {
		t.Fatalf("stats %+v", st)
	}
	t.Logf("overdue unit granted after %v", waited)
	cancel()
	receive(t, queued)
}

// A waiting unit whose context ends leaves at once with ctx's error, and
// does not hold up the units behind it.
func TestBatchSlotCancel(t *testing.T) {
	c := newTestController(t, Config{Cores: 4, BatchSlots: 1, BatchMaxDelay: time.Minute})
	first, err := c.AcquireBatchSlot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancelled := acquireAsync(ctx, c.AcquireBatchSlot)
	waitUntil(t, "the unit waits", func() bool { return c.Stats().BatchSlots.Waiting == 1 })
	behind := acquireAsync(context.Background(), c.AcquireBatchSlot)
	waitUntil(t, "the next unit waits", func() bool { return c.Stats().BatchSlots.Waiting == 2 })
	cancel()
	if r := receive(t, cancelled); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled unit got %v", r.err)
	}
	first()
	r := receive(t, behind)
	if r.err != nil {
		t.Fatal(r.err)
	}
	r.release()
	if st := c.Stats().BatchSlots; st.InUse != 0 || st.Waiting != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// Batch work also yields to the recent interactive load, not only to the
// present one: with a core idle right now but the cores recently busy
// beyond BatchTargetLoad, the unit waits for the load to fall.
func TestBatchYieldsToRecentLoad(t *testing.T) {
	c := newTestController(t, Config{Cores: 4, InteractiveLimit: 8, BatchSlots: 2,
		BatchTargetLoad: 0.5, BatchMaxDelay: time.Minute})
	var held []func()
	for range 3 {
		held = append(held, mustAcquire(t, c))
	}
	waitUntil(t, "the load passes the target", func() bool { s := c.Stats().Load; return s.Interactive > s.Target })
	slot := acquireAsync(context.Background(), c.AcquireBatchSlot)
	waitUntil(t, "the unit waits", func() bool { return c.Stats().BatchSlots.Waiting == 1 })
	noResultWithin(t, slot, 50*time.Millisecond, "with the recent load above the target")
	// The load now falls to one request in flight, 1 core of the target's 2.
	released := time.Now()
	held[0]()
	held[1]()
	r := receive(t, slot)
	if r.err != nil {
		t.Fatal(r.err)
	}
	r.release()
	held[2]()
	t.Logf("granted %v after the load fell", time.Since(released))
}

// The starvation guard lets one unit through per BatchMaxDelay, not one
// per waiting unit.
func TestBatchStarvationGuardIsGlobal(t *testing.T) {
	const maxDelay = 40 * time.Millisecond
	c := newTestController(t, Config{Cores: 1, InteractiveLimit: 1, BatchSlots: 2, BatchMaxDelay: maxDelay})
	held := mustAcquire(t, c) // the only core is busy: batch work yields
	defer held()
	grants := make(chan time.Time, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			release, err := c.AcquireBatchSlot(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			grants <- time.Now()
			release()
		})
	}
	wg.Wait()
	first, second := <-grants, <-grants
	if gap := second.Sub(first); gap < maxDelay*3/4 {
		t.Fatalf("two overdue units %v apart, the guard's delay is %v", gap, maxDelay)
	}
	if st := c.Stats().BatchSlots; st.GrantedOverdue != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// Under a saturating interactive load, batch work progresses at the
// guard's pace: about one unit per BatchMaxDelay, neither starved nor
// more.
func TestBatchGuardPace(t *testing.T) {
	const maxDelay, run = 20 * time.Millisecond, 400 * time.Millisecond
	c := newTestController(t, Config{Cores: 1, InteractiveLimit: 1, BatchSlots: 1, BatchMaxDelay: maxDelay})
	held := mustAcquire(t, c)
	defer held()
	ctx, cancel := context.WithTimeout(context.Background(), run)
	defer cancel()
	units, wait := batchLoad(ctx, c, 4, 1, true)
	wait()
	got, want := units.Load(), int64(run/maxDelay)
	t.Logf("%d units in %v with a %v guard", got, run, maxDelay)
	if got < want/3 || got > want+2 {
		t.Fatalf("%d units in %v, want about %d", got, run, want)
	}
}
