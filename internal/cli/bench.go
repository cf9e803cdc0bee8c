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

func runBench(ctx context.Context, env Env, args []string) error {
	if len(args) > 0 && args[0] == "report" {
		return runBenchReport(env, args[1:])
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	target := fs.String("target", "http://127.0.0.1:7878", "server `URL` (balise or Addok), or \"inprocess\" to call the engine directly")
	indexPath := fs.String("index", "", "index `file` for --target inprocess, and to generate requests from (default: the bundled Paris sample)")
	rate := fs.Float64("rate", 0, "requests per second (open loop); 0 runs closed loop; the first rate of --step")
	duration := fs.Duration("duration", 10*time.Second, "how long to run (per step with --step); 0 with --requests runs until the count")
	requests := fs.Int64("requests", 0, "stop after this many requests (0: no count)")
	concurrency := fs.Int("concurrency", 0, fmt.Sprintf("closed loop: workers (default %d); open loop: most requests in flight (default %d)", bench.DefaultClosedConcurrency, bench.DefaultOpenConcurrency))
	queries := fs.String("queries", "", "`file` of requests, one per line (paths, URLs, query text or relevance JSON lines)")
	generate := fs.String("generate", "", "generate requests from this Addok ndjson `file` or balise index")
	count := fs.Int("generate-count", 5000, "how many distinct requests to generate")
	mixName := fs.String("mix", "search", "generated request mix: search, autocomplete, reverse or mixed")
	seed := fs.Uint64("seed", 1, "seed of the generator (and of the sampler unless --sample-seed)")
	sampleSeed := fs.Uint64("sample-seed", 0, "seed of the --zipf draws (default: --seed); another value replays the same list in another order")
	zipf := fs.Float64("zipf", 0, "repeat distribution: 0 sends the list in turn, s>0 draws with Zipf's law of parameter s (cache realism)")
	format := fs.String("format", "text", "report format: text, json, html or markdown")
	out := fs.String("out", "", "write the report to this `file` (default: standard output)")
	label := fs.String("label", "", "name of the run in reports")
	step := fs.Bool("step", false, "step mode: raise the rate until the latency SLO breaks")
	slo := fs.Duration("slo", 50*time.Millisecond, "step mode: latency bound")
	sloP := fs.Float64("slo-percentile", 99, "step mode: the percentile held to --slo")
	stepFactor := fs.Float64("step-factor", 1.5, "step mode: rate growth between steps")
	stepMax := fs.Int("step-max", 16, "step mode: most steps")
	stepRetries := fs.Int("step-retries", 1, "step mode: re-runs of a failing step before it counts as failed (a shared machine's stalls break short steps)")
	allowRemote := fs.Bool("allow-remote", false, "allow a target that is not a loopback address")
	timeout := fs.Duration("timeout", 5*time.Second, "per-request timeout; also how long requests in flight at the end may finish")
	warmup := fs.Duration("warmup", 0, "send unrecorded requests for this long first (page cache, connections)")
	quiet := fs.Bool("quiet", false, "no progress display")
	writeReqs := fs.String("write-requests", "", "write the request list to this `file` and exit: a --queries file, or with a .csv name a CSV for /search/csv or /reverse/csv")
	gzip := fs.Bool("gzip", true, "ask for gzip answers as browsers do (the server's compression is then measured too)")
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
	if *duration < 0 || *requests < 0 || *rate < 0 || *concurrency < 0 || *timeout <= 0 || *warmup < 0 {
		return usageError{"--duration, --requests, --rate, --concurrency and --warmup must not be negative, --timeout must be positive"}
	}
	if *duration == 0 && *requests == 0 {
		return usageError{"give a --duration or a --requests count: a run must stop"}
	}
	if *step && *duration == 0 {
		return usageError{"--step needs a --duration per step"}
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if !(*zipf >= 0) {
		return usageError{"--zipf must be 0 (the list in turn) or positive"}
	}
	mix, err := bench.ParseMix(*mixName)
	if err != nil {
		return usageError{err.Error()}
	}
	if *queries != "" && *generate != "" {
		return usageError{"--queries and --generate are exclusive"}
	}

	// The target first: a refused target should fail before any work.
	var tgt bench.Target
	var served *index.Index // the in-process target's index, also the default request source
	if *target == "inprocess" || *target == "in-process" {
		e, err := openEngine(ctx, *indexPath, "", search.DefaultConfig(), false)
		if err != nil {
			return err
		}
		defer e.Index().Close()
		tgt = bench.NewInProcess(e)
		served = e.Index()
	} else if *writeReqs == "" { // writing the list needs no target
		conns := *concurrency
		if conns == 0 {
			conns = bench.DefaultOpenConcurrency
		}
		h, err := bench.NewHTTP(*target, bench.HTTPOptions{Timeout: *timeout, MaxConns: conns, AllowRemote: *allowRemote, DisableCompression: !*gzip})
		if err != nil {
			if errors.Is(err, bench.ErrRemoteTarget) {
				return usageError{err.Error()}
			}
			return err
		}
		defer h.Close()
		tgt = h
	}

	// Then the requests.
	var reqs []bench.Request
	var src string
	switch {
	case *queries != "":
		f, err := os.Open(*queries)
		if err != nil {
			return err
		}
		reqs, err = bench.ParseQueries(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *queries, err)
		}
		src, mix = filepath.Base(*queries), ""
	default:
		var corpus *bench.Corpus
		genFrom := *generate
		if genFrom == "" && served == nil {
			genFrom = *indexPath
		}
		switch {
		case genFrom != "":
			corpus, err = bench.LoadCorpus(genFrom, *seed)
			src = filepath.Base(genFrom)
		case served != nil: // the target's index, already open
			corpus, err = bench.CorpusFromIndex(served, *seed)
			src = filepath.Base(served.Path())
		default:
			// An HTTP target without a request source: the bundled sample
			// (Paris), which a server on other data will mostly not find;
			// the non-empty rate says so.
			fmt.Fprintln(env.Stderr, "bench: generating requests from the bundled Paris sample (use --generate or --queries for other data)")
			corpus, err = bench.CorpusFromBytes(sample.Data(), *seed)
			src = "bundled sample"
		}
		if err != nil {
			return err
		}
		reqs, err = bench.Generate(corpus, mix, *count, *seed)
		if err != nil {
			return err
		}
	}
	if *writeReqs != "" {
		f, err := os.Create(*writeReqs)
		if err != nil {
			return err
		}
		err = bench.WriteRequests(f, reqs, strings.HasSuffix(strings.ToLower(*writeReqs), ".csv"))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			fmt.Fprintf(env.Stderr, "bench: wrote %d requests to %s\n", len(reqs), *writeReqs)
		}
		return err
	}
	ss := *seed
	if *sampleSeed != 0 {
		ss = *sampleSeed
	}
	sampler, err := bench.NewSampler(len(reqs), *zipf, ss)
	if err != nil {
		return usageError{err.Error()}
	}

	cfg := bench.Config{Target: tgt, Requests: reqs, Sampler: sampler, Rate: *rate, Concurrency: *concurrency,
		Duration: *duration, MaxRequests: *requests, Grace: *timeout, Warmup: *warmup}
	if !*quiet {
		cfg.Progress = progressPrinter(env.Stderr)
	}
	var res *bench.Result
	if *step {
		sc := bench.StepConfig{Start: *rate, Factor: *stepFactor, MaxSteps: *stepMax, SLO: *slo, SLOPercentile: *sloP, Retries: *stepRetries}
		if *stepRetries == 0 {
			sc.Retries = -1
		}
		if !*quiet {
			sc.OnStep = func(s bench.Step) {
				verdict := "ok"
				if !s.Pass {
					verdict = "fail: " + s.Why
				}
				clear := ""
				if progress.IsTerminal(env.Stderr) {
					clear = "\r\033[K"
				}
				fmt.Fprintf(env.Stderr, "%sbench: step %g req/s → %.1f req/s, p50 %.2f ms, p%g %.2f ms, errors %.2f%%: %s\n",
					clear, s.Rate, s.Throughput, s.P50, *sloP, s.PSLO, 100*s.ErrorRate, verdict)
			}
			cfg.Progress = nil // one line per step is enough
		}
		res, err = bench.StepRun(ctx, cfg, sc)
	} else {
		res, err = bench.Run(ctx, cfg)
	}
	if err != nil {
		return err
	}
	res.Label, res.Source, res.Mix, res.Seed, res.Zipf = *label, src, string(mix), *seed, *zipf
	if err := writeReport(env, *out, *format, []*bench.Result{res}); err != nil {
		return err
	}
	if res.Interrupted {
		return errors.New("interrupted: the report holds partial figures")
	}
	return nil
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
