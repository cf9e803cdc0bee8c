package index

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"balise/internal/pyjs"
)

// Value tags of the record encoding (see doc.go).
const (
	tagNull     = 0
	tagFalse    = 1
	tagTrue     = 2
	tagStr      = 3  // uvarint len, bytes
	tagInterned = 4  // uvarint id into the string table
	tagInt      = 5  // zigzag varint
	tagDec      = 6  // u8 scale, zigzag varint mantissa: value = mantissa / 10^scale
	tagF64      = 7  // 8 bytes little-endian
	tagRaw      = 8  // uvarint len, raw JSON text (objects, out-of-range numbers)
	tagList     = 9  // uvarint n, n values
	tagStrRef   = 10 // uvarint shared prefix length with the reference string, uvarint len, suffix bytes
	tagDecRef   = 11 // zigzag varint mantissa delta against the reference decimal (same scale)
	// The number forms of housenumber payload strings (appendNumberForm):
	// uvarint shared, uvarint len(mid)<<4 | width<<1 | hasTail, mid bytes,
	// then if hasTail uvarint len, tail bytes; the string is ref[:shared] +
	// mid + the housenumber's leading digits padded with zeros to width
	// (0: unpadded) + tail.
	tagNumRef   = 12 // against the reference (the street's field, else the first housenumber's)
	tagNumFirst = 13 // against the first housenumber's field of the same key
	// The short number forms, without mid: the tag's low 4 bits are
	// width<<1 | hasTail, then uvarint shared and the tail if any.
	tagNumRefShort   = 16 // 16..31
	tagNumFirstShort = 32 // 32..47
	// A street field equal to the record's lat (48..63), lon (64..79) or
	// importance (80..95) float, with the decimal scale in the low 4 bits
	// (docFloatTag).
	tagDocFloat = 48
	// A decimal delta against a reference of another scale (96..111, the
	// low 4 bits the scale s of both, scaledDelta): zigzag varint delta,
	// the value is (reference mantissa * 10^(s - its scale) + delta) / 10^s.
	tagDecScaled = 96
)

// docFloatMantissa recomputes a decimal's mantissa from its float, which
// is exact for the decimals docFloatTag accepts (it checks).
func docFloatMantissa(f float64, scale int) int64 { return int64(math.Round(f * pow10[scale])) }

// numShortTag is the short tag of a number form's tag.
func numShortTag(tag byte) byte {
	if tag == tagNumFirst {
		return tagNumFirstShort
	}
	return tagNumRefShort
}

// maxNumberWidth is the widest zero padding of the number forms (3 bits).
const maxNumberWidth = 7

// leadingDigits is the number a housenumber key starts with ("22" of "22s").
func leadingDigits(raw string) string {
	i := 0
	for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
		i++
	}
	return raw[:i]
}

// ErrCorrupt is returned (wrapped) whenever index bytes do not decode.
var ErrCorrupt = errors.New("index file is corrupt")

// Kind is the decoded kind of a stored value.
type Kind uint8

// Value kinds.
const (
	KindNull Kind = iota
	KindBool
	KindInt
	KindFloat
	KindString
	KindRaw
	KindList
)

// Value is a decoded stored value. Strings are views over the mapped file:
// they stay valid while the Index is open.
type Value struct {
	Kind  Kind
	Bool  bool
	Int   int64
	Float float64
	Str   string  // KindString, or the raw JSON text for KindRaw
	Items []Value // KindList
	// dec keeps the decimal form so housenumber payloads can be delta-coded against it.
	decScale    int8
	decMantissa int64
}

// Truthy is Python's truthiness, which Addok uses to drop empty properties.
func (v Value) Truthy() bool {
	switch v.Kind {
	case KindNull:
		return false
	case KindBool:
		return v.Bool
	case KindInt:
		return v.Int != 0
	case KindFloat:
		return v.Float != 0
	case KindString:
		return v.Str != ""
	case KindRaw:
		return v.Str != "{}" && v.Str != "[]"
	case KindList:
		return len(v.Items) > 0
	}
	return false
}

