package cli

import (
	"flag"
	"fmt"
	"os"
	"time"

	"balise/internal/admission"
	"balise/internal/ratelimit"
)

// limitFlags are serve's admission-control flags: per-client rate limits
// and load shedding.
type limitFlags struct {
	rate, batchRate     *float64
	burst, batchBurst   *int
	trustedProxies      *string
	proxyHeader         *string
	ipv6Bits            *int
	keyHeader, keysFile *string
	tableSize           *int
	keySecret           *string
	fallbackReplicas    *int

	admission                       *bool
	maxConcurrency, minConcurrency  *int
	queueSize                       *int
	queueTimeout, batchQueueTimeout *time.Duration
	batchJobs, batchSlots           *int
	batchTargetLoad                 *float64
	runQueueTarget                  *time.Duration
}

func addLimitFlags(fs *flag.FlagSet) *limitFlags {
	f := &limitFlags{
		rate:             fs.Float64("rate-limit", 0, "interactive requests (/search, /reverse, /get) per second per client; 0: no limit (the national address API's public limit is 50)"),
		burst:            fs.Int("rate-burst", 0, "interactive requests a client may send at once above its rate; 0: one second's worth"),
		batchRate:        fs.Float64("batch-rate-limit", 0, "batch units (CSV rows, /batch items) per second per client: a CSV file is paced to it, a larger /batch is refused; 0: no limit"),
		batchBurst:       fs.Int("batch-rate-burst", 0, "batch units a client may use at once; 0: one second's worth"),
		trustedProxies:   fs.String("trusted-proxies", "", "`CIDR,...` of the load balancers whose forwarding header names the client (otherwise the client is the TCP peer, IPv6 grouped by /64)"),
		proxyHeader:      fs.String("proxy-header", "x-forwarded-for", "forwarding header read from a trusted proxy: x-forwarded-for, forwarded or prefer-forwarded"),
		ipv6Bits:         fs.Int("ipv6-client-prefix", ratelimit.DefaultIPv6PrefixBits, "IPv6 clients sharing this many leading bits share a budget (32 to 128)"),
		keyHeader:        fs.String("api-key-header", "X-Api-Key", "request header carrying an API key (with --api-keys)"),
		keysFile:         fs.String("api-keys", "", "`file` of API keys with budgets of their own: \"<name> <key or sha256:hex> [rate=N] [burst=N] [batch-rate=N] [batch-burst=N]\" per line; an unknown key is a 401"),
		tableSize:        fs.Int("rate-limit-clients", ratelimit.DefaultMaxEntries, "client budgets kept in memory (about 44 bytes each); clients beyond share an overflow budget"),
		keySecret:        fs.String("rate-limit-key-secret", "", "secret keying the hash that names clients in Redis (the same on every replica; set it through BALISE_RATE_LIMIT_KEY_SECRET or BALISE_RATE_LIMIT_KEY_SECRET_FILE)"),
		fallbackReplicas: fs.Int("rate-limit-replicas", 1, "replicas sharing the budgets through Redis: while Redis is down each grants 1/N of them, so that together they grant about one budget"),

		admission:         fs.Bool("admission", true, "load shedding: bound the work served at once, queue briefly, answer 503 with Retry-After beyond"),
		maxConcurrency:    fs.Int("max-concurrency", 0, "interactive requests served at once (0: 2 × GOMAXPROCS; the adaptive limit moves between GOMAXPROCS and it)"),
		minConcurrency:    fs.Int("min-concurrency", 0, "floor of the adaptive interactive limit (0: GOMAXPROCS; equal to --max-concurrency: a fixed limit)"),
		queueSize:         fs.Int("queue-size", 0, "interactive requests waiting for a slot (0: 128 × GOMAXPROCS); beyond, or when the predicted wait is too long, 503 at once"),
		batchJobs:         fs.Int("batch-jobs", 0, "CSV files and /batch requests served at once (0: max(4, GOMAXPROCS))"),
		batchSlots:        fs.Int("batch-slots", 0, "cores batch work may use at once across all jobs (0: max(1, GOMAXPROCS/2))"),
		batchTargetLoad:   fs.Float64("batch-target-load", 0, "load (fraction of the cores) up to which batch work fills idle cores (0: 0.5); batch always yields to waiting interactive requests"),
		runQueueTarget:    fs.Duration("run-queue-target", 0, "shed a growing share of interactive requests while goroutines wait longer than this for a core (90th percentile over 10ms; 0: 2ms; negative: off)"),
		queueTimeout:      fs.Duration("queue-timeout", 0, "longest an interactive request waits for a slot (0: 20ms, and 5ms under sustained overload)"),
		batchQueueTimeout: fs.Duration("batch-queue-timeout", 0, "longest a CSV file or /batch request waits to start (0: 2s)"),
	}
	return f
}

// admissionConfig is the load shedder's configuration (nil with
// --admission=false).
func (f *limitFlags) admissionConfig() *admission.Config {
	if !*f.admission {
		return nil
	}
	return &admission.Config{
		InteractiveLimit:     *f.maxConcurrency,
		InteractiveMinLimit:  *f.minConcurrency,
		InteractiveQueue:     *f.queueSize,
		QueueTimeout:         *f.queueTimeout,
		BatchJobs:            *f.batchJobs,
		BatchJobQueueTimeout: *f.batchQueueTimeout,
		BatchSlots:           *f.batchSlots,
		BatchTargetLoad:      *f.batchTargetLoad,
		RunQueueTarget:       max(0, *f.runQueueTarget),
		NoRunQueueShedding:   *f.runQueueTarget < 0,
	}
}

// rateLimitConfig is the per-client limiter's configuration (nil when no
// budget is set and no key file is given); server.Build shares the
// cache's Redis with it when there is one.
func (f *limitFlags) rateLimitConfig() (*ratelimit.Config, error) {
	if *f.rate == 0 && *f.batchRate == 0 && *f.keysFile == "" {
		return nil, nil
	}
	cfg := ratelimit.Config{
		Budgets: ratelimit.Budgets{
			Interactive: ratelimit.Rate{PerSecond: *f.rate, Burst: *f.burst},
			Batch:       ratelimit.Rate{PerSecond: *f.batchRate, Burst: *f.batchBurst},
		},
		IPv6PrefixBits:   *f.ipv6Bits,
		MaxEntries:       *f.tableSize,
		FallbackReplicas: *f.fallbackReplicas,
	}
	for _, r := range []ratelimit.Rate{cfg.Budgets.Interactive, cfg.Budgets.Batch} {
		if err := r.Validate(); err != nil {
			return nil, usageError{fmt.Sprintf("invalid rate limit: %v", err)}
		}
	}
	var err error
	if cfg.TrustedProxies, err = ratelimit.ParseTrustedProxies(*f.trustedProxies); err != nil {
		return nil, usageError{fmt.Sprintf("invalid --trusted-proxies: %v", err)}
	}
	if cfg.ProxyHeader, err = ratelimit.ParseProxyHeader(*f.proxyHeader); err != nil {
		return nil, usageError{fmt.Sprintf("invalid --proxy-header: %v", err)}
	}
	if *f.keysFile != "" {
		if cfg.Keys, err = readKeys(*f.keysFile); err != nil {
			return nil, err
		}
		cfg.KeyHeader = *f.keyHeader
	}
	return &cfg, nil
}

func readKeys(path string) ([]ratelimit.APIKey, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read --api-keys: %w", err)
	}
	defer fh.Close()
	keys, err := ratelimit.ParseKeys(fh)
	if err != nil {
		return nil, fmt.Errorf("--api-keys %s: %w", path, err)
	}
	return keys, nil
}
