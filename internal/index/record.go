package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"balise/internal/source"
)

// encodeRecord serialises one document (see doc.go, "Document records"),
// its housenumbers as dedupHousenumbers kept them.
func (b *Builder) encodeRecord(a *analyzed) (rec []byte, err error) {
	doc := a.doc
	dst := b.scratch[:0]
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(a.lat))
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(a.lon))
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(a.imp))
	dst = appendUvarint(dst, uint64(len(doc.Fields)))
	docFields := b.docFields
	clear(docFields)
	for i := range doc.Fields {
		f := &doc.Fields[i]
		if _, dup := docFields[f.Key]; !dup {
			docFields[f.Key] = &f.Value
		}
		dst = appendUvarint(dst, uint64(b.keys.id(f.Key)))
		if tag, ok := docFloatTag(f.Value, [3]float64{a.lat, a.lon, a.imp}); ok {
			dst = append(dst, tag)
			continue
		}
		dst, err = b.encodeValue(dst, f.Value, internedFields[f.Key], nil, 0)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", f.Key, err)
		}
	}

	dst = appendUvarint(dst, uint64(len(a.keep)))
	var first *source.Housenumber
	body := b.body
	latRef, lonRef := docFields["lat"], docFields["lon"]
	plan := &b.plan
	for n, i := range a.keep {
		h := &doc.Housenumbers[i]
		dst = appendUvarint(dst, uint64(b.housenumberKeysID(a.hnKeys[i], h.Raw)))
		body = body[:0]
		body, err = b.encodeValue(body, h.Lat, false, latRef, 0)
		if err == nil {
			body, err = b.encodeValue(body, h.Lon, false, lonRef, 0)
		}
		if err != nil {
			return nil, fmt.Errorf("housenumber %q: %w", h.Raw, err)
		}
		body, err = b.encodePayload(body, h, first, docFields, plan)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			first = h
			plan.make(first, docFields)
		}
		dst = appendUvarint(dst, uint64(len(body)))
		dst = append(dst, body...)
	}
	b.scratch, b.body = dst, body
	return dst, nil
}

// docFloatTag returns the one-byte form of a decimal field equal to one of
// the record's lat, lon and importance (the fields they were read from):
// the tag names which and the decimal's scale, the mantissa is recomputed
// from the float. ok is false unless that gives back the decimal exactly.
func docFloatTag(v source.Value, hdr [3]float64) (byte, bool) {
	if v.Kind != source.Number || v.IsInt() {
		return 0, false
	}
	m, scale, ok := parseDecimal(v.Str)
	if !ok {
		return 0, false
	}
	for i, f := range hdr {
		if decFloat(m, scale) == f && docFloatMantissa(f, scale) == m {
			return byte(tagDocFloat + i<<4 + scale), true
		}
	}
	return 0, false
}

// appendHousenumberKeys appends the interned form of a housenumber's processed and
// raw keys: uvarint len(key), key, then raw unless it equals key (an empty
// raw key gives an empty processed key, never stored). A street's numbers
// are mostly those of other streets, so this is a string table entry
// shared by thousands of housenumbers.
func appendHousenumberKeys(dst []byte, key, raw string) []byte {
	dst = appendString(dst, key)
	if raw != key {
		dst = append(dst, raw...)
	}
	return dst
}

// splitHousenumberKeys reverses appendHousenumberKeys; ok is false when e is not
// such an entry.
func splitHousenumberKeys(e string) (key, raw string, ok bool) {
	n, w := uvarintString(e)
	if w == 0 || n > uint64(len(e)-w) {
		return "", "", false
	}
	key, raw = e[w:w+int(n)], e[w+int(n):]
	if raw == "" {
		raw = key
	}
	return key, raw, true
}

// uvarintString reads a uvarint at the start of s (binary.Uvarint without
// a conversion to []byte); w is 0 when there is none.
func uvarintString(s string) (v uint64, w int) {
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			return v | uint64(c)<<shift, i + 1
		}
		v |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

