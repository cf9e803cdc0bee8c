package bench

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"balise/internal/search"
)

// MaxRequests bounds a request list (a query file or a generated list), so
// a huge file cannot exhaust memory: at roughly 300 bytes a request, the
// list stays under 200 MB.
const MaxRequests = 500_000

// maxLineBytes bounds one line of a query file.
const maxLineBytes = 64 << 10

// Endpoint is what a request asks for.
type Endpoint uint8

// Endpoints a request can target. Other paths are sent as is by HTTP
// targets (an Addok plugin's endpoint, /health…) and refused in-process.
const (
	EndpointOther Endpoint = iota
	EndpointSearch
	EndpointReverse
)

// Request is one request of a run: the path an HTTP target sends and the
// same request decoded for the in-process target.
type Request struct {
	// Kind labels the request in per-kind figures: the formulation of a
	// generated request ("full", "typo", "autocomplete", "reverse"…), the
	// "kind" of a JSON line, else the endpoint's name.
	Kind     string
	Path     string // "/search?q=…": what an HTTP target GETs
	Endpoint Endpoint
	Search   search.Query        // when Endpoint is EndpointSearch
	Reverse  search.ReverseQuery // when Endpoint is EndpointReverse
}

// SearchRequest builds the request of a forward query. The path states
// autocomplete explicitly, since Addok's default (on) is rarely what a
// full-address formulation wants.
func SearchRequest(kind string, q search.Query) Request {
	q = normalizeQuery(q)
	var b strings.Builder
	b.WriteString("/search?q=")
	b.WriteString(url.QueryEscape(q.Q))
	if q.Limit != 0 {
		b.WriteString("&limit=")
		b.WriteString(strconv.Itoa(q.Limit))
	}
	if q.Autocomplete {
		b.WriteString("&autocomplete=1")
	} else {
		b.WriteString("&autocomplete=0")
	}
	if q.HasCenter {
		writeLatLon(&b, q.Lat, q.Lon)
	}
	writeFilters(&b, q.Filters)
	return Request{Kind: kind, Path: b.String(), Endpoint: EndpointSearch, Search: q}
}

// ReverseRequest builds the request of a reverse query.
func ReverseRequest(kind string, q search.ReverseQuery) Request {
	q.Filters = normalizeFilters(q.Filters)
	var b strings.Builder
	b.WriteString("/reverse?")
	writeLatLon(&b, q.Lat, q.Lon)
	if q.Limit != 0 {
		b.WriteString("&limit=")
		b.WriteString(strconv.Itoa(q.Limit))
	}
	if q.Radius != 0 {
		b.WriteString("&radius=")
		b.WriteString(strconv.FormatFloat(q.Radius, 'g', -1, 64))
	}
	writeFilters(&b, q.Filters)
	p := strings.Replace(b.String(), "?&", "?", 1)
	return Request{Kind: kind, Path: p, Endpoint: EndpointReverse, Reverse: q}
}

func writeLatLon(b *strings.Builder, lat, lon float64) {
	b.WriteString("&lat=")
	b.WriteString(strconv.FormatFloat(lat, 'g', -1, 64))
	b.WriteString("&lon=")
	b.WriteString(strconv.FormatFloat(lon, 'g', -1, 64))
}

