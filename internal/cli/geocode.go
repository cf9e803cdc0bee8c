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

// geocodeFlags are geocode's flags.
type geocodeFlags struct {
	ef                     *engineFlags
	out                    *string
	columns, resultColumns multiFlag
	filterCols             map[string]*string
	lat, lon               *string
	reverse                *bool
	delimiter, encoding    *string
	withBOM                *bool
	flavour                *string
	minScore               *float64
	workers                *int
	quiet, escapeFormulas  *bool
	maxRecord              byteSize
}

// filterNames are the filters a column may give each row.
var filterNames = []string{"type", "postcode", "citycode"}

func addGeocodeFlags(fs *flag.FlagSet) *geocodeFlags {
	f := &geocodeFlags{ef: addEngineFlags(fs)}
	// A file must come out the same on a busy machine: a generous budget.
	*f.ef.timeBudget = time.Second
	fs.Lookup("time-budget").DefValue = "1s"
	f.out = fs.String("o", "", "output `file` (default: IN.geocoded.csv beside the input; - for standard output)")
	fs.Var(&f.columns, "columns", "a column to build the query from (repeat; default: every column)")
	fs.Var(&f.resultColumns, "result-columns", "a result column to add (repeat; default: the flavour's set)")
	f.filterCols = map[string]*string{}
	for _, name := range filterNames {
		f.filterCols[name] = fs.String(name, "", "`column` holding a "+name+" filter for each row (several values joined with + or spaces)")
	}
	f.lat = fs.String("lat", "", "latitude `column` (a geo bias; with --reverse, the point: default latitude or lat)")
	f.lon = fs.String("lon", "", "longitude `column` (default with --reverse: longitude, lon, lng or long)")
	f.reverse = fs.Bool("reverse", false, "reverse geocode the latitude/longitude columns")
	f.delimiter = fs.String("delimiter", "", "field delimiter (default: sniffed)")
	f.encoding = fs.String("encoding", "", "input and output encoding: utf-8, utf-8-sig, windows-1252, latin-1… (default: detected)")
	f.withBOM = fs.Bool("with-bom", false, "write a UTF-8 BOM")
	f.flavour = fs.String("flavour", "addok", "output columns: addok (addok-csv's) or ban (the national API's)")
	f.minScore = fs.Float64("min-score", 0.5, "addok flavour: write a result only when its score rounded to 2 decimals is above this")
	f.workers = fs.Int("workers", runtime.GOMAXPROCS(0), "rows geocoded in parallel")
	f.quiet = fs.Bool("quiet", false, "no progress bar nor summary")
	f.escapeFormulas = fs.Bool("csv-escape-formulas", false, "prefix with ' the output cells a spreadsheet would run as formulas (first character = + - @ tab CR; plain numbers kept)")
	f.maxRecord = byteSize(batch.DefaultMaxRecordBytes)
	fs.Var(&f.maxRecord, "max-record-size", "largest CSV record; a larger one is skipped, reported with its line number and written as an error row")
	return f
}

