package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/klauspost/compress/zstd"
)

// The L2 value format is specified in doc.go.
const (
	valueMagic = 0xBA
	// valueVersion 2 added the checksum; values of version 1 (written by
	// earlier releases, still in Redis for up to a day) read as misses.
	valueVersion    = 2
	oldValueVersion = 1
	headerSize      = 16
	flagZstd        = 1 << 0
	// maxBody bounds what a decoder accepts, so a corrupt or hostile
	// length cannot make it allocate gigabytes. Answers are kilobytes; a
	// CSV-sized body would not be cached in the first place.
	maxBody = 64 << 20
)

var (
	errBadValue = errors.New("bad L2 value")
	// errOldVersion marks a value in a format an earlier release wrote:
	// not corruption, just an entry that must be recomputed.
	errOldVersion = errors.New("L2 value of an earlier format")
)

// castagnoli is CRC-32C, computed in hardware on amd64 and arm64: a few
// GB/s, invisible next to a Redis round trip.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksum covers the first 12 header bytes and the uncompressed body, so
// that a flipped bit in the class, the expiry, the length or the body is
// caught.
func checksum(header, body []byte) uint32 {
	return crc32.Update(crc32.Checksum(header[:12], castagnoli), castagnoli, body)
}

// codec encodes L2 values. Its zstd encoder and decoder are used through
// EncodeAll/DecodeAll only, which are safe for concurrent use.
type codec struct {
	compressMin int
	enc         *zstd.Encoder
	dec         *zstd.Decoder
}

func newCodec(compressMin int) (*codec, error) {
	c := &codec{compressMin: compressMin}
	var err error
	// SpeedFastest: a 2 KiB GeoJSON body compresses in a few µs and the
	// ratio is within a few percent of the default level at that size.
	c.enc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
	if err != nil {
		return nil, fmt.Errorf("cannot create zstd encoder: %w", err)
	}
	c.dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0),
		zstd.WithDecoderMaxMemory(maxBody), zstd.WithDecoderMaxWindow(8<<20))
	if err != nil {
		return nil, fmt.Errorf("cannot create zstd decoder: %w", err)
	}
	return c, nil
}

func (c *codec) close() { c.dec.Close() }

// encode returns the L2 value of body.
func (c *codec) encode(body []byte, class Class, expires time.Time) []byte {
	out := make([]byte, headerSize, headerSize+len(body))
	out[0], out[1], out[3] = valueMagic, valueVersion, byte(class)
	binary.LittleEndian.PutUint32(out[4:], uint32(expires.Unix()))
	binary.LittleEndian.PutUint32(out[8:], uint32(len(body)))
	if c.compressMin >= 0 && len(body) >= c.compressMin {
		if z := c.enc.EncodeAll(body, out); len(z) < headerSize+len(body) {
			out = z
			out[2] |= flagZstd
		}
	}
	if out[2]&flagZstd == 0 {
		out = append(out, body...)
	}
	// Last: the checksum covers the flags.
	binary.LittleEndian.PutUint32(out[12:], checksum(out, body))
	return out
}

// decode parses an L2 value. It never panics on arbitrary input, and
// never allocates more than maxBody. Its errors carry no byte of the body.
func (c *codec) decode(v []byte) (body []byte, class Class, expires time.Time, err error) {
	if len(v) >= 2 && v[0] == valueMagic && v[1] == oldValueVersion {
		return nil, 0, time.Time{}, errOldVersion
	}
	if len(v) < headerSize || v[0] != valueMagic || v[1] != valueVersion {
		return nil, 0, time.Time{}, fmt.Errorf("%w: bad header", errBadValue)
	}
	flags, class := v[2], Class(v[3])
	if flags&^flagZstd != 0 || class < ClassExact || class > ClassNotFound {
		return nil, 0, time.Time{}, fmt.Errorf("%w: flags %#x, class %d", errBadValue, flags, class)
	}
	expires = time.Unix(int64(binary.LittleEndian.Uint32(v[4:])), 0)
	n := binary.LittleEndian.Uint32(v[8:])
	if n > maxBody {
		return nil, 0, time.Time{}, fmt.Errorf("%w: length %d", errBadValue, n)
	}
	payload := v[headerSize:]
	if flags&flagZstd == 0 {
		if uint32(len(payload)) != n {
			return nil, 0, time.Time{}, fmt.Errorf("%w: %d bytes, header says %d", errBadValue, len(payload), n)
		}
		body = payload
	} else {
		// The header's length is not trusted for the allocation: a
		// corrupt one would reserve up to maxBody for nothing.
		body, err = c.dec.DecodeAll(payload, make([]byte, 0, min(n, 1<<20)))
		if err != nil {
			return nil, 0, time.Time{}, fmt.Errorf("%w: %w", errBadValue, err)
		}
		if uint32(len(body)) != n {
			return nil, 0, time.Time{}, fmt.Errorf("%w: %d bytes decompressed, header says %d", errBadValue, len(body), n)
		}
	}
	if checksum(v, body) != binary.LittleEndian.Uint32(v[12:]) {
		return nil, 0, time.Time{}, fmt.Errorf("%w: checksum mismatch", errBadValue)
	}
	return body, class, expires, nil
}
