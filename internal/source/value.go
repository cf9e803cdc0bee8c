package source

import (
	"math"
	"strconv"
	"strings"
)

// Kind is the JSON type of a Value.
type Kind uint8

// The JSON value kinds.
const (
	Null Kind = iota
	Bool
	Number
	String
	List
	Object
)

func (k Kind) String() string {
	switch k {
	case Null:
		return "null"
	case Bool:
		return "bool"
	case Number:
		return "number"
	case String:
		return "string"
	case List:
		return "list"
	case Object:
		return "object"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one JSON value of a document field.
type Value struct {
	Kind Kind
	Bool bool
	// Str holds, for String: the decoded string; for Number: the literal text
	// as written (e.g. "48.857614", "75001", "1e-5"; Python's json also
	// accepts NaN, Infinity and -Infinity, and so does ParseLine); for Object:
	// the raw JSON text of the object, exactly as written.
	Str string
	// List holds the items of a List. Items are scalars: a nested list or
	// object inside a list is rejected by ParseLine ("Non scalar list items",
	// as Addok does when indexing).
	List []Value
}

// Convenience constructors.

// StringValue returns a String value.
func StringValue(s string) Value { return Value{Kind: String, Str: s} }

// NumberValue returns a Number value with the given literal text.
func NumberValue(lit string) Value { return Value{Kind: Number, Str: lit} }

// FloatValue returns a Number whose literal is Python's repr of f (what
// json.dumps writes for a float).
func FloatValue(f float64) Value { return Value{Kind: Number, Str: PyFloatRepr(f)} }

// IntValue returns a Number holding an integer.
func IntValue(i int64) Value { return Value{Kind: Number, Str: strconv.FormatInt(i, 10)} }

// ListValue returns a List value.
func ListValue(items ...Value) Value { return Value{Kind: List, List: items} }

// Float returns the value as a float64: a Number, or a String holding a
// number as Python's float() accepts it (surrounding whitespace, sign,
// "1_000", "nan", "inf"; Addok accepts numeric strings for lat/lon).
// Numbers too large for a float64 give ±Inf, as in Python.
func (v Value) Float() (float64, bool) {
	switch v.Kind {
	case Number:
		f, err := strconv.ParseFloat(v.Str, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return f, true
			}
			return 0, false
		}
		return f, true
	case String:
		return pyFloat(v.Str)
	}
	return 0, false
}

// pyFloat parses s the way Python's float(str) does (decimal only).
func pyFloat(s string) (float64, bool) {
	s = strings.TrimFunc(s, isPySpace)
	if s == "" {
		return 0, false
	}
	// Go's ParseFloat also accepts hexadecimal floats, Python does not.
	body := s
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	if len(body) > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
		return 0, false
	}
	if strings.IndexByte(s, '_') >= 0 {
		// Python allows single underscores between digits.
		b := make([]byte, 0, len(s))
		for i := 0; i < len(s); i++ {
			if s[i] == '_' {
				if i == 0 || i == len(s)-1 || !isDigit(s[i-1]) || !isDigit(s[i+1]) {
					return 0, false
				}
				continue
			}
			b = append(b, s[i])
		}
		s = string(b)
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return 0, false // Python accepts non-ASCII digits; not worth it
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

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isPySpace reports the characters Python's str.strip() removes.
func isPySpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x1f, 0x85:
		return true
	}
	if r < 0x80 {
		return false
	}
	return strings.ContainsRune("\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000", r)
}

