package server

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"expvar"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultAdminMaxProfile is the longest CPU profile, execution trace or
// delta profile (pprof's seconds=) the admin listener takes by default.
const DefaultAdminMaxProfile = 60 * time.Second

// The admin http.Server's own timeouts: its requests are small, and its
// answers must outlast the longest profile (pprof pushes the write
// deadline by the profile's duration too).
const (
	adminReadTimeout = 10 * time.Second
	adminWriteMargin = 30 * time.Second
)

// Why an admin request was refused: the reason label of
// balise_admin_requests_refused_total.
const (
	refusedHost        = "host"
	refusedCrossOrigin = "cross_origin"
	refusedToken       = "token"
	refusedSeconds     = "seconds"
)

// adminHandler serves the admin listener: pprof, expvar, metrics, the full
// readiness report and the index reload. It is never mounted on the public
// listener. Outermost first, a request passes the Host check (DNS
// rebinding), the cross-origin check (CSRF from a local browser), the
// bearer token when one is configured, then the routes.
func (s *Server) adminHandler() http.Handler {
	refused := s.adminRefusals()
	mux := http.NewServeMux()
	maxProfile := s.adminMaxProfile()
	profiles := http.NewServeMux()
	profiles.HandleFunc("GET /debug/pprof/", pprof.Index)
	profiles.HandleFunc("GET /debug/pprof/cmdline", s.serveCmdline)
	profiles.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	profiles.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	profiles.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	profiles.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/pprof/", capSeconds(profiles, maxProfile, refused))
	mux.HandleFunc("GET /debug/vars", s.serveVars)
	if tel := s.metrics(); tel != nil {
		mux.Handle("GET /metrics", tel.MetricsHandler())
	}
	mux.HandleFunc("GET /health/ready", s.readyFull)
	mux.HandleFunc("POST /admin/reload", s.serveReload)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write([]byte(`{"status":"HEALTHY"}`))
	})

	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refused(refusedCrossOrigin)
		http.Error(w, "403 Forbidden: the admin listener refuses state-changing requests sent by a browser from another origin (cross-site request forgery). Use curl or another non-browser client.", http.StatusForbidden)
	}))
	h := csrf.Handler(requireToken(mux, s.cfg.AdminToken, refused))
	h = checkHost(h, newHostPolicy(s.cfg.AdminAddr, s.cfg.AdminAllowedHosts), refused)
	return Chain(h, Recover(s.log, s.cfg.API.Flavour, s.onPanic), SecurityHeaders(), noStore)
}

// noStore keeps profiles, reports and reload answers out of every cache.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// adminServer is the admin listener's http.Server.
func (s *Server) adminServer() *http.Server {
	return &http.Server{
		Handler:           s.admin,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       adminReadTimeout,
		WriteTimeout:      s.adminMaxProfile() + adminWriteMargin,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

func (s *Server) adminMaxProfile() time.Duration {
	if s.cfg.AdminMaxProfile > 0 {
		return s.cfg.AdminMaxProfile
	}
	return DefaultAdminMaxProfile
}

// warnIfAdminExposed logs when the admin listener is bound beyond
// loopback: a warning with a token, an error without one.
func (s *Server) warnIfAdminExposed(addr net.Addr) {
	if !beyondLoopback(addr) {
		return
	}
	if s.cfg.AdminToken == "" {
		s.log.Error("the admin listener is reachable beyond loopback WITHOUT a token: whoever reaches it can read profiles and the full readiness report and reload the index; set --admin-token or bind --admin-addr to 127.0.0.1",
			"addr", addr.String())
		return
	}
	s.log.Warn("the admin listener is reachable beyond loopback: its requests need the admin token; keep it on a private network",
		"addr", addr.String())
}

// beyondLoopback: a TCP address other than a loopback one (a wildcard
// address is every interface). A Unix socket is local.
func beyondLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip, ok := netip.AddrFromSlice(tcp.IP)
	return !ok || !ip.Unmap().IsLoopback()
}

// adminRefusals returns the function counting refused admin requests
// (nothing without metrics).
func (s *Server) adminRefusals() func(reason string) {
	tel := s.metrics()
	if tel == nil {
		return func(string) {}
	}
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "balise_admin_requests_refused_total",
		Help: "Requests the admin listener refused, by reason: host (a Host header not allowed: DNS rebinding or a misconfigured proxy), cross_origin (a browser's cross-origin state-changing request), token (no or a wrong bearer token), seconds (a profile longer than allowed).",
	}, []string{"reason"})
	if err := tel.Registry.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			s.log.Warn("cannot register the admin metrics", "err", err)
			return func(string) {}
		}
		c = are.ExistingCollector.(*prometheus.CounterVec)
	}
	for _, r := range []string{refusedHost, refusedCrossOrigin, refusedToken, refusedSeconds} {
		c.WithLabelValues(r)
	}
	return func(reason string) { c.WithLabelValues(reason).Inc() }
}

