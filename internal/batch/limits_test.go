package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"balise/internal/search"
	"balise/internal/testutil"
)

// An oversized record gives an error row with empty input cells, in its
// place, and the file goes on; the summary has its line.
func TestJobRecordCaps(t *testing.T) {
	e := testEngine(t, avions)
	in := "n,adresse\n1,rue des avions\n2,\"" + strings.Repeat("x", 300) + "\n" + strings.Repeat("y", 300) + "\"\n" +
		"3,rue des avions\n" + strings.Repeat("4,", 40) + "\n5,rue des avions\n"
	out, s := run(t, e, in, Options{Columns: []string{"adresse"}, MaxRecordBytes: 256, MaxFields: 20})
	lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines: %q", len(lines), lines)
	}
	empty := strings.Repeat(",", strings.Count(lines[0], ",")-1) + ",error"
	for i, want := range []string{"1,rue des avions,", empty, "3,rue des avions,", empty, "5,rue des avions,"} {
		if !strings.HasPrefix(lines[i+1], want) {
			t.Errorf("row %d: %q, want %q…", i+1, lines[i+1], want)
		}
	}
	if s.Rows != 5 || s.OK != 3 || s.Errors != 2 || s.RecordErrors != 2 || len(s.FirstRecordErrors) != 2 {
		t.Fatalf("%+v", s)
	}
	if got := s.FirstRecordErrors[0].Error(); got != "line 3: record larger than 256 bytes" {
		t.Error(got)
	}
	if got := s.FirstRecordErrors[1].Error(); got != "line 6: record with more than 20 fields" {
		t.Error(got)
	}
}

func TestJobRecordErrorsListCapped(t *testing.T) {
	e := testEngine(t, avions)
	var in strings.Builder
	in.WriteString("adresse\n")
	for range MaxReportedRecordErrors + 20 {
		in.WriteString(strings.Repeat("z", 40) + "\nrue des avions\n")
	}
	_, s := run(t, e, in.String(), Options{MaxRecordBytes: 32})
	if s.RecordErrors != MaxReportedRecordErrors+20 || len(s.FirstRecordErrors) != MaxReportedRecordErrors || s.FirstRecordErrors[1].Line != 4 {
		t.Errorf("%d errors, %d listed, second on line %d", s.RecordErrors, len(s.FirstRecordErrors), s.FirstRecordErrors[1].Line)
	}
}

func TestHeaderOverCap(t *testing.T) {
	_, err := NewReader(strings.NewReader(strings.Repeat("a,", 30)+"\n1\n"), Options{Delimiter: ",", MaxFields: 10})
	var be *Error
	if !errors.As(err, &be) || be.Kind != ErrRecord || be.Detail != "invalid header row, line 1: record with more than 10 fields" {
		t.Errorf("%v", err)
	}
	_, err = NewReader(strings.NewReader("\n\n"+strings.Repeat("a", 300)+"\n1\n"), Options{MaxRecordBytes: 256})
	if !errors.As(err, &be) || be.Kind != ErrRecord || be.Detail != "invalid header row, line 3: record larger than 256 bytes" {
		t.Errorf("%v", err)
	}
}

// heapSampler records the largest live heap seen while it runs.
type heapSampler struct {
	stop chan struct{}
	done chan struct{}
	peak uint64
}

