package admission

import (
	"context"
	"strings"
	"testing"
	"time"
)

// Whatever the settings (they come from flags and environment variables),
// New either refuses them with a clear error or returns a controller whose
// resolved configuration is coherent and that admits a request.
func FuzzConfig(f *testing.F) {
	f.Add(int64(0), int64(0), int64(0), int64(0), int64(0), int64(0), int64(0), float64(0))
	f.Add(int64(2), int64(4), int64(2), int64(256), int64(20e6), int64(1), int64(50e6), 0.5)
	f.Add(int64(-1), int64(1<<62), int64(3), int64(-5), int64(1<<62), int64(-1), int64(0), 1.5)
	f.Fuzz(func(t *testing.T, cores, limit, minLimit, queue, timeout, slots, maxDelay int64, target float64) {
		cfg := Config{Cores: int(cores), InteractiveLimit: int(limit), InteractiveMinLimit: int(minLimit),
			InteractiveQueue: int(queue), QueueTimeout: time.Duration(timeout), BatchSlots: int(slots),
			BatchMaxDelay: time.Duration(maxDelay), BatchTargetLoad: target}
		c, err := New(cfg, nil)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "admission: ") {
				t.Fatalf("unclear error %q", err)
			}
			return
		}
		r := c.Config()
		if r.Cores < 1 || r.InteractiveMinLimit < 1 || r.InteractiveMinLimit > r.InteractiveLimit ||
			r.InteractiveQueue < 1 || r.QueueTimeout <= 0 || r.OverloadQueueTimeout <= 0 || r.OverloadAfter <= 0 ||
			r.IncreaseInterval <= 0 || r.BatchJobs < 1 || r.BatchJobQueue < 1 || r.BatchJobQueueTimeout <= 0 ||
			r.BatchSlots < 1 || r.BatchMaxDelay <= 0 || !(r.BatchTargetLoad > 0 && r.BatchTargetLoad <= 1) {
			t.Fatalf("incoherent configuration %+v from %+v", r, cfg)
		}
		release, err := c.AcquireInteractive(context.Background())
		if err != nil {
			t.Fatalf("first request refused: %v", err)
		}
		c.ObserveOutcome(time.Millisecond, true)
		release()
		if s := c.Stats(); s.Interactive.InFlight != 0 || s.Interactive.Admitted != 1 {
			t.Fatalf("stats %+v", s)
		}
	})
}
