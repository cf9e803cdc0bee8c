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

func runImport(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	out := fs.String("o", "index.balise", "output index `file` (written to a temporary name, renamed at the end)")
	profile := fs.String("profile", "fr", "text `profile`: fr (the national address API's Addok configuration) or default (Addok's core defaults)")
	strict := fs.Bool("strict", false, "fail on the first malformed line instead of reporting and skipping it")
	communes := fs.String("communes", "", "optional communes gazetteer (`communes.csv.gz`) for BAN CSV input: populations, contexts, municipality centres")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "analysis goroutines")
	attribution := fs.String("attribution", "", "attribution written in every answer (default: BAN for the fr profile)")
	licence := fs.String("licence", "", "licence written in every answer (default: ETALAB-2.0 for the fr profile)")
	quiet := fs.Bool("quiet", false, "no progress output")
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
	prof, ok := index.ParseProfile(*profile)
	if !ok {
		return usageError{fmt.Sprintf("unknown profile %q (fr or default)", *profile)}
	}
	var malformed atomic.Int64
	reportLine := func(file string, line int, err error) error {
		le := &source.LineError{File: file, Line: line, Err: err}
		var inner *source.LineError
		if errors.As(err, &inner) {
			le = inner
			if le.File == "" {
				le.File = file
			}
		}
		if *strict {
			return le
		}
		malformed.Add(1)
		fmt.Fprintf(env.Stderr, "skipped %v\n", le)
		return nil
	}
	var skippedDocs atomic.Int64
	b, err := index.NewBuilder(*out, index.BuildOptions{
		Text:        text.Config{Profile: prof},
		Workers:     *workers,
		Attribution: *attribution,
		Licence:     *licence,
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
	files := fs.Args()
	var (
		cur      func() (index.Batch, error)
		curClose func() error
		curName  string
		fileIdx  = -1
		doneSize atomic.Int64
		progFn   atomic.Value // func() (int64, int64)
	)
	var totalSize int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			totalSize += st.Size()
		}
	}
	var bar *progress.Bar
	if !*quiet {
		bar = progress.New(env.Stderr, "import", totalSize, "B")
	}
	stop := make(chan struct{})
	if bar != nil {
		go func() {
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					if fn, ok := progFn.Load().(func() (int64, int64)); ok {
						d, _ := fn()
						bar.Set(doneSize.Load() + d)
					}
				}
			}
		}()
	}
	next := func() (index.Batch, error) {
		for {
			if cur == nil {
				fileIdx++
				if fileIdx >= len(files) {
					return nil, io.EOF
				}
				curName = files[fileIdx]
				format, err := source.Detect(curName)
				if err != nil {
					return nil, err
				}
				switch format {
				case source.FormatNDJSON:
					lines, err := source.OpenLines(curName)
					if err != nil {
						return nil, err
					}
					cur, curClose = index.FromLines(lines), lines.Close
					progFn.Store(lines.Progress)
				case source.FormatBANCSV:
					name := curName
					r, err := ban.Open(name, ban.Options{
						Options: source.Options{
							Strict:  *strict,
							OnError: func(le source.LineError) { reportLine(name, le.Line, le.Err) },
						},
						Communes: *communes,
					})
					if err != nil {
						return nil, err
					}
					cur, curClose = index.FromReader(r, 256), r.Close
					progFn.Store(r.Progress)
				default:
					return nil, fmt.Errorf("%s: neither Addok ndjson nor a BAN addresses CSV", curName)
				}
			}
			batch, err := cur()
			if errors.Is(err, io.EOF) {
				if fn, ok := progFn.Load().(func() (int64, int64)); ok {
					d, _ := fn()
					doneSize.Add(d)
				}
				progFn.Store(func() (int64, int64) { return 0, 0 })
				curClose()
				cur = nil
				if len(batch) > 0 {
					return batch, nil
				}
				continue
			}
			if err != nil {
				curClose()
				var le *source.LineError
				if errors.As(err, &le) && le.File == "" {
					le.File = curName
				}
				return batch, err
			}
			return batch, nil
		}
	}
	start := time.Now()
	st, err := b.Build(ctx, next, func(line int, err error) error { return reportLine(curName, line, err) })
	close(stop)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(env.Stdout, "wrote %s: %d documents, %d housenumbers, %d terms, %d postings, %d points, %s in %.2fs (%.0f documents/s)\n",
		*out, st.Documents, st.Housenumbers, st.Terms, st.Postings, st.Points, humanBytes(st.Bytes), secs, float64(st.Documents)/secs)
	if n := malformed.Load(); n > 0 {
		fmt.Fprintf(env.Stdout, "%d malformed lines skipped\n", n)
	}
	if n := skippedDocs.Load(); n > 0 {
		fmt.Fprintf(env.Stdout, "%d documents not searchable (see messages above)\n", n)
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
