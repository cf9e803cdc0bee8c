package server

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"balise/internal/cache"
	"balise/internal/memlimit"
	"balise/internal/testutil"
)

type readyBody struct {
	Status string `json:"status"`
	Checks struct {
		Index struct {
			OK        bool   `json:"ok"`
			Version   string `json:"version"`
			Documents int    `json:"documents"`
			Path      string `json:"path"`
			Error     string `json:"error"`
		} `json:"index"`
		Redis struct {
			OK        bool    `json:"ok"`
			Enabled   bool    `json:"enabled"`
			Breaker   string  `json:"breaker"`
			Status    string  `json:"status"`
			LatencyMS float64 `json:"latency_ms"`
			Error     string  `json:"error"`
		} `json:"redis"`
		Memory struct {
			OK           bool           `json:"ok"`
			Failing      string         `json:"failing"`
			HeapBytes    uint64         `json:"heap_bytes"`
			RSSBytes     uint64         `json:"rss_bytes"`
			AnonRSSBytes uint64         `json:"anon_rss_bytes"`
			Cgroup       memlimit.Limit `json:"cgroup"`
		} `json:"memory"`
		Shutdown struct {
			OK bool `json:"ok"`
		} `json:"shutdown"`
	} `json:"checks"`
	Failing  []string `json:"failing"`
	Warnings []string `json:"warnings"`
	UptimeS  float64  `json:"uptime_s"`
	Build    struct {
		Version string `json:"version"`
		Go      string `json:"go"`
	} `json:"build"`
}

// ready reads the full report (base: the admin listener).
func ready(t *testing.T, base string) (int, readyBody) {
	t.Helper()
	rep := testutil.Get(t, base+"/health/ready")
	var b readyBody
	if err := json.Unmarshal(rep.Body, &b); err != nil {
		t.Fatalf("/health/ready: %v: %s", err, rep.Body)
	}
	return rep.Status, b
}

// publicReady reads the public answer and checks that it holds nothing
// but the status and the names of failing checks.
func publicReadyAnswer(t *testing.T, base string) (int, string) {
	t.Helper()
	rep := testutil.Get(t, base+"/health/ready")
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(rep.Body, &fields); err != nil {
		t.Fatalf("public /health/ready: %v: %s", err, rep.Body)
	}
	for k := range fields {
		if k != "status" && k != "failing" {
			t.Errorf("the public readiness answer has %q: %s", k, rep.Body)
		}
	}
	if rep.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(rep.Header.Get("Content-Type"), "application/json") {
		t.Errorf("public readiness headers: %v", rep.Header)
	}
	return rep.Status, string(rep.Body)
}

// /health/ready is 200 normally and 503 while draining for a shutdown;
// the public listener says only that, the admin listener has the report.
func TestReadiness(t *testing.T) {
	r := newRig(t, rigOptions{shutdownDelay: 1500 * time.Millisecond})
	status, b := ready(t, r.admin)
	if status != 200 || b.Status != "ready" || !b.Checks.Index.OK || b.Checks.Index.Documents != 1951 ||
		b.Checks.Index.Version != r.version || b.Checks.Index.Path == "" || b.Checks.Redis.Enabled || !b.Checks.Redis.OK ||
		!b.Checks.Memory.OK || b.Checks.Memory.HeapBytes == 0 || !b.Checks.Shutdown.OK || b.Build.Go == "" || b.Build.Version != "test" {
		t.Fatalf("ready: %d %+v", status, b)
	}
	if status, body := publicReadyAnswer(t, r.url); status != 200 || body != `{"status":"ready"}` {
		t.Errorf("public ready: %d %s", status, body)
	}
	if rep := testutil.Get(t, r.url+"/health"); rep.Status != 200 || !strings.Contains(string(rep.Body), `"status":"HEALTHY"`) {
		t.Errorf("/health: %d %s", rep.Status, rep.Body)
	}
	r.cancel()
	deadline := time.Now().Add(time.Second)
	var body string
	for {
		if status, body = publicReadyAnswer(t, r.url); status == 503 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d while draining", status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if body != `{"status":"not_ready","failing":["shutdown"]}` {
		t.Errorf("public, draining: %s", body)
	}
	status, b = ready(t, r.admin)
	if status != 503 || b.Status != "not_ready" || b.Checks.Shutdown.OK || !slices.Equal(b.Failing, []string{"shutdown"}) {
		t.Errorf("draining: %d %+v", status, b)
	}
}

