package search

import (
	"slices"

	"balise/internal/text"
)

// retypeMaxWords bounds how many known words a second search treats as
// typos: the two longest the first answer does not contain.
const retypeMaxWords = 2

// searchRetyped searches again when the first answer leaves out a word of
// the query that is an index term: such a word is often a typo that made
// another word ("Pairs", "Parns", "Pais" are terms of some street), which
// Addok never corrects since only unknown words go to its fuzzy step. The
// second search takes those words as unknown, so that the fuzzy steps
// correct them, alone or paired with an unknown word of the street
// (Config.FuzzyPair), and its answer is kept only when its best result
// scores higher than the first's. A query that the first answer matches
// word for word is searched once.
func (e *Engine) searchRetyped(s *searcher, first []*Result) []*Result {
	suspects := s.uncovered(first)
	if len(suspects) == 0 {
		return first
	}
	second, better := e.searchAgain(s, s.q, suspects, first)
	s.stats.Retyped = true
	if !better {
		return first
	}
	s.stats.Retyping = true
	return second
}

// uncovered returns the values of the query's meaningful words (known,
// not common) that the best result of first does not have among its
// label's tokens, longest first, at most retypeMaxWords; every meaningful
// word when first is empty, or when first leaves out an unknown word too
// (no correction of it was found with the known words: one of them may
// be a typo that made another term, "Duraton Parns" answered by a street
// of Parné). The last word is left out under autocomplete: it is a prefix
// being typed, not a typo.
func (s *searcher) uncovered(first []*Result) []string {
	var have []string
	if len(first) > 0 {
		have = s.e.pipe.Index(text.ASCII(first[0].Label()))
	}
	typed := func(t *token) bool { return s.q.Autocomplete && t.IsLast }
	// An unknown word was corrected when the label has a word near it that
	// no known word of the query accounts for: in "Rue Jean Duand", "jan"
	// is Jean's, not Duand's correction.
	unexplained := make([]string, 0, len(have))
	for _, w := range have {
		if !slices.ContainsFunc(s.tokens, func(t *token) bool { return t.found && t.Value == w }) {
			unexplained = append(unexplained, w)
		}
	}
	lost := false
	for _, t := range s.notFound {
		if !typed(t) && !text.IsAllDigits(t.Value) && !s.hasNear(unexplained, t.Value) {
			lost = true
		}
	}
	var out []string
	known := func(t *token) bool {
		return t.found && !typed(t) && len(t.Value) >= 3 && !text.IsAllDigits(t.Value)
	}
	covered := func(t *token) bool { return slices.Contains(have, t.Value) }
	// A first answer that has every known word but matches the query
	// poorly may come from typos that made terms of its own ("Pars" and
	// "Jacques" are in "Rue Jean-Jacques Rousseau, Saint-Paul-en-Pareds"):
	// its known words are suspects too. Not under autocomplete, where the
	// word being typed makes any first answer a poor match.
	weak := !s.q.Autocomplete && len(first) > 0 && first[0].strScore < s.cfg.RetypeWeak
	for _, t := range s.tokens { // longest first
		if len(out) < retypeMaxWords && t.freq <= s.cfg.CommonThreshold && known(t) && (lost || weak || !covered(t)) {
			out = append(out, t.Value)
		}
	}
	// Then the common words the first answer leaves out, which at the size
	// of the full BAN a typo makes too ("Paais" is "pai", the phoneme of
	// "pays", in 100,000 documents), but not the words in more documents
	// than INTERSECT_LIMIT ("rue", "de"), which are no one's typo.
	if s.cfg.RetypeCommon && len(first) > 0 {
		for _, t := range s.tokens {
			common := t.freq > s.cfg.CommonThreshold && t.freq <= s.cfg.IntersectLimit
			if len(out) < retypeMaxWords && common && known(t) && !covered(t) {
				out = append(out, t.Value)
			}
		}
	}
	return out
}

// hasNear reports whether words holds one within two edits of w: the
// fuzzy steps corrected w into it.
func (s *searcher) hasNear(words []string, w string) bool {
	return len(w) <= respellMaxWord && nearAny(words, w)
}
