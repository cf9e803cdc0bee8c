package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"balise/internal/cache"
	"balise/internal/httpapi"
	"balise/internal/memlimit"
	"balise/internal/server"
	"balise/internal/telemetry"
	"balise/internal/web"
)

func init() {
	register(command{"serve", "run the Addok-compatible HTTP API", runServe})
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
	if v := n * mult; v >= math.MaxInt64 {
		return fmt.Errorf("size %q is too large", s)
	}
	*b = byteSize(n * mult)
	return nil
}

// serveFlags are serve's flags, grouped by what they configure.
type serveFlags struct {
	ef                *engineFlags
	addr              *string
	flavour           *string
	readHeader        *time.Duration
	read              *time.Duration
	write             *time.Duration
	idle              *time.Duration
	shutdown          *time.Duration
	shutdownDelay     *time.Duration
	csvIdle           *time.Duration
	maxHeader         byteSize
	maxQuery          byteSize
	maxUpload         byteSize
	reverseMax        *int
	csvWorkers        *int
	batchBudget       *time.Duration
	compression       *bool
	accessLog         *bool
	logFormat         *string
	logLevel          *string
	logQueries        *bool
	logFlush          *time.Duration
	accessSample      *float64
	metricsOn         *bool
	publicMetrics     *bool
	dashboard         *bool
	webOn             *bool
	tilesURL          *string
	tilesAttribution  *string
	adminAddr         *string
	traceRatio        *float64
	reloadPoll        *time.Duration
	noVerify          *bool
	indexCheck        *time.Duration
	csvMinRate        byteSize
	cacheControl      *string
	maxFilterValues   *int
	lf                *limitFlags
	adminAllowedHosts *string
	adminToken        *string
	adminMaxProfile   *time.Duration
	memoryLimit       *string
	csvEscape         *bool
	cacheSize         byteSize
	ttlExact          *time.Duration
	ttlFuzzy          *time.Duration
	ttlNotFound       *time.Duration
	redisURL          *string
	redisCluster      *bool
	redisTimeout      *time.Duration
}

