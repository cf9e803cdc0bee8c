package batch

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzCSVReader: encoding detection, delimiter sniffing and parsing never
// panic, and whatever is read can be written back.
func FuzzCSVReader(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n", "adresse\nrue\n", "\xef\xbb\xbfa;b\r\n\"x;\ny\";2\r\n", "a\tb\nbr\xfbl\xe9\t2\n",
		"\"unterminated\n", "a|b\n\"\"\"|x\n", "°\n", ";,\t|~^°\n",
	} {
		f.Add([]byte(s), "", "")
	}
	f.Add([]byte("a,b\n1,2\n"), "latin-1", ";")
	f.Add([]byte("a,b\n1,2\n"), "utf-8", "tab")
	f.Fuzz(func(t *testing.T, data []byte, encoding, delimiter string) {
		r, err := NewReader(bytes.NewReader(data), Options{Encoding: encoding, Delimiter: delimiter})
		if err != nil {
			var be *Error
			if !errors.As(err, &be) {
				t.Fatalf("not an input error: %v", err)
			}
			return
		}
		var out bytes.Buffer
		w, err := newWriter(&out, r.delim, r.cs, r.cs.bom)
		if err != nil {
			t.Fatal(err)
		}
		w.WriteRow(r.Header())
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			w.WriteRow(rec)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	})
}
