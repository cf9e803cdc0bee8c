package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Result is a run's figures; its JSON form is the machine-readable report
// (compare runs with `balise bench report a.json b.json`). Latencies are in
// milliseconds.
type Result struct {
	Label            string    `json:"label,omitempty"`
	Target           string    `json:"target"`
	Mode             string    `json:"mode"` // "open", "closed" or "step"
	Source           string    `json:"source,omitempty"`
	Mix              string    `json:"mix,omitempty"`
	Seed             uint64    `json:"seed"`
	Zipf             float64   `json:"zipf"`
	DistinctRequests int       `json:"distinct_requests"`
	Rate             float64   `json:"rate,omitempty"` // open loop: the target rate
	Concurrency      int       `json:"concurrency"`
	DurationS        float64   `json:"duration_s,omitempty"`
	MaxRequests      int64     `json:"max_requests,omitempty"`
	Started          time.Time `json:"started"`
	ElapsedS         float64   `json:"elapsed_s"`
	Interrupted      bool      `json:"interrupted,omitempty"`
	Machine          Machine   `json:"machine"`

	Sent       int64            `json:"sent"`
	Answers    int64            `json:"answers"` // 2xx answers (in-process: no error)
	ErrorCount int64            `json:"error_count"`
	Errors     map[string]int64 `json:"errors,omitempty"`
	Aborted    int64            `json:"aborted,omitempty"` // cancelled by the run's own stop
	Unsent     int64            `json:"unsent,omitempty"`  // open loop: due, never sent before the stop
	Late       int64            `json:"late,omitempty"`    // open loop: sent more than 5 ms after due
	NonEmpty   int64            `json:"non_empty"`
	// NonEmptyRate is the share of answers with at least one feature.
	NonEmptyRate float64 `json:"non_empty_rate"`
	// Throughput counts answers and errors per second of the run;
	// AnswerThroughput only answers.
	Throughput       float64 `json:"throughput"`
	AnswerThroughput float64 `json:"answer_throughput"`
	// Cache hits and misses, from the answers' X-Cache header (balise,
	// Varnish, nginx…); both 0 when the target sends none.
	CacheHits    int64   `json:"cache_hits,omitempty"`
	CacheMisses  int64   `json:"cache_misses,omitempty"`
	CacheHitRate float64 `json:"cache_hit_rate,omitempty"`

	Latency Latency `json:"latency_ms"`
	// Admitted is the latency of the answered requests and Rejected that of
	// the refusals (429 rate limited, 503 shed), present when there were
	// refusals: an overload test judges both apart.
	Admitted *Latency `json:"admitted_latency_ms,omitempty"`
	Rejected *Latency `json:"rejected_latency_ms,omitempty"`
	// RejectedCount is the number of refusals (also counted in Errors).
	RejectedCount int64 `json:"rejected,omitempty"`

	Percentiles []Point      `json:"percentiles"` // the latency curve, for plots
	Kinds       []KindResult `json:"kinds,omitempty"`
	IntervalS   float64      `json:"interval_s"`
	Timeline    []Tick       `json:"timeline"`
	// Histogram is the run's HDR histogram (V2, base64, microseconds), for
	// later merging or analysis with any HdrHistogram tool.
	Histogram string `json:"histogram,omitempty"`

	// Step mode.
	SLOMs              float64 `json:"slo_ms,omitempty"`
	SLOPercentile      float64 `json:"slo_percentile,omitempty"`
	Steps              []Step  `json:"steps,omitempty"`
	MaxSustainableRate float64 `json:"max_sustainable_rate,omitempty"`
}

// Latency summarises the latency histogram (ms).
type Latency struct {
	Min    float64 `json:"min"`
	Mean   float64 `json:"mean"`
	StdDev float64 `json:"stddev"`
	P50    float64 `json:"p50"`
	P90    float64 `json:"p90"`
	P95    float64 `json:"p95"`
	P99    float64 `json:"p99"`
	P999   float64 `json:"p99_9"`
	Max    float64 `json:"max"`
}

