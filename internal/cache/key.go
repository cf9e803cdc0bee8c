package cache

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// KeyConfig controls how requests are normalised into keys.
type KeyConfig struct {
	// FocusDecimals is the number of decimals of degrees kept of a search's
	// focus point (lat/lon bias); a negative value keeps the exact floats.
	//
	// The focus point matters to a search in three ways (internal/search):
	// the geo score exp(-(km/50)^2) weighted 0.1, the "distance" property
	// in metres, and the 3x3 precision-7 geohash cells (about 150 m) whose
	// documents join the candidates. The default, 4 decimals, moves the
	// point by at most 5.6 m in latitude and less in longitude: the geo
	// score moves by less than 2e-6 (its slope is below 0.0172 per km),
	// distances by at most 5 m, and the 3x3 area changes only when the
	// rounding crosses a cell edge. docs/operations.md has the measured
	// fraction of answers that change (none of 1,500 at 4 decimals; the
	// top-5 order of 0.3 % at 3 decimals). The caller must search with the
	// rounded point that Keys.Search returns, so that an entry is the
	// answer for that point whichever request filled it.
	FocusDecimals int
	// ReverseCell is the grid step, in degrees, to which reverse points
	// are snapped (to the nearest grid node); 0 or less keeps exact
	// points. The answer for the node is served for every point that snaps
	// to it, and its "distance" properties are from the node. At 5e-5
	// (the default) the node is at most 2.8 m away in latitude and
	// 2.8*cos(lat) m in longitude (3.9 m on the diagonal at the equator,
	// 3.3 m in Paris). Points given with 4 decimals or fewer are nodes
	// themselves and get exact answers.
	//
	// Measured on real housenumbers (docs/operations.md, BenchmarkReverseGrid):
	// 5e-5 turns a 0.3 % (3 %) hit rate into 49 % (68 %) on lookups
	// jittered by 25 m (8 m); the nearest feature differs from the exact
	// answer's in 10 % of lookups (a neighbouring number), but it is the
	// housenumber the point was drawn around as often as the exact answer
	// is. 1e-4 gains ten more points of hit rate but loses 3 points of
	// that accuracy on the 8 m stream.
	ReverseCell float64
	// MaxFilterValues must equal search.Config.MaxFilterValues: the
	// engine keeps the first that many distinct values of a filter before
	// sorting them, so keys may only sort values when no truncation
	// happens. 0 means 10 (the engine's default).
	MaxFilterValues int
}

// DefaultKeyConfig returns the documented defaults.
func DefaultKeyConfig() KeyConfig {
	return KeyConfig{FocusDecimals: 4, ReverseCell: 5e-5, MaxFilterValues: 10}
}

// Keys builds cache keys. It is immutable and safe for concurrent use.
type Keys struct {
	cfg   KeyConfig
	scale float64 // 10^FocusDecimals
	inv   float64 // 1/ReverseCell when that is an integer, else 0
}

