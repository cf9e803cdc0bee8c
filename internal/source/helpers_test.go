package source

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// banHeader starts a BAN addresses CSV, which Detect recognises.
const banHeader = "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;libelle_acheminement;nom_afnor;source_position;source_nom_voie;certification_commune;cad_parcelles\n"

// eachDoc calls f with every document of r, in order, until io.EOF; a
// read error fails the test.
func eachDoc(t testing.TB, r Reader, f func(d *Document)) {
	t.Helper()
	each(t, r.Next, f)
}

// each calls f with every item next (a Reader's or a Lines' Next) returns,
// in order, until io.EOF; any other error fails the test.
func each[T any](t testing.TB, next func() (T, error), f func(T)) {
	t.Helper()
	for {
		v, err := next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		f(v)
	}
}

// readAllDocs drains a Reader.
func readAllDocs(t testing.TB, r Reader) []*Document {
	t.Helper()
	var docs []*Document
	eachDoc(t, r, func(d *Document) { docs = append(docs, d) })
	return docs
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