// Point is one point of the latency curve: percentile (0..100) and ms.
type Point struct {
	P  float64 `json:"p"`
	Ms float64 `json:"ms"`
}

// KindResult is the figures of one request kind.
type KindResult struct {
	Kind         string  `json:"kind"`
	Answers      int64   `json:"answers"`
	Errors       int64   `json:"errors"`
	NonEmptyRate float64 `json:"non_empty_rate"`
	P50          float64 `json:"p50"`
	P95          float64 `json:"p95"`
	P99          float64 `json:"p99"`
	Max          float64 `json:"max"`
}

// Tick is one interval of the timeline, closed at T seconds.
type Tick struct {
	T        float64 `json:"t"`
	Answers  int64   `json:"answers"`
	Errors   int64   `json:"errors"`
	NonEmpty int64   `json:"non_empty"`
	RPS      float64 `json:"rps"`
	P50      float64 `json:"p50"`
	P99      float64 `json:"p99"`
	Max      float64 `json:"max"`
	// Partial marks a last interval shorter than half the others (the
	// drain after the last send): its rate is not comparable.
	Partial bool `json:"partial,omitempty"`
}

// Step is one rate of a step run.
type Step struct {
	Rate       float64 `json:"rate"`
	Throughput float64 `json:"throughput"`
	P50        float64 `json:"p50"`
	P95        float64 `json:"p95"`
	P99        float64 `json:"p99"`
	PSLO       float64 `json:"p_slo"` // the SLO's percentile
	ErrorRate  float64 `json:"error_rate"`
	Pass       bool    `json:"pass"`
	Why        string  `json:"why,omitempty"` // why it failed
	Attempts   int     `json:"attempts"`      // runs of this rate (a failure is retried)
}

// curvePercentiles are the points of the latency curve: dense where tail
// latency lives.
var curvePercentiles = []float64{0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96, 97, 97.5, 98, 98.5, 99, 99.25, 99.5,
	99.75, 99.9, 99.925, 99.95, 99.975, 99.99, 99.995, 99.999, 100}

func summarize(h *hdr.Histogram) (Latency, []Point) {
	if h.TotalCount() == 0 {
		return Latency{}, nil
	}
	l := Latency{Min: ms(h.Min()), Mean: round3(h.Mean() / 1000), StdDev: round3(h.StdDev() / 1000),
		P50: ms(h.ValueAtQuantile(50)), P90: ms(h.ValueAtQuantile(90)), P95: ms(h.ValueAtQuantile(95)),
		P99: ms(h.ValueAtQuantile(99)), P999: ms(h.ValueAtQuantile(99.9)), Max: ms(h.Max())}
	var pts []Point
	// Beyond 1/N the histogram has nothing to tell: stop the curve there.
	limit := 100 * (1 - 1/float64(h.TotalCount()))
	for _, p := range curvePercentiles {
		if p > limit && p < 100 {
			continue
		}
		v := h.ValueAtQuantile(p)
		if p == 0 {
			v = h.Min()
		}
		if p == 100 {
			v = h.Max()
		}
		pts = append(pts, Point{P: p, Ms: ms(v)})
	}
	return l, pts
}

