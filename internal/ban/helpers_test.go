package ban

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
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

// docDiff describes the first difference between two documents ("" when
// equal). Number literals are compared as Python would re-emit them.
func docDiff(a, b *source.Document) string {
	if len(a.Fields) != len(b.Fields) {
		return fmt.Sprintf("%d fields vs %d", len(a.Fields), len(b.Fields))
	}
	for i := range a.Fields {
		fa, fb := a.Fields[i], b.Fields[i]
		if fa.Key != fb.Key {
			return fmt.Sprintf("field %d: key %q vs %q", i, fa.Key, fb.Key)
		}
		if m := valueDiff(fa.Value, fb.Value); m != "" {
			return fmt.Sprintf("field %q: %s", fa.Key, m)
		}
	}
	if (a.Housenumbers == nil) != (b.Housenumbers == nil) {
		return fmt.Sprintf("housenumbers nil %v vs %v", a.Housenumbers == nil, b.Housenumbers == nil)
	}
	if a.Housenumbers != nil && a.HousenumbersAt != b.HousenumbersAt {
		return fmt.Sprintf("housenumbers at %d vs %d", a.HousenumbersAt, b.HousenumbersAt)
	}
	if len(a.Housenumbers) != len(b.Housenumbers) {
		return fmt.Sprintf("%d housenumbers vs %d", len(a.Housenumbers), len(b.Housenumbers))
	}
	for i := range a.Housenumbers {
		ha, hb := a.Housenumbers[i], b.Housenumbers[i]
		if ha.Raw != hb.Raw {
			return fmt.Sprintf("housenumber %d: %q vs %q", i, ha.Raw, hb.Raw)
		}
		if m := valueDiff(ha.Lat, hb.Lat); m != "" {
			return fmt.Sprintf("housenumber %q lat: %s", ha.Raw, m)
		}
		if m := valueDiff(ha.Lon, hb.Lon); m != "" {
			return fmt.Sprintf("housenumber %q lon: %s", ha.Raw, m)
		}
		la, lb := normPos(ha), normPos(hb)
		if la != lb {
			return fmt.Sprintf("housenumber %q lat/lon positions %v vs %v", ha.Raw, la, lb)
		}
		if m := docDiff(&source.Document{Fields: ha.Payload}, &source.Document{Fields: hb.Payload}); m != "" {
			return fmt.Sprintf("housenumber %q payload: %s", ha.Raw, m)
		}
	}
	return ""
}

func normPos(h source.Housenumber) [2]int {
	n := len(h.Payload) + 2
	if h.LatAt == h.LonAt || h.LatAt < 0 || h.LonAt < 0 || h.LatAt >= n || h.LonAt >= n {
		return [2]int{0, 1}
	}
	return [2]int{h.LatAt, h.LonAt}
}

// valueDiff describes how two values differ; numbers and raw objects are
// compared in their Python re-encoding (Value.AppendJSON).
func valueDiff(a, b source.Value) string {
	if a.Kind != b.Kind {
		return fmt.Sprintf("kind %v vs %v", a.Kind, b.Kind)
	}
	switch a.Kind {
	case source.Bool:
		if a.Bool != b.Bool {
			return fmt.Sprintf("%v vs %v", a.Bool, b.Bool)
		}
	case source.Number:
		if na, nb := string(a.AppendJSON(nil)), string(b.AppendJSON(nil)); na != nb {
			return fmt.Sprintf("number %s vs %s", a.Str, b.Str)
		}
	case source.String:
		if a.Str != b.Str {
			return fmt.Sprintf("%q vs %q", a.Str, b.Str)
		}
	case source.Object:
		if oa, ob := string(a.AppendJSON(nil)), string(b.AppendJSON(nil)); oa != ob {
			return fmt.Sprintf("object %s vs %s", oa, ob)
		}
	case source.List:
		if len(a.List) != len(b.List) {
			return fmt.Sprintf("list of %d vs %d", len(a.List), len(b.List))
		}
		for i := range a.List {
			if m := valueDiff(a.List[i], b.List[i]); m != "" {
				return fmt.Sprintf("item %d: %s", i, m)
			}
		}
	}
	return ""
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
