package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"balise/internal/batch"
	"balise/internal/pyjs"
	"balise/internal/ratelimit"
	"balise/internal/search"
	"balise/internal/telemetry"
)

// maxFormValue bounds one non-file multipart field (column names…).
const maxFormValue = 64 << 10

// searchCSV is POST /search/csv.
func (a *API) searchCSV(w http.ResponseWriter, r *http.Request) { a.csv(w, r, false) }

// reverseCSV is POST /reverse/csv.
func (a *API) reverseCSV(w http.ResponseWriter, r *http.Request) { a.csv(w, r, true) }

// csv is POST /search/csv and /reverse/csv (docs/api.md).
//
// A multipart upload (Addok's interface: the file in "data", options in
// other fields, in any order) is first spooled to an unlinked temporary
// file, because options may follow the file; the output then streams from
// it. Any other body is taken as the CSV itself with the options in the
// query string, and is geocoded while it arrives (full duplex): the way to
// send files of any size with flat memory on both sides.
func (a *API) csv(w http.ResponseWriter, r *http.Request, reverse bool) {
	if r.ContentLength > a.opts.MaxUploadBytes {
		a.tooLarge(w)
		return
	}
	rc := http.NewResponseController(w)
	idle := a.opts.CSVIdleTimeout
	extend := func() {
		// Long files legitimately outlast the server's read/write timeouts:
		// deadlines follow progress instead.
		rc.SetReadDeadline(time.Now().Add(idle))
		rc.SetWriteDeadline(time.Now().Add(idle))
	}
	extend()
	guard := transferGuard{touch: extend, minRate: float64(a.opts.CSVMinRate)}
	fields := map[string][]string{}
	qp := parseQuery(r.URL.RawQuery)
	for i, k := range qp.keys {
		fields[k] = append(fields[k], qp.vals[i])
	}
	input, filename, cleanup, ok := a.csvInput(w, r, rc, guard, fields)
	if cleanup != nil {
		defer cleanup()
	}
	if !ok {
		return
	}
	e, release := a.acquireBatch()
	defer release()
	opts, aerr := a.csvOptions(r, e, fields, reverse)
	if aerr != nil {
		a.fail(w, aerr)
		return
	}
	job, err := batch.NewJob(e, input, opts)
	if err != nil {
		a.cutIfTooSlow(w, r, err)
		var be *batch.Error
		var mb *http.MaxBytesError
		switch {
		case errors.As(err, &be):
			a.fail(w, &apiError{status: http.StatusBadRequest, title: be.Title, desc: be.Detail, ban: be.Detail})
		case errors.As(err, &mb):
			a.tooLarge(w)
		default:
			a.fail(w, banBadRequest("cannot read the CSV: "+err.Error()))
		}
		return
	}
	h := w.Header()
	h.Set("Content-Type", job.ContentType())
	h["Cache-Control"] = noStore
	h.Set("Content-Disposition", contentDisposition(filename, a.opts.Flavour))
	w.WriteHeader(http.StatusOK)
	a.runCSV(w, r, rc, job, &progressWriter{w: w, rc: rc, g: guard}, reverse)
}

// csvInput returns the CSV to read: a multipart upload's "data" part,
// spooled to a temporary file (options may follow it; cleanup closes it),
// or the body itself, read while the output is written. ok is false when
// the answer was sent already (an error).
func (a *API) csvInput(w http.ResponseWriter, r *http.Request, rc *http.ResponseController, guard transferGuard,
	fields map[string][]string) (input io.Reader, filename string, cleanup func(), ok bool) {
	body := &progressReader{r: http.MaxBytesReader(w, r.Body, a.opts.MaxUploadBytes), g: guard}
	mt, mparams, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		if err := rc.EnableFullDuplex(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			a.log.Warn("cannot enable full duplex", "err", err)
		}
		return body, last(fields, "filename"), nil, true
	}
	f, name, err := a.spool(body, mparams["boundary"], fields)
	if f != nil {
		cleanup = func() { f.Close() }
	}
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			a.tooLarge(w)
			return nil, "", cleanup, false
		}
		a.cutIfTooSlow(w, r, err)
		a.fail(w, banBadRequest("cannot read the multipart body: "+err.Error()))
		return nil, "", cleanup, false
	}
	if f == nil {
		a.fail(w, &apiError{status: http.StatusBadRequest, title: "Missing file", desc: "Missing file", ban: "A CSV file must be provided in data field"})
		return nil, "", cleanup, false
	}
	return f, name, cleanup, true
}

