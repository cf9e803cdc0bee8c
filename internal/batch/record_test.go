package batch

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// fuzzDelimiters are the delimiters the differential checks try: the
// sniffed ones, multi-byte ones and the one-column mode's.
var fuzzDelimiters = []rune{',', ';', '\t', '|', '°', '€', unitSeparator, 'x'}

// readers feed the record reader in pieces, to cross window boundaries.
var readers = []func(io.Reader) io.Reader{
	func(r io.Reader) io.Reader { return r },
	iotest.OneByteReader,
	iotest.HalfReader,
	iotest.DataErrReader,
}

// checkAgainstCSV reads data with encoding/csv (LazyQuotes, any number of
// fields) and with a recordReader, and fails t unless they agree: the same
// records, in the same order, starting on the same lines, except that
// records over a cap are RecordErrors, and only those.
func checkAgainstCSV(t *testing.T, data []byte, comma rune, maxBytes, maxFields, window int, feed func(io.Reader) io.Reader) {
	t.Helper()
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = comma
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	rr := newRecordReaderSize(feed(bytes.NewReader(data)), comma, maxBytes, maxFields, window)
	var prev int64
	fatalf := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("input %q, delimiter %q, caps %d bytes %d fields, window %d: %s", data, comma, maxBytes, maxFields, window, fmt.Sprintf(format, args...))
	}
	for n := 0; ; n++ {
		want, werr := cr.Read()
		got, gerr := rr.Read()
		if errors.Is(werr, io.EOF) {
			if !errors.Is(gerr, io.EOF) {
				fatalf("record %d: encoding/csv ends, bounded reader gives %q, %v", n, got, gerr)
			}
			return
		}
		if werr != nil {
			fatalf("encoding/csv: %v", werr)
		}
		line, _ := cr.FieldPos(0)
		off := cr.InputOffset()
		span := trimBlankLines(data[prev:off])
		raw := stripBreak(span, off == int64(len(data)))
		prev = off
		large, many := len(raw) > maxBytes, len(want) > maxFields
		if !large && rr.problem == RecordTooLarge && off == int64(len(data)) && strings.HasSuffix(want[len(want)-1], "\n") {
			// A quoted field left open to the end of the input: its last
			// line break is content, not the record's end, and counts.
			large = len(span) > maxBytes
		}
		var re *RecordError
		switch {
		case errors.As(gerr, &re):
			if re.Line != line || !(re.Problem == RecordTooLarge && large || re.Problem == RecordTooManyFields && many) {
				fatalf("record %d (%d bytes, %d fields, line %d): %v", n, len(raw), len(want), line, gerr)
			}
		case gerr != nil:
			fatalf("record %d: %v", n, gerr)
		case large || many:
			fatalf("record %d (%d bytes, %d fields): kept over the caps (%d, %d)", n, len(raw), len(want), maxBytes, maxFields)
		case !slices.Equal(got, want):
			fatalf("record %d: got %q, want %q", n, got, want)
		case rr.recLine != line:
			fatalf("record %d: line %d, want %d", n, rr.recLine, line)
		}
	}
}

// trimBlankLines drops the blank lines encoding/csv skips before a record.
func trimBlankLines(b []byte) []byte {
	for {
		if c, ok := bytes.CutPrefix(b, []byte("\n")); ok {
			b = c
		} else if c, ok := bytes.CutPrefix(b, []byte("\r\n")); ok {
			b = c
		} else {
			return b
		}
	}
}

// stripBreak drops a record's line break: the caps measure a record from
// its first byte to its line break, excluded.
func stripBreak(b []byte, atEOF bool) []byte {
	switch {
	case bytes.HasSuffix(b, []byte("\r\n")):
		return b[:len(b)-2]
	case bytes.HasSuffix(b, []byte("\n")):
		return b[:len(b)-1]
	case bytes.HasSuffix(b, []byte("\r")) && atEOF:
		return b[:len(b)-1]
	}
	return b
}

