package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"balise/internal/index"
	"balise/internal/text"
)

// Config holds Addok's tuning constants (docs/compatibility.md) plus balise's own knobs.
// The zero value is not useful: start from DefaultConfig.
type Config struct {
	BucketMin       int     // BUCKET_MIN
	BucketMax       int     // BUCKET_MAX
	CommonThreshold int     // COMMON_THRESHOLD: tokens in more documents are "common"
	IntersectLimit  int     // INTERSECT_LIMIT
	MatchThreshold  float64 // MATCH_THRESHOLD: a "cream" result's string score
	MinScore        float64 // MIN_SCORE: results below are dropped
	QueryMaxLength  int     // QUERY_MAX_LENGTH (folded characters)
	// QueryMaxBytes refuses a query longer than this many bytes before
	// any text processing (0: no such bound), so that a huge CSV cell or
	// /batch item costs nothing. Folding can shorten a query (runs of
	// spaces and punctuation become one space), so this bound, 8 KiB by
	// default (ten times QueryMaxLength of 4-byte characters), also
	// refuses the rare query of mostly blanks that Addok would fold under
	// 200 characters; its error reports the raw length in characters.
	QueryMaxBytes    int
	MaxMeaningful    int     // Search.MAX_MEANINGFUL
	MaxFilterValues  int     // MAX_FILTER_VALUES
	ManualScanWindow int     // ids of the rarest token walked by the manual scan (Addok: 501)
	Fuzzy            int     // 0 disables fuzzy matching; Addok's default is 1
	ImportanceWeight float64 // IMPORTANCE_WEIGHT
	GeoWeight        float64 // GEO_DISTANCE_WEIGHT

	// TimeBudget bounds one search: when it is spent the collectors stop and
	// the best results found so far are returned (Addok has no such bound).
	TimeBudget time.Duration
	// NumberAnywhere attaches a housenumber written after the street
	// ("rue X 12 ville"), which Addok ignores (its issue #406).
	NumberAnywhere bool
	// Collectors names the candidate collectors to run, in order; nil runs
	// Addok's default chain (see CollectorNames).
	Collectors []string
	// MaxReverseRadius caps the radius parameter of Reverse, in metres.
	MaxReverseRadius float64
	// Respell searches a second time with the query's glued words taken
	// apart ("12rue", "vernierparis"), when it has some, and keeps the
	// better answer (Addok searches the query as written only).
	Respell bool
	// FuzzyPair corrects two unknown words of a query together (a typo
	// in the street and one in the city) before Addok's fuzzy step
	// corrects them one at a time.
	FuzzyPair bool
	// Retype searches a second time when the first answer leaves out a
	// known word of the query, with that word taken as a typo, and keeps
	// the better answer (searchRetyped).
	Retype bool
	// RetypeCommon lets searchRetyped take a common word the first answer
	// leaves out as a typo too (uncovered).
	RetypeCommon bool
	// RetypeWeak: when the first answer's best string score is below it
	// (and autocomplete is off), searchRetyped takes the query's known
	// words as typos even though that answer has them all (uncovered);
	// 0 never. Right answers to a query with two typos score about 0.7.
	RetypeWeak float64
	// PrefixInFront expands the word being typed (autocomplete) also when
	// the bucket already overflowed with the documents of the words before
	// it, its documents in front (autocompleteMeaningful).
	PrefixInFront bool
	// ShortLastWord, with autocomplete, takes the documents of the other
	// words when a last word of one or two letters, which no index term
	// completes, leaves the bucket empty (dropShortLastWord).
	ShortLastWord bool
	// PrefixEveryWord, with autocomplete, collects first the documents
	// that have a completion of the word being typed and every other word
	// of the query, common ones included (autocomplete, withCommons).
	PrefixEveryWord bool
}

// DefaultConfig returns Addok 1.3.2's defaults and balise's improvements on.
func DefaultConfig() Config {
	return Config{
		BucketMin:        10,
		BucketMax:        100,
		CommonThreshold:  10000,
		IntersectLimit:   100000,
		MatchThreshold:   0.9,
		MinScore:         0.1,
		QueryMaxLength:   200,
		QueryMaxBytes:    8 << 10,
		MaxMeaningful:    10,
		MaxFilterValues:  10,
		ManualScanWindow: 501,
		Fuzzy:            1,
		ImportanceWeight: 0.1,
		GeoWeight:        0.1,
		TimeBudget:       50 * time.Millisecond,
		NumberAnywhere:   true,
		MaxReverseRadius: 5000,
		Respell:          true,
		FuzzyPair:        true,
		Retype:           true,
		RetypeCommon:     true,
		RetypeWeak:       0.6,
		PrefixInFront:    true,
		ShortLastWord:    true,
		PrefixEveryWord:  true,
	}
}

