package source

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"balise/internal/pyjs"
)

// ParseLine parses one ndjson line (without its trailing newline; a trailing
// "\r" is whitespace) into a Document. It returns (nil, nil) for a blank
// line. A line that is not one JSON object, or whose "housenumbers" is not an
// object of objects each with a numeric lat and lon, gives a *LineError with
// an empty File.
//
// The grammar is Python's json.loads: standard JSON plus the NaN, Infinity
// and -Infinity literals; a repeated key keeps its first position and its
// last value. All strings of the returned document share one buffer, a copy
// of line (line itself is not retained).
func ParseLine(line []byte, lineNo int) (*Document, error) {
	start := 0
	for start < len(line) && isJSONSpace(line[start]) {
		start++
	}
	if start == len(line) {
		return nil, nil
	}
	buf := make([]byte, len(line))
	copy(buf, line)
	var p parser // not a composite literal: the parser is large, build it in place
	p.buf, p.s, p.pos = buf, unsafe.String(unsafe.SliceData(buf), len(buf)), start
	doc, err := p.document()
	if err != nil {
		return nil, &LineError{Line: lineNo, Err: err}
	}
	doc.Line = lineNo
	return doc, nil
}

type parser struct {
	buf []byte // private copy of the line; strings are decoded in place
	s   string // the same memory, viewed as a string
	pos int
	// arena holds the housenumber payload fields of the line; its capacity
	// is an upper bound of the number of keys (one ':' per key), so it never
	// reallocates and payloads can be sub-slices of it.
	arena []Field
	// the repeated-key indexes of the objects being parsed: the document,
	// its housenumbers, one housenumber
	fieldKeys, hnKeys, payloadKeys keyIndex
}

// syntaxError is the error of a malformed line.
type syntaxError struct {
	msg    string
	offset int
}

func (e *syntaxError) Error() string {
	if e.offset < 0 {
		return e.msg
	}
	return e.msg + " at offset " + strconv.Itoa(e.offset)
}

func (p *parser) errAt(off int, format string, args ...any) error {
	return &syntaxError{msg: fmt.Sprintf(format, args...), offset: off}
}

