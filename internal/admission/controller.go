package admission

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Controller admits, queues or refuses work. One Controller serves the
// whole process; its methods are safe for concurrent use. A nil
// *Controller admits everything at once (admission turned off).
type Controller struct {
	cfg Config

	// mu guards everything below: one lock, because whether a batch slot
	// may be granted depends on the interactive queue.
	mu          sync.Mutex
	interactive class
	jobs        class
	slots       slots
	load        loadMeter
	adapt       aimd
	draining    bool

	budgetExhausted uint64

	// runQueue sheds interactive arrivals while the scheduler's run queue
	// is long (runqueue.go); nil with Config.NoRunQueueShedding.
	runQueue *runQueue

	waitInteractive, waitJobs, waitSlots prometheus.Observer
}

// New returns a controller sized by cfg. It registers its metrics on reg
// when reg is not nil.
func New(cfg Config, reg prometheus.Registerer) (*Controller, error) {
	cfg, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	c := &Controller{
		cfg: cfg,
		interactive: newClass(ClassInteractive, cfg.InteractiveLimit, cfg.InteractiveQueue,
			cfg.QueueTimeout, cfg.OverloadQueueTimeout, cfg.OverloadAfter, interactiveServiceWeight),
		// Batch jobs keep one deadline: their queue is short and their
		// clients patient, a standing queue of jobs is not the problem.
		jobs: newClass(ClassBatchJob, cfg.BatchJobs, cfg.BatchJobQueue,
			cfg.BatchJobQueueTimeout, cfg.BatchJobQueueTimeout, cfg.BatchJobQueueTimeout, batchJobServiceWeight),
		slots: slots{limit: cfg.BatchSlots, cores: cfg.Cores, maxDelay: cfg.BatchMaxDelay,
			targetLoad: float64(cfg.Cores) * cfg.BatchTargetLoad},
		adapt: aimd{min: cfg.InteractiveMinLimit, max: cfg.InteractiveLimit, increaseInterval: cfg.IncreaseInterval},
	}
	if !cfg.NoRunQueueShedding {
		c.runQueue = newRunQueue(cfg.RunQueueTarget, nil)
	}
	if err := c.registerMetrics(reg); err != nil {
		return nil, err
	}
	return c, nil
}

// Config returns the configuration in use, defaults filled in (for the
// startup log line).
func (c *Controller) Config() Config {
	if c == nil {
		return Config{}
	}
	return c.cfg
}

func noRelease() {}

// predictionShare is the part of its deadline, in percent, that a
// newcomer's predicted wait may take: the rest is slack for the error of
// the prediction, so that few admitted waiters time out after waiting
// (a refusal that took the whole deadline) instead of being refused at
// arrival.
const predictionShare = 75

// AcquireInteractive admits an interactive request, after a short wait in
// the queue if every slot is busy. It returns the function to call once
// the answer is written (idempotent), or an error: a *Rejection (answer
// 503 with Retry-After), or ctx's error when ctx ended first (the client
// left: answer nothing). Most rejections are decided at arrival, without
// waiting; a request that still waits its whole deadline gets
// ReasonQueueTimeout.
func (c *Controller) AcquireInteractive(ctx context.Context) (release func(), err error) {
	if c == nil {
		return noRelease, nil
	}
	return c.acquire(ctx, &c.interactive, c.waitInteractive)
}

// AcquireBatchJob admits a batch job (a CSV file, a POST /batch request)
// like AcquireInteractive, against the batch-job bound and queue. Call
// release when the job ends; its rows take batch slots on top
// (AcquireBatchSlot).
func (c *Controller) AcquireBatchJob(ctx context.Context) (release func(), err error) {
	if c == nil {
		return noRelease, nil
	}
	return c.acquire(ctx, &c.jobs, c.waitJobs)
}

