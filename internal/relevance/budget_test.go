package relevance

import (
	"testing"
	"time"

	"balise/internal/search"
)

// TestPathologicalQueriesAnswerWithinBudget: Addok takes ~2 s on junk like
// "rue de brizjzzj"; balise answers every query within its time budget
// (50 ms by default) with the best results found so far.
func TestPathologicalQueriesAnswerWithinBudget(t *testing.T) {
	e := sharedEngine(t)
	budget := e.Config().TimeBudget
	for _, q := range []string{
		"rue de brizjzzj",
		"rue de la de la de la de la du du du le les",
		"saint saint saint saint saint saint saint saint",
		"a b c d e f g h i j k l m n o p q r s t u v w x y z",
		"chemin chemin route rue avenue boulevard impasse allee place",
		"zzzzzzzz yyyyyyyy xxxxxxx wwwwwww vvvvvvv",
		"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
		"rue de la république saint martin les bains sur mer",
	} {
		for _, ac := range []bool{false, true} {
			start := time.Now()
			_, st, err := e.SearchStats(t.Context(), search.Query{Q: q, Limit: 5, Autocomplete: ac})
			d := time.Since(start)
			if err != nil {
				t.Fatalf("%q: %v", q, err)
			}
			t.Logf("%-60q autocomplete=%-5v %8v candidates=%d budget_spent=%v", q, ac, d.Round(time.Microsecond), st.Candidates, st.BudgetSpent)
			// The budget bounds collection; scoring what was collected comes on top.
			if d > budget+50*time.Millisecond {
				t.Errorf("%q took %v (budget %v)", q, d, budget)
			}
		}
	}
}
