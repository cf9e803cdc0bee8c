package server

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"balise/internal/cache"
	"balise/internal/memlimit"
	"balise/internal/search"
	"balise/internal/telemetry"
)

// MemoryReadyFraction of a memory limit, once reached, makes the instance
// not ready (see memlimit.ReadyFraction).
const MemoryReadyFraction = memlimit.ReadyFraction

// Readiness bounds: the whole set of checks, and the Redis PING in it.
const (
	readyTimeout     = 2 * time.Second
	redisPingTimeout = time.Second
)

// Check is the outcome of one readiness check.
type Check struct {
	// OK is false when the check failed.
	OK bool
	// Detail is shown in the admin listener's report only, as the check's
	// JSON object beside "ok" (so it must encode as an object without an
	// "ok" field; anything else is shown under "detail"). It may name
	// paths, hosts and errors: the public listener never shows it.
	Detail any
}

// ReadinessCheck is a named check that readiness runs.
type ReadinessCheck struct {
	// Name is the check's key in the report, and what the public answer
	// lists when it fails.
	Name string
	// Advisory checks never make the instance not ready: their failures
	// are warnings of the admin report (Redis: the cache never fails a
	// request, answers are computed instead). The public answer does not
	// run them.
	Advisory bool
	// Run must honour ctx (readiness bounds all checks to 2 s) and not
	// block otherwise.
	Run func(ctx context.Context) Check
}

