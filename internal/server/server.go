package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"balise/internal/admission"
	"balise/internal/cache"
	"balise/internal/dashboard"
	"balise/internal/httpapi"
	"balise/internal/memlimit"
	"balise/internal/ratelimit"
	"balise/internal/search"
	"balise/internal/telemetry"
	"balise/internal/web"
)

// Config holds the server's settings (the serve command's flags).
type Config struct {
	Addr string
	// Timeouts of the http.Server. CSV routes push their own deadlines as
	// data moves (httpapi.Options.CSVIdleTimeout), so ReadTimeout and
	// WriteTimeout do not cut long files.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// ShutdownTimeout bounds the draining of in-flight requests on a
	// shutdown; connections still open then are closed.
	ShutdownTimeout time.Duration
	// ShutdownDelay keeps serving (with /health answering 503) before the
	// listener closes, so that load balancers notice first.
	ShutdownDelay  time.Duration
	MaxHeaderBytes int
	Compression    bool
	API            httpapi.Options // Engines, Draining, Ready, Cache and Telemetry are set by New

	// Telemetry, when set, writes the access log (one line per request,
	// the same fields whatever DisableMetrics says; telemetry.Config
	// turns it off) and, unless DisableMetrics, wraps the API in its trace
	// and metrics middlewares and receives the engine's metrics; New then
	// registers the holder's OnSwap to publish the served index's version.
	Telemetry *telemetry.Telemetry
	// DisableMetrics leaves out metrics and traces (--metrics=false): no
	// trace or metrics middleware, no engine metrics, no /metrics on
	// either listener. The access log stays.
	DisableMetrics bool
	// Cache, when set, answers GET /search and /reverse.
	Cache *cache.Cache
	// RateLimiter, when set, enforces per-client budgets (see Admit).
	RateLimiter *ratelimit.Limiter
	// Admission, when set, bounds concurrent work and sheds the excess
	// (see Admit); it is drained when the server shuts down.
	Admission *admission.Controller
	// AdminAddr is the admin listener's address (pprof, expvar, metrics,
	// readiness); "" disables it. Never the public address.
	AdminAddr string
	// AdminAllowedHosts are the Host names (any port) the admin listener
	// answers besides localhost, loopback addresses and its own address;
	// "*" allows any. Others get 421 (DNS rebinding protection).
	AdminAllowedHosts []string
	// AdminToken, when set, is required as "Authorization: Bearer <token>"
	// by every admin route but GET /health.
	AdminToken string
	// AdminMaxProfile bounds pprof's seconds= (CPU profile, trace, delta
	// profiles); the admin write timeout is 30 s above it. 0 means
	// DefaultAdminMaxProfile.
	AdminMaxProfile time.Duration
	// Args is the command line /debug/vars and /debug/pprof/cmdline show,
	// redacted by RedactArgs; nil means os.Args.
	Args []string
	// Checks are run by readiness after the built-in ones (index, redis,
	// memory, shutdown); one with a built-in's name replaces it.
	Checks []ReadinessCheck
	// Memory checks memory for readiness; nil means a monitor of the live
	// system (memlimit.NewMonitor("", memlimit.Setting{})).
	Memory *memlimit.Monitor
	// PublicMetrics also serves GET /metrics on the public listener (it is
	// always on the admin listener).
	PublicMetrics bool
	// Dashboard serves the live dashboard (/dashboard, /dashboard/stats)
	// on the public listener; it reads the metrics registry, so it is off
	// when metrics are.
	Dashboard bool
	// Version is reported by /health/ready.
	Version string
	// Reload, when set, opens the index again for Reload (SIGHUP,
	// POST /admin/reload on the admin listener, PollIndex).
	Reload Opener
	// Web, when set, serves the page for people at "/" and its files
	// under "/web/" (--web); its Flavour is set by New. Nil: "/" is the
	// API's 404, as before.
	Web *web.Options
}

// DefaultConfig returns sane production defaults.
func DefaultConfig() Config {
	return Config{
		Addr:              "127.0.0.1:7878",
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ShutdownTimeout:   30 * time.Second,
		MaxHeaderBytes:    64 << 10,
		Compression:       true,
		AdminAddr:         "127.0.0.1:7879",
		AdminMaxProfile:   DefaultAdminMaxProfile,
		PublicMetrics:     true,
		Dashboard:         true,
		Version:           "dev",
	}
}

// Server is the HTTP server of one API.
type Server struct {
	cfg      Config
	holder   *Holder
	log      *slog.Logger
	handler  http.Handler
	admin    http.Handler
	draining atomic.Bool
	started  time.Time
	reloadMu sync.Mutex
	dash     *dashboard.Dashboard // nil: no dashboard
}

