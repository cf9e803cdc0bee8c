package source

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"sync/atomic"

	// klauspost's inflate is about twice as fast as the standard
	// library's, and decompression is the import's single-threaded step.
	"github.com/klauspost/compress/gzip"
)

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

// Input is an opened input file or stream: gzip detected by its magic
// bytes and decompressed, a UTF-8 BOM removed, the raw bytes counted for
// progress. Lines and the ndjson reader read it; so does the BAN CSV
// converter (package ban), which groups rows itself.
type Input struct {
	name    string
	br      *bufio.Reader // decompressed content, BOM removed
	count   *CountingReader
	total   int64
	closers []io.Closer
	gzip    bool
}

// OpenInput opens path ("-": standard input).
func OpenInput(path string) (*Input, error) {
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

// NewInput reads r; name is used in error messages, size is the input size
// for Progress (0 when unknown).
func NewInput(r io.Reader, name string, size int64) (*Input, error) {
	return newInput(r, name, size, nil)
}

func newInput(r io.Reader, name string, size int64, closer io.Closer) (*Input, error) {
	in := &Input{name: name, total: size, count: NewCountingReader(r)}
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

// Name returns the name given at open (the path, "-" for standard input).
func (in *Input) Name() string { return in.name }

// Reader returns the decompressed content.
func (in *Input) Reader() *bufio.Reader { return in.br }

// Progress returns the bytes consumed so far of the (compressed) input and
// its total size (0 when unknown).
func (in *Input) Progress() (done, total int64) { return in.count.Count(), in.total }

func (in *Input) lines() *Lines {
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

// Format looks at the start of the decompressed content and reports its
// format. It peeks only as far as needed (doubling), so a slow pipe on
// stdin is not waited for, and consumes nothing.
func (in *Input) Format() Format {
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
	in, err := OpenInput(path)
	if err != nil {
		return FormatUnknown, err
	}
	defer in.Close()
	return in.Format(), nil
}

// Close closes the decompressor and the file (not standard input).
func (in *Input) Close() error {
	var first error
	for i := len(in.closers) - 1; i >= 0; i-- {
		if err := in.closers[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

var errBANCSV = errors.New("a BAN addresses CSV: it is converted into documents by package ban (ban.Open)")

var errUnknownFormat = errors.New("unknown input format: expected Addok ndjson (one JSON object per line) or a BAN addresses CSV (header " + banHeaderPrefix + "...)")
