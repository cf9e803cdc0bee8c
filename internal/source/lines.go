package source

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"sync/atomic"
)

// Batch is a run of consecutive non-blank input lines. Its memory is owned
// by the batch (no later Next call touches it), so it can be handed to
// another goroutine.
type Batch struct {
	Lines   [][]byte // raw lines, without "\n" or "\r\n"
	LineNos []int    // 1-based line number of each line (blank lines count)
}

// DefaultBatchBytes is the default amount of input per Batch.
const DefaultBatchBytes = 1 << 20

// Lines is a fast line splitter over an ndjson input (gzip or plain): it
// returns batches of raw lines with their line numbers, skipping blank
// lines. Used by the parallel importer (read on one goroutine, ParseLine on
// others) and by the sequential ndjson Reader.
type Lines struct {
	// BatchBytes is the approximate size of a batch (DefaultBatchBytes when
	// zero). A batch always holds whole lines, so a longer line makes a
	// bigger batch.
	BatchBytes int

	name    string
	r       io.Reader // decompressed input
	closers []io.Closer
	count   *CountingReader
	total   int64
	carry   []byte // partial last line of the previous read
	lineNo  int
	eof     bool
	err     error
}

// OpenLines opens an ndjson file (gzip detected by its magic bytes; "-" is
// standard input). It does not check that the content is ndjson: see
// Detect.
func OpenLines(path string) (*Lines, error) {
	in, err := openInput(path)
	if err != nil {
		return nil, err
	}
	return in.lines(), nil
}

// NewLines reads lines from r (gzip detected by its magic bytes). size is
// the total size of r for Progress, or 0 when unknown.
func NewLines(r io.Reader, size int64) (*Lines, error) {
	in, err := newInput(r, "", size, nil)
	if err != nil {
		return nil, err
	}
	return in.lines(), nil
}

// Name is the path the lines come from ("" for NewLines).
func (l *Lines) Name() string { return l.name }

// Progress returns the bytes consumed so far of the (compressed) input and
// its total size (0 when unknown). Safe to call from any goroutine.
func (l *Lines) Progress() (done, total int64) {
	return l.count.Count(), l.total
}

