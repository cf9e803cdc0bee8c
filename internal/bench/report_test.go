package bench

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// sampleResult is a small real run, so reports are tested on real shapes.
func sampleResult(t *testing.T) *Result {
	t.Helper()
	srv := sleepServer(t)
	res, err := Run(t.Context(), Config{Target: httpTarget(t, srv.URL, HTTPOptions{}), Requests: sleepRequests(0, 1, 2, 0),
		Rate: 400, Duration: 500 * time.Millisecond, Interval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	res.Label, res.Mix, res.Source = `a <label> & "quotes"`, "search", "test"
	return res
}

func TestReportJSONRoundTrip(t *testing.T) {
	res := sampleResult(t)
	var buf bytes.Buffer
	if err := WriteJSON(&buf, res); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Started.Equal(res.Started) {
		t.Fatalf("started %v; want %v", back.Started, res.Started)
	}
	back.Started = res.Started
	if !reflect.DeepEqual(back, res) {
		t.Fatalf("JSON round trip changed the result\ngot  %+v\nwant %+v", back, res)
	}
	// The embedded histogram answers any percentile.
	if p := back.PercentileMs(50); p != res.Latency.P50 {
		t.Errorf("p50 from the histogram %v; summary %v", p, res.Latency.P50)
	}
	if _, err := ReadJSON(strings.NewReader("{")); err == nil {
		t.Error("truncated JSON accepted")
	}
}

func TestReportText(t *testing.T) {
	res := sampleResult(t)
	var buf bytes.Buffer
	if err := WriteText(&buf, res); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"open loop at 400 req/s", "throughput", "p99", "p99.9", "non-empty", "sleep2"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	if err := WriteMarkdown(&buf, []*Result{res, res}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[2], "| a <label> & \"quotes\" | open 400/s |") || !strings.HasSuffix(lines[2], "| – |") {
		t.Errorf("markdown:\n%s", buf.String())
	}
}

// TestReportHTML checks the page is self-contained well-formed XML with
// the plots, and that labels are escaped.
func TestReportHTML(t *testing.T) {
	res := sampleResult(t)
	res.Steps = []Step{{Rate: 100, Throughput: 99, P99: 3, PSLO: 3, Pass: true}, {Rate: 150, Throughput: 120, P99: 80, PSLO: 80, Why: "p99 80 ms > 50 ms"}}
	res.MaxSustainableRate, res.SLOMs, res.SLOPercentile = 100, 50, 99
	other := *res
	other.Label = "other"
	var buf bytes.Buffer
	if err := WriteHTML(&buf, []*Result{res, &other}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(page, "<label>") || !strings.Contains(page, "&lt;label&gt;") {
		t.Error("label not escaped")
	}
	for _, ext := range []string{"<script", "src=", "href=", "@import", "url("} {
		if strings.Contains(page, ext) {
			t.Errorf("the report refers to an external resource or script: %q", ext)
		}
	}
	dec := xml.NewDecoder(strings.NewReader(page))
	dec.Strict = true
	dec.Entity = xml.HTMLEntity
	counts := map[string]int{}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the HTML report is not well-formed: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			counts[se.Name.Local]++
		}
	}
	// Percentiles, throughput over time, latency over time, and the steps of each run.
	if counts["svg"] != 5 {
		t.Errorf("%d plots; want 5 (3 shared, 1 step plot per run)", counts["svg"])
	}
	if counts["polyline"] < 7 {
		t.Errorf("%d polylines; want one per series", counts["polyline"])
	}
	for _, want := range []string{"Latency by percentile", "Throughput over time", "99%", "Highest sustainable rate"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// An empty run still renders.
	buf.Reset()
	if err := WriteHTML(&buf, []*Result{{Target: "x", Mode: "closed"}}); err != nil || !strings.Contains(buf.String(), "no data") {
		t.Errorf("empty run: %v", err)
	}
}

// serialServer handles one request at a time, each in d: a capacity of
// 1/d requests per second.
func serialServer(t *testing.T, d time.Duration) *httptest.Server {
	t.Helper()
	mu := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu <- struct{}{}
		time.Sleep(d)
		<-mu
		w.Write([]byte(oneFeature))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestStep: a server that handles one request at a time in 5 ms serves
// at most 200 req/s; the step search must land below that and above the
// rates where it is idle.
func TestStep(t *testing.T) {
	srv := serialServer(t, 5*time.Millisecond)
	var steps []Step
	res, err := StepRun(t.Context(), Config{Target: httpTarget(t, srv.URL, HTTPOptions{}), Requests: sleepRequests(0), Duration: time.Second},
		StepConfig{Start: 40, Factor: 2, Refine: 2, SLO: 40 * time.Millisecond, Pause: 100 * time.Millisecond, Retries: -1,
			OnStep: func(s Step) { steps = append(steps, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != "step" || len(res.Steps) != len(steps) || len(steps) < 3 {
		t.Fatalf("mode %s, %d steps (%d reported)", res.Mode, len(res.Steps), len(steps))
	}
	within(t, "max sustainable rate", res.MaxSustainableRate, 40, 200)
	if res.Steps[0].Rate != 40 || !res.Steps[0].Pass {
		t.Errorf("first step %+v; want 40 req/s passing", res.Steps[0])
	}
	failed := false
	for _, s := range res.Steps {
		failed = failed || !s.Pass
		if s.Rate >= 250 && s.Pass {
			t.Errorf("step %+v passed above the server's capacity", s)
		}
	}
	if !failed {
		t.Error("no step failed")
	}
	if res.Rate != res.MaxSustainableRate {
		t.Errorf("the result is of the %v req/s step; want the best passing one (%v)", res.Rate, res.MaxSustainableRate)
	}
}

// TestStepRetry: a stall during the first attempt of a step (another
// tenant of a shared machine) must not end the search; the retry passes.
func TestStepRetry(t *testing.T) {
	var slow atomic.Bool
	slow.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slow.Load() {
			time.Sleep(100 * time.Millisecond)
		}
		w.Write([]byte(oneFeature))
	}))
	defer srv.Close()
	res, err := StepRun(t.Context(), Config{Target: httpTarget(t, srv.URL, HTTPOptions{}), Requests: sleepRequests(0), Duration: 300 * time.Millisecond},
		StepConfig{Start: 20, Factor: 2, MaxSteps: 2, Refine: -1, SLO: 50 * time.Millisecond, Pause: 50 * time.Millisecond,
			OnStep: func(Step) {}, onAttempt: func() { slow.Store(false) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Steps) != 2 || !res.Steps[0].Pass || res.Steps[0].Attempts != 2 || res.Steps[1].Attempts != 1 {
		t.Fatalf("steps %+v; want the first passing on its second attempt", res.Steps)
	}
}

// TestStepFromAbove: a first rate above the capacity makes the search come
// down instead of reporting nothing.
func TestStepFromAbove(t *testing.T) {
	srv := serialServer(t, 10*time.Millisecond)
	res, err := StepRun(t.Context(), Config{Target: httpTarget(t, srv.URL, HTTPOptions{}), Requests: sleepRequests(0), Duration: 600 * time.Millisecond},
		StepConfig{Start: 400, Factor: 2, Refine: -1, SLO: 40 * time.Millisecond, Pause: 50 * time.Millisecond, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps[0].Pass || res.MaxSustainableRate == 0 || res.MaxSustainableRate > 100 {
		t.Fatalf("steps %+v, max %v; want a failing 400 req/s, then a passing rate at most 100 (capacity 100 req/s)", res.Steps, res.MaxSustainableRate)
	}
}
