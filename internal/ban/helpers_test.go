package ban

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"balise/internal/source"
)

const banHeader = "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;libelle_acheminement;nom_afnor;source_position;source_nom_voie;certification_commune;cad_parcelles\n"

// eachDoc calls f with every document of r, in order, until io.EOF; a
// read error fails the test.
func eachDoc(t testing.TB, r source.Reader, f func(d *source.Document)) {
	t.Helper()
	for {
		d, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		f(d)
	}
}

// readAllDocs drains a Reader.
func readAllDocs(t testing.TB, r source.Reader) []*source.Document {
	t.Helper()
	var docs []*source.Document
	eachDoc(t, r, func(d *source.Document) { docs = append(docs, d) })
	return docs
}

func encodeAll(docs []*source.Document) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = string(d.AppendJSON(nil))
	}
	return out
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// sharedFile is a file of the shared data beside the repository
// (../shared/data): a skip when it is absent, a failure in CI, which must
// have it.
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