// encodePayload appends a housenumber's payload: its field count, shifted
// left by one with the low bit set when the fields have the keys of the
// first housenumber's, in order (their ids are then left out), and the
// fields. first is nil for the first housenumber.
func (b *Builder) encodePayload(body []byte, h *source.Housenumber, first *source.Housenumber, docFields map[string]*source.Value, plan *payloadPlan) ([]byte, error) {
	sameKeys := first != nil && len(first.Payload) == len(h.Payload)
	for i := 0; sameKeys && i < len(h.Payload); i++ {
		sameKeys = h.Payload[i].Key == first.Payload[i].Key
	}
	n := uint64(len(h.Payload)) << 1
	if sameKeys {
		n |= 1
	}
	body = appendUvarint(body, n)
	num := leadingDigits(h.Raw)
	var err error
	for i, f := range h.Payload {
		var ref, firstRef *source.Value
		var intern bool
		if sameKeys {
			ref, firstRef, intern = plan.refs[i], plan.firstRefs[i], plan.interned[i]
		} else {
			ref, firstRef, intern = payloadRefs(f.Key, first, docFields)
			body = appendUvarint(body, uint64(b.keys.id(f.Key)))
		}
		body, err = b.encodePayloadValue(body, f.Value, intern, ref, firstRef, num)
		if err != nil {
			return nil, fmt.Errorf("housenumber %q field %q: %w", h.Raw, f.Key, err)
		}
	}
	return body, nil
}

// encodePayloadValue appends a payload value in its shortest form: the
// general ones (encodeValue) or, for a string, one of the number forms
// against the reference or the first housenumber's value, which write a
// housenumber's id ("75101_cfq3tf_00022_s" for "22s" of street
// "75101_cfq3tf", "040010012W-7" for "7" after "040010012W-1") in 2 to 5
// bytes.
func (b *Builder) encodePayloadValue(dst []byte, v source.Value, intern bool, ref, firstRef *source.Value, num string) ([]byte, error) {
	start := len(dst)
	dst, err := b.encodeValue(dst, v, intern, ref, 0)
	if err != nil || v.Kind != source.String || num == "" {
		return dst, err
	}
	best := dst[start:]
	// A number form takes at least 2 bytes, and every padding of the
	// number contains it: most strings are done here.
	if len(best) <= 2 || !strings.Contains(v.Str, num) {
		return dst, nil
	}
	// The forms are built apart from dst, which best may be a view of, in
	// two reused buffers: the one best views is not written over.
	for k, c := range [2]struct {
		tag byte
		ref *source.Value
	}{{tagNumRef, ref}, {tagNumFirst, firstRef}} {
		r := firstOf(c.ref)
		if r == nil || r.Kind != source.String {
			continue
		}
		f, ok := appendNumberForm(b.forms[k][:0], c.tag, r.Str, v.Str, num)
		b.forms[k] = f
		if ok && len(f) < len(best) {
			best = f
		}
	}
	return append(dst[:start], best...), nil
}

// appendNumberForm appends s as tag, uvarint shared, uvarint
// len(mid)<<4 | width<<1 | hasTail, mid, then when hasTail a string tail,
// so that s = ref[:shared] + mid + the number padded with zeros to width
// (0: not padded) + tail, choosing the cheapest split; without mid, the
// short tag holds width<<1 | hasTail. ok is false when the number is
// nowhere in s.
func appendNumberForm(dst []byte, tag byte, ref, s, num string) ([]byte, bool) {
	bestCost, bestAt, bestW := -1, 0, 0
	// Every padding of the number ends with the number: look for it, then
	// at the zeros before it (no string is built).
	for from := 0; from < len(s); {
		j := strings.Index(s[from:], num)
		if j < 0 {
			break
		}
		j += from
		for k := 0; k <= j; k++ {
			if k > 0 && (len(num)+k > maxNumberWidth || s[j-k] != '0') {
				break
			}
			w := 0 // unpadded
			if k > 0 {
				w = len(num) + k
			}
			if c := numberFormCost(ref, s, j-k, len(num)+k, w); bestCost < 0 || c < bestCost {
				bestCost, bestAt, bestW = c, j-k, w
			}
		}
		from = j + 1
	}
	if bestCost < 0 {
		return dst, false
	}
	shared, mid, tail := numberFormParts(ref, s, bestAt, max(len(num), bestW))
	h := uint64(len(mid))<<4 | uint64(bestW)<<1
	if tail != "" {
		h |= 1
	}
	if mid == "" {
		dst = append(dst, numShortTag(tag)+byte(h))
		dst = appendUvarint(dst, uint64(shared))
	} else {
		dst = append(dst, tag)
		dst = appendUvarint(dst, uint64(shared))
		dst = appendUvarint(dst, h)
		dst = append(dst, mid...)
	}
	if tail != "" {
		dst = appendString(dst, tail)
	}
	return dst, true
}

