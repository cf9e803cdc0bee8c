package cache

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/maypok86/otter/v2"
)

// clock is otter's time source; tests swap it to expire entries.
type clock = otter.Clock

// l1Entry is an L1 value: the body and how long it may live. The TTL is
// per entry because an entry promoted from L2 keeps its L2 expiry.
type l1Entry struct {
	body []byte
	ttl  time.Duration
}

// l1 is the in-process tier: otter's adaptive W-TinyLFU, bounded by the
// bytes its entries weigh.
type l1 struct {
	c        *otter.Cache[string, l1Entry]
	overhead int
}

func newL1(cfg Config, m *metrics, log *slog.Logger) (*l1, error) {
	if cfg.MaxBytes == 0 {
		return nil, nil
	}
	overhead := cfg.EntryOverhead
	opts := &otter.Options[string, l1Entry]{
		MaximumWeight: uint64(cfg.MaxBytes),
		Weigher: func(k string, v l1Entry) uint32 {
			w := len(k) + len(v.body) + overhead
			if w > math.MaxUint32 {
				return math.MaxUint32
			}
			return uint32(w)
		},
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, l1Entry]) time.Duration {
			return e.Value.ttl
		}),
		OnDeletion: func(e otter.DeletionEvent[string, l1Entry]) {
			switch e.Cause {
			case otter.CauseOverflow:
				m.evictions.WithLabelValues("l1", "size").Inc()
			case otter.CauseExpiration:
				m.evictions.WithLabelValues("l1", "expired").Inc()
			}
		},
		Clock:  cfg.clock,
		Logger: otterLogger{log},
	}
	c, err := otter.New(opts)
	if err != nil {
		return nil, fmt.Errorf("cannot create L1 cache: %w", err)
	}
	return &l1{c: c, overhead: overhead}, nil
}

func (l *l1) get(key string) ([]byte, bool) {
	e, ok := l.c.GetIfPresent(key)
	return e.body, ok
}

// set stores body for ttl and returns the weight charged.
func (l *l1) set(key string, body []byte, ttl time.Duration) int {
	if ttl <= 0 {
		return 0
	}
	l.c.Set(key, l1Entry{body: body, ttl: ttl})
	return len(key) + len(body) + l.overhead
}

// otterLogger routes otter's rare warnings to our logger.
type otterLogger struct{ log *slog.Logger }

func (l otterLogger) Warn(ctx context.Context, msg string, err error) {
	l.log.WarnContext(ctx, "l1 cache: "+msg, "err", err)
}

func (l otterLogger) Error(ctx context.Context, msg string, err error) {
	l.log.ErrorContext(ctx, "l1 cache: "+msg, "err", err)
}