// First returns the first item of a list (Addok shows the first value of a
// multi-valued field), or the value itself.
func (v Value) First() Value {
	if v.Kind == KindList {
		if len(v.Items) == 0 {
			return Value{}
		}
		return v.Items[0]
	}
	return v
}

// Text is Python's str() of a scalar, used for filters and labels.
func (v Value) Text() string {
	switch v.Kind {
	case KindString, KindRaw:
		return v.Str
	case KindInt:
		return strconv.FormatInt(v.Int, 10)
	case KindFloat:
		// NaN and the infinities give "null", the JSON answers' form, where
		// Python's str() writes nan and inf: a known difference, on values
		// real data does not hold (lat, lon and importance are checked).
		return string(pyjs.AppendStrictJSONFloat(nil, v.Float))
	case KindBool:
		if v.Bool {
			return "True"
		}
		return "False"
	case KindNull:
		return "None"
	}
	return ""
}

// AsFloat returns a numeric reading of the value (numbers and numeric strings).
func (v Value) AsFloat() (float64, bool) {
	switch v.Kind {
	case KindInt:
		return float64(v.Int), true
	case KindFloat:
		return v.Float, true
	case KindString:
		f, err := strconv.ParseFloat(strings.TrimSpace(v.Str), 64)
		return f, err == nil
	}
	return 0, false
}

// AppendJSON appends the JSON form of the value as balise's HTTP answers
// write it: numbers in Python's repr form so output matches what Addok's
// json.dumps gives, null for NaN and the infinities, strings in the safe
// form (see pyjs.AppendStrictJSONFloat and pyjs.AppendSafeJSONString).
func (v Value) AppendJSON(dst []byte) []byte {
	switch v.Kind {
	case KindNull:
		return append(dst, "null"...)
	case KindBool:
		if v.Bool {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case KindInt:
		return strconv.AppendInt(dst, v.Int, 10)
	case KindFloat:
		return pyjs.AppendStrictJSONFloat(dst, v.Float)
	case KindString:
		return pyjs.AppendSafeJSONString(dst, v.Str)
	case KindRaw:
		return append(dst, v.Str...)
	case KindList:
		dst = append(dst, '[')
		for i, it := range v.Items {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = it.AppendJSON(dst)
		}
		return append(dst, ']')
	}
	return append(dst, "null"...)
}

// ---- encoding -------------------------------------------------------------

func appendUvarint(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }
func appendVarint(dst []byte, v int64) []byte   { return binary.AppendVarint(dst, v) }

func appendString(dst []byte, s string) []byte {
	dst = appendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// parseDecimal reads a JSON number literal as mantissa/10^scale when that is
// exact in float64 (mantissa below 2^53, scale up to 15).
func parseDecimal(lit string) (mant int64, scale int, ok bool) {
	s := lit
	neg := false
	if strings.HasPrefix(s, "-") {
		neg = true
		s = s[1:]
	}
	if s == "" {
		return 0, 0, false
	}
	// Exponents and signs fail the digit test below.
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" || len(frac) > 15 || len(intPart)+len(frac) > 16 {
		return 0, 0, false
	}
	// The digits of both parts, read in place (16 digits fit in int64).
	var m int64
	for _, part := range [2]string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, 0, false
			}
			m = m*10 + int64(part[i]-'0')
		}
	}
	if m >= 1<<53 {
		return 0, 0, false
	}
	if neg {
		m = -m
	}
	return m, len(frac), true
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

func decFloat(m int64, scale int) float64 { return float64(m) / pow10[scale] }

// ---- decoding -------------------------------------------------------------

type decoder struct {
	b   []byte
	pos int
	err error
	ix  *Index
	// For housenumber payloads: the housenumber's leading digits and the
	// first housenumber's value of the field being decoded (number forms).
	num   string
	first *Value
	// hdr is the record, for the street fields that refer to its lat, lon
	// and importance (tagDocFloat).
	hdr []byte
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = ErrCorrupt
	}
	d.pos = len(d.b)
}

