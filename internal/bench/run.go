package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry: microseconds from 1 µs to 10 min at 3 significant
// digits (about 150 KB each); per-kind histograms use 2 digits (20 KB),
// since they are many and only summarised.
const (
	histMin      = 1
	histMax      = int64(10 * time.Minute / time.Microsecond)
	histDigits   = 3
	kindDigits   = 2
	maxKinds     = 64   // further kinds are reported as "other"
	maxTicks     = 3600 // timeline points before it is coarsened
	lateAfter    = 5 * time.Millisecond
	defaultGrace = 5 * time.Second
	// DefaultClosedConcurrency keeps a 2-core server busy without
	// queueing much in front of it.
	DefaultClosedConcurrency = 4
	// DefaultOpenConcurrency bounds requests in flight in open loop.
	DefaultOpenConcurrency = 64
)

// Config describes one run.
type Config struct {
	Target   Target
	Requests []Request
	Sampler  *Sampler // nil: the list in turn
	// Rate, in requests per second, makes the run open-loop; 0 is
	// closed-loop.
	Rate float64
	// Concurrency is the number of workers: in closed loop the requests in
	// flight, in open loop their upper bound. 0 picks the default.
	Concurrency int
	// Duration and MaxRequests stop the run, whichever comes first; at
	// least one must be set.
	Duration    time.Duration
	MaxRequests int64
	// Grace is how long requests in flight at the end of Duration may run
	// before they are cancelled (default 5 s).
	Grace time.Duration
	// Warmup runs closed-loop for this long before measuring, unrecorded,
	// to fill page and connection caches.
	Warmup time.Duration
	// Interval is the timeline's resolution (default Duration/120, at
	// least 200 ms; 1 s for runs bounded by a count only).
	Interval time.Duration
	// Progress, when set, is called once per interval from one goroutine.
	Progress func(Snapshot)
}

// Snapshot is the state of a run, for progress displays.
type Snapshot struct {
	Elapsed  time.Duration
	Planned  time.Duration // the run's duration, 0 when only counted
	Rate     float64       // the target rate (open loop)
	Sent     int64
	Answers  int64
	Errors   int64
	NonEmpty int64
	// Over the last interval:
	RPS      float64
	P50, P99 float64 // ms
	// Final is set on the last call, when the run has ended.
	Final bool
}

// shard holds the histograms of some workers; sharding keeps lock
// contention low and memory independent of the number of workers.
type shard struct {
	mu      sync.Mutex
	all, iv *hdr.Histogram
	// admitted holds the answered requests, rejected the refusals (429,
	// 503): under overload the two have nothing in common.
	admitted, rejected *hdr.Histogram
	kinds              []*hdr.Histogram
	kindN              []int64 // answers per kind
	kindNE             []int64 // non-empty answers per kind
	kindErr            []int64
	ivAnswers          int64
	ivErrors           int64
	ivNonEmpty         int64
}

type runState struct {
	cfg      Config
	kindOf   []uint8 // per request: index into kinds
	kinds    []string
	shards   []*shard
	start    time.Time
	sent     atomic.Int64
	answers  atomic.Int64
	nonEmpty atomic.Int64
	aborted  atomic.Int64
	late     atomic.Int64
	cache    [3]atomic.Int64 // by CacheStatus
	errs     [numErrKinds]atomic.Int64

	tlMu     sync.Mutex
	timeline []Tick
	interval time.Duration
	lastTick time.Time
}

func clampMicros(d time.Duration) int64 {
	v := d.Microseconds()
	if v < histMin {
		return histMin
	}
	if v > histMax {
		return histMax
	}
	return v
}