var recordCases = []string{
	"", "\n", "\r\n", "\r", "\n\n\r\n", "a", "a\n", "a\r\n", "a\r", "a\r\r", "a\r\rb", "\ra\n",
	"a,b,c\n1,2,3\n", "a,,\n,,\n", ",", ",\n", "a,\r", "a,\"\r", "\"\"", "\"\"\n", "\"\",\"\"",
	"\"a,b\",c\n", "\"a\"\"b\"\n", "\"a\"b\"c\n", "\"a\nb\"\r\nc\n", "\"a\r\nb\"\n", "\"a\r\rb\"\n",
	"\"unterminated\n", "\"unterminated\r", "\"x\"\r", "\"x\"\r\r", "\"x\"y\r\n", "a\"b,\"c\"\"\"\n",
	"\n\na\n\n\nb\n", "x\r\n\r\n\"q\r\n\"\r\n", "é,ü\nß,€\n", "\xff,\xfe\n\"\xc3\",\xc3\n",
	"a°b°c\n°°\n\"x\"°\"y\"\n", "a€b\n\"€\"€\n", "a\x1fb\x1f\"c\x1f\"\n", "\"\"\"\n", "\"\"\"\"\n", "\" \" \"\n",
}

func TestRecordReaderMatchesEncodingCSV(t *testing.T) {
	long := strings.Repeat("abcdefghij", 30)
	cases := append(slices.Clone(recordCases),
		long+","+long+"\n"+long+"\n", "\""+long+"\r\n"+long+"\"\r\n"+long+"\r\n", strings.Repeat("a,", 50)+"\n", strings.Repeat("\r\n", 40)+"x")
	for _, in := range cases {
		for _, comma := range fuzzDelimiters {
			for _, feed := range readers {
				for _, window := range []int{8, 13, 64, sampleSize} {
					for _, caps := range [][2]int{{DefaultMaxRecordBytes, DefaultMaxFields}, {3, 2}, {0, 1}, {20, 5}, {250, 40}} {
						checkAgainstCSV(t, []byte(in), comma, caps[0], caps[1], window, feed)
					}
				}
			}
		}
	}
}

// FuzzRecordReader: the bounded record reader returns exactly what
// encoding/csv does (LazyQuotes, any number of fields) for every record
// within the caps, and a RecordError for every other, however the input
// is cut into reads and whatever the window size.
func FuzzRecordReader(f *testing.F) {
	for i, s := range recordCases {
		f.Add([]byte(s), uint8(i), uint16(i*7), uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, delim uint8, maxBytes uint16, pick uint8) {
		comma := fuzzDelimiters[int(delim)%len(fuzzDelimiters)]
		capBytes, capFields := int(maxBytes)%512, int(pick>>2)%16
		if maxBytes%4 == 0 {
			capBytes, capFields = DefaultMaxRecordBytes, DefaultMaxFields // no cap reached: plain equality
		}
		window := 8 + int(maxBytes>>9)%61
		checkAgainstCSV(t, data, comma, capBytes, capFields, window, readers[int(pick)%len(readers)])
	})
}

func TestRecordErrorText(t *testing.T) {
	for _, c := range []struct {
		e    RecordError
		want string
	}{
		{RecordError{Line: 12345, Problem: RecordTooLarge, Limit: 64 << 10}, "line 12345: record larger than 64 KiB"},
		{RecordError{Line: 2, Problem: RecordTooLarge, Limit: 1 << 20}, "line 2: record larger than 1 MiB"},
		{RecordError{Line: 3, Problem: RecordTooLarge, Limit: 1000}, "line 3: record larger than 1000 bytes"},
		{RecordError{Line: 4, Problem: RecordTooManyFields, Limit: 1000}, "line 4: record with more than 1000 fields"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("%q, want %q", got, c.want)
		}
	}
}

