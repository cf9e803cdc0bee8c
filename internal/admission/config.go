package admission

import (
	"fmt"
	"runtime"
	"time"
)

// Config sizes the controller. Zero values take the defaults documented on
// each field (see doc.go for why those defaults); negative values are
// refused by New.
type Config struct {
	// Cores is the number of cores the server's work may use; 0 means
	// runtime.GOMAXPROCS(0). Every other default derives from it.
	Cores int

	// InteractiveLimit is the most interactive requests (searches, reverse
	// lookups, gets) served at once; 0 means 2×Cores. The effective limit
	// adapts between InteractiveMinLimit and this value.
	InteractiveLimit int
	// InteractiveMinLimit is the floor of the adaptive limit; 0 means
	// Cores (capped at InteractiveLimit). Setting it equal to
	// InteractiveLimit turns adaptation off.
	InteractiveMinLimit int
	// InteractiveQueue bounds the interactive requests waiting for a
	// slot; 0 means 128×Cores.
	InteractiveQueue int
	// QueueTimeout is how long an interactive request may wait for a
	// slot; 0 means 20 ms.
	QueueTimeout time.Duration
	// OverloadQueueTimeout replaces QueueTimeout once the interactive
	// queue has not been empty for OverloadAfter; 0 means 5 ms.
	OverloadQueueTimeout time.Duration
	// OverloadAfter is how long the queue must stay non-empty before the
	// shorter OverloadQueueTimeout applies; 0 means 100 ms.
	OverloadAfter time.Duration
	// IncreaseInterval is the additive step of the adaptive limit: the
	// limit grows by one slot per IncreaseInterval without a budget
	// exhausted under load; 0 means 100 ms.
	IncreaseInterval time.Duration

	// BatchJobs is the most batch jobs (CSV files, POST /batch requests)
	// served at once; 0 means max(4, Cores).
	BatchJobs int
	// BatchJobQueue bounds the batch jobs waiting to start; 0 means
	// BatchJobs.
	BatchJobQueue int
	// BatchJobQueueTimeout is how long a batch job may wait to start; 0
	// means 2 s.
	BatchJobQueueTimeout time.Duration
	// BatchSlots bounds the units of batch work (a chunk of CSV rows, one
	// /batch item) running at once across all batch jobs; 0 means
	// max(1, Cores/2).
	BatchSlots int
	// BatchTargetLoad is the load, as a fraction of Cores (interactive
	// requests in flight plus batch slots in use, averaged over 100 ms),
	// up to which batch work fills the cores; 0 means 0.5. Above it only
	// the starvation guard lets batch work through.
	BatchTargetLoad float64
	// BatchMaxDelay is the starvation guard: once a unit of batch work has
	// waited that long and no batch slot has been granted for as long, the
	// next free one is its, whatever the interactive load; 0 means 50 ms.
	BatchMaxDelay time.Duration

	// RunQueueTarget is the scheduling latency (90th percentile over
	// 10 ms: how long goroutines wait for a core) above which new
	// interactive requests are shed with a growing probability; 0 means
	// 2 ms. See runqueue.go.
	RunQueueTarget time.Duration
	// NoRunQueueShedding turns the run-queue shedder off: only the slots
	// and their queue refuse.
	NoRunQueueShedding bool
}

// Defaults of the durations (doc.go explains them).
const (
	defaultQueueTimeout         = 20 * time.Millisecond
	defaultOverloadQueueTimeout = 5 * time.Millisecond
	defaultOverloadAfter        = 100 * time.Millisecond
	defaultIncreaseInterval     = 100 * time.Millisecond
	defaultBatchJobQueueTimeout = 2 * time.Second
	defaultBatchMaxDelay        = 50 * time.Millisecond
	defaultBatchTargetLoad      = 0.5
)

