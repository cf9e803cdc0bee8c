package ban

import (
	"bytes"
	"strings"
)

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte{'\n'})
	return bytes.TrimSuffix(b, []byte{'\r'})
}

// quoteState tracks, across the physical lines of one record, whether the
// record is inside a quoted field (Python csv rules, ';' delimiter), so a
// record spanning many lines is scanned once.
type quoteState struct {
	inQuoted, started bool
	fieldStart        bool
}

// feed scans the next part of the record and reports whether it ends inside
// a quoted field. Parts are separated by a newline, so a quote ending one
// part inside a quoted field closes it.
func (q *quoteState) feed(s string) bool {
	if !q.started {
		q.started, q.fieldStart = true, true
	}
	if !q.inQuoted && strings.IndexByte(s, '"') < 0 {
		if i := strings.LastIndexByte(s, ';'); i >= 0 {
			q.fieldStart = i == len(s)-1
		} else if s != "" {
			q.fieldStart = false
		}
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q.inQuoted:
			if c == '"' {
				if i+1 < len(s) && s[i+1] == '"' {
					i++
				} else {
					q.inQuoted = false
				}
			}
		case c == ';':
			q.fieldStart = true
			continue
		case c == '"' && q.fieldStart:
			q.inQuoted = true
		}
		q.fieldStart = false
	}
	return q.inQuoted
}

// openQuote reports whether a record ends inside a quoted field.
func openQuote(s string) bool {
	var q quoteState
	return q.feed(s)
}

// splitCSV splits one record with Python csv's default dialect rules and a
// ';' delimiter: a field starting with '"' is quoted ("" is a quote, text
// after the closing quote is kept), a quote elsewhere is literal.
func splitCSV(s string, dst []string) []string {
	if strings.IndexByte(s, '"') < 0 {
		for {
			i := strings.IndexByte(s, ';')
			if i < 0 {
				return append(dst, s)
			}
			dst = append(dst, s[:i])
			s = s[i+1:]
		}
	}
	var b []byte
	i := 0
	for {
		// start of a field
		if i < len(s) && s[i] == '"' {
			b = b[:0]
			i++
			for i < len(s) {
				c := s[i]
				if c == '"' {
					if i+1 < len(s) && s[i+1] == '"' {
						b = append(b, '"')
						i += 2
						continue
					}
					i++
					break
				}
				b = append(b, c)
				i++
			}
			// after the closing quote: anything up to ';' is appended
			j := strings.IndexByte(s[i:], ';')
			if j < 0 {
				b = append(b, s[i:]...)
				return append(dst, string(b))
			}
			b = append(b, s[i:i+j]...)
			dst = append(dst, string(b))
			i += j + 1
			continue
		}
		j := strings.IndexByte(s[i:], ';')
		if j < 0 {
			return append(dst, s[i:])
		}
		dst = append(dst, s[i:i+j])
		i += j + 1
	}
}
