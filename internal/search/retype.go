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
	s2 := newSearcher(s.ctx, e, s.q)
	s2.deadline = s.deadline
	s2.retyped = suspects
	if err := s2.prepare(); err != nil {
		return first
	}
	second := s2.run()
	s.stats.Retyped = true
	s.stats.Candidates += s2.stats.Candidates
	s.stats.Collect += s2.stats.Collect
	s.stats.FuzzyTime += s2.stats.FuzzyTime
	s.stats.Score += s2.stats.Score
	s.stats.BudgetSpent = s.stats.BudgetSpent || s2.stats.BudgetSpent
	if len(second) == 0 || (len(first) > 0 && second[0].Score <= first[0].Score) {
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
	lost := false
	for _, t := range s.notFound {
		if !typed(t) && !text.IsAllDigits(t.Value) && !s.hasNear(have, t.Value) {
			lost = true
		}
	}
	var out []string
	for _, t := range s.tokens { // longest first
		if !t.found || t.freq > s.cfg.CommonThreshold || typed(t) {
			continue
		}
		if len(t.Value) < 3 || text.IsAllDigits(t.Value) || (!lost && slices.Contains(have, t.Value)) {
			continue
		}
		out = append(out, t.Value)
		if len(out) == retypeMaxWords {
			break
		}
	}
	return out
}

// hasNear reports whether words holds one within two edits of w: the
// fuzzy steps corrected w into it.
func (s *searcher) hasNear(words []string, w string) bool {
	if len(w) > respellMaxWord {
		return false
	}
	for _, h := range words {
		if len(h) >= len(w)-2 && len(h) <= len(w)+2 && withinTwoEdits(w, h) {
			return true
		}
	}
	return false
}
