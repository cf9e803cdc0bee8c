package telemetry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	randv2 "math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// RequestInfo is the per-request record shared by the middlewares and
// filled by the handler: what the access log and the span report beyond
// status and size. Handlers reach it with RequestInfoFrom(ctx); its
// setters accept a nil receiver, so a handler served without the
// middlewares needs no check. Set it from the handler's goroutine.
type RequestInfo struct {
	start   time.Time
	status  int
	bytes   int64
	route   string
	cache   string
	results int
	query   string
	panic   bool
	written bool
}

type infoKey struct{}

// RequestInfoFrom returns the request's RequestInfo, nil outside the
// middlewares.
func RequestInfoFrom(ctx context.Context) *RequestInfo {
	i, _ := ctx.Value(infoKey{}).(*RequestInfo)
	return i
}

// SetRoute names the request's route, a pattern (never the raw path):
// the label of metrics, the access log and the span. A handler that routes
// itself, as balise's API does, calls it; behind a ServeMux that it does
// not call, the pattern the mux matched is used.
func (i *RequestInfo) SetRoute(pattern string) {
	if i != nil {
		i.route = pattern
	}
}

// SetCache records where the answer came from (l1, l2, miss).
func (i *RequestInfo) SetCache(tier string) {
	if i != nil {
		i.cache = tier
	}
}

// SetResults records the number of results returned.
func (i *RequestInfo) SetResults(n int) {
	if i != nil {
		i.results = n
	}
}

// SetQuery records the query text; it is logged only with LogQueries.
func (i *RequestInfo) SetQuery(q string) {
	if i != nil {
		i.query = q
	}
}

// recorder records status and size. It keeps Flush (CSV streaming) and
// exposes Unwrap so http.ResponseController reaches the connection.
type recorder struct {
	http.ResponseWriter
	info *RequestInfo
}

