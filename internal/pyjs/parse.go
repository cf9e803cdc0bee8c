package pyjs

import (
	"math"
	"strconv"
	"strings"
)

// ParsePyFloat parses s like Python's float(str): surrounding whitespace
// (what strings.TrimSpace removes is exactly what float() skips: ASCII
// blanks and Unicode White_Space, not U+001C to U+001F), a sign, decimal
// digits with single underscores between digits, "nan", "inf", "infinity"
// in any case. Hexadecimal, which strconv accepts, is refused. A value too
// large for a float64 gives ±Inf and one too small 0, as in Python.
func ParsePyFloat(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	body := s
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	if len(body) > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
		return 0, false
	}
	if strings.IndexByte(s, '_') >= 0 {
		var ok bool
		if s, ok = dropUnderscores(s); !ok {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

// ParsePyInt parses s like Python's int(str): surrounding whitespace, a
// sign, decimal digits with single underscores between digits. Values too
// large for an int come back as ±MaxInt, where Python has big integers:
// every caller range-checks them anyway.
func ParsePyInt(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if strings.IndexByte(s, '_') >= 0 {
		var ok bool
		if s, ok = dropUnderscores(s); !ok {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			if strings.HasPrefix(s, "-") {
				return math.MinInt, true
			}
			return math.MaxInt, true
		}
		return 0, false
	}
	if n > math.MaxInt || n < math.MinInt {
		return math.MaxInt, true
	}
	return int(n), true
}

// dropUnderscores removes the underscores of a Python numeric literal,
// refusing any that is not between two digits ("1_000" but not "_1", "1_",
// "1__0" or "1_.5").
func dropUnderscores(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '_' {
			if i == 0 || i == len(s)-1 || !isDigit(s[i-1]) || !isDigit(s[i+1]) {
				return "", false
			}
			continue
		}
		b = append(b, s[i])
	}
	return string(b), true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// IsPySpace is Python's str.isspace() for one character, what str.strip()
// and str.split() without argument remove: ASCII blanks, U+001C to U+001F
// and Unicode White_Space.
func IsPySpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x1f, 0x85:
		return true
	}
	if r < 0x80 {
		return false
	}
	return strings.ContainsRune("\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000", r)
}

// jsSpace is what ParseJSInt and ParseJSFloat skip before the number (see
// the package documentation for what JavaScript also skips).
const jsSpace = " \t\n\r\v\f\u00a0\ufeff"

// ParseJSInt is JavaScript's Number.parseInt(s, 10): leading spaces, a
// sign, then as many digits as there are; NaN (ok=false) without any.
func ParseJSInt(s string) (float64, bool) {
	s = strings.TrimLeft(s, jsSpace)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	end := 0
	for end < len(s) && isDigit(s[end]) {
		end++
	}
	if end == 0 {
		return 0, false
	}
	f, _ := strconv.ParseFloat(s[:end], 64)
	if neg {
		f = -f
	}
	return f, true
}

// ParseJSFloat is JavaScript's Number.parseFloat: the longest prefix that
// reads as a decimal number (or "Infinity"); NaN (ok=false) otherwise.
func ParseJSFloat(s string) (float64, bool) {
	s = strings.TrimLeft(s, jsSpace)
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if strings.HasPrefix(s[i:], "Infinity") {
		if s[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k > j {
			i = k
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(s[:i], "."), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}
