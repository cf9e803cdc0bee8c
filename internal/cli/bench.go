package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"balise/internal/bench"
	"balise/internal/index"
	"balise/internal/progress"
	"balise/internal/sample"
	"balise/internal/search"
)

func init() {
	register(command{"bench", "load-test a server or the engine: latency percentiles, throughput, errors (report: render saved results)", runBench})
}

const benchUsage = `Usage: balise bench [flags]
       balise bench report [--format text|json|html|markdown] [--out FILE] RESULT.json...

Sends geocoding requests to --target (a balise or Addok server, or
"inprocess" for the engine alone) and reports latency percentiles (HDR
histogram), throughput, errors by kind and the share of non-empty answers.

  open loop     --rate N: requests are scheduled at N/s and timed from their
                scheduled moment, so a slow server's queue shows (no
                coordinated omission); --concurrency bounds those in flight.
  closed loop   no --rate: --concurrency workers send back to back.
  step          --step: open-loop steps from --rate up (×--step-factor) until
                the --slo-percentile latency passes --slo, then bisection;
                reports the highest sustainable rate.

Requests come from --queries FILE (paths like /search?q=…, URLs, plain query
lines, or the relevance suite's JSON lines), or are generated from --generate
(an ndjson file or an index; default: --index, else the bundled sample) in
the --mix of the relevance suite. The run stops at --duration or --requests,
whichever comes first. Non-loopback targets need --allow-remote.

Flags:`

// benchFlags are bench's flags, grouped by what they configure.
type benchFlags struct {
	target, indexPath    *string
	rate                 *float64
	duration             *time.Duration
	requests             *int64
	concurrency          *int
	queries, generate    *string
	count                *int
	mixName              *string
	seed, sampleSeed     *uint64
	zipf                 *float64
	format, out, label   *string
	step                 *bool
	slo                  *time.Duration
	sloP, stepFactor     *float64
	stepMax, stepRetries *int
	allowRemote          *bool
	timeout, warmup      *time.Duration
	quiet                *bool
	writeReqs            *string
	acceptGzip           *bool
}

// addBenchFlags declares bench's flags on fs.
func addBenchFlags(fs *flag.FlagSet) *benchFlags {
	return &benchFlags{
		target:      fs.String("target", "http://127.0.0.1:7878", "server `URL` (balise or Addok), or \"inprocess\" to call the engine directly"),
		indexPath:   fs.String("index", "", "index `file` for --target inprocess, and to generate requests from (default: the bundled Paris sample)"),
		rate:        fs.Float64("rate", 0, "requests per second (open loop); 0 runs closed loop; the first rate of --step"),
		duration:    fs.Duration("duration", 10*time.Second, "how long to run (per step with --step); 0 with --requests runs until the count"),
		requests:    fs.Int64("requests", 0, "stop after this many requests (0: no count)"),
		concurrency: fs.Int("concurrency", 0, fmt.Sprintf("closed loop: workers (default %d); open loop: most requests in flight (default %d)", bench.DefaultClosedConcurrency, bench.DefaultOpenConcurrency)),
		queries:     fs.String("queries", "", "`file` of requests, one per line (paths, URLs, query text or relevance JSON lines)"),
		generate:    fs.String("generate", "", "generate requests from this Addok ndjson `file` or balise index"),
		count:       fs.Int("generate-count", 5000, "how many distinct requests to generate"),
		mixName:     fs.String("mix", "search", "generated request mix: search, autocomplete, reverse or mixed"),
		seed:        fs.Uint64("seed", 1, "seed of the generator (and of the sampler unless --sample-seed)"),
		sampleSeed:  fs.Uint64("sample-seed", 0, "seed of the --zipf draws (default: --seed); another value replays the same list in another order"),
		zipf:        fs.Float64("zipf", 0, "repeat distribution: 0 sends the list in turn, s>0 draws with Zipf's law of parameter s (cache realism)"),
		format:      fs.String("format", "text", "report format: text, json, html or markdown"),
		out:         fs.String("out", "", "write the report to this `file` (default: standard output)"),
		label:       fs.String("label", "", "name of the run in reports"),
		step:        fs.Bool("step", false, "step mode: raise the rate until the latency SLO breaks"),
		slo:         fs.Duration("slo", 50*time.Millisecond, "step mode: latency bound"),
		sloP:        fs.Float64("slo-percentile", 99, "step mode: the percentile held to --slo"),
		stepFactor:  fs.Float64("step-factor", 1.5, "step mode: rate growth between steps"),
		stepMax:     fs.Int("step-max", 16, "step mode: most steps"),
		stepRetries: fs.Int("step-retries", 1, "step mode: re-runs of a failing step before it counts as failed (a shared machine's stalls break short steps)"),
		allowRemote: fs.Bool("allow-remote", false, "allow a target that is not a loopback address"),
		timeout:     fs.Duration("timeout", 5*time.Second, "per-request timeout; also how long requests in flight at the end may finish"),
		warmup:      fs.Duration("warmup", 0, "send unrecorded requests for this long first (page cache, connections)"),
		quiet:       fs.Bool("quiet", false, "no progress display"),
		writeReqs:   fs.String("write-requests", "", "write the request list to this `file` and exit: a --queries file, or with a .csv name a CSV for /search/csv or /reverse/csv"),
		acceptGzip:  fs.Bool("gzip", true, "ask for gzip answers as browsers do (the server's compression is then measured too)"),
	}
}

