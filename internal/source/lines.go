package source

import (
	"bytes"
	"errors"
	"io"
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
	in, err := OpenInput(path)
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
