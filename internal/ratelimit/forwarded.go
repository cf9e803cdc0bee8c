package ratelimit

import (
	"net/netip"
	"strings"
)

// nextForwarded reads one element of a Forwarded header (RFC 7239
// section 4), the one ending at line[:end]: pairs separated by ";", of
// which for= is the client of the proxy that wrote the element.
//
// Elements are found from the right, so the part of the header written
// by trusted proxies is read first and whatever a client put further
// left costs nothing. Commas inside quoted strings do not split; an
// element longer than maxForwardedPair, or with an unterminated quote, is
// malformed.
func nextForwarded(line string, end int) (hop, int, bool) {
	start, quoted := end-1, false
	for ; start >= 0; start-- {
		if end-start > maxForwardedPair {
			return hop{}, 0, false
		}
		c := line[start]
		if c == '"' && !escaped(line, start) {
			quoted = !quoted
		} else if c == ',' && !quoted {
			break
		}
	}
	if quoted {
		return hop{}, 0, false
	}
	h := hop{last: start < 0}
	elem := strings.TrimSpace(line[start+1 : end])
	if elem == "" {
		h.empty = true
		return h, start, true
	}
	value, ok := forValue(elem)
	if !ok {
		return hop{}, 0, false
	}
	h.addr, h.opaque, ok = parseForwardedNode(value)
	return h, start, ok
}

// escaped reports whether the quote at line[i] is escaped: preceded by an
// odd run of backslashes.
func escaped(line string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && line[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// forValue returns the unquoted value of the element's one for= pair.
// An element without for=, with it twice, or not made of
// token=(token|quoted-string) pairs is malformed.
func forValue(elem string) (string, bool) {
	var value string
	found := false
	for rest := elem; ; {
		rest = strings.TrimLeft(rest, " \t")
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 || !isToken(rest[:eq]) {
			return "", false
		}
		name := rest[:eq]
		v, after, ok := pairValue(rest[eq+1:])
		if !ok {
			return "", false
		}
		if strings.EqualFold(name, "for") {
			if found {
				return "", false
			}
			value, found = v, true
		}
		after = strings.TrimLeft(after, " \t")
		if after == "" {
			return value, found
		}
		if after[0] != ';' {
			return "", false
		}
		rest = after[1:]
	}
}

// pairValue reads a token or a quoted string at the start of s and
// returns it (unquoted) with what follows.
func pairValue(s string) (value, rest string, ok bool) {
	if s == "" {
		return "", "", false
	}
	if s[0] != '"' {
		i := 0
		for i < len(s) && isValueChar(s[i]) {
			i++
		}
		return s[:i], s[i:], i > 0
	}
	escapes := false
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '"':
			if escapes {
				return unescape(s[1:i]), s[i+1:], true
			}
			return s[1:i], s[i+1:], true
		case '\\':
			if i+1 == len(s) {
				return "", "", false
			}
			escapes = true
			i++
		}
	}
	return "", "", false
}

// unescape removes the backslashes of a quoted string's quoted-pairs.
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return s != ""
}

func isTokenChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isValueChar accepts a token character or ':' and '[' ']' in an
// unquoted value: RFC 7239 requires quotes around IPv6 and ports, but
// some proxies leave them out, and the address is unambiguous anyway.
func isValueChar(c byte) bool {
	return isTokenChar(c) || c == ':' || c == '[' || c == ']'
}

// parseForwardedNode parses a for= value (RFC 7239 section 6): an IPv4
// address, a bracketed IPv6 address, either with an optional port
// (digits or an obfuscated port), or "unknown" or an obfuscated
// identifier ("_hidden"), which is opaque.
func parseForwardedNode(v string) (addr netip.Addr, opaque, ok bool) {
	if strings.EqualFold(v, "unknown") || strings.HasPrefix(v, "_") {
		return netip.Addr{}, true, validObfuscated(v)
	}
	host, port := v, ""
	if strings.HasPrefix(v, "[") {
		i := strings.IndexByte(v, ']')
		if i < 0 {
			return netip.Addr{}, false, false
		}
		host, port = v[1:i], v[i+1:]
		if port != "" {
			var found bool
			if port, found = strings.CutPrefix(port, ":"); !found {
				return netip.Addr{}, false, false
			}
		}
	} else if i := strings.IndexByte(v, ':'); i >= 0 && strings.Count(v, ":") == 1 {
		host, port = v[:i], v[i+1:]
	}
	if port != "" && !validPort(port) {
		return netip.Addr{}, false, false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false, false
	}
	return a.WithZone("").Unmap(), false, true
}

// validPort accepts 1-5 digits or an obfuscated port.
func validPort(p string) bool {
	if strings.HasPrefix(p, "_") {
		return validObfuscated(p)
	}
	if len(p) > 5 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return p != ""
}

// validObfuscated accepts "unknown" and "_" followed by ALPHA, DIGIT, ".",
// "_" or "-" (RFC 7239 section 6.3).
func validObfuscated(v string) bool {
	if strings.EqualFold(v, "unknown") {
		return true
	}
	if len(v) < 2 || v[0] != '_' {
		return false
	}
	for i := 1; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
