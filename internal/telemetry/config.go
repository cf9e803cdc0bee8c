package telemetry

import (
	"fmt"
	"io"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Config configures Setup. Start from DefaultConfig.
type Config struct {
	// ServiceName and Version identify the process in traces and in
	// balise_build_info. OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
	// override the service name in traces, as the spec says.
	ServiceName string
	Version     string

	// LogLevel is debug, info, warn or error; LogFormat is json or text.
	LogLevel  string
	LogFormat string
	// LogOutput receives the logs; nil means os.Stdout.
	LogOutput io.Writer
	// LogFlush batches the lines written to a file (os.Stdout in
	// production) and writes them every LogFlush: one write per batch, not
	// per line. 0 writes each line at once; other writers (buffers in
	// tests) always get each line at once.
	LogFlush time.Duration
	// LogQueries adds the query text to access-log lines (privacy: off by
	// default).
	LogQueries bool
	// AccessLog enables the access-log middleware's lines.
	AccessLog bool
	// AccessLogSample is the fraction (0 to 1) of ordinary requests the
	// access log keeps; errors and slow requests are always kept.
	AccessLogSample float64
	// SlowRequest is the duration from which a request is always logged.
	SlowRequest time.Duration

	// TracesExporter is otlp or none; "" defers to OTEL_TRACES_EXPORTER,
	// then to whether an OTLP endpoint is set.
	TracesExporter string
	// TraceProtocol is grpc or http/protobuf; "" defers to
	// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL,
	// then http/protobuf.
	TraceProtocol string
	// TraceSampleRatio (0 < r <= 1) samples new traces (a sampled parent
	// is always followed); 0 defers to OTEL_TRACES_SAMPLER(_ARG), then 1.
	TraceSampleRatio float64
	// SpanExporter, when set, replaces the OTLP exporter (tests, or an
	// embedding program's own exporter) and turns tracing on.
	SpanExporter sdktrace.SpanExporter
}

// DefaultConfig returns production defaults: JSON logs at info level,
// every request logged, tracing off unless the environment turns it on.
func DefaultConfig() Config {
	return Config{
		ServiceName:     "balise",
		Version:         "dev",
		LogLevel:        "info",
		LogFormat:       "json",
		AccessLog:       true,
		AccessLogSample: 1,
		SlowRequest:     100 * time.Millisecond,
		LogFlush:        100 * time.Millisecond,
	}
}

func (c *Config) validate() error {
	if _, err := ParseLevel(c.LogLevel); err != nil {
		return err
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		return fmt.Errorf("unknown log format %q (want json or text)", c.LogFormat)
	}
	if c.LogFlush < 0 || c.LogFlush > time.Minute {
		return fmt.Errorf("log flush interval must be within [0, 1m], got %v", c.LogFlush)
	}
	if c.AccessLogSample < 0 || c.AccessLogSample > 1 {
		return fmt.Errorf("access log sample must be within [0, 1], got %v", c.AccessLogSample)
	}
	if c.TraceSampleRatio < 0 || c.TraceSampleRatio > 1 {
		return fmt.Errorf("trace sample ratio must be within [0, 1], got %v", c.TraceSampleRatio)
	}
	return nil
}
