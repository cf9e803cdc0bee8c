package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// StepConfig describes a step run: open-loop steps of Config.Duration at
// rising rates until the SLO breaks, then a bisection between the last rate
// that held and the first that did not.
type StepConfig struct {
	Start         float64       // first rate (req/s)
	Factor        float64       // growth between steps while the SLO holds (default 1.5)
	Refine        int           // bisection steps after the first failure (default 3)
	MaxSteps      int           // bound on the number of steps (default 16)
	SLO           time.Duration // latency bound (default 50 ms)
	SLOPercentile float64       // which percentile must stay under SLO (default 99)
	MaxErrorRate  float64       // share of errors a passing step may have (default 1 %)
	// Pause between steps lets the target drain what an overloaded step
	// left in its queues (default 1 s).
	Pause time.Duration
	// Retries re-runs a failing step up to this many times before calling
	// it failed (default 1; negative: none). On a shared machine a single
	// stall of another tenant breaks the tail of a short step; a rate the
	// server cannot sustain fails every attempt anyway, because its queue
	// grows for the whole step.
	Retries int
	// OnStep, when set, is told each step's figures as it ends.
	OnStep func(Step)

	onAttempt func() // tests: called after each attempt
}

// judge decides whether a step held. Open-loop latencies already include
// the queue of an overloaded target; the throughput check catches a target
// that answers fast but not all requests (shedding, unsent backlog).
func judge(r *Result, sc StepConfig) Step {
	pslo := r.PercentileMs(sc.SLOPercentile)
	st := Step{Rate: r.Rate, Throughput: r.Throughput, P50: r.Latency.P50, P95: r.Latency.P95, P99: r.Latency.P99, PSLO: pslo, Pass: true}
	if er := r.errorRate(); !math.IsNaN(er) {
		st.ErrorRate = round3(er)
	}
	slo := float64(sc.SLO) / float64(time.Millisecond)
	switch {
	case r.Answers+r.ErrorCount == 0:
		st.Pass, st.Why = false, "no answer"
	case pslo > slo:
		st.Pass, st.Why = false, fmt.Sprintf("p%g %s ms > %g ms", sc.SLOPercentile, fmtMs(pslo), slo)
	case st.ErrorRate > sc.MaxErrorRate:
		st.Pass, st.Why = false, fmt.Sprintf("%.1f%% errors", 100*st.ErrorRate)
	case r.Unsent > 0 || r.Throughput < 0.95*r.Rate:
		st.Pass, st.Why = false, fmt.Sprintf("throughput %.0f < rate", r.Throughput)
	}
	return st
}

// StepRun finds the highest rate whose latency percentile stays under the
// SLO. It returns the result of the highest passing step (or of the first
// step when none passed) with every step's figures in Steps.
func StepRun(ctx context.Context, cfg Config, sc StepConfig) (*Result, error) {
	if cfg.Duration <= 0 {
		return nil, errors.New("step mode needs a duration per step")
	}
	sc = sc.withDefaults()
	var steps []Step
	var best, first *Result
	lo, hi := 0.0, 0.0 // highest pass, lowest failure
	run := func(rate float64) (bool, error) {
		c := cfg
		c.Rate = math.Round(rate*10) / 10
		var r *Result
		var st Step
		for attempt := 0; attempt <= sc.Retries; attempt++ {
			if len(steps) > 0 || attempt > 0 {
				c.Warmup = 0
				select {
				case <-time.After(sc.Pause):
				case <-ctx.Done():
				}
			}
			var err error
			r, err = Run(ctx, c)
			if err != nil {
				return false, err
			}
			st = judge(r, sc)
			st.Attempts = attempt + 1
			if sc.onAttempt != nil {
				sc.onAttempt()
			}
			if r.Interrupted {
				st.Pass, st.Why = false, "interrupted"
			}
			if st.Pass || r.Interrupted {
				break
			}
		}
		steps = append(steps, st)
		if sc.OnStep != nil {
			sc.OnStep(st)
		}
		if first == nil {
			first = r
		}
		if st.Pass {
			lo, best = c.Rate, r
		} else if hi == 0 || c.Rate < hi {
			hi = c.Rate
		}
		return st.Pass, nil
	}
	rate := sc.Start
	for len(steps) < sc.MaxSteps && ctx.Err() == nil {
		ok, err := run(rate)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		rate *= sc.Factor
	}
	// A start above the capacity: come down until a rate holds.
	for lo == 0 && hi > 0 && len(steps) < sc.MaxSteps && ctx.Err() == nil && hi/sc.Factor >= 1 {
		if _, err := run(hi / sc.Factor); err != nil {
			return nil, err
		}
	}
	for i := 0; i < sc.Refine && lo > 0 && hi > lo && len(steps) < sc.MaxSteps && ctx.Err() == nil; i++ {
		mid := (lo + hi) / 2
		if mid-lo < math.Max(1, lo*0.02) {
			break // closer than 2 %: measurement noise is larger
		}
		if _, err := run(mid); err != nil {
			return nil, err
		}
	}
	res := best
	if res == nil {
		res = first
	}
	if res == nil {
		return nil, ctx.Err()
	}
	res.Mode = "step"
	res.Steps = steps
	res.MaxSustainableRate = lo
	res.SLOMs = float64(sc.SLO) / float64(time.Millisecond)
	res.SLOPercentile = sc.SLOPercentile
	res.Interrupted = ctx.Err() != nil
	return res, nil
}

// withDefaults fills in the zero fields of sc (a negative Refine or
// Retries means none).
func (sc StepConfig) withDefaults() StepConfig {
	if sc.Start <= 0 {
		sc.Start = 50
	}
	if sc.Factor <= 1 {
		sc.Factor = 1.5
	}
	if sc.Refine < 0 {
		sc.Refine = 0
	} else if sc.Refine == 0 {
		sc.Refine = 3
	}
	if sc.MaxSteps <= 0 {
		sc.MaxSteps = 16
	}
	if sc.SLO <= 0 {
		sc.SLO = 50 * time.Millisecond
	}
	if sc.SLOPercentile <= 0 || sc.SLOPercentile >= 100 {
		sc.SLOPercentile = 99
	}
	if sc.MaxErrorRate <= 0 {
		sc.MaxErrorRate = 0.01
	}
	if sc.Pause <= 0 {
		sc.Pause = time.Second
	}
	if sc.Retries == 0 {
		sc.Retries = 1
	} else if sc.Retries < 0 {
		sc.Retries = 0
	}
	return sc
}
