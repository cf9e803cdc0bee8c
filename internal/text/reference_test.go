package text

import (
	"bufio"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestReference checks the package against outputs of Python's re engine on
// the spec's tables (testdata/reference/gen.py): thousands of generated
// words and queries, including regex corner cases no hand-written table
// covers.

func readJSONL(t *testing.T, name string, each func(line []byte)) {
	t.Helper()
	f, err := os.Open("testdata/reference/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		each(sc.Bytes())
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("%s is empty", name)
	}
}

func TestReference(t *testing.T) {
	t.Run("phonemes", func(t *testing.T) {
		readJSONL(t, "phonemes.jsonl", func(l []byte) {
			var c [2]string
			if err := json.Unmarshal(l, &c); err != nil {
				t.Fatal(err)
			}
			if got := Phonemicize(c[0]); got != c[1] {
				t.Errorf("Phonemicize(%q) = %q, want %q", c[0], got, c[1])
			}
		})
	})
	t.Run("france", func(t *testing.T) {
		readJSONL(t, "france.jsonl", func(l []byte) {
			var c struct {
				Q, Clean, Extract, Zeros string
				Tokens, Glue, Fold       []string
				Flag                     int
			}
			if err := json.Unmarshal(l, &c); err != nil {
				t.Fatal(err)
			}
			check := func(what, got, want string) {
				if got != want {
					t.Errorf("%s(%q) = %q, want %q", what, c.Q, got, want)
				}
			}
			check("CleanQuery", CleanQuery(c.Q), c.Clean)
			check("ExtractAddress", ExtractAddress(c.Q), c.Extract)
			check("RemoveLeadingZeros", RemoveLeadingZeros(c.Q), c.Zeros)
			if got := GlueOrdinal(c.Tokens); !slices.Equal(got, c.Glue) && len(got)+len(c.Glue) > 0 {
				t.Errorf("GlueOrdinal(%q) = %q, want %q", c.Tokens, got, c.Glue)
			}
			for i, tk := range c.Tokens {
				check("FoldOrdinal", FoldOrdinal(tk), c.Fold[i])
			}
			if got := FlagHousenumber(c.Tokens); got != c.Flag {
				t.Errorf("FlagHousenumber(%q) = %d, want %d", c.Tokens, got, c.Flag)
			}
		})
	})
	t.Run("pipeline", func(t *testing.T) {
		readJSONL(t, "pipeline.jsonl", func(l []byte) {
			var c struct {
				Q, Folded string
				Tokens    [][3]any
				Index     []string
			}
			if err := json.Unmarshal(l, &c); err != nil {
				t.Fatal(err)
			}
			folded, toks := french.Query(c.Q)
			if folded != c.Folded {
				t.Errorf("Query(%q) folded = %q, want %q", c.Q, folded, c.Folded)
			}
			var want []string
			for i, w := range c.Tokens {
				s := w[0].(string) + "@" + itoa(int(w[1].(float64)))
				if w[2] == "housenumber" {
					s = w[0].(string) + "(hn)@" + itoa(int(w[1].(float64)))
				}
				if i == len(c.Tokens)-1 {
					s += "*"
				}
				want = append(want, s)
			}
			if got := tokensString(toks); got != strings.Join(want, " ") {
				t.Errorf("Query(%q) = %s, want %s", c.Q, got, strings.Join(want, " "))
			}
			if got := french.Index(c.Q); !slices.Equal(got, c.Index) && len(got)+len(c.Index) > 0 {
				t.Errorf("Index(%q) = %q, want %q", c.Q, got, c.Index)
			}
		})
	})
	t.Run("fuzzy", func(t *testing.T) {
		azerty := NewPipeline(Config{})
		all := NewPipeline(Config{FuzzyAllLetters: true})
		readJSONL(t, "fuzzy.jsonl", func(l []byte) {
			var c struct {
				Word        string
				Azerty, All []string
			}
			if err := json.Unmarshal(l, &c); err != nil {
				t.Fatal(err)
			}
			if got := azerty.Fuzzy(c.Word); !slices.Equal(got, c.Azerty) {
				t.Errorf("Fuzzy(%q) = %q, want %q", c.Word, got, c.Azerty)
			}
			if got := all.Fuzzy(c.Word); !slices.Equal(got, c.All) {
				t.Errorf("Fuzzy all letters (%q) = %q, want %q", c.Word, got, c.All)
			}
			// Neighbours substitutes every letter whatever the pipeline's map.
			if got := Neighbours(c.Word); !slices.Equal(got, c.All) {
				t.Errorf("Neighbours(%q) = %q, want %q", c.Word, got, c.All)
			}
		})
	})
	t.Run("ngram", func(t *testing.T) {
		readJSONL(t, "ngram.jsonl", func(l []byte) {
			var c [3]any
			if err := json.Unmarshal(l, &c); err != nil {
				t.Fatal(err)
			}
			a, b, want := c[0].(string), c[1].(string), c[2].(float64)
			if got := NgramCompare(a, b); got != want {
				t.Errorf("NgramCompare(%q, %q) = %v, want %v", a, b, got, want)
			}
		})
	})
}
