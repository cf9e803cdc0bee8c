package batch

import (
	"bufio"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/transform"
)

// Writer writes CSV like Python's csv module with Addok's dialect: minimal
// quoting (fields holding the delimiter, a quote or a line break), quotes
// doubled, "\r\n" after every row and inside multi-line fields (addok-csv
// turns every line break into "\r\n" before parsing).
type Writer struct {
	w      *bufio.Writer
	closer io.Closer // the encoder, when there is one
	// dst is the destination when it can push its own buffers on (an HTTP
	// answer: through the compressor to the network); pending is set while
	// rows were written since it last did.
	dst     interface{ Flush() error }
	pending bool
	delim   string
	d       rune
	// escapeFormulas prefixes with a quote the cells a spreadsheet would
	// take for a formula (Options.EscapeFormulas).
	escapeFormulas bool
}

// newWriter writes to w in charset cs, with a BOM first when bom is set.
func newWriter(w io.Writer, delim rune, cs charset, bom, escapeFormulas bool) (*Writer, error) {
	out := &Writer{delim: string(delim), d: delim, escapeFormulas: escapeFormulas}
	out.dst, _ = w.(interface{ Flush() error })
	if !cs.isUTF8() {
		tw := transform.NewWriter(w, cs.encoder(bom))
		out.closer = tw
		w = tw
	}
	out.w = bufio.NewWriterSize(w, 64<<10)
	if bom && cs.isUTF8() {
		if _, err := out.w.Write(utf8BOM); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// WriteRow writes one record.
func (w *Writer) WriteRow(fields []string) error {
	w.pending = true
	for i, f := range fields {
		if i > 0 {
			w.w.WriteString(w.delim)
		}
		w.writeField(f)
	}
	_, err := w.w.WriteString("\r\n")
	return err
}

func (w *Writer) needsQuotes(f string) bool {
	if w.d < utf8.RuneSelf {
		for i := 0; i < len(f); i++ {
			switch c := f[i]; c {
			case '"', '\r', '\n', byte(w.d):
				return true
			}
		}
		return false
	}
	return strings.ContainsAny(f, "\"\r\n") || strings.ContainsRune(f, w.d)
}

func (w *Writer) writeField(f string) {
	if w.escapeFormulas && isFormula(f) {
		f = "'" + f
	}
	if !w.needsQuotes(f) {
		w.w.WriteString(f)
		return
	}
	if strings.ContainsAny(f, "\r\n") {
		f = strings.ReplaceAll(f, "\r", "")
		f = strings.ReplaceAll(f, "\n", "\r\n")
	}
	w.w.WriteByte('"')
	for {
		i := strings.IndexByte(f, '"')
		if i < 0 {
			break
		}
		w.w.WriteString(f[:i+1])
		w.w.WriteByte('"')
		f = f[i+1:]
	}
	w.w.WriteString(f)
	w.w.WriteByte('"')
}

// isFormula tells whether a spreadsheet opening the file could run the
// cell as a formula (OWASP's "CSV injection": a first character among
// = + - @ tab and carriage return). Plain numbers are left alone, so that
// a longitude like -1.5536 stays a number.
func isFormula(f string) bool {
	if f == "" {
		return false
	}
	switch f[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return !isPlainNumber(f)
	}
	return false
}

// isPlainNumber matches [+-]digits[(.|,)digits][(e|E)[+-]digits], a
// decimal comma included for French spreadsheets; at least one digit
// before the exponent.
func isPlainNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	n := digits()
	if i < len(s) && (s[i] == '.' || s[i] == ',') {
		i++
		n += digits()
	}
	if n == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// Flush sends buffered rows on.
func (w *Writer) Flush() error { return w.w.Flush() }

// flushOut sends buffered rows on and has the destination push them out
// too, when it can and rows were written since it last did. Run calls it
// before it waits for rows, so that a client streaming its upload gets
// each answer while it streams, not when a compressor's or a socket's
// buffer happens to fill.
func (w *Writer) flushOut() error {
	if err := w.w.Flush(); err != nil {
		return err
	}
	if w.dst == nil || !w.pending {
		return nil
	}
	w.pending = false
	return w.dst.Flush()
}

// Close flushes everything, including the encoder's pending bytes.
func (w *Writer) Close() error {
	err := w.w.Flush()
	if w.closer != nil {
		if cerr := w.closer.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
