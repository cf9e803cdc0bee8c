package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"balise/internal/httpapi"
	"balise/internal/index"
	"balise/internal/sample"
	"balise/internal/search"
	"balise/internal/server"
	"balise/internal/text"
)

func init() {
	register(command{"serve", "run the Addok-compatible HTTP API", runServe})
}

// engineFlags are the search settings shared by serve and geocode.
type engineFlags struct {
	index           *string
	cacheDir        *string
	commonThreshold *int
	queryMaxLength  *int
	timeBudget      *time.Duration
	fuzzy           *int
	gcPercent       *int
}

func addEngineFlags(fs *flag.FlagSet) *engineFlags {
	d := search.DefaultConfig()
	return &engineFlags{
		index:           fs.String("index", "", "index `file` (default: the bundled Paris sample, built on first use into the cache directory)"),
		cacheDir:        fs.String("cache-dir", "", "where the bundled sample index is built (default: the user cache directory)"),
		commonThreshold: fs.Int("common-threshold", d.CommonThreshold, "tokens found in more documents than this are \"common\" (Addok's COMMON_THRESHOLD; lower it on small indexes)"),
		queryMaxLength:  fs.Int("query-max-length", d.QueryMaxLength, "longest query accepted, in folded characters (longer: 413; Addok's QUERY_MAX_LENGTH)"),
		timeBudget:      fs.Duration("time-budget", d.TimeBudget, "time one search may spend collecting candidates before answering with what it has (0: unbounded)"),
		fuzzy:           fs.Int("fuzzy", d.Fuzzy, "typo tolerance: 1 tries one-edit variants when nothing matches, 0 disables it"),
		gcPercent:       fs.Int("gc-percent", 400, "Go GC target (GOGC) unless GOGC is set: the index is memory-mapped, so the heap is small and the default 100 collects far too often (400 gave 1.7x the /search throughput)"),
	}
}

// open opens the index (or the sample) and builds the engine.
func (f *engineFlags) open(ctx context.Context, env Env) (*search.Engine, error) {
	if env.Getenv("GOGC") == "" && *f.gcPercent > 0 {
		debug.SetGCPercent(*f.gcPercent)
	}
	path := *f.index
	if path == "" {
		p, err := sample.Path(ctx, *f.cacheDir)
		if err != nil {
			return nil, fmt.Errorf("cannot prepare the bundled sample index: %w", err)
		}
		path = p
	}
	ix, err := index.Open(path, index.OpenOptions{})
	if err != nil {
		return nil, err
	}
	cfg := search.DefaultConfig()
	cfg.CommonThreshold = *f.commonThreshold
	cfg.QueryMaxLength = *f.queryMaxLength
	cfg.TimeBudget = *f.timeBudget
	cfg.Fuzzy = *f.fuzzy
	e, err := search.New(ix, cfg, text.Config{})
	if err != nil {
		ix.Close()
		return nil, err
	}
	return e, nil
}

// byteSize is a flag holding a size: 50MB, 50MiB, 1GB, 512KiB or bytes.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(s)
	}
	mult := map[string]float64{"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9,
		"K": 1 << 10, "KIB": 1 << 10, "M": 1 << 20, "MIB": 1 << 20, "G": 1 << 30, "GIB": 1 << 30}[strings.ToUpper(strings.TrimSpace(s[i:]))]
	n, err := strconv.ParseFloat(s[:i], 64)
	if err != nil || mult == 0 {
		return fmt.Errorf("invalid size %q (examples: 50MB, 64KiB, 1048576)", s)
	}
	*b = byteSize(n * mult)
	return nil
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Sprintf("invalid --log-level %q (debug, info, warn, error)", level)}
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Sprintf("invalid --log-format %q (json or text)", format)}
}

