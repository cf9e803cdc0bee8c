package batch

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"balise/internal/index"
	"balise/internal/search"
	"balise/internal/source"
	"balise/internal/text"
)

// testEngine indexes ndjson lines with Addok's default profile.
func testEngine(t testing.TB, lines ...string) *search.Engine {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.balise")
	b, err := index.NewBuilder(path, index.BuildOptions{Text: text.Config{Profile: text.ProfileDefault}, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	done := false
	_, err = b.Build(context.Background(), func() (index.Batch, error) {
		if done {
			return nil, io.EOF
		}
		done = true
		var batch index.Batch
		for i, l := range lines {
			batch = append(batch, index.Item{Line: []byte(l), LineNo: i + 1})
		}
		return batch, io.EOF
	}, func(line int, err error) error { return fmt.Errorf("line %d: %w", line, err) })
	if err != nil {
		t.Fatal(err)
	}
	return openEngine(t, path)
}

func openEngine(t testing.TB, path string) *search.Engine {
	ix, err := index.Open(path, index.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	c := search.DefaultConfig()
	c.TimeBudget = 0
	e, err := search.New(ix, c, text.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// banEngine indexes the real BAN sample of testdata/ban-nc.
func banEngine(t testing.TB) *search.Engine {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ban.balise")
	lines, err := source.OpenLines(filepath.Join("..", "..", "testdata", "ban-nc", "addok.ndjson.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer lines.Close()
	b, err := index.NewBuilder(path, index.BuildOptions{Text: text.Config{Profile: text.ProfileFrench}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Build(context.Background(), index.FromLines(lines), func(line int, err error) error { return err }); err != nil {
		t.Fatal(err)
	}
	return openEngine(t, path)
}

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
