package index

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"balise/internal/geo"
	"balise/internal/source"
	"balise/internal/text"
)

// testLines are real BAN documents (New Caledonia sample) plus edge cases:
// a list-valued name, a nameless document, numbers of both kinds.
var testLines = []string{
	`{"id":"98825","banId":null,"type":"municipality","name":"Pouembout","postcode":["98825"],"citycode":"98825","x":285846.7,"y":340390.27,"lon":164.900992,"lat":-21.131547,"population":2752,"city":"Pouembout","context":"988, Nouvelle-Calédonie","importance":0.34113}`,
	`{"id":"98825_y6as4k","banId":null,"name":"Rue des Sapins","postcode":null,"citycode":["98825"],"oldcitycode":null,"lon":164.900029,"lat":-21.120813,"x":285738.32,"y":341577.89,"city":["Pouembout"],"oldcity":null,"context":"988, Nouvelle-Calédonie","type":"street","importance":0.4216,"housenumbers":{"10":{"id":"98825_y6as4k_00010","banId":null,"x":285817.66,"y":341566.72,"lon":164.900792,"lat":-21.120919},"39":{"id":"98825_y6as4k_00039","banId":null,"x":285786.37,"y":341554.87,"lon":164.90049,"lat":-21.121024},"1 bis":{"id":"other-id","lat":-21.12,"lon":164.9,"extra":{"a":[1,2]},"flag":true}}}`,
	`{"id":"x1","type":"city","name":["Vernou-la-Celle-sur-Seine","Vernou"],"lat":48.1,"lon":2.5,"importance":1e-5,"big":123456789012345678901234567890}`,
	`{"id":"x2","type":"street","city":"Montceau-les-Mines","lat":46.6,"lon":4.3}`,
}

