package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"balise/internal/admission"
	"balise/internal/cache"
	"balise/internal/pyjs"
	"balise/internal/ratelimit"
	"balise/internal/search"
	"balise/internal/telemetry"
)

// Flavour selects which Addok front-end the API reproduces.
type Flavour int

const (
	// Addok is Addok 1.3's own HTTP app with the addok-csv plugin.
	Addok Flavour = iota
	// BAN is addok-server, the national address API's front (docs/api.md).
	BAN
)

// ParseFlavour reads "addok" or "ban".
func ParseFlavour(s string) (Flavour, error) {
	switch strings.ToLower(s) {
	case "addok", "":
		return Addok, nil
	case "ban", "addok-server":
		return BAN, nil
	}
	return 0, fmt.Errorf("unknown flavour %q (addok or ban)", s)
}

func (f Flavour) String() string {
	if f == BAN {
		return "ban"
	}
	return "addok"
}

// Lender lends the engine that serves a request. release must be called
// once the response no longer needs the engine's data (strings returned by
// the index are views over its mapped file).
type Lender interface {
	Acquire() (e *search.Engine, release func())
}

// BatchLender is a Lender that also lends an engine tuned for batch work
// (CSV files, POST /batch): same index, typically a larger time budget.
type BatchLender interface {
	Lender
	AcquireBatch() (e *search.Engine, release func())
}

func (a *API) acquireBatch() (*search.Engine, func()) {
	if bs, ok := a.opts.Engines.(BatchLender); ok {
		return bs.AcquireBatch()
	}
	return a.opts.Engines.Acquire()
}

// Options configures the API.
type Options struct {
	Flavour Flavour
	Engines Lender
	Logger  *slog.Logger // nil: slog.Default()
	// MaxUploadBytes bounds a CSV upload (413 above); 0 means 50 MB.
	MaxUploadBytes int64
	// MaxBatchBytes bounds a POST /batch body; 0 means 1 MiB.
	MaxBatchBytes int64
	// MaxQueryBytes bounds a GET's query string (414 above); 0 means 8 KiB.
	MaxQueryBytes int
	// ReverseMaxLimit caps /reverse's limit, which Addok leaves unbounded;
	// 0 means 100.
	ReverseMaxLimit int
	// CacheControl is the Cache-Control header of successful GET answers
	// (search, reverse, get); "" means DefaultCacheControl. Everything
	// else is sent with no-store.
	CacheControl string
	// MaxFilterValues is the most distinct values one filter may have in
	// one request (400 above); 0 means DefaultMaxFilterValues.
	MaxFilterValues int
	// CSVWorkers geocode CSV rows in parallel; 0 means GOMAXPROCS.
	CSVWorkers int
	// CSVIdleTimeout is how long a CSV upload or download may make no
	// progress; each read or write pushes the connection's deadlines that
	// far (the server-wide read/write timeouts would cut long files).
	// 0 means 60 s.
	CSVIdleTimeout time.Duration
	// CSVMinRate, in bytes per second, is the slowest a CSV upload or
	// download may be while balise waits for the client (measured over 5 s
	// of waiting); slower transfers are cut. 0 disables the minimum.
	CSVMinRate int64
	// TempDir receives spooled multipart uploads ("" = the system's).
	TempDir string
	// Draining, when it returns true, makes /health answer 503 so that load
	// balancers stop sending traffic during a graceful shutdown.
	Draining func() bool

	// Cache, when set, answers GET /search and /reverse (both flavours)
	// from its tiers; Keys normalises requests into its keys (nil: the
	// defaults). CSV and POST /batch bypass it.
	Cache *cache.Cache
	Keys  *cache.Keys
	// Telemetry, when set, receives search stages, per-query statistics
	// and CSV row counts, and opens the cache-lookup span.
	Telemetry *telemetry.Telemetry
	// RateLimiter, when set, charges batch work to the client's batch
	// budget: one unit per /batch item (refused at once when over) and per
	// CSV row (the file is paced to the budget). The client is the one
	// the admission middleware stored with WithClient.
	RateLimiter *ratelimit.Limiter
	// Admission, when set, bounds the cores batch work takes (CSV chunks
	// and /batch items take a batch slot) and hears how each search went
	// (its adaptive limit). nil: no bound.
	Admission *admission.Controller
	// CSVEscapeFormulas prefixes with ' the output cells a spreadsheet
	// would run as formulas (opt-in: it changes Addok's output).
	CSVEscapeFormulas bool
	// LogQueries allows query text in error logs (privacy: off).
	LogQueries bool
	// Ready serves GET /health/ready (nil: 200 {"status":"ready"} unless
	// draining).
	Ready http.Handler
}

