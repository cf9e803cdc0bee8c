package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"balise/internal/index"
	"balise/internal/search"
	"balise/internal/telemetry"
	"balise/internal/testutil"
	"balise/internal/text"
)

// writeStreetIndex builds, at path (through a temporary name and a
// rename, as balise import publishes a file), an index of n streets named
// "rue <name> <i>".
func writeStreetIndex(t testing.TB, path, name string, n int) {
	t.Helper()
	lines := make([]string, n)
	for i := range n {
		lines[i] = fmt.Sprintf(`{"id":"d%d","type":"street","name":"rue %s %d","lat":44.%03d,"lon":4.%03d,"importance":0.5}`, i, name, i, i, i)
	}
	built := testutil.WriteIndex(t, index.BuildOptions{Text: text.Config{Profile: text.ProfileDefault}, Workers: 1}, lines...)
	if err := os.Rename(built, path); err != nil {
		t.Fatal(err)
	}
}

// reloadRig serves the index at path with a reload opener over the same
// path, on real loopback listeners (public and admin).
type reloadRig struct {
	srv   *Server
	url   string
	admin string
	tel   *telemetry.Telemetry
	path  string
	opens atomic.Int32
}

func newReloadRig(t *testing.T, path string) *reloadRig {
	t.Helper()
	r := &reloadRig{path: path}
	open := func(ctx context.Context) (Engines, error) {
		ix, err := index.Open(path, index.OpenOptions{Verify: true})
		if err != nil {
			return Engines{}, err
		}
		cfg := search.DefaultConfig()
		cfg.TimeBudget = 0 // the race detector is slow: no partial answers
		e, err := search.New(ix, cfg, text.Config{})
		if err != nil {
			ix.Close()
			return Engines{}, err
		}
		r.opens.Add(1)
		return Engines{Search: e, Close: ix.Close}, nil
	}
	first, err := open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tcfg := telemetry.DefaultConfig()
	tcfg.LogOutput = io.Discard
	tcfg.AccessLog = false
	tel, shutdownTel, err := telemetry.Setup(context.Background(), tcfg)
	if err != nil {
		t.Fatal(err)
	}
	r.tel = tel
	holder := NewHolder(first.Search, first.Close)
	cfg := DefaultConfig()
	cfg.Telemetry = tel
	cfg.Reload = open
	cfg.ShutdownTimeout = 5 * time.Second
	if r.srv, err = New(cfg, holder, tel.Logger); err != nil {
		t.Fatal(err)
	}
	var cancel func()
	var wait func() error
	r.url, r.admin, cancel, wait = serveOnLoopback(t, r.srv)
	t.Cleanup(func() {
		cancel()
		wait()
		holder.Close()
		shutdownTel(context.Background())
	})
	return r
}