func buildLines(t testing.TB, profile text.Profile, lines []string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.balise")
	b, err := NewBuilder(path, BuildOptions{Text: text.Config{Profile: profile}, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	done := false
	_, err = b.Build(context.Background(), func() (Batch, error) {
		if done {
			return nil, io.EOF
		}
		done = true
		var batch Batch
		for i, l := range lines {
			batch = append(batch, Item{Line: []byte(l), LineNo: i + 1})
		}
		return batch, nil
	}, func(line int, err error) error { return fmt.Errorf("line %d: %w", line, err) })
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRoundTrip(t *testing.T) {
	path := buildLines(t, text.ProfileFrench, testLines)
	ix, err := Open(path, OpenOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if ix.NumDocs() != 4 || ix.Meta().Housenumbers != 3 || ix.Meta().Attribution != "BAN" {
		t.Fatalf("meta: %+v", ix.Meta())
	}
	// Every document decodes back to its fields, in order, with their JSON kinds.
	var d Doc
	for i, line := range testLines {
		if err := ix.Doc(uint32(i), &d); err != nil {
			t.Fatal(err)
		}
		src, err := source.ParseLine([]byte(line), 1)
		if err != nil {
			t.Fatal(err)
		}
		fields := d.Fields()
		if len(fields) != len(src.Fields) {
			t.Fatalf("doc %d: %d fields; want %d", i, len(fields), len(src.Fields))
		}
		for k, f := range src.Fields {
			got := string(fields[k].Value.AppendJSON(nil))
			want := string(f.Value.AppendJSON(nil))
			if fields[k].Key != f.Key || normJSON(got) != normJSON(want) {
				t.Errorf("doc %d field %d: %s=%s; want %s=%s", i, k, fields[k].Key, got, f.Key, want)
			}
			if g, ok := d.Get(f.Key); !ok || normJSON(string(g.AppendJSON(nil))) != normJSON(want) {
				t.Errorf("doc %d Get(%s) = %s", i, f.Key, g.AppendJSON(nil))
			}
		}
	}
	// Housenumbers: keys are processed ("1 bis" -> "1b"), payloads restored from their references.
	if err := ix.Doc(1, &d); err != nil {
		t.Fatal(err)
	}
	h, ok, err := d.FindHousenumber("1b")
	if err != nil || !ok || h.Raw != "1 bis" || h.Lat != -21.12 {
		t.Fatalf("1b: %+v %v %v", h, ok, err)
	}
	wantPayload := `id="other-id" extra={"a":[1,2]} flag=true`
	if got := payloadString(h.Payload); got != wantPayload {
		t.Errorf("payload %s; want %s", got, wantPayload)
	}
	h, ok, _ = d.FindHousenumber("39")
	if !ok || payloadString(h.Payload) != `id="98825_y6as4k_00039" banId=null x=285786.37 y=341554.87` || h.Lon != 164.90049 {
		t.Errorf("39: %+v", h)
	}
	// Lookups by public id and filters.
	if id, ok := ix.LookupID("98825_y6as4k"); !ok || id != 1 {
		t.Errorf("LookupID: %d %v", id, ok)
	}
	if got := ix.Filter("type", "housenumber"); !slices.Equal(got, []uint32{1}) {
		t.Errorf("type=housenumber: %v", got)
	}
	if got := ix.Filter("citycode", "98825"); !slices.Equal(got, []uint32{0, 1}) {
		t.Errorf("citycode: %v", got)
	}
	// The nameless document is stored but not searchable nor located.
	if _, ok := ix.Lookup("montso"); ok {
		t.Error("nameless document was indexed")
	}
	// Geo: housenumber 10's point comes back exactly (stored as offsets
	// from its cell's corner), with its document and housenumber.
	var hn10 []Point
	ix.CellPoints(geo.CellOf(-21.120919, 164.900792), func(p Point) bool {
		if p.Lat == -211209190 && p.Lon == 1649007920 {
			hn10 = append(hn10, p)
		}
		return true
	})
	if len(hn10) != 1 || hn10[0].Doc != 1 || hn10[0].HN == 0 {
		t.Errorf("housenumber 10's point: %+v", hn10)
	} else {
		var d1 Doc
		if err := ix.Doc(1, &d1); err != nil {
			t.Fatal(err)
		}
		if h, err := d1.HousenumberAt(int(hn10[0].HN - 1)); err != nil || h.Raw != "10" {
			t.Errorf("housenumber 10's point names housenumber %+v (%v)", h, err)
		}
	}
}

func normJSON(s string) string { return strings.ReplaceAll(s, ", ", ",") }

func payloadString(fs []Field) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, f.Key+"="+string(f.Value.AppendJSON(nil)))
	}
	return strings.Join(parts, " ")
}

// TestLookupMatchesBruteForce checks the jump table and the prefix ranges
// against a linear scan, on a real vocabulary.
func TestLookupMatchesBruteForce(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "ban-nc", "addok.ndjson.gz"))
	if err != nil {
		t.Fatal(err)
	}
	lines, err := source.NewLines(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "nc.balise")
	b, _ := NewBuilder(path, BuildOptions{Text: text.Config{Profile: text.ProfileFrench}})
	if _, err := b.Build(context.Background(), FromLines(lines), nil); err != nil {
		t.Fatal(err)
	}
	ix, err := Open(path, OpenOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	<-ix.filterDone // Lookup with the filter of absent words
	var terms []string
	for i := 0; i < ix.NumTerms(); i++ {
		terms = append(terms, ix.Term(TermID(i)))
	}
	if !slices.IsSorted(terms) {
		t.Fatal("terms are not sorted")
	}
	probes := append(slices.Clone(terms), "", "a", "zzzz", "ru", "rue", "sapi", "\xff", "0", "9")
	for _, p := range probes {
		id, ok := ix.Lookup(p)
		want := slices.Index(terms, p)
		if ok != (want >= 0) || (ok && int(id) != want) {
			t.Fatalf("Lookup(%q) = %d,%v; want %d", p, id, ok, want)
		}
		lo, hi := ix.PrefixRange(p)
		wl, wh := -1, -1
		for i, term := range terms {
			if strings.HasPrefix(term, p) {
				if wl < 0 {
					wl = i
				}
				wh = i + 1
			}
		}
		if wl < 0 {
			if lo != hi {
				t.Fatalf("PrefixRange(%q) = [%d,%d); want empty", p, lo, hi)
			}
			continue
		}
		if int(lo) != wl || int(hi) != wh {
			t.Fatalf("PrefixRange(%q) = [%d,%d); want [%d,%d)", p, lo, hi, wl, wh)
		}
	}
	// Postings are sorted and the top lists are the best weights.
	for i := 0; i < ix.NumTerms(); i++ {
		docs, weights := ix.Postings(TermID(i))
		if !slices.IsSorted(docs) || len(docs) != len(weights) || len(docs) != ix.Frequency(TermID(i)) {
			t.Fatalf("term %q postings malformed", terms[i])
		}
		if top, tw := ix.Top(TermID(i)); len(top) > 0 {
			all := slices.Clone(weights)
			slices.Sort(all)
			slices.Reverse(all)
			if tw[0] != all[0] || tw[len(tw)-1] != all[len(tw)-1] {
				t.Fatalf("term %q: top list is not the best weights", terms[i])
			}
		}
	}
}

