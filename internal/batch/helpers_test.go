package batch

import (
	"context"
	"strings"
	"testing"

	"balise/internal/index"
	"balise/internal/search"
	"balise/internal/testutil"
	"balise/internal/text"
)

// testEngine indexes ndjson lines with Addok's default profile.
func testEngine(t testing.TB, lines ...string) *search.Engine {
	t.Helper()
	return openEngine(t, testutil.WriteIndex(t, index.BuildOptions{Text: text.Config{Profile: text.ProfileDefault}, Workers: 2}, lines...))
}

func openEngine(t testing.TB, path string) *search.Engine {
	ix := testutil.OpenIndex(t, path, index.OpenOptions{})
	c := search.DefaultConfig()
	c.TimeBudget = 0
	e, err := search.New(ix, c, text.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// banEngine opens the index of the real BAN sample of testdata/ban-nc
// (built once per test binary).
func banEngine(t testing.TB) *search.Engine {
	t.Helper()
	return openEngine(t, testutil.BanNC(t))
}

func TestMain(m *testing.M) { testutil.Main(m) }

func run(t testing.TB, e *search.Engine, in string, opts Options) (string, *Summary) {
	t.Helper()
	j, err := NewJob(e, strings.NewReader(in), opts)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	s, err := j.Run(context.Background(), &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), s
}
