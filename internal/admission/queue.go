package admission

import "time"

// waiterState says who decided a waiter's fate. Only the holder of the
// controller's lock changes it, and only once away from waiting.
type waiterState uint8

const (
	waiting waiterState = iota
	granted
	drained
)

// waiter is one request parked in a queue. Its goroutine blocks on ready
// (no spinning); whoever grants or refuses it sends on ready once.
type waiter struct {
	prev, next *waiter
	ready      chan struct{} // buffered: the sender never blocks
	state      waiterState
	enqueued   time.Time
	grantedAt  time.Time // when the slot became the waiter's
}

func newWaiter(now time.Time) *waiter {
	return &waiter{ready: make(chan struct{}, 1), enqueued: now}
}

// waitList is an intrusive FIFO: a waiter whose context ends leaves it in
// O(1), wherever it stands.
type waitList struct {
	head, tail *waiter
	len        int
}

func (l *waitList) pushBack(w *waiter) {
	w.prev, w.next = l.tail, nil
	if l.tail == nil {
		l.head = w
	} else {
		l.tail.next = w
	}
	l.tail = w
	l.len++
}

func (l *waitList) remove(w *waiter) {
	if w.prev == nil {
		l.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		l.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.prev, w.next = nil, nil
	l.len--
}

// ewma is an exponentially weighted moving average of durations, in
// nanoseconds. The first sample sets it, so that a fresh controller
// predicts from real service times rather than from a guess.
type ewma struct {
	value   float64
	weight  float64 // of each new sample
	samples uint64
}

func (e *ewma) add(d time.Duration) {
	if e.samples == 0 {
		e.value = float64(d)
	} else {
		e.value += e.weight * (float64(d) - e.value)
	}
	e.samples++
}

// Weights of a new service-time sample. Interactive service times are
// heavy-tailed (20 µs to the 50 ms budget) and plentiful: a light weight
// keeps one slow search from moving the prediction much. Batch jobs are
// few and long: each counts more.
const (
	interactiveServiceWeight = 1.0 / 128
	batchJobServiceWeight    = 1.0 / 8
)

// class is the state of one bounded class (interactive requests or batch
// jobs): slots, a FIFO queue with a deadline, and the service-time average
// that predicts waits. Every field is guarded by the controller's lock.
type class struct {
	name     string
	inFlight int
	limit    int // effective limit (adaptive for interactive requests)
	maxQueue int
	queue    waitList

	timeout         time.Duration
	overloadTimeout time.Duration // applies once the queue stayed non-empty for overloadAfter
	overloadAfter   time.Duration
	nonEmptySince   time.Time // zero while the queue is empty
	lastShed        time.Time // last refusal made while overloaded

	service ewma // how long a slot is held

	admitted, abandoned uint64
	rejected            map[string]uint64 // by reason
}

func newClass(name string, limit, maxQueue int, timeout, overloadTimeout, overloadAfter time.Duration, weight float64) class {
	return class{
		name: name, limit: limit, maxQueue: maxQueue,
		timeout: timeout, overloadTimeout: overloadTimeout, overloadAfter: overloadAfter,
		service:  ewma{weight: weight},
		rejected: make(map[string]uint64, len(reasons)),
	}
}

// overloaded tells whether the short deadline applies: the queue has not
// been empty for overloadAfter (the CoDel idea: a queue that never empties
// is a standing queue, and only adds latency), or it was so and requests
// were refused since, less than overloadAfter ago. The second half is
// hysteresis: the short deadline keeps the queue so short that a burst's
// gap empties it, and without it the deadline would flap between the two
// values under a steady overload.
func (c *class) overloaded(now time.Time) bool {
	if !c.nonEmptySince.IsZero() && now.Sub(c.nonEmptySince) >= c.overloadAfter {
		return true
	}
	return !c.lastShed.IsZero() && now.Sub(c.lastShed) < c.overloadAfter
}

// deadline is the queue deadline of a request arriving now.
func (c *class) deadline(now time.Time) time.Duration {
	if c.overloaded(now) {
		return c.overloadTimeout
	}
	return c.timeout
}

// backlog is the time the work ahead of a newcomer needs to clear its
// slots: the queue (plus the newcomer), plus requests in flight beyond a
// limit that was just lowered, each holding a slot for the average
// service time, the limit's slots working in parallel.
func (c *class) backlog(extra int) time.Duration {
	ahead := c.queue.len + extra + max(0, c.inFlight-c.limit)
	return time.Duration(float64(ahead) * c.service.value / float64(max(1, c.limit)))
}

func (c *class) enqueue(w *waiter) {
	if c.queue.len == 0 {
		c.nonEmptySince = w.enqueued
	}
	c.queue.pushBack(w)
}

func (c *class) dequeue(w *waiter) {
	c.queue.remove(w)
	if c.queue.len == 0 {
		c.nonEmptySince = time.Time{}
	}
}

// reject counts a refusal and builds its error.
func (c *class) reject(reason string, retryAfter time.Duration, now time.Time) *Rejection {
	c.rejected[reason]++
	if reason != ReasonDraining && c.overloaded(now) {
		c.lastShed = now
	}
	return &Rejection{Class: c.name, Reason: reason, RetryAfter: min(retryAfter, maxRetryAfter)}
}

// grant hands free slots to the head of the queue, in arrival order.
func (c *class) grant(now time.Time) {
	for c.queue.head != nil && c.inFlight < c.limit {
		w := c.queue.head
		c.dequeue(w)
		c.inFlight++
		c.admitted++
		w.state, w.grantedAt = granted, now
		w.ready <- struct{}{}
	}
}

// drain refuses every queued request.
func (c *class) drain() {
	for c.queue.head != nil {
		w := c.queue.head
		c.dequeue(w)
		c.rejected[ReasonDraining]++
		w.state = drained
		w.ready <- struct{}{}
	}
}
