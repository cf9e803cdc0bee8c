package admission

import "time"

// aimd adapts the interactive limit between min and max: additive
// increase, multiplicative decrease, driven by the searches that exhaust
// their time budget while the server is loaded. Guarded by the
// controller's lock.
type aimd struct {
	min, max         int
	increaseInterval time.Duration

	lastDecrease time.Time // when the limit last went down
	lastChange   time.Time // when the limit last moved either way
	lastPressure time.Time // last budget exhausted under load

	decreases, increases uint64
}

// decreased is the limit after one multiplicative decrease: a tenth off,
// at least one slot, never below the floor.
func (a *aimd) decreased(limit int) int {
	return max(a.min, min(limit-1, limit*9/10))
}

// ObserveOutcome reports how an admitted interactive request ended:
// serviceTime is how long it took (from admission to its answer), and
// budgetExhausted whether the search ran out of its time budget and
// answered partially. Call it once per admitted request, before release.
//
// A budget exhausted while requests are queued or every slot is busy
// means the cores are oversubscribed: the limit drops by a tenth (at
// least one slot, not below InteractiveMinLimit), once per generation of
// requests, i.e. only for a request admitted after the previous decrease,
// so one burst of slow answers counts once. Otherwise the limit grows by
// one slot per IncreaseInterval that passed without such a sign, up to
// InteractiveLimit. Budget exhaustion on an idle server (a pathological
// query) leaves the limit alone, but every one is counted.
func (c *Controller) ObserveOutcome(serviceTime time.Duration, budgetExhausted bool) {
	if c == nil {
		return
	}
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	cl, a := &c.interactive, &c.adapt
	if budgetExhausted {
		c.budgetExhausted++
		if cl.queue.len == 0 && cl.inFlight < cl.limit {
			return
		}
		a.lastPressure = now
		started := now.Add(-serviceTime)
		if cl.limit > a.min && !started.Before(a.lastDecrease) {
			cl.limit = a.decreased(cl.limit)
			a.lastDecrease, a.lastChange = now, now
			a.decreases++
		}
		return
	}
	if cl.limit < a.max && now.Sub(a.lastChange) >= a.increaseInterval && now.Sub(a.lastPressure) >= a.increaseInterval {
		cl.limit++
		a.lastChange = now
		a.increases++
		c.advanceLoad(now)
		cl.grant(now)
	}
}