// API is the http.Handler of the whole API.
type API struct {
	opts         Options
	log          *slog.Logger
	keys         *cache.Keys
	cacheControl []string
}

var _ http.Handler = (*API)(nil)

// New builds the API.
func New(opts Options) *API {
	if opts.MaxUploadBytes <= 0 {
		opts.MaxUploadBytes = 50 << 20
	}
	if opts.MaxBatchBytes <= 0 {
		opts.MaxBatchBytes = 1 << 20
	}
	if opts.MaxQueryBytes <= 0 {
		opts.MaxQueryBytes = 8 << 10
	}
	if opts.ReverseMaxLimit <= 0 {
		opts.ReverseMaxLimit = 100
	}
	if opts.MaxFilterValues <= 0 {
		opts.MaxFilterValues = DefaultMaxFilterValues
	}
	if opts.CSVWorkers <= 0 {
		opts.CSVWorkers = runtime.GOMAXPROCS(0)
	}
	if opts.CSVIdleTimeout <= 0 {
		opts.CSVIdleTimeout = 60 * time.Second
	}
	if opts.CacheControl == "" {
		opts.CacheControl = DefaultCacheControl
	}
	a := &API{opts: opts, log: opts.Logger, keys: opts.Keys, cacheControl: []string{opts.CacheControl}}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.keys == nil {
		a.keys, _ = cache.NewKeys(cache.DefaultKeyConfig()) // the defaults are valid
	}
	return a
}

// Route is one endpoint: its method, its path pattern (the bounded label
// of logs, metrics and spans) and the work it does.
type Route struct {
	Method string
	Path   string // a pattern: /get/{id}
	Work   Work
}

// Work is what a route costs, for admission control.
type Work uint8

const (
	// Light routes (health, readiness, the OpenAPI document) answer from
	// memory and are never limited.
	Light Work = iota
	// Interactive routes run one search, reverse lookup or document read.
	Interactive
	// Batch routes (CSV files, POST /batch) run many searches on the
	// batch engine.
	Batch
)

// routeEntry is a Route and its handler.
type routeEntry struct {
	Route
	serve func(*API, http.ResponseWriter, *http.Request)
}

// routeTable is the one list of routes: Routes, RouteOf, RouteName and
// ServeHTTP all read it. A pattern may end in one {name} segment, which
// matches any non-empty rest of the path.
var routeTable = [...]routeEntry{
	{Route{"GET", "/search", Interactive}, (*API).search},
	{Route{"GET", "/reverse", Interactive}, (*API).reverse},
	{Route{"GET", "/health", Light}, (*API).health},
	{Route{"GET", "/health/ready", Light}, (*API).ready},
	{Route{"POST", "/search/csv", Batch}, (*API).searchCSV},
	{Route{"POST", "/reverse/csv", Batch}, (*API).reverseCSV},
	{Route{"POST", "/batch", Batch}, (*API).batch},
	{Route{"GET", "/get/{id}", Interactive}, (*API).get},
	{Route{"GET", "/openapi.json", Light}, (*API).openapi},
}