// numberFormParts splits s around the padded number at [at, at+n).
func numberFormParts(ref, s string, at, n int) (shared int, mid, tail string) {
	shared = commonPrefix(ref, s[:at])
	return shared, s[shared:at], s[at+n:]
}

func numberFormCost(ref, s string, at, n, w int) int {
	shared, mid, tail := numberFormParts(ref, s, at, n)
	c := uvarintLen(uint64(shared))
	if mid != "" { // else the short tag holds the rest of the header
		c += uvarintLen(uint64(len(mid))<<4|uint64(w)<<1) + len(mid)
	}
	if tail != "" {
		c += uvarintLen(uint64(len(tail))) + len(tail)
	}
	return c
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// payloadRefs are the references a payload field of key is encoded
// against: the document's field of that key, else the first
// housenumber's; the first housenumber's own (nil for the first); and
// whether the field's values are interned.
func payloadRefs(key string, first *source.Housenumber, docFields map[string]*source.Value) (ref, firstRef *source.Value, intern bool) {
	ref = docFields[key]
	if first != nil {
		firstRef = payloadValue(first, key)
	}
	if ref == nil {
		ref = firstRef
	}
	return ref, firstRef, internedFields[key]
}

// payloadPlan holds payloadRefs for each field of the first
// housenumber's payload, which the others of a record nearly always share
// (same keys in the same order): three map lookups per field and
// housenumber otherwise, 26 M housenumbers in the full BAN.
type payloadPlan struct {
	refs, firstRefs []*source.Value
	interned        []bool
}

// make fills the plan for a record whose first housenumber is first.
func (p *payloadPlan) make(first *source.Housenumber, docFields map[string]*source.Value) {
	p.refs, p.firstRefs, p.interned = p.refs[:0], p.firstRefs[:0], p.interned[:0]
	for _, f := range first.Payload {
		ref, firstRef, intern := payloadRefs(f.Key, first, docFields)
		p.refs = append(p.refs, ref)
		p.firstRefs = append(p.firstRefs, firstRef)
		p.interned = append(p.interned, intern)
	}
}

// housenumberKeysID is the string-table id of a housenumber's processed
// and written keys (appendHousenumberKeys). The key is a function of the
// written form, so a number written plainly under 10,000 ("1" to "9999"),
// most housenumbers, has its id in a table instead of a map lookup.
func (b *Builder) housenumberKeysID(key, raw string) uint32 {
	n, small := smallNumber(raw)
	if small && b.smallIDs[n] != 0 {
		return b.smallIDs[n] - 1
	}
	// A view of a reused buffer: id copies the string when it is new.
	b.keyBuf = appendHousenumberKeys(b.keyBuf[:0], key, raw)
	id := b.strs.id(bstr(b.keyBuf))
	if small {
		b.smallIDs[n] = id + 1
	}
	return id
}

// smallNumbers bounds the housenumbers housenumberKeysID keeps in a table.
const smallNumbers = 10000

// smallNumber reads "1" to "9999" (digits only, no leading zero).
func smallNumber(raw string) (int, bool) {
	if raw == "" || raw[0] == '0' || leadingDigits(raw) != raw {
		return 0, false
	}
	n, err := strconv.Atoi(raw)
	return n, err == nil && n < smallNumbers
}

func payloadValue(h *source.Housenumber, key string) *source.Value {
	if h == nil {
		return nil
	}
	for i := range h.Payload {
		if h.Payload[i].Key == key {
			return &h.Payload[i].Value
		}
	}
	return nil
}

func firstOf(v *source.Value) *source.Value {
	if v == nil {
		return nil
	}
	if v.Kind == source.List {
		if len(v.List) == 0 {
			return nil
		}
		return &v.List[0]
	}
	return v
}

func (b *Builder) encodeValue(dst []byte, v source.Value, intern bool, ref *source.Value, depth int) ([]byte, error) {
	switch v.Kind {
	case source.Null:
		return append(dst, tagNull), nil
	case source.Bool:
		if v.Bool {
			return append(dst, tagTrue), nil
		}
		return append(dst, tagFalse), nil
	case source.String:
		if r := firstOf(ref); r != nil && r.Kind == source.String {
			shared := commonPrefix(r.Str, v.Str)
			if shared >= 4 {
				dst = append(dst, tagStrRef)
				dst = appendUvarint(dst, uint64(shared))
				return appendString(dst, v.Str[shared:]), nil
			}
		}
		if intern {
			dst = append(dst, tagInterned)
			return appendUvarint(dst, uint64(b.strs.id(v.Str))), nil
		}
		dst = append(dst, tagStr)
		return appendString(dst, v.Str), nil
	case source.Number:
		lit := v.Str
		if v.IsInt() {
			if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
				dst = append(dst, tagInt)
				return appendVarint(dst, n), nil
			}
			dst = append(dst, tagRaw)
			return appendString(dst, lit), nil
		}
		if m, scale, ok := parseDecimal(lit); ok {
			if r := firstOf(ref); r != nil && r.Kind == source.Number && !r.IsInt() {
				if rm, rs, ok := parseDecimal(r.Str); ok && rs == scale {
					delta := m - rm
					dst = append(dst, tagDecRef)
					return appendVarint(dst, delta), nil
				} else if ok {
					if tag, delta, ok := scaledDelta(m, scale, rm, rs); ok {
						return appendVarint(append(dst, tag), delta), nil
					}
				}
			}
			dst = append(dst, tagDec, byte(scale))
			return appendVarint(dst, m), nil
		}
		f, err := strconv.ParseFloat(lit, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, fmt.Errorf("bad number %q", lit)
		}
		dst = append(dst, tagF64)
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f)), nil
	case source.List:
		if depth > 0 {
			return nil, errors.New("nested lists are not supported")
		}
		dst = append(dst, tagList)
		dst = appendUvarint(dst, uint64(len(v.List)))
		var err error
		for _, it := range v.List {
			if dst, err = b.encodeValue(dst, it, intern, nil, depth+1); err != nil {
				return nil, err
			}
		}
		return dst, nil
	case source.Object:
		dst = append(dst, tagRaw)
		return appendString(dst, v.Str), nil
	}
	return nil, fmt.Errorf("unknown value kind %d", v.Kind)
}

