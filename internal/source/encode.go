package source

import (
	"strconv"
	"unicode/utf8"
	"unsafe"

	"balise/internal/pyjs"
)

// AppendJSON appends the document as one compact JSON object, the way
// Python's json.dumps(doc, ensure_ascii=False, separators=(",", ":")) writes
// the dict json.loads made of the input line: keys in document order
// (housenumbers at its original position), ints as ints ("-0" -> "0"),
// floats in repr form ("1E5" -> "100000.0", "1e-5" -> "1e-05"), nested
// objects re-encoded compactly. No trailing newline.
func (d *Document) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	n := 0
	hn := func() {
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = append(dst, `"housenumbers":{`...)
		for i := range d.Housenumbers {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = d.Housenumbers[i].appendJSON(dst)
		}
		dst = append(dst, '}')
	}
	for i := range d.Fields {
		if d.Housenumbers != nil && d.HousenumbersAt == i {
			hn()
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = pyjs.AppendPyJSONString(dst, d.Fields[i].Key)
		dst = append(dst, ':')
		dst = d.Fields[i].Value.AppendJSON(dst)
	}
	if d.Housenumbers != nil && d.HousenumbersAt >= len(d.Fields) {
		hn()
	}
	return append(dst, '}')
}

// appendJSON appends `"raw":{...}`.
func (h *Housenumber) appendJSON(dst []byte) []byte {
	dst = pyjs.AppendPyJSONString(dst, h.Raw)
	dst = append(dst, ':', '{')
	total := len(h.Payload) + 2
	latAt, lonAt := h.LatAt, h.LonAt
	if latAt == lonAt || latAt < 0 || lonAt < 0 || latAt >= total || lonAt >= total {
		latAt, lonAt = 0, 1
	}
	p := 0
	for pos := 0; pos < total; pos++ {
		if pos > 0 {
			dst = append(dst, ',')
		}
		switch pos {
		case latAt:
			dst = append(dst, `"lat":`...)
			dst = h.Lat.AppendJSON(dst)
		case lonAt:
			dst = append(dst, `"lon":`...)
			dst = h.Lon.AppendJSON(dst)
		default:
			dst = pyjs.AppendPyJSONString(dst, h.Payload[p].Key)
			dst = append(dst, ':')
			dst = h.Payload[p].Value.AppendJSON(dst)
			p++
		}
	}
	return append(dst, '}')
}

// AppendJSON appends the value as Python's json.dumps would write what
// json.loads made of it (see Document.AppendJSON).
func (v Value) AppendJSON(dst []byte) []byte {
	switch v.Kind {
	case Null:
		return append(dst, "null"...)
	case Bool:
		if v.Bool {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case Number:
		return appendPyNumber(dst, v.Str)
	case String:
		return pyjs.AppendPyJSONString(dst, v.Str)
	case List:
		dst = append(dst, '[')
		for i, it := range v.List {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = it.AppendJSON(dst)
		}
		return append(dst, ']')
	case Object:
		return appendRawJSON(dst, v.Str)
	}
	return append(dst, "null"...)
}

// appendPyNumber normalises a JSON number literal like Python's
// json.dumps(json.loads(lit)).
func appendPyNumber(dst []byte, lit string) []byte {
	v := Value{Kind: Number, Str: lit}
	if v.IsInt() {
		return append(dst, pyNumberStr(lit)...)
	}
	f, ok := v.Float()
	if !ok {
		return append(dst, lit...)
	}
	return pyjs.AppendJSONFloat(dst, f)
}

// appendRawJSON re-encodes the raw JSON text of a nested value compactly,
// with Python's rules (repeated keys: first position, last value).
func appendRawJSON(dst []byte, raw string) []byte {
	buf := []byte(raw)
	var p parser
	p.buf, p.s = buf, unsafe.String(unsafe.SliceData(buf), len(buf))
	p.skipWS()
	n, err := p.tree()
	if err != nil {
		return append(dst, raw...) // cannot happen for text ParseLine accepted
	}
	return n.appendJSON(dst)
}

// node is a generic JSON tree, only used to re-encode nested objects.
type node struct {
	v     Value // scalars (Kind List/Object use items/keys)
	keys  []string
	items []node
}

func (p *parser) tree() (node, error) {
	switch p.peek() {
	case '{':
		p.pos++
		n := node{v: Value{Kind: Object}}
		var seen keyIndex
		p.skipWS()
		if p.peek() == '}' {
			p.pos++
			return n, nil
		}
		for {
			k, err := p.key(true)
			if err != nil {
				return n, err
			}
			c, err := p.tree()
			if err != nil {
				return n, err
			}
			if i := seen.find(k); i >= 0 {
				n.items[i] = c
			} else {
				n.keys = append(n.keys, k)
				n.items = append(n.items, c)
				seen.add(k)
			}
			p.skipWS()
			switch p.peek() {
			case ',':
				p.pos++
				continue
			case '}':
				p.pos++
				return n, nil
			}
			return n, p.unexpected()
		}
	case '[':
		p.pos++
		n := node{v: Value{Kind: List}}
		p.skipWS()
		if p.peek() == ']' {
			p.pos++
			return n, nil
		}
		for {
			p.skipWS()
			c, err := p.tree()
			if err != nil {
				return n, err
			}
			n.items = append(n.items, c)
			p.skipWS()
			switch p.peek() {
			case ',':
				p.pos++
				continue
			case ']':
				p.pos++
				return n, nil
			}
			return n, p.unexpected()
		}
	case '"':
		s, err := p.str(true)
		return node{v: Value{Kind: String, Str: s}}, err
	}
	v, err := p.scalar()
	return node{v: v}, err
}

func (n *node) appendJSON(dst []byte) []byte {
	switch n.v.Kind {
	case Object:
		dst = append(dst, '{')
		for i := range n.items {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = pyjs.AppendPyJSONString(dst, n.keys[i])
			dst = append(dst, ':')
			dst = n.items[i].appendJSON(dst)
		}
		return append(dst, '}')
	case List:
		dst = append(dst, '[')
		for i := range n.items {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = n.items[i].appendJSON(dst)
		}
		return append(dst, ']')
	}
	return n.v.AppendJSON(dst)
}

// quoteForError is a short, printable rendering of s for error messages.
func quoteForError(s string) string {
	if len(s) > 40 {
		cut := 40
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strconv.Quote(s)
}
