package ban

import (
	"bytes"
	"math"
	"testing"

	"balise/internal/pyjs"
	"balise/internal/source"
)

// TestBANCSVMatchesConverter reads the real Paris BAN CSV with the COG
// gazetteer and checks that every document is identical (keys, order,
// values, byte for byte once encoded) to what to_addok.py produced.
func TestBANCSVMatchesConverter(t *testing.T) {
	csvPath := sharedFile(t, "ban-75-paris/adresses-75.csv.gz")
	want := readGzLines(t, sharedFile(t, "ban-75-paris/addok.ndjson.gz"))
	r, err := Open(csvPath, Options{Options: source.Options{Strict: true}, Communes: sharedFile(t, "communes/communes.csv.gz")})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var buf []byte
	n, diffs := 0, 0
	eachDoc(t, r, func(d *source.Document) {
		buf = d.AppendJSON(buf[:0])
		if n >= len(want) {
			t.Fatalf("extra document %s", buf)
		}
		if !bytes.Equal(buf, want[n]) {
			diffs++
			if diffs <= 5 {
				t.Errorf("document %d differs:\n got %s\nwant %s", n+1, buf, want[n])
			}
		} else {
			// the parsed converter line is the same Document too
			w, err := source.ParseLine(want[n], n+1)
			if err != nil {
				t.Fatal(err)
			}
			if msg := source.Diff(d, w); msg != "" {
				t.Fatalf("document %d: %s", n+1, msg)
			}
		}
		n++
	})
	if n != len(want) {
		t.Errorf("%d documents, want %d", n, len(want))
	}
	if diffs > 0 {
		t.Errorf("%d of %d documents differ", diffs, n)
	}
	st := r.Stats()
	if st.Rows != 158048 || st.Streets != 7571 || st.Municipalities != 21 {
		t.Errorf("stats %+v", st)
	}
}

// TestBANCSVNoGazetteer: without the gazetteer the Paris documents differ
// from the converter's only where population is needed: street importance
// uses the housenumber count alone, municipalities have no population
// field and importance 0, and the parent commune (75056 Paris, which has no
// address of its own) is not emitted. Municipality postcodes are the sorted
// postcodes of the rows.
func TestBANCSVNoGazetteer(t *testing.T) {
	csvPath := sharedFile(t, "ban-75-paris/adresses-75.csv.gz")
	var want []*source.Document
	for i, l := range readGzLines(t, sharedFile(t, "ban-75-paris/addok.ndjson.gz")) {
		d, err := source.ParseLine(l, i+1)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, d)
	}
	wantMuni := map[string]*source.Document{}
	for _, d := range want {
		if v, _ := d.Get("type"); v.Str == "municipality" {
			id, _ := d.Get("id")
			wantMuni[id.Str] = d
		}
	}
	r, err := Open(csvPath, Options{Options: source.Options{Strict: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := readAllDocs(t, r)
	if len(got) != 7571+20 {
		t.Fatalf("%d docs", len(got))
	}
	for i, d := range got[:7571] {
		w := want[i]
		imp, _ := d.Get("importance")
		if f, _ := imp.Float(); f != pyjs.PyRound(math.Log(1+float64(len(d.Housenumbers)))/20, 5) {
			t.Fatalf("street %d: importance %s", i, imp.Str)
		}
		// same document once importance is set to the converter's
		for j := range d.Fields {
			if d.Fields[j].Key == "importance" {
				d.Fields[j].Value, _ = w.Get("importance")
			}
		}
		if msg := source.Diff(d, w); msg != "" {
			t.Fatalf("street %d: %s", i, msg)
		}
	}
	for _, d := range got[7571:] {
		id, _ := d.Get("id")
		w := wantMuni[id.Str]
		if w == nil {
			t.Fatalf("unexpected municipality %s", id.Str)
		}
		if _, ok := d.Get("population"); ok {
			t.Errorf("%s: population without a gazetteer", id.Str)
		}
		for _, f := range d.Fields {
			wv, _ := w.Get(f.Key)
			switch f.Key {
			case "importance":
				if f.Value.Str != "0.0" {
					t.Errorf("%s: importance %s", id.Str, f.Value.Str)
				}
			case "postcode":
				if f.Value.String() != wv.String() {
					t.Logf("%s: postcodes %s (gazetteer: %s)", id.Str, f.Value.String(), wv.String())
				}
			default:
				if msg := source.Diff(&source.Document{Fields: []source.Field{f}}, &source.Document{Fields: []source.Field{{Key: f.Key, Value: wv}}}); msg != "" {
					t.Errorf("%s: %s: %s", id.Str, f.Key, msg)
				}
			}
		}
	}
}
