package cache

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// KeyConfig controls how requests are normalised into keys.
//
// A key holds every input that decides an answer, exactly: a search's
// focus point and a reverse point are keyed as the floats they are, never
// rounded to a grid. Rounding would serve the answer computed for one point
// to a request for another, and a cached answer must be the uncached one
// (measured: a 5e-5 degree reverse grid returned a top result that is not
// the nearest address for 5 % of jittered points; docs/operations.md).
// What may be normalised is only what the engine itself ignores: the case
// and accents it folds, filter order and duplicates.
type KeyConfig struct {
	// MaxFilterValues must equal search.Config.MaxFilterValues: the
	// engine keeps the first that many distinct values of a filter before
	// sorting them, so keys may only sort values when no truncation
	// happens. 0 means 10 (the engine's default).
	MaxFilterValues int
}

// DefaultKeyConfig returns the documented defaults.
func DefaultKeyConfig() KeyConfig {
	return KeyConfig{MaxFilterValues: 10}
}

// Keys builds cache keys. It is immutable and safe for concurrent use.
type Keys struct {
	cfg KeyConfig
}

// NewKeys validates cfg.
func NewKeys(cfg KeyConfig) (*Keys, error) {
	if cfg.MaxFilterValues < 0 {
		return nil, fmt.Errorf("max filter values must be >= 0, got %d", cfg.MaxFilterValues)
	}
	if cfg.MaxFilterValues == 0 {
		cfg.MaxFilterValues = 10
	}
	return &Keys{cfg: cfg}, nil
}

// Filter is one filter of a request (OR between its values).
type Filter struct {
	Name   string
	Values []string
}

// SearchRequest is the part of a forward search that decides its answer.
type SearchRequest struct {
	// IndexVersion is the index's content version (index.Meta.Version).
	IndexVersion string
	// Endpoint names the route ("search", "search_csv", ...).
	Endpoint string
	// Flavour names the response shape (e.g. addok, ban).
	Flavour string
	// Folded is the query after the engine's folding (case, accents,
	// spacing): two queries with the same folded form must get the same
	// results. The original text is not part of the key, so a cached body
	// must not echo it: cache the features and write the envelope
	// (query, filters, center echoes) per request.
	Folded       string
	Filters      []Filter
	Limit        int
	Autocomplete bool
	HasFocus     bool
	Lat, Lon     float64
}

// ReverseRequest is the part of a reverse lookup that decides its answer.
type ReverseRequest struct {
	IndexVersion string
	Endpoint     string
	Flavour      string
	Lat, Lon     float64
	Radius       float64 // metres; 0 for the default rings
	Filters      []Filter
	Limit        int
}

// Search returns the key of a forward search.
func (k *Keys) Search(r SearchRequest) string {
	b := make([]byte, 0, 64+len(r.Folded)+len(r.IndexVersion))
	b = append(b, 's', '1')
	b = appendStr(b, r.IndexVersion)
	b = appendStr(b, r.Endpoint)
	b = appendStr(b, r.Flavour)
	b = appendStr(b, r.Folded)
	b = append(b, 'n')
	b = strconv.AppendInt(b, int64(r.Limit), 10)
	if r.Autocomplete {
		b = append(b, 'a')
	}
	if r.HasFocus {
		b = append(b, 'f')
		b = appendPoint(b, r.Lat, r.Lon)
	}
	b = k.appendFilters(b, r.Filters)
	return string(b)
}

// Reverse returns the key of a reverse lookup.
func (k *Keys) Reverse(r ReverseRequest) string {
	b := make([]byte, 0, 96+len(r.IndexVersion))
	b = append(b, 'r', '1')
	b = appendStr(b, r.IndexVersion)
	b = appendStr(b, r.Endpoint)
	b = appendStr(b, r.Flavour)
	b = append(b, 'n')
	b = strconv.AppendInt(b, int64(r.Limit), 10)
	b = append(b, 'd')
	b = appendFloat(b, r.Radius)
	b = append(b, 'p')
	b = appendPoint(b, r.Lat, r.Lon)
	b = k.appendFilters(b, r.Filters)
	return string(b)
}

// canonicalFilter is a filter in the form its key encodes.
type canonicalFilter struct {
	name string
	vals []string
}

// appendFilters writes filters in a canonical form: names sorted, values
// trimmed, blank and duplicate values dropped, and values sorted when the
// engine would sort them too (at most MaxFilterValues distinct values;
// beyond, the engine keeps the first ones, so order matters and is kept).
// Filters with no value left are dropped, as the engine ignores them.
func (k *Keys) appendFilters(b []byte, fs []Filter) []byte {
	if len(fs) == 0 {
		return b
	}
	for _, f := range k.canonicalFilters(fs) {
		b = append(b, 'F')
		b = appendStr(b, f.name)
		b = strconv.AppendInt(b, int64(len(f.vals)), 10)
		b = append(b, ';')
		for _, v := range f.vals {
			b = appendStr(b, v)
		}
	}
	return b
}

// canonicalFilters normalises filters as appendFilters describes. Its
// cost is linear in the number of values (n log n for the sorts), whatever
// the input: a request may carry thousands of values before the HTTP
// layer refuses it, and keys are built for every request.
func (k *Keys) canonicalFilters(fs []Filter) []canonicalFilter {
	norm := make([]canonicalFilter, 0, len(fs))
	for _, f := range fs {
		vals := distinctValues(f.Values)
		if len(vals) == 0 {
			continue
		}
		if len(vals) <= k.cfg.MaxFilterValues {
			slices.Sort(vals)
		}
		norm = append(norm, canonicalFilter{f.Name, vals})
	}
	// A stable sort keeps two filters of one name in request order.
	slices.SortStableFunc(norm, func(a, b canonicalFilter) int { return strings.Compare(a.name, b.name) })
	return norm
}

// scanDedupeMax is the number of values up to which distinctValues scans
// what it kept rather than hashing: for the usual one to ten values a scan
// is cheaper than a map, and its quadratic cost is bounded by this.
const scanDedupeMax = 16

// distinctValues returns the trimmed, non-blank values, each once, in the
// order of their first occurrence.
func distinctValues(values []string) []string {
	var vals []string
	if len(values) <= scanDedupeMax {
		for _, v := range values {
			if v = strings.TrimSpace(v); v != "" && !slices.Contains(vals, v) {
				vals = append(vals, v)
			}
		}
		return vals
	}
	seen := make(map[string]struct{}, len(values))
	for _, v := range values {
		v = strings.TrimSpace(v)
		if _, dup := seen[v]; v == "" || dup {
			continue
		}
		seen[v] = struct{}{}
		vals = append(vals, v)
	}
	return vals
}

// appendStr writes a length-prefixed string: no separator can be forged
// by a value, so the encoding is injective.
func appendStr(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

// appendFloat writes the shortest representation that reads back as the
// same float64: distinct floats give distinct keys.
func appendFloat(b []byte, f float64) []byte {
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// appendPoint writes an exact point as "lat,lon". -0 is written as 0: the
// engine's answer is the same for both.
func appendPoint(b []byte, lat, lon float64) []byte {
	if lat == 0 {
		lat = 0
	}
	if lon == 0 {
		lon = 0
	}
	b = appendFloat(b, lat)
	b = append(b, ',')
	return appendFloat(b, lon)
}