func (p *parser) unexpected() error {
	if p.pos >= len(p.buf) {
		return p.errAt(p.pos, "invalid JSON: unexpected end of line")
	}
	c := p.buf[p.pos]
	if c < 0x20 || c >= 0x7f {
		r, _ := utf8.DecodeRune(p.buf[p.pos:])
		return p.errAt(p.pos, "invalid JSON: unexpected character %U", r)
	}
	return p.errAt(p.pos, "invalid JSON: unexpected character '%c'", c)
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (p *parser) skipWS() {
	for p.pos < len(p.buf) && isJSONSpace(p.buf[p.pos]) {
		p.pos++
	}
}

func (p *parser) peek() byte {
	if p.pos < len(p.buf) {
		return p.buf[p.pos]
	}
	return 0
}

func kindName(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func (p *parser) document() (*Document, error) {
	if c := p.peek(); c != '{' {
		// a valid JSON value but not an object, or a syntax error
		if err := p.skip(); err != nil {
			return nil, err
		}
		if err := p.end(); err != nil {
			return nil, err
		}
		return nil, p.errAt(-1, "not a JSON object: the line holds %s", kindName(c))
	}
	p.pos++
	doc := &Document{Fields: make([]Field, 0, 16)}
	p.skipWS()
	if p.peek() == '}' {
		p.pos++
		return doc, p.end()
	}
	seen := &p.fieldKeys
	seen.reset(0)
	hnPos := -1
	for {
		key, err := p.key(true)
		if err != nil {
			return nil, err
		}
		if key == "housenumbers" {
			hns, err := p.housenumbers()
			if err != nil {
				return nil, err
			}
			if hnPos < 0 { // a repeated key keeps its first position
				hnPos = len(doc.Fields)
			}
			doc.Housenumbers = hns // nil for null: absent
			doc.HousenumbersAt = 0
			if hns != nil {
				doc.HousenumbersAt = hnPos
			}
		} else {
			v, err := p.value(key)
			if err != nil {
				return nil, err
			}
			if i := seen.find(key); i >= 0 {
				doc.Fields[i].Value = v
			} else {
				doc.Fields = append(doc.Fields, Field{Key: key, Value: v})
				seen.add(key)
			}
		}
		p.skipWS()
		switch p.peek() {
		case ',':
			p.pos++
			continue
		case '}':
			p.pos++
			return doc, p.end()
		}
		return nil, p.unexpected()
	}
}

// end checks that only whitespace follows the top-level object.
func (p *parser) end() error {
	p.skipWS()
	if p.pos != len(p.buf) {
		return p.errAt(p.pos, "invalid JSON: extra data after the object")
	}
	return nil
}

// key parses the `"key":` of an object member, at p.pos or after
// whitespace; with decode the key is decoded in place and returned, else
// only validated.
func (p *parser) key(decode bool) (string, error) {
	p.skipWS()
	if p.peek() != '"' {
		return "", p.unexpected()
	}
	k, err := p.str(decode)
	if err != nil {
		return "", err
	}
	p.skipWS()
	if p.peek() != ':' {
		return "", p.unexpected()
	}
	p.pos++
	p.skipWS()
	return k, nil
}

// keyIndex finds the repeated keys of an object (a repeated key keeps its
// first position and its last value): a linear scan of the keys seen so far,
// or a map once the object has more than keyIndexLinear keys.
type keyIndex struct {
	n    int // keys seen
	keys [keyIndexLinear]string
	m    map[string]int
	hint int // how many keys the object may have, to size m (0: unknown)
}

const keyIndexLinear = 24

// reset forgets every key, for the next object, which may have about hint
// keys.
func (k *keyIndex) reset(hint int) {
	k.n = 0
	k.m = nil
	k.hint = hint
}

// find returns the position of key among the keys seen, or -1.
func (k *keyIndex) find(key string) int {
	if k.m != nil {
		if i, ok := k.m[key]; ok {
			return i
		}
		return -1
	}
	for i := range k.n {
		if k.keys[i] == key {
			return i
		}
	}
	return -1
}

// add records a new key at the next position.
func (k *keyIndex) add(key string) {
	if k.m == nil {
		if k.n < keyIndexLinear {
			k.keys[k.n] = key
			k.n++
			return
		}
		size := k.hint
		if size == 0 {
			size = 2 * (k.n + 1)
		}
		k.m = make(map[string]int, size)
		for i, s := range k.keys[:] {
			k.m[s] = i
		}
	}
	k.m[key] = k.n
	k.n++
}

// value parses any JSON value; key names the field for error messages.
func (p *parser) value(key string) (Value, error) {
	switch c := p.peek(); c {
	case '"':
		s, err := p.str(true)
		return Value{Kind: String, Str: s}, err
	case '{':
		start := p.pos
		if err := p.skip(); err != nil {
			return Value{}, err
		}
		return Value{Kind: Object, Str: p.s[start:p.pos]}, nil
	case '[':
		return p.list(key)
	default:
		return p.scalar()
	}
}

// scalar parses a number or a literal.
func (p *parser) scalar() (Value, error) {
	switch c := p.peek(); c {
	case 't':
		if p.lit("true") {
			return Value{Kind: Bool, Bool: true}, nil
		}
	case 'f':
		if p.lit("false") {
			return Value{Kind: Bool}, nil
		}
	case 'n':
		if p.lit("null") {
			return Value{}, nil
		}
	case 'N':
		start := p.pos
		if p.lit("NaN") {
			return Value{Kind: Number, Str: p.s[start:p.pos]}, nil
		}
	case 'I':
		start := p.pos
		if p.lit("Infinity") {
			return Value{Kind: Number, Str: p.s[start:p.pos]}, nil
		}
	default:
		if c == '-' || isDigit(c) {
			return p.number()
		}
	}
	return Value{}, p.unexpected()
}

func (p *parser) lit(w string) bool {
	if len(p.buf)-p.pos >= len(w) && p.s[p.pos:p.pos+len(w)] == w {
		p.pos += len(w)
		return true
	}
	return false
}

func (p *parser) number() (Value, error) {
	b := p.buf
	start := p.pos
	i := p.pos
	if b[i] == '-' {
		i++
		if i < len(b) && b[i] == 'I' {
			p.pos = i
			if p.lit("Infinity") {
				return Value{Kind: Number, Str: p.s[start:p.pos]}, nil
			}
			return Value{}, p.unexpected()
		}
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i, _ = digits(b, i)
	default:
		p.pos = i
		return Value{}, p.unexpected()
	}
	var ok bool
	if i < len(b) && b[i] == '.' {
		if i, ok = digits(b, i+1); !ok {
			p.pos = i
			return Value{}, p.unexpected()
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i, ok = digits(b, i); !ok {
			p.pos = i
			return Value{}, p.unexpected()
		}
	}
	p.pos = i
	return Value{Kind: Number, Str: p.s[start:i]}, nil
}

// digits returns the end of the run of digits starting at b[i], and whether
// it is not empty.
func digits(b []byte, i int) (end int, ok bool) {
	end = i
	for end < len(b) && isDigit(b[end]) {
		end++
	}
	return end, end > i
}

func (p *parser) list(key string) (Value, error) {
	p.pos++ // '['
	var stack [8]Value
	items := stack[:0]
	p.skipWS()
	if p.peek() == ']' {
		p.pos++
		return Value{Kind: List, List: []Value{}}, nil
	}
	for {
		p.skipWS()
		var v Value
		var err error
		switch p.peek() {
		case '"':
			var s string
			s, err = p.str(true)
			v = Value{Kind: String, Str: s}
		case '[', '{':
			return Value{}, p.errAt(p.pos, "field %q: Non scalar list items", key)
		default:
			v, err = p.scalar()
		}
		if err != nil {
			return Value{}, err
		}
		items = append(items, v)
		p.skipWS()
		switch p.peek() {
		case ',':
			p.pos++
			continue
		case ']':
			p.pos++
			out := make([]Value, len(items))
			copy(out, items)
			return Value{Kind: List, List: out}, nil
		}
		return Value{}, p.unexpected()
	}
}

// skip validates and skips any value without decoding its strings in place
// (the raw text of an object value is kept verbatim). Iterative, so deep
// nesting cannot overflow the stack.
func (p *parser) skip() error {
	var stackBuf [32]byte
	stack := stackBuf[:0] // open containers: '{' or '['
	for {
		// at the start of a value
		p.skipWS()
		switch c := p.peek(); c {
		case '{', '[':
			p.pos++
			stack = append(stack, c)
			p.skipWS()
			if c == '{' {
				if p.peek() == '}' {
					p.pos++
					stack = stack[:len(stack)-1]
					break
				}
				if _, err := p.key(false); err != nil {
					return err
				}
				continue
			}
			if p.peek() == ']' {
				p.pos++
				stack = stack[:len(stack)-1]
				break
			}
			continue
		case '"':
			if _, err := p.str(false); err != nil {
				return err
			}
		default:
			if _, err := p.scalar(); err != nil {
				return err
			}
		}
		// after a value: close containers or move to the next item
		for {
			if len(stack) == 0 {
				return nil
			}
			p.skipWS()
			top := stack[len(stack)-1]
			c := p.peek()
			if c == ',' {
				p.pos++
				if top == '{' {
					if _, err := p.key(false); err != nil {
						return err
					}
				}
				break
			}
			if (top == '{' && c == '}') || (top == '[' && c == ']') {
				p.pos++
				stack = stack[:len(stack)-1]
				continue
			}
			return p.unexpected()
		}
	}
}

// strPlain marks the bytes a string can hold without any processing.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return
}()

// str parses a string starting at the opening quote. With decode, escapes
// are decoded in place in p.buf and the result is a sub-string of p.s;
// without, the string is only validated.
func (p *parser) str(decode bool) (string, error) {
	b := p.buf
	start := p.pos + 1
	i := start
	for i < len(b) && strPlain[b[i]] {
		i++
	}
	if i < len(b) && b[i] == '"' { // fast path: plain ASCII
		p.pos = i + 1
		return p.s[start:i], nil
	}
	w := i // write position (== i until the first escape)
	high := false
	for {
		if i >= len(b) {
			return "", p.errAt(start-1, "invalid JSON: unterminated string starting")
		}
		c := b[i]
		switch {
		case c == '"':
			p.pos = i + 1
			end := w
			if !decode {
				end = i
			}
			if high && !utf8.Valid(b[start:end]) {
				return "", p.errAt(start, "invalid UTF-8 in string")
			}
			if !decode {
				return "", nil
			}
			return p.s[start:w], nil
		case c == '\\':
			if i+1 >= len(b) {
				return "", p.errAt(start-1, "invalid JSON: unterminated string starting")
			}
			e := b[i+1]
			var r byte
			switch e {
			case '"', '\\', '/':
				r = e
			case 'b':
				r = '\b'
			case 'f':
				r = '\f'
			case 'n':
				r = '\n'
			case 'r':
				r = '\r'
			case 't':
				r = '\t'
			case 'u':
				u, ok := hex4(b, i+2)
				if !ok {
					return "", p.errAt(i, "invalid JSON: invalid \\uXXXX escape")
				}
				n := 6
				ru := rune(u)
				if u >= 0xd800 && u < 0xdc00 && i+11 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
					if lo, ok := hex4(b, i+8); ok && lo >= 0xdc00 && lo < 0xe000 {
						ru = 0x10000 + (rune(u)-0xd800)<<10 + (rune(lo) - 0xdc00)
						n = 12
					}
				}
				// a lone surrogate (legal in Python) becomes U+FFFD
				i += n
				if decode {
					w += utf8.EncodeRune(b[w:], ru)
				}
				continue
			default:
				return "", p.errAt(i, "invalid JSON: invalid escape '\\%c'", e)
			}
			i += 2
			if decode {
				b[w] = r
			}
			w++
		case c < 0x20:
			return "", p.errAt(i, "invalid JSON: invalid control character in string")
		default:
			if c >= 0x80 {
				high = true
			}
			if decode && w != i {
				b[w] = c
			}
			i++
			w++
		}
	}
}

func hex4(b []byte, i int) (uint16, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var u uint16
	for _, c := range b[i : i+4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		u = u<<4 | uint16(d)
	}
	return u, true
}

// housenumbers parses the value of the "housenumbers" key: an object of
// objects, or null (treated as absent).
func (p *parser) housenumbers() ([]Housenumber, error) {
	switch c := p.peek(); c {
	case '{':
	case 'n':
		if p.lit("null") {
			return nil, nil
		}
		return nil, p.unexpected()
	case 0:
		return nil, p.unexpected()
	default:
		return nil, p.errAt(p.pos, "housenumbers must be an object, not %s", kindName(c))
	}
	p.pos++
	// Each housenumber object has 3 ':' that are not payload keys (its own
	// key, lat, lon): estimate the payload arena (too small only when
	// payloads hold nested objects; append then reallocates, which is fine
	// since payloads are capped sub-slices).
	rest := p.buf[p.pos:]
	nobj := bytes.Count(rest, []byte{'{'})
	if p.arena == nil {
		p.arena = make([]Field, 0, max(bytes.Count(rest, []byte{':'})-3*nobj, 8))
	}
	hns := make([]Housenumber, 0, nobj)
	p.skipWS()
	if p.peek() == '}' {
		p.pos++
		return hns, nil
	}
	seen := &p.hnKeys
	seen.reset(nobj)
	for {
		raw, err := p.key(true)
		if err != nil {
			return nil, err
		}
		hns = append(hns, Housenumber{})
		if err := p.housenumber(&hns[len(hns)-1], raw); err != nil {
			return nil, err
		}
		if i := seen.find(raw); i >= 0 { // first position, last value
			hns[i] = hns[len(hns)-1]
			hns = hns[:len(hns)-1]
		} else {
			seen.add(raw)
		}
		p.skipWS()
		switch p.peek() {
		case ',':
			p.pos++
			continue
		case '}':
			p.pos++
			return hns, nil
		}
		return nil, p.unexpected()
	}
}

func (p *parser) housenumber(hn *Housenumber, raw string) error {
	hn.Raw = raw
	c := p.peek()
	if c != '{' {
		if c == 0 {
			return p.unexpected()
		}
		return p.errAt(p.pos, "housenumbers[%q] must be an object, not %s", raw, kindName(c))
	}
	p.pos++
	first := len(p.arena)
	seen := &p.payloadKeys
	seen.reset(0)
	var hasLat, hasLon bool
	nkeys := 0
	p.skipWS()
	if p.peek() == '}' {
		p.pos++
	} else {
	loop:
		for {
			key, err := p.key(true)
			if err != nil {
				return err
			}
			v, err := p.value(key)
			if err != nil {
				return err
			}
			switch key {
			case "lat":
				hn.Lat = v
				if !hasLat {
					hn.LatAt = nkeys
					nkeys++
				}
				hasLat = true
			case "lon":
				hn.Lon = v
				if !hasLon {
					hn.LonAt = nkeys
					nkeys++
				}
				hasLon = true
			default:
				if i := seen.find(key); i >= 0 {
					p.arena[first+i].Value = v
				} else {
					p.arena = append(p.arena, Field{Key: key, Value: v})
					seen.add(key)
					nkeys++
				}
			}
			p.skipWS()
			switch p.peek() {
			case ',':
				p.pos++
			case '}':
				p.pos++
				break loop
			default:
				return p.unexpected()
			}
		}
	}
	if n := len(p.arena); n > first {
		hn.Payload = p.arena[first:n:n]
	}
	if !hasLat || !hasLon {
		missing := "lat"
		if hasLat {
			missing = "lon"
		}
		return p.errAt(-1, "housenumbers[%q] has no %s", raw, missing)
	}
	if !isNumeric(hn.Lat) {
		return p.errAt(-1, "housenumbers[%q]: lat is not a number", raw)
	}
	if !isNumeric(hn.Lon) {
		return p.errAt(-1, "housenumbers[%q]: lon is not a number", raw)
	}
	return nil
}

// isNumeric: a Number (always valid once parsed) or a numeric String.
func isNumeric(v Value) bool {
	switch v.Kind {
	case Number:
		return true
	case String:
		_, ok := pyjs.ParsePyFloat(v.Str)
		return ok
	}
	return false
}
