package search

import (
	"context"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"balise/internal/geo"
	"balise/internal/index"
	"balise/internal/text"
)

// token is a query token with what the index knows of it.
type token struct {
	text.Token
	term  index.TermID
	found bool
	freq  int
}

// searcher holds the state of one search: Addok's Search helper.
type searcher struct {
	ctx      context.Context
	e        *Engine
	cfg      Config
	q        Query
	deadline time.Time
	start    time.Time
	stats    Stats

	folded       string
	tokens       []*token // non-housenumber tokens, longest first
	housenumbers []*token
	common       []*token
	meaningful   []*token
	notFound     []*token
	last         *token
	shouldMatch  int

	filter  filterSetup
	geohash []uint32
	hnRef   string        // the flagged housenumber's processed key
	hnLoose []looseNumber // numbers written elsewhere in the query (NumberAnywhere)

	keys        []key
	bucket      bucket
	matchedKeys map[index.TermID]struct{}
	results     map[uint32]*Result

	scratchScored []scored
	fuzzBuf       []byte   // EachFuzzy's buffer
	labels        labelBuf // the folded labels of the candidate being scored
	ngq           *text.NgramQuery
	memo          map[string]intersection // intersections already computed
	written       []string                // the query's words, for writtenWord
	// retyped are the values of known words taken as unknown, by the
	// second search of searchRetyped.
	retyped     []string
	expiredFlag bool
}

func newSearcher(ctx context.Context, e *Engine, q Query) *searcher {
	now := time.Now()
	s := &searcher{ctx: ctx, e: e, cfg: e.cfg, q: q, start: now, matchedKeys: map[index.TermID]struct{}{}, results: map[uint32]*Result{}}
	if e.cfg.TimeBudget > 0 {
		s.deadline = now.Add(e.cfg.TimeBudget)
	}
	if d, ok := ctx.Deadline(); ok && (s.deadline.IsZero() || d.Before(s.deadline)) {
		s.deadline = d
	}
	return s
}

func (s *searcher) expired() bool {
	if s.expiredFlag {
		return true
	}
	if (!s.deadline.IsZero() && time.Now().After(s.deadline)) || s.ctx.Err() != nil {
		s.expiredFlag = true
		s.stats.BudgetSpent = true
	}
	return s.expiredFlag
}

// prepare is the set-up of Addok's Search: its preprocess and search_all.
func (s *searcher) prepare() error {
	ix := s.e.ix
	// Lengths are checked before the text pipeline runs: folding is one
	// linear pass, the rest of the pipeline costs far more per byte.
	q := strings.TrimSpace(s.q.Q)
	if s.cfg.QueryMaxBytes > 0 && len(q) > s.cfg.QueryMaxBytes {
		return &QueryTooLongError{Length: utf8.RuneCountInString(q), Limit: s.cfg.QueryMaxLength}
	}
	folded := text.ASCII(q)
	s.folded = folded
	if n := utf8.RuneCountInString(folded); n > s.cfg.QueryMaxLength {
		return &QueryTooLongError{Length: n, Limit: s.cfg.QueryMaxLength}
	}
	toks := s.e.pipe.QueryFolded(folded)
	for i := range toks {
		t := &token{Token: toks[i], term: -1}
		if t.Kind == text.KindHousenumber {
			s.housenumbers = append(s.housenumbers, t)
			if t.IsLast {
				s.last = t
			}
			continue
		}
		if id, ok := ix.Lookup(t.Value); ok && !slices.Contains(s.retyped, t.Value) {
			t.term, t.found, t.freq = id, true, ix.Frequency(id)
		}
		if t.IsLast {
			s.last = t
		}
		s.tokens = append(s.tokens, t)
	}
	sort.SliceStable(s.tokens, func(i, j int) bool { return len(s.tokens[i].Value) > len(s.tokens[j].Value) })
	for _, t := range s.tokens {
		switch {
		case !t.found:
			s.notFound = append(s.notFound, t)
		case t.freq > s.cfg.CommonThreshold:
			s.common = append(s.common, t)
		default:
			s.meaningful = append(s.meaningful, t)
		}
	}
	byFreq := func(a, b *token) int { return a.freq - b.freq }
	slices.SortStableFunc(s.common, byFreq)
	slices.SortStableFunc(s.meaningful, byFreq)
	if len(s.meaningful) > s.cfg.MaxMeaningful {
		s.common = append(s.common, s.meaningful[s.cfg.MaxMeaningful:]...)
		s.meaningful = s.meaningful[:s.cfg.MaxMeaningful]
		slices.SortStableFunc(s.common, byFreq)
	}
	s.shouldMatch = int(math.Ceil(2.0 / 3.0 * float64(len(s.tokens))))
	s.stats.Tokens = len(s.tokens)

	// Housenumber reference: the flagged tokens joined in query order.
	if len(s.housenumbers) > 0 {
		hn := slices.Clone(s.housenumbers)
		slices.SortStableFunc(hn, func(a, b *token) int { return a.Position - b.Position })
		var sb strings.Builder
		for _, t := range hn {
			sb.WriteString(t.Value)
		}
		s.hnRef = sb.String()
	} else if s.cfg.NumberAnywhere {
		s.hnLoose = s.looseNumbers()
		s.demoteLooseNumbers()
	}

	// Filters, as Addok: dedupe, strip, drop empty, cap, sort; OR within, AND across.
	s.filter = s.e.setupFilters(s.q.Filters)
	if s.q.HasCenter {
		s.geohash = s.geohashArea(s.q.Lat, s.q.Lon)
	}
	s.stats.Prepare = time.Since(s.start)
	return nil
}

