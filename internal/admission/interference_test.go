package admission

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var interferenceFor = flag.Duration("interference.for", time.Second, "length of each phase of TestBatchInterference")

// interactiveLoad offers rate requests per second for d, open loop, in
// process (no HTTP: the load generator must not take the cores it
// measures), each burning work rounds once admitted. It returns the
// latencies from each request's arrival to its end, and the
// refusals.
func interactiveLoad(c *Controller, rate int, d time.Duration, work int) (*durations, int64) {
	var lat durations
	var refused atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	total := int(float64(rate) * d.Seconds())
	ticker := time.NewTicker(time.Millisecond)
	defer ticker.Stop()
	for sent := 0; sent < total; {
		due := min(total, int(time.Since(start).Seconds()*float64(rate)))
		for ; sent < due; sent++ {
			// Timed from the dispatch rather than the schedule: the
			// generator is open loop, and a millisecond ticker would
			// add its own granularity to every figure.
			arrival := time.Now()
			wg.Go(func() {
				release, err := c.AcquireInteractive(context.Background())
				if err != nil {
					refused.Add(1)
					return
				}
				burn(work)
				release()
				lat.add(time.Since(arrival))
			})
		}
		<-ticker.C
	}
	wg.Wait()
	return &lat, refused.Load()
}

// batchLoad runs jobs batch jobs of GOMAXPROCS workers each (as the CSV
// job does), every worker geocoding units of unitWork rounds until ctx
// ends, through batch slots when slots is true and unbounded otherwise.
// It returns the count of units done so far and a wait for the workers.
func batchLoad(ctx context.Context, c *Controller, jobs, unitWork int, slots bool) (*atomic.Int64, func()) {
	var units atomic.Int64
	var wg sync.WaitGroup
	for range jobs * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for ctx.Err() == nil {
				if slots {
					release, err := c.AcquireBatchSlot(ctx)
					if err != nil {
						return
					}
					burn(unitWork)
					release()
				} else {
					burn(unitWork)
				}
				units.Add(1)
			}
		})
	}
	return &units, wg.Wait
}

// Four batch jobs running flat out beside an interactive load at half the
// cores: through batch slots they leave the interactive latency close to
// what it is alone; unbounded, as before balise had admission, they
// multiply it. The figures are logged. Other work on the machine only
// makes latencies worse, so the best of a few runs is the estimate, and
// only the comparison with unbounded jobs is asserted.
func TestBatchInterference(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	checkGoroutines(t)
	const jobs, requestCPU, rowCPU = 4, 200 * time.Microsecond, 50 * time.Microsecond
	rate := int(float64(runtime.GOMAXPROCS(0)) / 2 / requestCPU.Seconds()) // half the cores
	work, row := calibrate(requestCPU), calibrate(rowCPU)

	phase := func(name string, rows int, slots bool) time.Duration {
		c, err := New(Config{NoRunQueueShedding: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var units *atomic.Int64
		wait := func() {}
		if rows > 0 {
			units, wait = batchLoad(ctx, c, jobs, rows*row, slots)
		}
		lat, refused := interactiveLoad(c, rate, *interferenceFor, work)
		cancel()
		wait()
		q, _, n := lat.summary(0)
		var done int64
		if units != nil {
			done = units.Load() * int64(rows)
		}
		t.Logf("%-33s interactive %d req/s: p50 %8v p99 %8v (%d served, %d refused); batch %6.0f rows/s (%d overdue grants)",
			name, rate, q(.5).Round(time.Microsecond), q(.99).Round(time.Microsecond), n, refused,
			float64(done)/interferenceFor.Seconds(), c.Stats().BatchSlots.GrantedOverdue)
		return q(.99)
	}
	best := func(runs int, name string, rows int, slots bool) time.Duration {
		p := phase(name, rows, slots)
		for range runs - 1 {
			p = min(p, phase(name, rows, slots))
		}
		return p
	}
	alone := best(2, "alone", 0, false)
	withSlots := best(2, "4 jobs, slots, 8-row units", 8, true)
	for _, rows := range *interferenceRows {
		phase(fmt.Sprintf("4 jobs, slots, %d-row units", rows), rows, true)
	}
	unbounded := phase("4 jobs unbounded, 8-row units", 8, false)
	t.Logf("interactive p99 with 4 batch jobs: %.1f× alone through slots, %.1f× unbounded",
		float64(withSlots)/float64(alone), float64(unbounded)/float64(alone))
	if withSlots >= unbounded {
		t.Errorf("interactive p99 %v with batch slots, %v with unbounded batch work: the slots do not protect it", withSlots, unbounded)
	}
}

// interferenceRows lists more unit sizes for TestBatchInterference to
// report (-interference.rows 32,256).
var interferenceRows = &intList{}

func init() {
	flag.Var(interferenceRows, "interference.rows", "more CSV rows per unit of batch work for TestBatchInterference to report, comma-separated")
}

type intList []int

func (l *intList) String() string { return fmt.Sprint(*l) }

func (l *intList) Set(s string) error {
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return fmt.Errorf("not a positive row count: %q", f)
		}
		*l = append(*l, n)
	}
	return nil
}
