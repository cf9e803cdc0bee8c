package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

func TestTracingOffByDefault(t *testing.T) {
	for _, k := range []string{"OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED"} {
		t.Setenv(k, "")
	}
	tel, _ := testSetup(t, nil)
	_, span := tel.Tracer().Start(context.Background(), "x")
	defer span.End()
	if span.IsRecording() {
		t.Fatal("tracing is on without any configuration")
	}
}

func TestTracesExporterChoice(t *testing.T) {
	f := func(env map[string]string, cfg Config, wantExp, wantProto string) {
		t.Helper()
		for _, k := range []string{"OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
			"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_SDK_DISABLED"} {
			t.Setenv(k, env[k])
		}
		exp, proto, err := tracesExporter(cfg)
		if err != nil || exp != wantExp || proto != wantProto {
			t.Errorf("env %v cfg %+v; got %q %q %v; want %q %q", env, cfg, exp, proto, err, wantExp, wantProto)
		}
	}
	f(nil, Config{}, "none", "")
	f(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, Config{}, "otlp", "http/protobuf")
	f(map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, Config{}, "otlp", "grpc")
	f(map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf", "OTEL_TRACES_EXPORTER": "otlp"}, Config{}, "otlp", "http/protobuf")
	f(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, Config{}, "none", "")
	f(map[string]string{"OTEL_TRACES_EXPORTER": "none"}, Config{TracesExporter: "otlp", TraceProtocol: "grpc"}, "otlp", "grpc")
	f(map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, Config{}, "none", "")
}

// The in-memory exporter sees the server span (continuing the caller's
// trace), its children and their attributes.
func TestSpansInMemory(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel, _ := testSetup(t, func(c *Config) { c.SpanExporter = exp })
	mux := testMux(nil)
	mux.HandleFunc("GET /geocode", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		_, end := tel.Stage(ctx, "search", "collect")
		end()
		_, span := tel.StartCacheLookup(ctx, "search")
		span.End()
		_, endBatch := tel.CSVBatch(ctx, "search_csv")
		endBatch(3, errors.New("row 2: bad encoding"))
		io.WriteString(w, "{}")
	})
	h := tel.Middleware(mux)
	req := httptest.NewRequest("GET", "/geocode?q=private", nil)
	req.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/boom", nil))
	if err := tel.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := exp.GetSpans()
	byName := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	server, ok := byName["GET /geocode"]
	if !ok {
		t.Fatalf("no server span; got %v", names(spans))
	}
	if server.SpanKind != trace.SpanKindServer || server.Parent.TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || !server.Parent.IsRemote() {
		t.Errorf("server span: kind %v, parent %v", server.SpanKind, server.Parent)
	}
	attrs := map[string]string{}
	for _, a := range server.Attributes {
		attrs[string(a.Key)] = a.Value.String()
	}
	if attrs["http.route"] != "/geocode" || attrs["http.response.status_code"] != "200" || attrs["url.path"] != "/geocode" {
		t.Errorf("server span attributes: %v", attrs)
	}
	for _, a := range server.Attributes {
		if a.Value.String() == "private" || a.Key == "url.query" || a.Key == "url.full" {
			t.Errorf("the query reached the span: %v", a)
		}
	}
	for _, name := range []string{"search collect", "cache lookup", "csv batch"} {
		s, ok := byName[name]
		if !ok {
			t.Errorf("missing span %q; got %v", name, names(spans))
			continue
		}
		if s.Parent.SpanID() != server.SpanContext.SpanID() {
			t.Errorf("span %q is not a child of the server span", name)
		}
	}
	if b := byName["csv batch"]; b.Status.Code != codes.Error || len(b.Events) == 0 {
		t.Errorf("csv batch error not recorded: %+v", b.Status)
	}
	if b := byName["GET /boom"]; b.Status.Code != codes.Error {
		t.Errorf("a 500 must mark the span as an error; got %+v", b.Status)
	}
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

// clearOTEL makes the test independent of the machine's environment.
func clearOTEL(t *testing.T) {
	for _, k := range []string{"OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
		"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_SDK_DISABLED", "OTEL_TRACES_SAMPLER",
		"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_COMPRESSION"} {
		t.Setenv(k, "")
	}
}

// received summarises an OTLP export request.
func spanNames(req *coltracepb.ExportTraceServiceRequest) (names []string, service string) {
	for _, rs := range req.ResourceSpans {
		for _, a := range rs.Resource.Attributes {
			if a.Key == "service.name" {
				service = a.Value.GetStringValue()
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				names = append(names, s.Name)
			}
		}
	}
	return names, service
}

// A real OTLP/HTTP receiver on loopback: the exporter is configured by the
// standard environment variables only.
func TestOTLPHTTPExport(t *testing.T) {
	clearOTEL(t)
	got := make(chan *coltracepb.ExportTraceServiceRequest, 4)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "unexpected "+r.URL.Path+" "+r.Header.Get("Content-Type"), http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(r.Body)
		req := &coltracepb.ExportTraceServiceRequest{}
		if err := proto.Unmarshal(body, req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got <- req
		resp, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(resp)
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_SERVICE_NAME", "balise-test")

	names, service := exportOne(t, nil, "/search?q=x", got)
	if len(names) != 1 || names[0] != "GET /search" || service != "balise-test" {
		t.Fatalf("received spans %v from service %q", names, service)
	}
}

// exportOne serves one request with tracing set up from the environment,
// shuts down (which flushes the span) and returns what the collector got.
func exportOne(t *testing.T, mod func(*Config), target string, got <-chan *coltracepb.ExportTraceServiceRequest) (names []string, service string) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.LogOutput = io.Discard
	if mod != nil {
		mod(&cfg)
	}
	tel, shutdown, err := Setup(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	tel.Middleware(testMux(nil)).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", target, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case req := <-got:
		return spanNames(req)
	case <-time.After(5 * time.Second):
		t.Fatal("no OTLP export received")
	}
	return nil, ""
}

type traceService struct {
	coltracepb.UnimplementedTraceServiceServer
	got chan *coltracepb.ExportTraceServiceRequest
}

func (s *traceService) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	s.got <- req
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// A real OTLP/gRPC receiver on loopback.
func TestOTLPGRPCExport(t *testing.T) {
	clearOTEL(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	svc := &traceService{got: make(chan *coltracepb.ExportTraceServiceRequest, 4)}
	gs := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(gs, svc)
	go gs.Serve(ln)
	defer gs.Stop()
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://"+ln.Addr().String())
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")

	names, service := exportOne(t, func(c *Config) { c.TraceSampleRatio = 1 }, "/reverse/", svc.got)
	if len(names) != 1 || names[0] != "GET /reverse/{$}" || service != "balise" {
		t.Fatalf("received spans %v from service %q", names, service)
	}
}

// A ratio of 0.5 keeps about half of new traces; a sampled parent is
// always followed.
func TestSamplingRatio(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel, _ := testSetup(t, func(c *Config) { c.SpanExporter = exp; c.TraceSampleRatio = 0.5 })
	h := tel.Middleware(testMux(nil))
	for range 400 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/search", nil))
	}
	tel.ForceFlush(context.Background())
	if n := len(exp.GetSpans()); n < 140 || n > 260 {
		t.Errorf("sampled %d of 400 at ratio 0.5", n)
	}
	exp.Reset()
	req := httptest.NewRequest("GET", "/search", nil)
	req.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	for range 20 {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	tel.ForceFlush(context.Background())
	if n := len(exp.GetSpans()); n != 20 {
		t.Errorf("sampled parent followed %d of 20 times", n)
	}
}

// The engine's own timings become stage metrics and, in a traced
// request, spans laid end to end: fuzzy matching is taken out of collect
// and reported on its own only when it ran; a reverse lookup is one
// collect stage.
func TestEngineStages(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel, _ := testSetup(t, func(c *Config) { c.SpanExporter = exp })
	ctx, req := tel.tracer.Start(context.Background(), "request")
	start := time.Unix(1_800_000_000, 0)
	ms := time.Millisecond
	tel.SearchStages(ctx, "search", start, SearchTimings{Prepare: 1 * ms, Collect: 10 * ms, Fuzzy: 4 * ms, Score: 2 * ms})
	tel.SearchStages(ctx, "search", start, SearchTimings{Prepare: 1 * ms, Collect: 10 * ms, Score: 2 * ms})
	tel.ReverseStages(ctx, "reverse", start, 3*ms)
	req.End()
	// Outside a traced request: metrics only.
	tel.SearchStages(context.Background(), "search", start, SearchTimings{Prepare: ms, Collect: ms, Score: ms})
	if err := tel.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range exp.GetSpans() {
		if s.Name == "request" {
			continue
		}
		got = append(got, fmt.Sprintf("%s %v+%v", s.Name, s.StartTime.Sub(start), s.EndTime.Sub(s.StartTime)))
	}
	want := []string{
		"search parse 0s+1ms", "search collect 1ms+6ms", "search fuzzy 7ms+4ms", "search score 11ms+2ms",
		"search parse 0s+1ms", "search collect 1ms+10ms", "search score 11ms+2ms",
		"search collect 0s+3ms",
	}
	if !slices.Equal(got, want) {
		t.Errorf("spans:\n got %q\nwant %q", got, want)
	}
	fams := scrape(t, tel)
	for _, c := range []struct {
		endpoint, stage string
		count           float64
		sum             float64 // seconds
	}{
		{"search", "parse", 3, .003}, {"search", "collect", 3, .017}, {"search", "fuzzy", 1, .004},
		{"search", "score", 3, .005}, {"reverse", "collect", 1, .003}, {"reverse", "parse", 0, 0},
	} {
		var count, sum float64
		for _, m := range fams["balise_search_stage_duration_seconds"].Metric {
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["endpoint"] == c.endpoint && labels["stage"] == c.stage {
				count, sum = float64(m.Histogram.GetSampleCount()), m.Histogram.GetSampleSum()
			}
		}
		if count != c.count || math.Abs(sum-c.sum) > 1e-9 {
			t.Errorf("%s %s: %v observations summing to %v s, want %v and %v", c.endpoint, c.stage, count, sum, c.count, c.sum)
		}
	}
}
