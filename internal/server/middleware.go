package server

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/klauspost/compress/gzhttp"

	"balise/internal/httpapi"
	"balise/internal/index"
	"balise/internal/search"
	"balise/internal/telemetry"
)

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain applies middlewares, the first one outermost.
func Chain(h http.Handler, mws ...Middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// RequestIDFrom returns the request id set by the RequestID middleware.
func RequestIDFrom(ctx context.Context) string { return telemetry.RequestIDFrom(ctx) }

// RequestID accepts a sane X-Request-Id from the client (a proxy's) or
// makes one, stores it in the request context and returns it in the
// response headers, so one id follows a request through every log line.
// It is telemetry's middleware, so log records and the server agree on it.
func RequestID() Middleware {
	return func(next http.Handler) http.Handler { return telemetry.RequestID(next) }
}

// statusWriter records whether the answer has started, for Recover. It
// keeps Flush and exposes Unwrap so http.ResponseController reaches the
// connection (deadlines, full duplex) through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Recover turns a handler panic into a 500 carrying the request id (and
// logs the stack under that id), instead of a dropped connection; a
// memory fault while reading the mapped index (the file was truncated
// under it) becomes a 503, and onPanic (may be nil) hears of every panic
// so that it is counted and a faulted index is replaced. A panic after the
// answer has started can only cut the connection; onPanic tells whether
// the panic was a fault of the served index. The request's
// goroutine turns memory faults into panics (index.CatchFaults) for the
// whole request, answer encoding included.
func Recover(log *slog.Logger, flavour httpapi.Flavour, onPanic func(p any) (indexFault bool)) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := &statusWriter{ResponseWriter: w} // status 0: nothing sent yet
			defer index.CatchFaults()()
			defer func() {
				p := recover()
				if p == nil {
					return
				}
				if p == http.ErrAbortHandler {
					panic(p) // a deliberate cut (see the CSV handler)
				}
				fault := false
				if onPanic != nil {
					fault = onPanic(p)
				}
				id := RequestIDFrom(r.Context())
				if fault {
					log.Error("memory fault reading the index: the file changed under its mapping", "request_id", id,
						"method", r.Method, "route", httpapi.RouteName(r.URL.Path), "panic", search.DescribePanic(p))
				} else {
					log.Error("handler panic", "request_id", id, "method", r.Method, "route", httpapi.RouteName(r.URL.Path),
						"panic", search.DescribePanic(p), "stack", string(debug.Stack()))
				}
				if sw.status != 0 {
					panic(http.ErrAbortHandler)
				}
				for k := range w.Header() {
					if k != "X-Request-Id" && k != "Access-Control-Allow-Origin" && k != "Access-Control-Allow-Headers" && k != "Vary" {
						w.Header().Del(k)
					}
				}
				if fault {
					w.Header().Set("Retry-After", "1")
					httpapi.WriteError(w, flavour, http.StatusServiceUnavailable, "503 Service Unavailable",
						"The index is being reloaded; retry in a moment.", "")
					return
				}
				httpapi.WriteError(w, flavour, http.StatusInternalServerError, "500 Internal Server Error",
					"The server failed on request "+id+"; the error is logged under that id.",
					"An unexpected error has occurred (request "+id+")")
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// SecurityHeaders sets the headers every answer carries:
// X-Content-Type-Options: nosniff, so that no browser reads a JSON or CSV
// answer as a script or a page.
func SecurityHeaders() Middleware {
	nosniff := []string{"nosniff"}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header()["X-Content-Type-Options"] = nosniff
			next.ServeHTTP(w, r)
		})
	}
}

// Compress negotiates gzip or zstd from Accept-Encoding (klauspost's
// gzhttp; fast levels: answers are small and latency matters more than
// ratio). Answers under 1 KiB are sent as they are.
func Compress() (Middleware, error) {
	wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(1024), gzhttp.CompressionLevel(1))
	if err != nil {
		return nil, err
	}
	return func(h http.Handler) http.Handler { return wrap(h) }, nil
}
