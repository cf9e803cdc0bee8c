package cache

import (
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
)

// PanicError is a panic recovered by the cache: in the computation given
// to [Cache.Do] (every caller waiting for that key gets it, and nothing is
// cached) or in a call run through the guard of [Cache.Redis]. Match it
// with errors.As.
//
// A panic inside singleflight cannot be recovered by the caller: x/sync
// re-raises it on a fresh goroutine, which would end the process. The
// cache therefore recovers it where it happens and returns it as an error.
type PanicError struct {
	// Value is what was passed to panic. It may hold request data: log it
	// only where personal data may go.
	Value any
	// Stack is the panicking goroutine's stack trace.
	Stack []byte
}

// Error describes the panic without its value, which may hold request
// data; runtime errors (index out of range, nil dereference), which do
// not, are quoted.
func (e *PanicError) Error() string {
	if re, ok := e.Value.(runtime.Error); ok {
		return "answer computation panicked: " + re.Error()
	}
	return fmt.Sprintf("answer computation panicked (panic value of type %T)", e.Value)
}

// recovered turns a recovered panic value into a *PanicError, counts it
// under site and logs it, throttled. Call it from a deferred function
// right after recover().
func (c *Cache) recovered(site string, p any) *PanicError {
	return recordPanic(c.m, c.log, &c.panicLog, site, p)
}

func recordPanic(m *metrics, log *slog.Logger, t *throttle, site string, p any) *PanicError {
	pe := &PanicError{Value: p, Stack: debug.Stack()}
	m.panics.WithLabelValues(site).Inc()
	if n, ok := t.allow(); ok {
		log.Error("recovered a panic; balise keeps serving", "site", site, "err", pe.Error(),
			"stack", string(pe.Stack), "suppressed", n)
	}
	return pe
}
