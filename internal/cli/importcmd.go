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
	"strings"
	"sync/atomic"
	"time"

	"balise/internal/ban"
	"balise/internal/index"
	"balise/internal/progress"
	"balise/internal/source"
	"balise/internal/text"
)

func init() {
	register(command{"import", "build an index file from Addok ndjson or BAN CSV files (plain or .gz)", runImport})
}

// importFlags are import's flags.
type importFlags struct {
	out, profile, communes *string
	strict, quiet          *bool
	workers, gcPercent     *int
	attribution, licence   *string
}

func addImportFlags(fs *flag.FlagSet) *importFlags {
	return &importFlags{
		out:         fs.String("o", "index.balise", "output index `file` (written to a temporary name, renamed at the end)"),
		profile:     fs.String("profile", "fr", "text `profile`: fr (the national address API's Addok configuration) or default (Addok's core defaults)"),
		strict:      fs.Bool("strict", false, "fail on the first malformed line instead of reporting and skipping it"),
		communes:    fs.String("communes", "", "optional communes gazetteer (`communes.csv.gz`) for BAN CSV input: populations, contexts, municipality centres"),
		workers:     fs.Int("workers", runtime.GOMAXPROCS(0), "analysis goroutines"),
		attribution: fs.String("attribution", "", "attribution written in every answer (default: BAN for the fr profile)"),
		licence:     fs.String("licence", "", "licence written in every answer (default: ETALAB-2.0 for the fr profile)"),
		quiet:       fs.Bool("quiet", false, "no progress output"),
		gcPercent:   fs.Int("gc-percent", 50, "Go GC target (GOGC) unless GOGC is set: the heap is the index being built, which the default 100 lets double (50: a 2.2–2.4 GB peak instead of 3.3 GB for 26 M housenumbers)"),
	}
}

func runImport(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	f := addImportFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: balise import [-o index.balise] [flags] FILE...\n\nFILE is Addok ndjson (one JSON document per line) or a BAN adresses-XX.csv, gzip or not; - reads stdin.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return usageError{"no input file"}
	}
	setGCPercent(env, *f.gcPercent)
	prof, ok := index.ParseProfile(*f.profile)
	if !ok {
		return usageError{fmt.Sprintf("unknown profile %q (fr or default)", *f.profile)}
	}
	lines := &lineReporter{strict: *f.strict, w: env.Stderr}
	var skippedDocs atomic.Int64
	b, err := index.NewBuilder(*f.out, index.BuildOptions{
		Text:        text.Config{Profile: prof},
		Workers:     *f.workers,
		Attribution: *f.attribution,
		Licence:     *f.licence,
		Sources:     baseNames(fs.Args()),
		OnSkip: func(line int, reason string) {
			skippedDocs.Add(1)
			if skippedDocs.Load() <= 20 {
				fmt.Fprintf(env.Stderr, "line %d: %s\n", line, reason)
			}
		},
	})
	if err != nil {
		return err
	}
	in := &importInputs{files: fs.Args(), strict: *f.strict, communes: *f.communes, lines: lines}
	var bar *progress.Bar
	if !*f.quiet {
		bar = progress.New(env.Stderr, "import", totalSize(in.files), "B")
	}
	stop := make(chan struct{})
	if bar != nil {
		go in.showProgress(bar, stop)
	}
	start := time.Now()
	st, err := b.Build(ctx, in.next, func(line int, err error) error { return lines.report(in.curName, line, err) })
	close(stop)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(env.Stdout, "wrote %s: %d documents, %d housenumbers, %d terms, %d postings, %d points, %s in %.2fs (%.0f documents/s)\n",
		*f.out, st.Documents, st.Housenumbers, st.Terms, st.Postings, st.Points, humanBytes(st.Bytes), secs, float64(st.Documents)/secs)
	if n := lines.malformed.Load(); n > 0 {
		fmt.Fprintf(env.Stdout, "%d malformed lines skipped\n", n)
	}
	if n := skippedDocs.Load(); n > 0 {
		fmt.Fprintf(env.Stdout, "%d documents not searchable (see messages above)\n", n)
	}
	return nil
}

