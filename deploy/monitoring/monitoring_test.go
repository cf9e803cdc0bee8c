package monitoring

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"balise/internal/admission"
	"balise/internal/cache"
	"balise/internal/ratelimit"
	"balise/internal/telemetry"
	"balise/internal/testutil"
)

// registered returns every metric name the code exports: telemetry's own
// (runtime collectors included), the cache's (L2 included), the rate
// limiter's and the admission controller's.
func registered(t *testing.T) map[string]bool {
	t.Helper()
	cfg := telemetry.DefaultConfig()
	cfg.LogOutput = io.Discard
	tel, shutdown, err := telemetry.Setup(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(context.Background()) })
	reg := telemetry.NamingRegisterer(tel.Registry)
	ccfg := cache.DefaultConfig()
	ccfg.RedisURL = "redis://127.0.0.1:1" // never contacted: New does not dial
	c, err := cache.New(ccfg, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	lim, err := ratelimit.New(ratelimit.Config{}, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lim.Close() })
	if _, err := admission.New(admission.Config{}, reg); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{"up": true} // Prometheus' own
	for _, n := range append(tel.MetricNames(), telemetry.NamesOf(reg)...) {
		names[n] = true
	}
	return names
}

// tokenRE finds metric-like identifiers in PromQL; recording rules
// (balise:...) contain colons.
var tokenRE = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)

// metricsIn returns the metric names and recording-rule names an
// expression uses. Label names and functions are not metric names: only
// identifiers of our families (balise_, go_, process_), recording rules
// and up are considered.
func metricsIn(expr string) (metrics, records []string) {
	// Drop label matchers and strings: {a="b"} and "..." hold no names.
	expr = regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(expr, "")
	expr = regexp.MustCompile(`"[^"]*"`).ReplaceAllString(expr, "")
	for _, tok := range tokenRE.FindAllString(expr, -1) {
		switch {
		case strings.HasPrefix(tok, "balise:"):
			records = append(records, tok)
		case strings.HasPrefix(tok, "balise_"), strings.HasPrefix(tok, "go_"), strings.HasPrefix(tok, "process_"), tok == "up":
			metrics = append(metrics, tok)
		}
	}
	return metrics, records
}

// family strips the suffixes Prometheus adds to histogram and summary
// series.
func family(name string, known map[string]bool) string {
	if known[name] {
		return name
	}
	for _, suf := range []string{"_bucket", "_count", "_sum"} {
		if base, ok := strings.CutSuffix(name, suf); ok && known[base] {
			return base
		}
	}
	return name
}

type panel struct {
	Type        string   `json:"type"`
	Title       string   `json:"title"`
	ID          int      `json:"id"`
	Panels      []panel  `json:"panels"`
	Datasource  *dsRef   `json:"datasource"`
	Targets     []target `json:"targets"`
	Description string   `json:"description"`
}

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type target struct {
	Expr  string `json:"expr"`
	RefID string `json:"refId"`
}

func recordNames(t *testing.T) map[string]bool {
	t.Helper()
	rules := testutil.ReadFile(t, "balise-rules.yml")
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s*- record: (\S+)`).FindAllStringSubmatch(string(rules), -1) {
		out[m[1]] = true
	}
	return out
}

func TestDashboardUsesRegisteredMetrics(t *testing.T) {
	known := registered(t)
	records := recordNames(t)
	raw := testutil.ReadFile(t, "balise-dashboard.json")
	var dash struct {
		Title      string  `json:"title"`
		UID        string  `json:"uid"`
		Panels     []panel `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&dash); err != nil {
		t.Fatalf("dashboard is not valid JSON: %v", err)
	}
	if dash.Title == "" || dash.UID == "" {
		t.Error("dashboard needs a title and a uid")
	}
	ids := map[int]bool{}
	var exprs []string
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if p.Title == "" {
				t.Errorf("panel %d has no title", p.ID)
			}
			if ids[p.ID] {
				t.Errorf("duplicate panel id %d (%s)", p.ID, p.Title)
			}
			ids[p.ID] = true
			walk(p.Panels)
			if p.Type == "row" || p.Type == "text" {
				continue
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q must use the ${datasource} variable", p.Title)
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, tg := range p.Targets {
				if strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("panel %q target %s has no expr", p.Title, tg.RefID)
				}
				exprs = append(exprs, tg.Expr)
			}
		}
	}
	walk(dash.Panels)
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(map[string]any); ok {
			exprs = append(exprs, q["query"].(string))
		}
	}
	used := map[string]bool{}
	for _, e := range exprs {
		ms, rs := metricsIn(e)
		for _, m := range ms {
			f := family(m, known)
			if !known[f] {
				t.Errorf("dashboard uses %s, which the code does not register (in %s)", m, e)
			}
			used[f] = true
		}
		for _, r := range rs {
			if !records[r] {
				t.Errorf("dashboard uses recording rule %s, not defined in balise-rules.yml", r)
			}
		}
	}
	// Every balise metric is on the dashboard, or deliberately not.
	for n := range known {
		if strings.HasPrefix(n, "balise_") && !used[n] {
			t.Errorf("metric %s is on no dashboard panel", n)
		}
	}
	t.Logf("%d panels, %d queries, %d metric families used", len(ids), len(exprs), len(used))
}