// A record far over the cap is skipped without being buffered: the memory
// allocated to read it stays near the window, not the record.
func TestRecordReaderSkipsWithoutBuffering(t *testing.T) {
	const big = 8_000_000 // a whole number of repeats
	in := io.MultiReader(strings.NewReader("a,b\n\""), &repeatReader{b: []byte("x,\"\"\n"), n: big}, strings.NewReader("\",z\nc,d\n"))
	rr := newRecordReader(in, ',', DefaultMaxRecordBytes, DefaultMaxFields)
	var got []string
	var lines []int
	for {
		rec, err := rr.Read()
		var re *RecordError
		if errors.As(err, &re) {
			got = append(got, re.Error())
			continue
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join(rec, "|"))
		lines = append(lines, rr.recLine)
	}
	want := []string{"a|b", "line 2: record larger than 64 KiB", "c|d"}
	if !slices.Equal(got, want) {
		t.Fatalf("%q, want %q", got, want)
	}
	if lines[1] != 2+big/5+1 {
		t.Errorf("last record on line %d, want %d", lines[1], 2+big/5+1)
	}
	if c := cap(rr.content); c > 2*DefaultMaxRecordBytes {
		t.Errorf("record buffer grew to %d bytes", c)
	}
}

// repeatReader yields b over and over, n bytes in all.
type repeatReader struct {
	b   []byte
	n   int
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && r.n > 0 {
		c := copy(p[k:min(len(p), k+r.n)], r.b[r.off:])
		r.off = (r.off + c) % len(r.b)
		k += c
		r.n -= c
	}
	return k, nil
}

// realisticCSV is a BAN-like file: a dozen columns, some quoted (commas,
// quotes inside), CRLF line breaks, about size bytes.
func realisticCSV(size int) []byte {
	var b bytes.Buffer
	b.WriteString("id,numero,rep,nom_voie,code_postal,code_insee,nom_commune,lon,lat,source,date_der_maj,certification\r\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "%05d_%04d_%05d,%d,%s,%s,%05d,%05d,%s,%.5f,%.5f,commune,2024-0%d-1%d,%d\r\n",
			10000+i%90000, i%9000, i%70, i%300, []string{"", "bis", "ter"}[i%3],
			[]string{"Rue de la Paix", `"Allée des Tilleuls, résidence ""Les Pins"""`, "Boulevard Saint-Michel", `"Chemin du Moulin, lieu-dit"`}[i%4],
			75000+i%900, 75100+i%200, []string{"Paris", "Saint-Étienne", `"Pouembout, Nouvelle-Calédonie"`}[i%3],
			2.3+float64(i%1000)/1e4, 48.8+float64(i%1000)/1e4, 1+i%9, i%10, i%2)
	}
	return b.Bytes()
}

// BenchmarkRecordReader compares the bounded reader with encoding/csv on
// a realistic file (compare with benchstat).
func BenchmarkRecordReader(b *testing.B) {
	data := realisticCSV(2 << 20)
	b.Run("reader=bounded", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			rr := newRecordReader(bytes.NewReader(data), ',', DefaultMaxRecordBytes, DefaultMaxFields)
			for {
				if _, err := rr.Read(); err != nil {
					break
				}
			}
		}
	})
	b.Run("reader=encoding-csv", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			cr := csv.NewReader(bytes.NewReader(data))
			cr.LazyQuotes = true
			cr.FieldsPerRecord = -1
			for {
				if _, err := cr.Read(); err != nil {
					break
				}
			}
		}
	})
}

// BenchmarkRecordReaderOversized reads a file whose one record is a 16 MiB
// quoted cell: the bounded reader skips it, encoding/csv buffers it (see
// B/op).
func BenchmarkRecordReaderOversized(b *testing.B) {
	const cell = 16 << 20
	input := func() io.Reader {
		return io.MultiReader(strings.NewReader("a,b\n1,\""), &repeatReader{b: []byte("18 rue des avions, "), n: cell}, strings.NewReader("\"\n2,3\n"))
	}
	b.Run("reader=bounded", func(b *testing.B) {
		b.SetBytes(cell)
		b.ReportAllocs()
		for b.Loop() {
			rr := newRecordReader(input(), ',', DefaultMaxRecordBytes, DefaultMaxFields)
			for n := 0; n < 3; n++ {
				if _, err := rr.Read(); err != nil && !errors.As(err, new(*RecordError)) {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("reader=encoding-csv", func(b *testing.B) {
		b.SetBytes(cell)
		b.ReportAllocs()
		for b.Loop() {
			cr := csv.NewReader(input())
			cr.LazyQuotes = true
			cr.FieldsPerRecord = -1
			for n := 0; n < 3; n++ {
				if _, err := cr.Read(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
