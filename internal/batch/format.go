package batch

import (
	"math"
	"strconv"
	"strings"

	"balise/internal/index"
)

// round2 is Python's round(x, 2): correctly rounded to the nearest
// two-decimal value, which strconv's formatting already computes.
func round2(x float64) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 2, 64), 64)
	return f
}

// pyFloat is Python's str(float), what addok-csv writes.
func pyFloat(x float64) string { return index.PyFloat(x) }

// jsNumber is JavaScript's Number#toString, what addok-server's CSV writer
// produces: integers without ".0", decimal notation for 1e-7 <= |x| < 1e21.
func jsNumber(x float64) string {
	if math.IsNaN(x) {
		return "NaN"
	}
	if math.IsInf(x, 0) {
		if x > 0 {
			return "Infinity"
		}
		return "-Infinity"
	}
	if x == 0 {
		return "0"
	}
	ax := math.Abs(x)
	if ax >= 1e-7 && ax < 1e21 {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	s := strconv.FormatFloat(x, 'e', -1, 64) // like 1e-08 or 1.5e+21
	i := strings.IndexByte(s, 'e')
	mant, exp := s[:i], s[i+1:]
	sign := exp[0]
	exp = strings.TrimLeft(exp[1:], "0")
	return mant + "e" + string(sign) + exp
}

// pyRepr quotes a string like Python's repr, for addok-csv's messages that
// print column lists.
func pyRepr(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatInt(int64(r)+0x100, 16)[1:])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

func pyList(items []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pyRepr(s))
	}
	b.WriteByte(']')
	return b.String()
}

// valueText is the CSV cell for a stored value: Python's str() in the addok
// flavour, JavaScript's String() in the BAN one.
func valueText(v index.Value, js bool) string {
	v = v.First()
	switch v.Kind {
	case index.KindNull:
		return ""
	case index.KindFloat:
		if js {
			return jsNumber(v.Float)
		}
	case index.KindBool:
		if js {
			if v.Bool {
				return "true"
			}
			return "false"
		}
	}
	return v.Text()
}
