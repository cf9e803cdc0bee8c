package dashboard

import (
	"context"
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"balise/internal/telemetry"
)

//go:embed static
var static embed.FS

// Defaults of Options.
const (
	DefaultInterval = time.Second
	DefaultSize     = 300
)

// CSP is the Content-Security-Policy of every dashboard answer: the page
// loads only its own script and style and talks only to its own origin.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Index describes the served index, as the page shows it.
type Index struct {
	File         string `json:"file"` // base name only: the server's directories are not the public's business
	Version      string `json:"version"`
	BuiltAt      string `json:"built_at"`
	Documents    int64  `json:"documents"`
	Housenumbers int64  `json:"housenumbers"`
	Attribution  string `json:"attribution"`
	Licence      string `json:"licence"`
}

// Options configure a Dashboard.
type Options struct {
	// Gatherer is the registry /metrics serves.
	Gatherer prometheus.Gatherer
	// Index returns the served index; nil or false: none shown.
	Index func() (Index, bool)
	// Interval between samples (DefaultInterval when 0) and Size of the
	// ring (DefaultSize when 0).
	Interval time.Duration
	Size     int
}

// Dashboard is the sampler and its handler.
type Dashboard struct {
	opts Options

	mu   sync.Mutex
	last *snapshot // nil until the first sample
	ring []Sample  // len Size once full; next is where the next one goes
	next int
	full bool
}

// New returns a dashboard reading o.Gatherer. Start its sampler with Run.
func New(o Options) *Dashboard {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Size <= 0 {
		o.Size = DefaultSize
	}
	return &Dashboard{opts: o, ring: make([]Sample, o.Size)}
}

// Run samples the registry every Interval until ctx ends.
func (d *Dashboard) Run(ctx context.Context) {
	t := time.NewTicker(d.opts.Interval)
	defer t.Stop()
	d.Sample(time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			d.Sample(now)
		}
	}
}

// Sample takes one sample now: one Gather, and the deltas from the
// previous one appended to the ring (the first sample only sets the base).
func (d *Dashboard) Sample(now time.Time) {
	snap := gather(d.opts.Gatherer, now)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.last != nil {
		d.ring[d.next] = delta(d.last, snap)
		d.next = (d.next + 1) % len(d.ring)
		d.full = d.full || d.next == 0
	}
	d.last = snap
}

// samples returns the ring, oldest first.
func (d *Dashboard) samples() []Sample {
	if !d.full {
		return append([]Sample(nil), d.ring[:d.next]...)
	}
	out := make([]Sample, 0, len(d.ring))
	out = append(out, d.ring[d.next:]...)
	return append(out, d.ring[:d.next]...)
}

// Stats is the JSON of GET /dashboard/stats.
type Stats struct {
	Time            int64    `json:"time"` // Unix milliseconds of the last sample
	IntervalSeconds float64  `json:"interval_seconds"`
	Totals          Totals   `json:"totals"`
	InFlight        float64  `json:"in_flight"`
	Breaker         string   `json:"breaker"` // off, closed, half_open, open
	Index           *Index   `json:"index,omitempty"`
	Samples         []Sample `json:"samples"`
}

// Stats returns what /dashboard/stats answers, taking a first sample if
// the sampler has not yet.
func (d *Dashboard) Stats() Stats {
	d.mu.Lock()
	noSample := d.last == nil
	d.mu.Unlock()
	if noSample {
		d.Sample(time.Now())
	}
	d.mu.Lock()
	s := Stats{
		Time:            d.last.time.UnixMilli(),
		IntervalSeconds: d.opts.Interval.Seconds(),
		Totals:          d.last.totals(),
		InFlight:        d.last.inFlight,
		Breaker:         d.last.breaker(),
		Samples:         d.samples(),
	}
	d.mu.Unlock()
	if d.opts.Index != nil {
		if ix, ok := d.opts.Index(); ok {
			s.Index = &ix
		}
	}
	return s
}

// Handler serves /dashboard, /dashboard/stats and the page's files.
func (d *Dashboard) Handler() http.Handler {
	files, _ := fs.Sub(static, "static")
	fileServer := http.StripPrefix("/dashboard/", http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			telemetry.RequestInfoFrom(r.Context()).SetRoute("/dashboard")
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		switch r.URL.Path {
		case "/dashboard", "/dashboard/":
			telemetry.RequestInfoFrom(r.Context()).SetRoute("/dashboard")
			h.Set("Cache-Control", "no-cache")
			h.Set("Content-Type", "text/html; charset=utf-8")
			page, _ := static.ReadFile("static/index.html")
			w.Write(page)
		case "/dashboard/stats":
			telemetry.RequestInfoFrom(r.Context()).SetRoute("/dashboard/stats")
			h.Set("Cache-Control", "no-store")
			h.Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(d.Stats())
		case "/dashboard/app.js", "/dashboard/style.css":
			telemetry.RequestInfoFrom(r.Context()).SetRoute("/dashboard/{file}")
			h.Set("Cache-Control", "no-cache")
			fileServer.ServeHTTP(w, r)
		default:
			telemetry.RequestInfoFrom(r.Context()).SetRoute("/dashboard/{file}")
			http.NotFound(w, r)
		}
	})
}
