package httpapi

import (
	"errors"
	"math"
	"net/http"
	"strings"

	"balise/internal/index"
	"balise/internal/pyjs"
	"balise/internal/search"
	"balise/internal/telemetry"
)

// search is GET /search (docs/api.md).
func (a *API) search(w http.ResponseWriter, r *http.Request) {
	if a.opts.Flavour == BAN {
		a.banGeo(w, r, false)
		return
	}
	p := parseQuery(r.URL.RawQuery)
	q, _ := p.last("q")
	if q == "" {
		a.fail(w, missingParam("q"))
		return
	}
	limit, aerr := addokLimit(p, 5)
	if aerr == nil && (limit < 1 || limit > 100) {
		aerr = badParam("limit", "out of range (1..100)")
	}
	if aerr != nil {
		a.fail(w, aerr)
		return
	}
	autocomplete := true
	if v, ok := p.last("autocomplete"); ok {
		b, ok := pyBool(v)
		if !ok {
			a.fail(w, badParam("autocomplete", `The value of the parameter must be "true" or "false".`))
			return
		}
		autocomplete = b
	}
	ll, aerr := addokLonLat(p)
	if aerr != nil {
		a.fail(w, aerr)
		return
	}
	e, release := a.opts.Engines.Acquire()
	defer release()
	filters, aerr := a.addokFilters(p, e.Filters())
	if aerr != nil {
		a.fail(w, aerr)
		return
	}
	hasCenter := ll.hasLat && ll.hasLon
	telemetry.RequestInfoFrom(r.Context()).SetQuery(q)
	sq := search.Query{Q: q, Limit: limit, Autocomplete: autocomplete, HasCenter: hasCenter,
		Lat: ll.lat, Lon: ll.lon, Filters: filters}
	ans, err := a.lookup(r.Context(), w, "search", a.searchKey(e, "search", sq), a.computeSearch("search", sq))
	if err != nil {
		a.engineError(w, r, err)
		return
	}
	m := e.Index().Meta()
	a.cacheable(w)
	writeCollection(w, search.Envelope{
		Attribution: m.Attribution, Licence: m.Licence,
		HasQuery: true, Query: q, Filters: filters,
		// Addok echoes the center only when both are truthy: a 0 coordinate
		// still biases the search but hides "center".
		HasCenter: hasCenter && ll.lat != 0 && ll.lon != 0, Lat: ll.lat, Lon: ll.lon,
		HasLimit: true, Limit: limit,
	}, ans.features)
}

// reverse is GET /reverse (docs/api.md).
func (a *API) reverse(w http.ResponseWriter, r *http.Request) {
	if a.opts.Flavour == BAN {
		a.banGeo(w, r, true)
		return
	}
	p := parseQuery(r.URL.RawQuery)
	ll, aerr := addokLonLat(p)
	if aerr != nil {
		a.fail(w, aerr)
		return
	}
	if !ll.hasLon {
		a.fail(w, missingParam("lon"))
		return
	}
	if !ll.hasLat {
		a.fail(w, missingParam("lat"))
		return
	}
	limit, aerr := addokLimit(p, 1)
	if aerr != nil {
		a.fail(w, aerr)
		return
	}
	// Addok has no bound at all; a huge limit would only cost memory.
	limit = max(1, min(limit, a.opts.ReverseMaxLimit))
	e, release := a.opts.Engines.Acquire()
	defer release()
	radius, aerr := reverseRadius(p, e.Config().MaxReverseRadius)
	if aerr != nil {
		a.fail(w, aerr)
		return
	}
	filters, aerr := a.addokFilters(p, e.Filters())
	if aerr != nil {
		a.fail(w, aerr)
		return
	}
	rq := search.ReverseQuery{Lat: ll.lat, Lon: ll.lon, Limit: limit, Filters: filters, Radius: radius}
	ans, err := a.lookup(r.Context(), w, "reverse", a.reverseKey(e, "reverse", rq), a.computeReverse("reverse", rq))
	if err != nil {
		a.engineError(w, r, err)
		return
	}
	m := e.Index().Meta()
	a.cacheable(w)
	writeCollection(w, search.Envelope{
		Attribution: m.Attribution, Licence: m.Licence, Filters: filters, HasLimit: true, Limit: limit,
	}, ans.features)
}

