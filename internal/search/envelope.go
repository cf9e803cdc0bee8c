package search

import (
	"strconv"

	"balise/internal/pyjs"
)

// Envelope is the FeatureCollection around results (docs/api.md, "Answer").
// It is written in Addok's shape or in addok-server's, the national API's
// front.
type Envelope struct {
	// AddokServer writes addok-server's envelope: no "version", each
	// filter echoed as the string received (RawFilters), the center as
	// JavaScript prints numbers.
	AddokServer bool
	Attribution string
	Licence     string
	HasQuery    bool
	Query       string
	// Filters is Addok's echo, each filter as the list of its values in
	// the order given (duplicates kept), when not empty.
	Filters []Filter
	// RawFilters is addok-server's echo, each filter as the string
	// received, when not empty.
	RawFilters []RawFilter
	HasCenter  bool
	Lat, Lon   float64
	HasLimit   bool
	Limit      int
}

// RawFilter is one filter as a request gave it, before splitting.
type RawFilter struct {
	Name, Value string
}

// AppendFeatureCollection appends the response body.
func AppendFeatureCollection(dst []byte, env Envelope, results []*Result) []byte {
	dst = appendHead(dst, env)
	for i, r := range results {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = r.AppendFeature(dst)
	}
	return appendTail(dst, env)
}

// AppendEncodedCollection is AppendFeatureCollection around features
// already encoded (comma-separated, without the brackets), as a cache
// holds them.
func AppendEncodedCollection(dst []byte, env Envelope, features []byte) []byte {
	dst = appendHead(dst, env)
	dst = append(dst, features...)
	return appendTail(dst, env)
}

func appendHead(dst []byte, env Envelope) []byte {
	dst = append(dst, `{"type":"FeatureCollection",`...)
	if !env.AddokServer {
		dst = append(dst, `"version":"draft",`...)
	}
	return append(dst, `"features":[`...)
}

func appendTail(dst []byte, env Envelope) []byte {
	dst = append(dst, `],"attribution":`...)
	dst = pyjs.AppendSafeJSONString(dst, env.Attribution)
	dst = append(dst, `,"licence":`...)
	dst = pyjs.AppendSafeJSONString(dst, env.Licence)
	if env.HasQuery {
		dst = append(dst, `,"query":`...)
		dst = pyjs.AppendSafeJSONString(dst, env.Query)
	}
	if env.AddokServer {
		dst = appendRawFilters(dst, env.RawFilters)
	} else {
		dst = appendFilters(dst, env.Filters)
	}
	if env.HasCenter {
		dst = append(dst, `,"center":[`...)
		dst = appendCoordinate(dst, env.Lon, env.AddokServer)
		dst = append(dst, ',')
		dst = appendCoordinate(dst, env.Lat, env.AddokServer)
		dst = append(dst, ']')
	}
	if env.HasLimit {
		dst = append(dst, `,"limit":`...)
		dst = strconv.AppendInt(dst, int64(env.Limit), 10)
	}
	return append(dst, '}')
}

func appendFilters(dst []byte, filters []Filter) []byte {
	if len(filters) == 0 {
		return dst
	}
	dst = append(dst, `,"filters":{`...)
	for i, f := range filters {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = pyjs.AppendSafeJSONString(dst, f.Name)
		dst = append(dst, ":["...)
		for j, v := range f.Values {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = pyjs.AppendSafeJSONString(dst, v)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

func appendRawFilters(dst []byte, filters []RawFilter) []byte {
	if len(filters) == 0 {
		return dst
	}
	dst = append(dst, `,"filters":{`...)
	for i, f := range filters {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = pyjs.AppendSafeJSONString(dst, f.Name)
		dst = append(dst, ':')
		dst = pyjs.AppendSafeJSONString(dst, f.Value)
	}
	return append(dst, '}')
}

// appendCoordinate writes a center coordinate as Python prints a float
// (Addok), or as the national API's JavaScript prints a number.
func appendCoordinate(dst []byte, v float64, js bool) []byte {
	if js {
		return strconv.AppendFloat(dst, v, 'f', -1, 64)
	}
	return pyjs.AppendStrictJSONFloat(dst, v)
}