func runGeocode(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("geocode", flag.ContinueOnError)
	f := addGeocodeFlags(fs)
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
	opts, err := f.options(env)
	if err != nil {
		return err
	}
	inPath := fs.Arg(0)
	in, size, closeIn, err := openGeocodeInput(inPath, env.Stdin)
	if err != nil {
		return err
	}
	defer closeIn()
	counted := source.NewCountingReader(in)

	f.ef.setGC(env)
	e, err := f.ef.open(ctx, false)
	if err != nil {
		return err
	}
	defer e.Index().Close()
	if err := checkFilterColumns(e.Filters(), opts.Filters); err != nil {
		return err
	}
	job, err := batch.NewJob(e, counted, opts)
	if err != nil {
		var be *batch.Error
		if errors.As(err, &be) {
			return fmt.Errorf("%s: %s", inPath, be.Detail)
		}
		return err
	}
	outPath := geocodeOutputPath(*f.out, inPath)
	out, err := createOutput(outPath, env.Stdout)
	if err != nil {
		return err
	}
	defer out.discard()

	var bar *progress.Bar
	if !*f.quiet {
		bar = progress.New(env.Stderr, "geocode", size, "B")
	}
	start := time.Now()
	sum, err := job.Run(ctx, out.w, func(rows int64) {
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
	if err := out.commit(); err != nil {
		return err
	}
	if !*f.quiet {
		printSummary(env.Stderr, sum, time.Since(start), outPath)
	}
	return nil
}

// options are the batch options the flags describe.
func (f *geocodeFlags) options(env Env) (batch.Options, error) {
	opts := batch.Options{
		Columns: f.columns, ResultColumns: f.resultColumns,
		LatColumn: *f.lat, LonColumn: *f.lon,
		Delimiter: *f.delimiter, Encoding: *f.encoding, WithBOM: *f.withBOM,
		MinScore: *f.minScore, Workers: *f.workers, TrackDuplicates: true,
		EscapeFormulas: *f.escapeFormulas, MaxRecordBytes: int(min(int64(f.maxRecord), 1<<30)),
		OnPanic: func(v any, stack []byte) {
			fmt.Fprintf(env.Stderr, "internal error (the row is marked error): %s\n%s", search.DescribePanic(v), stack)
		},
	}
	switch *f.flavour {
	case "addok":
	case "ban":
		opts.Flavour = batch.BAN
	default:
		return opts, usageError{fmt.Sprintf("unknown --flavour %q (addok or ban)", *f.flavour)}
	}
	if *f.reverse {
		opts.Mode = batch.Reverse
	}
	for _, name := range filterNames {
		if c := *f.filterCols[name]; c != "" {
			opts.Filters = append(opts.Filters, batch.FilterColumn{Filter: name, Column: c})
		}
	}
	return opts, nil
}

// openGeocodeInput opens the input file ("-": stdin) and gives its size
// for the progress bar (0 when unknown) and the function that closes it.
func openGeocodeInput(path string, stdin io.Reader) (io.Reader, int64, func(), error) {
	if path == "-" {
		return stdin, 0, func() {}, nil
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, 0, nil, err
	}
	var size int64
	if st, err := fh.Stat(); err == nil {
		size = st.Size()
	}
	return fh, size, func() { fh.Close() }, nil
}

// checkFilterColumns refuses a filter column for a filter the index does
// not have.
func checkFilterColumns(indexFilters []string, cols []batch.FilterColumn) error {
	known := map[string]bool{}
	for _, f := range indexFilters {
		known[f] = true
	}
	for _, f := range cols {
		if !known[f.Filter] {
			return usageError{fmt.Sprintf("--%s: the index has no %s filter (its filters: %s)", f.Filter, f.Filter, strings.Join(indexFilters, ", "))}
		}
	}
	return nil
}

// geocodeOutputPath is -o, by default IN.geocoded.csv beside the input
// (standard output for standard input).
func geocodeOutputPath(out, inPath string) string {
	if out != "" {
		return out
	}
	if inPath == "-" {
		return "-"
	}
	return strings.TrimSuffix(inPath, filepath.Ext(inPath)) + ".geocoded.csv"
}

// output is where the geocoded file is written: standard output, or a
// temporary file beside the output path renamed into place by commit, so
// that a failed run never leaves a partial file under the final name.
type output struct {
	w    io.Writer
	path string
	tmp  *os.File // nil for standard output, and once committed
}

func createOutput(path string, stdout io.Writer) (*output, error) {
	if path == "-" {
		return &output{w: stdout, path: path}, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, err
	}
	return &output{w: tmp, path: path, tmp: tmp}, nil
}

// commit renames the temporary file to the output path.
func (o *output) commit() error {
	if o.tmp == nil {
		return nil
	}
	// As a file created by -o without a temporary name would be, not
	// CreateTemp's private 0600.
	if err := o.tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := o.tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(o.tmp.Name(), o.path); err != nil {
		return err
	}
	o.tmp = nil
	return nil
}

// discard removes the temporary file unless it was committed.
func (o *output) discard() {
	if o.tmp != nil {
		o.tmp.Close()
		os.Remove(o.tmp.Name())
	}
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