func TestRulesUseRegisteredMetrics(t *testing.T) {
	known := registered(t)
	records := recordNames(t)
	rules := testutil.ReadFile(t, "balise-rules.yml")
	n := 0
	for _, expr := range ruleExprs(string(rules)) {
		n++
		ms, rs := metricsIn(expr)
		for _, name := range ms {
			if !known[family(name, known)] {
				t.Errorf("rule uses %s, which the code does not register: %s", name, expr)
			}
		}
		for _, r := range rs {
			if !records[r] {
				t.Errorf("rule uses %s, which no recording rule defines", r)
			}
		}
	}
	if n < 30 {
		t.Fatalf("found only %d rule expressions; the parser missed some", n)
	}
}

// ruleExprs returns each expr of a rules file: a one-line "expr: ..." or
// an "expr: |" block (the lines indented deeper than the key).
func ruleExprs(rules string) []string {
	var out []string
	lines := strings.Split(rules, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		key := strings.TrimLeft(l, " ")
		rest, ok := strings.CutPrefix(key, "expr:")
		if !ok {
			continue
		}
		rest = strings.TrimSpace(rest)
		if rest != "|" {
			out = append(out, rest)
			continue
		}
		indent := len(l) - len(key)
		var b strings.Builder
		for i+1 < len(lines) && len(lines[i+1])-len(strings.TrimLeft(lines[i+1], " ")) > indent {
			i++
			b.WriteString(lines[i] + "\n")
		}
		out = append(out, b.String())
	}
	return out
}

// Every metric the code registers under balise_ is documented.
func TestMetricsDocumented(t *testing.T) {
	doc := testutil.ReadFile(t, "../../docs/operations.md")
	var missing []string
	for n := range registered(t) {
		if strings.HasPrefix(n, "balise_") && !strings.Contains(string(doc), "`"+n+"`") {
			missing = append(missing, n)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("docs/operations.md does not document: %s", strings.Join(missing, ", "))
	}
	// Every alert has a section.
	rules, _ := os.ReadFile("balise-rules.yml")
	for _, m := range regexp.MustCompile(`alert: (\w+)`).FindAllStringSubmatch(string(rules), -1) {
		if !strings.Contains(string(doc), "### "+m[1]) {
			t.Errorf("docs/operations.md has no section for alert %s", m[1])
		}
	}
}

// promtool validates the rules and runs their unit tests. Debian's
// prometheus package ships it (apt-get install -y prometheus).
func TestPromtool(t *testing.T) {
	bin, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is required in CI (apt-get install -y prometheus)")
		}
		t.Skip("promtool not installed (apt-get install -y prometheus)")
	}
	for _, args := range [][]string{{"check", "rules", "balise-rules.yml"}, {"test", "rules", "balise-rules.test.yml"}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func TestMetricsIn(t *testing.T) {
	ms, rs := metricsIn(`sum by (le) (rate(balise_http_request_duration_seconds_bucket{route!~"balise_fake", le="0.05"}[5m])) / balise:http_requests:rate5m and on (job) up == 1 unless histogram_quantile(0.9, go_sched_latencies_seconds_bucket)`)
	if got := strings.Join(ms, " "); got != "balise_http_request_duration_seconds_bucket up go_sched_latencies_seconds_bucket" {
		t.Errorf("metrics; got %q", got)
	}
	if got := strings.Join(rs, " "); got != "balise:http_requests:rate5m" {
		t.Errorf("records; got %q", got)
	}
}
