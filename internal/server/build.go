package server

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"balise/internal/admission"
	"balise/internal/cache"
	"balise/internal/httpapi"
	"balise/internal/memlimit"
	"balise/internal/ratelimit"
	"balise/internal/search"
	"balise/internal/telemetry"
	"balise/internal/text"
)

// ServiceConfig is what a serving process is built from: the server's own
// settings and those of the parts Build makes for it (telemetry, cache,
// limits, memory limit, engines). The serve command fills it from its
// flags; Build owns the order in which the parts are made and closed.
type ServiceConfig struct {
	// Server is the HTTP server's configuration. Build sets its
	// Telemetry, Cache, RateLimiter, Admission, Memory, Reload and
	// API.Keys.
	Server Config
	// Telemetry configures logs, metrics and traces (telemetry.Setup).
	Telemetry telemetry.Config
	// Metrics turns on Prometheus metrics and the tracing middleware; the
	// access log is telemetry's either way (the registry still exists
	// without it, for the cache and the limits).
	Metrics bool
	// Cache is the answer cache's configuration; with neither MaxBytes nor
	// RedisURL there is no cache. Build sets its TracerProvider and
	// Validate.
	Cache cache.Config
	// CacheKeys configures how requests are normalised into cache keys
	// (focus rounding, reverse grid); its MaxFilterValues must be the
	// engine's.
	CacheKeys cache.KeyConfig
	// RateLimit, when set, configures the per-client limiter. Build sets
	// its Redis to the cache's when the cache has one, and then uses
	// RateLimitKeySecret.
	RateLimit          *ratelimit.Config
	RateLimitKeySecret string
	// Admission, when set, configures the load shedder (nil: off).
	Admission *admission.Config
	// MemoryLimit is applied (the Go memory limit) before the index opens.
	MemoryLimit memlimit.Options
	// Open opens the index and builds its interactive engine; verify checks
	// every section's checksum first. It is called at start (verify:
	// Verify) and on every reload (verify: true).
	Open func(ctx context.Context, verify bool) (*search.Engine, error)
	// BatchTimeBudget is the time budget of the engine serving batch work
	// (CSV rows, /batch items), over the same index.
	BatchTimeBudget time.Duration
	// Verify checks the index's checksums at start.
	Verify bool
	// IndexCheckInterval is how often the served file is checked for a
	// truncation or an in-place rewrite (WatchIndex).
	IndexCheckInterval time.Duration
	// ReloadPoll, when positive, checks the index file this often and
	// reloads it when it has been replaced (PollIndex).
	ReloadPoll time.Duration
}

// ConfigError is an error Build found in its configuration rather than
// met while opening or serving, so that the caller can report it as a bad
// invocation. Its message is the underlying error's.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }

func (e *ConfigError) Unwrap() error { return e.Err }

// Service is a built serving process: the server and the parts it runs
// on. Run serves; Close releases the parts in the reverse order of their
// making.
type Service struct {
	cfg     ServiceConfig
	server  *Server
	holder  *Holder
	log     *slog.Logger
	closers []func(ctx context.Context) // in making order; Close runs them backwards
}

// Build makes, in this order, the telemetry, the cache, the rate limiter,
// the load shedder, the memory limit, the engines (logging each) and the
// server over them. On an error, what was made is closed again.
func Build(ctx context.Context, cfg ServiceConfig) (_ *Service, err error) {
	s := &Service{cfg: cfg}
	defer func() {
		if err != nil {
			s.Close(ctx)
		}
	}()
	tel, err := s.setupTelemetry(ctx)
	if err != nil {
		return nil, err
	}
	sc := cfg.Server
	if sc.API.Keys, sc.Cache, err = s.answerCache(tel); err != nil {
		return nil, err
	}
	if sc.RateLimiter, err = s.rateLimiter(sc.Cache, tel); err != nil {
		return nil, err
	}
	if sc.Admission, err = s.admissionController(tel); err != nil {
		return nil, err
	}
	ml, err := memlimit.Apply(cfg.MemoryLimit)
	if err != nil {
		return nil, &ConfigError{err}
	}
	s.log.Info("memory limit", "bytes", ml.Bytes, "source", ml.Source, "reason", ml.Reason, "cgroup_bytes", ml.Cgroup.Bytes)
	sc.Memory = memlimit.NewMonitor("", ml)
	if s.holder, err = s.openIndex(ctx); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func(context.Context) { s.holder.Close() })
	sc.Reload = func(ctx context.Context) (Engines, error) { return s.openEngines(ctx, true) }
	sc.Telemetry, sc.DisableMetrics = tel, !cfg.Metrics
	if s.server, err = New(sc, s.holder, s.log); err != nil {
		return nil, err
	}
	return s, nil
}

