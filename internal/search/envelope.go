package search

import (
	"strconv"

	"balise/internal/pyjs"
)

// Envelope is the FeatureCollection around results (docs/api.md, "Answer").
type Envelope struct {
	// NoVersion drops "version" (the national API's addok-server flavour).
	NoVersion   bool
	Attribution string
	Licence     string
	HasQuery    bool
	Query       string
	// Filters is echoed as given (order and duplicates kept), when not empty.
	Filters   []Filter
	HasCenter bool
	Lat, Lon  float64
	HasLimit  bool
	Limit     int
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
	if !env.NoVersion {
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
	if len(env.Filters) > 0 {
		dst = append(dst, `,"filters":{`...)
		for i, f := range env.Filters {
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
		dst = append(dst, '}')
	}
	if env.HasCenter {
		dst = append(dst, `,"center":[`...)
		dst = pyjs.AppendStrictJSONFloat(dst, env.Lon)
		dst = append(dst, ',')
		dst = pyjs.AppendStrictJSONFloat(dst, env.Lat)
		dst = append(dst, ']')
	}
	if env.HasLimit {
		dst = append(dst, `,"limit":`...)
		dst = strconv.AppendInt(dst, int64(env.Limit), 10)
	}
	return append(dst, '}')
}
