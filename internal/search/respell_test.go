package search

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"balise/internal/index"
	"balise/internal/sample"
	"balise/internal/text"
)

var (
	parisOnce sync.Once
	parisPath string
	parisErr  error
)

// parisEngine is an engine over the bundled Paris sample (real BAN data),
// built once per test binary, with DefaultConfig changed by cfg.
func parisEngine(t *testing.T, cfg func(*Config)) *Engine {
	t.Helper()
	parisOnce.Do(func() {
		dir, err := os.MkdirTemp("", "balise-search-paris-")
		if err != nil {
			parisErr = err
			return
		}
		parisPath = filepath.Join(dir, "paris.balise")
		parisErr = sample.Build(context.Background(), parisPath)
	})
	if parisErr != nil {
		t.Fatal(parisErr)
	}
	ix, err := index.Open(parisPath, index.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	c := DefaultConfig()
	c.TimeBudget = 0
	if cfg != nil {
		cfg(&c)
	}
	e, err := New(ix, c, text.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestRespellTakesGluedWordsApart(t *testing.T) {
	e := parisEngine(t, nil)
	for _, c := range []struct {
		q, want      string
		autocomplete bool
	}{
		{q: "12rue de la paix paris", want: "12 rue de la paix paris"},
		{q: "12 rue de la paixparis", want: "12 rue de la paix paris"},
		{q: "5bisrue de la paix paris", want: "5bis rue de la paix paris"},
		{q: "12arue de la paix paris", want: "12a rue de la paix paris"},
		{q: "12 rue de la paix75002 paris", want: "12 rue de la paix 75002 paris"},
		{q: "12 rue vernierparis", want: "12 rue vernier paris"},
		// Written with its spaces, or with numbers people type: unchanged.
		{q: "12 rue de la paix paris", want: "12 rue de la paix paris"},
		{q: "12bis rue de la paix 75002 paris", want: "12bis rue de la paix 75002 paris"},
		// The last word of an autocomplete query may be unfinished.
		{q: "12 rue de la paixparis", want: "12 rue de la paixparis", autocomplete: true},
		{q: "12rue de la paix pa", want: "12 rue de la paix pa", autocomplete: true},
	} {
		got, changed, _ := e.respell(text.ASCII(c.q), c.autocomplete, "")
		if got != c.want || changed != (c.want != text.ASCII(c.q)) {
			t.Errorf("respell(%q, %v) = %q, %v; want %q", c.q, c.autocomplete, got, changed, c.want)
		}
	}
}

// TestRespellSearch: a number glued to the street type finds the number,
// which the query as written does not.
func TestRespellSearch(t *testing.T) {
	for _, c := range []struct{ q, want string }{
		{"12Rue de la Paix Paris", "12 Rue de la Paix 75002 Paris"},
		{"22sAvenue du Général Lemonnier Paris", "22s Avenue du Général Lemonnier 75001 Paris"},
		{"12 Rue VernierParis", "12 Rue Vernier 75017 Paris"},
	} {
		label := func(e *Engine) string {
			res, st, err := e.SearchStats(t.Context(), Query{Q: c.q, Limit: 5})
			if err != nil || len(res) == 0 {
				t.Fatalf("%q: %v, %d results", c.q, err, len(res))
			}
			if st.Respelling != e.cfg.Respell {
				t.Errorf("%q: Respelling %v", c.q, st.Respelling)
			}
			return res[0].Label()
		}
		if got := label(parisEngine(t, nil)); got != c.want {
			t.Errorf("%q: top %q; want %q", c.q, got, c.want)
		}
		if got := label(parisEngine(t, func(c *Config) { c.Respell = false })); got == c.want {
			t.Errorf("%q without Respell: top %q already", c.q, got)
		}
	}
}

// TestRespellCostIsBounded: the look-ups respell makes grow with the
// query's words, never with the square of a word's length: a word over
// respellMaxWord is not cut at all, and at most respellMaxWords words are
// taken apart.
func TestRespellCostIsBounded(t *testing.T) {
	e := parisEngine(t, nil)
	long := strings.Repeat("parisrue", 25) // 200 letters, not a term
	if got, changed, n := e.respell(long, false, ""); changed || got != long || n != 0 {
		t.Errorf("200-letter word: changed %v after %d look-ups", changed, n)
	}
	// More words than respellMaxWords, of the longest size taken apart,
	// mixed and not, within the 200 characters of a query.
	var words []string
	for i := 0; i < respellMaxWords+1; i++ {
		w := strings.Repeat("xq", respellMaxWord/2)
		if i%2 == 1 {
			w = strings.Repeat("x1", respellMaxWord/2)
		}
		words = append(words, w[:min(len(w), 190/(respellMaxWords+1))])
	}
	q := strings.Join(words, " ")
	_, _, n := e.respell(q, false, "")
	// Each word is looked up once; a word taken apart costs at most two
	// look-ups per cut position and three per run of letters.
	bound := len(words) + respellMaxWords*(2*respellMaxWord+3*respellMaxWord)
	if n == 0 || n > bound {
		t.Errorf("%d look-ups for %d words of %d letters; bound %d", n, len(words), respellMaxWord, bound)
	}
	if _, err := e.Search(t.Context(), Query{Q: q}); err != nil {
		t.Fatal(err)
	}
}

// TestRespellLeavesCorrectedTypos: a word of letters that the first answer
// corrected (within two edits of one of its words) is not cut in two.
func TestRespellLeavesCorrectedTypos(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"jinquilles", "jonquilles", true},
		{"jonquilles", "jonquilles", true},
		{"jnoquilles", "jonquilles", true},
		{"jinquiles", "jonquilles", true},
		{"vernierparis", "vernier", false},
		{"vernierparis", "paris", false},
		{"abc", "xyz", false},
		{"", "ab", true},
	} {
		if got := withinTwoEdits(c.a, c.b); got != c.want {
			t.Errorf("withinTwoEdits(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
	sp := speller{answered: []string{"impasse", "des", "jonquilles", "ussel"}}
	if !sp.corrected("jinquilles") || sp.corrected("vernierparis") {
		t.Error("corrected: want jinquilles corrected by jonquilles, vernierparis not")
	}
}
