package admission

import (
	"context"
	"sync/atomic"
	"time"
)

// slots bounds the cores batch work uses across all batch jobs. Guarded
// by the controller's lock.
type slots struct {
	inUse, limit int
	cores        int
	targetLoad   float64 // in cores: Cores × BatchTargetLoad
	maxDelay     time.Duration
	queue        waitList
	lastGrant    time.Time // for the starvation guard (guardDue)
	overdue      *waiter   // the one waiter the guard let through, if any
	timer        *time.Timer
	checkAt      time.Time // when timer fires; zero once it has

	granted, grantedOverdue uint64
}

// loadWindow is the time constant of the load meter: long enough to span
// many requests and units of batch work, short enough that batch work
// backs off within a tenth of a second of an interactive surge.
const loadWindow = 100 * time.Millisecond

// loadMeter is a moving average, in cores, of the interactive requests in
// flight and of the batch slots in use, over time (not over events).
// Guarded by the controller's lock.
type loadMeter struct {
	last               time.Time
	interactive, batch float64
}

// advance accounts for the time since the last change, during which
// inFlight and inUse held. Call it before every change of either; a
// second call at the same instant changes nothing.
func (m *loadMeter) advance(now time.Time, inFlight, inUse int) {
	dt := now.Sub(m.last)
	if m.last.IsZero() || dt >= 10*loadWindow {
		m.last, m.interactive, m.batch = now, float64(inFlight), float64(inUse)
		return
	}
	if dt <= 0 {
		return
	}
	m.last = now
	// dt/(τ+dt): the exponential decay's weight, to first order, and
	// within [0, 1) whatever dt.
	a := float64(dt) / float64(loadWindow+dt)
	m.interactive += a * (float64(inFlight) - m.interactive)
	m.batch += a * (float64(inUse) - m.batch)
}

// timeToFall is how long the total average takes to fall below target if
// the load stays at x from now on (advance first); false when it never
// will (x is not below target).
func (m *loadMeter) timeToFall(x, target float64) (time.Duration, bool) {
	total := m.interactive + m.batch
	switch {
	case total < target:
		return 0, true
	case x >= target:
		return 0, false
	}
	a := (total - target) / (total - x) // the weight advance must reach, in (0, 1]
	if a >= 1 {
		return 10 * loadWindow, true // advance resets the average after that long
	}
	return time.Duration(float64(loadWindow)*a/(1-a)) + 1, true
}

func (c *Controller) advanceLoad(now time.Time) {
	c.load.advance(now, c.interactive.inFlight, c.slots.inUse)
}

// slotGrantable is the yielding rule. A free batch slot goes to batch
// work only when
//   - no interactive request waits for a slot,
//   - a core is idle right now (interactive requests in flight plus batch
//     slots in use below Cores), and
//   - the recent load, interactive plus batch, is below BatchTargetLoad of
//     the cores: batch work fills the cores interactive traffic leaves,
//     but leaves headroom for its bursts;
//
// or when the waiter is overdue (see the starvation guard in checkSlots).
func (c *Controller) slotGrantable(w *waiter) bool {
	if c.slots.inUse >= c.slots.limit {
		return false
	}
	if w != nil && w == c.slots.overdue {
		return true
	}
	return c.interactive.queue.len == 0 &&
		c.interactive.inFlight+c.slots.inUse < c.slots.cores &&
		c.load.interactive+c.load.batch < c.slots.targetLoad
}

// grantSlots hands free slots to waiting batch work, in arrival order
// except that an overdue waiter may pass yielding ones.
func (c *Controller) grantSlots(now time.Time) {
	if c.slots.queue.len == 0 {
		return
	}
	c.advanceLoad(now)
	for w := c.slots.queue.head; w != nil && c.slots.inUse < c.slots.limit; {
		next := w.next
		if c.slotGrantable(w) {
			overdue := w == c.slots.overdue
			c.removeSlotWaiter(w)
			c.takeSlot(now, overdue)
			w.state, w.grantedAt = granted, now
			w.ready <- struct{}{}
		}
		w = next
	}
	if c.slots.queue.len > 0 {
		c.armSlotCheck(now)
	}
}

// takeSlot marks a slot taken; the load must have been advanced to now.
func (c *Controller) takeSlot(now time.Time, overdue bool) {
	c.slots.inUse++
	c.slots.granted++
	c.slots.lastGrant = now
	if overdue {
		c.slots.grantedOverdue++
	}
}

func (c *Controller) removeSlotWaiter(w *waiter) {
	c.slots.queue.remove(w)
	if c.slots.overdue == w {
		c.slots.overdue = nil
	}
}

