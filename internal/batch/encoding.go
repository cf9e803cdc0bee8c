package batch

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	xunicode "golang.org/x/text/encoding/unicode"
)

// charset is a resolved text encoding.
type charset struct {
	// name is what the output's Content-Type says (the name the client
	// gave, like Addok, or the detected one).
	name string
	enc  encoding.Encoding // nil: UTF-8, bytes pass through untouched
	bom  bool              // utf-8-sig, utf-16: strip a BOM on input, write one on output
	// order is the byte order of UTF-16 (notUTF16 for other encodings);
	// enc then decodes without looking for a BOM, which is dropped before.
	order byteOrder
}

// byteOrder is the byte order of a UTF-16 text.
type byteOrder uint8

const (
	notUTF16    byteOrder = iota
	eitherOrder           // Python's "utf-16": from the BOM, else from the text
	littleEndian
	bigEndian
)

func (c charset) isUTF8() bool { return c.enc == nil }

// utf16Charset is UTF-16 in the given order (eitherOrder reads as little
// endian, Python's default, until withByteOrderOf settles it).
func utf16Charset(name string, order byteOrder, bom bool) charset {
	e := xunicode.LittleEndian
	if order == bigEndian {
		e = xunicode.BigEndian
	}
	return charset{name: name, enc: xunicode.UTF16(e, xunicode.IgnoreBOM), bom: bom, order: order}
}

// withByteOrderOf settles the byte order of Python's "utf-16" from the
// first bytes of the input: the BOM, else the place of the zero bytes.
func (c charset) withByteOrderOf(raw []byte) charset {
	if c.order != eitherOrder {
		return c
	}
	switch {
	case bytes.HasPrefix(raw, utf16BEBOM):
		return utf16Charset(c.name, bigEndian, c.bom)
	case bytes.HasPrefix(raw, utf16LEBOM):
		return utf16Charset(c.name, littleEndian, c.bom)
	}
	if o := utf16OrderOf(raw); o != notUTF16 {
		return utf16Charset(c.name, o, c.bom)
	}
	return utf16Charset(c.name, littleEndian, c.bom)
}

// byteOrderMark is the BOM of a UTF-16 charset in its order.
func (c charset) byteOrderMark() []byte {
	if c.order == bigEndian {
		return utf16BEBOM
	}
	return utf16LEBOM
}

// encoder returns the output encoder, writing a BOM first when bom is set
// (UTF-16 only: the UTF-8 BOM is written by the Writer).
func (c charset) encoder(bom bool) *encoding.Encoder {
	if c.order == notUTF16 {
		return encoding.ReplaceUnsupported(c.enc.NewEncoder())
	}
	e, policy := xunicode.LittleEndian, xunicode.IgnoreBOM
	if c.order == bigEndian {
		e = xunicode.BigEndian
	}
	if bom {
		policy = xunicode.UseBOM
	}
	return xunicode.UTF16(e, policy).NewEncoder()
}

// Names Python's codec registry knows for the encodings French CSV files
// come in (addok-csv decodes with Python codecs, so clients send these).
// Keys are normalised by normaliseEncodingName.
var pythonCodecs = map[string]charset{
	"utf_8": {}, "utf8": {}, "u8": {}, "utf": {}, "cp65001": {},
	"ascii": {}, "us_ascii": {}, "646": {}, // a subset of UTF-8: decoding never fails
	"utf_8_sig": {bom: true}, "utf8_sig": {bom: true},
	"latin_1": {enc: charmap.ISO8859_1}, "latin1": {enc: charmap.ISO8859_1}, "l1": {enc: charmap.ISO8859_1},
	"iso8859_1": {enc: charmap.ISO8859_1}, "iso_8859_1": {enc: charmap.ISO8859_1}, "8859": {enc: charmap.ISO8859_1},
	"cp819": {enc: charmap.ISO8859_1}, "latin": {enc: charmap.ISO8859_1},
	"cp1252": {enc: charmap.Windows1252}, "windows_1252": {enc: charmap.Windows1252}, "1252": {enc: charmap.Windows1252},
	"iso8859_15": {enc: charmap.ISO8859_15}, "iso_8859_15": {enc: charmap.ISO8859_15},
	"latin9": {enc: charmap.ISO8859_15}, "latin_9": {enc: charmap.ISO8859_15}, "l9": {enc: charmap.ISO8859_15},
	"mac_roman": {enc: charmap.Macintosh}, "macroman": {enc: charmap.Macintosh}, "macintosh": {enc: charmap.Macintosh},
	"cp850": {enc: charmap.CodePage850}, "850": {enc: charmap.CodePage850},
	"utf_16": {order: eitherOrder, bom: true}, "utf16": {order: eitherOrder, bom: true}, "u16": {order: eitherOrder, bom: true},
	"utf_16_le": {order: littleEndian}, "utf_16le": {order: littleEndian}, "unicodelittleunmarked": {order: littleEndian},
	"utf_16_be": {order: bigEndian}, "utf_16be": {order: bigEndian}, "unicodebigunmarked": {order: bigEndian},
}

