package admission

import (
	"maps"
	"time"
)

// Stats is a snapshot of the controller, for a dashboard's JSON and for
// readiness. Counters count since the controller was made.
type Stats struct {
	Draining    bool       `json:"draining"`
	Interactive ClassStats `json:"interactive"`
	BatchJobs   ClassStats `json:"batch_jobs"`
	BatchSlots  SlotStats  `json:"batch_slots"`
	// Load is the recent load in cores (averaged over 100 ms) that
	// batch work yields to.
	Load LoadStats `json:"load"`
	// BudgetExhausted counts the interactive answers cut by their time
	// budget (ObserveOutcome).
	BudgetExhausted uint64 `json:"budget_exhausted"`
	// LimitDecreases and LimitIncreases count the moves of the adaptive
	// interactive limit.
	LimitDecreases uint64 `json:"limit_decreases"`
	LimitIncreases uint64 `json:"limit_increases"`
	// RunQueue is the run-queue shedder's state.
	RunQueue RunQueueStats `json:"run_queue"`
}

// ClassStats describes interactive requests or batch jobs.
type ClassStats struct {
	// InFlight counts the requests holding a slot.
	InFlight int `json:"in_flight"`
	// Limit is the effective limit; MinLimit and MaxLimit its range
	// (equal for batch jobs, whose limit does not adapt).
	Limit    int `json:"limit"`
	MinLimit int `json:"min_limit"`
	MaxLimit int `json:"max_limit"`
	// Queued counts the requests waiting, at most MaxQueue.
	Queued   int `json:"queued"`
	MaxQueue int `json:"max_queue"`
	// Overloaded: newcomers get the short deadline (the queue has not
	// been empty for OverloadAfter, or was so and refused requests less
	// than OverloadAfter ago).
	Overloaded bool `json:"overloaded"`
	// QueueTimeout is the deadline a request arriving now would get.
	QueueTimeout time.Duration `json:"queue_timeout_ns"`
	// ServiceTime is the moving average of the time a slot is held, the
	// basis of the predicted wait.
	ServiceTime time.Duration `json:"service_time_ns"`
	// Admitted counts the requests given a slot.
	Admitted uint64 `json:"admitted"`
	// Abandoned counts requests whose context ended while they waited.
	Abandoned uint64 `json:"abandoned"`
	// Rejected counts refusals by reason (every Reason constant is a key).
	Rejected map[string]uint64 `json:"rejected"`
}

// SlotStats describes the batch slots.
type SlotStats struct {
	// InUse counts the slots held, at most Limit (BatchSlots).
	InUse int `json:"in_use"`
	Limit int `json:"limit"`
	// Waiting counts the units of batch work waiting for a slot.
	Waiting int `json:"waiting"`
	// Granted counts the slots granted.
	Granted uint64 `json:"granted"`
	// GrantedOverdue counts the slots the starvation guard granted
	// although batch work should have yielded.
	GrantedOverdue uint64 `json:"granted_overdue"`
}

// LoadStats is the recent load, in cores: interactive requests in flight
// and batch slots in use, each averaged over time.
type LoadStats struct {
	Interactive float64 `json:"interactive"`
	Batch       float64 `json:"batch"`
	// Target is Cores × BatchTargetLoad: batch work is granted slots
	// only while Interactive + Batch is below it.
	Target float64 `json:"target"`
}

// Stats returns a snapshot; a nil controller reports zeros.
func (c *Controller) Stats() Stats {
	if c == nil {
		return Stats{}
	}
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{
		Draining:        c.draining,
		Interactive:     c.interactive.stats(now, c.adapt.min, c.adapt.max),
		BatchJobs:       c.jobs.stats(now, c.jobs.limit, c.jobs.limit),
		BatchSlots:      SlotStats{InUse: c.slots.inUse, Limit: c.slots.limit, Waiting: c.slots.queue.len, Granted: c.slots.granted, GrantedOverdue: c.slots.grantedOverdue},
		Load:            c.loadAt(now),
		BudgetExhausted: c.budgetExhausted,
		LimitDecreases:  c.adapt.decreases,
		LimitIncreases:  c.adapt.increases,
		RunQueue:        c.runQueue.stats(),
	}
}

func (c *class) stats(now time.Time, minLimit, maxLimit int) ClassStats {
	rejected := make(map[string]uint64, len(reasons))
	for _, r := range reasons {
		rejected[r] = 0
	}
	maps.Copy(rejected, c.rejected)
	return ClassStats{
		InFlight: c.inFlight, Limit: c.limit, MinLimit: minLimit, MaxLimit: maxLimit,
		Queued: c.queue.len, MaxQueue: c.maxQueue,
		Overloaded: c.overloaded(now), QueueTimeout: c.deadline(now),
		ServiceTime: time.Duration(c.service.value),
		Admitted:    c.admitted, Abandoned: c.abandoned, Rejected: rejected,
	}
}

// loadAt is the load meter brought to now, without changing it (Stats
// only reads).
func (c *Controller) loadAt(now time.Time) LoadStats {
	m := c.load
	m.advance(now, c.interactive.inFlight, c.slots.inUse)
	return LoadStats{Interactive: m.interactive, Batch: m.batch, Target: c.slots.targetLoad}
}
