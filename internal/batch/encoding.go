package batch

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
)

// charset is a resolved text encoding.
type charset struct {
	// name is what the output's Content-Type says (the name the client
	// gave, like Addok, or the detected one).
	name string
	enc  encoding.Encoding // nil: UTF-8, bytes pass through untouched
	bom  bool              // utf-8-sig: strip a BOM on input, write one on output
}

func (c charset) isUTF8() bool { return c.enc == nil }

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

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// detectCharset guesses the encoding of a sample when the client gave none:
// a BOM means UTF-8 with BOM, valid UTF-8 means UTF-8, anything else is
// taken for Windows-1252 (a superset of Latin-1's printable range, what
// Excel writes on French systems). complete tells whether the sample is the
// whole input (else a rune cut at its end is not an error).
func detectCharset(sample []byte, complete bool) charset {
	if bytes.HasPrefix(sample, utf8BOM) {
		return charset{name: "utf-8-sig", bom: true}
	}
	if _, bad := invalidUTF8(sample, complete); !bad {
		return charset{name: "utf-8"}
	}
	return charset{name: "windows-1252", enc: charmap.Windows1252}
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
