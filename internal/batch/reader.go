package batch

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/transform"
)

// sampleSize is how much of the input is looked at to detect the encoding
// and the delimiter (addok-csv sniffs 4 KiB; more makes the guess sturdier
// on files whose first lines are unusual).
const sampleSize = 64 << 10

// oneColumnDelimiters are tried, in order, for a file with a single column,
// where nothing can be sniffed (addok-csv's rule): the first one
// absent from the file becomes the output delimiter.
var oneColumnDelimiters = []rune{';', ',', '\t', '|', '~', '^', '°'}

// unitSeparator reads one-column files: a control character no text file
// holds, so a row containing the output delimiter is not split.
const unitSeparator = '\x1f'

// Reader reads a CSV input as a stream of records.
type Reader struct {
	cs        charset
	delim     rune // the file's delimiter, reused for the output
	oneColumn bool
	header    []string
	rr        *recordReader
}

// NewReader detects the encoding and the delimiter of r and reads the
// header row. Problems are returned as *Error (the HTTP layer's 400s).
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	if opts.Quote != "" && opts.Quote != `"` {
		return nil, &Error{Kind: ErrOption, Title: "Invalid parameter", Detail: fmt.Sprintf("unsupported quote character %q: only \" is supported", opts.Quote)}
	}
	opts.normaliseCaps()
	cs, text, err := decodeInput(r, opts.Encoding)
	if err != nil {
		return nil, err
	}
	rr := newRecordReader(text, ',', opts.MaxRecordBytes, opts.MaxFields)
	sample, complete := rr.sample(sampleSize)
	if rr.err != nil {
		return nil, rr.err
	}
	if len(bytes.TrimSpace(sample)) == 0 {
		return nil, emptyFile()
	}
	rd := &Reader{cs: cs, rr: rr}
	readDelim, err := rd.chooseDelimiter(sample, complete, opts)
	if err != nil {
		return nil, err
	}
	rr.comma = utf8.AppendRune(rr.comma[:0], readDelim)
	header, err := rr.Read()
	if err != nil {
		var re *RecordError
		switch {
		case errors.Is(err, io.EOF):
			return nil, emptyFile()
		case errors.As(err, &re):
			return nil, &Error{Kind: ErrRecord, Title: "Invalid header", Detail: "invalid header row, " + re.Error()}
		}
		return nil, err
	}
	rd.header = header
	return rd, nil
}

// decodeInput resolves the encoding (given or detected from the first
// bytes) and returns the input as UTF-8 text, byte order marks dropped.
func decodeInput(r io.Reader, encoding string) (charset, io.Reader, error) {
	br := bufio.NewReaderSize(r, sampleSize)
	raw, err := br.Peek(sampleSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return charset{}, nil, err
	}
	complete := err != nil
	if len(raw) == 0 {
		return charset{}, nil, emptyFile()
	}
	var cs charset
	if encoding != "" {
		cs, err = resolveCharset(encoding)
		if err != nil {
			return charset{}, nil, err
		}
		if cs.isUTF8() {
			body := bytes.TrimPrefix(raw, utf8BOM)
			if at, bad := invalidUTF8(body, complete); bad {
				return charset{}, nil, &Error{Kind: ErrEncoding, Title: fmt.Sprintf("Unable to decode with encoding %q", encoding), Detail: utf8Error(body, at)}
			}
		}
		cs = cs.withByteOrderOf(raw)
	} else {
		cs = detectCharset(raw, complete)
	}
	switch {
	case cs.isUTF8() && bytes.HasPrefix(raw, utf8BOM):
		// Always dropped, even for "utf-8": a BOM glued to the first column
		// name would only make that column impossible to ask for.
		br.Discard(len(utf8BOM))
	case cs.order != notUTF16 && bytes.HasPrefix(raw, cs.byteOrderMark()):
		br.Discard(2)
	}
	if cs.isUTF8() {
		return cs, br, nil
	}
	return cs, transform.NewReader(br, cs.enc.NewDecoder()), nil
}