// csvOptions reads the job's options from the request's fields (Addok's
// names), hooked to admission control and the client's batch budget.
func (a *API) csvOptions(r *http.Request, e *search.Engine, fields map[string][]string, reverse bool) (batch.Options, *apiError) {
	opts := batch.Options{
		Flavour:        batch.Addok,
		Columns:        fields["columns"],
		ResultColumns:  fields["result_columns"],
		LatColumn:      last(fields, "lat"),
		LonColumn:      last(fields, "lon"),
		Delimiter:      last(fields, "delimiter"),
		Quote:          last(fields, "quote"),
		Encoding:       last(fields, "encoding"),
		MinScore:       -1,
		Workers:        a.opts.CSVWorkers,
		EscapeFormulas: a.opts.CSVEscapeFormulas,
		OnPanic: func(v any, stack []byte) {
			a.log.Error("CSV geocoding panic", "path", r.URL.Path, "panic", search.DescribePanic(v), "stack", string(stack))
			if t := a.opts.Telemetry; t != nil {
				t.Search.ObservePanic("csv")
			}
		},
	}
	a.shareCores(r, &opts)
	if a.opts.Flavour == BAN {
		opts.Flavour = batch.BAN
	}
	if reverse {
		opts.Mode = batch.Reverse
	}
	if v := last(fields, "with_bom"); v != "" {
		opts.WithBOM, _ = pyBool(v)
	}
	if v := last(fields, "min_score"); v != "" {
		f, ok := pyjs.ParsePyFloat(v)
		if !ok {
			return opts, badParam("min_score", "invalid value")
		}
		opts.MinScore = f
	}
	for _, name := range e.Filters() {
		if col := last(fields, name); col != "" {
			opts.Filters = append(opts.Filters, batch.FilterColumn{Filter: name, Column: col})
		}
	}
	return opts, nil
}

// runCSV geocodes the file into the answer, whose status is sent, and
// reports the job in the metrics and the log.
func (a *API) runCSV(w http.ResponseWriter, r *http.Request, rc *http.ResponseController, job *batch.Job, out io.Writer, reverse bool) {
	endpoint := "search_csv"
	if reverse {
		endpoint = "reverse_csv"
	}
	ctx := r.Context()
	var endBatch func(rows int, err error)
	if t := a.opts.Telemetry; t != nil {
		ctx, endBatch = t.CSVBatch(ctx, endpoint)
	}
	sum, err := job.Run(ctx, out, nil)
	if t := a.opts.Telemetry; t != nil {
		endBatch(int(sum.Rows), err)
		t.Search.CSVRows(endpoint, "ok", int(sum.OK))
		t.Search.CSVRows(endpoint, "not_found", int(sum.NotFound))
		t.Search.CSVRows(endpoint, "skipped", int(sum.Skipped))
		t.Search.CSVRows(endpoint, "error", int(sum.Errors))
		t.Search.CSVRecordErrors(endpoint, int(sum.RecordErrors))
	}
	telemetry.RequestInfoFrom(r.Context()).SetResults(int(sum.OK))
	if err != nil {
		// The status is sent already: cut the connection so the client sees
		// a broken transfer rather than a file that silently stops.
		a.cutIfTooSlow(w, r, err)
		a.log.Warn("CSV geocoding interrupted", "path", r.URL.Path, "rows", sum.Rows, "record_errors", sum.RecordErrors, "panics", sum.Panics, "err", err)
		rc.SetReadDeadline(time.Now()) // no draining of the rest of the upload
		panic(http.ErrAbortHandler)
	}
	a.log.Debug("CSV geocoded", "path", r.URL.Path, "rows", sum.Rows, "ok", sum.OK, "not_found", sum.NotFound, "errors", sum.Errors,
		"record_errors", sum.RecordErrors, "panics", sum.Panics)
}

// cutIfTooSlow cuts the connection of a transfer below the minimum rate:
// an error answer would leave the server reading the rest of the body, as
// slowly as the client sends it.
func (a *API) cutIfTooSlow(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errTooSlow) {
		a.log.Info("CSV transfer below the minimum rate: connection cut", "path", r.URL.Path)
		// The server drains what is left of a body before closing: make
		// that read fail at once too.
		http.NewResponseController(w).SetReadDeadline(time.Now())
		panic(http.ErrAbortHandler)
	}
}

// csvChunkRows is the chunk of rows a CSV worker geocodes per batch slot
// when admission control is on: about a millisecond of work, so that an
// interactive request never waits long behind batch work.
const csvChunkRows = 32

// shareCores hooks a CSV job to admission control and the client's batch
// budget: each chunk takes a batch slot (a bounded share of the cores for
// all batch work together) and is paced to one unit per row.
func (a *API) shareCores(r *http.Request, opts *batch.Options) {
	if ctrl := a.opts.Admission; ctrl != nil {
		opts.Acquire = ctrl.AcquireBatchSlot
		opts.ChunkRows = csvChunkRows
	}
	lim := a.opts.RateLimiter
	c, ok := clientOf(r.Context())
	if lim != nil && ok {
		opts.Pace = func(ctx context.Context, rows int) error { return lim.Wait(ctx, c, ratelimit.Batch, rows) }
	}
}

func (a *API) tooLarge(w http.ResponseWriter) {
	msg := fmt.Sprintf("The file is larger than the %s upload limit (--max-upload-size).", humanBytes(a.opts.MaxUploadBytes))
	a.fail(w, &apiError{status: http.StatusRequestEntityTooLarge, title: "413 Payload Too Large", desc: msg, ban: msg})
}

