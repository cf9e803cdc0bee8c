package search

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"balise/internal/index"
	"balise/internal/source"
	"balise/internal/text"
)

// doc is a fixture document, built like Addok's test factory: defaults
// type=street, name="ellington", importance=0, lat=48.3254, lon=2.256 and a
// unique id; fields given override them (a nil value removes the field).
type doc map[string]any

var fixtureKeyOrder = []string{"id", "type", "name", "postcode", "citycode", "city", "context", "lat", "lon", "importance"}

func (d doc) json(n int) string {
	full := map[string]any{"id": fmt.Sprintf("doc%03d", n), "type": "street", "name": "ellington", "importance": 0, "lat": 48.3254, "lon": 2.256}
	for k, v := range d {
		if v == nil {
			delete(full, k)
			continue
		}
		full[k] = v
	}
	var keys []string
	for _, k := range fixtureKeyOrder {
		if _, ok := full[k]; ok {
			keys = append(keys, k)
		}
	}
	var extra []string
	for k := range full {
		if !slices.Contains(fixtureKeyOrder, k) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	keys = append(keys, extra...)
	var sb strings.Builder
	sb.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			sb.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(full[k])
		sb.Write(kb)
		sb.WriteByte(':')
		sb.Write(vb)
	}
	sb.WriteByte('}')
	return sb.String()
}

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
	var lines []string
	for i, d := range docs {
		lines = append(lines, d.json(i))
	}
	return buildFixtureLines(t, o, lines)
}

func buildFixtureLines(t *testing.T, o fixtureOpts, lines []string) *fixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.balise")
	tc := o.textCfg
	tc.Profile = o.profile
	tc.Synonyms = o.synonyms
	b, err := index.NewBuilder(path, index.BuildOptions{Text: tc, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	done := false
	_, err = b.Build(context.Background(), func() (index.Batch, error) {
		if done {
			return nil, errEOF
		}
		done = true
		var batch index.Batch
		for i, l := range lines {
			batch = append(batch, index.Item{Line: []byte(l), LineNo: i + 1})
		}
		return batch, errEOF
	}, func(line int, err error) error { return fmt.Errorf("line %d: %w", line, err) })
	if err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(path, index.OpenOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
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

var errEOF = ioEOF()

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

var _ = source.Null