func runBench(ctx context.Context, env Env, args []string) error {
	if len(args) > 0 && args[0] == "report" {
		return runBenchReport(env, args[1:])
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	f := addBenchFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, benchUsage)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	mix, err := f.check()
	if err != nil {
		return err
	}
	// The target first: a refused target should fail before any work.
	tgt, served, closeTarget, err := f.openTarget(ctx)
	if err != nil {
		return err
	}
	defer closeTarget()
	reqs, src, mix, err := f.loadRequests(env, served, mix)
	if err != nil {
		return err
	}
	if *f.writeReqs != "" {
		return f.writeRequests(env, reqs)
	}
	res, err := f.run(ctx, env, tgt, reqs)
	if err != nil {
		return err
	}
	res.Label, res.Source, res.Mix, res.Seed, res.Zipf = *f.label, src, string(mix), *f.seed, *f.zipf
	if err := writeReport(env, *f.out, *f.format, []*bench.Result{res}); err != nil {
		return err
	}
	if res.Interrupted {
		return errors.New("interrupted: the report holds partial figures")
	}
	return nil
}

// check refuses flag combinations that cannot run and returns the
// request mix.
func (f *benchFlags) check() (bench.Mix, error) {
	if *f.duration < 0 || *f.requests < 0 || *f.rate < 0 || *f.concurrency < 0 || *f.timeout <= 0 || *f.warmup < 0 {
		return "", usageError{"--duration, --requests, --rate, --concurrency and --warmup must not be negative, --timeout must be positive"}
	}
	if *f.duration == 0 && *f.requests == 0 {
		return "", usageError{"give a --duration or a --requests count: a run must stop"}
	}
	if *f.step && *f.duration == 0 {
		return "", usageError{"--step needs a --duration per step"}
	}
	if err := checkFormat(*f.format); err != nil {
		return "", err
	}
	if !(*f.zipf >= 0) {
		return "", usageError{"--zipf must be 0 (the list in turn) or positive"}
	}
	mix, err := bench.ParseMix(*f.mixName)
	if err != nil {
		return "", usageError{err.Error()}
	}
	if *f.queries != "" && *f.generate != "" {
		return "", usageError{"--queries and --generate are exclusive"}
	}
	return mix, nil
}

