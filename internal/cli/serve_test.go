package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"balise/internal/testutil"
)

var (
	banIndexOnce sync.Once
	banIndexPath string
)

// banIndex imports testdata/ban-nc with the import command, once.
func banIndex(t *testing.T) string {
	t.Helper()
	banIndexOnce.Do(func() {
		dir, err := os.MkdirTemp("", "balise-cli-test")
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "ban.balise")
		var out bytes.Buffer
		code := Run(context.Background(), []string{"import", "--quiet", "-o", p, filepath.Join("..", "..", "testdata", "ban-nc", "addok.ndjson.gz")}, Env{Stdout: &out, Stderr: &out})
		if code != 0 {
			t.Fatalf("import: %d %s", code, out.String())
		}
		banIndexPath = p
	})
	if banIndexPath == "" {
		t.Fatal("no index")
	}
	return banIndexPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if banIndexPath != "" {
		os.RemoveAll(filepath.Dir(banIndexPath))
	}
	os.Exit(code)
}

var (
	listenLine = regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)
	adminLine  = regexp.MustCompile(`"msg":"admin listening[^"]*","addr":"([^"]+)"`)
)

// servedCmd is a serve command running in the test.
type servedCmd struct {
	addr, admin string // where it listens (admin: "" when disabled)
	logs        *testutil.SyncBuffer
	stop        func() int // cancels the command and returns its exit code
}

// startServe runs "balise serve --addr 127.0.0.1:0 args…" (args give
// --admin-addr: "" or 127.0.0.1:0) and waits for its listening lines. The
// command is stopped when the test ends if stop was not called before.
func startServe(t *testing.T, getenv func(string) string, args ...string) *servedCmd {
	t.Helper()
	s := &servedCmd{logs: &testutil.SyncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), Env{Stdout: s.logs, Stderr: s.logs, Getenv: getenv})
	}()
	var once sync.Once
	var code int
	s.stop = func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	t.Cleanup(func() { s.stop() })
	wantAdmin := true
	for i, a := range args {
		if a == "--admin-addr" && i+1 < len(args) && args[i+1] == "" {
			wantAdmin = false
		}
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		logs := s.logs.String()
		if m := listenLine.FindStringSubmatch(logs); m != nil {
			s.addr = m[1]
		}
		if m := adminLine.FindStringSubmatch(logs); m != nil {
			s.admin = m[1]
		}
		if s.addr != "" && (s.admin != "" || !wantAdmin) {
			return s
		}
	}
	t.Fatalf("no listening lines: %s", s.logs.String())
	return nil
}