// readyReport is the admin listener's GET /health/ready.
type readyReport struct {
	Status string          `json:"status"` // ready or not_ready
	Checks json.RawMessage `json:"checks"`
	// Failing lists the checks that make the instance not ready; Warnings
	// the advisory ones that fail.
	Failing  []string `json:"failing,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	UptimeS  float64  `json:"uptime_s"`
	Build    struct {
		Version string `json:"version"`
		Go      string `json:"go"`
	} `json:"build"`
}

// publicReady is the public listener's GET /health/ready: nothing that
// could help an attacker (no path, version, size or error text).
type publicReady struct {
	Status  string   `json:"status"`
	Failing []string `json:"failing,omitempty"`
}

type indexDetail struct {
	Version   string `json:"version,omitempty"`
	Documents int64  `json:"documents"`
	Path      string `json:"path,omitempty"`
	BuiltAt   string `json:"built_at,omitempty"`
	Error     string `json:"error,omitempty"`
}

type redisDetail struct {
	Enabled   bool    `json:"enabled"`
	Breaker   string  `json:"breaker,omitempty"` // closed, open, half-open
	Status    string  `json:"status,omitempty"`  // a cache.L2Status* value
	LatencyMS float64 `json:"latency_ms"`
	Error     string  `json:"error,omitempty"`
}

type shutdownDetail struct {
	Draining bool `json:"draining"`
}

// checkResult is one check's outcome in a readiness run.
type checkResult struct {
	ReadinessCheck
	Check
}

// ready serves the public GET /health/ready: {"status":"ready"}, or 503
// with {"status":"not_ready"} and the names of the failing checks.
// Advisory checks are not run: they could not change the answer.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	results := s.runChecks(r.Context(), false)
	rep := publicReady{Status: "ready"}
	for _, c := range results {
		if !c.OK {
			rep.Failing = append(rep.Failing, c.Name)
		}
	}
	if len(rep.Failing) > 0 {
		rep.Status = "not_ready"
	}
	writeReady(w, rep.Status, rep)
}

// readyFull serves the admin listener's GET /health/ready: every check
// with its details, warnings, uptime and build.
func (s *Server) readyFull(w http.ResponseWriter, r *http.Request) {
	rep := s.readiness(r.Context())
	writeReady(w, rep.Status, rep)
}

func writeReady(w http.ResponseWriter, status string, body any) {
	code := http.StatusOK
	if status != "ready" {
		code = http.StatusServiceUnavailable
	}
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	w.Write(b)
}

// readiness runs every check for the admin report.
func (s *Server) readiness(ctx context.Context) readyReport {
	results := s.runChecks(ctx, true)
	var rep readyReport
	var checks bytes.Buffer
	checks.WriteByte('{')
	for i, c := range results {
		if i > 0 {
			checks.WriteByte(',')
		}
		name, _ := json.Marshal(c.Name)
		checks.Write(name)
		checks.WriteByte(':')
		checks.Write(checkJSON(c.Check))
		switch {
		case c.OK:
		case c.Advisory:
			rep.Warnings = append(rep.Warnings, c.Name)
		default:
			rep.Failing = append(rep.Failing, c.Name)
		}
	}
	checks.WriteByte('}')
	rep.Checks = checks.Bytes()
	rep.Status = "ready"
	if len(rep.Failing) > 0 {
		rep.Status = "not_ready"
	}
	rep.UptimeS = math.Round(time.Since(s.started).Seconds()*1000) / 1000
	rep.Build.Version = s.cfg.Version
	rep.Build.Go = runtime.Version()
	return rep
}

// checkJSON is {"ok":…} followed by the fields of the check's Detail.
func checkJSON(c Check) []byte {
	b := []byte(`{"ok":` + strconv.FormatBool(c.OK))
	if c.Detail == nil {
		return append(b, '}')
	}
	d, err := json.Marshal(c.Detail)
	switch {
	case err != nil:
		return append(b, `,"detail_error":"the detail cannot be encoded"}`...)
	case string(d) == "{}" || string(d) == "null":
		return append(b, '}')
	case d[0] == '{':
		return append(append(b, ','), d[1:]...)
	}
	b = append(b, `,"detail":`...)
	b = append(b, d...)
	return append(b, '}')
}

// checks are the built-in checks followed by Config.Checks, an entry
// with a built-in's name taking its place.
func (s *Server) checks() []ReadinessCheck {
	list := []ReadinessCheck{
		{Name: "index", Run: s.checkIndex},
		{Name: "redis", Advisory: true, Run: s.checkRedis},
		{Name: "memory", Run: s.checkMemory},
		{Name: "shutdown", Run: s.checkShutdown},
	}
next:
	for _, c := range s.cfg.Checks {
		if c.Run == nil || c.Name == "" {
			continue
		}
		for i := range list {
			if list[i].Name == c.Name {
				list[i] = c
				continue next
			}
		}
		list = append(list, c)
	}
	return list
}

// runChecks runs the checks in order, all within readyTimeout; advisory
// ones only when withAdvisory.
func (s *Server) runChecks(ctx context.Context, withAdvisory bool) []checkResult {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	var out []checkResult
	for _, c := range s.checks() {
		if c.Advisory && !withAdvisory {
			continue
		}
		out = append(out, checkResult{c, c.Run(ctx)})
	}
	return out
}

// checkIndex fails without an index, or when the served file can no
// longer be read safely (IndexHealth: truncated or rewritten in place
// under its mapping, or a read faulted).
func (s *Server) checkIndex(context.Context) Check {
	if s.holder.Current() == nil {
		return Check{Detail: indexDetail{Error: errNoIndex.Error()}}
	}
	e, release := s.holder.Acquire()
	m := e.Index().Meta()
	d := indexDetail{Version: m.Version, Documents: int64(m.Documents), Path: e.Index().Path(), BuiltAt: m.BuiltAt}
	release()
	if err := s.IndexHealth(); err != nil {
		d.Error = err.Error()
		return Check{Detail: d}
	}
	return Check{OK: true, Detail: d}
}

// checkRedis pings Redis through the cache's circuit breaker (an open
// breaker answers without dialling). It is advisory.
func (s *Server) checkRedis(ctx context.Context) Check {
	if s.cfg.Cache == nil {
		return Check{OK: true, Detail: redisDetail{}}
	}
	pctx, cancel := context.WithTimeout(ctx, redisPingTimeout)
	h := s.cfg.Cache.Ping(pctx)
	cancel()
	d := redisDetail{Enabled: h.Enabled}
	if !h.Enabled {
		return Check{OK: true, Detail: d}
	}
	d.Breaker = strings.ReplaceAll(h.Breaker, "_", "-")
	d.Status = h.Status
	d.LatencyMS = float64(h.Latency.Microseconds()) / 1000
	if h.Err != nil {
		d.Error = h.Err.Error()
	}
	return Check{OK: h.Status == cache.L2StatusOK, Detail: d}
}

// checkMemory compares the heap with the Go memory limit and the
// anonymous resident memory with the cgroup limit (memlimit.Monitor).
func (s *Server) checkMemory(context.Context) Check {
	m := s.cfg.Memory
	if m == nil {
		m = memlimit.NewMonitor("", memlimit.Setting{})
	}
	u := m.Check()
	return Check{OK: u.OK, Detail: u}
}

func (s *Server) checkShutdown(context.Context) Check {
	d := s.draining.Load()
	return Check{OK: !d, Detail: shutdownDetail{Draining: d}}
}

// IndexInfo describes an engine's index for telemetry.
func IndexInfo(e *search.Engine) telemetry.IndexInfo {
	m := e.Index().Meta()
	info := telemetry.IndexInfo{Version: m.Version, Documents: int64(m.Documents),
		Housenumbers: int64(m.Housenumbers), FileSize: int64(e.Index().Size())}
	if t, err := time.Parse(time.RFC3339, m.BuiltAt); err == nil {
		info.BuildTime = t
	}
	return info
}