func (s *runState) record(sh *shard, kind uint8, out Outcome, lat time.Duration) {
	if out.Aborted {
		s.aborted.Add(1)
		return
	}
	if out.Err != ErrNone {
		s.errs[out.Err].Add(1)
	} else {
		s.answers.Add(1)
		if out.Features > 0 {
			s.nonEmpty.Add(1)
		}
		s.cache[out.Cache].Add(1)
	}
	v := clampMicros(lat)
	sh.mu.Lock()
	// A connection failure has no latency worth recording (it is often
	// instant and would flatter the percentiles); a timeout is the worst
	// latency there is and must be in them.
	if out.Err != ErrConnection {
		sh.all.RecordValue(v)
		sh.iv.RecordValue(v)
		sh.kinds[kind].RecordValue(v)
	}
	switch {
	case out.Err == ErrNone:
		sh.admitted.RecordValue(v)
	case out.Err.Rejected():
		sh.rejected.RecordValue(v)
	}
	if out.Err == ErrNone {
		sh.ivAnswers++
		sh.kindN[kind]++
		if out.Features > 0 {
			sh.ivNonEmpty++
			sh.kindNE[kind]++
		}
	} else {
		sh.ivErrors++
		sh.kindErr[kind]++
	}
	sh.mu.Unlock()
}

// harvest closes the current timeline interval.
func (s *runState) harvest(now time.Time, scratch *hdr.Histogram) Tick {
	scratch.Reset()
	var answers, errs, ne int64
	for _, sh := range s.shards {
		sh.mu.Lock()
		scratch.Merge(sh.iv)
		sh.iv.Reset()
		answers += sh.ivAnswers
		errs += sh.ivErrors
		ne += sh.ivNonEmpty
		sh.ivAnswers, sh.ivErrors, sh.ivNonEmpty = 0, 0, 0
		sh.mu.Unlock()
	}
	s.tlMu.Lock()
	defer s.tlMu.Unlock()
	span := now.Sub(s.lastTick).Seconds()
	s.lastTick = now
	t := Tick{T: round3(now.Sub(s.start).Seconds()), Answers: answers, Errors: errs, NonEmpty: ne, Partial: span < s.interval.Seconds()/2}
	if span > 0 {
		t.RPS = round3(float64(answers+errs) / span)
	}
	if scratch.TotalCount() > 0 {
		t.P50 = ms(scratch.ValueAtQuantile(50))
		t.P99 = ms(scratch.ValueAtQuantile(99))
		t.Max = ms(scratch.Max())
	}
	s.timeline = append(s.timeline, t)
	if len(s.timeline) > maxTicks {
		s.timeline = coarsen(s.timeline)
		s.interval *= 2
	}
	return t
}

// coarsen merges timeline points pairwise. Percentiles of a merged point
// are approximations (p50 averaged, p99 and max the larger): the timeline
// shows trends; the run's percentiles come from the full histogram.
func coarsen(tl []Tick) []Tick {
	out := tl[:0]
	for i := 0; i < len(tl); i += 2 {
		if i+1 == len(tl) {
			out = append(out, tl[i])
			break
		}
		a, b := tl[i], tl[i+1]
		m := Tick{T: b.T, Answers: a.Answers + b.Answers, Errors: a.Errors + b.Errors, NonEmpty: a.NonEmpty + b.NonEmpty,
			RPS: round3((a.RPS + b.RPS) / 2), P50: round3((a.P50 + b.P50) / 2), P99: math.Max(a.P99, b.P99), Max: math.Max(a.Max, b.Max),
			Partial: b.Partial}
		out = append(out, m)
	}
	return out
}

func ms(us int64) float64 { return round3(float64(us) / 1000) }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// Run performs one run. Cancelling ctx stops it early: the partial result
// is returned with Interrupted set. Errors are only returned for an invalid
// configuration.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg, err := checkConfig(cfg)
	if err != nil {
		return nil, err
	}
	if p, ok := cfg.Target.(Preparer); ok {
		if err := p.Prepare(cfg.Requests); err != nil {
			return nil, err
		}
	}
	s := newRunState(cfg)
	if cfg.Warmup > 0 {
		s.warmup(ctx)
	}

	machineStart := currentLoad()
	s.start = time.Now()
	s.lastTick = s.start
	var end time.Time
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if cfg.Duration > 0 {
		end = s.start.Add(cfg.Duration)
		var c2 context.CancelFunc
		runCtx, c2 = context.WithDeadline(runCtx, end.Add(cfg.Grace))
		defer c2()
	}
	expected := cfg.expected()
	s.send(runCtx, expected, end)
	finished := time.Now()
	var pending int64
	for _, sh := range s.shards {
		pending += sh.ivAnswers + sh.ivErrors
	}
	if pending > 0 || len(s.timeline) == 0 {
		s.harvest(finished, hdr.New(histMin, histMax, histDigits))
	}

	res := s.result(finished, ctx.Err() != nil)
	if cfg.Rate > 0 && expected != math.MaxInt64 && !res.Interrupted {
		res.Unsent = max(0, expected-s.sent.Load())
	}
	res.Machine = CurrentMachine()
	res.Machine.Load1Start = machineStart
	if cfg.Progress != nil {
		last := Tick{}
		if n := len(res.Timeline); n > 0 {
			last = res.Timeline[n-1]
		}
		snap := s.snapshot(finished, last)
		snap.Final = true
		cfg.Progress(snap)
	}
	return res, nil
}

