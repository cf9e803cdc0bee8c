package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func runBenchCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return run(t, "", nil, append([]string{"bench"}, args...)...)
}

// fakeAddok answers every search with one feature and counts requests.
func fakeAddok(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.URL.Path != "/search" && r.URL.Path != "/reverse" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}}]}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestBenchQueriesFileJSON(t *testing.T) {
	srv, n := fakeAddok(t)
	dir := t.TempDir()
	qf := filepath.Join(dir, "q.txt")
	os.WriteFile(qf, []byte("# test\n/search?q=a\n8 bd du port\nhttp://ignored.example/reverse?lat=48.8&lon=2.3\n/missing\n"), 0o644)
	out := filepath.Join(dir, "r.json")
	code, _, stderr := runBenchCLI(t, "--target", srv.URL, "--queries", qf, "--requests", "40", "--duration", "0",
		"--concurrency", "2", "--format", "json", "--out", out, "--label", "fake", "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n.Load() != 40 {
		t.Errorf("server saw %d requests; want 40", n.Load())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Label   string                `json:"label"`
		Sent    int64                 `json:"sent"`
		Answers int64                 `json:"answers"`
		Errors  map[string]int64      `json:"errors"`
		Source  string                `json:"source"`
		Latency struct{ P99 float64 } `json:"latency_ms"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Label != "fake" || res.Sent != 40 || res.Answers != 30 || res.Errors["status_4xx"] != 10 || res.Source != "q.txt" || res.Latency.P99 <= 0 {
		t.Errorf("result %+v", res)
	}

	// bench report renders saved results side by side.
	code, md, stderr := runBenchCLI(t, "report", out, out)
	if code != 0 || strings.Count(md, "| fake |") != 2 {
		t.Errorf("report: exit %d, %s\n%s", code, stderr, md)
	}
	code, page, _ := runBenchCLI(t, "report", "--format", "html", out)
	if code != 0 || !strings.Contains(page, "<svg") {
		t.Errorf("html report: exit %d", code)
	}
}

func TestBenchGeneratedText(t *testing.T) {
	srv, n := fakeAddok(t)
	code, stdout, stderr := runBenchCLI(t, "--target", srv.URL, "--rate", "100", "--duration", "300ms", "--mix", "mixed",
		"--generate-count", "200", "--zipf", "1.1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n.Load() != 30 {
		t.Errorf("server saw %d requests; want 30 (100/s for 0.3 s)", n.Load())
	}
	for _, want := range []string{"open loop at 100 req/s", "mix mixed from bundled sample", "zipf 1.1", "p99"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "bundled Paris sample") || !strings.Contains(stderr, "sent 30") {
		t.Errorf("stderr: %s", stderr)
	}
}

func TestBenchInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the bundled sample index")
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // do not touch the user's cache
	code, stdout, stderr := runBenchCLI(t, "--target", "inprocess", "--requests", "300", "--mix", "reverse", "--format", "markdown", "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "| reverse | closed ×4 |") || !strings.Contains(stdout, "| 0.00 % |") {
		t.Errorf("markdown:\n%s", stdout)
	}
}

func TestBenchRefusals(t *testing.T) {
	f := func(wantCode int, wantErr string, args ...string) {
		t.Helper()
		code, _, stderr := runBenchCLI(t, args...)
		if code != wantCode || !strings.Contains(stderr, wantErr) {
			t.Errorf("bench %q: exit %d, stderr %q; want %d and %q", args, code, stderr, wantCode, wantErr)
		}
	}
	f(2, "--allow-remote", "--target", "http://example.com", "--requests", "1")
	f(2, "--allow-remote", "--target", "http://192.0.2.1:7878", "--requests", "1")
	f(2, "must stop", "--duration", "0")
	f(2, "unknown --format", "--format", "pdf")
	f(2, "unknown mix", "--mix", "everything")
	f(2, "exclusive", "--queries", "a", "--generate", "b")
	f(2, "zipf", "--target", "http://127.0.0.1:1", "--zipf", "-1", "--requests", "1", "--generate-count", "10")
	f(2, "needs a --duration", "--step", "--duration", "0", "--requests", "5")
}

func TestBenchWriteRequests(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "q.txt")
	// No target is contacted (nor checked) to write a list.
	code, _, stderr := runBenchCLI(t, "--target", "http://example.com", "--mix", "reverse", "--generate-count", "50", "--write-requests", out)
	if code != 0 || !strings.Contains(stderr, "wrote 50 requests") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, _ := os.ReadFile(out)
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 50 || !strings.HasPrefix(lines[0], "/reverse?lat=") {
		t.Errorf("written list: %q", b)
	}
	csvOut := filepath.Join(dir, "q.csv")
	code, _, stderr = runBenchCLI(t, "--mix", "search", "--generate-count", "20", "--write-requests", csvOut)
	b, _ = os.ReadFile(csvOut)
	if code != 0 || !strings.HasPrefix(string(b), "q\n") || strings.Count(string(b), "\n") < 21 {
		t.Errorf("CSV: exit %d %s\n%s", code, stderr, b)
	}
}
