package pyjs

import (
	"strings"
	"unicode"
)

// PyRepr is Python's repr() of a str: single quotes, or double quotes when
// s holds a ' and no "; backslash, the quote, \t, \n and \r escaped; every
// other character that str.isprintable() refuses written \xhh, \uhhhh or
// \Uhhhhhhhh: C0 and C1 controls (U+0080 to U+009F), U+007F, U+00A0 and
// the other spaces but ' ', U+00AD and the other format characters, line
// and paragraph separators, private-use and unassigned code points.
// unicode.IsPrint is that same set (categories L, M, N, P, S and ' '), as
// of Go's Unicode version rather than the Python's.
func PyRepr(s string) string { return string(AppendPyRepr(nil, s)) }

// AppendPyRepr appends PyRepr(s) to dst.
func AppendPyRepr(dst []byte, s string) []byte {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	dst = append(dst, q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r == '\n':
			dst = append(dst, '\\', 'n')
		case r == '\r':
			dst = append(dst, '\\', 'r')
		case r == '\t':
			dst = append(dst, '\\', 't')
		case r >= 0x20 && r < 0x7f:
			dst = append(dst, byte(r))
		case unicode.IsPrint(r):
			dst = append(dst, string(r)...)
		case r < 0x100:
			dst = append(dst, '\\', 'x')
			dst = appendHex(dst, uint32(r), 2)
		case r < 0x10000:
			dst = append(dst, '\\', 'u')
			dst = appendHex(dst, uint32(r), 4)
		default:
			dst = append(dst, '\\', 'U')
			dst = appendHex(dst, uint32(r), 8)
		}
	}
	return append(dst, q)
}

// PyReprList is Python's repr() (and str()) of a list of str, as
// addok-csv's messages print the columns of a file: ['a', "it's"].
func PyReprList(items []string) string {
	b := []byte{'['}
	for i, s := range items {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = AppendPyRepr(b, s)
	}
	return string(append(b, ']'))
}

const hexDigits = "0123456789abcdef"

// appendHex appends the n lowest hexadecimal digits of v, lower case as
// Python writes them.
func appendHex(dst []byte, v uint32, n int) []byte {
	for shift := 4 * (n - 1); shift >= 0; shift -= 4 {
		dst = append(dst, hexDigits[v>>uint(shift)&0xf])
	}
	return dst
}