func (d *decoder) byte() byte {
	if d.pos >= len(d.b) {
		d.fail()
		return 0
	}
	c := d.b[d.pos]
	d.pos++
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b[d.pos:])
	if n <= 0 {
		d.fail()
		return 0
	}
	d.pos += n
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b[d.pos:])
	if n <= 0 {
		d.fail()
		return 0
	}
	d.pos += n
	return v
}

func (d *decoder) f64() float64 {
	if d.pos+8 > len(d.b) {
		d.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b[d.pos:]))
	d.pos += 8
	return v
}

func (d *decoder) bytes(n uint64) []byte {
	if n > uint64(len(d.b)-d.pos) {
		d.fail()
		return nil
	}
	s := d.b[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return s
}

func (d *decoder) str() string {
	b := d.bytes(d.uvarint())
	return bstr(b)
}

// bstr views b as a string without copying: b is part of the read-only
// mapping (or a builder buffer that is never modified afterwards).
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// value decodes one value. ref is the reference value for the delta tags
// (the street's field of the same key, or the first housenumber's).
func (d *decoder) value(ref *Value, depth int) Value {
	tag := d.byte()
	switch {
	case tag >= tagNumFirstShort && tag < tagNumFirstShort+16:
		return d.numberForm(d.first, uint64(tag-tagNumFirstShort), true)
	case tag >= tagNumRefShort && tag < tagNumRefShort+16:
		return d.numberForm(ref, uint64(tag-tagNumRefShort), true)
	case tag >= tagDocFloat && tag < tagDocFloat+48:
		return d.docFloat(tag)
	case tag >= tagDecScaled && tag < tagDecScaled+16:
		return d.decScaled(ref, int(tag-tagDecScaled))
	}
	switch tag {
	case tagNull:
		return Value{}
	case tagFalse:
		return Value{Kind: KindBool}
	case tagTrue:
		return Value{Kind: KindBool, Bool: true}
	case tagStr:
		return Value{Kind: KindString, Str: d.str()}
	case tagInterned:
		id := d.uvarint()
		s, ok := d.ix.internedString(id)
		if !ok {
			d.fail()
		}
		return Value{Kind: KindString, Str: s}
	case tagInt:
		return Value{Kind: KindInt, Int: d.varint()}
	case tagDec:
		scale := int(d.byte())
		m := d.varint()
		if scale >= len(pow10) {
			d.fail()
			return Value{}
		}
		return Value{Kind: KindFloat, Float: decFloat(m, scale), decScale: int8(scale), decMantissa: m}
	case tagF64:
		return Value{Kind: KindFloat, Float: d.f64(), decScale: -1}
	case tagRaw:
		return Value{Kind: KindRaw, Str: d.str()}
	case tagList:
		n := d.uvarint()
		if depth > 0 || n > uint64(len(d.b)-d.pos) {
			d.fail()
			return Value{}
		}
		items := make([]Value, 0, n)
		for i := uint64(0); i < n && d.err == nil; i++ {
			items = append(items, d.value(nil, depth+1))
		}
		return Value{Kind: KindList, Items: items}
	case tagStrRef:
		shared := d.uvarint()
		suffix := d.bytes(d.uvarint())
		if ref == nil {
			d.fail()
			return Value{}
		}
		rs := ref.First()
		if rs.Kind != KindString || shared > uint64(len(rs.Str)) {
			d.fail()
			return Value{}
		}
		if len(suffix) == 0 {
			return Value{Kind: KindString, Str: rs.Str[:shared]}
		}
		return Value{Kind: KindString, Str: rs.Str[:shared] + bstr(suffix)}
	case tagNumRef:
		return d.numberForm(ref, 0, false)
	case tagNumFirst:
		return d.numberForm(d.first, 0, false)
	case tagDecRef:
		delta := d.varint()
		if ref == nil {
			d.fail()
			return Value{}
		}
		r := ref.First()
		if r.Kind != KindFloat || r.decScale < 0 || int(r.decScale) >= len(pow10) {
			d.fail()
			return Value{}
		}
		m := r.decMantissa + delta
		return Value{Kind: KindFloat, Float: decFloat(m, int(r.decScale)), decScale: r.decScale, decMantissa: m}
	}
	d.fail()
	return Value{}
}

// decScaled decodes the rest of a tagDecScaled value of scale s.
func (d *decoder) decScaled(ref *Value, s int) Value {
	delta := d.varint()
	if ref == nil {
		d.fail()
		return Value{}
	}
	r := ref.First()
	if r.Kind != KindFloat || r.decScale < 0 || int(r.decScale) > s || s >= len(pow10) {
		d.fail()
		return Value{}
	}
	rm, ok := scaleMantissa(r.decMantissa, s-int(r.decScale))
	if !ok {
		d.fail()
		return Value{}
	}
	m := rm + delta
	return Value{Kind: KindFloat, Float: decFloat(m, s), decScale: int8(s), decMantissa: m}
}

// docFloat decodes a tagDocFloat value: the record's lat, lon or
// importance as the decimal it was written as.
func (d *decoder) docFloat(tag byte) Value {
	which, scale := int(tag-tagDocFloat)>>4, int(tag-tagDocFloat)&15
	if len(d.hdr) < 24 || scale >= len(pow10) {
		d.fail()
		return Value{}
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(d.hdr[8*which:]))
	m := docFloatMantissa(f, scale)
	return Value{Kind: KindFloat, Float: decFloat(m, scale), decScale: int8(scale), decMantissa: m}
}

// numberForm decodes the rest of a number form against ref; a short
// form's header h comes from its tag.
func (d *decoder) numberForm(ref *Value, h uint64, short bool) Value {
	shared := d.uvarint()
	var mid []byte
	if !short {
		h = d.uvarint()
		mid = d.bytes(h >> 4)
	}
	var tail []byte
	if h&1 != 0 {
		tail = d.bytes(d.uvarint())
	}
	if d.err != nil || ref == nil {
		d.fail()
		return Value{}
	}
	rs := ref.First()
	if rs.Kind != KindString || shared > uint64(len(rs.Str)) {
		d.fail()
		return Value{}
	}
	const zeros = "0000000"
	pad := max(int(h>>1&7)-len(d.num), 0)
	// One allocation: the parts are concatenated at once.
	return Value{Kind: KindString, Str: rs.Str[:shared] + bstr(mid) + zeros[:pad] + d.num + bstr(tail)}
}

// skipValue advances past one value without building it.
func (d *decoder) skipValue(depth int) {
	tag := d.byte()
	if tag >= tagDocFloat && tag < tagDocFloat+48 {
		return
	}
	if tag >= tagDecScaled && tag < tagDecScaled+16 {
		d.varint()
		return
	}
	if tag >= tagNumRefShort && tag < tagNumFirstShort+16 {
		d.uvarint()
		if tag&1 != 0 {
			d.bytes(d.uvarint())
		}
		return
	}
	switch tag {
	case tagNull, tagFalse, tagTrue:
	case tagStr, tagRaw:
		d.bytes(d.uvarint())
	case tagInterned:
		d.uvarint()
	case tagInt, tagDecRef:
		d.varint()
	case tagDec:
		d.byte()
		d.varint()
	case tagF64:
		d.bytes(8)
	case tagList:
		n := d.uvarint()
		if depth > 0 {
			d.fail()
			return
		}
		for i := uint64(0); i < n && d.err == nil; i++ {
			d.skipValue(depth + 1)
		}
	case tagStrRef:
		d.uvarint()
		d.bytes(d.uvarint())
	case tagNumRef, tagNumFirst:
		d.uvarint()
		h := d.uvarint()
		d.bytes(h >> 4)
		if h&1 != 0 {
			d.bytes(d.uvarint())
		}
	default:
		d.fail()
	}
}
