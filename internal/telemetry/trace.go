package telemetry

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// tracesExporter decides whether and how to export, from the config and
// then the standard environment variables.
func tracesExporter(cfg Config) (exporter, protocol string, err error) {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		return "none", "", nil
	}
	exporter = firstNonEmpty(cfg.TracesExporter, os.Getenv("OTEL_TRACES_EXPORTER"))
	if exporter == "" {
		// The spec's default is otlp; ours is off unless an endpoint says
		// where to send, so that a bare `balise serve` never retries a
		// collector that does not exist.
		if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" {
			exporter = "otlp"
		} else {
			exporter = "none"
		}
	}
	switch exporter {
	case "none":
		return "none", "", nil
	case "otlp":
	default:
		return "", "", fmt.Errorf("unsupported traces exporter %q (want otlp or none)", exporter)
	}
	protocol = firstNonEmpty(cfg.TraceProtocol, os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"),
		os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL"), "http/protobuf")
	switch protocol {
	case "grpc", "http/protobuf":
		return exporter, protocol, nil
	}
	return "", "", fmt.Errorf("unsupported OTLP protocol %q (want grpc or http/protobuf)", protocol)
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// newTracerProvider returns the provider and its shutdown. With tracing
// off it is a no-op provider: spans cost a context lookup and nothing is
// recorded, but an incoming traceparent still reaches the logs.
func newTracerProvider(ctx context.Context, cfg Config) (trace.TracerProvider, func(context.Context) error, error) {
	exp := cfg.SpanExporter
	if exp == nil {
		kind, protocol, err := tracesExporter(cfg)
		if err != nil {
			return nil, nil, err
		}
		if kind == "none" {
			return noop.NewTracerProvider(), func(context.Context) error { return nil }, nil
		}
		// The exporters read OTEL_EXPORTER_OTLP_* (endpoint, headers,
		// TLS, timeout, compression) themselves, and connect lazily.
		if protocol == "grpc" {
			exp, err = otlptracegrpc.New(ctx)
		} else {
			exp, err = otlptracehttp.New(ctx)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("cannot create OTLP %s trace exporter: %w", protocol, err)
		}
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(cfg.ServiceName), semconv.ServiceVersion(cfg.Version)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES win
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithProcessPID(),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot build the trace resource: %w", err)
	}
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		// Defaults (5 s or 512 spans per export, 2048 queued) would hold
		// spans long in tests and interactive runs; 1 s costs nothing.
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Second)),
	}
	if s := sampler(cfg); s != nil {
		opts = append(opts, sdktrace.WithSampler(s))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	return tp, tp.Shutdown, nil
}

// sampler returns nil when OTEL_TRACES_SAMPLER should decide (the SDK
// reads it when no sampler is given).
func sampler(cfg Config) sdktrace.Sampler {
	ratio := cfg.TraceSampleRatio
	if ratio == 0 {
		if os.Getenv("OTEL_TRACES_SAMPLER") != "" {
			return nil
		}
		ratio = 1
	}
	return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))
}

// Tracer returns balise's tracer.
func (t *Telemetry) Tracer() trace.Tracer { return t.tracer }

// StartCacheLookup starts the span of a cache lookup; the cache package
// adds its own Redis spans under it when given the TracerProvider.
func (t *Telemetry) StartCacheLookup(ctx context.Context, endpoint string) (context.Context, trace.Span) {
	return t.tracer.Start(ctx, "cache lookup", trace.WithAttributes(attribute.String("balise.endpoint", endpoint)))
}

// Stage starts the span of one search stage and returns a function that
// ends it and records its duration in balise_search_stage_duration_seconds:
//
//	ctx, end := tel.Stage(ctx, "search", "score")
//	... score ...
//	end()
func (t *Telemetry) Stage(ctx context.Context, endpoint, stage string) (context.Context, func()) {
	start := time.Now()
	ctx, span := t.tracer.Start(ctx, "search "+bounded(stage, stages),
		trace.WithAttributes(attribute.String("balise.endpoint", bounded(endpoint, endpoints))))
	return ctx, func() {
		t.Search.ObserveStage(endpoint, stage, time.Since(start))
		span.End()
	}
}

// SearchTimings are the durations the engine measured in one forward
// search (search.Stats): Collect includes Fuzzy, the fuzzy collector's
// share of it.
type SearchTimings struct {
	Prepare, Collect, Fuzzy, Score time.Duration
}

// SearchStages records the stages of a forward search the engine timed
// itself: parse (Prepare), collect (Collect less Fuzzy), fuzzy when
// fuzzy matching ran (it runs inside the collector chain and is reported
// on its own), and score, laid end to end from start.
func (t *Telemetry) SearchStages(ctx context.Context, endpoint string, start time.Time, st SearchTimings) {
	stages := make([]stageTiming, 0, 4)
	stages = append(stages, stageTiming{"parse", st.Prepare}, stageTiming{"collect", st.Collect - st.Fuzzy})
	if st.Fuzzy > 0 {
		stages = append(stages, stageTiming{"fuzzy", st.Fuzzy})
	}
	stages = append(stages, stageTiming{"score", st.Score})
	t.stages(ctx, endpoint, start, stages)
}

// ReverseStages records a reverse lookup: the engine reports no stages,
// the whole lookup (d from start) is the collect stage.
func (t *Telemetry) ReverseStages(ctx context.Context, endpoint string, start time.Time, d time.Duration) {
	t.stages(ctx, endpoint, start, []stageTiming{{"collect", d}})
}

type stageTiming struct {
	name string
	d    time.Duration
}

// stages records stages timed elsewhere: their durations in
// balise_search_stage_duration_seconds and, when the request is traced,
// one span each, laid end to end from start.
func (t *Telemetry) stages(ctx context.Context, endpoint string, start time.Time, stages []stageTiming) {
	traced := trace.SpanFromContext(ctx).IsRecording()
	at := start
	for _, s := range stages {
		t.Search.ObserveStage(endpoint, s.name, s.d)
		if traced {
			_, span := t.tracer.Start(ctx, "search "+s.name, trace.WithTimestamp(at),
				trace.WithAttributes(attribute.String("balise.endpoint", endpoint)))
			span.End(trace.WithTimestamp(at.Add(s.d)))
		}
		at = at.Add(s.d)
	}
}

// CSVBatch starts the span of a CSV batch and returns a function that ends
// it with the number of rows done and the batch's error, recording the
// batch's duration and throughput. Count row statuses with
// Search.CSVRows as rows are written.
func (t *Telemetry) CSVBatch(ctx context.Context, endpoint string) (context.Context, func(rows int, err error)) {
	start := time.Now()
	ctx, span := t.tracer.Start(ctx, "csv batch",
		trace.WithAttributes(attribute.String("balise.endpoint", bounded(endpoint, endpoints))))
	return ctx, func(rows int, err error) {
		d := time.Since(start)
		t.Search.ObserveCSVBatch(endpoint, rows, d)
		span.SetAttributes(attribute.Int("balise.csv.rows", rows))
		EndSpan(span, err)
	}
}

// EndSpan records err (if any) on span and ends it.
func EndSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
