package httpapi

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"balise/internal/cache"
	"balise/internal/search"
	"balise/internal/telemetry"
	"balise/internal/text"
)

// answer is what GET /search and /reverse cache: the features of the
// answer, not the envelope (the key holds the folded query and the rounded
// point, so the query as typed, the filters as given and the center are
// written per request). Encoded as uvarint(result count × 2 + partial)
// followed by the features, comma-separated, without the brackets.
// partial marks a search cut short by its time budget: such answers are
// never cached, and the flag tells the requests that shared the
// computation to say so in their header.
type answer struct {
	results  int
	partial  bool
	features []byte
}

func decodeAnswer(b []byte) (answer, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > 2*maxCachedResults+1 {
		return answer{}, errors.New("corrupt cached answer")
	}
	return answer{results: int(n >> 1), partial: n&1 == 1, features: b[k:]}, nil
}

// partialTimeBudget is the Balise-Partial header of an answer cut short by
// its time budget.
var partialTimeBudget = []string{"time-budget"}

// maxCachedResults bounds the result count a cached body may claim (the
// largest limit balise accepts is 100).
const maxCachedResults = 1000

// ValidateAnswer checks a cached body before it is spliced into an answer
// (the cache's Config.Validate, for values read back from Redis, which
// anyone with access to Redis could have written): a result count
// followed by exactly that many JSON objects, comma-separated. A body that
// fails is a miss, never served.
func ValidateAnswer(body []byte) error {
	ans, err := decodeAnswer(body)
	if err != nil {
		return err
	}
	if ans.partial {
		return errors.New("cached answer marked partial: partial answers are never cached")
	}
	list := make([]byte, 0, len(ans.features)+2)
	list = append(append(append(list, '['), ans.features...), ']')
	if !json.Valid(list) {
		return errors.New("cached answer: the features are not valid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(list))
	dec.Token() // '[': valid JSON that starts with it
	n := 0
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil || len(raw) == 0 || raw[0] != '{' {
			return errors.New("cached answer: a feature is not a JSON object")
		}
		n++
	}
	if n != ans.results {
		return fmt.Errorf("cached answer: %d features, its header says %d", n, ans.results)
	}
	return nil
}

func encodeAnswer(results []*search.Result, partial bool) []byte {
	b := make([]byte, 0, 512*len(results)+4)
	head := uint64(len(results)) << 1
	if partial {
		head |= 1
	}
	b = binary.AppendUvarint(b, head)
	for i, r := range results {
		if i > 0 {
			b = append(b, ',')
		}
		b = r.AppendFeature(b)
	}
	return b
}

func cacheFilters(fs []search.Filter) []cache.Filter {
	if len(fs) == 0 {
		return nil
	}
	out := make([]cache.Filter, len(fs))
	for i, f := range fs {
		out[i] = cache.Filter{Name: f.Name, Values: f.Values}
	}
	return out
}

// lookup answers from the cache when one is configured, else computes.
// compute returns the encoded answer and its TTL class.
func (a *API) lookup(ctx context.Context, w http.ResponseWriter, endpoint, key string,
	compute func(ctx context.Context) ([]byte, cache.Class, error)) (answer, error) {
	info := telemetry.RequestInfoFrom(ctx)
	var body []byte
	var err error
	if a.opts.Cache == nil {
		body, _, err = compute(ctx)
	} else {
		var tier cache.Tier
		lctx, span := a.startCacheLookup(ctx, endpoint)
		body, tier, err = a.opts.Cache.Do(lctx, key, compute)
		span.SetAttributes(attribute.String("balise.cache", tier.String()))
		telemetry.EndSpan(span, err)
		if err == nil {
			w.Header().Set("X-Cache", tier.String())
			info.SetCache(tier.String())
		}
	}
	if err != nil {
		return answer{}, err
	}
	ans, err := decodeAnswer(body)
	if err != nil {
		return answer{}, err
	}
	info.SetResults(ans.results)
	if ans.partial {
		// The search ran out of its time budget: the best results found
		// in time, maybe not the best there are (never cached).
		w.Header()["Balise-Partial"] = partialTimeBudget
	}
	return ans, nil
}

func (a *API) startCacheLookup(ctx context.Context, endpoint string) (context.Context, trace.Span) {
	if t := a.opts.Telemetry; t != nil {
		return t.StartCacheLookup(ctx, endpoint)
	}
	return ctx, trace.SpanFromContext(ctx)
}

// searchKey returns the cache key of a forward search ("" without a
// cache).
func (a *API) searchKey(e *search.Engine, endpoint string, q search.Query) string {
	if a.opts.Cache == nil {
		return ""
	}
	return a.keys.Search(cache.SearchRequest{
		IndexVersion: e.Index().Meta().Version, Endpoint: endpoint, Flavour: a.opts.Flavour.String(),
		// The engine folds exactly this (search/collect.go: pipe.Query on
		// the trimmed query, whose first step is text.ASCII); everything
		// it does afterwards derives from the folded form.
		Folded:  text.ASCII(strings.TrimSpace(q.Q)),
		Filters: cacheFilters(q.Filters), Limit: q.Limit, Autocomplete: q.Autocomplete,
		HasFocus: q.HasCenter, Lat: q.Lat, Lon: q.Lon,
	})
}

// reverseKey is searchKey for a reverse lookup.
func (a *API) reverseKey(e *search.Engine, endpoint string, q search.ReverseQuery) string {
	if a.opts.Cache == nil {
		return ""
	}
	return a.keys.Reverse(cache.ReverseRequest{
		IndexVersion: e.Index().Meta().Version, Endpoint: endpoint, Flavour: a.opts.Flavour.String(),
		Lat: q.Lat, Lon: q.Lon, Radius: q.Radius, Filters: cacheFilters(q.Filters), Limit: q.Limit,
	})
}

// computeSearch runs a search and records its stages and statistics;
// the cache picks the answer's TTL class from the outcome.
//
// compute may outlive the request that started it (the cache runs it in
// a goroutine shared by identical requests), so it takes its own lease on
// the current engine: the index stays mapped until it has encoded its
// answer.
func (a *API) computeSearch(endpoint string, q search.Query) func(context.Context) ([]byte, cache.Class, error) {
	return func(ctx context.Context) ([]byte, cache.Class, error) {
		e, release := a.opts.Engines.Acquire()
		defer release()
		start := time.Now()
		res, st, err := e.SearchStats(ctx, q)
		if err != nil {
			return nil, 0, err
		}
		t := a.opts.Telemetry
		if t != nil {
			t.SearchStages(ctx, endpoint, start, telemetry.SearchTimings{Prepare: st.Prepare, Collect: st.Collect,
				Fuzzy: st.FuzzyTime, Score: st.Score})
		}
		body := a.encode(ctx, endpoint, res, st.BudgetSpent)
		a.opts.Admission.ObserveOutcome(time.Since(start), st.BudgetSpent)
		if t != nil {
			t.Search.ObserveQuery(endpoint, telemetry.QueryStats{Candidates: st.Candidates, Results: len(res),
				BudgetSpent: st.BudgetSpent, Fuzzy: st.Fuzzy})
		}
		return body, cache.ClassOf(cache.Outcome{Results: len(res), Fuzzy: st.Fuzzy, BudgetSpent: st.BudgetSpent}), nil
	}
}

// computeReverse runs a reverse lookup (the engine reports no stages: the
// whole lookup is the collect stage).
func (a *API) computeReverse(endpoint string, q search.ReverseQuery) func(context.Context) ([]byte, cache.Class, error) {
	return func(ctx context.Context) ([]byte, cache.Class, error) {
		e, release := a.opts.Engines.Acquire()
		defer release()
		start := time.Now()
		res, err := e.Reverse(ctx, q)
		if err != nil {
			return nil, 0, err
		}
		t := a.opts.Telemetry
		if t != nil {
			t.ReverseStages(ctx, endpoint, start, time.Since(start))
		}
		body := a.encode(ctx, endpoint, res, false)
		a.opts.Admission.ObserveOutcome(time.Since(start), false)
		if t != nil {
			t.Search.ObserveQuery(endpoint, telemetry.QueryStats{Results: len(res)})
		}
		return body, cache.ClassOf(cache.Outcome{Results: len(res)}), nil
	}
}

func (a *API) encode(ctx context.Context, endpoint string, res []*search.Result, partial bool) []byte {
	if t := a.opts.Telemetry; t != nil {
		_, end := t.Stage(ctx, endpoint, "encode")
		defer end()
	}
	return encodeAnswer(res, partial)
}

// writeCollection writes a FeatureCollection around cached features.
func writeCollection(w http.ResponseWriter, env search.Envelope, features []byte) {
	buf := getBuf()
	defer putBuf(buf)
	b := search.AppendEncodedCollection((*buf)[:0], env, features)
	*buf = b
	writeJSON(w, http.StatusOK, b)
}