// IsInt reports whether v is a Number written as an integer (no '.', 'e'
// or 'E'; Python's json turns such a literal into an int).
func (v Value) IsInt() bool {
	if v.Kind != Number {
		return false
	}
	s := v.Str
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// Truthy reports Python truthiness: null, false, "", 0, 0.0, [] and {} are
// falsy, everything else (including NaN) is truthy.
func (v Value) Truthy() bool {
	switch v.Kind {
	case Null:
		return false
	case Bool:
		return v.Bool
	case Number:
		f, ok := v.Float()
		return !ok || f != 0 // NaN != 0 is true, as in Python
	case String:
		return v.Str != ""
	case List:
		return len(v.List) > 0
	case Object:
		s := strings.TrimSpace(v.Str)
		if len(s) < 2 {
			return false
		}
		return strings.TrimLeft(s[1:len(s)-1], " \t\r\n") != ""
	}
	return false
}

// String returns Python's str() of the value as json.loads would have
// decoded it: str(75001) == "75001", floats in repr form ("0.5", "1e-05",
// "100000.0"), True/False/None; a list gives Python's list repr; an object
// gives its raw JSON text. Used for indexing and filter values.
func (v Value) String() string {
	switch v.Kind {
	case Null:
		return "None"
	case Bool:
		if v.Bool {
			return "True"
		}
		return "False"
	case Number:
		return pyNumberStr(v.Str)
	case String:
		return v.Str
	case List:
		var b strings.Builder
		b.WriteByte('[')
		for i, it := range v.List {
			if i > 0 {
				b.WriteString(", ")
			}
			if it.Kind == String {
				b.WriteString(pyStrRepr(it.Str))
			} else {
				b.WriteString(it.String())
			}
		}
		b.WriteByte(']')
		return b.String()
	case Object:
		return v.Str
	}
	return ""
}

// pyNumberStr converts a JSON number literal to Python's str() of the value
// json.loads produces for it.
func pyNumberStr(lit string) string {
	v := Value{Kind: Number, Str: lit}
	if v.IsInt() {
		s := lit
		neg := false
		if s[0] == '-' {
			neg = true
			s = s[1:]
		}
		// JSON forbids leading zeros, but be lenient.
		i := 0
		for i < len(s)-1 && s[i] == '0' {
			i++
		}
		s = s[i:]
		if neg && s != "0" {
			return "-" + s
		}
		return s
	}
	f, ok := v.Float()
	if !ok {
		return lit
	}
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return PyFloatRepr(f)
}

// PyFloatRepr formats f like Python's repr(float): the shortest string that
// round-trips, in fixed notation when 1e-4 <= |f| < 1e16 (always with a
// fractional part, "2.0"), else in exponent notation ("1e-05", "1.5e+16").
// NaN and infinities give "NaN", "Infinity", "-Infinity" (what json.dumps
// writes).
func PyFloatRepr(f float64) string {
	return string(AppendPyFloatRepr(nil, f))
}

// AppendPyFloatRepr appends PyFloatRepr(f) to dst.
func AppendPyFloatRepr(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
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
// rounded from the exact binary value, ties to even.
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

// pyStrRepr is Python's repr() of a str (used in list reprs).
func pyStrRepr(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	b := make([]byte, 0, len(s)+2)
	b = append(b, q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			b = append(b, '\\', 'x', hexDigits[r>>4], hexDigits[r&15])
		default:
			b = append(b, string(r)...)
		}
	}
	b = append(b, q)
	return string(b)
}

const hexDigits = "0123456789abcdef"

// Field is one key/value pair of a document, in document order.
type Field struct {
	Key   string
	Value Value
}

// Housenumber is one entry of a document's "housenumbers" object.
type Housenumber struct {
	Raw      string  // the key as written ("1 bis", "10bis", "12")
	Lat, Lon Value   // as written
	Payload  []Field // every other key in order (id, banId, x, y, postcode, anything)
	// LatAt and LonAt are the positions of the "lat" and "lon" keys in the
	// object's key order (0-based, counting the payload keys), so AppendJSON
	// can re-emit the object as written. When they are equal (zero values),
	// lat and lon are written first.
	LatAt, LonAt int
}

// Document is one Addok document.
type Document struct {
	Fields       []Field       // every key except "housenumbers", in document order
	Housenumbers []Housenumber // in document order; nil when absent (or null)
	// HousenumbersAt is the number of Fields that preceded the
	// "housenumbers" key (meaningful when Housenumbers is non-nil).
	HousenumbersAt int
	Line           int // 1-based input line (ndjson) or first row (CSV)
}

// Get returns the value of the top-level field key ("housenumbers" is not
// a field: see Housenumbers).
func (d *Document) Get(key string) (Value, bool) {
	for i := range d.Fields {
		if d.Fields[i].Key == key {
			return d.Fields[i].Value, true
		}
	}
	return Value{}, false
}
