package source

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParseLine: ParseLine never panics, and a document it accepts survives
// AppendJSON + ParseLine unchanged (numbers compared as Python re-emits them).
func FuzzParseLine(f *testing.F) {
	f.Add([]byte(`{"id":"75101_1929","type":"street","name":"Place du Châtelet","housenumbers":{"1":{"id":"x","lat":48.857614,"lon":2.346758}}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		d, err := ParseLine(line, 1)
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) || le.Line != 1 {
				t.Fatalf("error %v is not a LineError for line 1", err)
			}
			return
		}
		if d == nil {
			if !isBlank(line) {
				t.Fatalf("nil document for a non-blank line")
			}
			return
		}
		enc := d.AppendJSON(nil)
		d2, err := ParseLine(enc, 1)
		if err != nil {
			t.Fatalf("re-encoded document does not parse: %v\n%s", err, enc)
		}
		if msg := Diff(d, d2); msg != "" {
			t.Fatalf("round trip changed the document: %s\n in: %q\nenc: %s", msg, line, enc)
		}
		if enc2 := d2.AppendJSON(nil); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable:\n%s\n%s", enc, enc2)
		}
		for _, fl := range d.Fields {
			_ = fl.Value.String()
			_ = fl.Value.Truthy()
			fl.Value.Float()
		}
	})
}