// Server is the built server.
func (s *Service) Server() *Server { return s.server }

// Run serves until ctx ends: it reloads the index on SIGHUP, watches the
// served file, polls it for a replacement when ReloadPoll is set, and
// listens on the configured addresses. It returns once the server has
// drained and those background tasks have stopped, so that Close never
// races a reload half done.
func (s *Service) Run(ctx context.Context) error {
	bg, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	reloadOnHangup(bg, &wg, s.server)
	wg.Go(func() { s.server.WatchIndex(bg, s.cfg.IndexCheckInterval) })
	if s.cfg.ReloadPoll > 0 {
		path := s.holder.Current().Index().Path()
		wg.Go(func() { s.server.PollIndex(bg, path, s.cfg.ReloadPoll) })
	}
	err := s.server.ListenAndServe(ctx)
	cancel()
	wg.Wait()
	return err
}

// Close releases the engines, the limiter and the cache, then flushes the
// telemetry (for at most 5 s, even when ctx has ended).
func (s *Service) Close(ctx context.Context) {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i](ctx)
	}
	s.closers = nil
}

// setupTelemetry sets up logs, metrics and traces; their shutdown is the
// last thing Close does.
func (s *Service) setupTelemetry(ctx context.Context) (*telemetry.Telemetry, error) {
	tel, shutdown, err := telemetry.Setup(ctx, s.cfg.Telemetry)
	if err != nil {
		return nil, err
	}
	s.log = tel.Logger
	s.closers = append(s.closers, func(ctx context.Context) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := shutdown(sctx); err != nil {
			tel.Logger.Warn("telemetry shutdown", "err", err)
		}
	})
	return tel, nil
}

// answerCache builds the cache keys and, when L1 or L2 is on, the cache
// (nil otherwise). Values read back from Redis are validated before use.
func (s *Service) answerCache(tel *telemetry.Telemetry) (*cache.Keys, *cache.Cache, error) {
	ccfg := s.cfg.Cache
	ccfg.TracerProvider = tel.TracerProvider
	ccfg.Validate = httpapi.ValidateAnswer
	keys, err := cache.NewKeys(s.cfg.CacheKeys)
	if err != nil {
		return nil, nil, &ConfigError{err}
	}
	s.log.Info("cache", "l1_bytes", ccfg.MaxBytes, "redis", ccfg.RedisURL != "", "redis_cluster", ccfg.RedisCluster,
		"ttl_exact", ccfg.TTL.Exact.String(), "ttl_fuzzy", ccfg.TTL.Fuzzy.String(), "ttl_not_found", ccfg.TTL.NotFound.String())
	if ccfg.MaxBytes == 0 && ccfg.RedisURL == "" {
		return keys, nil, nil
	}
	c, err := cache.New(ccfg, tel.Registry, tel.Logger)
	if err != nil {
		return nil, nil, &ConfigError{err}
	}
	s.closers = append(s.closers, func(context.Context) { c.Close() })
	return keys, c, nil
}

