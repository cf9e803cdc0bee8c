package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"balise/internal/httpapi"
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
	AccessLog      bool
	Compression    bool
	API            httpapi.Options // Engines and Draining are set by New
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
		AccessLog:         true,
		Compression:       true,
	}
}

// Server is the HTTP server of one API.
type Server struct {
	cfg      Config
	holder   *Holder
	log      *slog.Logger
	handler  http.Handler
	draining atomic.Bool
}

// New builds a server answering with the engines of holder.
func New(cfg Config, holder *Holder, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{cfg: cfg, holder: holder, log: log}
	api := cfg.API
	api.Engines = holder
	api.Draining = s.draining.Load
	if api.Logger == nil {
		api.Logger = log
	}
	mws := []Middleware{RequestID()}
	if cfg.AccessLog {
		mws = append(mws, AccessLog(log))
	}
	mws = append(mws, Recover(log, api.Flavour))
	if cfg.Compression {
		c, err := Compress()
		if err != nil {
			return nil, err
		}
		mws = append(mws, c)
	}
	s.handler = Chain(httpapi.New(api), mws...)
	return s, nil
}

// Handler is the full middleware chain and API, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// Holder returns the engine holder (to swap the index).
func (s *Server) Holder() *Holder { return s.holder }

// ListenAndServe listens on cfg.Addr and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve answers on ln until ctx ends, then shuts down gracefully: /health
// turns 503, new connections are refused, in-flight requests finish (for
// at most ShutdownTimeout).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
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
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.log.Info("shutting down: draining in-flight requests", "timeout", s.cfg.ShutdownTimeout.String(), "delay", s.cfg.ShutdownDelay.String())
	if s.cfg.ShutdownDelay > 0 {
		time.Sleep(s.cfg.ShutdownDelay)
	}
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
