package httpapi

import "strings"

// params is a parsed query string, in order. Lookups scan it: requests
// carry a handful of parameters, so a slice beats a map.
type params struct {
	keys, vals []string
}

// parseQuery splits a raw query string like falcon does (and Express,
// closely enough): "&"-separated pairs, "+" is a space, %XX escapes
// decoded, a bad escape kept as written (never an error), blank values
// kept, commas never split, invalid UTF-8 replaced.
func parseQuery(raw string) params {
	var p params
	for raw != "" {
		var field string
		field, raw, _ = strings.Cut(raw, "&")
		if field == "" {
			continue
		}
		k, v, _ := strings.Cut(field, "=")
		if k == "" {
			continue
		}
		p.keys = append(p.keys, unescape(k))
		p.vals = append(p.vals, unescape(v))
	}
	return p
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func unescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b = append(b, ' ')
		case '%':
			if i+2 < len(s) {
				hi, ok1 := unhex(s[i+1])
				lo, ok2 := unhex(s[i+2])
				if ok1 && ok2 {
					b = append(b, hi<<4|lo)
					i += 2
					continue
				}
			}
			b = append(b, c)
		default:
			b = append(b, c)
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// last returns the parameter's last value (falcon's get_param and
// addok-server's ensureSingleValue both keep the last one).
func (p params) last(name string) (string, bool) {
	for i := len(p.keys) - 1; i >= 0; i-- {
		if p.keys[i] == name {
			return p.vals[i], true
		}
	}
	return "", false
}

// all returns every value of the parameter, in order.
func (p params) all(name string) []string {
	var out []string
	for i, k := range p.keys {
		if k == name {
			out = append(out, p.vals[i])
		}
	}
	return out
}

// pyBool is falcon's get_param_as_bool: blank is true.
func pyBool(s string) (value, ok bool) {
	switch s {
	case "", "true", "True", "TRUE", "t", "yes", "y", "1", "on":
		return true, true
	case "false", "False", "FALSE", "f", "no", "n", "0", "off":
		return false, true
	}
	return false, false
}