// rateLimiter builds the per-client limiter (nil without RateLimit),
// sharing the cache's Redis when there is one.
func (s *Service) rateLimiter(answers *cache.Cache, tel *telemetry.Telemetry) (*ratelimit.Limiter, error) {
	if s.cfg.RateLimit == nil {
		return nil, nil
	}
	cfg := *s.cfg.RateLimit
	if answers != nil {
		if client, guard, ok := answers.Redis(); ok {
			cfg.Redis = &ratelimit.Redis{Client: client, Guard: guard}
			cfg.RedisKeySecret = []byte(s.cfg.RateLimitKeySecret)
			if s.cfg.RateLimitKeySecret == "" {
				s.log.Warn("rate limits shared through Redis without --rate-limit-key-secret: client names in Redis are unkeyed hashes")
			}
		}
	}
	lim, err := ratelimit.New(cfg, tel.Registry)
	if err != nil {
		return nil, &ConfigError{err}
	}
	s.closers = append(s.closers, func(context.Context) { lim.Close() })
	s.log.Info("rate limits", "interactive_per_s", cfg.Budgets.Interactive.PerSecond, "batch_per_s", cfg.Budgets.Batch.PerSecond,
		"api_keys", len(cfg.Keys), "trusted_proxies", len(cfg.TrustedProxies), "shared_through_redis", cfg.Redis != nil)
	return lim, nil
}

// admissionController builds the load shedder (nil without Admission)
// and logs its settings.
func (s *Service) admissionController(tel *telemetry.Telemetry) (*admission.Controller, error) {
	if s.cfg.Admission == nil {
		s.log.Info("admission control off")
		return nil, nil
	}
	ctrl, err := admission.New(*s.cfg.Admission, tel.Registry)
	if err != nil {
		return nil, &ConfigError{err}
	}
	c := ctrl.Config()
	s.log.Info("admission", "interactive_limit", c.InteractiveLimit, "interactive_min_limit", c.InteractiveMinLimit,
		"queue", c.InteractiveQueue, "queue_timeout", c.QueueTimeout.String(), "batch_jobs", c.BatchJobs,
		"batch_slots", c.BatchSlots, "batch_target_load", c.BatchTargetLoad)
	return ctrl, nil
}

// openEngines opens the index with the interactive settings and a second
// engine over it with the batch budget; a reload verifies every checksum
// first, so a bad new file never replaces a good one.
func (s *Service) openEngines(ctx context.Context, verify bool) (Engines, error) {
	e, err := s.cfg.Open(ctx, verify)
	if err != nil {
		return Engines{}, err
	}
	bcfg := e.Config()
	bcfg.TimeBudget = s.cfg.BatchTimeBudget
	batch, err := search.New(e.Index(), bcfg, text.Config{})
	if err != nil {
		e.Index().Close()
		return Engines{}, err
	}
	return Engines{Search: e, Batch: batch, Close: e.Index().Close}, nil
}

// openIndex opens the served index (every checksum verified with Verify)
// into a holder.
func (s *Service) openIndex(ctx context.Context) (*Holder, error) {
	start := time.Now()
	first, err := s.openEngines(ctx, s.cfg.Verify)
	if err != nil {
		return nil, err
	}
	holder := &Holder{}
	holder.SwapWithBatch(first.Search, first.Batch, first.Close)
	ix := first.Search.Index()
	m := ix.Meta()
	s.log.Info("index loaded", "path", ix.Path(), "documents", m.Documents, "housenumbers", m.Housenumbers,
		"profile", m.Profile, "filters", m.Filters, "version", m.Version, "built_at", m.BuiltAt,
		"bytes", ix.Size(), "open_ms", time.Since(start).Milliseconds(), "verified", s.cfg.Verify,
		"flavour", s.cfg.Server.API.Flavour.String(), "common_threshold", first.Search.Config().CommonThreshold)
	return holder, nil
}

// reloadOnHangup reloads the index on every SIGHUP until ctx ends. The
// signal stays caught after that, for the life of the process: SIGHUP's
// default action is to end it, and one that comes while the server drains
// or closes (a configuration reload racing a rollout) must not cut the
// drain short or lose the telemetry flush. Such a late one is dropped.
func reloadOnHangup(ctx context.Context, wg *sync.WaitGroup, srv *Server) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				srv.Reload(ctx) // logged and counted by Reload
			}
		}
	})
}
