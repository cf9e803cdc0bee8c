package httpapi

import (
	"math"
	"strconv"
	"strings"
)

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

// pyInt parses like Python's int(str): spaces around, a sign, digits with
// single underscores between them. Values too large for an int come back
// as ±MaxInt (they fail every range check anyway).
func pyInt(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "_") {
		if strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") || strings.Contains(s, "__") {
			return 0, false
		}
		s = strings.ReplaceAll(s, "_", "")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			if strings.HasPrefix(s, "-") {
				return math.MinInt, true
			}
			return math.MaxInt, true
		}
		return 0, false
	}
	if n > math.MaxInt || n < math.MinInt {
		return math.MaxInt, true
	}
	return int(n), true
}

// pyFloat parses like Python's float(str) (no hexadecimal, "nan" and
// "inf" accepted).
func pyFloat(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, "xXpP") {
		return 0, false
	}
	if strings.Contains(s, "_") {
		if strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") || strings.Contains(s, "__") {
			return 0, false
		}
		s = strings.ReplaceAll(s, "_", "")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true // ±Inf or 0, as Python gives
		}
		return 0, false
	}
	return f, true
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

// jsParseInt is JavaScript's Number.parseInt(s, 10): leading spaces, a
// sign, then as many digits as there are; NaN (ok=false) without any.
func jsParseInt(s string) (float64, bool) {
	s = strings.TrimLeft(s, " \t\n\r\v\f\u00a0\ufeff")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == 0 {
		return 0, false
	}
	f, _ := strconv.ParseFloat(s[:end], 64)
	if neg {
		f = -f
	}
	return f, true
}

// jsParseFloat is JavaScript's Number.parseFloat: the longest prefix that
// reads as a decimal number (or "Infinity"); NaN (ok=false) otherwise.
func jsParseFloat(s string) (float64, bool) {
	s = strings.TrimLeft(s, " \t\n\r\v\f\u00a0\ufeff")
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if strings.HasPrefix(s[i:], "Infinity") {
		if s[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k > j {
			i = k
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(s[:i], "."), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}