// addServeFlags declares serve's flags on fs.
func addServeFlags(fs *flag.FlagSet) *serveFlags {
	f := &serveFlags{}
	d := server.DefaultConfig()
	f.ef = addEngineFlags(fs)
	f.addr = fs.String("addr", d.Addr, "`host:port` to listen on")
	f.flavour = fs.String("flavour", "addok", "API flavour: addok (Addok 1.3's HTTP API) or ban (addok-server, the national address API's front: its validation, error bodies and CSV columns)")
	f.readHeader = fs.Duration("read-header-timeout", d.ReadHeaderTimeout, "time to read a request's headers")
	f.read = fs.Duration("read-timeout", d.ReadTimeout, "time to read a whole request (CSV uploads push it while data flows, see --csv-idle-timeout)")
	f.write = fs.Duration("write-timeout", d.WriteTimeout, "time to write an answer (CSV answers push it while data flows)")
	f.idle = fs.Duration("idle-timeout", d.IdleTimeout, "keep-alive connections idle longer are closed")
	f.shutdown = fs.Duration("shutdown-timeout", d.ShutdownTimeout, "on SIGTERM/SIGINT, time given to in-flight requests to finish")
	f.shutdownDelay = fs.Duration("shutdown-delay", 0, "on SIGTERM/SIGINT, keep serving this long with /health at 503 before closing the listener (for load balancers)")
	f.csvIdle = fs.Duration("csv-idle-timeout", 60*time.Second, "a CSV upload or download making no progress for this long is cut")
	f.maxHeader = byteSize(d.MaxHeaderBytes)
	fs.Var(&f.maxHeader, "max-header-bytes", "largest request line + headers (431 above)")
	f.maxQuery = byteSize(8 << 10)
	fs.Var(&f.maxQuery, "max-query-bytes", "largest GET query string (414 above)")
	f.maxUpload = byteSize(50 * 1000 * 1000)
	fs.Var(&f.maxUpload, "max-upload-size", "largest CSV upload (413 above), e.g. 50MB, 1GB")
	f.reverseMax = fs.Int("reverse-max-limit", 100, "cap on /reverse's limit (Addok has none)")
	f.csvWorkers = fs.Int("csv-workers", runtime.GOMAXPROCS(0), "goroutines geocoding the rows of one CSV file")
	f.batchBudget = fs.Duration("batch-time-budget", time.Second, "--time-budget for CSV rows and /batch items: larger, so that a loaded server still writes the same file")
	f.compression = fs.Bool("compression", true, "compress answers with gzip or zstd when the client accepts it")
	f.accessLog = fs.Bool("access-log", true, "log one line per request")
	f.logFormat = fs.String("log-format", "json", "log format: json or text")
	f.logLevel = fs.String("log-level", "info", "log level: debug, info, warn or error")
	f.logQueries = fs.Bool("log-queries", false, "write the query text in access-log lines (addresses are personal data: off by default)")
	f.logFlush = fs.Duration("log-flush", telemetry.DefaultConfig().LogFlush, "batch log lines written to stdout and write them this often (one write per batch, not per line); 0 writes each line at once")
	f.accessSample = fs.Float64("access-log-sample", 1, "fraction (0 to 1) of ordinary requests the access log keeps; errors and requests slower than 100 ms are always logged")
	f.metricsOn = fs.Bool("metrics", true, "Prometheus metrics and tracing (false: neither; the access log is the same either way)")
	f.publicMetrics = fs.Bool("public-metrics", true, "also serve GET /metrics on the public listener (it is always on --admin-addr)")
	f.dashboard = fs.Bool("dashboard", true, "serve the live dashboard at /dashboard on the public listener (needs --metrics: it reads their counters)")
	f.webOn = fs.Bool("web", true, "serve the page for people at / (search as you type on a map, reverse by click, CSV geocoding) and its files under /web/")
	f.tilesURL = fs.String("tiles-url", web.DefaultTilesURL, "map tiles of the page, a Leaflet URL template; empty: no tiles (markers on a plain background, no request to a third party)")
	f.tilesAttribution = fs.String("tiles-attribution", web.DefaultTilesAttribution, "attribution of the --tiles-url tiles, shown on the map")
	f.adminAddr = fs.String("admin-addr", d.AdminAddr, "`host:port` of the admin listener: pprof (/debug/pprof/), expvar (/debug/vars), /metrics, /health/ready; empty disables it. Keep it private")
	f.traceRatio = fs.Float64("trace-ratio", 0, "sample this fraction (0 to 1) of new traces when tracing is on (OTEL_TRACES_EXPORTER=otlp or an OTEL_EXPORTER_OTLP_*ENDPOINT); 0 defers to OTEL_TRACES_SAMPLER_ARG, else 1")
	f.reloadPoll = fs.Duration("reload-poll", 0, "check the index file this often and reload it when it has been replaced (0: only on SIGHUP or POST /admin/reload)")
	f.noVerify = fs.Bool("no-verify", false, "open the index at start without checking every section's checksum (faster start on a huge file; a corrupt file is then only found when read)")
	f.indexCheck = fs.Duration("index-check-interval", server.DefaultIndexCheckInterval, "how often the served file is checked for a truncation or an in-place rewrite under its mapping (answers 503 and reloads it)")
	f.csvMinRate = byteSize(1000)
	fs.Var(&f.csvMinRate, "csv-min-rate", "slowest a CSV upload or download may be, in bytes per second, while balise waits for the client (over 5 s of waiting); 0 disables it")
	f.cacheControl = fs.String("http-cache-control", httpapi.DefaultCacheControl, "Cache-Control header of successful GET answers (e.g. \"public, max-age=86400\" behind a CDN; errors, CSV and /batch answers are never stored)")
	f.maxFilterValues = fs.Int("max-filter-values", httpapi.DefaultMaxFilterValues, "most distinct values one filter may have in one request (400 above; the engine uses the first ten, as Addok)")
	f.lf = addLimitFlags(fs)
	f.adminAllowedHosts = fs.String("admin-allowed-hosts", "", "comma-separated Host names the admin listener also answers besides localhost, loopback addresses and its own address (\"*\": any); others get 421")
	f.adminToken = fs.String("admin-token", "", "bearer token every admin route but GET /health requires (give it as BALISE_ADMIN_TOKEN or BALISE_ADMIN_TOKEN_FILE: argv is visible to local users)")
	f.adminMaxProfile = fs.Duration("admin-max-profile", server.DefaultAdminMaxProfile, "longest pprof profile, trace or delta profile (seconds=) the admin listener takes")
	f.memoryLimit = fs.String("memory-limit", "auto", "Go memory limit unless GOMEMLIMIT is set: auto (90% of the cgroup memory limit, none without one), off, a percentage of the cgroup limit (80%), or a size (2GiB)")
	f.csvEscape = fs.Bool("csv-escape-formulas", false, "prefix with ' the CSV output cells a spreadsheet would run as formulas (first character = + - @ tab CR; plain numbers kept); off: Addok's exact output")
	cd := cache.DefaultConfig()
	f.cacheSize = byteSize(cd.MaxBytes)
	fs.Var(&f.cacheSize, "cache-size", "L1 answer cache budget in bytes (e.g. 256MiB); 0 disables L1")
	f.ttlExact = fs.Duration("cache-ttl-exact", cd.TTL.Exact, "cache lifetime of answers matched without fuzzy matching")
	f.ttlFuzzy = fs.Duration("cache-ttl-fuzzy", cd.TTL.Fuzzy, "cache lifetime of answers that needed fuzzy matching")
	f.ttlNotFound = fs.Duration("cache-ttl-not-found", cd.TTL.NotFound, "cache lifetime of answers with no result")
	f.redisURL = fs.String("redis-url", "", "Redis L2 cache (optional): redis://[user:pass@]host:port[/db] (or rediss://) for one node; a comma-separated list of host:port or redis:// URLs for a Cluster")
	f.redisCluster = fs.Bool("redis-cluster", false, "treat a single --redis-url as a Cluster seed")
	f.redisTimeout = fs.Duration("redis-timeout", cd.RedisTimeout, "bound on each L2 read (a slow Redis never costs a request more than this, until the breaker opens)")
	return f
}

