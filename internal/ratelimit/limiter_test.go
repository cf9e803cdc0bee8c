package ratelimit

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"
)

// clock is a test clock moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// addrClient is the client of an IPv4 address, as Identify makes it.
func addrClient(s string) Client {
	return clientFromAddr(netip.MustParseAddr(s), DefaultIPv6PrefixBits, ViaPeer)
}

func TestAllowBurstThenRate(t *testing.T) {
	clk := newClock()
	l := newTestLimiter(t, Config{Budgets: Budgets{Interactive: Rate{PerSecond: 50, Burst: 50}}, Now: clk.Now})
	c := addrClient("203.0.113.7")
	ctx := t.Context()
	for i := range 50 {
		d := l.Allow(ctx, c, Interactive, 1)
		if !d.Allowed || d.Remaining != 49-i || d.Source != SourceLocal {
			t.Fatalf("request %d of the burst; got %+v", i, d)
		}
	}
	d := l.Allow(ctx, c, Interactive, 1)
	if d.Allowed || d.TooLarge || d.RetryAfter != 20*time.Millisecond || d.Remaining != 0 || d.ResetAfter != time.Second {
		t.Fatalf("beyond the burst; got %+v; want refused, retry in 20ms, full in 1s", d)
	}
	// Another client and the other class are untouched.
	if d := l.Allow(ctx, addrClient("203.0.113.8"), Interactive, 1); !d.Allowed {
		t.Errorf("another client refused: %+v", d)
	}
	if d := l.Allow(ctx, c, Batch, 1000); !d.Allowed || d.Source != SourceUnlimited {
		t.Errorf("unlimited batch class; got %+v", d)
	}

	// Over 10 s of simulated time at 1 ms steps, 50/s are granted:
	// 500 ± one unit.
	granted := 0
	for range 10_000 {
		clk.Advance(time.Millisecond)
		if l.Allow(ctx, c, Interactive, 1).Allowed {
			granted++
		}
	}
	if granted < 499 || granted > 501 {
		t.Errorf("granted over 10 s at 50/s; got %d; want 500±1", granted)
	}

	// Idle for a second: the whole burst is back, not more.
	clk.Advance(time.Hour)
	if d := l.Allow(ctx, c, Interactive, 0); !d.Allowed || d.Remaining != 50 || d.ResetAfter != 0 {
		t.Errorf("after idling; got %+v; want the whole burst", d)
	}
}

func TestAllowCostAndTooLarge(t *testing.T) {
	clk := newClock()
	l := newTestLimiter(t, Config{Budgets: Budgets{Batch: Rate{PerSecond: 100, Burst: 1000}}, Now: clk.Now})
	c := addrClient("203.0.113.7")
	ctx := t.Context()
	if d := l.Allow(ctx, c, Batch, 600); !d.Allowed || d.Remaining != 400 || d.Cost != 600 {
		t.Fatalf("600 of 1000; got %+v", d)
	}
	d := l.Allow(ctx, c, Batch, 500)
	if d.Allowed || d.TooLarge || d.Remaining != 400 || d.RetryAfter != time.Second {
		t.Fatalf("500 with 400 left; got %+v; want refused, 400 left, retry in 1s", d)
	}
	d = l.Allow(ctx, c, Batch, 1001)
	if d.Allowed || !d.TooLarge || d.RetryAfter != 0 || d.Remaining != 400 || d.Cost != 1001 {
		t.Fatalf("1001 > burst; got %+v; want TooLarge, nothing taken", d)
	}
	if d.Reason() == "" || d.Reason() == l.Allow(ctx, c, Batch, 500).Reason() {
		t.Errorf("TooLarge must be explained distinctly; got %q", d.Reason())
	}
	clk.Advance(time.Second)
	if d := l.Allow(ctx, c, Batch, 500); !d.Allowed || d.Remaining != 0 {
		t.Errorf("500 after a second; got %+v", d)
	}
	if d := l.Allow(ctx, c, Batch, -5); !d.Allowed || d.Cost != 0 {
		t.Errorf("negative cost; got %+v; want a read", d)
	}
}