// lineReporter handles a malformed input line: with --strict it is the
// import's error, otherwise it is written to w, counted and skipped.
type lineReporter struct {
	strict    bool
	w         io.Writer
	malformed atomic.Int64
}

func (r *lineReporter) report(file string, line int, err error) error {
	le := &source.LineError{File: file, Line: line, Err: err}
	var inner *source.LineError
	if errors.As(err, &inner) {
		le = inner
		if le.File == "" {
			le.File = file
		}
	}
	if r.strict {
		return le
	}
	r.malformed.Add(1)
	fmt.Fprintf(r.w, "skipped %v\n", le)
	return nil
}

// totalSize is the sum of the sizes of the files that can be stat'ed
// (the progress bar's total; stdin counts for nothing).
func totalSize(files []string) int64 {
	var n int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			n += st.Size()
		}
	}
	return n
}

// importInputs reads the input files one after the other, each in its
// format, as the builder's batches, and tracks how many of their bytes
// have been read.
type importInputs struct {
	files    []string
	strict   bool
	communes string
	lines    *lineReporter

	cur      func() (index.Batch, error)
	curClose func() error
	curName  string
	fileIdx  int          // of the next file to open
	doneSize atomic.Int64 // bytes of the files read to the end
	progFn   atomic.Value // func() (int64, int64): the current file's progress
}

// showProgress moves bar every 100 ms until stop is closed.
func (in *importInputs) showProgress(bar *progress.Bar, stop <-chan struct{}) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if fn, ok := in.progFn.Load().(func() (int64, int64)); ok {
				d, _ := fn()
				bar.Set(in.doneSize.Load() + d)
			}
		}
	}
}

// next is the builder's source: the next batch of the current file,
// opening the next file at the end of one, io.EOF after the last.
func (in *importInputs) next() (index.Batch, error) {
	for {
		if in.cur == nil {
			if in.fileIdx >= len(in.files) {
				return nil, io.EOF
			}
			in.curName = in.files[in.fileIdx]
			in.fileIdx++
			if err := in.open(in.curName); err != nil {
				return nil, err
			}
		}
		batch, err := in.cur()
		if errors.Is(err, io.EOF) {
			if fn, ok := in.progFn.Load().(func() (int64, int64)); ok {
				d, _ := fn()
				in.doneSize.Add(d)
			}
			in.progFn.Store(func() (int64, int64) { return 0, 0 })
			in.curClose()
			in.cur = nil
			if len(batch) > 0 {
				return batch, nil
			}
			continue
		}
		if err != nil {
			in.curClose()
			var le *source.LineError
			if errors.As(err, &le) && le.File == "" {
				le.File = in.curName
			}
			return batch, err
		}
		return batch, nil
	}
}

// open makes name the current file, read as Addok ndjson or BAN CSV.
func (in *importInputs) open(name string) error {
	format, err := source.Detect(name)
	if err != nil {
		return err
	}
	switch format {
	case source.FormatNDJSON:
		lines, err := source.OpenLines(name)
		if err != nil {
			return err
		}
		in.cur, in.curClose = index.FromLines(lines), lines.Close
		in.progFn.Store(lines.Progress)
	case source.FormatBANCSV:
		r, err := ban.Open(name, ban.Options{
			Options: source.Options{
				Strict:  in.strict,
				OnError: func(le source.LineError) { in.lines.report(name, le.Line, le.Err) },
			},
			Communes: in.communes,
		})
		if err != nil {
			return err
		}
		in.cur, in.curClose = index.FromReader(r, 256), r.Close
		in.progFn.Store(r.Progress)
	default:
		return fmt.Errorf("%s: neither Addok ndjson nor a BAN addresses CSV", name)
	}
	return nil
}

func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %siB", float64(n)/float64(div), strings.Split("K M G T P", " ")[exp])
}
