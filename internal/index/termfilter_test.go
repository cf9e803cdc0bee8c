package index

import (
	"fmt"
	"testing"

	"balise/internal/text"
)

// TestTermFilterNeverRejectsATerm: once the filter is built, every term is
// still found, and most absent words (the fuzzy step's neighbours) are
// answered by the filter alone.
func TestTermFilterNeverRejectsATerm(t *testing.T) {
	ix, err := Open(buildLines(t, text.ProfileFrench, testLines), OpenOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	<-ix.filterDone
	f := ix.termFilter.Load()
	if f == nil {
		t.Fatal("no filter after its builder returned")
	}
	for i := 0; i < ix.NumTerms(); i++ {
		term := ix.Term(TermID(i))
		if !f.mayHave(termHash(term)) {
			t.Fatalf("the filter rejects the term %q", term)
		}
		if id, ok := ix.Lookup(term); !ok || int(id) != i {
			t.Fatalf("Lookup(%q) = %d, %v; want %d", term, id, ok, i)
		}
	}
	passed := 0
	const absent = 10000
	for i := range absent {
		w := fmt.Sprintf("absent%d", i)
		if _, ok := ix.Lookup(w); ok {
			t.Fatalf("Lookup(%q) found an absent word", w)
		}
		if f.mayHave(termHash(w)) {
			passed++
		}
	}
	// About 2 % at eight bits per term; the filter of a small index has
	// more bits per term (64 at least).
	if passed > absent/20 {
		t.Errorf("%d of %d absent words pass the filter", passed, absent)
	}
}

// TestCloseWhileTheFilterIsBuilt: Close waits for the builder, which stops
// early, before it unmaps the file the builder reads.
func TestCloseWhileTheFilterIsBuilt(t *testing.T) {
	path := buildLines(t, text.ProfileFrench, testLines)
	for range 50 {
		ix, err := Open(path, OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := ix.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ix.filterDone:
		default:
			t.Fatal("Close returned before the filter's builder")
		}
	}
}