// geohashArea is the union of the documents in the 9 cells around a point.
func (s *searcher) geohashArea(lat, lon float64) []uint32 {
	var docs []uint32
	for _, c := range geo.Around(geo.CellOf(lat, lon), 1) {
		s.e.ix.CellPoints(c, func(p index.Point) bool {
			docs = append(docs, p.Doc)
			return true
		})
	}
	slices.Sort(docs)
	return slices.Compact(docs)
}

// demoteLooseNumbers makes the tokens of the numbers written after the
// start of the query common: such a number is a housenumber (hnLoose)
// rather than a word of the street's name, and as a meaningful word it
// would be required in the intersections, keeping out the street that has
// it only as a housenumber ("avenue de la gare 6 naucelle" answered by
// the streets with "six" in their documents, once "gare" and "avenue" are
// common at the size of the full BAN). It still counts, as a common word,
// where a street is named with it ("rue du 8 mai 1945"). Nothing changes
// when no word of three letters or more is common, or when every
// meaningful word is such a number.
func (s *searcher) demoteLooseNumbers() {
	if len(s.hnLoose) == 0 || !slices.ContainsFunc(s.common, func(t *token) bool { return len(t.Value) >= 3 }) {
		// No word of the address is common, only articles ("ru", "de",
		// "la"): the meaningful words select the street by themselves,
		// and the number keeps Addok's part.
		return
	}
	loose := func(t *token) bool {
		for _, n := range s.hnLoose {
			if toks := s.e.pipe.Index(n.word); len(toks) == 1 && toks[0] == t.Value {
				return true
			}
		}
		return false
	}
	var kept, common, demoted []*token
	for _, t := range s.meaningful {
		if loose(t) {
			demoted = append(demoted, t)
		} else {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		return // nothing else to search with
	}
	for _, t := range s.common {
		if loose(t) {
			demoted = append(demoted, t)
		} else {
			common = append(common, t)
		}
	}
	// After the common words, whatever their frequency: a collector that
	// adds the rarest common word to a lone meaningful one
	// (bucket_with_meaningful) takes a word of the address.
	s.meaningful = kept
	s.common = append(common, demoted...)
}

// looseNumber is a number written after the start of the query: its
// processed housenumber key and the query word it came from.
type looseNumber struct{ key, word string }

// looseNumbers finds numbers written after the start of the query
// ("rue x 12 ville"): Addok only looks at a number in first position or
// before a street type (its issue #406). Each is returned as a processed
// housenumber key, with a following ordinal glued ("12 bis").
func (s *searcher) looseNumbers() []looseNumber {
	words := strings.Fields(s.folded)
	var out []looseNumber
	for i := 1; i < len(words); i++ {
		w := words[i]
		n := 0
		for n < len(w) && w[n] >= '0' && w[n] <= '9' {
			n++
		}
		if n == 0 || n > 4 || (len(w)-n > 1 && !isOrdinal(w[n:])) || (len(w)-n == 1 && (w[n] < 'a' || w[n] > 'z')) {
			continue
		}
		raw := w
		if n == len(w) && i+1 < len(words) && isOrdinal(words[i+1]) {
			raw = w + " " + words[i+1]
		}
		if k := s.e.pipe.HousenumberKey(raw); k != "" {
			out = append(out, looseNumber{k, w})
		}
		if raw != w {
			if k := s.e.pipe.HousenumberKey(w); k != "" {
				out = append(out, looseNumber{k, w})
			}
		}
	}
	return out
}

func isOrdinal(w string) bool {
	switch w {
	case "bis", "ter", "quater", "quinquies", "sexies":
		return true
	}
	return len(w) == 1 && w[0] >= 'a' && w[0] <= 'z'
}

// ---- bucket helpers ----------------------------------------------------------

func (s *searcher) empty() bool    { return s.bucket.len() == 0 }
func (s *searcher) dry() bool      { return s.bucket.len() < s.q.Limit }
func (s *searcher) overflow() bool { return s.bucket.len() >= s.cfg.BucketMax }
func (s *searcher) full() bool {
	n := s.bucket.len()
	return n >= s.q.Limit && n < s.cfg.BucketMax
}

func (s *searcher) noteKeys(keys []key) {
	for _, k := range keys {
		if !k.isSet {
			s.matchedKeys[k.term] = struct{}{}
		}
	}
}

func (s *searcher) newBucket(keys []key, limit int) {
	s.bucket.reset()
	s.addToBucket(keys, limit)
}

func (s *searcher) addToBucket(keys []key, limit int) {
	if s.expired() || s.filter.none {
		return
	}
	s.noteKeys(keys)
	if limit == 0 {
		limit = max(s.cfg.BucketMax, s.q.Limit) - s.bucket.len()
	}
	s.bucket.add(s.intersect(keys, limit))
}

func (s *searcher) tokenKeys(ts []*token) []key {
	out := make([]key, 0, len(ts))
	for _, t := range ts {
		if t.found {
			out = append(out, termKey(t.term))
		}
	}
	return out
}

func (s *searcher) passShouldMatch() bool { return len(s.matchedKeys) >= s.shouldMatch }

// hasCream reports whether a small bucket already holds a result whose
// label matches the query well (MATCH_THRESHOLD).
func (s *searcher) hasCream() bool {
	n := s.bucket.len()
	if n == 0 || s.overflow() || n > s.cfg.BucketMin {
		return false
	}
	for _, d := range s.bucket.docs {
		if r := s.result(d); r != nil && r.strScore >= s.cfg.MatchThreshold {
			return true
		}
	}
	return false
}

// ---- the chain ---------------------------------------------------------------

type collector struct {
	name string
	fn   func(*searcher) bool
}

var collectors = []collector{
	{"only_commons_but_geohash_try_autocomplete", (*searcher).onlyCommonsButGeohashTryAutocomplete},
	{"no_tokens_but_housenumbers_and_geohash", (*searcher).noTokensButHousenumbersAndGeohash},
	{"no_available_tokens_abort", (*searcher).noAvailableTokensAbort},
	{"only_commons", (*searcher).onlyCommons},
	{"no_meaningful_but_common_try_autocomplete", (*searcher).noMeaningfulButCommonTryAutocomplete},
	{"only_commons_try_autocomplete", (*searcher).onlyCommonsTryAutocomplete},
	{"bucket_with_meaningful", (*searcher).bucketWithMeaningful},
	{"reduce_with_other_commons", (*searcher).reduceWithOtherCommons},
	{"ensure_geohash_results_are_included", (*searcher).ensureGeohashResultsAreIncluded},
	{"autocomplete_meaningful", (*searcher).autocompleteMeaningful},
	{"drop_short_last_word", (*searcher).dropShortLastWord},
	{"fuzzy", (*searcher).fuzzy},
	{"extend_results_extrapoling_relations", (*searcher).extendResultsExtrapolingRelations},
	{"extend_results_reducing_tokens", (*searcher).extendResultsReducingTokens},
}

func (s *searcher) run() []*Result {
	t0 := time.Now()
	for _, c := range s.e.chain {
		if s.expired() {
			break
		}
		if c.fn(s) {
			s.stats.Collector = c.name
			break
		}
	}
	t1 := time.Now()
	s.stats.Collect = t1.Sub(t0)
	out := s.rank()
	s.stats.Score = time.Since(t1)
	return out
}

func (s *searcher) allCommon() bool { return len(s.tokens) > 0 && len(s.tokens) == len(s.common) }

func (s *searcher) onlyCommonsButGeohashTryAutocomplete() bool {
	if s.geohash == nil || !s.allCommon() {
		return false
	}
	s.autocomplete(s.tokens, false, true)
	return !s.empty()
}

func (s *searcher) noTokensButHousenumbersAndGeohash() bool {
	if len(s.tokens) == 0 && len(s.housenumbers) > 0 && s.geohash != nil {
		s.newBucket([]key{setKey(s.geohash)}, 0)
		return true
	}
	return false
}

func (s *searcher) noAvailableTokensAbort() bool { return len(s.tokens) == 0 }

func (s *searcher) onlyCommons() bool {
	if !s.allCommon() {
		return false
	}
	keys := s.tokenKeys(s.tokens)
	if s.geohash != nil {
		keys = append(keys, setKey(s.geohash))
	}
	if len(keys) == 1 || s.geohash != nil {
		s.addToBucket(keys, 0)
	}
	if s.dry() && len(keys) > 1 {
		toks := slices.Clone(s.tokens)
		slices.SortStableFunc(toks, func(a, b *token) int { return a.freq - b.freq })
		rarest := toks[0]
		smallestFilter := s.filter.smallest()
		switch {
		case rarest.freq < s.cfg.IntersectLimit:
			s.addToBucket(s.tokenKeys(toks), 0)
		case smallestFilter >= 0 && smallestFilter < rarest.freq:
			s.addToBucket(s.tokenKeys(toks), 0) // intersect() appends the filters
		default:
			s.manualScan(toks)
		}
	}
	return false
}

// manualScan walks the best documents of the rarest token and keeps those
// in every other token and filter (Addok's answer to huge intersections).
func (s *searcher) manualScan(toks []*token) {
	ix := s.e.ix
	window := s.topOfTerm(toks[0].term, s.cfg.ManualScanWindow)
	for _, t := range toks[1:] {
		s.matchedKeys[t.term] = struct{}{}
	}
	s.matchedKeys[toks[0].term] = struct{}{}
	for _, d := range window {
		ok := s.filter.admits(d)
		for _, t := range toks[1:] {
			if !ok {
				break
			}
			docs, _ := ix.Postings(t.term)
			if _, found := slices.BinarySearch(docs, d); !found {
				ok = false
			}
		}
		if ok {
			s.bucket.add([]uint32{d})
		}
		if s.full() {
			break
		}
	}
}

func (s *searcher) noMeaningfulButCommonTryAutocomplete() bool {
	if len(s.meaningful) > 0 || len(s.common) == 0 {
		return false
	}
	s.autocomplete(s.common, false, false)
	s.meaningful = s.common[:1:1]
	if !s.passShouldMatch() {
		return false
	}
	stop := s.full() || s.overflow() || s.hasCream()
	if stop && s.cfg.FuzzyPair && len(s.notFound) > 0 && !s.hasCream() {
		// The chain stops here on documents that only have the common
		// words ("rue", and "paris" at the size of the full BAN), before
		// any fuzzy step: balise's corrects the unknown words first
		// ("20 rue corvsart paris"), its documents going first, a single
		// one too ("4 rue d'natin paris").
		s.tryFuzzyPair(true)
	}
	return stop
}

func (s *searcher) onlyCommonsTryAutocomplete() bool {
	if !s.allCommon() {
		return false
	}
	s.autocomplete(s.tokens, true, false)
	return !s.empty()
}

func (s *searcher) bucketWithMeaningful() bool {
	if len(s.meaningful) == 1 && len(s.common) > 0 && len(s.filter.sets) == 0 {
		for _, t := range s.common {
			if !slices.Contains(s.meaningful, t) {
				s.meaningful = append(slices.Clone(s.meaningful), t)
				break
			}
		}
	}
	s.keys = s.tokenKeys(s.meaningful)
	if s.empty() {
		s.newBucket(s.keys, 10)
		if !s.q.Autocomplete && s.bucket.len() < 10 && s.hasCream() {
			return true
		}
		if s.bucket.len() == 10 {
			s.newBucket(s.keys, 0)
		}
	} else {
		s.addToBucket(s.keys, 0)
	}
	return false
}

func (s *searcher) reduceWithOtherCommons() bool {
	for _, t := range s.common {
		if !s.overflow() {
			break
		}
		if slices.Contains(s.meaningful, t) {
			continue
		}
		s.keys = append(s.keys, termKey(t.term))
		s.newBucket(s.keys, 0)
	}
	return false
}

func (s *searcher) ensureGeohashResultsAreIncluded() bool {
	if s.overflow() && s.geohash != nil {
		keys := append(slices.Clone(s.keys), setKey(s.geohash))
		s.addToBucket(keys, max(s.q.Limit, 10))
	}
	return false
}

func (s *searcher) autocompleteMeaningful() bool {
	if !s.q.Autocomplete {
		return false
	}
	if s.overflow() {
		// Addok stops here. But the bucket overflows with the documents
		// of the words already typed whenever they are in more documents
		// than it holds, as a street name is at the size of the full BAN
		// ("rue de la liberte lef"): the word being typed is then never
		// expanded and the street is answered in any city. balise expands
		// it, its documents in front.
		if s.cfg.PrefixInFront && s.last != nil && !s.last.found && s.last.Kind != text.KindHousenumber {
			defer s.inFront()()
			s.autocomplete(s.meaningful, false, false)
		}
		return false
	}
	if s.geohash != nil {
		s.autocomplete(s.meaningful, false, true)
	}
	s.autocomplete(s.meaningful, false, false)
	return false
}

// dropShortLastWord: with autocomplete on, a last word of one or two
// letters is one being typed that no index term completes (edge n-grams
// start at three), yet it is a required word. When the bucket is empty
// with it, the documents of the other meaningful words are taken instead,
// and the ranking's comparison with the query favours those whose label
// goes on with what is typed ("… Saint-P" for Saint-Paul). Addok goes to
// fuzzy matching, which at the size of the full BAN finds the same street
// name in another city (and the two letters as a typo of some word).
func (s *searcher) dropShortLastWord() bool {
	last := s.last
	if !s.cfg.ShortLastWord || !s.q.Autocomplete || !s.empty() || last == nil ||
		last.Kind == text.KindHousenumber || len(last.Value) >= minPrefixLen {
		return false
	}
	rest := make([]*token, 0, len(s.meaningful))
	for _, t := range s.meaningful {
		if t != last {
			rest = append(rest, t)
		}
	}
	if len(rest) == 0 || len(rest) == len(s.meaningful) {
		return false
	}
	meaningful := s.meaningful
	s.meaningful = rest
	s.bucketWithMeaningful()
	s.reduceWithOtherCommons()
	if s.empty() {
		s.meaningful = meaningful
	}
	return false
}

// minPrefixLen is the shortest word being typed that is completed: the
// edge n-grams of Addok's index start at three characters.
const minPrefixLen = 3

// autocomplete extends the bucket with the index terms that start with the
// last token and co-occur with the other tokens (Addok's autocomplete).
func (s *searcher) autocomplete(tokens []*token, skipCommons, useGeohash bool) {
	last := s.last
	if last == nil || last.Kind == text.KindHousenumber {
		return
	}
	prefix := last.Value
	// Edge n-grams exist from 3 to 20 characters, never for the whole word.
	if len(prefix) < minPrefixLen || len(prefix) > 20 {
		return
	}
	var keys []key
	var others []index.TermID
	for _, t := range tokens {
		if t.IsLast || !t.found {
			continue
		}
		keys = append(keys, termKey(t.term))
		others = append(others, t.term)
	}
	ix := s.e.ix
	lo, hi := ix.PrefixRange(prefix)
	type cand struct {
		term index.TermID
		freq int
		w    float32
	}
	var cands []cand
	for t := lo; t < hi; t++ {
		if t&255 == 255 && s.expired() {
			return
		}
		term := ix.Term(t)
		if term == prefix || text.IsAllDigits(term) {
			continue
		}
		if !s.cooccur(t, others) {
			continue
		}
		cands = append(cands, cand{t, ix.Frequency(t), ix.MaxWeight(t)})
	}
	if len(others) == 0 {
		slices.SortStableFunc(cands, func(a, b cand) int {
			if a.w != b.w {
				if a.w > b.w {
					return -1
				}
				return 1
			}
			return int(a.term - b.term)
		})
	} else {
		slices.SortStableFunc(cands, func(a, b cand) int {
			if a.freq != b.freq {
				return b.freq - a.freq
			}
			return int(a.term - b.term)
		})
	}
	add := func(base []key, c index.TermID) {
		extra := append(slices.Clone(base), termKey(c))
		if useGeohash && s.geohash != nil {
			extra = append(extra, setKey(s.geohash))
		}
		s.addToBucket(extra, 0)
	}
	if s.cfg.PrefixEveryWord && !skipCommons && len(keys) > 0 {
		// Completions with every word of the query first: see withCommons.
		if every := s.withCommons(keys); len(every) > len(keys) {
			for _, c := range cands {
				if s.overflow() || s.expired() {
					break
				}
				add(every, c.term)
			}
		}
	}
	lastNotFound := !last.found
	for _, c := range cands {
		if skipCommons && c.freq > s.cfg.CommonThreshold {
			continue
		}
		if s.overflow() && !lastNotFound {
			break
		}
		if s.expired() {
			return
		}
		add(keys, c.term)
	}
}

// withCommons is keys with the query's common words added, the last one
// left out. autocomplete collects first the documents that have, with a
// completion of the word being typed, every one of them
// (Config.PrefixEveryWord): Addok's completions are tried most frequent
// first with the meaningful words only, and stop when the bucket
// overflows, so at the size of the full BAN the frequent completion fills
// it ("pierres blanches maiso": a hundred "Routes des Maisons Blanches")
// before the one the query means is tried, the words that would tell
// ("chemin", "pierres") being common there.
func (s *searcher) withCommons(keys []key) []key {
	all := slices.Clone(keys)
	for _, t := range s.common {
		if t.found && !t.IsLast && !slices.ContainsFunc(all, func(k key) bool { return !k.isSet && k.term == t.term }) {
			all = append(all, termKey(t.term))
		}
	}
	return all
}

func (s *searcher) fuzzy() bool {
	if s.cfg.Fuzzy <= 0 || s.hasCream() {
		return false
	}
	start := time.Now()
	defer func() { s.stats.FuzzyTime += time.Since(start) }()
	if s.cfg.FuzzyPair && (len(s.notFound) > 1 || s.singleCorrection()) {
		s.tryFuzzyPair(s.singleCorrection())
		if s.hasCream() {
			return false
		}
	}
	if len(s.notFound) > 0 {
		s.tryFuzzy(s.notFound, true)
	}
	if s.dry() && !s.hasCream() {
		s.tryFuzzy(s.meaningful, true)
	}
	if s.dry() && len(s.common) > 0 {
		s.tryFuzzy(s.meaningful, false)
	}
	return false
}

// fuzzyTerms are the index terms one edit away from t's value (Addok's
// make_fuzzy) that are seen with every term of others.
func (s *searcher) fuzzyTerms(t *token, others []index.TermID) []index.TermID {
	var words []index.TermID
	s.fuzzBuf = s.e.pipe.EachFuzzy(t.Value, s.fuzzBuf, func(n string) bool {
		if id, ok := s.termSeenWith(n, others); ok {
			words = append(words, id)
		}
		return true
	})
	return words
}

// termSeenWith is word's term when the index has it and it is seen with
// every term of others.
func (s *searcher) termSeenWith(word string, others []index.TermID) (index.TermID, bool) {
	id, ok := s.e.ix.Lookup(word)
	return id, ok && s.cooccur(id, others)
}

// pairTerms are tryFuzzyPair's candidates for t, the fuzzyPairMax most
// frequent of: its fuzzy terms, then the terms of the words one edit away
// from the word as written (any letter substituted, not only a keyboard
// neighbour), processed by the pipeline. The French pipeline rewrites
// words into phonemes, and an edit of the written word is often more than
// one of its phonemes ("teple" → "tepl", "temple" → "tanpl"). The most
// frequent first: of two corrections, the more common word is the likelier
// meant ("parns": "paris" rather than "parins").
func (s *searcher) pairTerms(t *token, others []index.TermID, n int) []index.TermID {
	ix := s.e.ix
	words := s.fuzzyTerms(t, others)
	// A known word taken as a typo (searchRetyped) may be the right one
	// and the typo elsewhere: paired with a correction of another word
	// ("josoph" → "joseph" with "dijon" itself), it is a candidate too.
	if slices.Contains(s.retyped, t.Value) {
		if id, ok := s.termSeenWith(t.Value, others); ok {
			words = append(words, id)
		}
	}
	w := s.writtenWord(t)
	// Each neighbour of the written word runs through the pipeline, a cost
	// quadratic in its length: words longer than any street word's are
	// left to the phonemes' neighbours.
	// The written word's neighbours are the fallback when the phonemes'
	// give fewer than fuzzyPairMax: running each through the pipeline is
	// most of the step's cost.
	if len(words) < fuzzyPairMax && w != "" && len(w) <= respellMaxWord && s.e.profile == text.ProfileFrench {
		for _, n := range text.Neighbours(w) {
			if len(words) >= pairCandidatesMax || s.expired() {
				break
			}
			toks := s.e.pipe.Index(n)
			if len(toks) != 1 || toks[0] == t.Value {
				continue
			}
			id, ok := ix.Lookup(toks[0])
			if !ok || slices.Contains(words, id) || !s.cooccur(id, others) {
				continue
			}
			words = append(words, id)
		}
	}
	slices.SortStableFunc(words, func(a, b index.TermID) int { return ix.Frequency(b) - ix.Frequency(a) })
	return words[:min(len(words), n)]
}

// writtenWord is the query word t was made from, "" when it cannot be told
// (a synonym's expansion).
func (s *searcher) writtenWord(t *token) string {
	if s.written == nil {
		q := s.folded
		if s.e.profile == text.ProfileFrench {
			q = text.RemoveLeadingZeros(text.CleanQuery(text.ExtractAddress(q)))
		}
		s.written = text.Tokenize(q)
	}
	if t.Position < 0 || t.Position >= len(s.written) {
		return ""
	}
	w := text.Fold(s.written[t.Position])
	if toks := s.e.pipe.Index(w); len(toks) != 1 || toks[0] != t.Value {
		return ""
	}
	return w
}

// inFront empties the bucket and returns the function that puts back the
// documents it held, as far as room is left: what is collected between
// the two goes in front of them, so that BucketMax keeps it.
func (s *searcher) inFront() func() {
	before := slices.Clone(s.bucket.docs)
	s.bucket.reset()
	return func() {
		for _, d := range before {
			if s.overflow() {
				break
			}
			s.bucket.add([]uint32{d})
		}
	}
}

// singleCorrection reports whether tryFuzzyPair corrects a single unknown
// word, which is otherwise left to Addok's step: in searchRetyped's second
// search, where a known word taken as a typo may be the one unknown word,
// and when the bucket overflowed with documents that have the query's
// other words but not it (Addok's step runs on a dry bucket only). The
// latter is the rule at the size of the full BAN, where a street name
// ("Rue des Martyrs") is in more documents than a bucket holds: the city
// written with a typo ("Danroutin") must be corrected to choose among them.
func (s *searcher) singleCorrection() bool {
	return len(s.retyped) > 0 || s.overflow()
}

// fuzzyPairMax bounds the neighbours of each word tryFuzzyPair combines,
// so that it tries at most fuzzyPairMax² pairs.
const fuzzyPairMax = 16

// pairPartnersMax bounds the second word's candidates tryFuzzyPair checks
// against each of the first's: at most fuzzyPairMax × pairPartnersMax
// co-occurrence checks.
const pairPartnersMax = 48

// pairCandidatesMax bounds the candidates pairTerms ranks by frequency
// before it keeps fuzzyPairMax: each costs a co-occurrence check.
const pairCandidatesMax = 64

// tryFuzzyPair corrects two unknown words at once ("rue des acaias
// aicnreville"): Addok's fuzzy step corrects one word at a time, keeping
// the other unknown word out of the keys, so a typo in the street and
// another in the city find the street in any city. The two longest
// unknown words are paired, each neighbour of one with each neighbour of
// the other seen with it and with the known words (balise's
// Config.FuzzyPair; Addok has no such step). single lets it correct a
// single unknown word (singleCorrection).
func (s *searcher) tryFuzzyPair(single bool) {
	var pair []*token
	for _, t := range s.notFound { // longest first, as s.tokens
		// The last word under autocomplete is a prefix being typed, left
		// to the autocomplete collectors.
		if !text.IsAllDigits(t.Value) && !(s.q.Autocomplete && t.IsLast) {
			pair = append(pair, t)
		}
		if len(pair) == 2 {
			break
		}
	}
	if len(pair) == 0 || (len(pair) == 1 && !single) {
		return
	}
	s.stats.Fuzzy = true
	keys := append(slices.Clone(s.keys), s.tokenKeys(s.common)...)
	others := make([]index.TermID, 0, len(keys)+1)
	for _, k := range keys {
		if !k.isSet {
			others = append(others, k.term)
		}
	}
	as := s.pairTerms(pair[0], others, fuzzyPairMax)
	if len(as) == 0 || s.expired() {
		return
	}
	// The second word's candidates are checked against each of the
	// first's, so more of them are kept: ranked by frequency alone, the
	// sixteen best of a small commune's name ("valdi": Valady) are other
	// words seen with the query's common ones at the size of the full BAN.
	var bs []index.TermID
	if len(pair) == 2 {
		bs = s.pairTerms(pair[1], others, pairPartnersMax)
	}
	// The bucket may be full of documents that only have the query's
	// common words ("rue", "des"): the pairs' documents, which have all
	// its words, go first, and those fill what room is left.
	defer s.inFront()()
	if len(pair) == 1 {
		for _, a := range as {
			if s.overflow() || s.expired() {
				return
			}
			s.addToBucket(append(slices.Clone(keys), termKey(a)), 0)
		}
		return
	}
	s.addPairs(keys, as, bs)
}

// pairEvalMax bounds the pairs of corrections addPairs intersects.
const pairEvalMax = 64

// addPairs adds the documents of the pairs of corrections (as[i], bs[j])
// seen together, the pairs with the fewest documents first. Tried in
// order of frequency only, a pair of frequent corrections fills the
// bucket by itself at the size of the full BAN ("duand prais": "du" and
// "pai", a hundred streets) before the pair meant ("duran", "pari") is
// tried. The pairs are visited by diagonals (i+j), so that the best
// ranked of both lists come first, and at most pairEvalMax are kept.
func (s *searcher) addPairs(keys []key, as, bs []index.TermID) {
	type pairHits struct {
		keys []key
		n    int
	}
	var found []pairHits
	for d := 0; d < len(as)+len(bs)-1 && len(found) < pairEvalMax; d++ {
		for i := max(0, d-len(bs)+1); i <= min(d, len(as)-1) && len(found) < pairEvalMax; i++ {
			if s.expired() {
				return
			}
			a, b := as[i], bs[d-i]
			if !s.cooccur(a, []index.TermID{b}) {
				continue
			}
			k := append(slices.Clone(keys), termKey(a), termKey(b))
			if n := len(s.intersect(k, 0)); n > 0 {
				found = append(found, pairHits{k, n})
			}
		}
	}
	slices.SortStableFunc(found, func(x, y pairHits) int { return x.n - y.n })
	for _, p := range found {
		if s.overflow() || s.expired() {
			return
		}
		s.addToBucket(p.keys, 0)
	}
}

func (s *searcher) tryFuzzy(tokens []*token, includeCommon bool) {
	if !s.dry() || len(tokens) == 0 {
		return
	}
	s.stats.Fuzzy = true
	toks := slices.Clone(tokens)
	slices.SortStableFunc(toks, func(a, b *token) int { return len(b.Value) - len(a.Value) })
	allKeys := slices.Clone(s.keys)
	if includeCommon {
		allKeys = append(allKeys, s.tokenKeys(s.common)...)
	}
	for _, t := range toks {
		if s.full() || s.expired() {
			break
		}
		keys := make([]key, 0, len(allKeys))
		removed := false
		for _, k := range allKeys {
			if !removed && !k.isSet && t.found && k.term == t.term {
				removed = true
				continue
			}
			keys = append(keys, k)
		}
		if text.IsAllDigits(t.Value) {
			continue
		}
		var others []index.TermID
		for _, k := range keys {
			if !k.isSet {
				others = append(others, k.term)
			}
		}
		for _, w := range s.fuzzyTerms(t, others) {
			if !s.dry() || s.expired() {
				break
			}
			s.addToBucket(append(slices.Clone(keys), termKey(w)), 0)
		}
	}
}

// extendResultsExtrapolingRelations tries groups of query tokens that are
// pairwise seen together (Addok's _extract_manytomany_relations): for each
// token in query order, a group grows greedily with the tokens linked to all
// its members; common tokens are then left out, groups of one dropped, groups
// contained in a larger one dropped, and the rest tried rarest first.
func (s *searcher) extendResultsExtrapolingRelations() bool {
	if !s.dry() {
		return false
	}
	var toks []*token
	for _, t := range append(slices.Clone(s.meaningful), s.common...) {
		if t.found && !slices.ContainsFunc(toks, func(o *token) bool { return o.Value == t.Value }) {
			toks = append(toks, t)
		}
	}
	slices.SortStableFunc(toks, func(a, b *token) int { return a.Position - b.Position })
	n := len(toks)
	if n < 2 || n > 30 {
		return false
	}
	linked := make([][]bool, n)
	for i := range linked {
		linked[i] = make([]bool, n)
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			ok := s.cooccur(toks[i].term, []index.TermID{toks[j].term})
			linked[i][j], linked[j][i] = ok, ok
		}
	}
	var groups [][]int
	for origin := 0; origin < n; origin++ {
		group := []int{origin}
		for other := 0; other < n; other++ {
			if other == origin || !linked[origin][other] {
				continue
			}
			all := true
			for _, m := range group {
				if !linked[m][other] {
					all = false
					break
				}
			}
			if all {
				group = append(group, other)
			}
		}
		var kept []int
		for _, m := range group {
			if toks[m].freq <= s.cfg.CommonThreshold {
				kept = append(kept, m)
			}
		}
		slices.Sort(kept)
		if len(kept) > 1 {
			groups = append(groups, kept)
		}
	}
	slices.SortStableFunc(groups, func(a, b []int) int { return len(b) - len(a) })
	var unique [][]int
	for _, g := range groups {
		sub := false
		for _, u := range unique {
			if isSubset(g, u) {
				sub = true
				break
			}
		}
		if !sub {
			unique = append(unique, g)
		}
	}
	mean := func(g []int) float64 {
		sum := 0
		for _, m := range g {
			sum += toks[m].freq
		}
		return float64(sum) / float64(len(g))
	}
	slices.SortStableFunc(unique, func(a, b []int) int {
		ma, mb := mean(a), mean(b)
		switch {
		case ma < mb:
			return -1
		case ma > mb:
			return 1
		}
		return 0
	})
	for _, g := range unique {
		keys := make([]key, len(g))
		for i, m := range g {
			keys[i] = termKey(toks[m].term)
		}
		s.addToBucket(keys, 0)
		if s.overflow() || s.expired() {
			break
		}
	}
	return false
}

