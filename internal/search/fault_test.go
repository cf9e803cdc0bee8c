package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"balise/internal/index"
	"balise/internal/testutil"
	"balise/internal/text"
)

// A file truncated under the mapping makes reads fault (SIGBUS). The
// engine turns that into ErrUnavailable for the request and marks the
// index, instead of letting the signal kill the process; later requests
// fail fast without touching the mapping.
func TestTruncatedFileFaultsAreRecovered(t *testing.T) {
	lines := make([]string, 4000)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"id":"d%d","type":"street","name":"rue fault %d","lat":44.%04d,"lon":4.%04d,"importance":0.5}`, i, i, i, i)
	}
	path := testutil.WriteIndex(t, index.BuildOptions{Text: text.Config{Profile: text.ProfileDefault}, Workers: 1}, lines...)
	ix := testutil.OpenIndex(t, path, index.OpenOptions{Verify: true})
	cfg := DefaultConfig()
	cfg.TimeBudget = 0
	e, err := New(ix, cfg, text.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := e.Search(context.Background(), Query{Q: "rue fault 3999", Limit: 1}); err != nil || len(res) != 1 {
		t.Fatalf("before: %v %v", res, err)
	}
	if err := os.Truncate(path, 4096); err != nil {
		t.Fatal(err)
	}
	// Search, reverse and document lookups all read far into the file.
	_, serr := e.Search(context.Background(), Query{Q: "rue fault 2500", Limit: 3})
	_, rerr := e.Reverse(context.Background(), ReverseQuery{Lat: 44.3999, Lon: 4.3999})
	_, _, derr := e.Document("d3998")
	for name, err := range map[string]error{"search": serr, "reverse": rerr, "document": derr} {
		if !errors.Is(err, index.ErrUnavailable) {
			t.Errorf("%s after truncation: %v, want ErrUnavailable", name, err)
		}
	}
	if !ix.Unavailable() {
		t.Fatal("the index is not marked unavailable")
	}
}

// A panic that is not a fault of the mapping is a bug: an InternalError
// carrying a stack, and no query text.
func TestEnginePanicIsAnInternalError(t *testing.T) {
	f := buildFixture(t, fixtureOpts{}, doc{"name": "rue des lilas", "city": "Paris"})
	err := f.e.recovered("search", "boom")
	var ie *InternalError
	if !errors.As(err, &ie) || !errors.Is(err, ErrInternal) || len(ie.Stack) == 0 {
		t.Fatalf("recovered = %#v", err)
	}
	if errors.Is(err, index.ErrUnavailable) || errors.Is(err, index.ErrCorrupt) {
		t.Fatalf("a bug reported as an index problem: %v", err)
	}
}

// A panic raised while a search runs, whose value quotes the query (as a
// careless message would), reaches the caller as an InternalError whose
// text holds neither the query nor the panic message: error text is
// logged even when query logging is off.
func TestEnginePanicDuringSearchKeepsQueryOutOfError(t *testing.T) {
	f := buildFixture(t, fixtureOpts{}, doc{"name": "rue des lilas", "city": "Paris"})
	f.e.chain = []collector{{"boom", func(s *searcher) bool { panic("cannot handle " + s.q.Q) }}}
	_, err := f.e.Search(context.Background(), Query{Q: "12 rue secrète", Limit: 1})
	var ie *InternalError
	if !errors.As(err, &ie) || !errors.Is(err, ErrInternal) || len(ie.Stack) == 0 {
		t.Fatalf("err = %#v", err)
	}
	if errors.Is(err, index.ErrCorrupt) || errors.Is(err, index.ErrUnavailable) || f.e.Index().Unavailable() {
		t.Fatalf("a bug reported as an index problem: %v", err)
	}
	if msg := err.Error(); strings.Contains(msg, "secrète") || strings.Contains(msg, "cannot handle") || msg != "search: internal error: panic of type string" {
		t.Errorf("error text %q", msg)
	}
	if ie.Value != "cannot handle 12 rue secrète" {
		t.Errorf("value %v: the log with --log-queries needs it", ie.Value)
	}
}

// fakeFault is a memory fault as CatchFaults reports it: a runtime error
// with the faulting address.
type fakeFault struct{ addr uintptr }

func (fakeFault) Error() string   { return "unexpected fault address" }
func (fakeFault) RuntimeError()   {}
func (f fakeFault) Addr() uintptr { return f.addr }

// A memory fault outside the index's mapping is a bug (a wild pointer),
// not a change of the file: an InternalError, and the index stays in use.
func TestFaultOutsideTheMappingIsAnInternalError(t *testing.T) {
	f := buildFixture(t, fixtureOpts{}, doc{"name": "rue des lilas", "city": "Paris"})
	err := f.e.recovered("reverse", fakeFault{addr: 8})
	if !errors.Is(err, ErrInternal) || errors.Is(err, index.ErrUnavailable) || f.e.Index().Unavailable() {
		t.Fatalf("recovered = %v (unavailable %v)", err, f.e.Index().Unavailable())
	}
	if err.Error() != "reverse: internal error: unexpected fault address" {
		t.Errorf("error text %q", err)
	}
}

// DescribePanic quotes a runtime error's text, never another value's.
func TestDescribePanic(t *testing.T) {
	var idx []int
	var rerr any
	func() {
		defer func() { rerr = recover() }()
		_ = idx[len(idx)]
	}()
	for v, want := range map[any]string{
		rerr:                            "runtime error: index out of range [0] with length 0",
		"rue secrète":                   "panic of type string",
		fmt.Errorf("bad %q", "secrète"): "panic of type *errors.errorString",
	} {
		if got := DescribePanic(v); got != want {
			t.Errorf("DescribePanic(%v) = %q, want %q", v, got, want)
		}
	}
}

// The length of a query is checked before the text pipeline: a megabyte
// query costs no more than folding would, and reports its length.
func TestHugeQueryRefusedBeforeProcessing(t *testing.T) {
	f := buildFixture(t, fixtureOpts{}, doc{"name": "rue des lilas", "city": "Paris"})
	q := make([]byte, 1<<20)
	for i := range q {
		q[i] = 'a' + byte(i%26)
	}
	_, err := f.e.Search(context.Background(), Query{Q: string(q)})
	var tl *QueryTooLongError
	if !errors.As(err, &tl) || tl.Length != 1<<20 || tl.Limit != 200 {
		t.Fatalf("err = %v", err)
	}
	// Just above the folded limit: Addok's message, with the folded length.
	_, err = f.e.Search(context.Background(), Query{Q: string(q[:201])})
	if !errors.As(err, &tl) || tl.Length != 201 {
		t.Fatalf("err = %v", err)
	}
}