// NewKeys validates cfg.
func NewKeys(cfg KeyConfig) (*Keys, error) {
	if cfg.FocusDecimals > 12 {
		return nil, fmt.Errorf("focus decimals must be <= 12, got %d", cfg.FocusDecimals)
	}
	if math.IsNaN(cfg.ReverseCell) || math.IsInf(cfg.ReverseCell, 0) || cfg.ReverseCell > 1 {
		return nil, fmt.Errorf("reverse cell must be a step in degrees <= 1, got %v", cfg.ReverseCell)
	}
	if cfg.MaxFilterValues <= 0 {
		cfg.MaxFilterValues = 10
	}
	k := &Keys{cfg: cfg}
	if cfg.FocusDecimals >= 0 {
		k.scale = math.Pow10(cfg.FocusDecimals)
	}
	if cfg.ReverseCell > 0 {
		if inv := math.Round(1 / cfg.ReverseCell); math.Abs(inv-1/cfg.ReverseCell) < 1e-6 {
			k.inv = inv
		}
	}
	return k, nil
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

// Search returns the key of a forward search and the focus point the
// answer must be computed with (rounded per KeyConfig.FocusDecimals; the
// request's own point when it has none or rounding is off).
func (k *Keys) Search(r SearchRequest) (key string, lat, lon float64) {
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
	lat, lon = r.Lat, r.Lon
	if r.HasFocus {
		b = append(b, 'f')
		if ilat, ilon := math.Round(lat*k.scale), math.Round(lon*k.scale); k.scale > 0 && onGrid(ilat, ilon) {
			lat, lon = ilat/k.scale, ilon/k.scale
			b = strconv.AppendInt(b, int64(k.cfg.FocusDecimals), 10)
			b = appendNode(b, ilat, ilon)
		} else {
			b = appendPoint(b, lat, lon)
		}
	}
	b = k.appendFilters(b, r.Filters)
	return string(b), lat, lon
}

// Reverse returns the key of a reverse lookup and the point the answer must
// be computed with: the grid node nearest to the request's point.
func (k *Keys) Reverse(r ReverseRequest) (key string, lat, lon float64) {
	b := make([]byte, 0, 96+len(r.IndexVersion))
	b = append(b, 'r', '1')
	b = appendStr(b, r.IndexVersion)
	b = appendStr(b, r.Endpoint)
	b = appendStr(b, r.Flavour)
	b = append(b, 'n')
	b = strconv.AppendInt(b, int64(r.Limit), 10)
	b = append(b, 'd')
	b = appendFloat(b, r.Radius)
	lat, lon = r.Lat, r.Lon
	b = append(b, 'p')
	if ilat, ilon, ok := k.reverseNode(lat, lon); ok {
		step := k.cfg.ReverseCell
		if k.inv > 0 {
			// The step is 1/n: dividing the node index by n gives the
			// float nearest to the decimal node, so a point given with
			// that many decimals comes back bit for bit.
			lat, lon = ilat/k.inv, ilon/k.inv
		} else {
			lat, lon = ilat*step, ilon*step
		}
		b = appendFloat(b, step)
		b = appendNode(b, ilat, ilon)
	} else {
		b = appendPoint(b, lat, lon)
	}
	b = k.appendFilters(b, r.Filters)
	return string(b), lat, lon
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

// reverseNode returns the indices of the grid node nearest to a point; ok
// is false when snapping is off or the point is off any usable grid.
func (k *Keys) reverseNode(lat, lon float64) (ilat, ilon float64, ok bool) {
	step := k.cfg.ReverseCell
	if step <= 0 {
		return 0, 0, false
	}
	if k.inv > 0 {
		ilat, ilon = math.Round(lat*k.inv), math.Round(lon*k.inv)
	} else {
		ilat, ilon = math.Round(lat/step), math.Round(lon/step)
	}
	return ilat, ilon, onGrid(ilat, ilon)
}

// onGrid reports whether node indices are exact integers that an int64
// holds: beyond 2^53 (a coordinate of 9e11 degrees at 4 decimals, which
// only a hostile or broken caller sends) distinct points would share a
// node, so such points are keyed exactly instead. NaN and infinities are
// off the grid too.
func onGrid(ilat, ilon float64) bool {
	return math.Abs(ilat) < 1<<53 && math.Abs(ilon) < 1<<53
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

// appendNode writes a point snapped to a grid as ":ilat,ilon", its
// integer node indices; the grid's step precedes it in the key.
func appendNode(b []byte, ilat, ilon float64) []byte {
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(ilat), 10)
	b = append(b, ',')
	return strconv.AppendInt(b, int64(ilon), 10)
}

// appendPoint writes an exact point as "lat,lon".
func appendPoint(b []byte, lat, lon float64) []byte {
	b = appendFloat(b, lat)
	b = append(b, ',')
	return appendFloat(b, lon)
}
