package source

import (
	"strconv"
	"strings"

	"balise/internal/pyjs"
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
func FloatValue(f float64) Value {
	return Value{Kind: Number, Str: string(pyjs.AppendJSONFloat(nil, f))}
}

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
		return pyjs.ParsePyFloat(v.Str)
	}
	return 0, false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

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
				b.WriteString(pyjs.PyRepr(it.Str))
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
	return pyjs.FormatPyFloat(f)
}

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