// Routes lists every endpoint the API serves.
func Routes() []Route {
	out := make([]Route, len(routeTable))
	for i, e := range routeTable {
		out[i] = e.Route
	}
	return out
}

// RouteOf returns the route serving a request path (a trailing slash is
// ignored), ok false when none does.
func RouteOf(path string) (Route, bool) {
	if e := entryOf(path); e != nil {
		return e.Route, true
	}
	return Route{}, false
}

// RouteName maps a request path to its route pattern ("" when none), a
// bounded label for logs and metrics.
func RouteName(path string) string {
	if e := entryOf(path); e != nil {
		return e.Path
	}
	return ""
}

func entryOf(path string) *routeEntry {
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	for i := range routeTable {
		if routeTable[i].Path == path {
			return &routeTable[i]
		}
	}
	for i := range routeTable {
		head, _, param := strings.Cut(routeTable[i].Path, "{")
		if rest, ok := strings.CutPrefix(path, head); param && ok && rest != "" {
			return &routeTable[i]
		}
	}
	return nil
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.cors(w, r)
	e := entryOf(r.URL.Path)
	if e == nil {
		a.notFound(w, r)
		return
	}
	// The API routes itself (no ServeMux pattern): name the route for the
	// metrics, the access log and the span.
	telemetry.RequestInfoFrom(r.Context()).SetRoute(e.Path)
	if r.Method == http.MethodOptions {
		if a.opts.Flavour == BAN && r.Header.Get("Access-Control-Request-Method") != "" {
			w.WriteHeader(http.StatusNoContent) // the cors package's preflight answer
			return
		}
		w.Header().Set("Allow", e.Method)
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	}
	if r.Method != e.Method {
		w.Header().Set("Allow", e.Method)
		a.fail(w, &apiError{status: http.StatusMethodNotAllowed, title: "405 Method Not Allowed", ban: fmt.Sprintf("Cannot %s %s", r.Method, r.URL.Path)})
		return
	}
	if e.Method == http.MethodGet && len(r.URL.RawQuery) > a.opts.MaxQueryBytes {
		a.fail(w, &apiError{status: http.StatusRequestURITooLong, title: "414 URI Too Long",
			desc: fmt.Sprintf("The query string is longer than %d bytes.", a.opts.MaxQueryBytes)})
		return
	}
	e.serve(a, w, r)
}

// cors sets Addok's headers (every response, errors included), or
// addok-server's (cors({origin: true}): the Origin echoed, preflights
// answered).
func (a *API) cors(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if a.opts.Flavour == Addok {
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Headers", "X-Requested-With")
		return
	}
	if o := r.Header.Get("Origin"); o != "" {
		h.Set("Access-Control-Allow-Origin", o)
		h.Add("Vary", "Origin")
	}
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE")
		if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
			h.Set("Access-Control-Allow-Headers", rh)
			h.Add("Vary", "Access-Control-Request-Headers")
		}
		h.Set("Content-Length", "0")
	}
}

func (a *API) notFound(w http.ResponseWriter, r *http.Request) {
	a.fail(w, &apiError{status: http.StatusNotFound, title: "404 Not Found", ban: fmt.Sprintf("Cannot %s %s", r.Method, r.URL.Path)})
}

// apiError is one error answer, worded for both flavours.
type apiError struct {
	status int
	title  string // Addok's falcon title
	desc   string // Addok's description ("" omits it, as falcon does)
	ban    string // addok-server's message ("" uses desc, then title)
}

func (e *apiError) Error() string { return e.title + ": " + e.desc }

func badParam(name, why string) *apiError {
	return &apiError{status: http.StatusBadRequest, title: "Invalid parameter", desc: fmt.Sprintf("The %q parameter is invalid. %s", name, why)}
}

func missingParam(name string) *apiError {
	return &apiError{status: http.StatusBadRequest, title: "Missing parameter", desc: fmt.Sprintf("The %q parameter is required.", name)}
}

