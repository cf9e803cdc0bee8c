package server

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"balise/internal/index"
)

// loadUntil sends searches from a few clients until stop is closed and
// counts the answers by status; any other outcome (a connection error, a
// cut answer) is recorded in failures.
type loadResult struct {
	ok, unavailable atomic.Int64
	mu              sync.Mutex
	failures        []string
}

func (l *loadResult) fail(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.failures) < 10 {
		l.failures = append(l.failures, s)
	}
}

func loadUntil(url string, stop <-chan struct{}, clients int) (*loadResult, func()) {
	res := &loadResult{}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			client := &http.Client{Timeout: 5 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				// Different numbers touch different records, spread
				// over the file's pages.
				resp, err := client.Get(url + "/search?limit=3&q=rue+gen+" + strconv.Itoa(rng.IntN(3000)))
				if err != nil {
					res.fail(err.Error())
					continue
				}
				_, err = readAll(resp)
				switch {
				case err != nil:
					res.fail("body: " + err.Error())
				case resp.StatusCode == http.StatusOK:
					res.ok.Add(1)
				case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
					res.unavailable.Add(1)
				default:
					res.fail("status " + resp.Status)
				}
			}
		}()
	}
	return res, wg.Wait
}

func readAll(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// waitFor polls cond every 10 ms for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An index file truncated in place while it is served (what SIGBUS would
// turn into a dead process) makes requests answer 503 with Retry-After,
// never crash or cut; the watch then reloads the path, and a good file
// published by rename serves again.
func TestTruncatedIndexIsNeverFatal(t *testing.T) {
	testChangedInPlace(t, func(path string) error {
		return os.Truncate(path, 4096)
	})
}

// An index file overwritten in place with garbage (same size) is caught
// by the watch: 503s instead of wrong answers, until a good file serves.
func TestIndexOverwrittenInPlaceIsRefused(t *testing.T) {
	testChangedInPlace(t, func(path string) error {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		garbage := make([]byte, fi.Size()-4096)
		for i := range garbage {
			garbage[i] = byte(i * 7)
		}
		_, err = f.WriteAt(garbage, 4096)
		return err
	})
}

func testChangedInPlace(t *testing.T, damage func(path string) error) {
	dir := t.TempDir()
	path := filepath.Join(dir, "served.balise")
	writeStreetIndex(t, path, "gen", 3000)
	rig := newReloadRig(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go rig.srv.WatchIndex(ctx, 20*time.Millisecond)

	stop := make(chan struct{})
	res, wait := loadUntil(rig.url, stop, 4)
	waitFor(t, "answers before the damage", func() bool { return res.ok.Load() > 20 })
	if err := damage(path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the index reported unavailable", func() bool { return rig.srv.IndexHealth() != nil })
	waitFor(t, "503 answers", func() bool { return res.unavailable.Load() > 5 })
	if !errors.Is(rig.srv.IndexHealth(), index.ErrUnavailable) {
		t.Fatalf("IndexHealth = %v, want ErrUnavailable", rig.srv.IndexHealth())
	}
	// The watch publishes the gauge on its next check.
	waitFor(t, "balise_index_unavailable = 1", func() bool { return gaugeValue(t, rig.url, "balise_index_unavailable") == 1 })
	okBefore := res.ok.Load()

	// A good file published the documented way ends the outage.
	writeStreetIndex(t, filepath.Join(dir, "next.balise"), "next", 3000)
	if err := os.Rename(filepath.Join(dir, "next.balise"), path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the good file served", func() bool { return rig.srv.IndexHealth() == nil && res.ok.Load() > okBefore+20 })
	close(stop)
	wait()
	if len(res.failures) > 0 {
		t.Fatalf("requests failed instead of answering 200 or 503: %v", res.failures)
	}
	if label, err := rig.firstLabel(http.DefaultClient); err != nil || !strings.HasPrefix(label, "rue next") {
		t.Fatalf("after the reload: %q, %v", label, err)
	}
	waitFor(t, "balise_index_unavailable = 0", func() bool { return gaugeValue(t, rig.url, "balise_index_unavailable") == 0 })
	t.Logf("answers: %d ok, %d unavailable", res.ok.Load(), res.unavailable.Load())
}

func gaugeValue(t *testing.T, url, name string) float64 {
	t.Helper()
	mf := scrape(t, url)[name]
	if mf == nil || len(mf.Metric) == 0 {
		t.Fatalf("metric %s not exported", name)
	}
	return mf.Metric[0].GetGauge().GetValue()
}