// scaledDelta is the tagDecScaled form of decimal m/10^scale against the
// reference rm/10^rs of another scale ("6862544.4" against "6862571.27"):
// both at the larger scale s, the value's mantissa less the reference's.
// The value decodes as m*10^(s-scale) / 10^s, the same float64 as
// m/10^scale: both are the correctly rounded quotient of the same exact
// rational. ok is false when a mantissa would reach 2^53.
func scaledDelta(m int64, scale int, rm int64, rs int) (tag byte, delta int64, ok bool) {
	s := max(scale, rs)
	mv, okV := scaleMantissa(m, s-scale)
	mr, okR := scaleMantissa(rm, s-rs)
	if !okV || !okR || s >= len(pow10) {
		return 0, 0, false
	}
	return byte(tagDecScaled + s), mv - mr, true
}

// scaleMantissa multiplies m by 10^k; ok is false from 2^53 on (the
// decimals are exact in float64 below it).
func scaleMantissa(m int64, k int) (int64, bool) {
	for ; k > 0; k-- {
		m *= 10
		if m >= 1<<53 || m <= -(1<<53) {
			return 0, false
		}
	}
	return m, true
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// ---- decoding -------------------------------------------------------------

// Field is one stored document field.
type Field struct {
	Key   string
	Value Value
}

// Doc is a decoded document. Decoding indexes where each field sits;
// values are decoded when asked for, so scoring a candidate reads only the
// few fields it needs. Reuse one Doc across calls to avoid allocations.
type Doc struct {
	ID         uint32
	Lat, Lon   float64
	Importance float64
	rec        []byte
	spans      []fieldSpan
	fields     []Field // all fields, decoded on first use of Fields
	hn         []byte  // encoded housenumber entries
	nHN        int
	ix         *Index
}

type fieldSpan struct {
	key        uint32
	start, end uint32
}

// Housenumber is one decoded housenumber of a document.
type Housenumber struct {
	Index    int    // stored index (geo points refer to it as Index+1)
	Key      string // processed key ("1b")
	Raw      string // as imported ("1 bis")
	Lat, Lon float64
	LatValue Value
	LonValue Value
	Payload  []Field
}

// Get returns the first field with that key.
func (d *Doc) Get(key string) (Value, bool) {
	id, ok := d.ix.keyIndex[key]
	if !ok {
		return Value{}, false
	}
	for _, sp := range d.spans {
		if sp.key == id {
			dec := decoder{b: d.rec[sp.start:sp.end], ix: d.ix, hdr: d.rec}
			v := dec.value(nil, 0)
			return v, dec.err == nil
		}
	}
	return Value{}, false
}

// Fields returns every field in document order.
func (d *Doc) Fields() []Field {
	if d.fields != nil || len(d.spans) == 0 {
		return d.fields
	}
	d.fields = make([]Field, 0, len(d.spans))
	for _, sp := range d.spans {
		key, _ := d.ix.keyName(uint64(sp.key))
		dec := decoder{b: d.rec[sp.start:sp.end], ix: d.ix, hdr: d.rec}
		d.fields = append(d.fields, Field{Key: key, Value: dec.value(nil, 0)})
	}
	return d.fields
}

// NumHousenumbers is the number of stored housenumbers.
func (d *Doc) NumHousenumbers() int { return d.nHN }

// decodeDoc fills d from a record.
func (ix *Index) decodeDoc(id uint32, rec []byte, d *Doc) error {
	dec := decoder{b: rec, ix: ix}
	d.ID = id
	d.ix = ix
	d.Lat = dec.f64()
	d.Lon = dec.f64()
	d.Importance = dec.f64()
	n := dec.uvarint()
	if n > uint64(len(rec)) {
		return fmt.Errorf("document %d: %w", id, ErrCorrupt)
	}
	if uint64(cap(d.spans)) < n {
		d.spans = make([]fieldSpan, 0, n)
	}
	d.spans = d.spans[:0]
	d.fields = nil
	d.rec = rec
	for i := uint64(0); i < n && dec.err == nil; i++ {
		k := dec.uvarint()
		if k >= uint64(len(ix.meta.Keys)) {
			dec.fail()
			break
		}
		start := dec.pos
		dec.skipValue(0)
		d.spans = append(d.spans, fieldSpan{key: uint32(k), start: uint32(start), end: uint32(dec.pos)})
	}
	nh := dec.uvarint()
	if dec.err != nil || nh > uint64(len(rec)) {
		return fmt.Errorf("document %d: %w", id, ErrCorrupt)
	}
	d.nHN = int(nh)
	d.hn = rec[dec.pos:]
	return nil
}

// hnEntry walks the housenumber entries; fn returns false to stop.
func (d *Doc) walkHousenumbers(fn func(i int, key, raw string, body []byte) bool) error {
	dec := decoder{b: d.hn, ix: d.ix}
	for i := 0; i < d.nHN; i++ {
		e, ok := d.ix.internedString(dec.uvarint())
		key, raw, ok2 := splitHousenumberKeys(e)
		body := dec.bytes(dec.uvarint())
		if dec.err != nil || !ok || !ok2 {
			return fmt.Errorf("document %d housenumbers: %w", d.ID, ErrCorrupt)
		}
		if !fn(i, key, raw, body) {
			return nil
		}
	}
	return nil
}

// FindHousenumber returns the housenumber whose processed key is key.
func (d *Doc) FindHousenumber(key string) (Housenumber, bool, error) {
	h, found, err := d.housenumber(true, key, 0)
	return h, found && err == nil, err
}

// HousenumberAt returns the stored housenumber i.
func (d *Doc) HousenumberAt(i int) (Housenumber, error) {
	h, found, err := d.housenumber(false, "", i)
	if !found && err == nil {
		return h, fmt.Errorf("document %d has no housenumber %d: %w", d.ID, i, ErrCorrupt)
	}
	return h, err
}

// housenumber decodes the stored housenumber whose processed key is key
// (byKey) or else the one at position at; found is false when there is none.
func (d *Doc) housenumber(byKey bool, key string, at int) (h Housenumber, found bool, err error) {
	var firstBody []byte
	var firstRaw string
	werr := d.walkHousenumbers(func(i int, k, raw string, body []byte) bool {
		if i == 0 {
			firstBody, firstRaw = body, raw
		}
		if (byKey && k != key) || (!byKey && i != at) {
			return true
		}
		found = true
		h, err = d.decodeHousenumber(i, k, raw, body, firstBody, firstRaw)
		return false
	})
	if werr != nil {
		return h, false, werr
	}
	return h, found, err
}

// HousenumberKeys calls fn with every processed housenumber key.
func (d *Doc) HousenumberKeys(fn func(i int, key string) bool) error {
	return d.walkHousenumbers(func(i int, k, _ string, _ []byte) bool { return fn(i, k) })
}

func (d *Doc) decodeHousenumber(i int, key, raw string, body, firstBody []byte, firstRaw string) (Housenumber, error) {
	h := Housenumber{Index: i, Key: key, Raw: raw}
	var first []Field
	if i > 0 {
		fh, err := d.decodeBody(firstBody, firstRaw, nil, false)
		if err != nil {
			return h, err
		}
		first = fh.Payload
	}
	b, err := d.decodeBody(body, raw, first, i > 0)
	if err != nil {
		return h, err
	}
	b.Index, b.Key, b.Raw = i, key, raw
	return b, nil
}

// decodeBody decodes a housenumber body; first is the first housenumber's
// payload, for every other housenumber (hasFirst), and raw its key as
// imported (the number forms need its digits).
func (d *Doc) decodeBody(body []byte, raw string, first []Field, hasFirst bool) (Housenumber, error) {
	var h Housenumber
	dec := decoder{b: body, ix: d.ix, num: leadingDigits(raw)}
	latRef, _ := d.Get("lat")
	lonRef, _ := d.Get("lon")
	h.LatValue = dec.value(&latRef, 0)
	h.LonValue = dec.value(&lonRef, 0)
	n := dec.uvarint()
	sameKeys := n&1 != 0
	n >>= 1
	if n > uint64(len(body)) || sameKeys && (!hasFirst || n != uint64(len(first))) {
		return h, fmt.Errorf("document %d housenumber: %w", d.ID, ErrCorrupt)
	}
	h.Payload = make([]Field, 0, n)
	for k := uint64(0); k < n && dec.err == nil; k++ {
		var key string
		if sameKeys {
			key = first[k].Key
		} else {
			var ok bool
			if key, ok = d.ix.keyName(dec.uvarint()); !ok {
				dec.fail()
				break
			}
		}
		dec.first = nil
		for j := range first {
			if first[j].Key == key {
				dec.first = &first[j].Value
				break
			}
		}
		ref := dec.first
		if v, ok := d.Get(key); ok {
			ref = &v
		}
		h.Payload = append(h.Payload, Field{Key: key, Value: dec.value(ref, 0)})
	}
	if dec.err != nil {
		return h, fmt.Errorf("document %d housenumber: %w", d.ID, ErrCorrupt)
	}
	var ok1, ok2 bool
	h.Lat, ok1 = h.LatValue.AsFloat()
	h.Lon, ok2 = h.LonValue.AsFloat()
	if !ok1 || !ok2 {
		return h, fmt.Errorf("document %d housenumber without coordinates: %w", d.ID, ErrCorrupt)
	}
	return h, nil
}