func (a *API) engineError(w http.ResponseWriter, r *http.Request, err error) {
	var tl *search.QueryTooLongError
	if errors.As(err, &tl) {
		a.fail(w, &apiError{status: http.StatusRequestEntityTooLarge, title: tl.Error()})
		return
	}
	if errors.Is(err, index.ErrUnavailable) {
		// The file changed under its mapping; the server is reloading it.
		w.Header().Set("Retry-After", "1")
		a.fail(w, &apiError{status: http.StatusServiceUnavailable, title: "503 Service Unavailable",
			desc: "The index is being reloaded; retry in a moment."})
		return
	}
	if r.Context().Err() != nil {
		return // the client is gone: nobody reads an answer
	}
	a.logEngineFailure(r, err)
	a.fail(w, &apiError{status: http.StatusInternalServerError, title: "500 Internal Server Error", desc: "The search failed; see the server log."})
}

// logEngineFailure logs an engine error (a bug, with its stack, or a
// corrupt record) and counts recovered panics. The query appears only with
// --log-queries: engine errors never carry it.
func (a *API) logEngineFailure(r *http.Request, err error) {
	attrs := []any{"path", r.URL.Path, "err", err}
	var ie *search.InternalError
	if errors.As(err, &ie) {
		attrs = append(attrs, "stack", string(ie.Stack))
		if t := a.opts.Telemetry; t != nil {
			t.Search.ObservePanic("engine")
		}
	}
	if a.opts.LogQueries {
		attrs = append(attrs, "query", r.URL.RawQuery)
	}
	a.log.ErrorContext(r.Context(), "engine failure", attrs...)
}

// addokLimit is Addok's `limit or def`: a missing or zero limit gives def.
func addokLimit(p params, def int) (int, *apiError) {
	v, ok := p.last("limit")
	if !ok {
		return def, nil
	}
	n, ok := pyjs.ParsePyInt(v)
	if !ok {
		return 0, badParam("limit", "The value must be an integer.")
	}
	if n == 0 {
		return def, nil
	}
	return n, nil
}

// reverseRadius is balise's radius parameter of /reverse, in metres: 0
// when absent, empty or 0 (Addok's cells around the point), a 400 when it
// is not a number from 0 to max.
func reverseRadius(p params, max float64) (float64, *apiError) {
	v, ok := p.last("radius")
	if !ok || v == "" {
		return 0, nil
	}
	f, ok := pyjs.ParsePyFloat(v)
	if !ok || !(f >= 0 && f <= max) {
		return 0, badParam("radius", "It must be a number of metres from 0 to "+pyjs.FormatJSNumber(max)+".")
	}
	return f, nil
}

type lonLat struct {
	lat, lon       float64
	hasLat, hasLon bool
}

// addokLonLat is Addok's parse_lon_lat: the first present alias wins, a
// bad float is named by the alias sent, the range check is skipped for 0
// (Python truthiness) and checks lon before lat.
func addokLonLat(p params) (lonLat, *apiError) {
	var ll lonLat
	parse := func(keys ...string) (float64, bool, *apiError) {
		for _, k := range keys {
			if v, ok := p.last(k); ok {
				f, ok := pyjs.ParsePyFloat(v)
				if !ok || math.IsNaN(f) { // NaN would pass Addok's checks and fail later
					return 0, false, badParam(k, "invalid value")
				}
				return f, true, nil
			}
		}
		return 0, false, nil
	}
	var err *apiError
	if ll.lat, ll.hasLat, err = parse("lat", "latitude"); err != nil {
		return ll, err
	}
	if ll.lon, ll.hasLon, err = parse("lon", "lng", "long", "longitude"); err != nil {
		return ll, err
	}
	if ll.lon != 0 && (ll.lon > 180 || ll.lon < -180) {
		return ll, badParam("lon", "out of range")
	}
	if ll.lat != 0 && (ll.lat > 90 || ll.lat < -90) {
		return ll, badParam("lat", "out of range")
	}
	return ll, nil
}

