package admission

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// newTestController builds a controller registered on a fresh registry
// and checks, when the test ends, that no goroutine it started is left.
func newTestController(t testing.TB, cfg Config) *Controller {
	t.Helper()
	checkGoroutines(t)
	// The run-queue shedder reacts to the machine's load, which tests
	// counting slots and queues do not control: runqueue_test.go tests it.
	cfg.NoRunQueueShedding = true
	c, err := New(cfg, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkGoroutines fails the test if, once it and its cleanups are done,
// more goroutines run than when it started (polled: exiting goroutines
// take a moment to be gone).
func checkGoroutines(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		var now int
		ok := poll(5*time.Second, func() bool {
			now = runtime.NumGoroutine()
			return now <= before
		})
		if !ok {
			buf := make([]byte, 1<<16)
			t.Errorf("goroutines: %d before, %d after:\n%s", before, now, buf[:runtime.Stack(buf, true)])
		}
	})
}

// poll calls cond until it holds or timeout passes.
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
}

// waitUntil fails the test unless cond holds within 5 s.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !poll(5*time.Second, cond) {
		t.Fatalf("timed out waiting until %s", what)
	}
}

// mustAcquire takes an interactive slot that must be free.
func mustAcquire(t testing.TB, c *Controller) func() {
	t.Helper()
	release, err := c.AcquireInteractive(context.Background())
	if err != nil {
		t.Fatalf("AcquireInteractive: %v", err)
	}
	return release
}

// result is what an asynchronous acquisition returned.
type result struct {
	release func()
	err     error
}

// acquireAsync acquires in a goroutine; the answer comes on the channel.
func acquireAsync(ctx context.Context, acquire func(context.Context) (func(), error)) <-chan result {
	ch := make(chan result, 1)
	go func() {
		release, err := acquire(ctx)
		ch <- result{release, err}
	}()
	return ch
}

// receive waits (5 s at most) for an asynchronous acquisition.
func receive(t testing.TB, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("acquisition did not return")
		return result{}
	}
}

// rejection returns err's *Rejection, failing the test when it is not one
// with the wanted reason.
func rejection(t testing.TB, err error, reason string) *Rejection {
	t.Helper()
	var rej *Rejection
	if !errors.As(err, &rej) {
		t.Fatalf("got %v, want a %s rejection", err, reason)
	}
	if rej.Reason != reason {
		t.Fatalf("got reason %s, want %s (%v)", rej.Reason, reason, rej)
	}
	return rej
}