// checkConfig refuses a configuration that cannot run and fills in the
// defaults.
func checkConfig(cfg Config) (Config, error) {
	if cfg.Target == nil {
		return cfg, errors.New("no target")
	}
	if len(cfg.Requests) == 0 {
		return cfg, errors.New("no requests")
	}
	if cfg.Duration <= 0 && cfg.MaxRequests <= 0 {
		return cfg, errors.New("a run needs a duration or a request count, or it would never stop")
	}
	if cfg.Rate < 0 || math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0) {
		return cfg, fmt.Errorf("invalid rate %v", cfg.Rate)
	}
	if cfg.Rate > 1e7 {
		return cfg, fmt.Errorf("rate %v is beyond what one client can schedule", cfg.Rate)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultClosedConcurrency
		if cfg.Rate > 0 {
			cfg.Concurrency = DefaultOpenConcurrency
		}
	}
	if cfg.Concurrency > 10_000 {
		return cfg, fmt.Errorf("concurrency %d is too high (at most 10000)", cfg.Concurrency)
	}
	if cfg.Grace <= 0 {
		cfg.Grace = defaultGrace
	}
	if cfg.Sampler == nil {
		cfg.Sampler, _ = NewSampler(len(cfg.Requests), 0, 0)
	}
	return cfg, nil
}

// expected is the open loop's schedule length: requests due before the
// end (and within the count).
func (cfg Config) expected() int64 {
	var expected int64 = math.MaxInt64
	if cfg.Rate > 0 && cfg.Duration > 0 {
		expected = int64(math.Ceil(cfg.Duration.Seconds() * cfg.Rate))
	}
	if cfg.MaxRequests > 0 {
		expected = min(expected, cfg.MaxRequests)
	}
	return expected
}

// newRunState makes the histogram shards (fewer than workers: they are
// locked per record) and picks the timeline interval.
func newRunState(cfg Config) *runState {
	s := &runState{cfg: cfg}
	s.indexKinds()
	nShards := min(cfg.Concurrency, max(2, runtime.GOMAXPROCS(0)))
	for range nShards {
		sh := &shard{all: hdr.New(histMin, histMax, histDigits), iv: hdr.New(histMin, histMax, histDigits),
			admitted: hdr.New(histMin, histMax, histDigits), rejected: hdr.New(histMin, histMax, histDigits)}
		for range s.kinds {
			sh.kinds = append(sh.kinds, hdr.New(histMin, histMax, kindDigits))
		}
		sh.kindN = make([]int64, len(s.kinds))
		sh.kindNE = make([]int64, len(s.kinds))
		sh.kindErr = make([]int64, len(s.kinds))
		s.shards = append(s.shards, sh)
	}
	s.interval = cfg.Interval
	if s.interval <= 0 {
		s.interval = time.Second
		if cfg.Duration > 0 {
			s.interval = max(200*time.Millisecond, cfg.Duration/120)
		}
	}
	return s
}

// send runs the workers (open loop with a rate, closed loop without) until
// they are done, with the timeline and progress beside them.
func (s *runState) send(ctx context.Context, expected int64, end time.Time) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range s.cfg.Concurrency {
		sh := s.shards[w%len(s.shards)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.cfg.Rate > 0 {
				s.openWorker(ctx, sh, &next, expected)
			} else {
				s.closedWorker(ctx, sh, &next, expected, end)
			}
		}()
	}
	done := make(chan struct{})
	tickerDone := make(chan struct{})
	go func() {
		defer close(tickerDone)
		s.tick(done)
	}()
	wg.Wait()
	close(done)
	<-tickerDone
}

