package relevance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"balise/internal/index"
	"balise/internal/search"
	"balise/internal/source"
	"balise/internal/text"
)

// sharedPath locates ../shared from the repository; CI must have it.
func sharedPath(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing in CI", p)
		}
		t.Skipf("%s not present", p)
	}
	return p
}

var (
	engineOnce sync.Once
	engine     *search.Engine
	engineErr  error
)

// sharedEngine builds the shared addok-fr file into a temporary index once
// per test binary (about 3 s on two cores).
func sharedEngine(t testing.TB) *search.Engine {
	t.Helper()
	src := sourcePath(t)
	engineOnce.Do(func() {
		dir, err := os.MkdirTemp("", "balise-relevance-")
		if err != nil {
			engineErr = err
			return
		}
		path := filepath.Join(dir, "fr.balise")
		if p := os.Getenv("BALISE_RELEVANCE_INDEX"); p != "" {
			path = p
		} else {
			lines, err := source.OpenLines(src)
			if err != nil {
				engineErr = err
				return
			}
			defer lines.Close()
			b, err := index.NewBuilder(path, index.BuildOptions{Text: text.Config{Profile: text.ProfileFrench}})
			if err != nil {
				engineErr = err
				return
			}
			if _, err := b.Build(context.Background(), index.FromLines(lines), func(line int, err error) error {
				return fmt.Errorf("line %d: %w", line, err)
			}); err != nil {
				engineErr = err
				return
			}
		}
		ix, err := index.Open(path, index.OpenOptions{})
		if err != nil {
			engineErr = err
			return
		}
		engine, engineErr = search.New(ix, search.DefaultConfig(), text.Config{})
	})
	if engineErr != nil {
		t.Fatal(engineErr)
	}
	return engine
}

// unboundedEngine is the shared engine's index searched without a time
// budget, for tests that compare two answers to one query: with the 50 ms
// budget, a loaded machine may cut one of them short.
func unboundedEngine(t testing.TB) *search.Engine {
	t.Helper()
	shared := sharedEngine(t)
	cfg := shared.Config()
	cfg.TimeBudget = 0
	e, err := search.New(shared.Index(), cfg, text.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// fold is the comparison form used by the evaluation scripts: NFD, marks
// removed, lower case.
func fold(s string) string {
	var out []rune
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		out = append(out, unicode.ToLower(r))
	}
	return string(out)
}

// sourcePath is the data the suites run on: the shared BAN/BANO file, or
// BALISE_RELEVANCE_SOURCE (the growth measurements use subsets of it).
func sourcePath(t testing.TB) string {
	if p := os.Getenv("BALISE_RELEVANCE_SOURCE"); p != "" {
		return p
	}
	return sharedPath(t, "data/addok-fr/addok.ndjson.gz")
}