func sampleHeap() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(h.done)
		for {
			metrics.Read(s)
			h.peak = max(h.peak, s[0].Value.Uint64())
			select {
			case <-h.stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return h
}

func (h *heapSampler) Stop() uint64 {
	close(h.stop)
	<-h.done
	return h.peak
}

func heapAllocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// One 40 MB cell among ordinary rows: the job finishes, every other row is
// geocoded, the big one is an error row, and memory never holds the cell.
func TestJob40MBCell(t *testing.T) {
	e := testEngine(t, avions)
	const cell = 40 << 20
	rows := strings.Repeat("rue des avions,x\n", 10)
	for _, quoted := range []bool{false, true} {
		q := ""
		if quoted {
			q = `"`
		}
		in := io.MultiReader(strings.NewReader("adresse,n\n"+rows+q), &repeatReader{b: []byte("18 rue des avions "), n: cell}, strings.NewReader(q+",big\n"+rows))
		j, err := NewJob(e, in, Options{})
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		allocated := heapAllocated()
		h := sampleHeap()
		var out strings.Builder
		s, err := j.Run(context.Background(), &out, nil)
		peak := h.Stop()
		allocated = heapAllocated() - allocated
		if err != nil {
			t.Fatal(err)
		}
		if s.Rows != 21 || s.OK != 20 || s.Errors != 1 || s.RecordErrors != 1 || s.FirstRecordErrors[0].Line != 12 {
			t.Fatalf("quoted %v: %+v", quoted, s)
		}
		lines := strings.Split(out.String(), "\r\n")
		if !strings.HasPrefix(lines[11], ",,,") || !strings.HasSuffix(lines[11], ",error") || !strings.HasSuffix(lines[12], ",ok") {
			t.Errorf("quoted %v: rows 11-12 %q", quoted, lines[11:13])
		}
		t.Logf("quoted %v: %d KiB allocated, live heap +%d KiB at most", quoted, allocated>>10, (max(peak, before.HeapAlloc)-before.HeapAlloc)>>10)
		// The reader's window and the rows in flight: a few MiB at most.
		if allocated > 16<<20 {
			t.Errorf("quoted %v: %d MiB allocated for a %d MiB cell", quoted, allocated>>20, cell>>20)
		}
		if peak > before.HeapAlloc && peak-before.HeapAlloc > 16<<20 {
			t.Errorf("quoted %v: live heap grew by %d MiB", quoted, (peak-before.HeapAlloc)>>20)
		}
	}
}

// A query cell far over the engine's length bound is an error row, as the
// engine would make it, and what the engine could accept still reaches it.
func TestJobQueryByteBound(t *testing.T) {
	e := testEngine(t, avions)
	bound := e.Config().QueryMaxBytes
	if bound != queryByteBound(e.Config()) {
		t.Fatalf("bound %d", queryByteBound(e.Config()))
	}
	pad := func(n int) string { // blanks that folding merges: still "rue des avions"
		return "rue des" + strings.Repeat(" ", n-len("rue des avions")) + " avions"
	}
	in := "adresse\n" + pad(bound) + "\n" + pad(bound+1) + "\n" + strings.Repeat("a", 60000) + "\n" + "  " + pad(bound) + "  \n"
	out, s := run(t, e, in, Options{})
	lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
	for i, want := range []string{";ok", ";error", ";error", ";ok"} {
		if !strings.HasSuffix(lines[i+1], want) {
			t.Errorf("row %d: %q…, want %s", i+1, lines[i+1][len(lines[i+1])-20:], want)
		}
	}
	if s.OK != 2 || s.Errors != 2 {
		t.Errorf("%+v", s)
	}
	// Without the engine's own byte bound, the batch's is 16 bytes per
	// folded character.
	c := search.DefaultConfig()
	c.QueryMaxBytes = 0
	if got := queryByteBound(c); got != 16*c.QueryMaxLength {
		t.Errorf("bound without QueryMaxBytes: %d", got)
	}
}

func TestJobFilterValuesCapped(t *testing.T) {
	e := testEngine(t, avions)
	values := func(n int) string {
		v := []string{"street"}
		for i := range n - 1 {
			v = append(v, fmt.Sprintf("t%d", i))
		}
		return strings.Join(v, "+")
	}
	in := "adresse;type\nrue des avions;" + values(maxFilterCellValues) + "\nrue des avions;" + values(maxFilterCellValues+1) + "\nrue des avions;" + strings.Repeat("+", 50000) + "street\n"
	out, s := run(t, e, in, Options{Columns: []string{"adresse"}, Filters: []FilterColumn{{"type", "type"}}})
	lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
	if !strings.HasSuffix(lines[1], ";ok") || !strings.HasSuffix(lines[2], ";error") || !strings.HasSuffix(lines[3], ";ok") || s.Errors != 1 {
		t.Errorf("%q %+v", lines, s)
	}
	rev := "lat;lon;type\n44;4;" + values(maxFilterCellValues+1) + "\n44;4;street\n"
	out, _ = run(t, e, rev, Options{Mode: Reverse, Filters: []FilterColumn{{"type", "type"}}})
	if lines := strings.Split(out, "\r\n"); !strings.HasSuffix(lines[1], ";error") || !strings.HasSuffix(lines[2], ";ok") {
		t.Errorf("reverse %q", lines)
	}
}

func TestSplitFilterCell(t *testing.T) {
	for _, c := range []struct {
		in    string
		limit int
		want  []string
		ok    bool
	}{
		{"75056", 3, []string{"75056"}, true},
		{" a + b ++c+", 3, []string{"a", "b", "c"}, true},
		{"a b\u00a0c", 3, []string{"a", "b", "c"}, true},
		{"a+b+c+d", 3, nil, false},
		{"a b c d", 3, nil, false},
		{"+++", 0, nil, true},
	} {
		got, ok := splitFilterCell(c.in, c.limit)
		if ok != c.ok || strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%q: %q %v", c.in, got, ok)
		}
	}
}