// AcquireBatchSlot waits for a batch slot; call it around each small unit
// of batch work and call release (idempotent) when the unit is done. Keep
// units short, 8–32 CSV rows or one /batch item: a unit that has started
// is not interrupted, and the interactive requests sharing its core wait
// for its end. Batch work yields to interactive requests (see
// slotGrantable) but not forever: see the starvation guard (checkSlots). It never refuses: the only error is ctx's, once ctx
// has ended.
func (c *Controller) AcquireBatchSlot(ctx context.Context) (release func(), err error) {
	if c == nil {
		return noRelease, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := time.Now()
	c.mu.Lock()
	c.advanceLoad(now)
	if c.slots.queue.len == 0 && c.slotGrantable(nil) {
		c.takeSlot(now, false)
		c.mu.Unlock()
		c.waitSlots.Observe(0)
		return c.slotReleaser(), nil
	}
	w := newWaiter(now)
	c.slots.queue.pushBack(w)
	c.armSlotCheck(now)
	c.mu.Unlock()
	return c.waitSlot(ctx, w)
}

// waitSlot parks a unit until it is granted a slot or ctx ends.
func (c *Controller) waitSlot(ctx context.Context, w *waiter) (func(), error) {
	select {
	case <-w.ready:
		c.waitSlots.Observe(w.grantedAt.Sub(w.enqueued).Seconds())
		return c.slotReleaser(), nil
	case <-ctx.Done():
	}
	c.mu.Lock()
	state := w.state
	if state == waiting {
		c.removeSlotWaiter(w)
		c.grantSlots(time.Now()) // others may have waited behind it
	}
	c.mu.Unlock()
	if state == granted {
		c.releaseSlot()
	}
	return nil, ctx.Err()
}

// minSlotCheck bounds how often the slot timer fires.
const minSlotCheck = time.Millisecond

// armSlotCheck sets the slot timer for what no event announces: the load
// average falling below the target as time passes, and the starvation
// guard coming due. Every other change (a request or a unit starting or
// ending) calls grantSlots itself. A timer that fires early only looks
// again, so it is moved earlier, never later.
func (c *Controller) armSlotCheck(now time.Time) {
	next := c.slots.maxDelay // a fallback: an overdue waiter needs only a free slot, an event
	if c.slots.overdue == nil {
		next = c.guardDue().Sub(now)
	}
	instant := c.slots.inUse < c.slots.limit && c.interactive.queue.len == 0 &&
		c.interactive.inFlight+c.slots.inUse < c.slots.cores
	if instant {
		if fall, ok := c.load.timeToFall(float64(c.interactive.inFlight+c.slots.inUse), c.slots.targetLoad); ok {
			next = min(next, fall)
		}
	}
	next = max(next, minSlotCheck)
	at := now.Add(next)
	switch {
	case c.slots.timer == nil:
		c.slots.timer = time.AfterFunc(next, c.checkSlots)
	case c.slots.checkAt.Before(now) || at.Before(c.slots.checkAt):
		c.slots.timer.Reset(next)
	default:
		return
	}
	c.slots.checkAt = at
}

// guardDue is when the starvation guard lets the head of the queue
// through: once it has waited BatchMaxDelay and no batch slot has been
// granted for as long. The queue must not be empty.
func (c *Controller) guardDue() time.Time {
	since := c.slots.queue.head.enqueued
	if c.slots.lastGrant.After(since) {
		since = c.slots.lastGrant
	}
	return since.Add(c.slots.maxDelay)
}

// checkSlots runs when the slot timer fires. It is the starvation guard:
// when due (guardDue), the unit at the head of the queue turns overdue and
// takes the next free slot whatever the interactive load, so batch work
// as a whole gets at least one unit per BatchMaxDelay, however many units
// wait.
func (c *Controller) checkSlots() {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slots.checkAt = time.Time{}
	if c.slots.queue.head != nil && c.slots.overdue == nil && !now.Before(c.guardDue()) {
		c.slots.overdue = c.slots.queue.head
	}
	c.grantSlots(now)
}

func (c *Controller) slotReleaser() func() {
	var released atomic.Bool
	return func() {
		if released.CompareAndSwap(false, true) {
			c.releaseSlot()
		}
	}
}

func (c *Controller) releaseSlot() {
	now := time.Now()
	c.mu.Lock()
	c.advanceLoad(now)
	c.slots.inUse--
	c.grantSlots(now)
	c.mu.Unlock()
}
