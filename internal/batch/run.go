package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"balise/internal/search"
)

// maxChunkBytes cuts a chunk before ChunkRows rows when its records are
// large, so that the rows in flight (a few chunks per worker) take a few
// MiB whatever the rows.
const maxChunkBytes = 1 << 20

// chunk is a run of consecutive rows, geocoded by one worker.
type chunk struct {
	recs [][]string
	// bad holds, for each row, the cap its record exceeded (nil when none
	// did); nil itself when every record of the chunk was read.
	bad  []*RecordError
	out  [][]string
	meta []rowMeta
	done chan struct{}
}

type rowMeta struct {
	status    string
	score     float64
	typ       string
	key       uint64
	recordErr *RecordError // the record was over a cap
	panicked  bool
}

// jobRun is one Run of a job: a reader goroutine cuts the input into chunks,
// sent both to the writer (in order) and to the workers (to geocode).
type jobRun struct {
	j      *Job
	parent context.Context
	ctx    context.Context
	cancel context.CancelFunc
	order  chan *chunk
	work   chan *chunk
	wg     sync.WaitGroup
	panics atomic.Int64 // recovered outside rows (rows count theirs)

	mu  sync.Mutex
	err error // the first error that ends the job
}

// Run geocodes every row and writes the output CSV to w. progress, when
// not nil, is called after each written chunk with the rows written so
// far. A row that cannot be geocoded gets result_status=error and the file
// goes on; Run fails only on I/O errors, when ctx ends, when a hook
// (Options.Pace, Options.Acquire) fails or on an internal error.
func (j *Job) Run(ctx context.Context, w io.Writer, progress func(rows int64)) (sum *Summary, err error) {
	sum = newSummary(j.opts.TrackDuplicates)
	r := &jobRun{j: j, parent: ctx, order: make(chan *chunk, 2*j.opts.Workers), work: make(chan *chunk, j.opts.Workers)}
	r.ctx, r.cancel = context.WithCancel(ctx)
	defer r.cancel()
	defer func() {
		if p := recover(); p != nil {
			r.cancel()
			err = r.recovered(p, "writing the output")
		}
		sum.Panics += r.panics.Load()
	}()
	cw, err := newWriter(w, j.rd.delim, j.out, j.bom, j.opts.EscapeFormulas)
	if err != nil {
		return sum, err
	}
	if err := cw.WriteRow(j.header); err != nil {
		return sum, err
	}
	go r.readChunks()
	for range j.opts.Workers {
		r.wg.Add(1)
		go r.geocodeChunks()
	}
	defer func() {
		r.cancel()
		r.wg.Wait() // no engine use once Run has returned
	}()
	if err := r.writeChunks(cw, sum, progress); err != nil {
		r.cancel()
		return sum, err
	}
	return sum, cw.Close()
}

// fail ends the job with err (the first error wins).
func (r *jobRun) fail(err error) {
	r.setErr(err)
	r.cancel()
}

func (r *jobRun) setErr(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
}

// stopErr is why the job stopped: the caller's context first, then the
// first failure; nil when it did not.
func (r *jobRun) stopErr() error {
	if err := r.parent.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	return r.ctx.Err()
}

// recovered reports a panic of one of the job's goroutines and returns the
// job's error for it, which does not quote the panic value.
func (r *jobRun) recovered(p any, doing string) error {
	r.panics.Add(1)
	r.j.tellPanic(p, debug.Stack())
	return fmt.Errorf("batch: internal error while %s (%s)", doing, search.DescribePanic(p))
}

// tellPanic calls Options.OnPanic, which must not take the job down
// either.
func (j *Job) tellPanic(p any, stack []byte) {
	if j.opts.OnPanic == nil {
		return
	}
	defer func() { _ = recover() }()
	j.opts.OnPanic(p, stack)
}

// readChunks is the reader goroutine.
func (r *jobRun) readChunks() {
	defer close(r.order)
	defer close(r.work)
	defer func() {
		if p := recover(); p != nil {
			r.fail(r.recovered(p, "reading the CSV"))
		}
	}()
	for {
		c, more := r.readChunk()
		if len(c.recs) == 0 {
			return
		}
		select {
		case r.order <- c:
		case <-r.ctx.Done():
			return
		}
		select {
		case r.work <- c:
		case <-r.ctx.Done():
			return
		}
		if !more {
			return
		}
	}
}

// readChunk reads the next rows; more is false at the end of the input
// (or on a read error, which is recorded: the rows read before it are
// still written).
func (r *jobRun) readChunk() (c *chunk, more bool) {
	c = &chunk{done: make(chan struct{})}
	size := 0
	for len(c.recs) < r.j.opts.ChunkRows && size < maxChunkBytes {
		rec, err := r.j.rd.Read()
		var re *RecordError
		switch {
		case err == nil:
		case errors.As(err, &re):
			if c.bad == nil {
				c.bad = make([]*RecordError, len(c.recs), r.j.opts.ChunkRows)
			}
		case errors.Is(err, io.EOF):
			return c, false
		default:
			r.setErr(err)
			return c, false
		}
		c.recs = append(c.recs, rec)
		if c.bad != nil {
			c.bad = append(c.bad, re)
		}
		for _, f := range rec {
			size += len(f) + 16 // the text and the string header
		}
	}
	return c, true
}

