package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// mixedInput has blank, whitespace-only, CRLF and malformed lines.
const mixedInput = "{\"id\":\"a\"}\n" + // 1
	"\n" + // 2 blank
	"{\"id\":\"b\",\"name\":\"B\"}\r\n" + // 3 CRLF
	"not json\n" + // 4
	"   \t \n" + // 5 blank
	"{\"id\":\"c\",\"housenumbers\":[]}\n" + // 6 bad housenumbers
	"{\"id\":\"d\"}\n" + // 7
	"[1]\n" + // 8
	"{\"id\":\"e\"}" // 9, no final newline

func TestNDJSONLineNumbers(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprint("gzip=", compress), func(t *testing.T) {
			data := []byte(mixedInput)
			if compress {
				data = gz(t, data)
			}
			path := writeTemp(t, "in.txt", data) // no .gz extension: detected by magic bytes
			var errs []string
			r, err := Open(path, Options{OnError: func(e LineError) { errs = append(errs, e.Error()) }})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var got []string
			for _, d := range readAllDocs(t, r) {
				id, _ := d.Get("id")
				got = append(got, fmt.Sprintf("%d:%s", d.Line, id.Str))
			}
			if s := strings.Join(got, " "); s != "1:a 3:b 7:d 9:e" {
				t.Errorf("docs %s", s)
			}
			want := []string{
				path + ":4: invalid JSON: unexpected character 'n' at offset 0",
				path + ":6: housenumbers must be an object, not a list at offset 25",
				path + ":8: not a JSON object: the line holds a list",
			}
			if strings.Join(errs, "\n") != strings.Join(want, "\n") {
				t.Errorf("errors:\n%s\nwant\n%s", strings.Join(errs, "\n"), strings.Join(want, "\n"))
			}
			done, total := r.Progress()
			if done != total || total != int64(len(data)) {
				t.Errorf("progress %d/%d, size %d", done, total, len(data))
			}
		})
	}
}

