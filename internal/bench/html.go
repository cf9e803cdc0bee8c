package bench

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// The HTML report is one file with no external resource (inline CSS and
// SVG, no script), so it can be attached to an issue or archived by CI. It
// is also well-formed XML, which its test checks with encoding/xml.

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"}

// WriteHTML writes the report of one or more runs; several runs share
// their plots, so two commits or two servers compare at a glance.
func WriteHTML(w io.Writer, rs []*Result) error {
	var b strings.Builder
	htmlHead(&b, rs)
	htmlRuns(&b, rs)
	htmlPlots(&b, rs)
	htmlSteps(&b, rs)
	htmlKinds(&b, rs)
	b.WriteString("<p>Open-loop latencies are measured from each request's scheduled time, so queueing in an overloaded target is included (no coordinated omission). Made by <code>balise bench</code>.</p>\n</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// htmlHead writes the document up to its body: title and style.
func htmlHead(b *strings.Builder, rs []*Result) {
	title := "balise bench"
	if len(rs) == 1 {
		title += ": " + rs[0].Describe()
	}
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\n<title>" + esc(title) + "</title>\n")
	b.WriteString(`<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}.fail{color:#b00}
svg{display:block;margin:1em 0;background:#fff}svg text{font:11px sans-serif;fill:#333}
.swatch{display:inline-block;width:1em;height:.6em;margin-right:.3em}
</style>
</head><body>
`)
}

// htmlRuns lists the runs with their machines, then their figures in a
// table.
func htmlRuns(b *strings.Builder, rs []*Result) {
	b.WriteString("<h1>balise bench</h1>\n<ul>\n")
	for i, r := range rs {
		m := r.Machine
		fmt.Fprintf(b, "<li><span class=\"swatch\" style=\"background:%s\"></span>%s<br/>%s, %d CPUs (GOMAXPROCS %d) %s, %s memory, load %.2f → %.2f, %s",
			palette[i%len(palette)], esc(r.Describe()), esc(r.Started.Format("2006-01-02 15:04:05 MST")), m.CPUs, m.GOMAXPROCS, esc(m.CPUModel),
			esc(fmtBytes(m.MemBytes)), m.Load1Start, m.Load1End, esc(m.GoVersion))
		if r.Interrupted {
			b.WriteString(" <b class=\"fail\">interrupted: partial figures</b>")
		}
		b.WriteString("</li>\n")
	}
	b.WriteString("</ul>\n<table><tr><th class=\"l\">run</th><th>sent</th><th>answers</th><th>req/s</th><th>non-empty</th><th>cache hits</th><th>errors</th>" +
		"<th>min</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>p99.9</th><th>max ms</th></tr>\n")
	for i, r := range rs {
		l := r.Latency
		hits := "–"
		if r.CacheHits+r.CacheMisses > 0 {
			hits = fmt.Sprintf("%.1f %%", 100*r.CacheHitRate)
		}
		fmt.Fprintf(b, "<tr><td class=\"l\"><span class=\"swatch\" style=\"background:%s\"></span>%s</td><td>%d</td><td>%d</td><td>%.1f</td><td>%.1f %%</td><td>%s</td><td class=\"l\">%s</td>",
			palette[i%len(palette)], esc(runName(r, i)), r.Sent, r.Answers, r.Throughput, 100*r.NonEmptyRate, hits, esc(errorList(r.Errors)))
		for _, v := range []float64{l.Min, l.P50, l.P90, l.P95, l.P99, l.P999, l.Max} {
			fmt.Fprintf(b, "<td>%s</td>", fmtMs(v))
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table>\n")
}

// htmlPlots draws latency by percentile, and throughput and latency over
// time.
func htmlPlots(b *strings.Builder, rs []*Result) {
	// Latency by percentile, on the usual HDR axis: x = -log10(1 - p).
	var curves []series
	for i, r := range rs {
		s := series{name: runName(r, i), color: palette[i%len(palette)], points: true}
		for _, p := range r.Percentiles {
			s.xs = append(s.xs, percentileX(p.P, r.Answers+r.ErrorCount))
			s.ys = append(s.ys, p.Ms)
		}
		curves = append(curves, s)
	}
	b.WriteString("<h2>Latency by percentile</h2>\n")
	b.WriteString(plot(plotSpec{xLabel: "percentile", yLabel: "latency (ms)", series: curves, xTicks: percentileTicks(curves), yLogAuto: true}))

	var tput, lat []series
	for i, r := range rs {
		t := series{name: runName(r, i), color: palette[i%len(palette)]}
		p99 := series{name: runName(r, i) + " p99", color: palette[i%len(palette)]}
		p50 := series{name: runName(r, i) + " p50", color: palette[i%len(palette)], dashed: true}
		for _, tk := range r.Timeline {
			if !tk.Partial {
				t.xs, t.ys = append(t.xs, tk.T), append(t.ys, tk.RPS)
			}
			if tk.Answers+tk.Errors > 0 {
				p99.xs, p99.ys = append(p99.xs, tk.T), append(p99.ys, tk.P99)
				p50.xs, p50.ys = append(p50.xs, tk.T), append(p50.ys, tk.P50)
			}
		}
		tput = append(tput, t)
		lat = append(lat, p99, p50)
	}
	var hl []hline
	if len(rs) == 1 && rs[0].Mode == "open" {
		hl = append(hl, hline{y: rs[0].Rate, label: fmt.Sprintf("target %g/s", rs[0].Rate)})
	}
	b.WriteString("<h2>Throughput over time</h2>\n")
	b.WriteString(plot(plotSpec{xLabel: "time (s)", yLabel: "responses/s", series: tput, hlines: hl, yFromZero: true, xFromZero: true}))
	b.WriteString("<h2>Latency over time (p99 solid, p50 dashed)</h2>\n")
	b.WriteString(plot(plotSpec{xLabel: "time (s)", yLabel: "latency (ms)", series: lat, yFromZero: true, xFromZero: true}))
}

// htmlSteps draws, for each step run, latency against the offered rate and
// the table of its steps.
func htmlSteps(b *strings.Builder, rs []*Result) {
	for i, r := range rs {
		if len(r.Steps) == 0 {
			continue
		}
		fmt.Fprintf(b, "<h2>Steps: %s</h2>\n<p>Highest sustainable rate: <b>%g req/s</b> (p%g ≤ %g ms, errors ≤ 1 %%).</p>\n",
			esc(runName(r, i)), r.MaxSustainableRate, r.SLOPercentile, r.SLOMs)
		s := series{name: fmt.Sprintf("p%g", r.SLOPercentile), color: palette[i%len(palette)], points: true}
		for _, st := range r.Steps {
			s.xs, s.ys = append(s.xs, st.Rate), append(s.ys, st.PSLO)
		}
		sortSeries(&s)
		b.WriteString(plot(plotSpec{xLabel: "offered rate (req/s)", yLabel: "latency (ms)", series: []series{s},
			hlines: []hline{{y: r.SLOMs, label: "SLO"}}, yFromZero: true, xFromZero: true}))
		fmt.Fprintf(b, "<table><tr><th>rate</th><th>req/s</th><th>p50</th><th>p95</th><th>p99</th><th>p%g ms</th><th>errors</th><th class=\"l\">result</th></tr>\n", r.SLOPercentile)
		for _, st := range r.Steps {
			verdict := "ok"
			cls := "l"
			if !st.Pass {
				verdict, cls = "fail: "+st.Why, "l fail"
			}
			fmt.Fprintf(b, "<tr><td>%g</td><td>%.1f</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%.2f %%</td><td class=\"%s\">%s</td></tr>\n",
				st.Rate, st.Throughput, fmtMs(st.P50), fmtMs(st.P95), fmtMs(st.P99), fmtMs(st.PSLO), 100*st.ErrorRate, cls, esc(verdict))
		}
		b.WriteString("</table>\n")
	}
}

// htmlKinds tabulates, for each run of several request kinds, the figures
// of each kind.
func htmlKinds(b *strings.Builder, rs []*Result) {
	for i, r := range rs {
		if len(r.Kinds) < 2 {
			continue
		}
		fmt.Fprintf(b, "<h2>By kind: %s</h2>\n<table><tr><th class=\"l\">kind</th><th>answers</th><th>errors</th><th>non-empty</th><th>p50</th><th>p95</th><th>p99</th><th>max ms</th></tr>\n", esc(runName(r, i)))
		for _, k := range r.Kinds {
			fmt.Fprintf(b, "<tr><td class=\"l\">%s</td><td>%d</td><td>%d</td><td>%.1f %%</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
				esc(k.Kind), k.Answers, k.Errors, 100*k.NonEmptyRate, fmtMs(k.P50), fmtMs(k.P95), fmtMs(k.P99), fmtMs(k.Max))
		}
		b.WriteString("</table>\n")
	}
}

// esc escapes text for HTML.
var esc = html.EscapeString

func runName(r *Result, i int) string {
	switch {
	case r.Label != "":
		return r.Label
	case r.Mix != "":
		return fmt.Sprintf("#%d %s", i+1, r.Mix)
	}
	return fmt.Sprintf("#%d", i+1)
}

// percentileX maps a percentile to the HDR plot's x axis; 100 (the max)
// goes one notch past the resolution of n samples.
func percentileX(p float64, n int64) float64 {
	if p >= 100 {
		return math.Log10(math.Max(float64(n), 10))
	}
	return -math.Log10(1 - p/100)
}

func percentileTicks(ss []series) []tick {
	maxX := 1.0
	for _, s := range ss {
		for _, x := range s.xs {
			maxX = math.Max(maxX, x)
		}
	}
	labels := []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"}
	var ts []tick
	for i, l := range labels {
		if float64(i) > maxX+1e-9 {
			break
		}
		ts = append(ts, tick{v: float64(i), label: l})
	}
	return ts
}

type series struct {
	name           string
	color          string
	xs, ys         []float64
	dashed, points bool
}

func sortSeries(s *series) {
	for i := 1; i < len(s.xs); i++ {
		for j := i; j > 0 && s.xs[j] < s.xs[j-1]; j-- {
			s.xs[j], s.xs[j-1] = s.xs[j-1], s.xs[j]
			s.ys[j], s.ys[j-1] = s.ys[j-1], s.ys[j]
		}
	}
}

type tick struct {
	v     float64
	label string
}

type hline struct {
	y     float64
	label string
}

type plotSpec struct {
	xLabel, yLabel       string
	series               []series
	xTicks               []tick // nil: automatic
	hlines               []hline
	yLogAuto             bool // log scale when values span more than 2 decades
	yFromZero, xFromZero bool
}

const (
	plotW, plotH                     = 760, 300
	padL, padR, padT, padB           = 64, 150, 12, 40
	innerW, innerH                   = plotW - padL - padR, plotH - padT - padB
	minLogMs                         = 0.001
	legendLine, legendX, legendWidth = 16, plotW - padR + 12, 20
)

// plot draws an SVG line chart. It is deliberately small: axes, ticks,
// polylines, optional markers, horizontal reference lines and a legend.
func plot(p plotSpec) string {
	xmin, xmax := math.Inf(1), math.Inf(-1)
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, s := range p.series {
		for i := range s.xs {
			xmin, xmax = math.Min(xmin, s.xs[i]), math.Max(xmax, s.xs[i])
			ymin, ymax = math.Min(ymin, s.ys[i]), math.Max(ymax, s.ys[i])
		}
	}
	for _, h := range p.hlines {
		ymin, ymax = math.Min(ymin, h.y), math.Max(ymax, h.y)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n", plotW, plotH, plotW, plotH)
	if math.IsInf(xmin, 1) {
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\">no data</text>\n</svg>\n", padL, padT+innerH/2)
		return b.String()
	}
	if p.xTicks != nil {
		xmin = 0
		xmax = math.Max(xmax, p.xTicks[len(p.xTicks)-1].v)
	}
	if p.xFromZero {
		xmin = 0
	}
	if xmax <= xmin {
		xmax = xmin + 1
	}
	logY := p.yLogAuto && ymax/math.Max(ymin, minLogMs) > 100
	if logY {
		ymin = math.Pow(10, math.Floor(math.Log10(math.Max(ymin, minLogMs))))
		ymax = math.Pow(10, math.Ceil(math.Log10(math.Max(ymax, ymin*10))))
	} else {
		if p.yFromZero || ymin > 0 {
			ymin = 0
		}
		ymax = niceCeil(ymax * 1.05)
		if ymax <= ymin {
			ymax = ymin + 1
		}
	}
	fx := func(x float64) float64 { return padL + (x-xmin)/(xmax-xmin)*innerW }
	fy := func(y float64) float64 {
		if logY {
			y = math.Max(y, ymin)
			return padT + innerH - (math.Log10(y)-math.Log10(ymin))/(math.Log10(ymax)-math.Log10(ymin))*innerH
		}
		return padT + innerH - (y-ymin)/(ymax-ymin)*innerH
	}
	// Frame and grid.
	fmt.Fprintf(&b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n", padL, padT, innerW, innerH)
	var yt []tick
	if logY {
		for v := ymin; v <= ymax*1.0001; v *= 10 {
			yt = append(yt, tick{v: v, label: fmtMs(v)})
		}
	} else {
		step := niceStep((ymax - ymin) / 5)
		for v := ymin; v <= ymax+step/1e6; v += step {
			yt = append(yt, tick{v: v, label: trimFloat(v)})
		}
	}
	for _, t := range yt {
		y := fy(t.v)
		fmt.Fprintf(&b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			padL, y, padL+innerW, y, padL-4, y+4, html.EscapeString(t.label))
	}
	xt := p.xTicks
	if xt == nil {
		step := niceStep((xmax - xmin) / 8)
		for v := math.Ceil(xmin/step) * step; v <= xmax+step/1e6; v += step {
			xt = append(xt, tick{v: v, label: trimFloat(v)})
		}
	}
	for _, t := range xt {
		x := fx(t.v)
		fmt.Fprintf(&b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/><text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
			x, padT, x, padT+innerH, x, padT+innerH+14, html.EscapeString(t.label))
	}
	fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", padL+innerW/2, plotH-6, html.EscapeString(p.xLabel))
	fmt.Fprintf(&b, "<text x=\"12\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 12 %d)\">%s</text>\n", padT+innerH/2, padT+innerH/2, html.EscapeString(p.yLabel))
	for _, h := range p.hlines {
		y := fy(h.y)
		fmt.Fprintf(&b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#888\" stroke-dasharray=\"6 3\"/><text x=\"%d\" y=\"%.1f\">%s</text>\n",
			padL, y, padL+innerW, y, padL+innerW+4, y+4, html.EscapeString(h.label))
	}
	for i, s := range p.series {
		if len(s.xs) == 0 {
			continue
		}
		dash := ""
		if s.dashed {
			dash = " stroke-dasharray=\"4 3\""
		}
		b.WriteString("<polyline fill=\"none\" stroke=\"" + s.color + "\" stroke-width=\"1.6\"" + dash + " points=\"")
		for j := range s.xs {
			fmt.Fprintf(&b, "%.1f,%.1f ", fx(s.xs[j]), fy(s.ys[j]))
		}
		b.WriteString("\"/>\n")
		if s.points {
			for j := range s.xs {
				fmt.Fprintf(&b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.2\" fill=\"%s\"/>\n", fx(s.xs[j]), fy(s.ys[j]), s.color)
			}
		}
		ly := padT + 8 + i*legendLine
		fmt.Fprintf(&b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/><text x=\"%d\" y=\"%d\">%s</text>\n",
			legendX, ly, legendX+legendWidth, ly, s.color, dash, legendX+legendWidth+4, ly+4, html.EscapeString(truncate(s.name, 22)))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// niceStep rounds a raw tick step to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / p; {
	case f <= 1:
		return p
	case f <= 2:
		return 2 * p
	case f <= 5:
		return 5 * p
	}
	return 10 * p
}

func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	s := niceStep(v / 5)
	return math.Ceil(v/s) * s
}

func trimFloat(v float64) string {
	if math.Abs(v) < 1e-9 {
		return "0"
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}
