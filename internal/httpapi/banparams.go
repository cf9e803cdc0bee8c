package httpapi

import (
	"context"
	"math"
	"strconv"
	"strings"

	"balise/internal/batch"
	"balise/internal/pyjs"
	"balise/internal/search"
)

// jsNum is a parameter as addok-cluster's validation sees it: undefined,
// a number (possibly NaN), or a value of another JSON type.
type jsNum struct {
	defined   bool
	notNumber bool
	other     bool // the JavaScript truthiness of a non-number value
	v         float64
}

func (n jsNum) truthy() bool {
	if !n.defined {
		return false
	}
	if n.notNumber {
		return n.other
	}
	return n.v != 0 && !math.IsNaN(n.v)
}

type jsBool struct {
	defined, notBool, v bool
}

type banFilter struct {
	name   string
	echo   string // as received, echoed back
	values []string
}

// banParams are addok-server's geocode/reverse parameters (GET query or
// one /batch item), before validation.
type banParams struct {
	q            string
	hasQ         bool
	qNotString   bool
	limit        jsNum
	autocomplete jsBool
	lon, lat     jsNum
	// radius (metres, reverse only) is balise's: 0 or undefined keeps
	// the default cells; maxRadius is the engine's cap.
	radius     jsNum
	maxRadius  float64
	filters    []banFilter
	badFilters bool
	tooMany    string // a filter with more distinct values than accepted
	maxValues  int
}

// addFilter adds a filter as received (echo) and split into its values;
// a filter with more than maxValues distinct values marks the parameters
// invalid.
func (p *banParams) addFilter(name, echo string, maxValues int) {
	values := splitBANFilter(echo)
	if len(values) > maxValues && p.tooMany == "" {
		p.tooMany, p.maxValues = name, maxValues
	}
	p.filters = append(p.filters, banFilter{name: name, echo: echo, values: values})
}

// validate is addok-cluster's validateParams: the message of the first
// failing rule, "" when the parameters are fine.
func (p *banParams) validate(required []string) string {
	for _, name := range required {
		defined := false
		switch name {
		case "q":
			defined = p.hasQ
		case "lon":
			defined = p.lon.defined
		case "lat":
			defined = p.lat.defined
		}
		if !defined {
			return name + " is a required parameter"
		}
	}
	if p.hasQ {
		if p.qNotString {
			return "q must be a string"
		}
		if !batch.ValidBANQuery(strings.TrimSpace(p.q)) {
			return "q must contain between 3 and 200 chars and start with a number or a letter"
		}
	}
	if p.limit.defined {
		v := p.limit.v
		if p.limit.notNumber || math.IsNaN(v) || v != math.Trunc(v) || v < 1 || v > 100 {
			return "limit must be an integer between 1 and 100"
		}
	}
	if p.autocomplete.defined && p.autocomplete.notBool {
		return "autocomplete must be a boolean value"
	}
	if p.lon.defined || p.lat.defined {
		if p.lon.truthy() != p.lat.truthy() {
			return "lon/lat must be present together if defined"
		}
		if !p.lon.defined || !p.lat.defined || p.lon.notNumber || p.lat.notNumber {
			return "lon/lat must be float numbers"
		}
		lon, lat := p.lon.v, p.lat.v
		if math.IsNaN(lon) || lon <= -180 || lon >= 180 || math.IsNaN(lat) || lat <= -90 || lat >= 90 {
			return "lon/lat must be valid WGS-84 coordinates"
		}
	}
	if p.radius.defined {
		if v := p.radius.v; p.radius.notNumber || !(v >= 0 && v <= p.maxRadius) {
			return "radius must be a number of metres between 0 and " + pyjs.FormatJSNumber(p.maxRadius)
		}
	}
	if p.badFilters {
		return "filters are not valid"
	}
	if p.tooMany != "" {
		return p.tooMany + " must not have more than " + strconv.Itoa(p.maxValues) + " distinct values"
	}
	return ""
}

// run executes validated parameters.
func (p *banParams) run(ctx context.Context, e *search.Engine, reverse bool) ([]*search.Result, error) {
	if reverse {
		return e.Reverse(ctx, p.reverseQuery())
	}
	return e.Search(ctx, p.searchQuery())
}

// rawFilters are the filters as received, for the envelope's echo.
func (p *banParams) rawFilters() []search.RawFilter {
	if len(p.filters) == 0 {
		return nil
	}
	out := make([]search.RawFilter, len(p.filters))
	for i, f := range p.filters {
		out[i] = search.RawFilter{Name: f.name, Value: f.echo}
	}
	return out
}

func (p *banParams) engineFilters() []search.Filter {
	var filters []search.Filter
	for _, f := range p.filters {
		filters = append(filters, search.Filter{Name: f.name, Values: f.values})
	}
	return filters
}

// banDefaultLimit is addok-server's limit when none is given.
const banDefaultLimit = 5

// limitOrDefault is the validated limit, or addok-server's default.
func (p *banParams) limitOrDefault() int {
	if p.limit.defined {
		return int(p.limit.v)
	}
	return banDefaultLimit
}

func (p *banParams) searchQuery() search.Query {
	return search.Query{
		Q: strings.TrimSpace(p.q), Limit: p.limitOrDefault(), Autocomplete: p.autocomplete.v,
		HasCenter: p.lon.defined && p.lat.defined, Lat: p.lat.v, Lon: p.lon.v, Filters: p.engineFilters(),
	}
}

func (p *banParams) reverseQuery() search.ReverseQuery {
	return search.ReverseQuery{Lat: p.lat.v, Lon: p.lon.v, Limit: p.limitOrDefault(), Filters: p.engineFilters(),
		Radius: p.radius.v}
}

// splitBANFilter splits a filter value on "+" first, else on spaces, trims
// and dedupes (addok-server's rule).
func splitBANFilter(v string) []string {
	return dedupe(batch.SplitFilterValue(v))
}