func (s *runState) result(finished time.Time, interrupted bool) *Result {
	all := hdr.New(histMin, histMax, histDigits)
	admitted := hdr.New(histMin, histMax, histDigits)
	rejected := hdr.New(histMin, histMax, histDigits)
	kinds := make([]*hdr.Histogram, len(s.kinds))
	for i := range kinds {
		kinds[i] = hdr.New(histMin, histMax, kindDigits)
	}
	kn := make([]int64, len(s.kinds))
	kne := make([]int64, len(s.kinds))
	ke := make([]int64, len(s.kinds))
	for _, sh := range s.shards {
		sh.mu.Lock()
		all.Merge(sh.all)
		admitted.Merge(sh.admitted)
		rejected.Merge(sh.rejected)
		for i, h := range sh.kinds {
			kinds[i].Merge(h)
			kn[i] += sh.kindN[i]
			kne[i] += sh.kindNE[i]
			ke[i] += sh.kindErr[i]
		}
		sh.mu.Unlock()
	}
	cfg := s.cfg
	r := &Result{
		Target: cfg.Target.String(), Mode: "closed", DistinctRequests: len(cfg.Requests), Rate: cfg.Rate,
		Concurrency: cfg.Concurrency, DurationS: cfg.Duration.Seconds(), MaxRequests: cfg.MaxRequests,
		Started: s.start.UTC().Round(time.Millisecond), ElapsedS: round3(finished.Sub(s.start).Seconds()), Interrupted: interrupted,
		Sent: s.sent.Load(), Answers: s.answers.Load(), NonEmpty: s.nonEmpty.Load(), Aborted: s.aborted.Load(), Late: s.late.Load(),
		IntervalS: s.interval.Seconds(),
	}
	if cfg.Rate > 0 {
		r.Mode = "open"
	}
	for k := ErrKind(1); k < numErrKinds; k++ {
		if n := s.errs[k].Load(); n > 0 {
			if r.Errors == nil {
				r.Errors = map[string]int64{}
			}
			r.Errors[k.String()] = n
			r.ErrorCount += n
		}
	}
	if r.Answers > 0 {
		r.NonEmptyRate = round3(float64(r.NonEmpty) / float64(r.Answers))
	}
	r.CacheHits, r.CacheMisses = s.cache[CacheHit].Load(), s.cache[CacheMiss].Load()
	if n := r.CacheHits + r.CacheMisses; n > 0 {
		r.CacheHitRate = round3(float64(r.CacheHits) / float64(n))
	}
	if el := finished.Sub(s.start).Seconds(); el > 0 {
		r.Throughput = round3(float64(r.Answers+r.ErrorCount) / el)
		r.AnswerThroughput = round3(float64(r.Answers) / el)
	}
	r.Latency, r.Percentiles = summarize(all)
	if r.RejectedCount = rejected.TotalCount(); r.RejectedCount > 0 {
		a, _ := summarize(admitted)
		j, _ := summarize(rejected)
		r.Admitted, r.Rejected = &a, &j
	}
	for i, name := range s.kinds {
		if kn[i]+ke[i] == 0 {
			continue
		}
		kr := KindResult{Kind: name, Answers: kn[i], Errors: ke[i]}
		if kn[i] > 0 {
			kr.NonEmptyRate = round3(float64(kne[i]) / float64(kn[i]))
		}
		if h := kinds[i]; h.TotalCount() > 0 {
			kr.P50, kr.P95, kr.P99, kr.Max = ms(h.ValueAtQuantile(50)), ms(h.ValueAtQuantile(95)), ms(h.ValueAtQuantile(99)), ms(h.Max())
		}
		r.Kinds = append(r.Kinds, kr)
	}
	s.tlMu.Lock()
	r.Timeline = append([]Tick(nil), s.timeline...)
	s.tlMu.Unlock()
	if enc, err := all.Encode(hdr.V2CompressedEncodingCookieBase); err == nil {
		r.Histogram = string(enc)
	}
	return r
}

// WriteJSON writes the result as indented JSON.
func WriteJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadJSON reads a result written by WriteJSON.
func ReadJSON(rd io.Reader) (*Result, error) {
	var r Result
	dec := json.NewDecoder(rd)
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("cannot decode a bench result: %w", err)
	}
	return &r, nil
}