// addokFilters is Addok's match_filters: every occurrence of each
// configured filter, each split on the separator (a space) with empties
// dropped only when it was split. The result is both echoed and searched
// (the engine dedupes, sorts and ignores empty values).
func (a *API) addokFilters(p params, names []string) ([]search.Filter, *apiError) {
	var out []search.Filter
	for _, name := range names {
		vals := p.all(name)
		if len(vals) == 0 {
			continue
		}
		f := search.Filter{Name: name, Values: make([]string, 0, len(vals))}
		for _, v := range vals {
			if !strings.Contains(v, " ") {
				f.Values = append(f.Values, strings.TrimSpace(v))
				continue
			}
			for _, part := range strings.Split(v, " ") {
				if part = strings.TrimSpace(part); part != "" {
					f.Values = append(f.Values, part)
				}
			}
		}
		if countDistinct(f.Values, a.opts.MaxFilterValues) > a.opts.MaxFilterValues {
			return nil, a.tooManyValues(name)
		}
		out = append(out, f)
	}
	return out, nil
}

// banGeo is addok-server's GET /search and /reverse.
func (a *API) banGeo(w http.ResponseWriter, r *http.Request, reverse bool) {
	p := parseQuery(r.URL.RawQuery)
	var bp banParams
	bp.limit = jsNum{defined: true, v: banDefaultLimit}
	if v, ok := p.last("limit"); ok && v != "" {
		f, ok := pyjs.ParseJSInt(v)
		if !ok {
			f = math.NaN()
		}
		bp.limit = jsNum{defined: true, v: f}
	}
	for _, c := range []struct {
		name string
		dst  *jsNum
	}{{"lon", &bp.lon}, {"lat", &bp.lat}} {
		if v, ok := p.last(c.name); ok && v != "" {
			f, ok := pyjs.ParseJSFloat(v)
			if !ok {
				f = math.NaN()
			}
			*c.dst = jsNum{defined: true, v: f}
		}
	}
	required := []string{"lon", "lat"}
	if reverse {
		if v, ok := p.last("radius"); ok && v != "" {
			f, ok := pyjs.ParseJSFloat(v)
			bp.radius = jsNum{defined: true, v: f, notNumber: !ok}
		}
	}
	if !reverse {
		required = []string{"q"}
		if v, ok := p.last("q"); ok {
			bp.q, bp.hasQ = v, true
		}
		bp.autocomplete = jsBool{defined: true, v: true}
		if v, ok := p.last("autocomplete"); ok {
			bp.autocomplete.v = v != "0"
		}
	}
	e, release := a.opts.Engines.Acquire()
	defer release()
	for _, name := range e.Filters() {
		if v, ok := p.last(name); ok && v != "" {
			bp.addFilter(name, v, a.opts.MaxFilterValues)
		}
	}
	bp.maxRadius = e.Config().MaxReverseRadius
	if msg := bp.validate(required); msg != "" {
		a.fail(w, banError(http.StatusBadRequest, msg))
		return
	}
	var ans answer
	var err error
	if reverse {
		q := bp.reverseQuery()
		ans, err = a.lookup(r.Context(), w, "reverse", a.reverseKey(e, "reverse", q), a.computeReverse("reverse", q))
	} else {
		q := bp.searchQuery()
		telemetry.RequestInfoFrom(r.Context()).SetQuery(q.Q)
		ans, err = a.lookup(r.Context(), w, "search", a.searchKey(e, "search", q), a.computeSearch("search", q))
	}
	if err != nil {
		a.engineError(w, r, err)
		return
	}
	m := e.Index().Meta()
	env := search.Envelope{
		AddokServer: true, Attribution: m.Attribution, Licence: m.Licence,
		HasQuery: !reverse, Query: bp.q, RawFilters: bp.rawFilters(),
		HasCenter: bp.lon.truthy() && bp.lat.truthy(), Lat: bp.lat.v, Lon: bp.lon.v,
		HasLimit: true, Limit: int(bp.limit.v),
	}
	if reverse {
		env.Limit = 1 // addok-server echoes 1 whatever the limit
	}
	a.cacheable(w)
	writeCollection(w, env, ans.features)
}