// normaliseEncodingName folds a codec name like Python's
// encodings.normalize_encoding: lower case, runs of punctuation to "_".
func normaliseEncodingName(s string) string {
	var b strings.Builder
	pending := false
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		if r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.') {
			if pending && b.Len() > 0 {
				b.WriteByte('_')
			}
			pending = false
			b.WriteRune(r)
			continue
		}
		pending = true
	}
	return b.String()
}

// resolveCharset maps an encoding name to a charset; unknown names give
// Python's LookupError text, which Addok returns as the 400's description.
func resolveCharset(name string) (charset, error) {
	if c, ok := pythonCodecs[normaliseEncodingName(name)]; ok {
		if c.order != notUTF16 {
			return utf16Charset(name, c.order, c.bom), nil
		}
		c.name = name
		return c, nil
	}
	if e, err := htmlindex.Get(name); err == nil {
		if n, _ := htmlindex.Name(e); n == "utf-8" {
			return charset{name: name}, nil
		}
		return charset{name: name, enc: e}, nil
	}
	return charset{}, &Error{Kind: ErrEncoding, Title: fmt.Sprintf("Unable to decode with encoding %q", name), Detail: "unknown encoding: " + name}
}

var (
	utf8BOM    = []byte{0xEF, 0xBB, 0xBF}
	utf16LEBOM = []byte{0xFF, 0xFE}
	utf16BEBOM = []byte{0xFE, 0xFF}
)

// detectCharset guesses the encoding of a sample when the client gave none:
// a BOM tells UTF-8 or UTF-16 (Excel's "Unicode text" is UTF-16 LE with a
// BOM); zero bytes every other byte tell UTF-16 without BOM; valid UTF-8
// means UTF-8; anything else is taken for Windows-1252 (a superset of
// Latin-1's printable range, what Excel writes on French systems).
// complete tells whether the sample is the whole input (else a rune cut at
// its end is not an error).
func detectCharset(sample []byte, complete bool) charset {
	switch {
	case bytes.HasPrefix(sample, utf8BOM):
		return charset{name: "utf-8-sig", bom: true}
	case bytes.HasPrefix(sample, utf16LEBOM):
		return utf16Charset("utf-16", littleEndian, true)
	case bytes.HasPrefix(sample, utf16BEBOM):
		return utf16Charset("utf-16", bigEndian, true)
	}
	switch utf16OrderOf(sample) {
	case littleEndian:
		return utf16Charset("utf-16le", littleEndian, false)
	case bigEndian:
		return utf16Charset("utf-16be", bigEndian, false)
	}
	if _, bad := invalidUTF8(sample, complete); !bad {
		return charset{name: "utf-8"}
	}
	return charset{name: "windows-1252", enc: charmap.Windows1252}
}

// utf16OrderOf recognises UTF-16 without BOM by its zero bytes: the text
// of a CSV file is mostly Latin (ASCII, accented letters), whose UTF-16
// units all have a zero high byte, so at least half of the units of a
// UTF-16 sample have a zero on one side and almost none on the other. No
// text in an 8-bit encoding or UTF-8 has such a pattern.
func utf16OrderOf(b []byte) byteOrder {
	units := len(b) / 2
	if units == 0 {
		return notUTF16
	}
	var even, odd int
	for i := 0; i+1 < len(b); i += 2 {
		if b[i] == 0 {
			even++
		}
		if b[i+1] == 0 {
			odd++
		}
	}
	switch {
	case 2*odd >= units && 16*even <= units:
		return littleEndian
	case 2*even >= units && 16*odd <= units:
		return bigEndian
	}
	return notUTF16
}

// invalidUTF8 returns the offset of the first invalid UTF-8 sequence.
func invalidUTF8(b []byte, complete bool) (int, bool) {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			if !complete && !utf8.FullRune(b[i:]) {
				return 0, false // cut by the sample's end
			}
			return i, true
		}
		i += n
	}
	return 0, false
}

// utf8Error words a decoding failure like Python's UnicodeDecodeError, the
// description Addok gives with its 400.
func utf8Error(b []byte, at int) string {
	reason := "invalid start byte"
	if c := b[at]; c >= 0xC2 && c <= 0xF4 {
		if at+1 >= len(b) {
			reason = "unexpected end of data"
		} else {
			reason = "invalid continuation byte"
		}
	}
	return fmt.Sprintf("'utf-8' codec can't decode byte 0x%02x in position %d: %s", b[at], at, reason)
}
