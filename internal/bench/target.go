package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"balise/internal/search"
)

// ErrKind classifies a failed request.
type ErrKind uint8

// Error kinds, in report order.
const (
	ErrNone        ErrKind = iota
	ErrTimeout             // no answer within the timeout
	ErrConnection          // could not connect, connection reset, malformed response
	ErrStatus4xx           // the server refused the request
	ErrStatus5xx           // the server failed
	ErrStatusOther         // 1xx/3xx: not an answer
	ErrEngine              // in-process: the engine returned an error
	// ErrRateLimited and ErrShed are refusals, not failures: 429 (the
	// client's rate limit) and 503 (load shedding, or draining). The report
	// gives their latency apart from the admitted requests'.
	ErrRateLimited
	ErrShed
	numErrKinds
)

var errKindNames = [numErrKinds]string{"", "timeout", "connection", "status_4xx", "status_5xx", "status_other", "engine", "rate_limited", "shed"}

// Rejected tells whether the kind is a refusal by admission control.
func (k ErrKind) Rejected() bool { return k == ErrRateLimited || k == ErrShed }

func (k ErrKind) String() string { return errKindNames[k] }

// Outcome is what one request gave.
type Outcome struct {
	Err      ErrKind
	Features int // features in the answer (0 for errors)
	// Aborted is set when the run itself cancelled the request (hard stop,
	// interrupted run): it is neither an answer nor the target's failure.
	Aborted bool
	// Cache is what the answer's X-Cache header said, when it had one.
	Cache CacheStatus
}

// CacheStatus reads a response's X-Cache header: balise sends "l1", "l2"
// or "miss"; Varnish, nginx and CDNs send "HIT…" or "MISS…".
type CacheStatus uint8

// Cache statuses.
const (
	CacheUnknown CacheStatus = iota
	CacheHit
	CacheMiss
)

func parseCacheHeader(v string) CacheStatus {
	v = strings.ToLower(strings.TrimSpace(v))
	switch {
	case v == "":
		return CacheUnknown
	case strings.HasPrefix(v, "miss"):
		return CacheMiss
	case v == "l1" || v == "l2" || strings.HasPrefix(v, "hit"):
		return CacheHit
	}
	return CacheUnknown
}

// Target executes requests. Do is called from many goroutines.
type Target interface {
	Do(ctx context.Context, r *Request) Outcome
	// String names the target in reports.
	String() string
}

// Preparer is implemented by targets that check and adapt a request list
// once before a run (the in-process target decodes filters for its index).
type Preparer interface {
	Prepare(reqs []Request) error
}

// HTTPOptions configures an HTTP target.
type HTTPOptions struct {
	// Timeout bounds one request, connection included (default 5 s).
	Timeout time.Duration
	// MaxConns is the connection pool size; it should be at least the
	// number of requests in flight (default 64).
	MaxConns int
	// AllowRemote permits targets that are not loopback addresses.
	AllowRemote bool
	// MaxBodyBytes bounds how much of an answer is read (default 8 MiB).
	MaxBodyBytes int64
	// DisableCompression stops asking for gzip answers. By default the
	// client sends Accept-Encoding: gzip, as browsers do, so the server's
	// compression cost is part of the measurement.
	DisableCompression bool
}

// HTTP sends requests to an Addok-compatible server.
type HTTP struct {
	base    string // scheme://host[:port][/prefix], no trailing slash
	client  *http.Client
	maxBody int64
	bufs    sync.Pool
}

// ErrRemoteTarget is returned for a target that is not loopback.
var ErrRemoteTarget = errors.New("target is not a loopback address")

// CheckLoopback refuses URLs whose host is not 127.0.0.0/8, ::1 or
// localhost. Host names other than localhost are refused without being
// resolved: a load test must not depend on what DNS says today.
func CheckLoopback(u *url.URL) error {
	h := strings.ToLower(u.Hostname())
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return nil
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("refusing to load-test %s: %w; pass --allow-remote if you are allowed to load this server", u.Host, ErrRemoteTarget)
}

