package server

import (
	"sync"
	"sync/atomic"

	"balise/internal/search"
)

// Holder holds the serving engine behind an atomic pointer with reference
// counting: Acquire lends the current engine to a request, Swap installs a
// new one at once, and an old engine's index is closed (its file unmapped)
// only when the last request using it has released it. Strings read from an
// index are views over its mapping, which is why a request keeps its lease
// until its answer is written.
type Holder struct {
	cur    atomic.Pointer[lease]
	onSwap atomic.Pointer[func(*search.Engine)]
}

// OnSwap registers fn, called with the new engine after every Swap (to
// publish the index's version in the metrics). It is called at once with
// the current engine, if any.
func (h *Holder) OnSwap(fn func(e *search.Engine)) {
	h.onSwap.Store(&fn)
	if e := h.Current(); e != nil {
		fn(e)
	}
}

type lease struct {
	e     *search.Engine
	batch *search.Engine // same index, batch settings (nil: e)
	close func() error
	// refs counts the holder's own reference (while current) plus one per
	// request; 0 means closed, and Acquire never revives it.
	refs atomic.Int64
	once sync.Once
}

func (l *lease) release() {
	if l.refs.Add(-1) == 0 {
		l.once.Do(func() {
			if l.close != nil {
				l.close()
			}
		})
	}
}

// NewHolder serves e; close (may be nil) is called once e is retired and
// unused, typically e.Index().Close.
func NewHolder(e *search.Engine, close func() error) *Holder {
	h := &Holder{}
	h.Swap(e, close)
	return h
}

// Acquire returns the current engine and the function that gives it back.
// It must not be called after Close.
func (h *Holder) Acquire() (*search.Engine, func()) {
	l := h.acquire()
	return l.e, l.release
}

// AcquireBatch is Acquire for batch work (see SwapWithBatch).
func (h *Holder) AcquireBatch() (*search.Engine, func()) {
	l := h.acquire()
	if l.batch != nil {
		return l.batch, l.release
	}
	return l.e, l.release
}

func (h *Holder) acquire() *lease {
	for {
		l := h.cur.Load()
		if l == nil {
			panic("BUG: server.Holder used after Close")
		}
		n := l.refs.Load()
		if n <= 0 {
			continue // retired and closed between Load and here: reload
		}
		if l.refs.CompareAndSwap(n, n+1) {
			return l
		}
	}
}

// Swap makes e the engine of new requests; the previous one is closed when
// its last request ends.
func (h *Holder) Swap(e *search.Engine, close func() error) {
	h.SwapWithBatch(e, nil, close)
}

// SwapWithBatch is Swap with a second engine over the same index for batch
// work (CSV files, POST /batch), typically with a larger time budget so
// that a loaded server still gives deterministic files.
func (h *Holder) SwapWithBatch(e, batch *search.Engine, close func() error) {
	l := &lease{e: e, batch: batch, close: close}
	l.refs.Store(1)
	if old := h.cur.Swap(l); old != nil {
		old.release()
	}
	if fn := h.onSwap.Load(); fn != nil && e != nil {
		(*fn)(e)
	}
}

// Current returns the current engine without taking a lease (for
// read-only uses that copy what they read, like startup logs).
func (h *Holder) Current() *search.Engine {
	if l := h.cur.Load(); l != nil {
		return l.e
	}
	return nil
}

// Close retires the current engine (closed once its requests end).
func (h *Holder) Close() {
	if old := h.cur.Swap(nil); old != nil {
		old.release()
	}
}
