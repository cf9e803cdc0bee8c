package ratelimit

import (
	"context"
	"errors"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"
)

// TestWaitPaces takes 60 units at 100/s with a burst of 10: the first 10
// at once, the other 50 paced over about half a second.
func TestWaitPaces(t *testing.T) {
	l := newTestLimiter(t, Config{Budgets: Budgets{Batch: Rate{PerSecond: 100, Burst: 10}}})
	c := addrClient("203.0.113.7")
	start := time.Now()
	for range 6 {
		if err := l.Wait(t.Context(), c, Batch, 10); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 450*time.Millisecond || el > 10*time.Second {
		t.Errorf("60 units at 100/s after a burst of 10; took %v; want about 500ms", el)
	}
	// A cost larger than the burst is taken a burst at a time.
	start = time.Now()
	if err := l.Wait(t.Context(), c, Batch, 25); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 200*time.Millisecond {
		t.Errorf("25 units at 100/s with an empty budget; took %v; want at least 250ms", el)
	}
	// Waiting is sleeping: a handful of decisions, not a spin.
	if n := promtest.ToFloat64(l.m.decisions[Batch][resultAllowed][SourceLocal]); n > 20 {
		t.Errorf("decisions made by Wait; got %v allowed; want about 9", n)
	}
	if n := promtest.ToFloat64(l.m.decisions[Batch][resultLimited][SourceLocal]); n != 0 {
		t.Errorf("Wait's refusals counted as limited decisions: %v", n)
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	l := newTestLimiter(t, Config{Budgets: Budgets{Batch: Rate{PerSecond: 0.1, Burst: 1}}})
	c := addrClient("203.0.113.7")
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := l.Wait(ctx, c, Batch, 5)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait; got %v; want the context's deadline", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("Wait returned %v after its context ended", el)
	}
	done, cancelNow := context.WithCancel(t.Context())
	cancelNow()
	if err := l.Wait(done, c, Batch, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait on an ended context; got %v", err)
	}
	// Unlimited: no wait at all.
	if err := l.Wait(t.Context(), c, Interactive, 1e6); err != nil {
		t.Errorf("Wait on an unlimited budget; got %v", err)
	}
}
