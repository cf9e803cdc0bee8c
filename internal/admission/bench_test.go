package admission

import (
	"context"
	"testing"
	"time"
)

// The cost of admission on the request path: a free slot taken and given
// back, alone, from every core at once with slots to spare, and from
// every core through one slot (each release hands the slot to a waiter).
func BenchmarkAcquireRelease(b *testing.B) {
	ctx := context.Background()
	b.Run("uncontended", func(b *testing.B) {
		c := benchController(b, Config{InteractiveLimit: 1 << 20})
		b.ReportAllocs()
		for b.Loop() {
			release, err := c.AcquireInteractive(ctx)
			if err != nil {
				b.Fatal(err)
			}
			release()
		}
	})
	b.Run("parallel", func(b *testing.B) {
		c := benchController(b, Config{InteractiveLimit: 1 << 20})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				release, err := c.AcquireInteractive(ctx)
				if err != nil {
					b.Fatal(err)
				}
				release()
			}
		})
	})
	b.Run("parallel_one_slot", func(b *testing.B) {
		c := benchController(b, Config{InteractiveLimit: 1, InteractiveQueue: 1 << 20,
			QueueTimeout: time.Minute, OverloadQueueTimeout: time.Minute})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				release, err := c.AcquireInteractive(ctx)
				if err != nil {
					b.Fatal(err)
				}
				release()
			}
		})
	})
	b.Run("batch_slot", func(b *testing.B) {
		c := benchController(b, Config{Cores: maxCores, BatchSlots: maxCores, BatchTargetLoad: 1})
		b.ReportAllocs()
		for b.Loop() {
			release, err := c.AcquireBatchSlot(ctx)
			if err != nil {
				b.Fatal(err)
			}
			release()
		}
	})
}

// The cost of a refusal decided at arrival, for each way it is decided.
func BenchmarkReject(b *testing.B) {
	ctx := context.Background()
	b.Run("predicted_wait", func(b *testing.B) {
		c := benchController(b, Config{InteractiveLimit: 1, QueueTimeout: time.Millisecond})
		release := mustAcquire(b, c)
		held := time.Now()
		for time.Since(held) < 2*time.Millisecond { // a service time above the deadline
		}
		release()
		defer mustAcquire(b, c)()
		benchRejections(b, c, ReasonPredictedWait)
	})
	b.Run("queue_full", func(b *testing.B) {
		c := benchController(b, Config{InteractiveLimit: 1, InteractiveQueue: 1,
			QueueTimeout: time.Minute, OverloadQueueTimeout: time.Minute})
		defer mustAcquire(b, c)()
		waiterCtx, cancel := context.WithCancel(ctx)
		waiter := acquireAsync(waiterCtx, c.AcquireInteractive)
		waitUntil(b, "the queue fills", func() bool { return c.Stats().Interactive.Queued == 1 })
		defer func() { cancel(); <-waiter }()
		benchRejections(b, c, ReasonQueueFull)
	})
	b.Run("draining", func(b *testing.B) {
		c := benchController(b, Config{})
		c.Drain()
		benchRejections(b, c, ReasonDraining)
	})
}

func benchRejections(b *testing.B, c *Controller, reason string) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, err := c.AcquireInteractive(ctx)
		if rej, ok := err.(*Rejection); !ok || rej.Reason != reason {
			b.Fatalf("got %v, want %s", err, reason)
		}
	}
}

func benchController(b *testing.B, cfg Config) *Controller {
	b.Helper()
	c, err := New(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	return c
}