// The job's cost is linear in its input, for the inputs that grow: rows,
// and within one record, fields, cell lengths, quoted line breaks, filter
// values, and the size of a record over the cap.
func TestJobCostIsLinear(t *testing.T) {
	e := testEngine(t, avions)
	repeat := func(prefix, unit, suffix string, n int) io.Reader {
		return io.MultiReader(strings.NewReader("adresse;citycode\n"+prefix), &repeatReader{b: []byte(unit), n: n * len(unit)}, strings.NewReader(suffix))
	}
	for name, input := range map[string]func(k int) io.Reader{
		"rows":          func(k int) io.Reader { return repeat("", "rue des avions;1\n", "", 100*k) },
		"long cell":     func(k int) io.Reader { return repeat("", "a ", ";1\n", 100000*k) },
		"many fields":   func(k int) io.Reader { return repeat("", "a;", "\n", 20000*k) },
		"quoted lines":  func(k int) io.Reader { return repeat("\"", "rue\r\n", "\";1\n", 40000*k) },
		"filter values": func(k int) io.Reader { return repeat("rue des avions;", "1+", "\n", 100000*k) },
		"over cap":      func(k int) io.Reader { return repeat("\"", "x\n", "\"\n", 2500000*k) },
	} {
		t.Run(name, func(t *testing.T) {
			testutil.CheckLinearCost(t, 8, 5, func(k int) {
				j, err := NewJob(e, input(k), Options{Columns: []string{"adresse"}, Filters: []FilterColumn{{"type", "citycode"}}, MaxRecordBytes: 4 << 20, MaxFields: 1 << 20, Workers: 1})
				if err != nil {
					t.Fatal(err)
				}
				s, err := j.Run(context.Background(), io.Discard, nil)
				if err != nil || s.Rows == 0 {
					t.Fatal(s, err)
				}
			})
		})
	}
}

// The hooks are called once per chunk, bound what they are asked to, and
// leave the output as it is without them.
func TestJobHooks(t *testing.T) {
	e := testEngine(t, avions)
	var in strings.Builder
	in.WriteString("adresse\n")
	for i := range 1000 {
		fmt.Fprintf(&in, "%d rue des avions\n", i%30)
	}
	plain, _ := run(t, e, in.String(), Options{Workers: 3, ChunkRows: 16})
	var paced, acquired, released, holders, maxHolders atomic.Int64
	slots := make(chan struct{}, 2)
	opts := Options{Workers: 3, ChunkRows: 16,
		Pace: func(ctx context.Context, rows int) error {
			paced.Add(int64(rows))
			return nil
		},
		Acquire: func(ctx context.Context) (func(), error) {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			acquired.Add(1)
			n := holders.Add(1)
			for m := maxHolders.Load(); n > m && !maxHolders.CompareAndSwap(m, n); m = maxHolders.Load() {
			}
			return func() { holders.Add(-1); released.Add(1); <-slots }, nil
		},
	}
	hooked, s := run(t, e, in.String(), opts)
	if hooked != plain {
		t.Error("output differs with the hooks")
	}
	if paced.Load() != 1000 || s.Rows != 1000 {
		t.Errorf("paced %d rows, wrote %d", paced.Load(), s.Rows)
	}
	if chunks := int64((1000 + 15) / 16); acquired.Load() != chunks || released.Load() != chunks || maxHolders.Load() > 2 {
		t.Errorf("acquired %d, released %d (%d chunks), %d at once", acquired.Load(), released.Load(), chunks, maxHolders.Load())
	}
}