// New builds a server answering with the engines of holder.
func New(cfg Config, holder *Holder, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{cfg: cfg, holder: holder, log: log, started: time.Now()}
	api := cfg.API
	api.Engines = holder
	api.Draining = s.draining.Load
	api.Ready = http.HandlerFunc(s.ready)
	api.Cache = cfg.Cache
	api.Telemetry = s.metrics()
	api.RateLimiter = cfg.RateLimiter
	api.Admission = cfg.Admission
	if api.Logger == nil {
		api.Logger = log
	}
	var h http.Handler = httpapi.New(api)
	// Inside the telemetry middlewares: refusals are counted and logged.
	h = Admit(cfg.RateLimiter, cfg.Admission, api.Flavour)(h)
	if cfg.Web != nil {
		o := *cfg.Web
		o.Flavour = api.Flavour.String()
		// Outside admission, like /metrics: the page's files are small
		// and static, and its searches pass through the API anyway.
		h = withWeb(h, web.New(o))
	}
	// The telemetry middlewares sit inside RequestID (the access line
	// carries its id) and Recover (a panic is seen, then turned into a
	// 500 outside); the API names its routes itself
	// (telemetry.RequestInfoFrom(ctx).SetRoute).
	if tel := s.metrics(); tel != nil {
		holder.OnSwap(func(e *search.Engine) { tel.Search.SetIndex(IndexInfo(e)) })
		if cfg.PublicMetrics {
			h = withMetrics(h, tel.MetricsHandler())
		}
		if cfg.Dashboard {
			s.dash = dashboard.New(dashboard.Options{Gatherer: tel.Registry, Index: s.dashboardIndex})
			h = withDashboard(h, s.dash.Handler())
		}
		h = tel.Middleware(h) // trace → metrics → access log
	} else if cfg.Telemetry != nil {
		h = cfg.Telemetry.AccessLog(h)
	}
	mws := []Middleware{RequestID(), Recover(log, api.Flavour, s.onPanic), SecurityHeaders()}
	if cfg.Compression {
		c, err := Compress()
		if err != nil {
			return nil, err
		}
		mws = append(mws, c)
	}
	s.handler = Chain(h, mws...)
	s.admin = s.adminHandler()
	return s, nil
}

// metrics returns the telemetry that takes metrics and traces, nil when
// they are off.
func (s *Server) metrics() *telemetry.Telemetry {
	if s.cfg.DisableMetrics {
		return nil
	}
	return s.cfg.Telemetry
}

// withMetrics serves GET /metrics before the API.
func withMetrics(api, metrics http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			telemetry.RequestInfoFrom(r.Context()).SetRoute("/metrics")
			metrics.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// withDashboard serves /dashboard and /dashboard/... before the API.
func withDashboard(api, dash http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/dashboard" || strings.HasPrefix(r.URL.Path, "/dashboard/") {
			dash.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// withWeb serves the page and its files (GET and HEAD of "/" and
// "/web/...") before the API; every other request is the API's.
func withWeb(api, page http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if web.Handles(r) {
			route := "/web/"
			if r.URL.Path == "/" {
				route = "/"
			}
			telemetry.RequestInfoFrom(r.Context()).SetRoute(route)
			page.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// dashboardIndex describes the served index for the dashboard.
func (s *Server) dashboardIndex() (dashboard.Index, bool) {
	e := s.holder.Current()
	if e == nil {
		return dashboard.Index{}, false
	}
	ix := e.Index()
	m := ix.Meta()
	return dashboard.Index{File: filepath.Base(ix.Path()), Version: m.Version, BuiltAt: m.BuiltAt,
		Documents: int64(m.Documents), Housenumbers: int64(m.Housenumbers),
		Attribution: m.Attribution, Licence: m.Licence}, true
}

// AdminHandler is the admin listener's handler, for tests and embedding.
func (s *Server) AdminHandler() http.Handler { return s.admin }

// Handler is the full middleware chain and API, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// Holder returns the engine holder (to swap the index).
func (s *Server) Holder() *Holder { return s.holder }

// ListenAndServe listens on cfg.Addr (and cfg.AdminAddr) and serves until
// ctx ends.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", s.cfg.Addr, err)
	}
	var admin net.Listener
	if s.cfg.AdminAddr != "" {
		if admin, err = net.Listen("tcp", s.cfg.AdminAddr); err != nil {
			ln.Close()
			return fmt.Errorf("cannot listen on the admin address %s: %w", s.cfg.AdminAddr, err)
		}
	}
	return s.ServeWithAdmin(ctx, ln, admin)
}

// Serve answers on ln until ctx ends, then shuts down gracefully: /health
// turns 503, new connections are refused, in-flight requests finish (for
// at most ShutdownTimeout).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return s.ServeWithAdmin(ctx, ln, nil)
}

// ServeWithAdmin is Serve with the admin handler on a second listener
// (nil: none). The admin listener stays up while the public one drains,
// and closes after it.
func (s *Server) ServeWithAdmin(ctx context.Context, ln, adminLn net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		// Requests must outlive ctx: draining means letting them finish.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	var adminSrv *http.Server
	if adminLn != nil {
		adminSrv = s.adminServer()
		go adminSrv.Serve(adminLn)
		s.log.Info("admin listening (pprof, expvar, metrics)", "addr", adminLn.Addr().String())
		s.warnIfAdminExposed(adminLn.Addr())
		defer adminSrv.Close()
	}
	if s.dash != nil {
		// The sampler lives as long as the public listener serves,
		// draining included, and is gone when ServeWithAdmin returns.
		dctx, stop := context.WithCancel(context.Background())
		sampled := make(chan struct{})
		go func() { defer close(sampled); s.dash.Run(dctx) }()
		defer func() { stop(); <-sampled }()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	// From now on every answer says "Connection: close" and idle
	// connections are closed: clients that reach this replica through an
	// L4 balancer (a Kubernetes Service, kube-proxy) or a pool that does
	// not watch readiness open their next connection anew, and the balancer
	// sends it to a replica that is not leaving. Without this they would
	// reuse their connection until the listener closes and race its close.
	srv.SetKeepAlivesEnabled(false)
	s.log.Info("shutting down: draining in-flight requests", "timeout", s.cfg.ShutdownTimeout.String(), "delay", s.cfg.ShutdownDelay.String())
	if s.cfg.ShutdownDelay > 0 {
		time.Sleep(s.cfg.ShutdownDelay)
	}
	// Load balancers have had the delay to notice: from now on, queued
	// and new requests are refused (503) rather than started.
	s.cfg.Admission.Drain()
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		s.log.Warn("shutdown timeout: closing the remaining connections", "err", err)
		srv.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	s.log.Info("stopped")
	if errors.Is(err, context.DeadlineExceeded) {
		return nil // reported above; the process still exits cleanly
	}
	return err
}
