package batch

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"balise/internal/testutil"

	xunicode "golang.org/x/text/encoding/unicode"
)

// fuzzCaps turns a fuzzed number into record caps: 0 keeps the defaults,
// anything else gives small caps that inputs reach.
func fuzzCaps(caps uint16) Options {
	if caps == 0 {
		return Options{}
	}
	return Options{MaxRecordBytes: int(caps&0x3ff) + 1, MaxFields: int(caps>>10) + 1}
}

// readAll reads every record of data; over-cap records are kept as their
// *RecordError.
func readAll(t *testing.T, data []byte, opts Options) (*Reader, [][]string, []*RecordError, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), opts)
	if err != nil {
		return nil, nil, nil, err
	}
	var recs [][]string
	var bad []*RecordError
	for {
		rec, err := r.Read()
		var re *RecordError
		switch {
		case errors.As(err, &re):
			bad = append(bad, re)
			recs = append(recs, nil)
			continue
		case errors.Is(err, io.EOF):
			return r, recs, bad, nil
		case err != nil:
			t.Fatalf("read: %v", err)
		}
		recs = append(recs, rec)
	}
}

// FuzzCSVReader: encoding detection, delimiter sniffing and parsing never
// panic; records respect the caps (the others are RecordErrors); whatever
// is read can be written back; and a UTF-8 text reads the same once
// converted to UTF-16 (Excel's "Unicode text").
func FuzzCSVReader(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n", "adresse\nrue\n", "\xef\xbb\xbfa;b\r\n\"x;\ny\";2\r\n", "a\tb\nbr\xfbl\xe9\t2\n",
		"\"unterminated\n", "a|b\n\"\"\"|x\n", "°\n", ";,\t|~^°\n",
	} {
		f.Add([]byte(s), "", "", uint16(0))
	}
	f.Add([]byte("a,b\n1,2\n"), "latin-1", ";", uint16(0))
	f.Add([]byte("a,b\n1,2\n"), "utf-8", "tab", uint16(0))
	f.Add([]byte("a,b\n1,2,3,4,5\n\"long long long\"\n"), "", "", uint16(1<<10|7))
	f.Add([]byte("\xff\xfea\x00\t\x00b\x00\r\x00\n\x00"), "", "", uint16(0))
	f.Add([]byte("a\x00;\x00b\x00\n\x001\x00;\x002\x00\n\x00"), "utf-16", "", uint16(3<<10|9))
	f.Fuzz(func(t *testing.T, data []byte, encoding, delimiter string, caps uint16) {
		opts := fuzzCaps(caps)
		opts.Encoding, opts.Delimiter = encoding, delimiter
		r, recs, bad, err := readAll(t, data, opts)
		if err != nil {
			var be *Error
			if !errors.As(err, &be) {
				t.Fatalf("not an input error: %v", err)
			}
			return
		}
		opts.normaliseCaps()
		for _, re := range bad {
			if re.Line < 1 || re.Limit != opts.MaxRecordBytes && re.Limit != opts.MaxFields {
				t.Fatalf("record error %+v", re)
			}
		}
		var out bytes.Buffer
		w, err := newWriter(&out, r.delim, r.cs, r.cs.bom, caps&1 == 1)
		if err != nil {
			t.Fatal(err)
		}
		w.WriteRow(r.Header())
		for _, rec := range recs {
			if len(rec) > opts.MaxFields || len(strings.Join(rec, "")) > opts.MaxRecordBytes {
				t.Fatalf("record over the caps: %d fields", len(rec))
			}
			w.WriteRow(rec)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		checkUTF16Reads(t, data, opts, r, recs)
	})
}

// checkUTF16Reads reads data, a UTF-8 text, again as UTF-16 LE with a BOM
// and fails unless the records are the same.
func checkUTF16Reads(t *testing.T, data []byte, opts Options, r *Reader, recs [][]string) {
	t.Helper()
	if opts.Encoding != "" || r.cs.name != "utf-8" || !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 || len(data) > sampleSize/2 {
		return
	}
	wide, err := xunicode.UTF16(xunicode.LittleEndian, xunicode.UseBOM).NewEncoder().Bytes(data)
	if err != nil {
		t.Fatal(err)
	}
	r16, recs16, _, err := readAll(t, wide, opts)
	if err != nil {
		t.Fatalf("as UTF-16: %v", err)
	}
	if r16.cs.name != "utf-16" || !slices.Equal(r16.Header(), r.Header()) || len(recs16) != len(recs) {
		t.Fatalf("as UTF-16: %s, header %q, %d records; want header %q, %d records", r16.cs.name, r16.Header(), len(recs16), r.Header(), len(recs))
	}
	for i := range recs {
		if !slices.Equal(recs16[i], recs[i]) {
			t.Fatalf("as UTF-16, record %d: %q, want %q", i, recs16[i], recs[i])
		}
	}
}