func (c *Controller) acquire(ctx context.Context, cl *class, waits prometheus.Observer) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := time.Now()
	// Decided before the lock: the shedder's update reads the runtime's
	// metrics, which the controller's lock need not wait for.
	shed := cl == &c.interactive && c.runQueue.shed(now)
	c.mu.Lock()
	w, deadline, err := c.arrive(cl, now, shed)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if w == nil {
		waits.Observe(0)
		return c.releaser(cl, now), nil
	}
	return c.wait(ctx, cl, w, deadline, waits)
}

// arrive decides at once, under the lock: admitted (no waiter, no error),
// refused, or queued (the waiter and its deadline). shed is the run-queue
// shedder's verdict.
func (c *Controller) arrive(cl *class, now time.Time, shed bool) (*waiter, time.Duration, error) {
	switch {
	case c.draining:
		return nil, 0, cl.reject(ReasonDraining, drainRetryAfter, now)
	case shed:
		return nil, 0, cl.reject(ReasonRunQueue, runQueueRetryAfter, now)
	case cl.queue.len == 0 && cl.inFlight < cl.limit:
		if cl == &c.interactive {
			c.advanceLoad(now)
		}
		cl.inFlight++
		cl.admitted++
		return nil, 0, nil
	case cl.queue.len >= cl.maxQueue:
		return nil, 0, cl.reject(ReasonQueueFull, cl.backlog(0), now)
	}
	deadline := cl.deadline(now)
	if wait := cl.backlog(1); wait > deadline*predictionShare/100 {
		return nil, 0, cl.reject(ReasonPredictedWait, wait, now)
	}
	w := newWaiter(now)
	cl.enqueue(w)
	return w, deadline, nil
}

// wait parks the caller until a slot is handed over, the deadline passes,
// ctx ends or the controller drains.
func (c *Controller) wait(ctx context.Context, cl *class, w *waiter, deadline time.Duration, waits prometheus.Observer) (func(), error) {
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	select {
	case <-w.ready:
	case <-ctx.Done():
	case <-timer.C:
	}
	c.mu.Lock()
	state := w.state
	var rej *Rejection
	if state == waiting {
		now := time.Now()
		cl.dequeue(w)
		if ctx.Err() != nil {
			cl.abandoned++
		} else {
			rej = cl.reject(ReasonQueueTimeout, cl.backlog(0), now)
		}
		c.grantSlots(now) // the interactive queue may just have emptied
	}
	c.mu.Unlock()
	switch {
	case state == granted:
		waits.Observe(w.grantedAt.Sub(w.enqueued).Seconds())
		release := c.releaser(cl, w.grantedAt)
		if err := ctx.Err(); err != nil {
			release()
			return nil, err
		}
		return release, nil
	case state == drained:
		return nil, &Rejection{Class: cl.name, Reason: ReasonDraining, RetryAfter: drainRetryAfter}
	case rej != nil:
		return nil, rej
	}
	return nil, ctx.Err()
}

// slotToken is a held slot; release returns it once, however many times
// it is called.
type slotToken struct {
	c        *Controller
	cl       *class
	start    time.Time
	released atomic.Bool
}

func (c *Controller) releaser(cl *class, start time.Time) func() {
	t := &slotToken{c: c, cl: cl, start: start}
	return t.release
}

func (t *slotToken) release() {
	if !t.released.CompareAndSwap(false, true) {
		return
	}
	now := time.Now()
	c, cl := t.c, t.cl
	c.mu.Lock()
	interactive := cl == &c.interactive
	if interactive {
		c.advanceLoad(now)
	}
	cl.inFlight--
	cl.service.add(now.Sub(t.start))
	cl.grant(now)
	if interactive {
		c.grantSlots(now)
	}
	c.mu.Unlock()
}

// Drain refuses, with ReasonDraining, every queued request and every new
// one, interactive or batch job; admitted work goes on, and batch slots
// are still granted so that running jobs can finish within the shutdown's
// grace period. It cannot be undone.
func (c *Controller) Drain() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.draining = true
	c.interactive.drain()
	c.jobs.drain()
	c.grantSlots(time.Now())
}
