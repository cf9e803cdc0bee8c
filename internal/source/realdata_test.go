package source

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

// sharedFile locates a file of ../shared/data, the real data that sits
// beside the repository (as internal/relevance finds it): skipped where it
// is absent, a failure in CI, which must have it.
func sharedFile(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "data", rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing in CI", p)
		}
		t.Skipf("%s not present", p)
	}
	return p
}

// readGzLines returns the lines of a gzip file.
func readGzLines(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestRealNDJSONRoundTrip parses every line of the shared Addok files and
// checks that AppendJSON gives back the exact bytes Python's json.dumps
// wrote (ensure_ascii=False, compact separators).
func TestRealNDJSONRoundTrip(t *testing.T) {
	for _, rel := range []string{"addok-fr/addok.ndjson.gz", "ban-75-paris/addok.ndjson.gz", "ban-nc-sample/addok.ndjson.gz"} {
		t.Run(rel, func(t *testing.T) {
			path := sharedFile(t, rel)
			lines := readGzLines(t, path)
			r, err := Open(path, Options{Strict: true})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			n := 0
			var buf []byte
			eachDoc(t, r, func(d *Document) {
				if d.Line != n+1 {
					t.Fatalf("line %d, want %d", d.Line, n+1)
				}
				buf = d.AppendJSON(buf[:0])
				if !bytes.Equal(buf, lines[n]) {
					t.Fatalf("line %d re-encoded differently:\n got %s\nwant %s", n+1, buf, lines[n])
				}
				n++
			})
			if n != len(lines) {
				t.Fatalf("%d documents, want %d", n, len(lines))
			}
			done, total := r.Progress()
			if done != total || total == 0 {
				t.Errorf("progress %d/%d", done, total)
			}
		})
	}
}
