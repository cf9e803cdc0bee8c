package telemetry

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Telemetry holds the process's logger, metrics and tracer. Its fields
// are set by Setup and read only afterwards.
type Telemetry struct {
	// Logger is the process logger (JSON or text, with correlation ids).
	Logger *slog.Logger
	// Registry holds every metric; serve it with MetricsHandler and pass
	// it as the prometheus.Registerer of instrumented packages.
	Registry *prometheus.Registry
	// TracerProvider is the SDK provider when tracing is on, a no-op one
	// otherwise; pass it to the cache's Config.
	TracerProvider trace.TracerProvider
	// Propagator reads and writes W3C traceparent/tracestate and baggage.
	Propagator propagation.TextMapPropagator
	// Search takes the engine-level metrics.
	Search *SearchMetrics

	cfg    Config
	http   *httpMetrics
	tracer trace.Tracer
	names  *namingRegisterer
}

// Setup builds the logger, the registry and the tracer provider. The
// returned shutdown flushes and stops the exporter; call it last in the
// shutdown sequence, with a deadline.
func Setup(ctx context.Context, cfg Config) (*Telemetry, func(context.Context) error, error) {
	if err := cfg.validate(); err != nil {
		return nil, nil, err
	}
	out := cfg.LogOutput
	if out == nil {
		out = os.Stdout
	}
	var lb *logBuffer
	if _, isFile := out.(*os.File); isFile && cfg.LogFlush > 0 {
		lb = newLogBuffer(out, cfg.LogFlush)
		out = lb
	}
	logger, err := NewLogger(out, cfg.LogLevel, cfg.LogFormat, RequestIDFrom)
	if err != nil {
		if lb != nil {
			lb.Close()
		}
		return nil, nil, err
	}
	t := &Telemetry{Logger: logger, cfg: cfg,
		Propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})}
	t.Registry = prometheus.NewRegistry()
	t.names = &namingRegisterer{Registerer: t.Registry, names: map[string]bool{}}
	if err := newRegistry(cfg, t.names); err != nil {
		return nil, nil, err
	}
	if err := t.names.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "balise_log_lines_dropped_total",
		Help: "Log lines dropped because the log output fell behind (8 MiB waiting).",
	}, func() float64 {
		if lb == nil {
			return 0
		}
		return float64(lb.Dropped())
	})); err != nil {
		return nil, nil, err
	}
	if t.http, err = newHTTPMetrics(t.names); err != nil {
		return nil, nil, err
	}
	if t.Search, err = newSearchMetrics(t.names); err != nil {
		return nil, nil, err
	}
	tp, shutdown, err := newTracerProvider(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	t.TracerProvider = tp
	t.tracer = tp.Tracer("balise")
	return t, func(ctx context.Context) error {
		if lb != nil {
			defer lb.Close() // last: the lines about the shutdown itself
		}
		if err := shutdown(ctx); err != nil {
			return errors.Join(errors.New("cannot flush traces"), err)
		}
		return nil
	}, nil
}

// ForceFlush exports the spans ended so far (tests, and before a planned
// exit); it is a no-op with tracing off.
func (t *Telemetry) ForceFlush(ctx context.Context) error {
	if f, ok := t.TracerProvider.(interface{ ForceFlush(context.Context) error }); ok {
		return f.ForceFlush(ctx)
	}
	return nil
}