// openTarget opens the engine (--target inprocess, whose index is also
// returned, the default request source) or the HTTP client; writing the
// request list needs no target (nil). The returned function closes it.
func (f *benchFlags) openTarget(ctx context.Context) (bench.Target, *index.Index, func(), error) {
	if *f.target == "inprocess" || *f.target == "in-process" {
		e, err := openEngine(ctx, *f.indexPath, "", search.DefaultConfig(), false)
		if err != nil {
			return nil, nil, nil, err
		}
		return bench.NewInProcess(e), e.Index(), func() { e.Index().Close() }, nil
	}
	if *f.writeReqs != "" {
		return nil, nil, func() {}, nil
	}
	conns := *f.concurrency
	if conns == 0 {
		conns = bench.DefaultOpenConcurrency
	}
	h, err := bench.NewHTTP(*f.target, bench.HTTPOptions{Timeout: *f.timeout, MaxConns: conns, AllowRemote: *f.allowRemote, DisableCompression: !*f.acceptGzip})
	if err != nil {
		if errors.Is(err, bench.ErrRemoteTarget) {
			return nil, nil, nil, usageError{err.Error()}
		}
		return nil, nil, nil, err
	}
	return h, nil, func() { h.Close() }, nil
}

// loadRequests reads --queries (the mix is then "") or generates the
// requests, and names their source for the report.
func (f *benchFlags) loadRequests(env Env, served *index.Index, mix bench.Mix) (reqs []bench.Request, src string, _ bench.Mix, err error) {
	if *f.queries != "" {
		fh, err := os.Open(*f.queries)
		if err != nil {
			return nil, "", mix, err
		}
		reqs, err = bench.ParseQueries(fh)
		fh.Close()
		if err != nil {
			return nil, "", mix, fmt.Errorf("%s: %w", *f.queries, err)
		}
		return reqs, filepath.Base(*f.queries), "", nil
	}
	corpus, src, err := f.corpus(env, served)
	if err != nil {
		return nil, "", mix, err
	}
	reqs, err = bench.Generate(corpus, mix, *f.count, *f.seed)
	return reqs, src, mix, err
}

// corpus is what requests are generated from: --generate, else --index,
// else the in-process target's index, else the bundled sample.
func (f *benchFlags) corpus(env Env, served *index.Index) (*bench.Corpus, string, error) {
	genFrom := *f.generate
	if genFrom == "" && served == nil {
		genFrom = *f.indexPath
	}
	switch {
	case genFrom != "":
		c, err := bench.LoadCorpus(genFrom, *f.seed)
		return c, filepath.Base(genFrom), err
	case served != nil: // the target's index, already open
		c, err := bench.CorpusFromIndex(served, *f.seed)
		return c, filepath.Base(served.Path()), err
	}
	// An HTTP target without a request source: the bundled sample (Paris),
	// which a server on other data will mostly not find; the non-empty
	// rate says so.
	fmt.Fprintln(env.Stderr, "bench: generating requests from the bundled Paris sample (use --generate or --queries for other data)")
	c, err := bench.CorpusFromBytes(sample.Data(), *f.seed)
	return c, "bundled sample", err
}

// writeRequests writes the request list to --write-requests (a CSV with a
// .csv name).
func (f *benchFlags) writeRequests(env Env, reqs []bench.Request) error {
	fh, err := os.Create(*f.writeReqs)
	if err != nil {
		return err
	}
	err = bench.WriteRequests(fh, reqs, strings.HasSuffix(strings.ToLower(*f.writeReqs), ".csv"))
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		fmt.Fprintf(env.Stderr, "bench: wrote %d requests to %s\n", len(reqs), *f.writeReqs)
	}
	return err
}

// run sends the requests: one run, or the steps of --step.
func (f *benchFlags) run(ctx context.Context, env Env, tgt bench.Target, reqs []bench.Request) (*bench.Result, error) {
	ss := *f.seed
	if *f.sampleSeed != 0 {
		ss = *f.sampleSeed
	}
	sampler, err := bench.NewSampler(len(reqs), *f.zipf, ss)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	cfg := bench.Config{Target: tgt, Requests: reqs, Sampler: sampler, Rate: *f.rate, Concurrency: *f.concurrency,
		Duration: *f.duration, MaxRequests: *f.requests, Grace: *f.timeout, Warmup: *f.warmup}
	if !*f.quiet {
		cfg.Progress = progressPrinter(env.Stderr)
	}
	if !*f.step {
		return bench.Run(ctx, cfg)
	}
	sc := bench.StepConfig{Start: *f.rate, Factor: *f.stepFactor, MaxSteps: *f.stepMax, SLO: *f.slo, SLOPercentile: *f.sloP, Retries: *f.stepRetries}
	if *f.stepRetries == 0 {
		sc.Retries = -1
	}
	if !*f.quiet {
		sc.OnStep = stepPrinter(env.Stderr, *f.sloP)
		cfg.Progress = nil // one line per step is enough
	}
	return bench.StepRun(ctx, cfg, sc)
}