// Close closes the underlying file.
func (l *Lines) Close() error {
	var first error
	for i := len(l.closers) - 1; i >= 0; i-- {
		if err := l.closers[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	l.closers = nil
	return first
}

// Next returns the next batch of non-blank lines, or io.EOF at the end of
// the input.
func (l *Lines) Next() (*Batch, error) {
	for {
		if l.err != nil {
			return nil, l.err
		}
		if l.eof && len(l.carry) == 0 {
			l.err = io.EOF
			return nil, io.EOF
		}
		data, err := l.chunk()
		if err != nil {
			l.err = err
			return nil, err
		}
		if b := l.split(data); len(b.Lines) > 0 {
			return b, nil
		}
	}
}

// chunk returns whole lines (the last one possibly unterminated at EOF).
func (l *Lines) chunk() ([]byte, error) {
	size := l.BatchBytes
	if size <= 0 {
		size = DefaultBatchBytes
	}
	if size < 2*len(l.carry) {
		size = 2 * len(l.carry)
	}
	buf := make([]byte, len(l.carry), size)
	copy(buf, l.carry)
	l.carry = nil
	scanned := 0 // bytes of buf known to hold no '\n'
	for {
		if !l.eof {
			n, err := readFull(l.r, buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if errors.Is(err, io.EOF) {
				l.eof = true
			} else if err != nil {
				return nil, err
			}
		}
		if l.eof {
			return buf, nil
		}
		if i := bytes.LastIndexByte(buf[scanned:], '\n'); i >= 0 {
			end := scanned + i + 1
			l.carry = buf[end:]
			return buf[:end], nil
		}
		// one line longer than the buffer: grow it
		scanned = len(buf)
		nb := make([]byte, len(buf), 2*cap(buf))
		copy(nb, buf)
		buf = nb
	}
}

// readFull is io.ReadFull, except that only the reader's own io.EOF means
// the end (a truncated gzip stream's io.ErrUnexpectedEOF is an error).
func readFull(r io.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (l *Lines) split(data []byte) *Batch {
	n := bytes.Count(data, []byte{'\n'}) + 1
	b := &Batch{Lines: make([][]byte, 0, n), LineNos: make([]int, 0, n)}
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		l.lineNo++
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if isBlank(line) {
			continue
		}
		b.Lines = append(b.Lines, line[:len(line):len(line)])
		b.LineNos = append(b.LineNos, l.lineNo)
	}
	return b
}

func isBlank(line []byte) bool {
	for _, c := range line {
		if !isJSONSpace(c) {
			return false
		}
	}
	return true
}

// CountingReader counts the bytes read through it; Count may be called from
// another goroutine (a progress bar). The readers of this package count the
// raw (compressed) file.
type CountingReader struct {
	r io.Reader
	n atomic.Int64
}

// NewCountingReader returns a CountingReader reading r.
func NewCountingReader(r io.Reader) *CountingReader { return &CountingReader{r: r} }

func (c *CountingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// Count returns the number of bytes read so far.
func (c *CountingReader) Count() int64 { return c.n.Load() }

// input is an opened, decompressed input with its format sniffed.
type input struct {
	name    string
	br      *bufio.Reader // decompressed content, BOM removed
	count   *CountingReader
	total   int64
	closers []io.Closer
	gzip    bool
}

func openInput(path string) (*input, error) {
	if path == "-" {
		return newInput(os.Stdin, "-", 0, nil)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	in, err := newInput(f, path, size, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return in, nil
}

func newInput(r io.Reader, name string, size int64, closer io.Closer) (*input, error) {
	in := &input{name: name, total: size, count: NewCountingReader(r)}
	if closer != nil {
		in.closers = append(in.closers, closer)
	}
	raw := bufio.NewReaderSize(in.count, 64<<10)
	magic, _ := raw.Peek(2)
	var content io.Reader = raw
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(raw)
		if err != nil {
			return nil, prefixErr(name, err)
		}
		in.closers = append(in.closers, zr)
		content = zr
		in.gzip = true
	}
	in.br = bufio.NewReaderSize(content, 64<<10)
	if bom, _ := in.br.Peek(3); len(bom) == 3 && bom[0] == 0xef && bom[1] == 0xbb && bom[2] == 0xbf {
		in.br.Discard(3)
	}
	return in, nil
}

func prefixErr(name string, err error) error {
	if name == "" {
		return err
	}
	return &os.PathError{Op: "read", Path: name, Err: err}
}

func (in *input) lines() *Lines {
	return &Lines{name: in.name, r: in.br, closers: in.closers, count: in.count, total: in.total}
}

// Format is an input file format.
type Format uint8

// Input formats recognised by Detect and Open.
const (
	FormatUnknown Format = iota
	FormatNDJSON         // Addok ndjson: one JSON object per line
	FormatBANCSV         // BAN "adresses-XX.csv" (2020+ 23-column header)
)

func (f Format) String() string {
	switch f {
	case FormatNDJSON:
		return "ndjson"
	case FormatBANCSV:
		return "ban-csv"
	}
	return "unknown"
}

// banHeaderPrefix starts the header line of a BAN addresses CSV.
const banHeaderPrefix = "id;id_fantoir;numero;"

// sniff looks at the start of the decompressed content. It peeks only as
// far as needed (doubling), so a slow pipe on stdin is not waited for.
func (in *input) sniff() Format {
	for n := 1; ; n *= 2 {
		head, err := in.br.Peek(n)
		final := err != nil || n >= 64<<10
		i := 0
		for i < len(head) && isJSONSpace(head[i]) {
			i++
		}
		switch {
		case i < len(head) && head[i] == '{':
			return FormatNDJSON
		case bytes.HasPrefix(head, []byte(banHeaderPrefix)):
			return FormatBANCSV
		case i < len(head) && !bytes.HasPrefix([]byte(banHeaderPrefix), head):
			return FormatUnknown
		case final:
			if i == len(head) {
				return FormatNDJSON // empty or blank: an empty ndjson file
			}
			return FormatUnknown
		}
	}
}

// Detect reports the format of the file at path (after gzip decompression).
func Detect(path string) (Format, error) {
	in, err := openInput(path)
	if err != nil {
		return FormatUnknown, err
	}
	defer in.close()
	return in.sniff(), nil
}

func (in *input) close() error {
	var first error
	for i := len(in.closers) - 1; i >= 0; i-- {
		if err := in.closers[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

var errUnknownFormat = errors.New("unknown input format: expected Addok ndjson (one JSON object per line) or a BAN addresses CSV (header " + banHeaderPrefix + "...)")
