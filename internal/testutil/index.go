package testutil

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"balise/internal/index"
	"balise/internal/source"
	"balise/internal/text"
)

// Doc is a fixture document built like Addok's test factory: type street,
// name "ellington", importance 0, lat 48.3254, lon 2.256 and a unique id
// unless given; fields given override these (a nil value removes the
// field).
type Doc map[string]any

// docKeyOrder is the order of the known keys in a document's JSON line;
// other keys follow, sorted.
var docKeyOrder = []string{"id", "type", "name", "postcode", "citycode", "city", "context", "lat", "lon", "importance", "housenumbers"}

// JSON returns the document's ndjson line; n numbers its default id
// ("doc000", "doc001", …).
func (d Doc) JSON(n int) string {
	full := map[string]any{"id": fmt.Sprintf("doc%03d", n), "type": "street", "name": "ellington", "importance": 0, "lat": 48.3254, "lon": 2.256}
	for k, v := range d {
		if v == nil {
			delete(full, k)
			continue
		}
		full[k] = v
	}
	var keys []string
	for _, k := range docKeyOrder {
		if _, ok := full[k]; ok {
			keys = append(keys, k)
		}
	}
	var extra []string
	for k := range full {
		if !slices.Contains(docKeyOrder, k) {
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

// NDJSON returns the lines of docs, the i-th numbered i.
func NDJSON(docs ...Doc) []string {
	lines := make([]string, 0, len(docs))
	for i, d := range docs {
		lines = append(lines, d.JSON(i))
	}
	return lines
}

// WriteIndex builds an index of the ndjson lines (numbered from 1) with
// opts into a file of the test's temporary directory and returns its
// path. A line the builder rejects fails the test.
func WriteIndex(t testing.TB, opts index.BuildOptions, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.balise")
	b, err := index.NewBuilder(path, opts)
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
	return path
}

// OpenIndex opens the index at path, closed when the test ends.
func OpenIndex(t testing.TB, path string, opts index.OpenOptions) *index.Index {
	t.Helper()
	ix, err := index.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

// BuildFile builds at out the index of the documents of the file in
// (Addok ndjson or BAN CSV, plain or gzip) with the French profile, as
// balise import does with its defaults.
func BuildFile(out, in string) error {
	lines, err := source.OpenLines(in)
	if err != nil {
		return err
	}
	defer lines.Close()
	b, err := index.NewBuilder(out, index.BuildOptions{Text: text.Config{Profile: text.ProfileFrench}})
	if err != nil {
		return err
	}
	_, err = b.Build(context.Background(), index.FromLines(lines), func(line int, err error) error {
		return fmt.Errorf("line %d: %w", line, err)
	})
	return err
}

// BanNCSource is the real BAN sample (1,951 documents of New Caledonia),
// relative to the directory of a package under internal/, where go test
// runs its tests.
var BanNCSource = filepath.Join("..", "..", "testdata", "ban-nc", "addok.ndjson.gz")

var banNC struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// BanNC returns the path of the index of BanNCSource, built once per test
// binary by BuildFile into a temporary directory that Main removes (use
// it as TestMain). Open it read-only: every test shares the file.
func BanNC(t testing.TB) string {
	t.Helper()
	banNC.once.Do(func() {
		dir, err := os.MkdirTemp("", "balise-ban-nc")
		if err != nil {
			banNC.err = err
			return
		}
		banNC.dir = dir
		banNC.path = filepath.Join(dir, "ban-nc.balise")
		banNC.err = BuildFile(banNC.path, BanNCSource)
	})
	if banNC.err != nil {
		t.Fatal(banNC.err)
	}
	return banNC.path
}

// Main is a TestMain for the packages whose tests use BanNC: it runs the
// tests, removes BanNC's index and exits with the tests' code.
func Main(m *testing.M) {
	code := m.Run()
	if banNC.dir != "" {
		os.RemoveAll(banNC.dir)
	}
	os.Exit(code)
}
