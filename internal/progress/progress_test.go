package progress

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is an injected clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestPlainOutput(t *testing.T) {
	clk := newClock()
	var out bytes.Buffer
	b := NewWithOptions(&out, "import", 27_100_000, "B", Options{Mode: Plain, Now: clk.Now})

	clk.Advance(time.Second)
	b.Add(5_000_000) // before the first 5 s: nothing
	if out.Len() != 0 {
		t.Fatalf("early output %q", out.String())
	}
	clk.Advance(1400 * time.Millisecond)
	b.Add(7_300_000)
	clk.Advance(time.Second)
	b.Add(0)
	if out.Len() != 0 {
		t.Fatalf("early output %q", out.String())
	}
	// t = 5 s, 12.3 MB done: 2.46 MB/s, 14.8 MB left: eta 6 s
	clk.Advance(1600 * time.Millisecond)
	b.Add(0)
	want := "import: 45% 12.3 MB/27.1 MB 2.5 MB/s eta 6s\n"
	if out.String() != want {
		t.Fatalf("got  %q\nwant %q", out.String(), want)
	}
	// no new line before another 5 s
	clk.Advance(4 * time.Second)
	b.Add(1)
	if out.String() != want {
		t.Fatalf("redrawn too early: %q", out.String())
	}
	clk.Advance(time.Second)
	b.Set(27_100_000)
	b.Finish()
	b.Finish() // idempotent
	b.Add(5)   // after Finish: no output
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	wantLines := []string{
		"import: 45% 12.3 MB/27.1 MB 2.5 MB/s eta 6s",
		"import: 100% 27.1 MB/27.1 MB 2.7 MB/s eta 0s",
		"import: 100% 27.1 MB/27.1 MB in 10.0s (2.7 MB/s)",
	}
	if strings.Join(lines, "\n") != strings.Join(wantLines, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(wantLines, "\n"))
	}
}

func TestPlainUnknownTotalAndCounts(t *testing.T) {
	clk := newClock()
	var out bytes.Buffer
	b := NewWithOptions(&out, "geocode", 0, "rows", Options{Mode: Plain, Interval: 2 * time.Second, Now: clk.Now})
	clk.Advance(2 * time.Second)
	b.Add(45_200)
	b.SetTotal(100_000)
	clk.Advance(2 * time.Second)
	b.Add(4_800)
	clk.Advance(90 * time.Second)
	b.Finish()
	want := "geocode: 45.2k rows 22.6k rows/s\n" +
		"geocode: 50% 50.0k/100.0k rows 12.5k rows/s eta 4s\n" +
		"geocode: 50% 50.0k/100.0k rows in 1m34s (531 rows/s)\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestStatsRateAndETA(t *testing.T) {
	clk := newClock()
	b := NewWithOptions(&bytes.Buffer{}, "x", 1000, "", Options{Mode: Plain, Now: clk.Now})
	s := b.Snapshot()
	if s.Rate != 0 || s.ETA != -1 || s.Percent != 0 {
		t.Errorf("at start: %+v", s)
	}
	clk.Advance(4 * time.Second)
	b.Add(250)
	s = b.Snapshot()
	if s.Rate != 62.5 || s.ETA != 12*time.Second || s.Percent != 25 || s.Elapsed != 4*time.Second {
		t.Errorf("after 4 s: %+v", s)
	}
	b.Set(1500) // beyond the total
	s = b.Snapshot()
	if s.Percent != 100 || s.ETA != 0 {
		t.Errorf("beyond total: %+v", s)
	}
	b.SetTotal(0)
	if s = b.Snapshot(); s.Percent != -1 || s.ETA != -1 {
		t.Errorf("unknown total: %+v", s)
	}
}

func TestTTYRedrawRate(t *testing.T) {
	clk := newClock()
	var out bytes.Buffer
	b := NewWithOptions(&out, "import", 1000, "B", Options{Mode: TTY, Now: clk.Now})
	draws := func() int { return strings.Count(out.String(), "\r") }
	// 1000 adds over 1 s, every ms: at most 10 redraws (+ the first one)
	for i := 0; i < 1000; i++ {
		clk.Advance(time.Millisecond)
		b.Add(1)
	}
	if n := draws(); n < 10 || n > 11 {
		t.Errorf("%d redraws in 1 s", n)
	}
	b.Finish()
	s := out.String()
	if !strings.HasSuffix(s, "\n") || strings.Count(s, "\n") != 1 {
		t.Errorf("final newline: %q", s)
	}
	last := s[strings.LastIndex(s, "\r")+1:]
	want := "import [========================] 100% 1.0 kB/1.0 kB in 1.0s (1.0 kB/s)\n"
	if strings.TrimRight(last, " \n")+"\n" != want {
		t.Errorf("last frame %q, want %q", last, want)
	}
	if !strings.Contains(s, "\rimport [============>           ]  50%") && !strings.Contains(s, "\rimport [============>           ] 50%") {
		t.Errorf("no half-way frame in %q", s)
	}
}

func TestConcurrentAdd(t *testing.T) {
	var out bytes.Buffer
	b := NewWithOptions(&lockedWriter{w: &out}, "x", 0, "", Options{Mode: TTY, Interval: time.Microsecond})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10000; i++ {
				b.Add(1)
			}
		}()
	}
	wg.Wait()
	b.Finish()
	if b.Done() != 80000 {
		t.Errorf("done = %d", b.Done())
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestAutoModeNonTerminal(t *testing.T) {
	if IsTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is not a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is not a terminal")
	}
	b := New(f, "x", 10, "B")
	if b.tty || b.interval != 5*time.Second {
		t.Errorf("auto mode on a file: tty=%v interval=%v", b.tty, b.interval)
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{FormatBytes(0), "0 B"},
		{FormatBytes(999), "999 B"},
		{FormatBytes(1000), "1.0 kB"},
		{FormatBytes(12_345_678), "12.3 MB"},
		{FormatBytes(999_960), "1.0 MB"},
		{FormatBytes(1.3e9), "1.3 GB"},
		{FormatCount(950), "950"},
		{FormatCount(9999), "9999"},
		{FormatCount(12_345), "12.3k"},
		{FormatCount(4_500_000), "4.5M"},
		{FormatDuration(0), "0s"},
		{FormatDuration(400 * time.Millisecond), "0s"},
		{FormatDuration(2600 * time.Millisecond), "3s"},
		{FormatDuration(59 * time.Second), "59s"},
		{FormatDuration(59700 * time.Millisecond), "1m00s"},
		{FormatDuration(245 * time.Second), "4m05s"},
		{FormatDuration(62 * time.Minute), "1h02m"},
		{FormatDuration(-1), "?"},
		{formatElapsed(5300 * time.Millisecond), "5.3s"},
		{formatElapsed(90 * time.Second), "1m30s"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