func writeFilters(b *strings.Builder, fs []search.Filter) {
	for _, f := range fs {
		b.WriteByte('&')
		b.WriteString(url.QueryEscape(f.Name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(strings.Join(f.Values, " ")))
	}
}

// normalizeQuery makes a query equal to what parsing its own path gives
// back: no center without HasCenter, filter values split on spaces.
func normalizeQuery(q search.Query) search.Query {
	if !q.HasCenter {
		q.Lat, q.Lon = 0, 0
	}
	q.Filters = normalizeFilters(q.Filters)
	return q
}

// normalizeFilters splits values on spaces (as Addok does), drops empty
// values and filters, and keeps names in order so paths are deterministic.
func normalizeFilters(fs []search.Filter) []search.Filter {
	var out []search.Filter
	for _, f := range fs {
		if f.Name == "" || reservedParam(f.Name) {
			continue
		}
		var vals []string
		for _, v := range f.Values {
			vals = append(vals, strings.Fields(v)...)
		}
		if len(vals) > 0 {
			out = append(out, search.Filter{Name: f.Name, Values: vals})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	// Repeated names merge, as repeated query parameters do.
	merged := out[:0]
	for _, f := range out {
		if n := len(merged); n > 0 && merged[n-1].Name == f.Name {
			merged[n-1].Values = append(merged[n-1].Values, f.Values...)
			continue
		}
		merged = append(merged, f)
	}
	if len(merged) == 0 {
		return nil
	}
	return merged
}

func reservedParam(name string) bool {
	switch name {
	case "q", "limit", "autocomplete", "lat", "latitude", "lon", "lng", "long", "longitude", "radius":
		return true
	}
	return false
}

// ParsePath decodes a request path ("/search?q=…", "/reverse?lat=…&lon=…")
// the way Addok's HTTP API reads it: the last occurrence of a parameter
// wins, autocomplete defaults to on, lat/latitude and lon/lng/long/longitude
// are synonyms, and every other parameter is a filter (space-separated
// values are ORed). The endpoint is the path's last segment, so a server
// mounted under a prefix works. Paths to other endpoints are kept as is.
func ParsePath(path string) (Request, error) {
	if !strings.HasPrefix(path, "/") {
		return Request{}, fmt.Errorf("request path %q does not start with /", path)
	}
	u, err := url.Parse(path)
	if err != nil {
		return Request{}, fmt.Errorf("cannot parse request path %q: %w", path, err)
	}
	vals, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Request{}, fmt.Errorf("cannot parse the parameters of %q: %w", path, err)
	}
	seg := u.Path[strings.LastIndexByte(u.Path, '/')+1:]
	r := Request{Kind: seg, Path: path}
	if r.Kind == "" {
		r.Kind = "other"
	}
	switch seg {
	case "search":
		r.Endpoint = EndpointSearch
	case "reverse":
		r.Endpoint = EndpointReverse
	default:
		return r, nil
	}
	last := func(keys ...string) (string, bool) {
		for _, k := range keys {
			if v, ok := vals[k]; ok && len(v) > 0 {
				return v[len(v)-1], true
			}
		}
		return "", false
	}
	num := func(keys ...string) (float64, bool, error) {
		v, ok := last(keys...)
		if !ok {
			return 0, false, nil
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, false, fmt.Errorf("%s=%q in %q is not a number", keys[0], v, path)
		}
		return f, true, nil
	}
	limit := 0
	if v, ok := last("limit"); ok && v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return r, fmt.Errorf("limit=%q in %q is not an integer", v, path)
		}
		limit = n
	}
	lat, hasLat, err := num("lat", "latitude")
	if err != nil {
		return r, err
	}
	lon, hasLon, err := num("lon", "lng", "long", "longitude")
	if err != nil {
		return r, err
	}
	if hasLat && (lat < -90 || lat > 90) || hasLon && (lon < -180 || lon > 180) {
		return r, fmt.Errorf("lat/lon out of range in %q", path)
	}
	var filters []search.Filter
	for name, vs := range vals {
		if !reservedParam(name) {
			filters = append(filters, search.Filter{Name: name, Values: vs})
		}
	}
	filters = normalizeFilters(filters)
	if r.Endpoint == EndpointReverse {
		if !hasLat || !hasLon {
			return r, fmt.Errorf("reverse request %q needs lat and lon", path)
		}
		radius, _, err := num("radius")
		if err != nil {
			return r, err
		}
		r.Reverse = search.ReverseQuery{Lat: lat, Lon: lon, Limit: limit, Filters: filters, Radius: radius}
		return r, nil
	}
	q, _ := last("q")
	auto := true
	if v, ok := last("autocomplete"); ok {
		switch v {
		case "", "1", "true", "True", "TRUE", "t", "yes", "y", "on":
		case "0", "false", "False", "FALSE", "f", "no", "n", "off":
			auto = false
		default:
			return r, fmt.Errorf("autocomplete=%q in %q is not a boolean", v, path)
		}
	}
	r.Search = normalizeQuery(search.Query{Q: q, Limit: limit, Autocomplete: auto, HasCenter: hasLat && hasLon, Lat: lat, Lon: lon, Filters: filters})
	return r, nil
}

// jsonLine is a line of the relevance suite's --write-queries file (the
// kind and the search.Query), or a bare search.Query.
type jsonLine struct {
	Kind  string        `json:"kind"`
	Query *search.Query `json:"query"`
}

