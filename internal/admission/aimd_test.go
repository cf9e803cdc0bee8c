package admission

import (
	"context"
	"slices"
	"testing"
	"time"
)

// Budgets exhausted under load take the limit down a tenth at a time to
// its floor; quiet intervals bring it back one slot at a time.
func TestAIMDMovesTheRightWay(t *testing.T) {
	const interval = 20 * time.Millisecond
	c := newTestController(t, Config{Cores: 4, InteractiveLimit: 20, InteractiveMinLimit: 4,
		IncreaseInterval: interval, QueueTimeout: time.Minute, OverloadQueueTimeout: time.Minute})
	var held []func()
	for range 20 {
		held = append(held, mustAcquire(t, c))
	}
	limit := func() int { return c.Stats().Interactive.Limit }

	var got []int
	for limit() > 4 {
		c.ObserveOutcome(0, true) // admitted now: after any earlier decrease
		got = append(got, limit())
		if len(got) > 20 {
			break
		}
	}
	if want := []int{18, 16, 14, 12, 10, 9, 8, 7, 6, 5, 4}; !slices.Equal(got, want) {
		t.Fatalf("limits %v, want %v", got, want)
	}
	c.ObserveOutcome(0, true)
	if limit() != 4 {
		t.Fatalf("limit %d under the floor", limit())
	}

	// No increase while the pressure is recent.
	c.ObserveOutcome(time.Millisecond, false)
	if limit() != 4 {
		t.Fatalf("limit grew to %d right after a budget was exhausted", limit())
	}
	start := time.Now()
	waitUntil(t, "the limit grows", func() bool { c.ObserveOutcome(time.Millisecond, false); return limit() == 5 })
	if took := time.Since(start); took < interval/2 {
		t.Fatalf("limit grew after %v, the interval is %v", took, interval)
	}
	waitUntil(t, "the limit is back to its maximum", func() bool {
		c.ObserveOutcome(time.Millisecond, false)
		return limit() == 20
	})
	for _, r := range held {
		r()
	}
	s := c.Stats()
	if s.BudgetExhausted != 12 || s.LimitDecreases != 11 || s.LimitIncreases != 16 {
		t.Fatalf("stats %+v", s)
	}
}

// One decrease per generation: a slow answer of a request admitted before
// the last decrease does not decrease the limit again.
func TestAIMDOncePerGeneration(t *testing.T) {
	c := newTestController(t, Config{Cores: 2, InteractiveLimit: 10, InteractiveMinLimit: 2, IncreaseInterval: time.Hour})
	var held []func()
	for range 10 {
		held = append(held, mustAcquire(t, c))
	}
	defer func() {
		for _, r := range held {
			r()
		}
	}()
	c.ObserveOutcome(0, true)
	if got := c.Stats().Interactive.Limit; got != 9 {
		t.Fatalf("limit %d after one decrease from 10", got)
	}
	c.ObserveOutcome(time.Hour, true) // admitted an hour ago: same generation
	if got := c.Stats().Interactive.Limit; got != 9 {
		t.Fatalf("limit %d: an old request decreased it again", got)
	}
}

// A budget exhausted with free slots and no queue is a pathological query,
// not overload: counted, the limit unmoved.
func TestAIMDIgnoresIdleExhaustion(t *testing.T) {
	c := newTestController(t, Config{Cores: 2, InteractiveLimit: 4})
	release := mustAcquire(t, c)
	c.ObserveOutcome(60*time.Millisecond, true)
	release()
	if s := c.Stats(); s.Interactive.Limit != 4 || s.BudgetExhausted != 1 || s.LimitDecreases != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// A lowered limit holds new requests back until enough slots are
// released, and a raised one admits the waiters at once.
func TestAIMDLimitAppliesToAdmission(t *testing.T) {
	c := newTestController(t, Config{Cores: 1, InteractiveLimit: 2, InteractiveMinLimit: 1,
		IncreaseInterval: time.Millisecond, QueueTimeout: time.Minute, OverloadQueueTimeout: time.Minute})
	a, b := mustAcquire(t, c), mustAcquire(t, c)
	c.ObserveOutcome(0, true)
	if got := c.Stats().Interactive.Limit; got != 1 {
		t.Fatalf("limit %d", got)
	}
	a()
	queued := acquireAsync(context.Background(), c.AcquireInteractive)
	waitUntil(t, "a request queues behind the lowered limit", func() bool { return c.Stats().Interactive.Queued == 1 })
	waitUntil(t, "the limit grows back", func() bool {
		c.ObserveOutcome(0, false)
		return c.Stats().Interactive.Limit == 2
	})
	r := receive(t, queued)
	if r.err != nil {
		t.Fatal(r.err)
	}
	r.release()
	b()
}
