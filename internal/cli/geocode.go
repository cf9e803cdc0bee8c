package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"balise/internal/batch"
	"balise/internal/progress"
	"balise/internal/search"
	"balise/internal/source"
)

func init() {
	register(command{"geocode", "geocode a CSV file (the pipeline of POST /search/csv) with a progress bar and a quality summary", runGeocode})
}

func runGeocode(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("geocode", flag.ContinueOnError)
	ef := addEngineFlags(fs)
	// A file must come out the same on a busy machine: a generous budget.
	*ef.timeBudget = time.Second
	fs.Lookup("time-budget").DefValue = "1s"
	out := fs.String("o", "", "output `file` (default: IN.geocoded.csv beside the input; - for standard output)")
	var columns, resultColumns multiFlag
	fs.Var(&columns, "columns", "a column to build the query from (repeat; default: every column)")
	fs.Var(&resultColumns, "result-columns", "a result column to add (repeat; default: the flavour's set)")
	filterCols := map[string]*string{}
	for _, name := range []string{"type", "postcode", "citycode"} {
		filterCols[name] = fs.String(name, "", "`column` holding a "+name+" filter for each row (several values joined with + or spaces)")
	}
	lat := fs.String("lat", "", "latitude `column` (a geo bias; with --reverse, the point: default latitude or lat)")
	lon := fs.String("lon", "", "longitude `column` (default with --reverse: longitude, lon, lng or long)")
	reverse := fs.Bool("reverse", false, "reverse geocode the latitude/longitude columns")
	delimiter := fs.String("delimiter", "", "field delimiter (default: sniffed)")
	encoding := fs.String("encoding", "", "input and output encoding: utf-8, utf-8-sig, windows-1252, latin-1… (default: detected)")
	withBOM := fs.Bool("with-bom", false, "write a UTF-8 BOM")
	flavour := fs.String("flavour", "addok", "output columns: addok (addok-csv's) or ban (the national API's)")
	minScore := fs.Float64("min-score", 0.5, "addok flavour: write a result only when its score rounded to 2 decimals is above this")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "rows geocoded in parallel")
	quiet := fs.Bool("quiet", false, "no progress bar nor summary")
	escapeFormulas := fs.Bool("csv-escape-formulas", false, "prefix with ' the output cells a spreadsheet would run as formulas (first character = + - @ tab CR; plain numbers kept)")
	maxRecord := byteSize(batch.DefaultMaxRecordBytes)
	fs.Var(&maxRecord, "max-record-size", "largest CSV record; a larger one is skipped, reported with its line number and written as an error row")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: balise geocode [flags] IN.csv   (- reads standard input)\n\nWrites IN.geocoded.csv: the input columns unchanged, then the result columns and\nresult_status (ok, not-found, skipped, error), as POST /search/csv does.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError{"one input file expected"}
	}
	opts := batch.Options{
		Columns: columns, ResultColumns: resultColumns,
		LatColumn: *lat, LonColumn: *lon,
		Delimiter: *delimiter, Encoding: *encoding, WithBOM: *withBOM,
		MinScore: *minScore, Workers: *workers, TrackDuplicates: true,
		EscapeFormulas: *escapeFormulas, MaxRecordBytes: int(min(int64(maxRecord), 1<<30)),
		OnPanic: func(v any, stack []byte) {
			fmt.Fprintf(env.Stderr, "internal error (the row is marked error): %s\n%s", search.DescribePanic(v), stack)
		},
	}
	switch *flavour {
	case "addok":
	case "ban":
		opts.Flavour = batch.BAN
	default:
		return usageError{fmt.Sprintf("unknown --flavour %q (addok or ban)", *flavour)}
	}
	if *reverse {
		opts.Mode = batch.Reverse
	}
	for _, name := range []string{"type", "postcode", "citycode"} {
		if c := *filterCols[name]; c != "" {
			opts.Filters = append(opts.Filters, batch.FilterColumn{Filter: name, Column: c})
		}
	}

	inPath := fs.Arg(0)
	var in io.Reader = env.Stdin
	var size int64
	if inPath != "-" {
		f, err := os.Open(inPath)
		if err != nil {
			return err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
		in = f
	}
	counted := source.NewCountingReader(in)

	ef.setGC(env)
	e, err := ef.open(ctx, false)
	if err != nil {
		return err
	}
	defer e.Index().Close()
	known := map[string]bool{}
	for _, f := range e.Filters() {
		known[f] = true
	}
	for _, f := range opts.Filters {
		if !known[f.Filter] {
			return usageError{fmt.Sprintf("--%s: the index has no %s filter (its filters: %s)", f.Filter, f.Filter, strings.Join(e.Filters(), ", "))}
		}
	}
	job, err := batch.NewJob(e, counted, opts)
	if err != nil {
		var be *batch.Error
		if errors.As(err, &be) {
			return fmt.Errorf("%s: %s", inPath, be.Detail)
		}
		return err
	}

	outPath := *out
	if outPath == "" {
		if inPath == "-" {
			outPath = "-"
		} else {
			outPath = strings.TrimSuffix(inPath, filepath.Ext(inPath)) + ".geocoded.csv"
		}
	}
	var w io.Writer = env.Stdout
	var tmp *os.File
	if outPath != "-" {
		tmp, err = os.CreateTemp(filepath.Dir(outPath), "."+filepath.Base(outPath)+".tmp*")
		if err != nil {
			return err
		}
		defer func() {
			if tmp != nil {
				tmp.Close()
				os.Remove(tmp.Name())
			}
		}()
		w = tmp
	}

	var bar *progress.Bar
	if !*quiet {
		bar = progress.New(env.Stderr, "geocode", size, "B")
	}
	start := time.Now()
	sum, err := job.Run(ctx, w, func(rows int64) {
		if bar != nil {
			bar.Set(counted.Count())
		}
	})
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return fmt.Errorf("geocoding stopped after %d rows: %w", sum.Rows, err)
	}
	if tmp != nil {
		// As a file created by -o without a temporary name would be, not
		// CreateTemp's private 0600.
		if err := tmp.Chmod(0o644); err != nil {
			return err
		}
		if err := tmp.Close(); err != nil {
			return err
		}
		if err := os.Rename(tmp.Name(), outPath); err != nil {
			return err
		}
		tmp = nil
	}
	if !*quiet {
		printSummary(env.Stderr, sum, time.Since(start), outPath)
	}
	return nil
}

