package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"balise/internal/testutil"
)

// A served index replaced by balise import and reloaded on SIGHUP, then
// reloaded again (unchanged) through the admin endpoint.
func TestServeReloadsOnHangup(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "live.balise")
	data, err := os.ReadFile(banIndex(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(live, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// The next generation: three streets.
	next := filepath.Join(dir, "next.ndjson")
	lines := testutil.NDJSON(testutil.Doc{"name": "rue des lilas"}, testutil.Doc{"name": "rue des roses"}, testutil.Doc{"name": "allée des iris"})
	if err := os.WriteFile(next, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	srv := startServe(t, nil, "--index", live, "--admin-addr", "127.0.0.1:0",
		"--common-threshold", "200", "--access-log=false")
	defer func() {
		if code := srv.stop(); code != 0 {
			t.Errorf("exit %d: %s", code, srv.logs.String())
		}
	}()
	addr, admin, logs := srv.addr, srv.admin, srv.logs
	documents := func() float64 {
		var rep struct {
			Checks struct {
				Index struct {
					Documents float64 `json:"documents"`
				} `json:"index"`
			} `json:"checks"`
		}
		r := testutil.Get(t, "http://"+admin+"/health/ready")
		if err := json.Unmarshal(r.Body, &rep); err != nil {
			t.Fatalf("%s: %v", r.Body, err)
		}
		return rep.Checks.Index.Documents
	}
	if n := documents(); n != 1951 {
		t.Fatalf("%v documents before the reload", n)
	}

	var out strings.Builder
	if code := Run(context.Background(), []string{"import", "--quiet", "-o", live, next}, Env{Stdout: &out, Stderr: &out}); code != 0 {
		t.Fatalf("import: %d %s", code, out.String())
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), `"msg":"index reloaded"`); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no reload after SIGHUP: %s", logs.String())
		}
	}
	if n := documents(); n != 3 {
		t.Errorf("%v documents after the reload, want 3", n)
	}
	if r := testutil.Get(t, "http://"+addr+"/search?q=rue+des+roses&limit=1"); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"label":"rue des roses"`) {
		t.Errorf("search after the reload: %d %s", r.Status, r.Body)
	}

	resp, err := http.Post("http://"+admin+"/admin/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Result string `json:"result"`
	}
	json.NewDecoder(resp.Body).Decode(&rep)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || rep.Result != "unchanged" {
		t.Errorf("POST /admin/reload: %d %q", resp.StatusCode, rep.Result)
	}
}

// A SIGHUP that comes while the server drains (a configuration reload
// racing a rollout) is dropped: the process is not killed by it, the drain
// runs to its end and serve exits 0.
func TestServeSurvivesHangupWhileDraining(t *testing.T) {
	srv := startServe(t, nil, "--index", banIndex(t), "--admin-addr", "", "--shutdown-delay", "1s", "--access-log=false")
	exited := make(chan int, 1)
	go func() { exited <- srv.stop() }()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(srv.logs.String(), "shutting down"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no drain: %s", srv.logs.String())
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if code := <-exited; code != 0 {
		t.Errorf("exit %d: %s", code, srv.logs.String())
	}
	if !strings.Contains(srv.logs.String(), `"msg":"stopped"`) {
		t.Errorf("no clean stop: %s", srv.logs.String())
	}
}
