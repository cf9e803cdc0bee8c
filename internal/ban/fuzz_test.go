package ban

import (
	"bytes"
	"sync"
	"testing"

	"balise/internal/source"
)

var fuzzGaz = sync.OnceValues(func() (*Gazetteer, error) { return LoadGazetteer("testdata/communes-tiny.csv") })

// FuzzBANCSV: the BAN CSV reader never panics on any body under the BAN
// header, with or without a gazetteer, and every document it yields encodes
// to a line ParseLine accepts.
func FuzzBANCSV(f *testing.F) {
	f.Add([]byte("75101_1929_00001;;1;;Place du Châtelet;75001;75101;Paris 1er Arrondissement;;;652070.67;6862151.3;2.346758;48.857614;parcelle;;;;;;;;\n"), false)
	f.Fuzz(func(t *testing.T, body []byte, withGaz bool) {
		in := append([]byte(banHeader), body...)
		r, err := NewReader(bytes.NewReader(in), "fuzz.csv", int64(len(in)), Options{Options: source.Options{OnError: func(source.LineError) {}}})
		if err != nil {
			t.Fatal(err)
		}
		if withGaz {
			g, err := fuzzGaz()
			if err != nil {
				t.Fatal(err)
			}
			r.SetGazetteer(g)
		}
		eachDoc(t, r, func(d *source.Document) {
			enc := d.AppendJSON(nil)
			if _, err := source.ParseLine(enc, 1); err != nil {
				t.Fatalf("document does not re-parse: %v\n%s", err, enc)
			}
		})
	})
}