// Engine answers searches and reverse lookups over one index. It is safe
// for concurrent use.
type Engine struct {
	ix      *index.Index
	pipe    *text.Pipeline
	cfg     Config
	profile text.Profile
	filters map[string]bool
	chain   []collector
}

// Errors callers map to HTTP statuses.
var (
	ErrQueryTooLong = errors.New("query too long")
	ErrBadFilter    = errors.New("unknown filter")
	// ErrInternal marks a failure of balise's own code (a recovered panic):
	// not the request's fault, not the index's. See InternalError.
	ErrInternal = errors.New("internal error")
)

// InternalError is a panic of the engine turned into an error for the one
// request that hit it. It carries the panic value and the stack for the
// log, and its text never holds the query: error text may be logged, query
// text may not (unless the operator asks for it).
type InternalError struct {
	Op string // search, reverse, document
	// Value is what was passed to panic. It may quote the query: log
	// DescribePanic(Value), not Value.
	Value any
	Stack []byte
}

func (e *InternalError) Error() string {
	return e.Op + ": internal error: " + DescribePanic(e.Value)
}

// DescribePanic words a recovered panic value for an error or a log line
// without the data it may quote: a runtime error's text (index out of
// range…), which holds numbers and type names only, else the value's type.
func DescribePanic(v any) string {
	if re, ok := v.(runtime.Error); ok {
		return re.Error()
	}
	return fmt.Sprintf("panic of type %T", v)
}

func (e *InternalError) Unwrap() error { return ErrInternal }

// recovered turns a panic of one request into its error: a memory fault
// while reading the mapping means the file changed under it (the index is
// marked unavailable, so that the server stops using it and reloads); any
// other panic is a bug, reported as an InternalError.
func (e *Engine) recovered(op string, p any) error {
	if addr, ok := index.FaultAddr(p); ok && e.ix.Maps(addr) {
		e.ix.MarkFaulted(op + ": memory fault while reading the mapped file")
		return fmt.Errorf("%s: %w", op, index.ErrUnavailable)
	}
	return &InternalError{Op: op, Value: p, Stack: debug.Stack()}
}

// unavailable is the error of a request to an index that can no longer
// be read safely (nil when it can).
func (e *Engine) unavailable() error {
	if e.ix.Unavailable() {
		return e.ix.Health()
	}
	return nil
}

// QueryTooLongError carries the lengths for Addok's 413 message.
type QueryTooLongError struct{ Length, Limit int }

func (e *QueryTooLongError) Error() string {
	return fmt.Sprintf("Query too long, %d chars, limit is %d", e.Length, e.Limit)
}

func (e *QueryTooLongError) Unwrap() error { return ErrQueryTooLong }

// New builds an engine. The text pipeline is configured from the index's
// meta so that queries are processed exactly like the indexed documents.
func New(ix *index.Index, cfg Config, fuzzy text.Config) (*Engine, error) {
	m := ix.Meta()
	profile, ok := index.ParseProfile(m.Profile)
	if !ok {
		return nil, fmt.Errorf("index has unknown text profile %q", m.Profile)
	}
	tc := fuzzy
	tc.Profile = profile
	if m.Synonyms != nil {
		tc.Synonyms = m.Synonyms
	}
	e := &Engine{ix: ix, pipe: text.NewPipeline(tc), cfg: cfg, profile: profile, filters: map[string]bool{}}
	for _, f := range m.Filters {
		e.filters[f] = true
	}
	e.chain = collectors
	if cfg.Collectors != nil {
		e.chain = nil
		for _, name := range cfg.Collectors {
			i := slices.IndexFunc(collectors, func(c collector) bool { return c.name == name })
			if i < 0 {
				return nil, fmt.Errorf("unknown collector %q (known: %v)", name, CollectorNames())
			}
			e.chain = append(e.chain, collectors[i])
		}
	}
	return e, nil
}

// CollectorNames lists Addok's default collector chain, in order.
func CollectorNames() []string {
	out := make([]string, len(collectors))
	for i, c := range collectors {
		out[i] = c.name
	}
	return out
}

