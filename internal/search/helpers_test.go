package search

import (
	"context"
	"testing"

	"balise/internal/index"
	"balise/internal/testutil"
	"balise/internal/text"
)

// doc is a fixture document, built like Addok's test factory (see
// testutil.Doc).
type doc = testutil.Doc

// fixture is a built test index and its engine.
type fixture struct {
	t *testing.T
	e *Engine
}

type fixtureOpts struct {
	profile  text.Profile
	synonyms map[string][]string
	cfg      func(*Config)
	textCfg  text.Config
}

func buildFixture(t *testing.T, o fixtureOpts, docs ...doc) *fixture {
	t.Helper()
	return buildFixtureLines(t, o, testutil.NDJSON(docs...))
}

func buildFixtureLines(t *testing.T, o fixtureOpts, lines []string) *fixture {
	t.Helper()
	tc := o.textCfg
	tc.Profile = o.profile
	tc.Synonyms = o.synonyms
	path := testutil.WriteIndex(t, index.BuildOptions{Text: tc, Workers: 2}, lines...)
	ix := testutil.OpenIndex(t, path, index.OpenOptions{Verify: true})
	cfg := DefaultConfig()
	cfg.CommonThreshold = 1000 // Addok's test configuration
	cfg.TimeBudget = 0
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	e, err := New(ix, cfg, tc)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, e: e}
}

func (f *fixture) search(q Query) []*Result {
	f.t.Helper()
	if q.Limit == 0 {
		q.Limit = 10
	}
	res, err := f.e.Search(context.Background(), q)
	if err != nil {
		f.t.Fatalf("search %q: %v", q.Q, err)
	}
	return res
}

func (f *fixture) reverse(q ReverseQuery) []*Result {
	f.t.Helper()
	res, err := f.e.Reverse(context.Background(), q)
	if err != nil {
		f.t.Fatalf("reverse: %v", err)
	}
	return res
}

func prop(r *Result, key string) string {
	for _, p := range r.Properties() {
		if p.Key == key {
			return p.Value.Text()
		}
	}
	return ""
}

func names(rs []*Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, prop(r, "name"))
	}
	return out
}

func ids(rs []*Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.publicID)
	}
	return out
}