// NewHTTP returns a target for the server at base (e.g.
// "http://127.0.0.1:7878"; a path prefix is kept).
func NewHTTP(base string, o HTTPOptions) (*HTTP, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("cannot parse target URL %q: %w", base, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("target %q must be an http:// or https:// URL", base)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("target %q must not have a query or fragment", base)
	}
	if !o.AllowRemote {
		if err := CheckLoopback(u); err != nil {
			return nil, err
		}
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 64
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 8 << 20
	}
	dialer := &net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second}
	if !o.AllowRemote {
		// "localhost" could resolve anywhere: check the address actually
		// dialled too.
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("dialling %s: %w", address, ErrRemoteTarget)
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy:               nil, // a load generator measures the server, not a proxy
		DialContext:         dialer.DialContext,
		MaxIdleConns:        o.MaxConns,
		MaxIdleConnsPerHost: o.MaxConns,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: o.Timeout,
		ForceAttemptHTTP2:   true,
		DisableCompression:  o.DisableCompression,
	}
	t := &HTTP{
		base:    strings.TrimRight(u.String(), "/"),
		client:  &http.Client{Transport: tr, Timeout: o.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		maxBody: o.MaxBodyBytes,
	}
	t.bufs.New = func() any { return new(bytes.Buffer) }
	return t, nil
}

func (t *HTTP) String() string { return t.base }

// Close releases idle connections.
func (t *HTTP) Close() { t.client.CloseIdleConnections() }

var featureToken = []byte(`"Feature"`)

// Do sends one GET and reads the whole answer (so the connection is
// reused). Features are counted as occurrences of the "Feature" string:
// cheap, and right for balise's and Addok's GeoJSON, whose only other
// "type" values are "FeatureCollection" and geometry types.
func (t *HTTP) Do(ctx context.Context, r *Request) Outcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.base+r.Path, nil)
	if err != nil {
		return Outcome{Err: ErrConnection}
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return t.classify(ctx, err)
	}
	buf := t.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, t.maxBody))
	resp.Body.Close()
	var out Outcome
	switch {
	case err != nil:
		out = t.classify(ctx, err)
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		out.Features = bytes.Count(buf.Bytes(), featureToken)
		out.Cache = parseCacheHeader(resp.Header.Get("X-Cache"))
	case resp.StatusCode == http.StatusTooManyRequests:
		out.Err = ErrRateLimited
	case resp.StatusCode == http.StatusServiceUnavailable:
		out.Err = ErrShed
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		out.Err = ErrStatus4xx
	case resp.StatusCode >= 500:
		out.Err = ErrStatus5xx
	default:
		out.Err = ErrStatusOther
	}
	if buf.Cap() <= 1<<20 { // do not keep a rare huge buffer alive
		t.bufs.Put(buf)
	}
	return out
}

func (t *HTTP) classify(ctx context.Context, err error) Outcome {
	if ctx.Err() != nil {
		return Outcome{Aborted: true}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return Outcome{Err: ErrTimeout}
	}
	return Outcome{Err: ErrConnection}
}

// InProcess runs requests on a search engine directly: the engine's cost
// without HTTP, JSON encoding or the network.
type InProcess struct {
	e *search.Engine
}

// NewInProcess returns an in-process target.
func NewInProcess(e *search.Engine) *InProcess { return &InProcess{e: e} }

func (t *InProcess) String() string { return "in-process " + t.e.Index().String() }

// Prepare refuses endpoints other than search and reverse, and keeps the
// filters the index knows, in its order, as the HTTP API does (Addok
// ignores unknown parameters).
func (t *InProcess) Prepare(reqs []Request) error {
	known := t.e.Filters()
	keep := func(fs []search.Filter) []search.Filter {
		var out []search.Filter
		for _, name := range known {
			for _, f := range fs {
				if f.Name == name {
					out = append(out, f)
				}
			}
		}
		return out
	}
	for i := range reqs {
		r := &reqs[i]
		switch r.Endpoint {
		case EndpointSearch:
			r.Search.Filters = keep(r.Search.Filters)
		case EndpointReverse:
			r.Reverse.Filters = keep(r.Reverse.Filters)
		default:
			return fmt.Errorf("request %q: the in-process target only runs /search and /reverse", r.Path)
		}
	}
	return nil
}

// Do runs one request.
func (t *InProcess) Do(ctx context.Context, r *Request) Outcome {
	var res []*search.Result
	var err error
	if r.Endpoint == EndpointReverse {
		res, err = t.e.Reverse(ctx, r.Reverse)
	} else {
		res, err = t.e.Search(ctx, r.Search)
	}
	if err != nil {
		if ctx.Err() != nil {
			return Outcome{Aborted: true}
		}
		var tl *search.QueryTooLongError
		if errors.As(err, &tl) || errors.Is(err, search.ErrBadFilter) {
			return Outcome{Err: ErrStatus4xx} // what the HTTP API would answer
		}
		return Outcome{Err: ErrEngine}
	}
	return Outcome{Features: len(res)}
}