// hostPolicy is the set of Host headers the admin listener answers.
// Loopback addresses, "localhost" and the address the connection came in
// on are always allowed: a browser page can only send one of them by
// naming it, which DNS rebinding cannot do.
type hostPolicy struct {
	any   bool
	names map[string]bool // normalised by hostName
}

// newHostPolicy allows the loopback names, the host of adminAddr (unless
// it is a wildcard) and the extra names ("*": any host).
func newHostPolicy(adminAddr string, extra []string) hostPolicy {
	p := hostPolicy{names: map[string]bool{"localhost": true}}
	if h := hostName(adminAddr); h != "" {
		if ip, err := netip.ParseAddr(h); err != nil || !ip.IsUnspecified() {
			p.names[h] = true
		}
	}
	for _, e := range extra {
		e = strings.TrimSpace(e)
		if e == "*" {
			p.any = true
		}
		if h := hostName(e); h != "" {
			p.names[h] = true
		}
	}
	return p
}

// allows reports whether r's Host is one the admin listener answers. An
// empty Host (HTTP/1.0) cannot come from a browser, so it passes.
func (p hostPolicy) allows(r *http.Request) bool {
	if p.any || r.Host == "" {
		return true
	}
	h := hostName(r.Host)
	if p.names[h] {
		return true
	}
	ip, err := netip.ParseAddr(h)
	if err != nil {
		return false
	}
	ip = ip.Unmap().WithZone("")
	if ip.IsLoopback() {
		return true
	}
	if tcp, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); ok {
		local, ok := netip.AddrFromSlice(tcp.IP)
		return ok && local.Unmap().WithZone("") == ip
	}
	return false
}