func TestJobHookErrors(t *testing.T) {
	e := testEngine(t, avions)
	in := "adresse\n" + strings.Repeat("rue des avions\n", 5000)
	errBudget := errors.New("row budget spent")
	var calls atomic.Int64
	for name, opts := range map[string]Options{
		"pace": {ChunkRows: 10, Pace: func(ctx context.Context, rows int) error {
			if calls.Add(1) == 5 {
				return errBudget
			}
			return nil
		}},
		"acquire": {ChunkRows: 10, Acquire: func(ctx context.Context) (func(), error) {
			if calls.Add(1) == 5 {
				return nil, errBudget
			}
			return func() {}, nil
		}},
	} {
		calls.Store(0)
		j, err := NewJob(e, strings.NewReader(in), opts)
		if err != nil {
			t.Fatal(err)
		}
		s, err := j.Run(context.Background(), io.Discard, nil)
		if !errors.Is(err, errBudget) || s.Rows >= 5000 {
			t.Errorf("%s: %v after %d rows", name, err, s.Rows)
		}
	}
	// A hook blocked until the caller gives up: the job ends with the
	// caller's context.
	ctx, cancel := context.WithCancel(context.Background())
	j, err := NewJob(e, strings.NewReader(in), Options{Acquire: func(ctx context.Context) (func(), error) {
		cancel()
		<-ctx.Done()
		return nil, ctx.Err()
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Run(ctx, io.Discard, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("blocked acquire: %v", err)
	}
}

type panicRecord struct {
	mu     sync.Mutex
	values []string
	stacks int
}

func (p *panicRecord) hook(v any, stack []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.values = append(p.values, search.DescribePanic(v))
	if len(stack) > 0 {
		p.stacks++
	}
}

// A row that panics is an error row, counted and reported without its
// content; the other rows are geocoded.
func TestJobRowPanic(t *testing.T) {
	e := testEngine(t, avions)
	var p panicRecord
	j, err := NewJob(e, strings.NewReader("adresse\nrue des avions\nsecret address 42\nrue des avions\n"), Options{OnPanic: p.hook})
	if err != nil {
		t.Fatal(err)
	}
	j.beforeRow = func(rec []string) {
		if rec[0] == "secret address 42" {
			panic("cannot handle " + rec[0])
		}
	}
	var out strings.Builder
	s, err := j.Run(context.Background(), &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\r\n")
	if s.Panics != 1 || s.Errors != 1 || s.OK != 2 || lines[2] != "secret address 42"+strings.Repeat(";", 14)+"error" {
		t.Errorf("%+v %q", s, lines)
	}
	if len(p.values) != 1 || p.values[0] != "panic of type string" || p.stacks != 1 {
		t.Errorf("reported %q (%d stacks)", p.values, p.stacks)
	}
	var idx []int
	j, _ = NewJob(e, strings.NewReader("adresse\nrue des avions\n"), Options{OnPanic: p.hook})
	j.beforeRow = func(rec []string) { _ = idx[len(rec)] }
	if s, _ := run2(t, j); s.Panics != 1 || p.values[1] != "runtime error: index out of range [1] with length 0" {
		t.Errorf("%+v %q", s, p.values)
	}
}

// A panic the engine recovered for a row (a search.InternalError) is a
// panic of that row: counted and handed to OnPanic with the engine's
// stack, not left to hide among the error rows. Other engine errors
// (a query too long) are plain error rows.
func TestJobEngineInternalErrorIsCounted(t *testing.T) {
	e := testEngine(t, avions)
	var p panicRecord
	j, err := NewJob(e, strings.NewReader("adresse\nrue des avions\n"), Options{OnPanic: p.hook})
	if err != nil {
		t.Fatal(err)
	}
	var m rowMeta
	j.engineFailed(&search.InternalError{Op: "search", Value: "cannot handle secret address 42", Stack: []byte("stack")}, &m)
	if !m.panicked || len(p.values) != 1 || p.values[0] != "panic of type string" || p.stacks != 1 {
		t.Errorf("internal error: panicked %v, reported %q (%d stacks)", m.panicked, p.values, p.stacks)
	}
	m = rowMeta{}
	j.engineFailed(fmt.Errorf("wrapped: %w", &search.QueryTooLongError{Length: 300, Limit: 200}), &m)
	if m.panicked || len(p.values) != 1 {
		t.Errorf("query too long counted as a panic: %v %q", m.panicked, p.values)
	}
	s := newSummary(false)
	s.add(&rowMeta{status: StatusError, panicked: true})
	if s.Panics != 1 || s.Errors != 1 {
		t.Errorf("summary %+v", s)
	}
}

func run2(t *testing.T, j *Job) (*Summary, string) {
	t.Helper()
	var out strings.Builder
	s, err := j.Run(context.Background(), &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, out.String()
}

// panicReader is an input whose Read panics once past the first bytes,
// as a faulty decompressor could.
type panicReader struct {
	r io.Reader
	n int
}

func (p *panicReader) Read(b []byte) (int, error) {
	if p.n <= 0 {
		panic(fmt.Sprintf("decoder state %q", "secret address 42"))
	}
	n, err := p.r.Read(b[:min(len(b), p.n)])
	p.n -= n
	return n, err
}

// A panic in one of the job's goroutines ends the job with an error, not
// the process; a panicking hook is one.
func TestJobGoroutinePanics(t *testing.T) {
	e := testEngine(t, avions)
	in := "adresse\n" + strings.Repeat("rue des avions\n", 20000)
	var p panicRecord
	j, err := NewJob(e, &panicReader{r: strings.NewReader(in), n: 100 << 10}, Options{OnPanic: p.hook})
	if err != nil {
		t.Fatal(err)
	}
	s, err := j.Run(context.Background(), io.Discard, nil)
	if err == nil || err.Error() != "batch: internal error while reading the CSV (panic of type string)" || s.Panics != 1 {
		t.Errorf("reader panic: %v, %+v", err, s)
	}
	j, _ = NewJob(e, strings.NewReader(in), Options{OnPanic: p.hook, Pace: func(context.Context, int) error { panic("pace") }})
	s, err = j.Run(context.Background(), io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "internal error while geocoding") || s.Panics < 1 {
		t.Errorf("worker panic: %v, %+v", err, s)
	}
	j, _ = NewJob(e, strings.NewReader(in), Options{OnPanic: func(any, []byte) { panic("hook") }})
	s, err = j.Run(context.Background(), io.Discard, func(int64) { panic("progress") })
	if err == nil || !strings.Contains(err.Error(), "internal error while writing the output") || s.Panics != 1 {
		t.Errorf("writer panic: %v, %+v", err, s)
	}
	for _, v := range p.values {
		if strings.Contains(v, "secret") {
			t.Errorf("panic report quotes the data: %q", v)
		}
	}
}

func TestFormulaEscaping(t *testing.T) {
	e := testEngine(t, avions)
	in := "=cmd|adresse|lon|note\n" +
		"a|rue des avions|-1.5536|=HYPERLINK(\"x\")\n" +
		"b|rue des avions|+33|+33 6 12 34 56 78\n" +
		"c|rue des avions|-1,5|@SUM(A1)\n" +
		"d|rue des avions|1e5|-\n" +
		"e|rue des avions|2|\"\tx\"\n" +
		"f|rue des avions|-2e-3|-1+2\n"
	opts := Options{Columns: []string{"adresse"}, ResultColumns: []string{"result_label"}}
	plain, _ := run(t, e, in, opts)
	opts.EscapeFormulas = true
	escaped, _ := run(t, e, in, opts)
	want := "\ufeff'=cmd|adresse|lon|note|result_label|result_status\r\n" +
		"a|rue des avions|-1.5536|\"'=HYPERLINK(\"\"x\"\")\"|rue des avions 31310 Montbrun-Bocage|ok\r\n" +
		"b|rue des avions|+33|'+33 6 12 34 56 78|rue des avions 31310 Montbrun-Bocage|ok\r\n" +
		"c|rue des avions|-1,5|'@SUM(A1)|rue des avions 31310 Montbrun-Bocage|ok\r\n" +
		"d|rue des avions|1e5|'-|rue des avions 31310 Montbrun-Bocage|ok\r\n" +
		"e|rue des avions|2|'\tx|rue des avions 31310 Montbrun-Bocage|ok\r\n" +
		"f|rue des avions|-2e-3|'-1+2|rue des avions 31310 Montbrun-Bocage|ok\r\n"
	if escaped != want {
		t.Errorf("escaped:\n%q\nwant\n%q", escaped, want)
	}
	if strings.Contains(plain, "'") || !strings.Contains(plain, "|\"=HYPERLINK(\"\"x\"\")\"|") {
		t.Errorf("escaping is on by default: %q", plain)
	}
	for s, number := range map[string]bool{"-1.5536": true, "+33": true, "-1,5": true, "1e5": true, "-2E+3": true, ".5": true, "-": false, "-e5": false, "1.2.3": false, "-1+2": false, "--1": false, "1e": false} {
		if got := isPlainNumber(s); got != number {
			t.Errorf("isPlainNumber(%q) = %v", s, got)
		}
	}
}