func TestFractionalRate(t *testing.T) {
	clk := newClock()
	l := newTestLimiter(t, Config{Budgets: Budgets{Interactive: Rate{PerSecond: 0.5}}, Now: clk.Now})
	c := addrClient("203.0.113.7")
	if d := l.Allow(t.Context(), c, Interactive, 1); !d.Allowed || d.Policy != (Rate{0.5, 1}) {
		t.Fatalf("first; got %+v; want allowed, burst 1", d)
	}
	if d := l.Allow(t.Context(), c, Interactive, 1); d.Allowed || d.RetryAfter != 2*time.Second {
		t.Fatalf("second; got %+v; want retry in 2s", d)
	}
	clk.Advance(2 * time.Second)
	if d := l.Allow(t.Context(), c, Interactive, 1); !d.Allowed {
		t.Fatalf("after 2s; got %+v", d)
	}
}

func TestRateValidate(t *testing.T) {
	for _, r := range []Rate{{-1, 0}, {2e9, 0}, {1, -1}, {1, maxBurst + 1}, {1e-8, 0}, {0.001, 1e9}} {
		if _, err := New(Config{Budgets: Budgets{Interactive: r}}, nil); err == nil {
			t.Errorf("budget %+v accepted", r)
		}
	}
	if _, err := New(Config{MaxEntries: -1}, nil); err == nil {
		t.Error("MaxEntries -1 accepted")
	}
	if (Rate{PerSecond: 2.5}).normalized().Burst != 3 || (Rate{PerSecond: 0.1}).normalized().Burst != 1 {
		t.Error("default burst is not max(1, ceil(rate))")
	}
}

// TestAllowConcurrent hammers one budget from many goroutines with the
// clock stopped: exactly the burst is granted, whatever the interleaving.
func TestAllowConcurrent(t *testing.T) {
	clk := newClock()
	l := newTestLimiter(t, Config{Budgets: Budgets{Interactive: Rate{PerSecond: 10, Burst: 300}}, Now: clk.Now, MaxEntries: 64})
	var granted atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				if l.Allow(context.Background(), addrClient("203.0.113.7"), Interactive, 1).Allowed {
					granted.Add(1)
				}
				// Other clients come and go in the same shards.
				l.Allow(context.Background(), addrClient(fmt.Sprintf("198.51.%d.%d", g, i)), Interactive, 1)
			}
		})
	}
	wg.Wait()
	if granted.Load() != 300 {
		t.Errorf("granted concurrently; got %d; want exactly the burst, 300", granted.Load())
	}
}