// Index returns the engine's index.
func (e *Engine) Index() *index.Index { return e.ix }

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.cfg }

// Filters lists the filter names the index supports, in Addok's order.
func (e *Engine) Filters() []string { return e.ix.Meta().Filters }

// Filter is one filter of a request: OR between its values.
type Filter struct {
	Name   string
	Values []string
}

// Query is one forward-geocoding request.
type Query struct {
	Q            string
	Limit        int // 0: 5
	Autocomplete bool
	// Center biases results towards a point (both must be set).
	HasCenter bool
	Lat, Lon  float64
	Filters   []Filter
}

// Stats describes how a search went, for metrics and traces.
type Stats struct {
	Tokens       int
	Candidates   int // documents scored
	BudgetSpent  bool
	Fuzzy        bool
	Collector    string // the collector that ended the chain, "" when all ran
	Prepare      time.Duration
	Collect      time.Duration // all collectors, fuzzy included
	FuzzyTime    time.Duration // the fuzzy collector's share of Collect
	Score        time.Duration
	NotFoundOnly bool
	// Respelled tells that the query was searched a second time with its
	// glued words taken apart (Config.Respell); Respelling says that
	// second search's results were kept.
	Respelled, Respelling bool
	// Retyped tells that the query was searched a second time with known
	// words it left out taken as typos (Config.Retype); Retyping says
	// that second search's results were kept.
	Retyped, Retyping bool
}

// Search runs a forward geocoding query.
func (e *Engine) Search(ctx context.Context, q Query) ([]*Result, error) {
	res, _, err := e.SearchStats(ctx, q)
	return res, err
}

// SearchStats is Search that also reports what the search did.
func (e *Engine) SearchStats(ctx context.Context, q Query) (results []*Result, st Stats, err error) {
	defer index.CatchFaults()()
	defer func() {
		if p := recover(); p != nil {
			results, err = nil, e.recovered("search", p)
		}
	}()
	if err := e.unavailable(); err != nil {
		return nil, st, err
	}
	if q.Limit <= 0 {
		q.Limit = 5
	}
	s := newSearcher(ctx, e, q)
	if err := s.prepare(); err != nil {
		return nil, st, err
	}
	results = s.run()
	if e.cfg.Respell && !s.expired() {
		results = e.searchRespelled(s, results)
	}
	if e.cfg.Retype && !s.expired() {
		results = e.searchRetyped(s, results)
	}
	return results, s.stats, nil
}

// searchRespelled searches again with the glued words of s's query taken
// apart (respell), within what is left of s's time budget, and returns the
// answer whose best result scores higher: first's when they tie or when
// nothing was respelled. Each answer is scored against its own query, so a
// query that the first search understood (a typo fuzzy matching found)
// keeps its answer unless the respelled query is matched better.
func (e *Engine) searchRespelled(s *searcher, first []*Result) []*Result {
	answered := ""
	if len(first) > 0 {
		answered = first[0].Label()
	}
	alt, ok, _ := e.respell(s.folded, s.q.Autocomplete, answered)
	if !ok {
		return first
	}
	q := s.q
	q.Q = alt
	second, better := e.searchAgain(s, q, nil, first)
	s.stats.Respelled = true
	if !better {
		return first
	}
	s.stats.Respelling = true
	return second
}

// searchAgain runs the second search of searchRespelled and searchRetyped
// (q, with retyped taken as unknown words) within what is left of s's time
// budget, adds its costs to s's stats, and reports whether its best result
// scores higher than first's.
func (e *Engine) searchAgain(s *searcher, q Query, retyped []string, first []*Result) ([]*Result, bool) {
	s2 := newSearcher(s.ctx, e, q)
	s2.deadline = s.deadline
	s2.retyped = retyped
	if err := s2.prepare(); err != nil {
		return nil, false
	}
	second := s2.run()
	s.stats.Candidates += s2.stats.Candidates
	s.stats.Collect += s2.stats.Collect
	s.stats.FuzzyTime += s2.stats.FuzzyTime
	s.stats.Score += s2.stats.Score
	s.stats.BudgetSpent = s.stats.BudgetSpent || s2.stats.BudgetSpent
	return second, len(second) > 0 && (len(first) == 0 || second[0].Score > first[0].Score)
}

// score helpers shared by search and reverse.

func geoScore(km float64) float64 {
	if km > 100 {
		return 0
	}
	return math.Exp(-(km / 50) * (km / 50))
}
