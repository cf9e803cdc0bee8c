package bench

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"balise/internal/index"
	"balise/internal/sample"
	"balise/internal/search"
	"balise/internal/text"
)

var (
	corpusOnce sync.Once
	corpus     *Corpus
	corpusErr  error
)

// sampleCorpus reads the bundled Paris sample once per test binary.
func sampleCorpus(t testing.TB) *Corpus {
	t.Helper()
	corpusOnce.Do(func() { corpus, corpusErr = CorpusFromBytes(sample.Data(), 1) })
	if corpusErr != nil {
		t.Fatal(corpusErr)
	}
	return corpus
}

func TestGenerateDeterministic(t *testing.T) {
	c := sampleCorpus(t)
	if len(c.Streets) < 1000 || len(c.Municipalities) == 0 {
		t.Fatalf("corpus: %d streets, %d municipalities", len(c.Streets), len(c.Municipalities))
	}
	for _, mix := range []Mix{MixSearch, MixAutocomplete, MixReverse, MixMixed} {
		a, err := Generate(c, mix, 800, 42)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Generate(c, mix, 800, 42)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: same seed, different lists", mix)
		}
		d, _ := Generate(c, mix, 800, 43)
		if reflect.DeepEqual(a, d) {
			t.Fatalf("%s: different seeds, same list", mix)
		}
		if len(a) != 800 {
			t.Fatalf("%s: %d requests", mix, len(a))
		}
		for _, r := range a {
			back, err := ParsePath(r.Path)
			if err != nil {
				t.Fatalf("%s: %q: %v", mix, r.Path, err)
			}
			if back.Endpoint != r.Endpoint || !reflect.DeepEqual(back.Search, r.Search) || !reflect.DeepEqual(back.Reverse, r.Reverse) {
				t.Fatalf("%s: %q does not parse back to its request", mix, r.Path)
			}
		}
	}
	// The corpus itself is a seeded sample.
	c2, err := CorpusFromBytes(sample.Data(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, c2) {
		t.Fatal("same seed, different corpus")
	}
}

func TestGenerateMix(t *testing.T) {
	c := sampleCorpus(t)
	count := func(rs []Request) map[string]int {
		m := map[string]int{}
		for _, r := range rs {
			m[r.Kind]++
		}
		return m
	}
	rs, _ := Generate(c, MixSearch, 1600, 7)
	m := count(rs)
	if len(m) != len(formulations) {
		t.Fatalf("search mix has kinds %v; want the %d formulations", m, len(formulations))
	}
	for k, n := range m {
		if n != 100 {
			t.Errorf("search mix: %s has %d requests; want 100 (equal parts)", k, n)
		}
	}
	for _, r := range rs {
		if r.Search.Autocomplete != (r.Kind == "prefix") {
			t.Errorf("%s %q: autocomplete %v", r.Kind, r.Path, r.Search.Autocomplete)
		}
	}
	rs, _ = Generate(c, MixAutocomplete, 1000, 7)
	for _, r := range rs {
		if !r.Search.Autocomplete || len(r.Search.Q) < 3 || !strings.Contains(r.Path, "autocomplete=1") {
			t.Fatalf("autocomplete request %q", r.Path)
		}
	}
	if n := count(rs)["autocomplete_focus"]; n < 200 || n > 400 {
		t.Errorf("%d of 1000 autocomplete requests have a centre; want about 300", n)
	}
	rs, _ = Generate(c, MixMixed, 2000, 7)
	var search, auto, rev int
	for _, r := range rs {
		switch {
		case r.Endpoint == EndpointReverse:
			rev++
		case strings.HasPrefix(r.Kind, "autocomplete"):
			auto++
		default:
			search++
		}
	}
	if search < 900 || search > 1100 || auto < 600 || auto > 800 || rev < 220 || rev > 380 {
		t.Errorf("mixed: %d search, %d autocomplete, %d reverse of 2000; want about 1000/700/300", search, auto, rev)
	}
	if _, err := Generate(c, "bogus", 10, 1); err == nil {
		t.Error("unknown mix accepted")
	}
	if _, err := Generate(&Corpus{}, MixSearch, 10, 1); err == nil {
		t.Error("empty corpus accepted")
	}
}

var (
	sampleOnce sync.Once
	samplePath string
	sampleErr  error
	sampleDir  string
)

// sampleIndex builds the bundled sample into a temporary index once per
// test binary (TestMain removes it).
func sampleIndex(t testing.TB) string {
	t.Helper()
	sampleOnce.Do(func() {
		sampleDir, sampleErr = os.MkdirTemp("", "balise-bench-")
		if sampleErr != nil {
			return
		}
		samplePath = filepath.Join(sampleDir, "sample.balise")
		sampleErr = sample.Build(context.Background(), samplePath)
	})
	if sampleErr != nil {
		t.Fatal(sampleErr)
	}
	return samplePath
}

