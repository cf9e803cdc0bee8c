// Copyright 2011 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.
//
// The parsing rules below are those of Go's encoding/csv Reader (the
// readLine and readRecord functions of encoding/csv/reader.go), rewritten
// as a streaming state machine for balise so that a record can be skipped
// without being buffered.

package batch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// Default caps on one record (Options.MaxRecordBytes, Options.MaxFields).
// An address row is 100 to 300 bytes and a dozen fields: the caps leave a
// wide margin while bounding the memory a hostile row can take.
const (
	DefaultMaxRecordBytes = 64 << 10
	DefaultMaxFields      = 1000
)

// RecordProblem tells why a record was skipped.
type RecordProblem uint8

// Record problems.
const (
	RecordTooLarge      RecordProblem = iota + 1 // more bytes than Options.MaxRecordBytes
	RecordTooManyFields                          // more fields than Options.MaxFields
)

// RecordError reports a record that exceeds a cap: it was skipped up to its
// end without being kept, and reading goes on with the next record. It
// never holds the record's content.
type RecordError struct {
	Line    int // line of the input where the record starts, from 1
	Problem RecordProblem
	Limit   int // the cap exceeded: bytes or fields
}

func (e *RecordError) Error() string {
	if e.Problem == RecordTooManyFields {
		return fmt.Sprintf("line %d: record with more than %d fields", e.Line, e.Limit)
	}
	return fmt.Sprintf("line %d: record larger than %s", e.Line, sizeText(e.Limit))
}

// sizeText writes a byte count the way limits are usually given.
func sizeText(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " bytes"
}

// recordReader reads CSV records exactly as encoding/csv does with
// LazyQuotes set, FieldsPerRecord = -1 and no comment character ("\r\n"
// read as "\n", a final "\r" dropped, blank lines skipped), but with caps:
// a record longer than maxBytes (its bytes from its first one to its line
// break, quotes and delimiters included) or with more than maxFields fields
// is scanned to its end without being kept, so that memory depends on the
// caps, never on the input, and the next record is read as usual.
//
// encoding/csv cannot do that: it buffers a whole line, then a whole
// record, before anything can be decided.
type recordReader struct {
	src  io.Reader
	buf  []byte // window on the input: buf[r:w] is not read yet
	r, w int
	base int64 // input offset of buf[0]
	eof  bool  // src is exhausted: buf[r:w] is the rest of the input
	err  error // sticky read error (not io.EOF)

	comma    []byte // the delimiter's UTF-8 encoding
	maxBytes int
	maxField int
	line     int // line of buf[r]: line breaks consumed, plus one
	recLine  int // line where the last record read starts

	// nl caches the input offset of the next '\n' (-1: none up to
	// nlScanned), so that a line of many fields is searched once.
	nl        int64
	nlScanned int64

	// The record being read.
	start   int64 // its input offset
	content []byte
	ends    []int // content[ends[i-1]:ends[i]] is field i
	problem RecordProblem

	// slab is where records' field slices are cut from: one allocation
	// for many records instead of one each.
	slab []string
}

// slabSize is the number of fields a slab holds: a few hundred records,
// which stay in memory together as long as one of them does (they are
// geocoded in chunks of about that many rows).
const slabSize = 1024

var quote = []byte{'"'}

// readSize is how much fill asks for at once: what is read is parsed while
// it is still in the processor's first-level cache.
const readSize = 4 << 10

func newRecordReader(src io.Reader, comma rune, maxBytes, maxFields int) *recordReader {
	return newRecordReaderSize(src, comma, maxBytes, maxFields, sampleSize)
}

// newRecordReaderSize reads with a window of the given size (at least 8
// bytes: a delimiter and what follows a quote must fit).
func newRecordReaderSize(src io.Reader, comma rune, maxBytes, maxFields, window int) *recordReader {
	rr := &recordReader{src: src, buf: make([]byte, max(window, 8)), maxBytes: maxBytes, maxField: maxFields, line: 1, nl: -1}
	rr.comma = utf8.AppendRune(nil, comma)
	return rr
}

// newSliceRecordReader reads records from b, which it never modifies.
func newSliceRecordReader(b []byte, comma rune, maxBytes, maxFields int) *recordReader {
	rr := &recordReader{buf: b, w: len(b), eof: true, maxBytes: maxBytes, maxField: maxFields, line: 1, nl: -1}
	rr.comma = utf8.AppendRune(nil, comma)
	return rr
}

// done tells that nothing more will come into the window.
func (rr *recordReader) done() bool { return rr.eof || rr.err != nil }