// fuzzJobDocs are the documents FuzzJob geocodes against.
var fuzzJobDocs = []string{
	avions,
	`{"id":"b1","type":"municipality","name":"Pouembout","postcode":"98825","citycode":"98825","city":"Pouembout","lat":-21.12,"lon":164.9,"importance":0.7}`,
}

// jobOutputRows parses a job's output back, in its encoding, and returns
// its rows (header first); every row must have the header's width.
func jobOutputRows(t *testing.T, j *Job, out []byte) [][]string {
	t.Helper()
	text := out
	if !j.out.isUTF8() {
		var err error
		if text, err = j.out.enc.NewDecoder().Bytes(out); err != nil {
			t.Fatalf("output does not decode: %v", err)
		}
	}
	text = bytes.TrimPrefix(text, []byte("\ufeff"))
	cr := csv.NewReader(bytes.NewReader(text))
	cr.Comma = j.rd.delim
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v", err)
	}
	return rows
}

// FuzzJob: a CSV job end to end never panics nor fails on its input,
// writes exactly one row per input record, of the header's width, in valid
// CSV; and its cost is linear in the input.
func FuzzJob(f *testing.F) {
	e := testEngine(f, fuzzJobDocs...)
	for _, s := range []string{
		"adresse\nrue des avions\n18 rue des avions\n", "q,type\nrue des avions,street\nPouembout,municipality+street\n",
		"lat;lon;type\n44;4;\n-21.12;164.9;municipality\nx;y;\n", "a\n\"" + strings.Repeat("z", 100) + "\"\n=1+2\n",
		"\xff\xfea\x00\n\x00b\x00\n\x00", "q\x1fr\n1\x1f2\n", strings.Repeat("a,", 20) + "\n",
	} {
		f.Add([]byte(s), uint8(len(s)))
	}
	sample := testutil.NewSample(500)
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		opts := Options{Workers: 2, ChunkRows: 3, MaxRecordBytes: 80, MaxFields: 6, TrackDuplicates: true}
		opts.Flavour = Flavour(mode & 1)
		if mode&2 != 0 {
			opts.Mode = Reverse
		}
		opts.EscapeFormulas = mode&4 != 0
		if mode&8 != 0 {
			opts.Filters = []FilterColumn{{"type", "type"}}
		}
		runJob := func(in []byte) (*Job, *Summary, []byte) {
			j, err := NewJob(e, bytes.NewReader(in), opts)
			if err != nil {
				var be *Error
				if !errors.As(err, &be) {
					t.Fatalf("not an input error: %v", err)
				}
				return nil, nil, nil
			}
			var out bytes.Buffer
			s, err := j.Run(context.Background(), &out, nil)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			return j, s, out.Bytes()
		}
		j, s, out := runJob(data)
		if j == nil {
			return
		}
		_, recs, bad, err := readAll(t, data, opts)
		if err != nil {
			t.Fatal(err)
		}
		rows := jobOutputRows(t, j, out)
		if len(rows)-1 != len(recs) || s.Rows != int64(len(recs)) || s.RecordErrors != int64(len(bad)) || s.Panics != 0 {
			t.Fatalf("%d input records (%d over a cap), %d output rows, summary %+v", len(recs), len(bad), len(rows)-1, s)
		}
		if sample.Next() {
			testutil.CheckLinearCost(t, 8, 5, func(k int) { runJob(bytes.Repeat(data, 16*k)) })
		}
	})
}

// oldSplitFilterValue is the reference splitFilterCell must match.
func oldSplitFilterValue(v string) []string {
	var parts []string
	if strings.Contains(v, "+") {
		parts = strings.Split(v, "+")
	} else {
		parts = strings.Fields(v)
	}
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// FuzzSplitFilterValue: the bounded filter cell splitter gives the values
// of the plain split when there are at most limit, and gives up otherwise.
func FuzzSplitFilterValue(f *testing.F) {
	for _, s := range []string{"75056", "a+b", " a + b ++c+", "a b\u00a0c", "+++", "a\u2028b", "\xff+\xfe"} {
		f.Add(s, uint8(2))
	}
	f.Fuzz(func(t *testing.T, v string, limit uint8) {
		want := oldSplitFilterValue(v)
		got, ok := splitFilterCell(v, int(limit))
		if ok != (len(want) <= int(limit)) || ok && !slices.Equal(got, want) {
			t.Fatalf("%q, limit %d: %q %v, want %q", v, limit, got, ok, want)
		}
		if all := SplitFilterValue(v); !slices.Equal(all, want) {
			t.Fatalf("%q: %q, want %q", v, all, want)
		}
	})
}