func humanBytes(n int64) string {
	switch {
	case n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n%1000000 == 0:
		return strconv.FormatInt(n/1000000, 10) + " MB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

func last(m map[string][]string, k string) string {
	if v := m[k]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// spool reads a multipart body: the first "data" part goes to a temporary
// file (unlinked at once, so nothing is left behind whatever happens),
// other parts are small fields appended to fields. f is nil when there was
// no data part.
func (a *API) spool(body io.Reader, boundary string, fields map[string][]string) (f *os.File, filename string, err error) {
	if boundary == "" {
		return nil, "", errors.New("no multipart boundary")
	}
	mr := multipart.NewReader(body, boundary)
	for parts := 0; ; parts++ {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return f, filename, nil
		}
		if err != nil {
			return f, filename, err
		}
		if parts > 1000 {
			return f, filename, errors.New("too many parts")
		}
		name := p.FormName()
		if name == "data" && f == nil {
			f, err = os.CreateTemp(a.opts.TempDir, "balise-upload-*.csv")
			if err != nil {
				return nil, "", err
			}
			os.Remove(f.Name())
			filename = p.FileName()
			if _, err := io.Copy(f, p); err != nil {
				return f, filename, err
			}
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return f, filename, err
			}
			continue
		}
		v, err := io.ReadAll(io.LimitReader(p, maxFormValue+1))
		if err != nil {
			return f, filename, err
		}
		if len(v) > maxFormValue {
			return f, filename, fmt.Errorf("field %q is longer than %d bytes", name, maxFormValue)
		}
		if name != "" && name != "data" {
			fields[name] = append(fields[name], string(v))
		}
	}
}

// contentDisposition names the output: addok-csv's "<name>.geocoded.csv"
// (the upload's name without its extension), addok-server's
// "geocoded-<name>".
func contentDisposition(filename string, f Flavour) string {
	base := path.Base(strings.ReplaceAll(filename, `\`, "/"))
	if filename == "" || base == "." || base == "/" {
		base = ""
	}
	var out string
	if f == BAN {
		out = "geocoded.csv"
		if base != "" {
			out = "geocoded-" + base
		}
	} else {
		if base == "" {
			base = "data.csv"
		}
		stem := base
		if i := strings.LastIndexByte(base, '.'); i > 0 && strings.Trim(base[:i], ".") != "" {
			stem = base[:i] // Python's os.path.splitext: leading dots are not an extension
		}
		out = stem + ".geocoded.csv"
	}
	out = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, out)
	return `attachment; filename="` + out + `"`
}

// transferGuard enforces the CSV routes' transfer rules on one side of the
// connection (the upload or the download): each second with progress
// pushes the deadline by the idle timeout, so long files outlive the
// server-wide timeouts; and a peer averaging less than the minimum rate
// while balise waits for it is cut, so that a client dripping bytes cannot
// hold a connection (and the index lease of its job) forever. Only the
// time spent blocked on the peer counts: when balise is the slow side
// (a paced or busy job), the data is already buffered and reads return at
// once.
type transferGuard struct {
	touch   func()
	minRate float64 // bytes per second; 0: no minimum
	last    time.Time
	// The current measurement window: bytes moved and time blocked.
	bytes   int64
	blocked time.Duration
}

// minRateWindow is how much blocked time a rate is measured over: long
// enough for a slow but honest mobile link, short enough to free a
// dripping connection quickly.
const minRateWindow = 5 * time.Second

// errTooSlow ends a CSV transfer whose peer is below the minimum rate.
var errTooSlow = errors.New("the transfer is slower than the minimum rate (--csv-min-rate)")

// observe accounts one read or write of n bytes that blocked for d.
func (g *transferGuard) observe(n int, d time.Duration) error {
	g.bytes += int64(n)
	g.blocked += d
	if g.minRate > 0 && g.blocked >= minRateWindow {
		if float64(g.bytes) < g.minRate*g.blocked.Seconds() {
			return errTooSlow
		}
		g.bytes, g.blocked = 0, 0
	}
	if n > 0 {
		if now := time.Now(); now.Sub(g.last) > time.Second {
			g.last = now
			g.touch()
		}
	}
	return nil
}

type progressReader struct {
	r io.Reader
	g transferGuard
}

func (p *progressReader) Read(b []byte) (int, error) {
	start := time.Now()
	n, err := p.r.Read(b)
	if gerr := p.g.observe(n, time.Since(start)); gerr != nil && err == nil {
		err = gerr
	}
	return n, err
}

type progressWriter struct {
	w  io.Writer
	rc *http.ResponseController
	g  transferGuard
}

// Flush pushes the answer written so far to the client, through the
// compressor when there is one (the batch job calls it before it waits for
// rows). Blocked time counts toward the minimum rate, as a Write's does.
func (p *progressWriter) Flush() error {
	start := time.Now()
	err := p.rc.Flush()
	if errors.Is(err, http.ErrNotSupported) {
		err = nil
	}
	if gerr := p.g.observe(0, time.Since(start)); gerr != nil && err == nil {
		err = gerr
	}
	return err
}

func (p *progressWriter) Write(b []byte) (int, error) {
	start := time.Now()
	n, err := p.w.Write(b)
	if gerr := p.g.observe(n, time.Since(start)); gerr != nil && err == nil {
		err = gerr
	}
	return n, err
}
