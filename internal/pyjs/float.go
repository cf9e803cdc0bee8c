package pyjs

import (
	"math"
	"strconv"
	"strings"
)

// FormatPyFloat is Python's repr(f), which str(f) also gives: the shortest
// digits that read back as f, in fixed notation when 1e-4 <= |f| < 1e16
// (always with a fractional part: "2.0"), else in exponent notation
// ("1e-05", "1.5e+16"); "nan", "inf" and "-inf" otherwise.
func FormatPyFloat(f float64) string { return string(AppendPyFloat(nil, f)) }

// AppendPyFloat appends FormatPyFloat(f) to dst.
func AppendPyFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	return appendFinite(dst, f)
}

// AppendJSONFloat appends f as Python's json.dumps writes it: repr(f), or
// NaN, Infinity and -Infinity (json.dumps allows them by default, and so
// does json.loads when the document is read back).
func AppendJSONFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	return appendFinite(dst, f)
}

// AppendStrictJSONFloat appends f as balise's HTTP answers write a float:
// repr(f), and null for NaN and the infinities. Addok would write NaN or
// Infinity, which strict JSON parsers (JSON.parse, encoding/json) refuse;
// null keeps the answer readable by every client.
func AppendStrictJSONFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	return appendFinite(dst, f)
}

// appendFinite is repr(f) for a finite f. strconv gives the same shortest
// digits as Python's repr; only the layout differs (Python switches to
// exponent notation at other thresholds and always shows ".0" or an
// exponent), so it is rebuilt from the 'e' form.
func appendFinite(dst []byte, f float64) []byte {
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64) // [-]d[.ddd]e±XX
	neg := false
	if e[0] == '-' {
		neg = true
		e = e[1:]
	}
	ei := 0
	for e[ei] != 'e' {
		ei++
	}
	mant := e[:ei]
	exp, _ := strconv.Atoi(string(e[ei+1:]))
	var digs [24]byte
	nd := 0
	for _, c := range mant {
		if c != '.' {
			digs[nd] = c
			nd++
		}
	}
	digits := digs[:nd]
	decpt := exp + 1 // value = 0.digits * 10^decpt
	if neg {
		dst = append(dst, '-')
	}
	if decpt <= -4 || decpt > 16 {
		dst = append(dst, digits[0])
		if nd > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:]...)
		}
		dst = append(dst, 'e')
		x := decpt - 1
		if x < 0 {
			dst = append(dst, '-')
			x = -x
		} else {
			dst = append(dst, '+')
		}
		if x < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(x), 10)
	}
	switch {
	case decpt <= 0:
		dst = append(dst, '0', '.')
		for i := 0; i < -decpt; i++ {
			dst = append(dst, '0')
		}
		dst = append(dst, digits...)
	case decpt >= nd:
		dst = append(dst, digits...)
		for i := nd; i < decpt; i++ {
			dst = append(dst, '0')
		}
		dst = append(dst, '.', '0')
	default:
		dst = append(dst, digits[:decpt]...)
		dst = append(dst, '.')
		dst = append(dst, digits[decpt:]...)
	}
	return dst
}

// PyRound rounds f to n decimals like Python's round(f, n): correctly
// rounded from the exact binary value, ties to even (round(0.125, 2) is
// 0.12), which strconv's fixed formatting already computes.
func PyRound(f float64, n int) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return f
	}
	var tmp [64]byte
	r, err := strconv.ParseFloat(string(strconv.AppendFloat(tmp[:0], f, 'f', n, 64)), 64)
	if err != nil {
		return f
	}
	return r
}

// FormatJSNumber is JavaScript's Number#toString (what String(x) and
// addok-server's CSV writer give): integers without ".0", decimal notation
// for 1e-7 <= |x| < 1e21, else "1e-8", "1.5e+21"; "NaN", "Infinity".
func FormatJSNumber(x float64) string {
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
