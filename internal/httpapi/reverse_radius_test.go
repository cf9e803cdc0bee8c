package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"balise/internal/cache"
	"balise/internal/httpapi"
	"balise/internal/text"
)

// radiusDocs: one document at the point, one 1.1 km north (outside
// Addok's cells around the point, inside a 2 km radius).
var radiusDocs = []doc{{"id": "here", "lat": 48.2, "lon": 5.2}, {"id": "north", "lat": 48.21, "lon": 5.2}}

func reverseIDs(t *testing.T, a answer) []string {
	t.Helper()
	expectStatus(t, a, 200)
	var ids []string
	for _, f := range a.features() {
		ids = append(ids, props(f)["id"].(string))
	}
	return ids
}

// GET /reverse's radius (balise's own): absent, empty or 0 keeps Addok's
// cells; a radius looks exactly that far; anything but a number of
// metres from 0 to the engine's cap is a 400 naming the parameter.
func TestReverseRadiusParameter(t *testing.T) {
	c, err := cache.New(cache.DefaultConfig(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ix := buildIndex(t, text.ProfileDefault, radiusDocs...)
	for _, opts := range []httpapi.Options{{}, {Cache: c}} {
		srv := serve(t, newEngine(t, ix, nil), opts)
		for _, tc := range []struct{ query, want string }{
			{"", "here"}, {"&radius=", "here"}, {"&radius=0", "here"},
			{"&radius=2000", "here north"}, {"&radius=500", "here"}, {"&radius=5000", "here north"},
			{"&radius=1e3", "here"}, {"&radius=1.5e3", "here north"},
		} {
			// Twice: the second answer may come from the cache.
			for range 2 {
				if got := strings.Join(reverseIDs(t, get(t, srv, "/reverse?lat=48.2&lon=5.2&limit=5"+tc.query)), " "); got != tc.want {
					t.Errorf("cache %v, radius %q: %q, want %q", opts.Cache != nil, tc.query, got, tc.want)
				}
			}
		}
		for _, bad := range []string{"-1", "5000.5", "nan", "inf", "abc", "1_0x"} {
			a := get(t, srv, "/reverse?lat=48.2&lon=5.2&radius="+bad)
			expectStatus(t, a, 400)
			if a.json["description"] != `The "radius" parameter is invalid. It must be a number of metres from 0 to 5000.` {
				t.Errorf("radius %q: %s", bad, a.body)
			}
		}
	}
}

// The flavour ban takes the radius too, in GET /reverse and in /batch
// reverse items, with addok-server's style of message.
func TestReverseRadiusBAN(t *testing.T) {
	srv := serve(t, newEngine(t, buildIndex(t, text.ProfileDefault, radiusDocs...), nil), httpapi.Options{Flavour: httpapi.BAN})
	if got := strings.Join(reverseIDs(t, get(t, srv, "/reverse?lat=48.2&lon=5.2&radius=2000")), " "); got != "here north" {
		t.Errorf("radius 2000: %q", got)
	}
	if got := strings.Join(reverseIDs(t, get(t, srv, "/reverse?lat=48.2&lon=5.2")), " "); got != "here" {
		t.Errorf("no radius: %q", got)
	}
	for _, bad := range []string{"-1", "5001", "abc"} {
		a := get(t, srv, "/reverse?lat=48.2&lon=5.2&radius="+bad)
		expectStatus(t, a, 400)
		if !strings.Contains(string(a.body), "radius must be a number of metres between 0 and 5000") {
			t.Errorf("radius %q: %s", bad, a.body)
		}
	}
	body := `{"requests":[{"operation":"reverse","params":{"lat":48.2,"lon":5.2,"radius":2000}},` +
		`{"operation":"reverse","params":{"lat":48.2,"lon":5.2,"radius":"far"}},` +
		`{"operation":"reverse","params":{"lat":48.2,"lon":5.2}}]}`
	a := do(t, srv, "POST", "/batch", "application/json", strings.NewReader(body))
	expectStatus(t, a, 200)
	// An item's answer is its best result; next_score is there only when
	// a second document was found: north, within the radius.
	var out struct {
		Results []struct {
			Status string
			Error  string
			Result map[string]any
		}
	}
	if err := json.Unmarshal(a.body, &out); err != nil || len(out.Results) != 3 {
		t.Fatalf("/batch: %s (%v)", a.body, err)
	}
	_, second := out.Results[0].Result["next_score"]
	_, secondWithout := out.Results[2].Result["next_score"]
	if !second || secondWithout || out.Results[1].Error != "radius must be a number of metres between 0 and 5000" {
		t.Errorf("/batch: %s", a.body)
	}
}