func TestCorruptFilesRefused(t *testing.T) {
	path := buildLines(t, text.ProfileFrench, testLines)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func([]byte) []byte{
		"empty":          func(b []byte) []byte { return nil },
		"truncated":      func(b []byte) []byte { return b[:len(b)-10] },
		"bad magic":      func(b []byte) []byte { b[0] = 'X'; return b },
		"header flipped": func(b []byte) []byte { b[13] ^= 1; return b },
		"table flipped":  func(b []byte) []byte { b[headerSize+9] ^= 1; return b },
		"data flipped":   func(b []byte) []byte { b[len(b)/2] ^= 0x55; return b },
		"meta flipped":   func(b []byte) []byte { b[len(b)-20] ^= 0x55; return b },
	}
	for name, mutate := range cases {
		b := mutate(slices.Clone(good))
		_, err := OpenBytes(b, OpenOptions{Verify: true})
		if err == nil || !(errors.Is(err, ErrCorrupt) || errors.Is(err, ErrVersion)) {
			t.Errorf("%s: got %v; want ErrCorrupt", name, err)
		}
	}
	// A file of another format version, with a valid header, is refused
	// with a message that says what to do.
	vb := slices.Clone(good)
	binary.LittleEndian.PutUint32(vb[8:], 1)
	binary.LittleEndian.PutUint32(vb[20:], 0)
	binary.LittleEndian.PutUint32(vb[20:], crc32.Checksum(vb[:headerSize], castagnoli))
	if _, err := OpenBytes(vb, OpenOptions{}); !errors.Is(err, ErrVersion) || !strings.Contains(err.Error(), "index format version 1") || !strings.Contains(err.Error(), "rebuild it with balise import") {
		t.Errorf("version 1 file: %v", err)
	}
	// A file on disk goes through the same checks.
	bad := filepath.Join(t.TempDir(), "bad.balise")
	os.WriteFile(bad, good[:100], 0o644)
	if _, err := Open(bad, OpenOptions{}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated file: %v", err)
	}
}

// FuzzOpenIndex mutates a valid index: opening and reading it must fail
// cleanly or work, never panic.
func FuzzOpenIndex(f *testing.F) {
	path := buildLines(f, text.ProfileFrench, testLines)
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, uint32(0), byte(0))
	f.Add(good, uint32(headerSize+5), byte(1))
	f.Add(good, uint32(len(good)/2), byte(0x80))
	f.Add(good[:200], uint32(0), byte(0))
	f.Fuzz(func(t *testing.T, data []byte, at uint32, xor byte) {
		b := slices.Clone(data)
		if len(b) > 0 {
			b[int(at)%len(b)] ^= xor
		}
		for _, verify := range []bool{false, true} {
			ix, err := OpenBytes(b, OpenOptions{Verify: verify})
			if err != nil {
				continue
			}
			exercise(ix)
			ix.Close()
		}
	})
}

