package source

import (
	"errors"
	"fmt"
	"io"
	"strconv"
)

// LineError is a malformed input record: it is reported and skipped (or
// fails the import in strict mode).
type LineError struct {
	File string
	Line int
	Err  error
}

// Error returns "FILE:LINE: message" ("line LINE: message" without a file).
func (e *LineError) Error() string {
	if e.File == "" {
		return "line " + strconv.Itoa(e.Line) + ": " + e.Err.Error()
	}
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Err.Error()
}

func (e *LineError) Unwrap() error { return e.Err }

// Options say what a reader does with malformed records.
type Options struct {
	Strict  bool            // first malformed line -> error
	OnError func(LineError) // non-strict: called for each skipped line
}

// Reader yields documents in input order.
type Reader interface {
	// Next returns the next document, io.EOF at the end. In non-strict mode
	// malformed lines are reported via OnError and skipped; in strict mode
	// the first one is returned as a *LineError.
	Next() (*Document, error)
	// Progress returns bytes consumed so far of the (compressed) input and
	// its total size (0 when unknown), for a progress bar / ETA.
	Progress() (done, total int64)
	Close() error
}

// Open returns a Reader for the Addok ndjson file at path (gzip detected by
// its magic bytes; "-" reads standard input). A BAN addresses CSV is
// recognised (Detect) but not read here: converting it into documents is
// package ban's job.
func Open(path string, opts Options) (Reader, error) {
	in, err := OpenInput(path)
	if err != nil {
		return nil, err
	}
	switch in.Format() {
	case FormatNDJSON:
		return &ndjsonReader{lines: in.lines(), opts: opts}, nil
	case FormatBANCSV:
		in.Close()
		return nil, fmt.Errorf("%s: %w", path, errBANCSV)
	}
	in.Close()
	return nil, fmt.Errorf("%s: %w", path, errUnknownFormat)
}

// Report handles a malformed record: the error to return in strict mode,
// else nil after calling OnError.
func (o *Options) Report(le *LineError) error {
	if o.Strict {
		return le
	}
	if o.OnError != nil {
		o.OnError(*le)
	}
	return nil
}

type ndjsonReader struct {
	lines *Lines
	opts  Options
	batch *Batch
	i     int
	err   error
}

func (r *ndjsonReader) Next() (*Document, error) {
	for {
		if r.err != nil {
			return nil, r.err
		}
		if r.batch == nil || r.i >= len(r.batch.Lines) {
			b, err := r.lines.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					err = fmt.Errorf("%s: %w", r.lines.name, err)
				}
				r.err = err
				return nil, err
			}
			r.batch, r.i = b, 0
		}
		line, no := r.batch.Lines[r.i], r.batch.LineNos[r.i]
		r.i++
		doc, err := ParseLine(line, no)
		if err != nil {
			le := err.(*LineError)
			le.File = r.lines.name
			if err := r.opts.Report(le); err != nil {
				r.err = err
				return nil, err
			}
			continue
		}
		if doc != nil {
			return doc, nil
		}
	}
}

func (r *ndjsonReader) Progress() (done, total int64) { return r.lines.Progress() }

func (r *ndjsonReader) Close() error { return r.lines.Close() }
