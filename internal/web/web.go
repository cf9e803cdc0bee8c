package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

//go:embed static
var files embed.FS

// DefaultTilesURL and DefaultTilesAttribution are OpenStreetMap's tiles,
// the ones a person expects under a map of France.
const (
	DefaultTilesURL         = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
	DefaultTilesAttribution = "© OpenStreetMap contributors"
)

// Options configures the page.
type Options struct {
	// TilesURL is a Leaflet tile URL template ({z}, {x}, {y}, {s}); ""
	// means no tiles: the markers on a plain background, and no request
	// leaves for a third party.
	TilesURL         string
	TilesAttribution string
	// Flavour is the API's flavour ("addok" or "ban"), which the page
	// shows and uses to pick the parameters it sends.
	Flavour string
}

// Handler serves the page at "/" and its files under "/web/".
type Handler struct {
	csp    string
	config []byte
	static fs.FS
}

// started stands for the embedded files' modification time: they change
// only with the binary.
var started = time.Now()

// New returns the page's handler. It answers only GET and HEAD of "/" and
// "/web/..."; the server mounts it before the API for those paths alone.
func New(o Options) http.Handler {
	static, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	cfg, _ := json.Marshal(map[string]string{
		"tilesURL":         o.TilesURL,
		"tilesAttribution": o.TilesAttribution,
		"flavour":          o.Flavour,
	})
	return &Handler{csp: policy(o.TilesURL), config: cfg, static: static}
}

// policy is the Content-Security-Policy: everything from the page's own
// origin, images also from the tiles' host when tiles are configured.
func policy(tiles string) string {
	img := "'self' data: blob:"
	if h := tilesOrigin(tiles); h != "" {
		img += " " + h
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src " + img +
		"; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// tilesOrigin is the scheme and host of a tile template, a {s} subdomain
// turned into a wildcard; "" when there are no tiles or the URL is not
// absolute (then the tiles are 'self').
func tilesOrigin(tiles string) string {
	if tiles == "" {
		return ""
	}
	const sub = "balise-subdomain."
	u, err := url.Parse(strings.NewReplacer("{z}", "0", "{x}", "0", "{y}", "0", "{r}", "", "{s}.", sub).Replace(tiles))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return ""
	}
	host := u.Host
	if rest, ok := strings.CutPrefix(host, sub); ok {
		host = "*." + rest
	}
	if strings.ContainsAny(host, "{} ;',") {
		return ""
	}
	return u.Scheme + "://" + host
}

// Handles reports whether the page answers r (GET or HEAD of "/" or of a
// path under "/web/").
func Handles(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	return r.URL.Path == "/" || strings.HasPrefix(r.URL.Path, "/web/")
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch p := r.URL.Path; {
	case p == "/":
		h.serveFile(w, r, "index.html", "no-cache")
	case p == "/web/config.json":
		hd.Set("Cache-Control", "no-cache")
		hd.Set("Content-Type", "application/json")
		http.ServeContent(w, r, "config.json", started, bytes.NewReader(h.config))
	case strings.HasPrefix(p, "/web/"):
		name := path.Clean(strings.TrimPrefix(p, "/web/"))
		if name == "index.html" || !fs.ValidPath(name) {
			http.NotFound(w, r)
			return
		}
		// An hour: the names carry no version, so a new binary's files
		// must reach browsers soon.
		h.serveFile(w, r, name, "public, max-age=3600")
	default:
		http.NotFound(w, r)
	}
}

func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, name, cache string) {
	b, err := fs.ReadFile(h.static, name)
	if err != nil {
		http.NotFound(w, r) // a directory or a missing file
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if path.Ext(name) == "" {
		ct = "text/plain; charset=utf-8" // LICENSE
	} else if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", cache)
	http.ServeContent(w, r, name, started, bytes.NewReader(b))
}