func TestTableBoundAndOverflow(t *testing.T) {
	clk := newClock()
	reg := prometheus.NewRegistry()
	l, err := New(Config{
		Budgets:    Budgets{Interactive: Rate{PerSecond: 1, Burst: 5}},
		Overflow:   Budgets{Interactive: Rate{PerSecond: 1, Burst: 3}},
		MaxEntries: 100, SweepInterval: -1, Now: clk.Now,
	}, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := t.Context()
	for i := range 100 {
		if d := l.Allow(ctx, addrClient(fmt.Sprintf("10.0.0.%d", i)), Interactive, 1); d.Source != SourceLocal {
			t.Fatalf("client %d; got source %s; want local", i, d.Source)
		}
	}
	if l.TableSize() != 100 {
		t.Fatalf("table size; got %d; want 100", l.TableSize())
	}
	// Full of active clients: newcomers share the overflow budget of 3.
	var sources []Source
	for i := range 4 {
		d := l.Allow(ctx, addrClient(fmt.Sprintf("10.0.1.%d", i)), Interactive, 1)
		sources = append(sources, d.Source)
		if want := i < 3; d.Allowed != want {
			t.Errorf("overflow client %d; got allowed %v; want %v", i, d.Allowed, want)
		}
	}
	if l.TableSize() != 100 {
		t.Errorf("table size after overflow; got %d; want 100", l.TableSize())
	}
	if n := promtest.ToFloat64(l.m.decisions[Interactive][resultAllowed][SourceOverflow]); n != 3 {
		t.Errorf("overflow decisions counted; got %v; want 3 (sources %v)", n, sources)
	}
	// Known clients keep their own budgets meanwhile.
	if d := l.Allow(ctx, addrClient("10.0.0.1"), Interactive, 1); !d.Allowed || d.Source != SourceLocal || d.Remaining != 3 {
		t.Errorf("known client during overflow; got %+v", d)
	}

	// Once their budgets are full again, entries make way for new clients
	// as they come (insertions look at a sample), and the sweep drops the
	// rest.
	clk.Advance(10 * time.Second)
	if d := l.Allow(ctx, addrClient("10.0.2.1"), Interactive, 1); d.Source != SourceLocal {
		t.Errorf("new client once the others are idle; got source %s", d.Source)
	}
	l.sweep()
	if l.TableSize() != 1 {
		t.Errorf("table size after the sweep; got %d; want 1 (the newest client)", l.TableSize())
	}
	if got := promtest.ToFloat64(l.m.evictions); got != 100 {
		t.Errorf("evictions; got %v; want 100", got)
	}
	if n, err := promtest.GatherAndCount(reg, "balise_ratelimit_table_entries", "balise_ratelimit_table_capacity"); err != nil || n != 2 {
		t.Errorf("table gauges; got %d, %v", n, err)
	}
}

func TestSweeperRuns(t *testing.T) {
	l := newTestLimiter(t, Config{Budgets: Budgets{Interactive: Rate{PerSecond: 1000, Burst: 1000}}, SweepInterval: 5 * time.Millisecond})
	for i := range 50 {
		l.Allow(t.Context(), addrClient(fmt.Sprintf("10.0.0.%d", i)), Interactive, 1)
	}
	deadline := time.Now().Add(10 * time.Second)
	for l.TableSize() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("table size; got %d; want 0 once the budgets are full and the sweeper ran", l.TableSize())
		}
		time.Sleep(5 * time.Millisecond)
	}
	l.Close()
	l.Close() // idempotent
}

func TestUnknownClassIsInteractive(t *testing.T) {
	l := newTestLimiter(t, Config{Budgets: Budgets{Interactive: Rate{PerSecond: 1, Burst: 1}}})
	if d := l.Allow(t.Context(), Client{}, Class(7), 1); d.Class != Interactive || d.Policy.Burst != 1 {
		t.Errorf("unknown class; got %+v", d)
	}
}

func TestMetricsCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	l, err := New(Config{Budgets: Budgets{Batch: Rate{PerSecond: 10, Burst: 10}}}, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, _ := l.Identify(request("203.0.113.7:1"))
	l.Allow(t.Context(), c, Batch, 8)
	l.Allow(t.Context(), c, Batch, 8)
	l.Allow(t.Context(), c, Batch, 11)
	for series, want := range map[prometheus.Counter]float64{
		l.m.decisions[Batch][resultAllowed][SourceLocal]:  1,
		l.m.decisions[Batch][resultLimited][SourceLocal]:  1,
		l.m.decisions[Batch][resultTooLarge][SourceLocal]: 1,
		l.m.units[Batch][resultAllowed]:                   8,
		l.m.units[Batch][resultTooLarge]:                  11,
		l.m.identified[ViaPeer]:                           1,
	} {
		if got := promtest.ToFloat64(series); got != want {
			t.Errorf("%s; got %v; want %v", series.Desc(), got, want)
		}
	}
	// A second limiter on the same registry is refused, not silently
	// uncounted.
	if _, err := New(Config{}, reg); err == nil {
		t.Error("second registration accepted")
	}
}