// resolve checks cfg and fills in the defaults.
func (cfg Config) resolve() (Config, error) {
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"Cores", int64(cfg.Cores)},
		{"InteractiveLimit", int64(cfg.InteractiveLimit)},
		{"InteractiveMinLimit", int64(cfg.InteractiveMinLimit)},
		{"InteractiveQueue", int64(cfg.InteractiveQueue)},
		{"QueueTimeout", int64(cfg.QueueTimeout)},
		{"OverloadQueueTimeout", int64(cfg.OverloadQueueTimeout)},
		{"OverloadAfter", int64(cfg.OverloadAfter)},
		{"IncreaseInterval", int64(cfg.IncreaseInterval)},
		{"BatchJobs", int64(cfg.BatchJobs)},
		{"BatchJobQueue", int64(cfg.BatchJobQueue)},
		{"BatchJobQueueTimeout", int64(cfg.BatchJobQueueTimeout)},
		{"BatchSlots", int64(cfg.BatchSlots)},
		{"BatchMaxDelay", int64(cfg.BatchMaxDelay)},
		{"RunQueueTarget", int64(cfg.RunQueueTarget)},
	} {
		if f.v < 0 {
			return cfg, fmt.Errorf("admission: %s must not be negative (0 takes the default)", f.name)
		}
	}
	if err := cfg.checkBounds(); err != nil {
		return cfg, err
	}
	if cfg.Cores == 0 {
		cfg.Cores = runtime.GOMAXPROCS(0)
	}
	if cfg.InteractiveLimit == 0 {
		cfg.InteractiveLimit = 2 * cfg.Cores
	}
	if cfg.InteractiveMinLimit == 0 {
		cfg.InteractiveMinLimit = min(cfg.Cores, cfg.InteractiveLimit)
	}
	if cfg.InteractiveMinLimit > cfg.InteractiveLimit {
		return cfg, fmt.Errorf("admission: InteractiveMinLimit (%d) is above InteractiveLimit (%d)",
			cfg.InteractiveMinLimit, cfg.InteractiveLimit)
	}
	cfg.InteractiveQueue = orDefault(cfg.InteractiveQueue, 128*cfg.Cores)
	cfg.QueueTimeout = orDefault(cfg.QueueTimeout, defaultQueueTimeout)
	cfg.OverloadQueueTimeout = orDefault(cfg.OverloadQueueTimeout, min(defaultOverloadQueueTimeout, cfg.QueueTimeout))
	cfg.OverloadAfter = orDefault(cfg.OverloadAfter, defaultOverloadAfter)
	cfg.IncreaseInterval = orDefault(cfg.IncreaseInterval, defaultIncreaseInterval)
	cfg.BatchJobs = orDefault(cfg.BatchJobs, max(4, cfg.Cores))
	cfg.BatchJobQueue = orDefault(cfg.BatchJobQueue, cfg.BatchJobs)
	cfg.BatchJobQueueTimeout = orDefault(cfg.BatchJobQueueTimeout, defaultBatchJobQueueTimeout)
	cfg.BatchSlots = orDefault(cfg.BatchSlots, max(1, cfg.Cores/2))
	cfg.BatchMaxDelay = orDefault(cfg.BatchMaxDelay, defaultBatchMaxDelay)
	cfg.RunQueueTarget = orDefault(cfg.RunQueueTarget, defaultRunQueueTarget)
	switch {
	case cfg.BatchTargetLoad < 0 || cfg.BatchTargetLoad > 1 || cfg.BatchTargetLoad != cfg.BatchTargetLoad:
		return cfg, fmt.Errorf("admission: BatchTargetLoad must lie between 0 and 1 (0 takes the default)")
	case cfg.BatchTargetLoad == 0:
		cfg.BatchTargetLoad = defaultBatchTargetLoad
	}
	return cfg, nil
}

// Upper bounds of the settings: far beyond any sensible value, low enough
// that no product of them overflows.
const (
	maxCores    = 1 << 16
	maxCount    = 1 << 24
	maxDuration = 24 * time.Hour
)

func (cfg Config) checkBounds() error {
	if cfg.Cores > maxCores {
		return fmt.Errorf("admission: Cores must be at most %d", maxCores)
	}
	for _, f := range []struct {
		name string
		v    int
	}{
		{"InteractiveLimit", cfg.InteractiveLimit}, {"InteractiveMinLimit", cfg.InteractiveMinLimit},
		{"InteractiveQueue", cfg.InteractiveQueue}, {"BatchJobs", cfg.BatchJobs},
		{"BatchJobQueue", cfg.BatchJobQueue}, {"BatchSlots", cfg.BatchSlots},
	} {
		if f.v > maxCount {
			return fmt.Errorf("admission: %s must be at most %d", f.name, maxCount)
		}
	}
	for _, f := range []struct {
		name string
		v    time.Duration
	}{
		{"QueueTimeout", cfg.QueueTimeout}, {"OverloadQueueTimeout", cfg.OverloadQueueTimeout},
		{"OverloadAfter", cfg.OverloadAfter}, {"IncreaseInterval", cfg.IncreaseInterval},
		{"BatchJobQueueTimeout", cfg.BatchJobQueueTimeout}, {"BatchMaxDelay", cfg.BatchMaxDelay},
		{"RunQueueTarget", cfg.RunQueueTarget},
	} {
		if f.v > maxDuration {
			return fmt.Errorf("admission: %s must be at most %v", f.name, maxDuration)
		}
	}
	return nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}