// pings counts the cache's Redis PINGs (readiness checks) in base's
// metrics.
func pings(t *testing.T, base string) float64 {
	t.Helper()
	f := scrape(t, base)["balise_cache_redis_request_duration_seconds"]
	n := 0.0
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "op" && l.GetValue() == "ping" {
				n += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return n
}

// Redis down: the public answer stays a bare {"status":"ready"} (no
// host, error or version) and does not touch Redis; the admin report has
// the warning, the status through the breaker and the error.
func TestReadinessRedisDown(t *testing.T) {
	rs := testutil.StartRedis(t)
	cc := cache.DefaultConfig()
	cc.RedisURL = rs.URL()
	cc.RedisTimeout = 200 * time.Millisecond
	r := newRig(t, rigOptions{cache: &cc})
	status, b := ready(t, r.admin)
	if status != 200 || !b.Checks.Redis.OK || b.Checks.Redis.Status != cache.L2StatusOK || b.Checks.Redis.Breaker != "closed" || len(b.Warnings) != 0 {
		t.Fatalf("with Redis up: %d %+v", status, b.Checks.Redis)
	}
	rs.Kill()
	before := pings(t, r.admin)
	for range 3 {
		if status, body := publicReadyAnswer(t, r.url); status != 200 || body != `{"status":"ready"}` {
			t.Errorf("public, Redis down: %d %s", status, body)
		}
	}
	if n := pings(t, r.admin) - before; n != 0 {
		t.Errorf("the public readiness pinged Redis %v times", n)
	}
	status, b = ready(t, r.admin)
	statuses := []string{cache.L2StatusRefused, cache.L2StatusTimeout, cache.L2StatusBreakerOpen, cache.L2StatusError}
	if status != 200 || b.Status != "ready" || b.Checks.Redis.OK || !slices.Contains(statuses, b.Checks.Redis.Status) ||
		b.Checks.Redis.Error == "" || !slices.Equal(b.Warnings, []string{"redis"}) || len(b.Failing) != 0 {
		t.Errorf("admin, Redis down: %d %+v", status, b)
	}
	if n := pings(t, r.admin) - before; n != 1 {
		t.Errorf("the admin readiness pinged Redis %v times, want 1", n)
	}
}

// A file truncated under its mapping fails the index check
// (Server.IndexHealth): publicly by name only.
func TestReadinessIndexHealth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "served.balise")
	writeStreetIndex(t, path, "gen", 300)
	r := newReloadRig(t, path)
	if status, body := publicReadyAnswer(t, r.url); status != 200 {
		t.Fatalf("before: %d %s", status, body)
	}
	if err := os.Truncate(path, 4096); err != nil {
		t.Fatal(err)
	}
	status, body := publicReadyAnswer(t, r.url)
	if status != 503 || body != `{"status":"not_ready","failing":["index"]}` {
		t.Errorf("public, truncated: %d %s", status, body)
	}
	st, b := ready(t, r.admin)
	if st != 503 || b.Checks.Index.OK || b.Checks.Index.Error == "" || b.Checks.Index.Path != path || !slices.Equal(b.Failing, []string{"index"}) {
		t.Errorf("admin, truncated: %d %+v", st, b.Checks.Index)
	}
}

// fakeProc writes a cgroup v2 tree with memory.max = limit and a statm
// of resident and shared pages, for memlimit.NewMonitor.
func fakeProc(t *testing.T, limit int64, resident, shared int) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"proc/self/cgroup":                "0::/balise\n",
		"proc/self/mountinfo":             "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
		"proc/self/statm":                 "900000 " + strconv.Itoa(resident) + " " + strconv.Itoa(shared) + " 10 0 100 0\n",
		"sys/fs/cgroup/balise/memory.max": strconv.FormatInt(limit, 10) + "\n",
	}
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// Memory readiness against a (fake) cgroup limit, with no Go memory
// limit: anonymous resident memory over 95 % of it fails.
func TestReadinessMemoryCgroup(t *testing.T) {
	page := os.Getpagesize()
	limit := int64(10000 * page)
	for _, c := range []struct {
		name             string
		resident, shared int
		ok               bool
	}{
		{"under", 5000, 1000, true},
		{"anonymous memory at 97%", 9800, 100, false},
		{"the index cached: resident 98%, mostly file pages", 9800, 9000, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			mon := memlimit.NewMonitor(fakeProc(t, limit, c.resident, c.shared), memlimit.Setting{})
			r := newAdminRig(t, func(cfg *Config) { cfg.Memory = mon })
			status, body := publicReadyAnswer(t, r.url)
			st, b := ready(t, r.admin)
			m := b.Checks.Memory
			if m.Cgroup.Bytes != limit || m.Cgroup.Source != "/sys/fs/cgroup/balise/memory.max" ||
				m.RSSBytes != uint64(c.resident*page) || m.AnonRSSBytes != uint64((c.resident-c.shared)*page) {
				t.Errorf("memory report: %+v", m)
			}
			if c.ok {
				if status != 200 || st != 200 || !m.OK {
					t.Errorf("public %d %s, admin %d %+v; want ready", status, body, st, m)
				}
				return
			}
			if status != 503 || body != `{"status":"not_ready","failing":["memory"]}` || st != 503 || m.OK || m.Failing != "rss" ||
				!slices.Equal(b.Failing, []string{"memory"}) {
				t.Errorf("public %d %s, admin %d %+v; want not ready on rss", status, body, st, b)
			}
		})
	}
}

