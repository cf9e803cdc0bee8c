package batch

import (
	"bufio"
	"bytes"
	"encoding/csv"
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
// where nothing can be sniffed (addok-csv's rule, SPEC 5.1): the first one
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
	cr        *csv.Reader
}

// NewReader detects the encoding and the delimiter of r and reads the
// header row. Problems are returned as *Error (the HTTP layer's 400s).
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	if opts.Quote != "" && opts.Quote != `"` {
		return nil, &Error{Kind: ErrOption, Title: "Invalid parameter", Detail: fmt.Sprintf("unsupported quote character %q: only \" is supported", opts.Quote)}
	}
	br := bufio.NewReaderSize(r, sampleSize)
	raw, err := br.Peek(sampleSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	complete := err != nil
	if len(raw) == 0 {
		return nil, emptyFile()
	}
	var cs charset
	if opts.Encoding != "" {
		cs, err = resolveCharset(opts.Encoding)
		if err != nil {
			return nil, err
		}
		if cs.isUTF8() {
			body := bytes.TrimPrefix(raw, utf8BOM)
			if at, bad := invalidUTF8(body, complete); bad {
				return nil, &Error{Kind: ErrEncoding, Title: fmt.Sprintf("Unable to decode with encoding %q", opts.Encoding), Detail: utf8Error(body, at)}
			}
		}
	} else {
		cs = detectCharset(raw, complete)
	}
	if bytes.HasPrefix(raw, utf8BOM) && cs.isUTF8() {
		// Always dropped, even for "utf-8": a BOM glued to the first column
		// name would only make that column impossible to ask for.
		br.Discard(len(utf8BOM))
	}
	var text io.Reader = br
	if !cs.isUTF8() {
		text = transform.NewReader(br, cs.enc.NewDecoder())
	}
	dr := bufio.NewReaderSize(text, sampleSize)
	sample, err := dr.Peek(sampleSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	complete = err != nil
	if len(bytes.TrimSpace(sample)) == 0 {
		return nil, emptyFile()
	}

	rd := &Reader{cs: cs}
	if opts.Delimiter != "" {
		d, err := parseDelimiter(opts.Delimiter)
		if err != nil {
			return nil, err
		}
		rd.delim = d
		if unicode.IsLetter(d) || unicode.IsDigit(d) {
			rd.oneColumn = true // addok-csv's reading of an alphanumeric "delimiter"
		}
	} else if d, ok := sniffDelimiter(sample, complete); ok {
		rd.delim = d
	} else {
		rd.oneColumn = true
	}
	readDelim := rd.delim
	if rd.oneColumn {
		rd.delim = 0
		for _, c := range oneColumnDelimiters {
			if !bytes.ContainsRune(sample, c) {
				rd.delim = c
				break
			}
		}
		if rd.delim == 0 {
			msg := `Unable to detect delimiter, please add one with "delimiter" parameter.`
			return nil, &Error{Kind: ErrDelimiter, Title: msg, Detail: msg}
		}
		readDelim = unitSeparator
	}
	rd.cr = csv.NewReader(dr)
	rd.cr.Comma = readDelim
	rd.cr.LazyQuotes = true
	rd.cr.FieldsPerRecord = -1
	header, err := rd.cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, emptyFile()
		}
		return nil, err
	}
	rd.header = header
	return rd, nil
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
func sniffDelimiter(sample []byte, complete bool) (rune, bool) {
	var best rune
	bestScore, bestFields := 0.0, 0
	for _, c := range []rune{',', ';', '\t', '|'} {
		if !bytes.ContainsRune(sample, c) {
			continue
		}
		cr := csv.NewReader(bytes.NewReader(sample))
		cr.Comma = c
		cr.LazyQuotes = true
		cr.FieldsPerRecord = -1
		var counts []int
		for len(counts) < 50 {
			rec, err := cr.Read()
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
// slices: callers may keep them.
func (r *Reader) Read() ([]string, error) {
	return r.cr.Read()
}