func sampleEngine(t testing.TB) *search.Engine {
	t.Helper()
	ix, err := index.Open(sampleIndex(t), index.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	e, err := search.New(ix, search.DefaultConfig(), text.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sampleDir != "" {
		os.RemoveAll(sampleDir)
	}
	os.Exit(code)
}

func TestCorpusFromIndex(t *testing.T) {
	path := sampleIndex(t)
	fromIndex, err := LoadCorpus(path, 1)
	if err != nil {
		t.Fatal(err)
	}
	fromLines := sampleCorpus(t)
	// Same documents in the same order: the same reservoir sample.
	if len(fromIndex.Streets) != len(fromLines.Streets) || len(fromIndex.Municipalities) != len(fromLines.Municipalities) {
		t.Fatalf("index corpus %d streets %d municipalities; ndjson %d and %d", len(fromIndex.Streets), len(fromIndex.Municipalities),
			len(fromLines.Streets), len(fromLines.Municipalities))
	}
	if a, b := fromIndex.Streets[0], fromLines.Streets[0]; a.Name != b.Name || a.City != b.City || len(a.Numbers) != len(b.Numbers) {
		t.Fatalf("first street: index %+v, ndjson %+v", a, b)
	}
	ix, err := index.Open(path, index.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if _, err := CorpusFromIndex(ix, 1); err != nil {
		t.Fatal(err)
	}
}

func TestSampler(t *testing.T) {
	s, err := NewSampler(10, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(0); i < 30; i++ {
		if got := s.At(i); got != int(i%10) {
			t.Fatalf("uniform At(%d) = %d", i, got)
		}
	}
	z, _ := NewSampler(1000, 1.1, 9)
	z2, _ := NewSampler(1000, 1.1, 9)
	counts := make([]int, 1000)
	const n = 200_000
	for i := int64(0); i < n; i++ {
		k := z.At(i)
		if k != z2.At(i) {
			t.Fatal("same seed, different draws")
		}
		counts[k]++
	}
	h := 0.0
	for k := 1; k <= 1000; k++ {
		h += math.Pow(float64(k), -1.1)
	}
	if p, want := float64(counts[0])/n, 1/h; math.Abs(p-want) > 0.01 {
		t.Errorf("rank 0 drawn %.4f of the time; want 1/H(1000, 1.1) = %.4f", p, want)
	}
	if counts[0] < 5*counts[9] {
		t.Errorf("rank 0 %d, rank 9 %d: not Zipf-like", counts[0], counts[9])
	}
	for _, bad := range []float64{-1} {
		if _, err := NewSampler(10, bad, 1); err == nil {
			t.Errorf("zipf %v accepted", bad)
		}
	}
	if _, err := NewSampler(0, 0, 1); err == nil {
		t.Error("empty list accepted")
	}
}

func TestCases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "paris.ndjson.gz")
	if err := os.WriteFile(path, sample.Data(), 0o644); err != nil {
		t.Fatal(err)
	}
	whole, err := LoadWholeCorpus(path)
	if err != nil {
		t.Fatal(err)
	}
	// The whole corpus keeps every housenumber as written, where the
	// sample keeps at most 16 typable ones per street.
	count := func(c *Corpus) (n, odd int) {
		for _, s := range c.Streets {
			for _, h := range s.Numbers {
				n++
				if !standardNumber.MatchString(h.Raw) {
					odd++
				}
			}
		}
		return n, odd
	}
	nWhole, odd := count(whole)
	nSampled, _ := count(sampleCorpus(t))
	if nWhole <= nSampled || odd == 0 {
		t.Errorf("whole corpus: %d housenumbers (%d nobody types), sampled: %d", nWhole, odd, nSampled)
	}
	fromIndex, err := LoadWholeCorpus(sampleIndex(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(fromIndex.Streets) != len(whole.Streets) || len(fromIndex.Municipalities) != len(whole.Municipalities) {
		t.Errorf("whole corpus: index %d streets %d municipalities, ndjson %d and %d", len(fromIndex.Streets), len(fromIndex.Municipalities),
			len(whole.Streets), len(whole.Municipalities))
	}

	cases := Cases(whole, 20, 5)
	if again := Cases(whole, 20, 5); !reflect.DeepEqual(cases, again) {
		t.Fatal("same seed, different cases")
	}
	perKind := map[string]int{}
	for _, c := range cases {
		perKind[c.Kind]++
		want, number := WantHousenumber, true
		switch c.Kind {
		case "street_city", "filter_type":
			want, number = WantStreet, false
		case "municipality":
			want, number = WantMunicipality, false
		}
		if c.Want != want || (c.Number != "") != number || c.Query.Autocomplete != (c.Kind == "prefix") || c.Query.Limit != 0 {
			t.Errorf("%+v", c)
		}
		if number && !standardNumber.MatchString(c.Number) {
			t.Errorf("%s %q: housenumber %q nobody types", c.Kind, c.Query.Q, c.Number)
		}
		// A --write-queries line reads back as the same query.
		line, _ := json.Marshal(c)
		r, ok, err := ParseLine(string(line))
		if err != nil || !ok || r.Kind != c.Kind || !reflect.DeepEqual(r.Search, normalizeQuery(c.Query)) {
			t.Errorf("%s: read back as %+v, %v", line, r, err)
		}
	}
	for _, k := range Formulations() {
		if perKind[k] != 20 {
			t.Errorf("%s: %d cases; want 20", k, perKind[k])
		}
	}
}
