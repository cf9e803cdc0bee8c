package text

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/.

func FuzzQuery(f *testing.F) {
	f.Fuzz(func(t *testing.T, q string) {
		for _, p := range []*Pipeline{french, defaultPipeline} {
			folded, toks := p.Query(q)
			if !utf8.ValidString(folded) {
				t.Fatalf("folded %q of %q is not UTF-8", folded, q)
			}
			for i, tk := range toks {
				if tk.Value == "" || !utf8.ValidString(tk.Value) {
					t.Fatalf("token %d %q of %q", i, tk.Value, q)
				}
				if tk.IsLast != (i == len(toks)-1) {
					t.Fatalf("IsLast on token %d of %d for %q", i, len(toks), q)
				}
				if tk.Position < 0 {
					t.Fatalf("negative position in %q", q)
				}
			}
			for _, w := range p.Index(q) {
				if w == "" || !utf8.ValidString(w) {
					t.Fatalf("index token %q of %q", w, q)
				}
			}
			if k := p.HousenumberKey(q); !utf8.ValidString(k) {
				t.Fatalf("housenumber key %q of %q", k, q)
			}
		}
	})
}

var defaultPipeline = NewPipeline(Config{})

func FuzzASCII(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		a := ASCII(s)
		for i := 0; i < len(a); i++ {
			c := a[i]
			if c == ' ' {
				if i == 0 || i == len(a)-1 || a[i+1] == ' ' {
					t.Fatalf("ASCII(%q) = %q: stray space", s, a)
				}
			} else if !asciiWord[c] {
				t.Fatalf("ASCII(%q) = %q: byte %q", s, a, c)
			}
		}
		// Addok's ascii() does not lower what unidecode emits, so capitals
		// from it ("中" -> "Zhong") are lowered only by a second pass; from
		// then on it is idempotent.
		a2 := ASCII(a)
		if a2 != strings.ToLower(a) {
			t.Fatalf("ASCII(ASCII(%q)) = %q, want %q", s, a2, strings.ToLower(a))
		}
		if strings.ToLower(a) == a && a2 != a {
			t.Fatalf("ASCII not idempotent on %q: %q then %q", s, a, a2)
		}
		if ASCII(a2) != a2 {
			t.Fatalf("ASCII not idempotent on %q", a2)
		}
	})
}

func FuzzNgramCompare(f *testing.F) {
	f.Fuzz(func(t *testing.T, a, b string) {
		s := NgramCompare(a, b)
		if !(s >= 0 && s <= 1) {
			t.Fatalf("NgramCompare(%q, %q) = %v", a, b, s)
		}
		if r := NgramCompare(b, a); r != s {
			t.Fatalf("NgramCompare not symmetric on %q, %q: %v vs %v", a, b, s, r)
		}
		if a != "" && NgramCompare(a, a) != 1 {
			t.Fatalf("NgramCompare(%q, itself) = %v", a, NgramCompare(a, a))
		}
		if len(a) < 64 && len(b) < 64 {
			if want := naiveNgram(a, b); want != s {
				t.Fatalf("NgramCompare(%q, %q) = %v, want %v", a, b, s, want)
			}
		}
	})
}
