package index

import (
	"errors"
	"io"

	"balise/internal/source"
)

// FromLines feeds the builder with raw ndjson lines, parsed by its workers.
func FromLines(lines *source.Lines) func() (Batch, error) {
	if lines.BatchBytes == 0 {
		// Smaller than the reader's default: a dozen batches are in flight
		// between the reader, the workers and the merger.
		lines.BatchBytes = 256 << 10
	}
	return func() (Batch, error) {
		b, err := lines.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, err
		}
		out := make(Batch, len(b.Lines))
		for i, l := range b.Lines {
			out[i] = Item{Line: l, LineNo: b.LineNos[i]}
		}
		return out, nil
	}
}

// FromReader feeds the builder with already parsed documents (BAN CSV).
func FromReader(r source.Reader, batchSize int) func() (Batch, error) {
	if batchSize <= 0 {
		batchSize = 256
	}
	return func() (Batch, error) {
		out := make(Batch, 0, batchSize)
		for len(out) < batchSize {
			d, err := r.Next()
			if err != nil {
				if len(out) > 0 && errors.Is(err, io.EOF) {
					return out, nil
				}
				return out, err
			}
			out = append(out, Item{Doc: d, LineNo: d.Line})
		}
		return out, nil
	}
}