func TestNDJSONStrict(t *testing.T) {
	path := writeTemp(t, "in.ndjson", []byte(mixedInput))
	r, err := Open(path, Options{Strict: true, OnError: func(LineError) { t.Error("OnError called in strict mode") }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, want := range []string{"a", "b"} {
		d, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if id, _ := d.Get("id"); id.Str != want {
			t.Errorf("id %s", id.Str)
		}
	}
	_, err = r.Next()
	var le *LineError
	if !errors.As(err, &le) || le.Line != 4 || le.File != path {
		t.Fatalf("err = %v", err)
	}
	if _, err := r.Next(); !errors.As(err, &le) {
		t.Errorf("error is not sticky: %v", err)
	}
}

func TestOpenVariants(t *testing.T) {
	t.Run("BOM", func(t *testing.T) {
		r, err := Open(writeTemp(t, "a", []byte("\ufeff{\"a\":1}\n")), Options{Strict: true})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if docs := readAllDocs(t, r); len(docs) != 1 {
			t.Errorf("%d docs", len(docs))
		}
	})
	t.Run("empty", func(t *testing.T) {
		for _, content := range []string{"", "\n\n  \n"} {
			r, err := Open(writeTemp(t, "a", []byte(content)), Options{Strict: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Next(); !errors.Is(err, io.EOF) {
				t.Errorf("err = %v", err)
			}
			r.Close()
		}
	})
	t.Run("unknown", func(t *testing.T) {
		p := writeTemp(t, "a.csv", []byte("id,name\n1,x\n"))
		if _, err := Open(p, Options{}); err == nil || !strings.Contains(err.Error(), "unknown input format") {
			t.Errorf("err = %v", err)
		}
		if f, err := Detect(p); err != nil || f != FormatUnknown {
			t.Errorf("Detect = %v %v", f, err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		if _, err := Open("/nonexistent/file", Options{}); err == nil {
			t.Error("no error")
		}
	})
	t.Run("corrupt gzip", func(t *testing.T) {
		data := gz(t, bytes.Repeat([]byte("{\"a\":1}\n"), 10000))
		data = data[:len(data)/2]
		r, err := Open(writeTemp(t, "a.gz", data), Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var err2 error
		for err2 == nil {
			_, err2 = r.Next()
		}
		if errors.Is(err2, io.EOF) {
			t.Error("truncated gzip read without error")
		}
	})
	t.Run("detect", func(t *testing.T) {
		for content, want := range map[string]Format{
			"{\"a\":1}":              FormatNDJSON,
			"  \n {\"a\":1}":         FormatNDJSON,
			banHeader:                FormatBANCSV,
			"id;id_fantoir;numero\n": FormatUnknown,
			"[1]":                    FormatUnknown,
		} {
			if f, err := Detect(writeTemp(t, "x", gz(t, []byte(content)))); err != nil || f != want {
				t.Errorf("Detect(%q) = %v, %v; want %v", content, f, err, want)
			}
		}
	})
}

func TestLinesBatches(t *testing.T) {
	var in bytes.Buffer
	var want []string
	for i := 1; i <= 500; i++ {
		switch {
		case i%7 == 0:
			in.WriteString("\n") // blank
		case i%50 == 0:
			s := fmt.Sprintf(`{"n":%d,"long":"%s"}`, i, strings.Repeat("x", 3000))
			in.WriteString(s + "\r\n")
			want = append(want, fmt.Sprintf("%d:%s", i, s))
		default:
			s := fmt.Sprintf(`{"n":%d}`, i)
			in.WriteString(s + "\n")
			want = append(want, fmt.Sprintf("%d:%s", i, s))
		}
	}
	in.WriteString(`{"last":true}`) // 501, unterminated
	want = append(want, `501:{"last":true}`)
	for _, size := range []int{0, 1, 100, 1000} {
		l, err := NewLines(bytes.NewReader(gz(t, in.Bytes())), 0)
		if err != nil {
			t.Fatal(err)
		}
		l.BatchBytes = size
		var got []string
		var batches []*Batch
		each(t, l.Next, func(b *Batch) {
			if len(b.Lines) == 0 || len(b.Lines) != len(b.LineNos) {
				t.Fatalf("bad batch %d/%d", len(b.Lines), len(b.LineNos))
			}
			batches = append(batches, b)
			for i := range b.Lines {
				got = append(got, fmt.Sprintf("%d:%s", b.LineNos[i], b.Lines[i]))
			}
		})
		// batches stay valid after later Next calls
		var again []string
		for _, b := range batches {
			for i := range b.Lines {
				again = append(again, fmt.Sprintf("%d:%s", b.LineNos[i], b.Lines[i]))
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") || strings.Join(again, "\n") != strings.Join(want, "\n") {
			t.Errorf("BatchBytes=%d: lines differ (%d vs %d)", size, len(got), len(want))
		}
		if size == 100 && len(batches) < 10 {
			t.Errorf("BatchBytes=100: only %d batches", len(batches))
		}
		if _, err := l.Next(); !errors.Is(err, io.EOF) {
			t.Errorf("after EOF: %v", err)
		}
		l.Close()
	}
}

func TestLineErrorFormat(t *testing.T) {
	e := &LineError{File: "x.ndjson", Line: 12, Err: errors.New("boom")}
	if e.Error() != "x.ndjson:12: boom" || !errors.Is(e, e.Err) {
		t.Errorf("%q", e.Error())
	}
}

func TestSniffDoesNotWaitForMoreThanNeeded(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte("  {\"a\":1}\n")) // then the writer stalls
	done := make(chan Format, 1)
	go func() {
		in, err := newInput(pr, "pipe", 0, nil)
		if err != nil {
			done <- FormatUnknown
			return
		}
		done <- in.Format()
	}()
	select {
	case f := <-done:
		if f != FormatNDJSON {
			t.Errorf("format %v", f)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("sniff blocked on a stalled pipe")
	}
}