func (w *recorder) WriteHeader(code int) {
	if !w.info.written {
		w.info.status, w.info.written = code, code >= 200
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if !w.info.written {
		w.info.status, w.info.written = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(b)
	w.info.bytes += int64(n)
	return n, err
}

func (w *recorder) Flush() {
	if !w.info.written {
		w.info.status, w.info.written = http.StatusOK, true
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// begin returns the request's RequestInfo, creating it (and wrapping the
// writer) for the outermost of our middlewares only: the others share it.
func begin(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, *http.Request, *RequestInfo, bool) {
	if i := RequestInfoFrom(r.Context()); i != nil {
		return w, r, i, false
	}
	i := &RequestInfo{start: time.Now(), results: -1}
	r = r.WithContext(context.WithValue(r.Context(), infoKey{}, i))
	return &recorder{ResponseWriter: w, info: i}, r, i, true
}

// finish falls back on the request passed down when no handler named
// the route: ServeMux sets r.Pattern on the request it receives, so the
// middleware nearest to the mux sees it.
func (i *RequestInfo) finish(r *http.Request) {
	if i.route == "" && r.Pattern != "" {
		i.route = r.Pattern
	}
}

func (i *RequestInfo) statusOrDefault() int {
	switch {
	case i.status != 0:
		return i.status
	case i.panic:
		return http.StatusInternalServerError
	}
	return http.StatusOK // a handler that wrote nothing sent 200
}

// Middleware chains Trace, Metrics and AccessLog, outermost first. Put it
// around the handler, inside request-id and recovery middlewares; the
// route comes from SetRoute, or from a ServeMux directly inside it.
func (t *Telemetry) Middleware(next http.Handler) http.Handler {
	return t.Trace(t.Metrics(t.AccessLog(next)))
}

// Metrics records the golden signals: requests by route, method and
// status class, their latency, in-flight requests, errors, bytes.
func (t *Telemetry) Metrics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w, r, info, _ := begin(w, r)
		t.http.inFlight.Inc()
		defer func() {
			p := recover()
			if p != nil {
				info.panic = true
			}
			t.http.inFlight.Dec()
			info.finish(r)
			status := info.statusOrDefault()
			route, method, class := routeLabel(info.route), methodLabel(r.Method), codeClass(status)
			t.http.requests.WithLabelValues(route, method, class).Inc()
			t.http.duration.WithLabelValues(route, method, class).Observe(time.Since(info.start).Seconds())
			t.http.bytes.WithLabelValues(route).Add(float64(info.bytes))
			switch {
			case info.panic && !errors.Is(asError(p), http.ErrAbortHandler):
				t.http.errors.WithLabelValues(route, "panic").Inc()
			case status >= 500:
				t.http.errors.WithLabelValues(route, "server").Inc()
			case r.Context().Err() != nil && !info.written:
				t.http.errors.WithLabelValues(route, "client_gone").Inc()
			}
			if p != nil {
				panic(p)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func asError(p any) error {
	err, _ := p.(error)
	return err
}

// AccessLog writes one line per request, sampled per
// Config.AccessLogSample except for errors and slow requests.
func (t *Telemetry) AccessLog(next http.Handler) http.Handler {
	if !t.cfg.AccessLog {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w, r, info, _ := begin(w, r)
		defer func() {
			p := recover()
			if p != nil {
				info.panic = true
			}
			info.finish(r)
			t.logAccess(r, info)
			if p != nil {
				panic(p)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func (t *Telemetry) logAccess(r *http.Request, info *RequestInfo) {
	status := info.statusOrDefault()
	d := time.Since(info.start)
	if status < 500 && d < t.cfg.SlowRequest && t.cfg.AccessLogSample < 1 && randv2.Float64() >= t.cfg.AccessLogSample {
		t.http.logDrops.Inc()
		return
	}
	lvl := slog.LevelInfo
	if status >= 500 {
		lvl = slog.LevelError
	}
	attrs := make([]slog.Attr, 0, 10)
	attrs = append(attrs,
		slog.String("method", r.Method),
		slog.String("route", routeLabel(info.route)),
		slog.Int("status", status),
		slog.Float64("dur_ms", float64(d.Microseconds())/1000),
		slog.Int64("bytes", info.bytes),
	)
	if info.cache != "" {
		attrs = append(attrs, slog.String("cache", info.cache))
	}
	if info.results >= 0 {
		attrs = append(attrs, slog.Int("results", info.results))
	}
	if t.cfg.LogQueries && info.query != "" {
		attrs = append(attrs, slog.String("query", info.query))
	}
	if info.panic {
		attrs = append(attrs, slog.Bool("panic", true))
	}
	t.Logger.LogAttrs(r.Context(), lvl, "request", attrs...)
}

// Trace starts the server span of each request, continuing the caller's
// trace from a W3C traceparent header. The span is named "METHOD route"
// once routing is known; the query string is never recorded.
func (t *Telemetry) Trace(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := t.Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := t.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(semconv.HTTPRequestMethodKey.String(methodLabel(r.Method)),
				semconv.URLPathKey.String(r.URL.Path)))
		w, r, info, _ := begin(w, r.WithContext(ctx))
		defer func() {
			p := recover()
			if p != nil {
				info.panic = true
			}
			info.finish(r)
			status := info.statusOrDefault()
			route := routeLabel(info.route)
			span.SetName(methodLabel(r.Method) + " " + route)
			span.SetAttributes(semconv.HTTPRouteKey.String(route), semconv.HTTPResponseStatusCodeKey.Int(status))
			if info.cache != "" {
				span.SetAttributes(attribute.String("balise.cache", info.cache))
			}
			if info.results >= 0 {
				span.SetAttributes(attribute.Int("balise.results", info.results))
			}
			if status >= 500 || info.panic {
				span.SetStatus(codes.Error, strconv.Itoa(status))
			}
			span.End()
			if p != nil {
				panic(p)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type requestIDKey struct{}

// RequestIDFrom returns the id set by the RequestID middleware.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// RequestID accepts a sane X-Request-Id (from a proxy) or makes one,
// stores it in the context and echoes it in the response. Use it, or pass
// another middleware's getter as Config.RequestID.
func RequestID(next http.Handler) http.Handler {
	var b [4]byte
	rand.Read(b[:])
	prefix := hex.EncodeToString(b[:]) + "-"
	var n atomic.Uint64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = prefix + strconv.FormatUint(n.Add(1), 36)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}