func runServe(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	f := addServeFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: balise serve [flags]\n\nServes the Addok HTTP API (GET /search, /reverse, /health, /health/ready, /get/{id},\n/openapi.json, /metrics; POST /search/csv, /reverse/csv, /batch) and an admin listener\n(pprof, expvar, /metrics, POST /admin/reload). SIGHUP reloads the index file (swapped in\nwithout failing a request; refused, and the old one kept, if its checksums fail). Every flag can also be set as BALISE_<FLAG>,\nor BALISE_<FLAG>_FILE naming a file that holds it (secrets); tracing reads the standard OTEL_* variables.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := f.serviceConfig(env)
	if err != nil {
		return err
	}
	f.ef.setGC(env)
	svc, err := server.Build(ctx, cfg)
	if err != nil {
		var ce *server.ConfigError
		if errors.As(err, &ce) {
			return usageError{err.Error()}
		}
		return err
	}
	defer svc.Close(ctx)
	return svc.Run(ctx)
}

// serviceConfig is what the flags describe, checked: a bad value is a
// usageError before anything starts.
func (f *serveFlags) serviceConfig(env Env) (server.ServiceConfig, error) {
	fl, err := httpapi.ParseFlavour(*f.flavour)
	if err != nil {
		return server.ServiceConfig{}, usageError{err.Error()}
	}
	tcfg, err := f.telemetryConfig(env)
	if err != nil {
		return server.ServiceConfig{}, err
	}
	rl, err := f.lf.rateLimitConfig()
	if err != nil {
		return server.ServiceConfig{}, err
	}
	return server.ServiceConfig{
		Server:             f.serverConfig(fl),
		Telemetry:          tcfg,
		Metrics:            *f.metricsOn,
		Cache:              f.cacheConfig(),
		CacheKeys:          cache.KeyConfig{MaxFilterValues: f.ef.config().MaxFilterValues},
		RateLimit:          rl,
		RateLimitKeySecret: *f.lf.keySecret,
		Admission:          f.lf.admissionConfig(),
		MemoryLimit:        memlimit.Options{Value: *f.memoryLimit, Getenv: env.Getenv},
		Open:               f.ef.open,
		BatchTimeBudget:    *f.batchBudget,
		Verify:             !*f.noVerify,
		IndexCheckInterval: *f.indexCheck,
		ReloadPoll:         *f.reloadPoll,
	}, nil
}

// telemetryConfig checks the logging flags and gives the configuration of
// logs, metrics and traces.
func (f *serveFlags) telemetryConfig(env Env) (telemetry.Config, error) {
	tcfg := telemetry.DefaultConfig()
	tcfg.Version = buildVersion()
	tcfg.LogLevel, tcfg.LogFormat, tcfg.LogOutput = *f.logLevel, *f.logFormat, env.Stdout
	tcfg.LogQueries = *f.logQueries
	tcfg.AccessLog = *f.accessLog
	tcfg.AccessLogSample = *f.accessSample
	tcfg.LogFlush = *f.logFlush
	tcfg.TraceSampleRatio = *f.traceRatio
	if _, err := telemetry.ParseLevel(*f.logLevel); err != nil {
		return tcfg, usageError{fmt.Sprintf("invalid --log-level %q (debug, info, warn, error)", *f.logLevel)}
	}
	if *f.logFormat != "json" && *f.logFormat != "text" {
		return tcfg, usageError{fmt.Sprintf("invalid --log-format %q (json or text)", *f.logFormat)}
	}
	if *f.logFlush < 0 || *f.logFlush > time.Minute {
		return tcfg, usageError{"--log-flush must be within [0, 1m]"}
	}
	if *f.accessSample < 0 || *f.accessSample > 1 || *f.traceRatio < 0 || *f.traceRatio > 1 {
		return tcfg, usageError{"--access-log-sample and --trace-ratio must be within [0, 1]"}
	}
	return tcfg, nil
}