// hostName is host without its port, brackets, trailing dot or case:
// "LocalHost.:7879" and "[::1]" give "localhost" and "::1".
func hostName(hostport string) string {
	h := strings.TrimSpace(hostport)
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// checkHost answers 421 Misdirected Request to a Host the policy refuses:
// the request reached a server that does not answer for that name (RFC
// 9110 §15.5.20), which is what a rebound DNS name is; 403 would suggest
// that credentials could help.
func checkHost(next http.Handler, p hostPolicy, refused func(string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.allows(r) {
			refused(refusedHost)
			http.Error(w, "421 Misdirected Request: the admin listener answers only for localhost, loopback addresses, its own address and the names of --admin-allowed-hosts; this Host header is none of them (a DNS rebinding attempt, or a name to add to --admin-allowed-hosts).", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireToken asks for "Authorization: Bearer <token>" when token is
// set, except on GET /health, left open for liveness probes (it tells
// nothing but that the process answers). The comparison is of SHA-256
// digests in constant time, so that neither the token nor its length
// leaks through timing.
func requireToken(next http.Handler, token string, refused func(string)) http.Handler {
	if token == "" {
		return next
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			next.ServeHTTP(w, r)
			return
		}
		got, ok := bearerToken(r.Header.Get("Authorization"))
		sum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 || !ok {
			refused(refusedToken)
			challenge := `Bearer realm="balise admin"`
			if ok {
				challenge += `, error="invalid_token"`
			}
			w.Header().Set("WWW-Authenticate", challenge)
			http.Error(w, "401 Unauthorized: the admin listener needs the header \"Authorization: Bearer <token>\" with the token of --admin-token.", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearerToken reads "Bearer <token>" (the scheme in any case).
func bearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// capSeconds refuses (400) a seconds= above max: pprof's CPU profile and
// trace last that long, and a delta profile (heap?seconds=) waits that
// long, each holding a connection and, for the profile and the trace, the
// process-wide profiler.
func capSeconds(next http.Handler, max time.Duration, refused func(string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.URL.Query().Get("seconds"); v != "" {
			// NaN and infinities are refused with the rest.
			if sec, err := strconv.ParseFloat(v, 64); err == nil && !(sec <= max.Seconds()) {
				refused(refusedSeconds)
				http.Error(w, "400 Bad Request: seconds is at most "+strconv.FormatFloat(max.Seconds(), 'f', -1, 64)+" on this admin listener (--admin-max-profile).", http.StatusBadRequest)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// args is the command line the admin listener shows, before redaction.
func (s *Server) args() []string {
	if s.cfg.Args != nil {
		return s.cfg.Args
	}
	return os.Args
}

// serveCmdline is pprof's /debug/pprof/cmdline with the arguments
// redacted (RedactArgs).
func (s *Server) serveCmdline(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte(strings.Join(RedactArgs(s.args()), "\x00")))
}

// serveVars is expvar's /debug/vars with its "cmdline" variable (the
// process's arguments, which expvar publishes itself) redacted.
func (s *Server) serveVars(w http.ResponseWriter, r *http.Request) {
	var b bytes.Buffer
	b.WriteString("{\n")
	first := true
	expvar.Do(func(kv expvar.KeyValue) {
		if !first {
			b.WriteString(",\n")
		}
		first = false
		key, _ := json.Marshal(kv.Key)
		b.Write(key)
		b.WriteString(": ")
		if kv.Key == "cmdline" {
			v, _ := json.Marshal(RedactArgs(s.args()))
			b.Write(v)
			return
		}
		b.WriteString(kv.Value.String())
	})
	b.WriteString("\n}\n")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(b.Bytes())
}

// Redacted replaces secret values in RedactArgs' output.
const Redacted = "REDACTED"

// redactedPassword replaces a URL's password, as net/url's URL.Redacted
// writes it.
const redactedPassword = "xxxxx"

// secretFlagWords: a flag whose name contains one of them takes a secret.
var secretFlagWords = []string{"token", "password", "passwd", "secret", "key", "credential"}

// RedactArgs returns a copy of a command line safe to show or log: the
// value of a flag whose name contains token, password, passwd, secret,
// key or credential (any case, one or two dashes) becomes "REDACTED",
// in the --flag=value and the --flag value forms; and the password of
// every URL with userinfo becomes "xxxxx", as URL.Redacted writes it,
// wherever the URL is: a flag's value, an argument of its own, one URL in
// a comma-separated list, or a scheme-less "user:password@host". Query
// parameters named like secret flags (?password=, &api_key=) are
// REDACTED too.
//
// It errs on the side of hiding: an "@" after a ":" in an ordinary value
// is taken for userinfo, and the argument after a secret flag is hidden
// even when that flag is a boolean. Its cost is linear in the input.
func RedactArgs(args []string) []string {
	if args == nil {
		return nil
	}
	out := make([]string, len(args))
	hideNext := false
	for i, a := range args {
		if hideNext {
			out[i], hideNext = Redacted, false
			continue
		}
		name, value, hasValue, isFlag := splitFlag(a)
		switch {
		case isFlag && secretFlagName(name) && hasValue:
			out[i] = a[:len(a)-len(value)] + Redacted
		case isFlag && secretFlagName(name):
			out[i], hideNext = a, true
		default:
			out[i] = redactQuerySecrets(redactUserinfo(a))
		}
	}
	return out
}

// splitFlag reads "-name", "--name", "-name=value" and "--name=value".
// "-" and "--" alone are not flags.
func splitFlag(a string) (name, value string, hasValue, isFlag bool) {
	if len(a) < 2 || a[0] != '-' {
		return "", "", false, false
	}
	rest := a[1:]
	if rest[0] == '-' {
		rest = rest[1:]
	}
	if rest == "" || rest[0] == '-' || rest[0] == '=' {
		return "", "", false, false
	}
	name, value, hasValue = strings.Cut(rest, "=")
	return name, value, hasValue, true
}

func secretFlagName(name string) bool {
	name = strings.ToLower(name)
	for _, w := range secretFlagWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// redactUserinfo hides the passwords of the URLs in s. s is cut into
// segments at each "://" (a URL's authority starts there and the next URL
// starts at the next one); in each segment, the text before its last "@"
// is the userinfo, and what follows the first ":" in it the password.
// The segment before the first "://" is read the same way, which catches
// "user:password@host" written without a scheme.
func redactUserinfo(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	rest := s
	for {
		seg, next, found := strings.Cut(rest, "://")
		b.WriteString(redactSegment(seg))
		if !found {
			return b.String()
		}
		b.WriteString("://")
		rest = next
	}
}

// redactSegment hides the password of one segment of redactUserinfo.
func redactSegment(seg string) string {
	at := strings.LastIndexByte(seg, '@')
	if at < 0 {
		return seg
	}
	colon := strings.IndexByte(seg[:at], ':')
	if colon < 0 {
		return seg // a user name alone, as URL.Redacted keeps it
	}
	return seg[:colon+1] + redactedPassword + seg[at:]
}

// redactQuerySecrets hides the values of the query parameters of s (after
// its first "?", pairs separated by "&" or by the "?" of a further URL)
// whose names are those of secret flags.
func redactQuerySecrets(s string) string {
	q := strings.IndexByte(s, '?')
	if q < 0 || !strings.Contains(s[q:], "=") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:q+1])
	rest := s[q+1:]
	for {
		end := strings.IndexAny(rest, "&?")
		pair := rest
		if end >= 0 {
			pair = rest[:end]
		}
		if name, _, ok := strings.Cut(pair, "="); ok && secretFlagName(name) {
			b.WriteString(name)
			b.WriteString("=" + Redacted)
		} else {
			b.WriteString(pair)
		}
		if end < 0 {
			return b.String()
		}
		b.WriteByte(rest[end])
		rest = rest[end+1:]
	}
}