// printSummary writes the data-quality figures of a finished job.
func printSummary(w io.Writer, s *batch.Summary, d time.Duration, out string) {
	rate := float64(s.Rows) / d.Seconds()
	fmt.Fprintf(w, "geocoded %s rows in %s (%s rows/s) -> %s\n", progress.FormatCount(float64(s.Rows)), d.Round(time.Millisecond), progress.FormatCount(rate), out)
	pct := func(n int64) string {
		if s.Rows == 0 {
			return ""
		}
		return fmt.Sprintf("%5.1f%%", 100*float64(n)/float64(s.Rows))
	}
	fmt.Fprintf(w, "  matched     %10d %s\n", s.OK, pct(s.OK))
	fmt.Fprintf(w, "  not found   %10d %s\n", s.NotFound, pct(s.NotFound))
	fmt.Fprintf(w, "  skipped     %10d %s\n", s.Skipped, pct(s.Skipped))
	fmt.Fprintf(w, "  errors      %10d %s\n", s.Errors, pct(s.Errors))
	if s.RecordErrors > 0 {
		fmt.Fprintf(w, "  skipped records %d (over the size or field caps):\n", s.RecordErrors)
		for _, re := range s.FirstRecordErrors {
			fmt.Fprintf(w, "    %s\n", re.Error())
		}
		if n := s.RecordErrors - int64(len(s.FirstRecordErrors)); n > 0 {
			fmt.Fprintf(w, "    … and %d more\n", n)
		}
	}
	if s.Panics > 0 {
		fmt.Fprintf(w, "  internal errors %d (rows marked error; see above)\n", s.Panics)
	}
	dup := fmt.Sprintf("%10d %s (rows repeating an earlier row's query)", s.Duplicates, pct(s.Duplicates))
	if s.DuplicatesCapped {
		dup += ", at least: too many distinct queries to track them all"
	}
	fmt.Fprintf(w, "  duplicates  %s\n", dup)
	if mn, q1, med, q3, mx, ok := s.ScoreStats(); ok {
		fmt.Fprintf(w, "  scores      min %.3f  q1 %.3f  median %.3f  q3 %.3f  max %.3f\n", mn, q1, med, q3, mx)
	}
	if len(s.Types) > 0 {
		type kv struct {
			k string
			n int64
		}
		var types []kv
		for k, n := range s.Types {
			types = append(types, kv{k, n})
		}
		sort.Slice(types, func(i, j int) bool {
			return types[i].n > types[j].n || types[i].n == types[j].n && types[i].k < types[j].k
		})
		var parts []string
		for _, t := range types {
			parts = append(parts, fmt.Sprintf("%s %d (%.1f%%)", t.k, t.n, 100*float64(t.n)/float64(s.OK)))
		}
		fmt.Fprintf(w, "  types       %s\n", strings.Join(parts, ", "))
	}
}
