package search

import (
	"strings"

	"balise/internal/text"
)

// Bounds of respell, so that its cost grows with the query's length only
// linearly: every word is looked up once, at most respellMaxWords words are
// taken apart, each of at most respellMaxWord bytes, and a word is cut in
// two at most (each cut costs two look-ups of its halves).
const (
	// respellMaxWord is the longest word taken apart: a long street word
	// and a long municipality name glued together stay under it
	// ("palafrugellmirepoix" is 19).
	respellMaxWord = 40
	// respellMaxWords is how many unknown words of one query are taken
	// apart; the others are left as they are.
	respellMaxWords = 4
	// respellMinPart is the shortest half of a cut: shorter halves ("de",
	// "la") are found in any word and would cut typos into nonsense.
	respellMinPart = 3
)

// speller takes apart the glued words of one query against the index's
// terms. lookups counts the words it ran through the text pipeline and
// looked up, the measure of its cost that the tests bound.
type speller struct {
	e       *Engine
	lookups int
	// answered holds the folded words of the first search's best result:
	// a word of letters within two edits of one of them is a typo that the
	// fuzzy step corrected, not two words glued together.
	answered []string
}

// respell returns the folded query with its glued words taken apart, and
// whether anything changed: a number glued to a word ("12rue" → "12 rue",
// "paix75002" → "paix 75002", "5bisrue" → "5bis rue"), or two words glued
// together ("vernierparis" → "vernier paris") when both halves are index
// terms. Only words that are not index terms themselves are touched, so a
// query written with its spaces is never changed. The last word is left
// alone when autocomplete is on: it may be a word being typed. answered is
// the label of the first search's best result ("" for none): a word of
// letters close to one of its words is not cut ("jinquilles" answered by
// "Impasse des Jonquilles" is not "jin quilles"), which also spares the
// second search of most typos.
func (e *Engine) respell(folded string, autocomplete bool, answered string) (string, bool, int) {
	sp := speller{e: e, answered: strings.Fields(text.ASCII(answered))}
	words := strings.Fields(folded)
	changed, tried := false, 0
	for i, w := range words {
		if autocomplete && i == len(words)-1 {
			break
		}
		if len(w) < 4 || len(w) > respellMaxWord || typedNumber(w) || text.IsAllDigits(w) {
			continue
		}
		if tried == respellMaxWords {
			break
		}
		if sp.known(w) {
			continue
		}
		tried++
		if r, ok := sp.unglue(w); ok {
			words[i], changed = r, true
		}
	}
	if !changed {
		return folded, false, sp.lookups
	}
	return strings.Join(words, " "), true, sp.lookups
}

// typedNumber is a housenumber as people write it, "12", "12bis", "12b":
// never taken apart.
func typedNumber(w string) bool {
	n := 0
	for n < len(w) && w[n] >= '0' && w[n] <= '9' {
		n++
	}
	if n == 0 || n > 4 {
		return false
	}
	rest := w[n:]
	return rest == "" || isOrdinal(rest)
}

// known reports whether every token the pipeline makes of w is an index
// term.
func (sp *speller) known(w string) bool {
	sp.lookups++
	toks := sp.e.pipe.Index(w)
	if len(toks) == 0 {
		return false
	}
	for _, t := range toks {
		if _, ok := sp.e.ix.Lookup(t); !ok {
			return false
		}
	}
	return true
}

// unglue takes one unknown word apart: at every boundary between digits
// and letters, then each run of letters that is not a term is cut in two
// terms if it can be, with an ordinal after a number kept on the number
// ("5bisrue" → "5bis rue").
func (sp *speller) unglue(w string) (string, bool) {
	runs := digitRuns(w)
	if len(runs) == 1 {
		if sp.corrected(w) {
			return "", false
		}
		return sp.cut(w)
	}
	out := make([]string, 0, len(runs)+2)
	for i, r := range runs {
		if r[0] >= '0' && r[0] <= '9' {
			out = append(out, r)
			continue
		}
		afterNumber := i > 0 && len(runs[i-1]) <= 4
		o, rest := ordinalPrefix(r)
		// A number, an ordinal, a street type: "12arue" is "12a rue",
		// whatever "arue" may be a term of.
		if afterNumber && !text.IsStreetType(r) && len(rest) >= 2 && text.IsStreetType(rest) {
			out[len(out)-1] += o
			out = append(out, rest)
			continue
		}
		if sp.known(r) {
			out = append(out, r)
			continue
		}
		if afterNumber && len(rest) >= 2 && sp.known(rest) {
			out[len(out)-1] += o
			out = append(out, rest)
			continue
		}
		if c, ok := sp.cut(r); ok {
			out = append(out, c)
			continue
		}
		out = append(out, r)
	}
	return strings.Join(out, " "), true
}

// corrected reports whether w is within two edits of a word of the first
// answer. Its cost is bounded by the label's length times
// respellMaxWord², as w is at most respellMaxWord bytes and the lengths of
// the words compared differ by two at most.
func (sp *speller) corrected(w string) bool { return nearAny(sp.answered, w) }

// nearAny reports whether words holds one within two edits of w, which is
// at most respellMaxWord bytes (withinTwoEdits' bound).
func nearAny(words []string, w string) bool {
	for _, a := range words {
		if len(a) >= len(w)-2 && len(a) <= len(w)+2 && withinTwoEdits(w, a) {
			return true
		}
	}
	return false
}

// withinTwoEdits reports whether the Levenshtein distance between the
// ASCII words a and b is two or less.
func withinTwoEdits(a, b string) bool {
	var rows [2][respellMaxWord + 3]int
	prev, cur := rows[0][:len(b)+1], rows[1][:len(b)+1]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			best = min(best, cur[j])
		}
		if best > 2 {
			return false
		}
		prev, cur = cur, prev
	}
	return prev[len(b)] <= 2
}

// cut cuts a word of letters into two index terms, "" and false when no
// cut gives two. Of several cuts, the one with the longest shorter half
// wins (the first of equals): a balanced cut is the least likely to have
// found a short word by chance inside a longer one.
func (sp *speller) cut(w string) (string, bool) {
	best, bestMin := -1, 0
	for i := respellMinPart; i+respellMinPart <= len(w); i++ {
		if m := min(i, len(w)-i); m > bestMin && sp.known(w[:i]) && sp.known(w[i:]) {
			best, bestMin = i, m
		}
	}
	if best < 0 {
		return "", false
	}
	return w[:best] + " " + w[best:], true
}

// digitRuns splits an ASCII word into its runs of digits and of other
// characters: "12rue" → ["12", "rue"].
func digitRuns(w string) []string {
	var out []string
	start := 0
	for i := 1; i <= len(w); i++ {
		if i == len(w) || isDigit(w[i]) != isDigit(w[i-1]) {
			out = append(out, w[start:i])
			start = i
		}
	}
	return out
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// ordinalPrefix splits the ordinal a housenumber may carry off the start
// of a run of letters: "bisrue" → "bis", "rue"; "brue" → "b", "rue".
func ordinalPrefix(r string) (string, string) {
	for _, o := range []string{"quater", "bis", "ter"} {
		if strings.HasPrefix(r, o) {
			return o, r[len(o):]
		}
	}
	return r[:1], r[1:]
}