// reload calls POST /admin/reload.
func (r *reloadRig) reload(t *testing.T) (int, ReloadReport) {
	t.Helper()
	resp, err := http.Post(r.admin+"/admin/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep ReloadReport
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, rep
}

// firstLabel is the label of /search?q=rue's first result.
func (r *reloadRig) firstLabel(c *http.Client) (string, error) {
	resp, err := c.Get(r.url + "/search?q=rue&limit=1")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var fc struct {
		Features []struct {
			Properties struct {
				Label string `json:"label"`
			} `json:"properties"`
		} `json:"features"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&fc); err != nil {
		return "", err
	}
	if len(fc.Features) != 1 {
		return "", fmt.Errorf("%d features", len(fc.Features))
	}
	return fc.Features[0].Properties.Label, nil
}

// Reloads under continuous load: every request answers 200 with a label
// of one of the generations, each reload is seen by the next request, an
// unchanged file is not swapped, and a corrupt file is refused while the
// served index keeps answering.
func TestReloadUnderLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "live.balise")
	writeStreetIndex(t, path, "gen0", 50)
	r := newReloadRig(t, path)

	var requests, failures atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 10 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				label, err := r.firstLabel(c)
				requests.Add(1)
				if err == nil && !strings.HasPrefix(label, "rue gen") {
					err = fmt.Errorf("label %q", label)
				}
				if err != nil {
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}

	const generations = 8
	for g := 1; g <= generations; g++ {
		writeStreetIndex(t, path, fmt.Sprintf("gen%d", g), 50+g)
		status, rep := r.reload(t)
		if status != http.StatusOK || rep.Result != ReloadSwapped || rep.Current == nil || rep.Current.Documents != int64(50+g) {
			t.Fatalf("generation %d: %d %+v", g, status, rep)
		}
		if rep.Previous == nil || rep.Previous.Version == rep.Current.Version {
			t.Fatalf("generation %d: previous %+v current %+v", g, rep.Previous, rep.Current)
		}
		label, err := r.firstLabel(http.DefaultClient)
		if err != nil || !strings.HasPrefix(label, fmt.Sprintf("rue gen%d ", g)) {
			t.Fatalf("after reload %d: %q %v", g, label, err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The same file again: nothing swapped.
	if status, rep := r.reload(t); status != http.StatusOK || rep.Result != ReloadUnchanged {
		t.Errorf("unchanged file: %d %+v", status, rep)
	}

	// A corrupt file (one byte flipped in the middle) is refused.
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), good...)
	bad[len(bad)/2] ^= 0xff
	if err := os.WriteFile(path+".bad", bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".bad", path); err != nil {
		t.Fatal(err)
	}
	status, rep := r.reload(t)
	if status != http.StatusInternalServerError || rep.Result != ReloadFailed || rep.Error == "" {
		t.Errorf("corrupt file: %d %+v", status, rep)
	}
	if label, err := r.firstLabel(http.DefaultClient); err != nil || !strings.HasPrefix(label, fmt.Sprintf("rue gen%d ", generations)) {
		t.Errorf("after a refused reload: %q %v", label, err)
	}

	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Errorf("%d of %d requests failed during reloads; first: %v", n, requests.Load(), firstFailure.Load())
	}
	t.Logf("%d requests during %d reloads, 0 failed", requests.Load(), generations+2)

	mf := scrape(t, r.url)
	for result, want := range map[string]float64{ReloadSwapped: generations, ReloadUnchanged: 1, ReloadFailed: 1} {
		if v := value(t, mf, "balise_index_reloads_total", "result", result); v != want {
			t.Errorf("balise_index_reloads_total{result=%q} = %v, want %v", result, v, want)
		}
	}
	if v := value(t, mf, "balise_index_documents"); v != 50+generations {
		t.Errorf("balise_index_documents = %v", v)
	}
}

// PollIndex notices a file renamed over the served one and reloads it.
func TestPollIndexReloadsAReplacedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "live.balise")
	writeStreetIndex(t, path, "old", 3)
	r := newReloadRig(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.srv.PollIndex(ctx, path, 10*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()

	time.Sleep(50 * time.Millisecond) // unchanged file: no reload
	if n := r.opens.Load(); n != 1 {
		t.Fatalf("%d opens before any change", n)
	}
	writeStreetIndex(t, path, "new", 4)
	deadline := time.Now().Add(10 * time.Second)
	for {
		label, err := r.firstLabel(http.DefaultClient)
		if err == nil && strings.HasPrefix(label, "rue new ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not reloaded: %q %v", label, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if n := r.opens.Load(); n != 2 {
		t.Errorf("%d opens, want 2 (one reload per change)", n)
	}
}

func TestReloadWithoutOpener(t *testing.T) {
	e, ix := testEngine(t, "rue un")
	s, err := New(DefaultConfig(), NewHolder(e, ix.Close), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reload(context.Background()); err != ErrNoReload {
		t.Errorf("Reload: %v", err)
	}
	req, _ := http.NewRequest("POST", "/admin/reload", nil)
	rec := httptest.NewRecorder()
	s.AdminHandler().ServeHTTP(rec, req)
	if rec.Code != http.StatusNotImplemented {
		t.Errorf("POST /admin/reload without an opener: %d", rec.Code)
	}
	// Never on the public listener.
	req, _ = http.NewRequest("POST", "/admin/reload", nil)
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code == http.StatusOK || rec.Code == http.StatusNotImplemented {
		t.Errorf("POST /admin/reload on the public handler: %d", rec.Code)
	}
}