func runServe(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	d := server.DefaultConfig()
	ef := addEngineFlags(fs)
	addr := fs.String("addr", d.Addr, "`host:port` to listen on")
	flavour := fs.String("flavour", "addok", "API flavour: addok (Addok 1.3's HTTP API) or ban (addok-server, the national address API's front: its validation, error bodies and CSV columns)")
	readHeader := fs.Duration("read-header-timeout", d.ReadHeaderTimeout, "time to read a request's headers")
	read := fs.Duration("read-timeout", d.ReadTimeout, "time to read a whole request (CSV uploads push it while data flows, see --csv-idle-timeout)")
	write := fs.Duration("write-timeout", d.WriteTimeout, "time to write an answer (CSV answers push it while data flows)")
	idle := fs.Duration("idle-timeout", d.IdleTimeout, "keep-alive connections idle longer are closed")
	shutdown := fs.Duration("shutdown-timeout", d.ShutdownTimeout, "on SIGTERM/SIGINT, time given to in-flight requests to finish")
	shutdownDelay := fs.Duration("shutdown-delay", 0, "on SIGTERM/SIGINT, keep serving this long with /health at 503 before closing the listener (for load balancers)")
	csvIdle := fs.Duration("csv-idle-timeout", 60*time.Second, "a CSV upload or download making no progress for this long is cut")
	maxHeader := byteSize(d.MaxHeaderBytes)
	fs.Var(&maxHeader, "max-header-bytes", "largest request line + headers (431 above)")
	maxQuery := byteSize(8 << 10)
	fs.Var(&maxQuery, "max-query-bytes", "largest GET query string (414 above)")
	maxUpload := byteSize(50 * 1000 * 1000)
	fs.Var(&maxUpload, "max-upload-size", "largest CSV upload (413 above), e.g. 50MB, 1GB")
	reverseMax := fs.Int("reverse-max-limit", 100, "cap on /reverse's limit (Addok has none)")
	csvWorkers := fs.Int("csv-workers", runtime.GOMAXPROCS(0), "goroutines geocoding the rows of one CSV file")
	batchBudget := fs.Duration("batch-time-budget", time.Second, "--time-budget for CSV rows and /batch items: larger, so that a loaded server still writes the same file")
	gzip := fs.Bool("compression", true, "compress answers with gzip or zstd when the client accepts it")
	accessLog := fs.Bool("access-log", true, "log one line per request")
	logFormat := fs.String("log-format", "json", "log format: json or text")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: balise serve [flags]\n\nServes the Addok HTTP API (GET /search, /reverse, /health, /get/{id}, /openapi.json;\nPOST /search/csv, /reverse/csv, /batch). Every flag can also be set as BALISE_<FLAG>.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	fl, err := httpapi.ParseFlavour(*flavour)
	if err != nil {
		return usageError{err.Error()}
	}
	log, err := newLogger(env.Stdout, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	start := time.Now()
	e, err := ef.open(ctx, env)
	if err != nil {
		return err
	}
	bcfg := e.Config()
	bcfg.TimeBudget = *batchBudget
	batchEngine, err := search.New(e.Index(), bcfg, text.Config{})
	if err != nil {
		e.Index().Close()
		return err
	}
	holder := &server.Holder{}
	holder.SwapWithBatch(e, batchEngine, e.Index().Close)
	defer holder.Close()
	m := e.Index().Meta()
	log.Info("index loaded", "path", e.Index().Path(), "documents", m.Documents, "housenumbers", m.Housenumbers,
		"profile", m.Profile, "filters", m.Filters, "version", m.Version, "built_at", m.BuiltAt,
		"bytes", e.Index().Size(), "open_ms", time.Since(start).Milliseconds(), "flavour", fl.String(),
		"common_threshold", *ef.commonThreshold)

	cfg := server.Config{
		Addr:              *addr,
		ReadHeaderTimeout: *readHeader,
		ReadTimeout:       *read,
		WriteTimeout:      *write,
		IdleTimeout:       *idle,
		ShutdownTimeout:   *shutdown,
		ShutdownDelay:     *shutdownDelay,
		MaxHeaderBytes:    int(maxHeader),
		AccessLog:         *accessLog,
		Compression:       *gzip,
		API: httpapi.Options{
			Flavour:         fl,
			MaxUploadBytes:  int64(maxUpload),
			MaxQueryBytes:   int(maxQuery),
			ReverseMaxLimit: *reverseMax,
			CSVWorkers:      *csvWorkers,
			CSVIdleTimeout:  *csvIdle,
		},
	}
	srv, err := server.New(cfg, holder, log)
	if err != nil {
		return err
	}
	return srv.ListenAndServe(ctx)
}