// geocodeChunks is a worker goroutine.
func (r *jobRun) geocodeChunks() {
	defer r.wg.Done()
	defer func() {
		if p := recover(); p != nil {
			r.fail(r.recovered(p, "geocoding"))
		}
	}()
	for {
		select {
		case c, ok := <-r.work:
			if !ok {
				return
			}
			if err := r.geocode(c); err != nil {
				r.fail(err)
				return
			}
			close(c.done)
		case <-r.ctx.Done():
			return
		}
	}
}

// geocode paces and geocodes one chunk.
func (r *jobRun) geocode(c *chunk) error {
	if pace := r.j.opts.Pace; pace != nil {
		if err := pace(r.ctx, len(c.recs)); err != nil {
			return fmt.Errorf("batch: pacing rows: %w", err)
		}
	}
	if acquire := r.j.opts.Acquire; acquire != nil {
		release, err := acquire(r.ctx)
		if err != nil {
			return fmt.Errorf("batch: waiting for a CPU share: %w", err)
		}
		if release != nil {
			defer release()
		}
	}
	r.j.geocodeChunk(r.ctx, c)
	return nil
}

// writeChunks writes the chunks in input order as they are geocoded.
func (r *jobRun) writeChunks(cw *Writer, sum *Summary, progress func(rows int64)) error {
	for {
		c, err := r.nextChunk(cw)
		if c == nil || err != nil {
			return err
		}
		for i, out := range c.out {
			if err := cw.WriteRow(out); err != nil {
				return err
			}
			sum.add(&c.meta[i])
		}
		if err := cw.Flush(); err != nil {
			return err
		}
		if progress != nil {
			progress(sum.Rows)
		}
	}
}

// nextChunk returns the next chunk in input order once it is geocoded, nil
// at the end (with why the job stopped, if it did). When it would wait (the
// rows are still arriving or being geocoded), what was written is pushed
// out first: a client that waits for answers before it sends more rows
// gets them, and one that streams sees them as they come.
func (r *jobRun) nextChunk(cw *Writer) (*chunk, error) {
	var c *chunk
	var ok bool
	select {
	case c, ok = <-r.order:
	default:
		if err := cw.flushOut(); err != nil {
			return nil, err
		}
		c, ok = <-r.order
	}
	if !ok {
		return nil, r.stopErr()
	}
	select {
	case <-c.done:
		return c, nil
	default:
	}
	if err := cw.flushOut(); err != nil {
		return nil, err
	}
	select {
	case <-c.done:
		return c, nil
	case <-r.ctx.Done():
		return nil, r.stopErr()
	}
}

func (j *Job) geocodeChunk(ctx context.Context, c *chunk) {
	c.out = make([][]string, len(c.recs))
	c.meta = make([]rowMeta, len(c.recs))
	for i, rec := range c.recs {
		if c.bad != nil && c.bad[i] != nil {
			c.meta[i] = rowMeta{status: StatusError, recordErr: c.bad[i]}
			c.out[i] = make([]string, len(j.header)) // the record was not kept: empty cells
			j.setStatus(c.out[i], StatusError)
			continue
		}
		c.out[i] = j.row(ctx, rec, &c.meta[i])
		c.recs[i] = nil
	}
}

func (j *Job) setStatus(out []string, status string) {
	for _, c := range j.cols {
		if c.kind == cStatus {
			out[c.pos] = status
		}
	}
}

// row geocodes one record into its output record.
func (j *Job) row(ctx context.Context, rec []string, m *rowMeta) (out []string) {
	out = make([]string, len(j.header))
	copy(out[:min(len(rec), j.width)], rec) // short rows padded, extra cells dropped (csv.DictWriter)
	defer func() {
		if p := recover(); p != nil {
			m.status = StatusError // one odd row must not take the file down
			m.panicked = true
			j.tellPanic(p, debug.Stack())
		}
		j.setStatus(out, m.status)
	}()
	if j.beforeRow != nil {
		j.beforeRow(rec)
	}
	var res []*search.Result
	if j.opts.Mode == Search {
		res = j.search(ctx, rec, m)
	} else {
		res = j.reverse(ctx, rec, m)
	}
	if m.status != StatusOK {
		return out
	}
	cl := cells{js: j.opts.Flavour == BAN, r: res[0]}
	if len(res) > 1 {
		cl.next = res[1]
	}
	m.score = res[0].Score
	m.typ = res[0].Type()
	for i := range j.cols {
		if c := &j.cols[i]; c.kind != cStatus {
			out[c.pos] = cl.value(c)
		}
	}
	return out
}
