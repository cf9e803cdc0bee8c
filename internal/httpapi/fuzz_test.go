package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"balise/internal/httpapi"
	"balise/internal/text"
)

// FuzzParseSearchParams: whatever the query string, /search and /reverse
// answer 200, 400 or 413 (never a panic, never a 500) in both flavours.
func FuzzParseSearchParams(f *testing.F) {
	for _, s := range []string{
		"q=rue+des+avions", "q=18,%20rue&limit=0&autocomplete=", "q=x&lat=0&lon=0",
		"q=x&type=&type=street+city", "q=%zz%&limit=1_0", "lat=48.1&lng=inf", "q=rue&lat=nan&lon=1e400",
		"lat=89.99&lon=179.99&radius=5000&limit=100", "lat=48.2&lon=5.2&radius=1e-300&type=housenumber",
	} {
		f.Add(s)
	}
	ix := buildIndex(f, text.ProfileDefault,
		doc{"name": "rue des avions", "postcode": "31310", "city": "Montbrun-Bocage", "housenumbers": map[string]any{"18": map[string]any{"lat": 48.3254, "lon": 2.256}}},
		doc{"name": "Paris", "type": "city"})
	e := newEngine(f, ix, nil)
	apis := []http.Handler{
		httpapi.New(httpapi.Options{Engines: source1{e}}),
		httpapi.New(httpapi.Options{Engines: source1{e}, Flavour: httpapi.BAN}),
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if len(raw) > 4096 {
			return
		}
		for _, api := range apis {
			for _, path := range []string{"/search", "/reverse"} {
				req := httptest.NewRequest("GET", "http://x"+path, nil)
				req.URL.RawQuery = raw
				w := httptest.NewRecorder()
				api.ServeHTTP(w, req)
				switch w.Code {
				case 200, 400, 413:
				default:
					t.Fatalf("%s?%q: status %d %s", path, raw, w.Code, w.Body)
				}
			}
		}
	})
}