// Config.Checks join the report after the built-in ones, a same-named
// one replacing a built-in; advisory failures are warnings; a failing
// check is named publicly, its detail is not.
func TestReadinessExtraChecks(t *testing.T) {
	var deadline time.Duration
	r := newAdminRig(t, func(c *Config) {
		c.Checks = []ReadinessCheck{
			{Name: "admission", Run: func(ctx context.Context) Check {
				d, _ := ctx.Deadline()
				deadline = time.Until(d)
				return Check{OK: false, Detail: map[string]any{"draining": true, "in_flight": 3}}
			}},
			{Name: "dns", Advisory: true, Run: func(context.Context) Check { return Check{OK: false, Detail: "resolver 10.0.0.53 timed out"} }},
			{Name: "memory", Run: func(context.Context) Check { return Check{OK: true} }},
			{Name: "ignored-without-run"},
		}
	})
	status, body := publicReadyAnswer(t, r.url)
	if status != 503 || body != `{"status":"not_ready","failing":["admission"]}` {
		t.Errorf("public: %d %s", status, body)
	}
	if deadline <= 0 || deadline > readyTimeout {
		t.Errorf("checks ran with %v left, want within (0, %v]", deadline, readyTimeout)
	}
	rep := testutil.Get(t, r.admin+"/health/ready")
	var full struct {
		Status   string                     `json:"status"`
		Checks   map[string]json.RawMessage `json:"checks"`
		Failing  []string                   `json:"failing"`
		Warnings []string                   `json:"warnings"`
	}
	if err := json.Unmarshal(rep.Body, &full); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"admission": `{"ok":false,"draining":true,"in_flight":3}`,
		"dns":       `{"ok":false,"detail":"resolver 10.0.0.53 timed out"}`,
		"memory":    `{"ok":true}`,
	}
	for k, v := range want {
		if string(full.Checks[k]) != v {
			t.Errorf("check %s: %s, want %s", k, full.Checks[k], v)
		}
	}
	order := []string{`"index":`, `"redis":`, `"memory":`, `"shutdown":`, `"admission":`, `"dns":`}
	last := -1
	for _, k := range order {
		i := strings.Index(string(rep.Body), k)
		if i <= last {
			t.Errorf("checks out of order (%s): %s", k, rep.Body)
		}
		last = i
	}
	if rep.Status != 503 || full.Status != "not_ready" || !slices.Equal(full.Failing, []string{"admission"}) ||
		!slices.Equal(full.Warnings, []string{"dns"}) || len(full.Checks) != 6 {
		t.Errorf("admin: %d %s", rep.Status, rep.Body)
	}
}

func TestCheckJSON(t *testing.T) {
	for _, c := range []struct {
		check Check
		want  string
	}{
		{Check{OK: true}, `{"ok":true}`},
		{Check{OK: true, Detail: struct{}{}}, `{"ok":true}`},
		{Check{Detail: struct {
			N int `json:"n"`
		}{2}}, `{"ok":false,"n":2}`},
		{Check{OK: true, Detail: []int{1}}, `{"ok":true,"detail":[1]}`},
		{Check{OK: true, Detail: func() {}}, `{"ok":true,"detail_error":"the detail cannot be encoded"}`},
	} {
		if got := string(checkJSON(c.check)); got != c.want {
			t.Errorf("checkJSON(%+v) = %s, want %s", c.check, got, c.want)
		}
	}
}