// stepPrinter writes one line per step of --step.
func stepPrinter(w io.Writer, sloP float64) func(bench.Step) {
	return func(s bench.Step) {
		verdict := "ok"
		if !s.Pass {
			verdict = "fail: " + s.Why
		}
		clear := ""
		if progress.IsTerminal(w) {
			clear = "\r\033[K"
		}
		fmt.Fprintf(w, "%sbench: step %g req/s → %.1f req/s, p50 %.2f ms, p%g %.2f ms, errors %.2f%%: %s\n",
			clear, s.Rate, s.Throughput, s.P50, sloP, s.PSLO, 100*s.ErrorRate, verdict)
	}
}

func checkFormat(f string) error {
	switch f {
	case "text", "json", "html", "markdown":
		return nil
	}
	return usageError{fmt.Sprintf("unknown --format %q (text, json, html or markdown)", f)}
}

func writeReport(env Env, path, format string, rs []*bench.Result) (err error) {
	w := env.Stdout
	if path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}()
		w = f
	}
	switch format {
	case "json":
		if len(rs) == 1 {
			return bench.WriteJSON(w, rs[0])
		}
		for _, r := range rs {
			if err := bench.WriteJSON(w, r); err != nil {
				return err
			}
		}
		return nil
	case "html":
		return bench.WriteHTML(w, rs)
	case "markdown":
		return bench.WriteMarkdown(w, rs)
	}
	for i, r := range rs {
		if i > 0 {
			io.WriteString(w, "\n")
		}
		if err := bench.WriteText(w, r); err != nil {
			return err
		}
	}
	return nil
}

// runBenchReport renders saved JSON results: one run as any format, several
// side by side (markdown rows, overlaid HTML plots).
func runBenchReport(env Env, args []string) error {
	fs := flag.NewFlagSet("bench report", flag.ContinueOnError)
	format := fs.String("format", "markdown", "text, json, html or markdown")
	out := fs.String("out", "", "write to this `file` (default: standard output)")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"usage: balise bench report [--format F] RESULT.json..."}
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	var rs []*bench.Result
	for _, p := range fs.Args() {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		r, err := bench.ReadJSON(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if r.Label == "" {
			r.Label = strings.TrimSuffix(filepath.Base(p), ".json")
		}
		rs = append(rs, r)
	}
	return writeReport(env, *out, *format, rs)
}

// progressPrinter draws one line, redrawn in place on a terminal, or a
// plain line every 5 s otherwise (logs, CI).
func progressPrinter(w io.Writer) func(bench.Snapshot) {
	tty := progress.IsTerminal(w)
	var last time.Duration
	return func(s bench.Snapshot) {
		if !tty && !s.Final && s.Elapsed-last < 5*time.Second {
			return
		}
		last = s.Elapsed
		when := progress.FormatDuration(s.Elapsed)
		if s.Planned > 0 {
			when += "/" + progress.FormatDuration(s.Planned)
		}
		line := fmt.Sprintf("bench: %s sent %d answered %d errors %d non-empty %.1f%% | last %.0f req/s p50 %.2f ms p99 %.2f ms",
			when, s.Sent, s.Answers, s.Errors, pct(s.NonEmpty, s.Answers), s.RPS, s.P50, s.P99)
		if tty {
			end := ""
			if s.Final {
				end = "\n"
			}
			fmt.Fprintf(w, "\r\033[K%s%s", line, end)
			return
		}
		fmt.Fprintln(w, line)
	}
}

func pct(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}