func TestServeCommand(t *testing.T) {
	idx := banIndex(t)
	srv := startServe(t, func(k string) string {
		if k == "BALISE_COMMON_THRESHOLD" {
			return "200" // flags also come from the environment
		}
		return ""
	}, "--index", idx, "--admin-addr", "", "--flavour", "ban")
	addr, logs := srv.addr, srv.logs
	resp := testutil.Get(t, "http://"+addr+"/search?q=rue+des+sap&limit=3")
	var fc map[string]any
	json.Unmarshal(resp.Body, &fc)
	fs, _ := fc["features"].([]any)
	if resp.Status != 200 || len(fs) == 0 || !strings.Contains(string(resp.Body), "Rue des Sapins") {
		t.Errorf("%d %s", resp.Status, resp.Body) // G5 needs the lowered common threshold
	}
	if _, ok := fc["version"]; ok {
		t.Errorf("ban flavour answered with version")
	}
	if code := srv.stop(); code != 0 {
		t.Errorf("exit %d: %s", code, logs.String())
	}
	for _, want := range []string{`"msg":"index loaded"`, `"documents":1951`, `"common_threshold":200`, `"msg":"request"`, `"msg":"stopped"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no %s in logs", want)
		}
	}
}

// The observability and cache flags, end to end through the command.
func TestServeObservabilityFlags(t *testing.T) {
	idx := banIndex(t)
	srv := startServe(t, func(k string) string {
		if k == "BALISE_PUBLIC_METRICS" {
			return "false"
		}
		return ""
	}, "--index", idx, "--admin-addr", "127.0.0.1:0",
		"--cache-size", "1MiB", "--cache-ttl-exact", "1h", "--common-threshold", "200")
	addr, adminAddr, logs := srv.addr, srv.admin, srv.logs
	get := func(u string) (int, http.Header, string) {
		t.Helper()
		r := testutil.Get(t, u)
		return r.Status, r.Header, string(r.Body)
	}
	for _, want := range []string{"miss", "l1"} {
		if code, h, b := get("http://" + addr + "/search?q=rue+des+sapins"); code != 200 || h.Get("X-Cache") != want {
			t.Errorf("search: %d X-Cache %q, want %q: %s", code, h.Get("X-Cache"), want, b)
		}
	}
	if code, _, b := get("http://" + addr + "/health/ready"); code != 200 || !strings.Contains(b, `"status":"ready"`) {
		t.Errorf("ready: %d %s", code, b)
	}
	if code, _, _ := get("http://" + addr + "/metrics"); code != 404 {
		t.Errorf("public /metrics with BALISE_PUBLIC_METRICS=false: %d", code)
	}
	if code, _, _ := get("http://" + addr + "/debug/pprof/"); code != 404 {
		t.Errorf("public pprof: %d", code)
	}
	code, _, b := get("http://" + adminAddr + "/metrics")
	if code != 200 || !strings.Contains(b, "balise_index_info{version=") || !strings.Contains(b, `balise_cache_hits_total{tier="l1"} 1`) ||
		!strings.Contains(b, `balise_cache_max_bytes 1.048576e+06`) {
		t.Errorf("admin /metrics: %d\n%s", code, b)
	}
	if code, _, _ := get("http://" + adminAddr + "/debug/pprof/"); code != 200 {
		t.Errorf("admin pprof: %d", code)
	}
	if code := srv.stop(); code != 0 {
		t.Errorf("exit %d: %s", code, logs.String())
	}
	out := logs.String()
	for _, want := range []string{`"route":"/search"`, `"cache":"l1"`, `"results":`, `"request_id":`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in logs:\n%s", want, out)
		}
	}
	if strings.Contains(out, "sapins") {
		t.Errorf("query text logged without --log-queries:\n%s", out)
	}
}

func TestRedisURLOf(t *testing.T) {
	for in, want := range map[string]struct {
		url     string
		cluster bool
	}{
		"":                                 {"", false},
		"redis://h:6379/0":                 {"redis://h:6379/0", false},
		"h:6379":                           {"redis://h:6379", false},
		"a:1,b:2,c:3":                      {"redis://a:1?addr=b:2&addr=c:3", true},
		"redis://u:p@a:1, redis://u:p@b:2": {"redis://u:p@a:1?addr=b:2", true},
	} {
		u, c := redisURLOf(in)
		if u != want.url || c != want.cluster {
			t.Errorf("%q: %q %v, want %q %v", in, u, c, want.url, want.cluster)
		}
	}
}

func TestServeBadFlags(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{{"serve", "--flavour", "x"}, {"serve", "--log-format", "xml"}, {"serve", "--access-log-sample", "2"}, {"serve", "--cache-size", "-1"}, {"serve", "--max-upload-size", "lots"}, {"serve", "extra"}} {
		out.Reset()
		if code := Run(context.Background(), args, Env{Stdout: &out, Stderr: &out}); code != 2 {
			t.Errorf("%v: exit %d %s", args, code, out.String())
		}
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{"50MB": 50e6, "64KiB": 65536, "1048576": 1 << 20, "1.5G": 3 << 29, "10 mb": 10e6} {
		var b byteSize
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("%s: %d %v", in, b, err)
		}
	}
}