// Describe is the one-line description of a run's setup.
func (r *Result) Describe() string {
	var b strings.Builder
	if r.Label != "" {
		fmt.Fprintf(&b, "%s: ", r.Label)
	}
	b.WriteString(r.Target)
	switch r.Mode {
	case "open":
		fmt.Fprintf(&b, ", open loop at %g req/s (at most %d in flight)", r.Rate, r.Concurrency)
	case "step":
		fmt.Fprintf(&b, ", step mode (p%g ≤ %g ms)", r.SLOPercentile, r.SLOMs)
	default:
		fmt.Fprintf(&b, ", closed loop with %d workers", r.Concurrency)
	}
	if r.DurationS > 0 {
		fmt.Fprintf(&b, " for %gs", r.DurationS)
	}
	if r.MaxRequests > 0 {
		fmt.Fprintf(&b, ", at most %d requests", r.MaxRequests)
	}
	if r.Mix != "" {
		fmt.Fprintf(&b, "; mix %s", r.Mix)
	}
	if r.Source != "" {
		fmt.Fprintf(&b, " from %s", r.Source)
	}
	fmt.Fprintf(&b, " (%d distinct requests, seed %d, zipf %g)", r.DistinctRequests, r.Seed, r.Zipf)
	return b.String()
}

func errorList(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// WriteText writes the human-readable report.
func WriteText(w io.Writer, r *Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "balise bench: %s\n", r.Describe())
	m := r.Machine
	fmt.Fprintf(&b, "machine      %d CPUs (GOMAXPROCS %d) %s, %s memory, load %.2f → %.2f\n", m.CPUs, m.GOMAXPROCS, m.CPUModel,
		fmtBytes(m.MemBytes), m.Load1Start, m.Load1End)
	if r.Interrupted {
		b.WriteString("INTERRUPTED: partial figures\n")
	}
	fmt.Fprintf(&b, "requests     %d sent, %d answered, %d errors", r.Sent, r.Answers, r.ErrorCount)
	if r.Unsent > 0 {
		fmt.Fprintf(&b, ", %d never sent (the target fell behind)", r.Unsent)
	}
	if r.Late > 0 {
		fmt.Fprintf(&b, ", %d sent late", r.Late)
	}
	if r.Aborted > 0 {
		fmt.Fprintf(&b, ", %d cancelled at the stop", r.Aborted)
	}
	fmt.Fprintf(&b, " in %.2fs\n", r.ElapsedS)
	fmt.Fprintf(&b, "throughput   %.1f req/s (answers %.1f req/s)\n", r.Throughput, r.AnswerThroughput)
	fmt.Fprintf(&b, "non-empty    %.1f %% of answers\n", 100*r.NonEmptyRate)
	if r.CacheHits+r.CacheMisses > 0 {
		fmt.Fprintf(&b, "cache        %.1f %% hits (%d hits, %d misses, from X-Cache)\n", 100*r.CacheHitRate, r.CacheHits, r.CacheMisses)
	}
	fmt.Fprintf(&b, "errors       %s\n", errorList(r.Errors))
	l := r.Latency
	writeLatency(&b, "latency ms  ", l)
	if r.Admitted != nil {
		writeLatency(&b, "  admitted  ", *r.Admitted)
		fmt.Fprintf(&b, "  rejected   %d (429 rate limited: %d, 503 shed: %d)\n", r.RejectedCount, r.Errors["rate_limited"], r.Errors["shed"])
		writeLatency(&b, "  rejected  ", *r.Rejected)
	}
	if len(r.Kinds) > 1 {
		b.WriteString("\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "kind\tanswers\terrors\tnon-empty\tp50 ms\tp95 ms\tp99 ms\tmax ms\t")
		for _, k := range r.Kinds {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f%%\t%s\t%s\t%s\t%s\t\n", k.Kind, k.Answers, k.Errors, 100*k.NonEmptyRate, fmtMs(k.P50), fmtMs(k.P95), fmtMs(k.P99), fmtMs(k.Max))
		}
		tw.Flush()
	}
	if len(r.Steps) > 0 {
		b.WriteString("\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "rate\tthroughput\tp50 ms\tp95 ms\tp99 ms\tp%g ms\terrors\tresult\t\n", r.SLOPercentile)
		for _, s := range r.Steps {
			verdict := "ok"
			if !s.Pass {
				verdict = "FAIL " + s.Why
			}
			if s.Attempts > 1 {
				verdict += fmt.Sprintf(" (attempt %d)", s.Attempts)
			}
			fmt.Fprintf(tw, "%g\t%.1f\t%s\t%s\t%s\t%s\t%.2f%%\t%s\t\n", s.Rate, s.Throughput, fmtMs(s.P50), fmtMs(s.P95), fmtMs(s.P99), fmtMs(s.PSLO), 100*s.ErrorRate, verdict)
		}
		tw.Flush()
		fmt.Fprintf(&b, "highest sustainable rate: %g req/s (p%g ≤ %g ms, errors ≤ 1%%)\n", r.MaxSustainableRate, r.SLOPercentile, r.SLOMs)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeLatency(b *strings.Builder, label string, l Latency) {
	fmt.Fprintf(b, "%s min %s  p50 %s  p90 %s  p95 %s  p99 %s  p99.9 %s  max %s  (mean %s, sd %s)\n", label,
		fmtMs(l.Min), fmtMs(l.P50), fmtMs(l.P90), fmtMs(l.P95), fmtMs(l.P99), fmtMs(l.P999), fmtMs(l.Max), fmtMs(l.Mean), fmtMs(l.StdDev))
}

// WriteMarkdown writes one table row per result, for docs and comparisons.
func WriteMarkdown(w io.Writer, rs []*Result) error {
	var b strings.Builder
	b.WriteString("| run | mode | req/s | p50 ms | p90 ms | p95 ms | p99 ms | p99.9 ms | max ms | errors | non-empty | cache hits |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		name := r.Label
		if name == "" {
			name = r.Mix
		}
		if name == "" {
			name = r.Target
		}
		mode := r.Mode
		switch r.Mode {
		case "open":
			mode = fmt.Sprintf("open %g/s", r.Rate)
		case "closed":
			mode = fmt.Sprintf("closed ×%d", r.Concurrency)
		case "step":
			mode = fmt.Sprintf("step: max %g/s at p%g ≤ %g ms", r.MaxSustainableRate, r.SLOPercentile, r.SLOMs)
		}
		l := r.Latency
		errRate := 0.0
		if n := r.Answers + r.ErrorCount; n > 0 {
			errRate = float64(r.ErrorCount) / float64(n)
		}
		hits := "–"
		if r.CacheHits+r.CacheMisses > 0 {
			hits = fmt.Sprintf("%.1f %%", 100*r.CacheHitRate)
		}
		fmt.Fprintf(&b, "| %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %.2f %% | %.1f %% | %s |\n", mdEscape(name), mode, r.Throughput,
			fmtMs(l.P50), fmtMs(l.P90), fmtMs(l.P95), fmtMs(l.P99), fmtMs(l.P999), fmtMs(l.Max), 100*errRate, 100*r.NonEmptyRate, hits)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// fmtMs prints milliseconds with 3 significant digits.
func fmtMs(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

func fmtBytes(n int64) string {
	if n <= 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

// errorRate is errors over answers and errors.
func (r *Result) errorRate() float64 {
	n := r.Answers + r.ErrorCount
	if n == 0 {
		return math.NaN()
	}
	return float64(r.ErrorCount) / float64(n)
}

// PercentileMs reads any percentile from the run's histogram (the curve's
// nearest lower point when the histogram is absent).
func (r *Result) PercentileMs(p float64) float64 {
	if r.Histogram != "" {
		if h, err := hdr.Decode([]byte(r.Histogram)); err == nil && h.TotalCount() > 0 {
			return ms(h.ValueAtQuantile(p))
		}
	}
	v := 0.0
	for _, pt := range r.Percentiles {
		if pt.P <= p {
			v = pt.Ms
		}
	}
	return v
}