// cacheConfig is the answer cache's configuration (L1 and the optional
// Redis L2).
func (f *serveFlags) cacheConfig() cache.Config {
	ccfg := cache.DefaultConfig()
	ccfg.MaxBytes = int64(f.cacheSize)
	ccfg.TTL = cache.TTLs{Exact: *f.ttlExact, Fuzzy: *f.ttlFuzzy, NotFound: *f.ttlNotFound}
	ccfg.RedisURL, ccfg.RedisCluster = redisURLOf(*f.redisURL)
	ccfg.RedisCluster = ccfg.RedisCluster || *f.redisCluster
	ccfg.RedisTimeout = *f.redisTimeout
	return ccfg
}

// serverConfig is the server's configuration from the flags (the parts
// built at run time are set by server.Build).
func (f *serveFlags) serverConfig(fl httpapi.Flavour) server.Config {
	return server.Config{
		Addr:              *f.addr,
		ReadHeaderTimeout: *f.readHeader,
		ReadTimeout:       *f.read,
		WriteTimeout:      *f.write,
		IdleTimeout:       *f.idle,
		ShutdownTimeout:   *f.shutdown,
		ShutdownDelay:     *f.shutdownDelay,
		MaxHeaderBytes:    int(f.maxHeader),
		Compression:       *f.compression,
		AdminAddr:         *f.adminAddr,
		AdminAllowedHosts: strings.FieldsFunc(*f.adminAllowedHosts, func(r rune) bool { return r == ',' || r == ' ' }),
		AdminToken:        *f.adminToken,
		AdminMaxProfile:   *f.adminMaxProfile,
		PublicMetrics:     *f.publicMetrics,
		Dashboard:         *f.dashboard,
		Web:               f.web(),
		Version:           buildVersion(),
		API: httpapi.Options{
			LogQueries:        *f.logQueries,
			Flavour:           fl,
			MaxUploadBytes:    int64(f.maxUpload),
			MaxQueryBytes:     int(f.maxQuery),
			ReverseMaxLimit:   *f.reverseMax,
			CSVWorkers:        *f.csvWorkers,
			CSVIdleTimeout:    *f.csvIdle,
			CSVMinRate:        int64(f.csvMinRate),
			CacheControl:      *f.cacheControl,
			CSVEscapeFormulas: *f.csvEscape,
			MaxFilterValues:   *f.maxFilterValues,
		},
	}
}

// redisURLOf reads --redis-url: one URL is used as is; a comma-separated
// list (host:port or redis:// URLs) becomes go-redis' Cluster URL, the
// first as the seed and the others as addr parameters.
func redisURLOf(s string) (url string, cluster bool) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, ",") {
		if s != "" && !strings.Contains(s, "://") {
			s = "redis://" + s
		}
		return s, false
	}
	var first string
	var addrs []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if first == "" {
			first = p
			if !strings.Contains(first, "://") {
				first = "redis://" + first
			}
			continue
		}
		if i := strings.Index(p, "://"); i >= 0 {
			p = p[i+3:]
		}
		if i := strings.IndexAny(p, "/?"); i >= 0 {
			p = p[:i]
		}
		if i := strings.LastIndex(p, "@"); i >= 0 {
			p = p[i+1:]
		}
		addrs = append(addrs, "addr="+p)
	}
	if len(addrs) == 0 {
		return first, true
	}
	sep := "?"
	if strings.Contains(first, "?") {
		sep = "&"
	}
	return first + sep + strings.Join(addrs, "&"), true
}

// buildVersion is the main module's version (a VCS revision for a
// development build), for /health/ready and balise_build_info.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "dev-" + s.Value[:12]
		}
	}
	return "dev"
}

// web is the page's configuration, nil with --web=false.
func (f *serveFlags) web() *web.Options {
	if !*f.webOn {
		return nil
	}
	return &web.Options{TilesURL: *f.tilesURL, TilesAttribution: *f.tilesAttribution}
}
