// Package telemetry sets up balise's logs, metrics and traces, and the HTTP
// middlewares that feed them. The composition root calls Setup once:
//
//	tel, shutdown, err := telemetry.Setup(ctx, cfg)
//	defer shutdown(context.Background()) // flushes spans
//	mux.Handle("GET /metrics", tel.MetricsHandler()) // on the admin listener
//	handler := tel.Middleware(api)                   // trace → metrics → access log
//	c, err := cache.New(cacheCfg, tel.Registry, tel.Logger)
//
// # Logs
//
// log/slog, JSON (default) or text, to stdout. Every record logged with a
// context (InfoContext, LogAttrs(ctx, ...)) gets trace_id and span_id when
// the context carries a span (ours, or the caller's from a W3C traceparent
// header even when tracing is off) and request_id when the request has
// one. The access log writes one line per request; it can be sampled
// (Config.AccessLogSample) but never drops errors (status >= 500) or slow
// requests (Config.SlowRequest). The query text is logged only with
// Config.LogQueries: addresses are personal data. AccessLog is also the
// middleware to use alone when metrics and traces are off, so that the
// line has the same fields either way.
//
// # Metrics
//
// A private Prometheus registry (no global state) with the Go runtime,
// process and build-info collectors. Labels are bounded: the route is the
// pattern the handler names with RequestInfo.SetRoute (balise's API
// routes itself, from its route table), else the ServeMux pattern that
// matched, never the raw path; the method is one of
// the standard ones or OTHER, the status is a class (2xx...5xx), and the
// endpoint, stage and CSV status labels of SearchMetrics take fixed values
// (anything else is reported as "other"). No query text, id or client
// address ever becomes a label. Latency histograms are native histograms
// with classic buckets around the SLOs (1 ms to 500 ms) for scrapers that
// do not negotiate native histograms.
//
// # Traces
//
// OpenTelemetry, off by default. Tracing is on when Config.TracesExporter
// or OTEL_TRACES_EXPORTER says "otlp", or, when neither says anything, when
// an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). The protocol is http/protobuf unless
// Config.TraceProtocol or OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL says grpc;
// every other OTEL_EXPORTER_OTLP_* variable (headers, TLS, timeout,
// compression) is read by the exporter itself. Sampling is parent-based
// with a trace-id ratio (Config.TraceSampleRatio, else OTEL_TRACES_SAMPLER
// and OTEL_TRACES_SAMPLER_ARG, else 1). Propagation is W3C trace context
// plus baggage. Nothing is installed globally: the cache takes the
// TracerProvider in its Config.
//
// We read the few OTEL_* variables that choose the exporter ourselves
// rather than use contrib's autoexport, which would link the Prometheus,
// stdout and OTLP log and metric exporters as well for two decisions.
package telemetry