// exercise reads everything an index holds, as searches would.
func exercise(ix *Index) {
	var d Doc
	for i := 0; i < ix.NumDocs(); i++ {
		if ix.Doc(uint32(i), &d) == nil {
			d.HousenumberKeys(func(k int, key string) bool {
				d.FindHousenumber(key)
				d.HousenumberAt(k)
				return true
			})
			for _, f := range d.Fields() {
				f.Value.AppendJSON(nil)
			}
			d.Get("name")
		}
		ix.DocPoint(uint32(i))
	}
	for i := 0; i < ix.NumTerms(); i++ {
		ix.Postings(TermID(i))
		ix.Top(TermID(i))
		ix.Lookup(ix.Term(TermID(i)))
	}
	ix.PrefixRange("ru")
	ix.Filter("type", "street")
	ix.LookupID("x1")
	ix.CellPoints(geo.CellOf(-21.12, 164.9), func(Point) bool { return true })
}

// TestTooManyHousenumbers checks that a document with as many housenumbers
// as a geo point can name is indexed, the last one named exactly, and that
// one more is refused at import, saying why.
func TestTooManyHousenumbers(t *testing.T) {
	for _, n := range []int{MaxHousenumbers, MaxHousenumbers + 1} {
		var line strings.Builder
		line.WriteString(`{"id":"s","type":"street","name":"Rue Longue","lat":48.1,"lon":2.1,"housenumbers":{`)
		for i := 1; i <= n; i++ {
			if i > 1 {
				line.WriteByte(',')
			}
			fmt.Fprintf(&line, `"%d":{"lat":48.1,"lon":2.1}`, i)
		}
		line.WriteString(`}}`)
		path := filepath.Join(t.TempDir(), "t.balise")
		b, err := NewBuilder(path, BuildOptions{Text: text.Config{Profile: text.ProfileDefault}})
		if err != nil {
			t.Fatal(err)
		}
		done := false
		_, err = b.Build(context.Background(), func() (Batch, error) {
			if done {
				return nil, io.EOF
			}
			done = true
			return Batch{{Line: []byte(line.String()), LineNo: 1}}, nil
		}, nil)
		if n > MaxHousenumbers {
			if err == nil || !strings.Contains(err.Error(), "more than 65535 distinct housenumbers in one document") {
				t.Fatalf("%d housenumbers: got %v", n, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		ix, err := Open(path, OpenOptions{Verify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer ix.Close()
		last := uint32(0)
		ix.CellPoints(geo.CellOf(48.1, 2.1), func(p Point) bool { last = max(last, p.HN); return true })
		var d Doc
		if err := ix.Doc(0, &d); err != nil {
			t.Fatal(err)
		}
		if h, err := d.HousenumberAt(int(last) - 1); last != MaxHousenumbers || err != nil || h.Raw != "65535" {
			t.Errorf("last point names housenumber %d: %+v %v", last, h.Raw, err)
		}
	}
}

// Ids are found whatever their order in the input; of two documents with
// the same id, the first is the one found.
func TestLookupIDFirstOfDuplicates(t *testing.T) {
	ids := []string{"b", "a", "dup", "c", "dup", "", "aa", "dup"}
	var lines []string
	for _, id := range ids {
		lines = append(lines, fmt.Sprintf(`{"id":%q,"type":"street","name":"Rue %s","lat":48.1,"lon":2.5}`, id, id))
	}
	ix, err := Open(buildLines(t, text.ProfileFrench, lines), OpenOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	want := map[string]uint32{"b": 0, "a": 1, "dup": 2, "c": 3, "aa": 6}
	for id, doc := range want {
		if got, ok := ix.LookupID(id); !ok || got != doc {
			t.Errorf("LookupID(%q) = %d, %v; want %d", id, got, ok, doc)
		}
	}
	if _, ok := ix.LookupID("d"); ok {
		t.Error("an absent id was found")
	}
}
