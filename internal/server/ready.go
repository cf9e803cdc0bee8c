package server

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"balise/internal/search"
	"balise/internal/telemetry"
)

// readyReport is the body of GET /health/ready.
type readyReport struct {
	Status string `json:"status"` // ready or not_ready
	Checks struct {
		Index    indexCheck    `json:"index"`
		Redis    redisCheck    `json:"redis"`
		Memory   memoryCheck   `json:"memory"`
		Shutdown shutdownCheck `json:"shutdown"`
	} `json:"checks"`
	// Failing lists the checks that make the instance not ready; Warnings
	// those that fail without doing so (Redis: the cache never fails a
	// request, answers are computed instead).
	Failing  []string `json:"failing,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	UptimeS  float64  `json:"uptime_s"`
	Build    struct {
		Version string `json:"version"`
		Go      string `json:"go"`
	} `json:"build"`
}

type indexCheck struct {
	OK        bool   `json:"ok"`
	Version   string `json:"version,omitempty"`
	Documents int64  `json:"documents"`
	Path      string `json:"path,omitempty"`
	BuiltAt   string `json:"built_at,omitempty"`
	Error     string `json:"error,omitempty"`
}

type redisCheck struct {
	OK        bool    `json:"ok"`
	Enabled   bool    `json:"enabled"`
	Breaker   string  `json:"breaker,omitempty"` // closed, open, half-open
	LatencyMS float64 `json:"latency_ms"`
	Error     string  `json:"error,omitempty"`
}

type memoryCheck struct {
	OK        bool   `json:"ok"`
	HeapBytes uint64 `json:"heap_bytes"`
	RSSBytes  uint64 `json:"rss_bytes"`
	// LimitBytes is the Go memory limit (GOMEMLIMIT) when one is set; the
	// check fails when the heap reaches MemoryReadyFraction of it.
	LimitBytes int64 `json:"limit_bytes,omitempty"`
}

type shutdownCheck struct {
	OK       bool `json:"ok"`
	Draining bool `json:"draining"`
}

// MemoryReadyFraction of the Go memory limit, once reached by the heap,
// makes the instance not ready (the GC is then thrashing to stay under
// the limit). Without a limit the memory check always passes.
const MemoryReadyFraction = 0.95

// ready serves GET /health/ready.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	rep := s.readiness(r.Context())
	status := http.StatusOK
	if rep.Status != "ready" {
		status = http.StatusServiceUnavailable
	}
	b, _ := json.Marshal(rep)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func (s *Server) readiness(ctx context.Context) readyReport {
	var rep readyReport
	c := &rep.Checks

	if e := s.holder.Current(); e != nil {
		e, release := s.holder.Acquire()
		m := e.Index().Meta()
		c.Index = indexCheck{OK: true, Version: m.Version, Documents: int64(m.Documents),
			Path: e.Index().Path(), BuiltAt: m.BuiltAt}
		release()
	} else {
		c.Index.Error = "no index loaded"
	}

	c.Redis.OK = true
	if s.cfg.Cache != nil {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		h := s.cfg.Cache.Ping(pctx)
		cancel()
		c.Redis.Enabled = h.Enabled
		if h.Enabled {
			c.Redis.Breaker = strings.ReplaceAll(h.Breaker, "_", "-")
			c.Redis.LatencyMS = float64(h.Latency.Microseconds()) / 1000
			if h.Err != nil {
				c.Redis.OK = false
				c.Redis.Error = h.Err.Error()
			}
		}
	}

	c.Memory = readMemory()
	c.Shutdown = shutdownCheck{OK: !s.draining.Load(), Draining: s.draining.Load()}

	if !c.Index.OK {
		rep.Failing = append(rep.Failing, "index")
	}
	if !c.Memory.OK {
		rep.Failing = append(rep.Failing, "memory")
	}
	if !c.Shutdown.OK {
		rep.Failing = append(rep.Failing, "shutdown")
	}
	if !c.Redis.OK {
		rep.Warnings = append(rep.Warnings, "redis")
	}
	rep.Status = "ready"
	if len(rep.Failing) > 0 {
		rep.Status = "not_ready"
	}
	rep.UptimeS = math.Round(time.Since(s.started).Seconds()*1000) / 1000
	rep.Build.Version = s.cfg.Version
	rep.Build.Go = runtime.Version()
	return rep
}

// readMemory reads the live heap (runtime/metrics: no stop-the-world) and
// the RSS (/proc/self/statm, Linux only: 0 elsewhere).
func readMemory() memoryCheck {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	m := memoryCheck{OK: true}
	if s[0].Value.Kind() == metrics.KindUint64 {
		m.HeapBytes = s[0].Value.Uint64()
	}
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			if pages, err := strconv.ParseUint(f[1], 10, 64); err == nil {
				m.RSSBytes = pages * uint64(os.Getpagesize())
			}
		}
	}
	if limit := debug.SetMemoryLimit(-1); limit > 0 && limit < math.MaxInt64 {
		m.LimitBytes = limit
		m.OK = float64(m.HeapBytes) < MemoryReadyFraction*float64(limit)
	}
	return m
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