func isSubset(a, b []int) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func (s *searcher) extendResultsReducingTokens() bool {
	if s.hasCream() || s.full() || !s.dry() {
		return false
	}
	if !(s.empty() || len(s.meaningful)-1 > s.shouldMatch) {
		return false
	}
	ts := slices.Clone(s.meaningful)
	// All-digit tokens first, then the most frequent.
	slices.SortStableFunc(ts, func(a, b *token) int {
		da, db := text.IsAllDigits(a.Value), text.IsAllDigits(b.Value)
		if da != db {
			if da {
				return -1
			}
			return 1
		}
		return b.freq - a.freq
	})
	without := func(drop ...*token) []key {
		var keys []key
		for _, k := range s.keys {
			skip := false
			for _, t := range drop {
				if !k.isSet && t.found && k.term == t.term {
					skip = true
				}
			}
			if !skip {
				keys = append(keys, k)
			}
		}
		return keys
	}
	for _, t := range ts {
		s.addToBucket(without(t), 0)
		if s.overflow() || s.expired() {
			return false
		}
	}
	if s.empty() && len(ts) > 3 {
		for i := 0; i < len(ts); i++ {
			for j := i + 1; j < len(ts); j++ {
				s.addToBucket(without(ts[i], ts[j]), 0)
				if s.overflow() || s.expired() {
					return false
				}
			}
		}
	}
	return false
}