func banError(status int, msg string) *apiError {
	return &apiError{status: status, title: http.StatusText(status), desc: msg, ban: msg}
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= 1<<20 { // do not keep the odd huge answer alive
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

func (a *API) fail(w http.ResponseWriter, e *apiError) {
	WriteError(w, a.opts.Flavour, e.status, e.title, e.desc, e.ban)
}

// WriteError writes an error answer in the flavour's shape: Addok's
// {"title","description"} or addok-server's {"code","message"}. banMsg
// overrides the message of the BAN flavour ("" uses desc, else title).
func WriteError(w http.ResponseWriter, f Flavour, status int, title, desc, banMsg string) {
	b := make([]byte, 0, 128)
	if f == BAN {
		msg := banMsg
		if msg == "" {
			msg = desc
		}
		if msg == "" {
			msg = title
		}
		if status == http.StatusInternalServerError && banMsg == "" {
			msg = "An unexpected error has occurred"
		}
		b = append(b, `{"code":`...)
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, `,"message":`...)
		b = pyjs.AppendSafeJSONString(b, msg)
	} else {
		b = append(b, `{"title":`...)
		b = pyjs.AppendSafeJSONString(b, title)
		if desc != "" {
			b = append(b, `,"description":`...)
			b = pyjs.AppendSafeJSONString(b, desc)
		}
	}
	b = append(b, '}')
	h := w.Header()
	h["Cache-Control"] = noStore // errors and refusals are never cached
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// noStore is the Cache-Control of answers that must not be cached:
// errors, refusals, health, batch and CSV output.
var noStore = []string{"no-store"}

// DefaultCacheControl is the Cache-Control of successful GET answers
// (Options.CacheControl): browsers may keep an answer five minutes (an
// autocomplete field repeats prefixes), shared caches may not, since the
// URL holds an address, which is personal data.
const DefaultCacheControl = "private, max-age=300"

// cacheable marks a successful GET answer with the configured policy.
func (a *API) cacheable(w http.ResponseWriter) {
	w.Header()["Cache-Control"] = a.cacheControl
}

// writeJSON writes a JSON answer; unless the handler chose a caching
// policy (Cache-Control already set), the answer is not to be stored.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	if _, ok := h["Cache-Control"]; !ok {
		h["Cache-Control"] = noStore
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func (a *API) health(w http.ResponseWriter, r *http.Request) {
	if a.opts.Draining != nil && a.opts.Draining() {
		writeJSON(w, http.StatusServiceUnavailable, []byte(`{"status":"DRAINING"}`))
		return
	}
	e, release := a.opts.Engines.Acquire()
	defer release()
	m := e.Index().Meta()
	b := append([]byte(nil), `{"status":"HEALTHY","index":{"version":`...)
	b = pyjs.AppendSafeJSONString(b, m.Version)
	b = append(b, `,"documents":`...)
	b = strconv.AppendInt(b, int64(m.Documents), 10)
	b = append(b, `,"housenumbers":`...)
	b = strconv.AppendInt(b, int64(m.Housenumbers), 10)
	b = append(b, `,"built_at":`...)
	b = pyjs.AppendSafeJSONString(b, m.BuiltAt)
	b = append(b, "}}"...)
	writeJSON(w, http.StatusOK, b)
}

// ready is GET /health/ready: Options.Ready when set (the server's full
// readiness report), else a minimal one.
func (a *API) ready(w http.ResponseWriter, r *http.Request) {
	if a.opts.Ready != nil {
		a.opts.Ready.ServeHTTP(w, r)
		return
	}
	if a.opts.Draining != nil && a.opts.Draining() {
		writeJSON(w, http.StatusServiceUnavailable, []byte(`{"status":"not_ready","checks":{"shutdown":{"ok":false}}}`))
		return
	}
	writeJSON(w, http.StatusOK, []byte(`{"status":"ready"}`))
}