// tick adds a timeline point (and reports progress) every interval until
// done is closed.
func (s *runState) tick(done <-chan struct{}) {
	scratch := hdr.New(histMin, histMax, histDigits)
	t := time.NewTimer(s.interval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			tk := s.harvest(now, scratch)
			if s.cfg.Progress != nil {
				s.cfg.Progress(s.snapshot(now, tk))
			}
			s.tlMu.Lock()
			t.Reset(s.interval)
			s.tlMu.Unlock()
		}
	}
}

func (s *runState) indexKinds() {
	ids := map[string]int{}
	var names []string
	for _, r := range s.cfg.Requests {
		if _, ok := ids[r.Kind]; !ok {
			ids[r.Kind] = 0
			names = append(names, r.Kind)
		}
	}
	sort.Strings(names)
	if len(names) > maxKinds {
		names = append(names[:maxKinds-1:maxKinds-1], "other")
	}
	for i, n := range names {
		ids[n] = i
	}
	s.kinds = names
	s.kindOf = make([]uint8, len(s.cfg.Requests))
	for i, r := range s.cfg.Requests {
		k, ok := ids[r.Kind]
		if !ok || k >= len(names) {
			k = len(names) - 1 // "other"
		}
		s.kindOf[i] = uint8(k)
	}
}

// openWorker sends the requests it claims at their due time and measures
// each from that due time, so that waiting for a free worker (the server
// being slow) shows up in the latency (no coordinated omission).
func (s *runState) openWorker(ctx context.Context, sh *shard, next *atomic.Int64, expected int64) {
	step := float64(time.Second) / s.cfg.Rate
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		i := next.Add(1) - 1
		if i >= expected {
			return
		}
		due := s.start.Add(time.Duration(float64(i) * step))
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		s.sent.Add(1)
		if time.Since(due) > lateAfter {
			s.late.Add(1)
		}
		k := s.cfg.Sampler.At(i)
		out := s.cfg.Target.Do(ctx, &s.cfg.Requests[k])
		s.record(sh, s.kindOf[k], out, time.Since(due))
	}
}

// closedWorker sends back to back; latency is the request's own time.
func (s *runState) closedWorker(ctx context.Context, sh *shard, next *atomic.Int64, limit int64, end time.Time) {
	for {
		if ctx.Err() != nil || !end.IsZero() && !time.Now().Before(end) {
			return
		}
		i := next.Add(1) - 1
		if i >= limit {
			return
		}
		s.sent.Add(1)
		k := s.cfg.Sampler.At(i)
		t0 := time.Now()
		out := s.cfg.Target.Do(ctx, &s.cfg.Requests[k])
		s.record(sh, s.kindOf[k], out, time.Since(t0))
	}
}

// warmup sends closed-loop for cfg.Warmup without recording, from a part
// of the sampler's sequence the run itself will not use first.
func (s *runState) warmup(ctx context.Context) {
	wctx, cancel := context.WithTimeout(ctx, s.cfg.Warmup)
	defer cancel()
	const offset = 1 << 40
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(s.cfg.Concurrency, 8) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for wctx.Err() == nil {
				k := s.cfg.Sampler.At(offset + next.Add(1))
				s.cfg.Target.Do(wctx, &s.cfg.Requests[k])
			}
		}()
	}
	wg.Wait()
}

func (s *runState) snapshot(now time.Time, last Tick) Snapshot {
	var errs int64
	for i := range s.errs {
		errs += s.errs[i].Load()
	}
	return Snapshot{
		Elapsed: now.Sub(s.start), Planned: s.cfg.Duration, Rate: s.cfg.Rate,
		Sent: s.sent.Load(), Answers: s.answers.Load(), Errors: errs, NonEmpty: s.nonEmpty.Load(),
		RPS: last.RPS, P50: last.P50, P99: last.P99,
	}
}