// chooseDelimiter sets the output delimiter and returns the one records
// are read with (they differ in one-column mode).
func (rd *Reader) chooseDelimiter(sample []byte, complete bool, opts Options) (rune, error) {
	if opts.Delimiter != "" {
		d, err := parseDelimiter(opts.Delimiter)
		if err != nil {
			return 0, err
		}
		rd.delim = d
		if unicode.IsLetter(d) || unicode.IsDigit(d) {
			rd.oneColumn = true // addok-csv's reading of an alphanumeric "delimiter"
		}
	} else if d, ok := sniffDelimiter(sample, complete, opts.MaxRecordBytes, opts.MaxFields); ok {
		rd.delim = d
	} else {
		rd.oneColumn = true
	}
	if !rd.oneColumn {
		return rd.delim, nil
	}
	rd.delim = 0
	for _, c := range oneColumnDelimiters {
		if !bytes.ContainsRune(sample, c) {
			rd.delim = c
			break
		}
	}
	if rd.delim == 0 {
		msg := `Unable to detect delimiter, please add one with "delimiter" parameter.`
		return 0, &Error{Kind: ErrDelimiter, Title: msg, Detail: msg}
	}
	return unitSeparator, nil
}

func emptyFile() error { return &Error{Kind: ErrEmpty, Title: "Empty file", Detail: "Empty file"} }

// parseDelimiter accepts one character, or the spellings of a tab that
// survive forms and shells ("\t", "tab").
func parseDelimiter(s string) (rune, error) {
	switch s {
	case `\t`, "tab", "TAB":
		return '\t', nil
	}
	r, n := utf8.DecodeRuneInString(s)
	if n != len(s) || r == 0 || r == utf8.RuneError || r == '"' || r == '\r' || r == '\n' {
		return 0, &Error{Kind: ErrOption, Title: "Invalid parameter", Detail: fmt.Sprintf("invalid delimiter %q: one character other than a quote or a newline is expected", s)}
	}
	return r, nil
}

// sniffDelimiter picks, among the usual delimiters, the one that splits the
// header into several fields and gives the most rows that many fields.
// Python's csv.Sniffer (addok-csv) is not reproduced: it is easily fooled
// by apostrophes (Addok issue #677).
func sniffDelimiter(sample []byte, complete bool, maxBytes, maxFields int) (rune, bool) {
	var best rune
	bestScore, bestFields := 0.0, 0
	for _, c := range []rune{',', ';', '\t', '|'} {
		if !bytes.ContainsRune(sample, c) {
			continue
		}
		rr := newSliceRecordReader(sample, c, maxBytes, maxFields)
		var counts []int
		for len(counts) < 50 {
			rec, err := rr.Read()
			var re *RecordError
			if errors.As(err, &re) {
				counts = append(counts, -1) // matches no header
				continue
			}
			if err != nil {
				break
			}
			counts = append(counts, len(rec))
		}
		if !complete && len(counts) > 1 {
			counts = counts[:len(counts)-1] // may be cut by the sample's end
		}
		if len(counts) == 0 || counts[0] < 2 {
			continue
		}
		match := 0
		for _, n := range counts {
			if n == counts[0] {
				match++
			}
		}
		score := float64(match) / float64(len(counts))
		if score > bestScore || score == bestScore && counts[0] > bestFields {
			best, bestScore, bestFields = c, score, counts[0]
		}
	}
	return best, bestScore > 0
}

// Header returns the header row.
func (r *Reader) Header() []string { return r.header }

// Read returns the next record (io.EOF at the end). Records are fresh
// slices: callers may keep them. A record over a cap (Options.MaxRecordBytes,
// Options.MaxFields) gives a *RecordError, after which reading goes on.
func (r *Reader) Read() ([]string, error) {
	return r.rr.Read()
}
