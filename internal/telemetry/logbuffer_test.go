package telemetry

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Lines written to a real file through the buffer arrive whole, in order,
// within about one interval, batched (far fewer writes than lines), and
// all of them by Close; lines after Close are written directly.
func TestLogBufferBatchesInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cw := &countingWriter{w: f}
	b := newLogBuffer(cw, 20*time.Millisecond)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				fmt.Fprintf(b, "{\"g\":%d,\"i\":%d}\n", g, i)
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(2 * time.Second)
	for lines(t, path) < 8000 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := lines(t, path); n != 8000 {
		t.Fatalf("%d lines in the file after 2 s, want 8000 (flushed without Close)", n)
	}
	b.Close()
	fmt.Fprintf(b, "after close\n")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	last := map[int]int{0: -1, 1: -1, 2: -1, 3: -1}
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "after close\n"), "\n") {
		if l == "" {
			continue
		}
		var g, i int
		if _, err := fmt.Sscanf(l, "{\"g\":%d,\"i\":%d}", &g, &i); err != nil {
			t.Fatalf("torn line %q", l)
		}
		if i != last[g]+1 {
			t.Fatalf("goroutine %d: line %d after %d", g, i, last[g])
		}
		last[g] = i
	}
	if !bytes.HasSuffix(data, []byte("after close\n")) {
		t.Errorf("the line written after Close is missing")
	}
	if w := cw.writes(); w > 400 {
		t.Errorf("%d writes for 8,001 lines: not batched", w)
	}
}

// A stuck output fills the buffer up to its cap; later lines are dropped
// and counted, and the writers never block.
func TestLogBufferDropsWhenTheOutputIsStuck(t *testing.T) {
	stuck := &blockingWriter{release: make(chan struct{})}
	b := newLogBuffer(stuck, time.Millisecond)
	line := []byte(strings.Repeat("x", 1023) + "\n")
	done := make(chan struct{})
	go func() {
		for range 3 * logMaxBuffered / len(line) {
			b.Write(line)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("writers blocked behind a stuck output")
	}
	if d := b.Dropped(); d == 0 {
		t.Fatal("no line counted as dropped")
	}
	close(stuck.release)
	b.Close()
}

type countingWriter struct {
	mu sync.Mutex
	w  *os.File
	n  int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.w.Write(p)
}

func (c *countingWriter) writes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

type blockingWriter struct{ release chan struct{} }

func (b *blockingWriter) Write(p []byte) (int, error) {
	<-b.release
	return len(p), nil
}

func lines(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(data, []byte("\n"))
}