// fill reads more input into the window, moving the unread bytes to its
// front; false when nothing was added (end of input or read error).
func (rr *recordReader) fill() bool {
	if rr.done() {
		return false
	}
	if rr.r > 0 {
		rr.w = copy(rr.buf, rr.buf[rr.r:rr.w])
		rr.base += int64(rr.r)
		rr.r = 0
	}
	for range 100 { // as bufio: a reader that keeps returning nothing is broken
		n, err := rr.src.Read(rr.buf[rr.w:min(len(rr.buf), rr.w+readSize)])
		rr.w += n
		if err != nil {
			if errors.Is(err, io.EOF) {
				rr.eof = true
			} else {
				rr.err = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	rr.err = io.ErrNoProgress
	return false
}

// peek returns up to n unread bytes, fewer only at the end of the input.
func (rr *recordReader) peek(n int) []byte {
	for rr.w-rr.r < n && rr.fill() {
	}
	return rr.buf[rr.r:min(rr.w, rr.r+n)]
}

// sample returns the first n bytes of the input (fewer when it is
// shorter), for encoding and delimiter detection; it must be called before
// any record is read. complete tells whether that is the whole input.
func (rr *recordReader) sample(n int) (b []byte, complete bool) {
	n = min(n, len(rr.buf))
	for rr.w < n && rr.fill() {
	}
	return rr.buf[:min(rr.w, n)], rr.w < n || rr.done() && rr.w == n
}

func (rr *recordReader) offset(i int) int64 { return rr.base + int64(i) }

// lineEnd returns the window index of the next '\n', or -1.
func (rr *recordReader) lineEnd() int {
	if rr.nl >= rr.base+int64(rr.r) {
		return int(rr.nl - rr.base)
	}
	return rr.findLineEnd()
}

func (rr *recordReader) findLineEnd() int {
	from := max(rr.offset(rr.r), rr.nlScanned)
	i := bytes.IndexByte(rr.buf[from-rr.base:rr.w], '\n')
	if i < 0 {
		rr.nl, rr.nlScanned = -1, rr.offset(rr.w)
		return -1
	}
	rr.nl = from + int64(i)
	return int(rr.nl - rr.base)
}

// Read returns the next record, a *RecordError for a record over a cap
// (reading can go on), io.EOF at the end, or a read error.
func (rr *recordReader) Read() ([]string, error) {
	if !rr.skipBlankLines() {
		if rr.err != nil {
			return nil, rr.err
		}
		return nil, io.EOF
	}
	rr.start = rr.offset(rr.r)
	line := rr.line
	rr.recLine = line
	rr.content, rr.ends, rr.problem = rr.content[:0], rr.ends[:0], 0
	for more := true; more; {
		quoted := rr.r < rr.w && rr.buf[rr.r] == '"'
		if rr.r == rr.w {
			b := rr.peek(1)
			quoted = len(b) > 0 && b[0] == '"'
		}
		if quoted {
			rr.r++
			more = rr.quotedField()
		} else {
			more = rr.unquotedField()
		}
	}
	if rr.err != nil {
		return nil, rr.err
	}
	switch rr.problem {
	case RecordTooLarge:
		return nil, &RecordError{Line: line, Problem: RecordTooLarge, Limit: rr.maxBytes}
	case RecordTooManyFields:
		return nil, &RecordError{Line: line, Problem: RecordTooManyFields, Limit: rr.maxField}
	}
	str := string(rr.content) // one allocation for all the fields, as encoding/csv
	n := len(rr.ends)
	if n > len(rr.slab) {
		rr.slab = make([]string, max(n, slabSize))
	}
	rec := rr.slab[:n:n] // capped: appending to it never reaches the next record
	rr.slab = rr.slab[n:]
	prev := 0
	for i, end := range rr.ends {
		rec[i] = str[prev:end]
		prev = end
	}
	return rec, nil
}

// skipBlankLines consumes empty lines ("\n", "\r\n", a final "\r");
// false at the end of the input.
func (rr *recordReader) skipBlankLines() bool {
	if rr.r < rr.w && rr.buf[rr.r] != '\n' && rr.buf[rr.r] != '\r' {
		return true
	}
	for {
		b := rr.peek(2)
		switch {
		case len(b) == 0:
			return false
		case b[0] == '\n':
			rr.r++
			rr.line++
		case b[0] == '\r' && len(b) == 1: // a final "\r" is dropped
			rr.r++
		case b[0] == '\r' && b[1] == '\n':
			rr.r += 2
			rr.line++
		default:
			return true
		}
	}
}

// keep adds b, which ends at input offset end, to the record's content,
// unless the record is over a cap (then it is only scanned).
func (rr *recordReader) keep(b []byte, end int64) {
	if rr.problem != 0 {
		return
	}
	if end-rr.start > int64(rr.maxBytes) {
		rr.problem = RecordTooLarge
		return
	}
	rr.content = append(rr.content, b...)
}

// endField closes the current field, whose raw text ends at offset end.
func (rr *recordReader) endField(end int64) {
	if rr.problem != 0 {
		return
	}
	switch {
	case end-rr.start > int64(rr.maxBytes):
		rr.problem = RecordTooLarge
	case len(rr.ends) == rr.maxField:
		rr.problem = RecordTooManyFields
	default:
		rr.ends = append(rr.ends, len(rr.content))
	}
}

// unquotedField reads a field that does not start with a quote: up to the
// delimiter or the line break, quotes included as they are. It returns
// whether another field follows in the record.
func (rr *recordReader) unquotedField() (more bool) {
	if len(rr.comma) == 1 && rr.problem == 0 {
		if nl := rr.lineEnd(); nl >= 0 && rr.offset(nl)-rr.start <= int64(rr.maxBytes) {
			return rr.unquotedFieldsInLine(nl)
		}
	}
	for {
		if rr.r == rr.w && !rr.fill() {
			rr.endField(rr.offset(rr.r))
			return false
		}
		nl := rr.lineEnd()
		stop := rr.w
		if nl >= 0 {
			stop = nl
		}
		seg := rr.buf[rr.r:stop]
		if i := rr.indexComma(seg); i >= 0 {
			rr.keep(seg[:i], rr.offset(rr.r+i))
			rr.endField(rr.offset(rr.r + i))
			rr.r += i + len(rr.comma)
			if rr.r < rr.w && rr.buf[rr.r] != '"' {
				continue // the next field is unquoted too
			}
			return true
		}
		if nl >= 0 || rr.done() {
			end := stop
			if end > rr.r && rr.buf[end-1] == '\r' {
				end-- // "\r\n" is a line break, and a final "\r" is dropped
			}
			rr.keep(rr.buf[rr.r:end], rr.offset(end))
			rr.endField(rr.offset(end))
			rr.r = stop
			if nl >= 0 {
				rr.r++
				rr.line++
			}
			return false
		}
		// The field goes on past the window. Its last bytes may be the
		// start of a delimiter or the "\r" of a "\r\n": they wait for more.
		hold := len(rr.comma) - 1
		if rr.buf[rr.w-1] == '\r' {
			hold = max(hold, 1)
		}
		if n := rr.w - rr.r - hold; n > 0 {
			rr.keep(rr.buf[rr.r:rr.r+n], rr.offset(rr.r+n))
			rr.r += n
		}
		rr.fill()
	}
}

// unquotedFieldsInLine is unquotedField's fast path, for the common case
// of a line in the window and within the size cap, with a one-byte
// delimiter: it reads unquoted fields up to the line end nl, or up to a
// quoted one, in a tight loop. It returns whether another field follows.
func (rr *recordReader) unquotedFieldsInLine(nl int) (more bool) {
	buf, comma := rr.buf[:nl], rr.comma[0]
	r, content, ends := rr.r, rr.content, rr.ends
	for {
		i := bytes.IndexByte(buf[r:], comma)
		end := r + i
		if i < 0 {
			end = nl
			if end > r && buf[end-1] == '\r' {
				end-- // "\r\n"
			}
		}
		content = append(content, buf[r:end]...)
		if len(ends) == rr.maxField {
			rr.problem = RecordTooManyFields
			rr.r, rr.content, rr.ends = end, content, ends // the general path scans the rest
			return true
		}
		ends = append(ends, len(content))
		if i < 0 {
			rr.r, rr.content, rr.ends = nl+1, content, ends
			rr.line++
			return false
		}
		r = end + 1
		if r < nl && buf[r] == '"' {
			rr.r, rr.content, rr.ends = r, content, ends
			return true
		}
	}
}

func (rr *recordReader) indexComma(b []byte) int {
	if len(rr.comma) == 1 {
		return bytes.IndexByte(b, rr.comma[0])
	}
	return bytes.Index(b, rr.comma)
}

// quotedField reads a field after its opening quote: up to a quote
// followed by the delimiter, a line break or the end of the input; `""`
// is a quote, and any other quote is kept as it is (encoding/csv's
// LazyQuotes). It returns whether another field follows in the record.
func (rr *recordReader) quotedField() (more bool) {
	if rr.problem == 0 {
		if nl := rr.lineEnd(); nl >= 0 && rr.offset(nl)-rr.start <= int64(rr.maxBytes) {
			if more, ok := rr.quotedFieldInLine(nl); ok {
				return more
			}
		}
	}
	for {
		if rr.r == rr.w && !rr.fill() {
			rr.endField(rr.offset(rr.r)) // unterminated: the field ends with the input
			return false
		}
		win := rr.buf[rr.r:rr.w]
		q := bytes.IndexByte(win, '"')
		if q < 0 {
			n := len(win)
			if win[n-1] == '\r' {
				n-- // the "\r" of a "\r\n" that continues in the next window, or a final "\r"
			}
			rr.keepQuoted(win[:n], rr.offset(rr.r+n))
			rr.r += n
			if rr.done() { // unterminated: the field ends with the input
				rr.endField(rr.offset(rr.r))
				rr.r = rr.w
				return false
			}
			if n == 0 {
				rr.fill()
			}
			continue
		}
		rr.keepQuoted(win[:q], rr.offset(rr.r+q))
		rr.r += q + 1
		next := rr.peek(max(2, len(rr.comma)))
		switch {
		case len(next) == 0:
			rr.endField(rr.offset(rr.r))
			return false
		case next[0] == '"': // `""`
			rr.keep(next[:1], rr.offset(rr.r+1))
			rr.r++
		case bytes.HasPrefix(next, rr.comma):
			rr.endField(rr.offset(rr.r))
			rr.r += len(rr.comma)
			return true
		case next[0] == '\n':
			rr.endField(rr.offset(rr.r))
			rr.r++
			rr.line++
			return false
		case next[0] == '\r' && len(next) == 1: // a final "\r"
			rr.endField(rr.offset(rr.r))
			rr.r++
			return false
		case next[0] == '\r' && next[1] == '\n':
			rr.endField(rr.offset(rr.r))
			rr.r += 2
			rr.line++
			return false
		default: // a lone quote inside the field is kept
			rr.keep(quote, rr.offset(rr.r))
		}
	}
}

// quotedFieldInLine is quotedField's fast path, for a field that ends on
// its line, the line being in the window and within the size cap: there,
// no line break can be inside the field, and every "\r" is kept as it
// is. ok is false when the field goes on past the line: rr.r is then
// where the general path takes over.
func (rr *recordReader) quotedFieldInLine(nl int) (more, ok bool) {
	buf, r, content := rr.buf[:nl], rr.r, rr.content
	for {
		q := bytes.IndexByte(buf[r:], '"')
		if q < 0 {
			rr.r, rr.content = r, content
			return false, false
		}
		content = append(content, buf[r:r+q]...)
		r += q + 1
		switch {
		case r == nl || r+1 == nl && buf[r] == '\r': // `"\n`, `"\r\n`
			rr.content = content
			rr.endField(rr.offset(r))
			rr.r = nl + 1
			rr.line++
			return false, true
		case buf[r] == '"': // `""`
			content = append(content, '"')
			r++
		case bytes.HasPrefix(buf[r:], rr.comma):
			rr.content = content
			rr.endField(rr.offset(r))
			rr.r = r + len(rr.comma)
			return true, true
		default: // a lone quote inside the field is kept
			content = append(content, '"')
		}
	}
}

// keepQuoted keeps the inside of a quoted field, with its line breaks
// counted and each "\r\n" read as "\n".
func (rr *recordReader) keepQuoted(b []byte, end int64) {
	if rr.problem == 0 && end-rr.start > int64(rr.maxBytes) {
		rr.problem = RecordTooLarge
	}
	if len(b) < 64 && !hasLineBreak(b) { // most cells: one short scan
		if rr.problem == 0 {
			rr.content = append(rr.content, b...)
		}
		return
	}
	rr.line += bytes.Count(b, []byte{'\n'})
	if rr.problem != 0 {
		return
	}
	for {
		i := bytes.IndexByte(b, '\r')
		if i < 0 || i+1 == len(b) {
			rr.content = append(rr.content, b...)
			return
		}
		if b[i+1] == '\n' {
			rr.content = append(rr.content, b[:i]...)
		} else {
			rr.content = append(rr.content, b[:i+1]...)
		}
		b = b[i+1:]
	}
}

func hasLineBreak(b []byte) bool {
	for _, c := range b {
		if c == '\n' || c == '\r' {
			return true
		}
	}
	return false
}
