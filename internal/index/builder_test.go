package index

import (
	"fmt"
	"slices"
	"testing"

	"balise/internal/text"
)

// The worker's memo gives the pipeline's answers, before and after it is
// full and starts again.
func TestTextMemoGivesThePipelinesAnswers(t *testing.T) {
	pipe := text.NewPipeline(text.Config{Profile: text.ProfileFrench})
	m := newTextMemo(pipe)
	for round := range 2 {
		for i := range memoSize + 10 {
			v := fmt.Sprintf("Rue %d de la Paix %dbis", i%(memoSize+3), i)
			if got, want := m.index(v), pipe.Index(v); !slices.Equal(got, want) {
				t.Fatalf("round %d: index(%q) = %q, want %q", round, v, got, want)
			}
			hn := fmt.Sprintf("%d ter", i%500)
			if got, want := m.housenumberKey(hn), pipe.HousenumberKey(hn); got != want {
				t.Fatalf("round %d: housenumberKey(%q) = %q, want %q", round, hn, got, want)
			}
		}
	}
	if len(m.tokens) > memoSize || len(m.hnKeys) > memoSize {
		t.Fatalf("memo over its bound: %d, %d", len(m.tokens), len(m.hnKeys))
	}
}