// ParseLine decodes one line of a query file:
//
//	/search?q=8+bd+du+port&limit=1     a request path, sent as is
//	http://host:7878/reverse?lat=…     a URL: its path and query are used
//	{"kind":"typo","query":{"Q":…}}    the relevance suite's JSON lines
//	8 bd du port 44380 pornichet       anything else: the text of a search
//
// Blank lines and lines starting with # are skipped (ok is false).
func ParseLine(line string) (r Request, ok bool, err error) {
	line = strings.TrimSpace(line)
	switch {
	case line == "" || strings.HasPrefix(line, "#"):
		return Request{}, false, nil
	case strings.HasPrefix(line, "/"):
		r, err = ParsePath(line)
	case strings.HasPrefix(line, "http://") || strings.HasPrefix(line, "https://"):
		u, perr := url.Parse(line)
		if perr != nil {
			return Request{}, false, fmt.Errorf("cannot parse URL %q: %w", line, perr)
		}
		r, err = ParsePath(u.RequestURI())
	case strings.HasPrefix(line, "{"):
		var jl jsonLine
		if err := json.Unmarshal([]byte(line), &jl); err != nil {
			return Request{}, false, fmt.Errorf("cannot decode JSON query: %w", err)
		}
		if jl.Query == nil {
			var q search.Query
			if err := json.Unmarshal([]byte(line), &q); err != nil {
				return Request{}, false, fmt.Errorf("cannot decode JSON query: %w", err)
			}
			jl.Query = &q
		}
		q := *jl.Query
		if q.HasCenter && (math.IsNaN(q.Lat) || q.Lat < -90 || q.Lat > 90 || math.IsNaN(q.Lon) || q.Lon < -180 || q.Lon > 180) {
			return Request{}, false, errors.New("JSON query: lat/lon out of range")
		}
		kind := jl.Kind
		if kind == "" {
			kind = "search"
		}
		r = SearchRequest(kind, q)
	default:
		r = Request{Kind: "search", Path: "/search?q=" + url.QueryEscape(line), Endpoint: EndpointSearch,
			Search: search.Query{Q: line, Autocomplete: true}}
	}
	if err != nil {
		return Request{}, false, err
	}
	return r, true, nil
}

// ParseQueries reads a query file (see ParseLine), at most MaxRequests
// requests. Errors name the line.
func ParseQueries(rd io.Reader) ([]Request, error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 4096), maxLineBytes)
	var out []Request
	n := 0
	for sc.Scan() {
		n++
		r, ok, err := ParseLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if !ok {
			continue
		}
		if len(out) == MaxRequests {
			return nil, fmt.Errorf("line %d: more than %d requests; split the file", n, MaxRequests)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: longer than %d bytes", n+1, maxLineBytes)
		}
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no request in the query file")
	}
	return out, nil
}

// WriteRequests writes a request list as a query file (one path per line),
// so the same requests can be replayed against another server (Addok) or
// another build. With asCSV it writes the CSV a batch endpoint takes
// instead: a "q" column for a list of searches, "lat,lon" for reverse.
func WriteRequests(w io.Writer, reqs []Request, asCSV bool) error {
	bw := bufio.NewWriter(w)
	if !asCSV {
		for _, r := range reqs {
			bw.WriteString(r.Path)
			bw.WriteByte('\n')
		}
		return bw.Flush()
	}
	cw := csv.NewWriter(bw)
	var header []string
	for i, r := range reqs {
		var rec []string
		switch r.Endpoint {
		case EndpointSearch:
			if i == 0 {
				header = []string{"q"}
				cw.Write(header)
			}
			if header[0] != "q" {
				return errors.New("a CSV holds searches or reverse points, not both: generate --mix search, autocomplete or reverse")
			}
			rec = []string{r.Search.Q}
		case EndpointReverse:
			if i == 0 {
				header = []string{"lat", "lon"}
				cw.Write(header)
			}
			if header[0] != "lat" {
				return errors.New("a CSV holds searches or reverse points, not both: generate --mix search, autocomplete or reverse")
			}
			rec = []string{strconv.FormatFloat(r.Reverse.Lat, 'f', -1, 64), strconv.FormatFloat(r.Reverse.Lon, 'f', -1, 64)}
		default:
			return fmt.Errorf("%q cannot be written as a CSV row", r.Path)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}
