package httpapi_test

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"balise/internal/search"
)

// Ports of Addok's tests/test_http.py, default configuration,
// over real HTTP.

func TestSearchWithoutQ(t *testing.T) {
	srv := fixture(t, nil, doc{"name": "rue des avions"})
	a := get(t, srv, "/search")
	expectStatus(t, a, 400)
	if a.json["title"] != "Missing parameter" || a.json["description"] != `The "q" parameter is required.` {
		t.Fatalf("body %s", a.body)
	}
	expectStatus(t, get(t, srv, "/search?q="), 400)
}

func TestSearchShape(t *testing.T) {
	srv := fixture(t, nil, doc{"name": "rue des avions"})
	a := get(t, srv, "/search/?q=avions")
	expectStatus(t, a, 200)
	if ct := a.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if a.json["type"] != "FeatureCollection" || a.json["version"] != "draft" {
		t.Errorf("envelope %s", a.body)
	}
	fs := a.features()
	if len(fs) != 1 {
		t.Fatalf("%d features", len(fs))
	}
	p := props(fs[0])
	for _, k := range []string{"name", "id", "type", "score"} {
		if _, ok := p[k]; !ok {
			t.Errorf("no %s in %v", k, p)
		}
	}
	if p["name"] != "rue des avions" {
		t.Errorf("name %v", p["name"])
	}
	for _, k := range []string{"attribution", "licence"} {
		if _, ok := a.json[k]; !ok {
			t.Errorf("no %s", k)
		}
	}
	if a.header.Get("Access-Control-Allow-Origin") != "*" || a.header.Get("Access-Control-Allow-Headers") != "X-Requested-With" {
		t.Errorf("CORS headers %v", a.header)
	}
}

func TestNoRedirectWithoutSlash(t *testing.T) {
	srv := fixture(t, nil, doc{"name": "rue des avions", "lat": 44, "lon": 4})
	for _, p := range []string{"/search?q=avions", "/search/?q=avions", "/reverse?lat=44&lon=4", "/reverse/?lat=44&lon=4"} {
		a := get(t, srv, p)
		expectStatus(t, a, 200)
		if len(a.features()) != 1 {
			t.Errorf("%s: %s", p, a.body)
		}
	}
}

func TestTypeFilter(t *testing.T) {
	srv := fixture(t, nil, doc{"name": "rue de Paris"}, doc{"name": "Paris", "type": "city"})
	a := get(t, srv, "/search?q=paris&type=city")
	if fs := a.features(); len(fs) != 1 || props(fs[0])["type"] != "city" {
		t.Fatalf("type=city: %s", a.body)
	}
	for _, q := range []string{"type=street+city", "type=street%20city", "type=street&type=city"} {
		if fs := get(t, srv, "/search?q=paris&"+q).features(); len(fs) != 2 {
			t.Errorf("%s: %d features", q, len(fs))
		}
	}
}

func TestFiltersAnd(t *testing.T) {
	srv := fixture(t, nil,
		doc{"name": "rue de Paris", "postcode": "77000"},
		doc{"name": "avenue de Paris", "postcode": "22000"},
		doc{"name": "Paris", "type": "city"})
	fs := get(t, srv, "/search?q=paris&type=street&postcode=77000").features()
	if len(fs) != 1 || props(fs[0])["name"] != "rue de Paris" {
		t.Fatalf("%v", fs)
	}
}

func TestCenter(t *testing.T) {
	srv := fixture(t, nil, doc{"name": "rue de Paris"})
	a := get(t, srv, "/search?q=paris&lat=44&lon=4")
	if !reflect.DeepEqual(a.json["center"], []any{4.0, 44.0}) {
		t.Fatalf("center %v", a.json["center"])
	}
	// A 0 coordinate biases the search but hides "center" (truthiness).
	a = get(t, srv, "/search?q=paris&lat=0&lon=4")
	if _, ok := a.json["center"]; ok {
		t.Fatalf("center with lat=0: %s", a.body)
	}
	if _, ok := props(a.features()[0])["distance"]; !ok {
		t.Fatalf("no distance with lat=0: %s", a.body)
	}
}

func TestReverse(t *testing.T) {
	srv := fixture(t, nil, doc{"name": "rue des avions", "lat": 44, "lon": 4})
	for _, p := range []string{"/reverse/?lat=44&lon=4", "/reverse/?lat=44&lng=4", "/reverse?latitude=44&longitude=4"} {
		a := get(t, srv, p)
		fs := a.features()
		if len(fs) != 1 {
			t.Fatalf("%s: %s", p, a.body)
		}
		pr := props(fs[0])
		for _, k := range []string{"name", "id", "type", "score"} {
			if _, ok := pr[k]; !ok {
				t.Errorf("%s: no %s", p, k)
			}
		}
		if _, ok := a.json["query"]; ok {
			t.Errorf("%s: reverse echoes query", p)
		}
		if a.json["limit"] != 1.0 {
			t.Errorf("%s: limit %v", p, a.json["limit"])
		}
	}
}

func TestReverseTypeFilter(t *testing.T) {
	srv := fixture(t, nil,
		doc{"name": "rue", "lat": 48.234545, "lon": 5.235445},
		doc{"name": "ville", "type": "city", "lat": 48.234546, "lon": 5.235446})
	fs := get(t, srv, "/reverse/?lat=48.234545&lon=5.235446&type=city").features()
	if len(fs) != 1 || props(fs[0])["type"] != "city" {
		t.Fatalf("%v", fs)
	}
}

func TestReverseMultiType(t *testing.T) {
	srv := fixture(t, nil,
		doc{"name": "rue A", "type": "street", "postcode": "75001", "lat": 48.2345, "lon": 5.2354},
		doc{"name": "lieu B", "type": "locality", "postcode": "75001", "lat": 48.2345, "lon": 5.2354},
		doc{"name": "Ville C", "type": "city", "postcode": "75001", "lat": 48.2345, "lon": 5.2354},
		doc{"name": "rue D", "type": "street", "postcode": "75002", "lat": 48.2345, "lon": 5.2354})
	fs := get(t, srv, "/reverse/?lat=48.2345&lon=5.2354&type=street+city&limit=10").features()
	if len(fs) != 3 {
		t.Fatalf("street+city: %d features", len(fs))
	}
	fs = get(t, srv, "/reverse/?lat=48.2345&lon=5.2354&type=street+city&postcode=75001&limit=10").features()
	var names []string
	for _, f := range fs {
		names = append(names, props(f)["name"].(string))
	}
	slices := strings.Join(names, ",")
	if len(fs) != 2 || !strings.Contains(slices, "rue A") || !strings.Contains(slices, "Ville C") {
		t.Fatalf("street+city AND 75001: %v", names)
	}
}

// H10/H11 configure FILTERS_MULTI_VALUE_SEPARATOR (None, ","): balise keeps
// Addok's default separator (a space) and does not make it configurable;
// repeated parameters are ORed whatever the separator.
func TestRepeatedFilterParams(t *testing.T) {
	srv := fixture(t, nil, doc{"name": "rue de Paris"}, doc{"name": "Paris", "type": "city"}, doc{"name": "Paris", "type": "locality"})
	a := get(t, srv, "/search?q=paris&type=street&type=city")
	if len(a.features()) != 2 {
		t.Fatalf("%s", a.body)
	}
	if !reflect.DeepEqual(a.json["filters"], map[string]any{"type": []any{"street", "city"}}) {
		t.Fatalf("echo %v", a.json["filters"])
	}
}

func TestReverseMissingCoordinate(t *testing.T) {
	srv := fixture(t, nil, doc{"name": "rue"})
	a := get(t, srv, "/reverse/?lat=44")
	expectStatus(t, a, 400)
	if a.json["description"] != `The "lon" parameter is required.` {
		t.Errorf("%s", a.body)
	}
	a = get(t, srv, "/reverse/?lng=4")
	expectStatus(t, a, 400)
	if a.json["description"] != `The "lat" parameter is required.` {
		t.Errorf("%s", a.body)
	}
}

func TestHousenumberPayload(t *testing.T) {
	srv := fixture(t, nil, doc{"name": "rue de Paris", "housenumbers": map[string]any{"1": map[string]any{"lat": 48.3254, "lon": 2.256, "key": "abc"}}})
	p := props(get(t, srv, "/search?q=rue+de+paris").features()[0])
	if _, ok := p["key"]; ok {
		t.Errorf("key without a number: %v", p)
	}
	p = props(get(t, srv, "/search?q=1+rue+de+paris").features()[0])
	if p["key"] != "abc" || p["housenumber"] != "1" || p["type"] != "housenumber" {
		t.Errorf("with a number: %v", p)
	}
}

func TestHousenumberNames(t *testing.T) {
	srv := fixture(t, nil,
		doc{"name": "rue de Paris", "housenumbers": map[string]any{"1": map[string]any{"lat": 48.3254, "lon": 2.256}}},
		doc{"name": "Le Vieux-Chêne", "type": "locality", "housenumbers": map[string]any{"2": map[string]any{"lat": 48.3254, "lon": 2.256}}})
	p := props(get(t, srv, "/search?q=1+rue+de+paris").features()[0])
	if p["name"] != "1 rue de Paris" || p["street"] != "rue de Paris" {
		t.Errorf("%v", p)
	}
	p = props(get(t, srv, "/search?q="+url.QueryEscape("2 Le Vieux-Chêne")).features()[0])
	if p["name"] != "2 Le Vieux-Chêne" || p["locality"] != "Le Vieux-Chêne" {
		t.Errorf("%v", p)
	}
}

func TestCommaNotSplit(t *testing.T) {
	srv := fixture(t, nil, doc{"name": "rue des avions", "housenumbers": map[string]any{"18": map[string]any{"lat": 48.3254, "lon": 2.256}}})
	a := get(t, srv, "/search?q=18,%20rue%20des%20avions")
	if a.json["query"] != "18, rue des avions" {
		t.Errorf("query %v", a.json["query"])
	}
	if p := props(a.features()[0]); p["label"] != "18 rue des avions" {
		t.Errorf("label %v", p["label"])
	}
}

func TestQueryTooLong(t *testing.T) {
	srv := fixture(t, func(c *search.Config) { c.QueryMaxLength = 10 }, doc{"name": "rue"})
	a := get(t, srv, "/search?q=this+is+too+long")
	expectStatus(t, a, 413)
	if a.json["title"] != "Query too long, 16 chars, limit is 10" {
		t.Errorf("%s", a.body)
	}
	if _, ok := a.json["description"]; ok {
		t.Errorf("413 has a description: %s", a.body)
	}
}

func TestTypeNamedKeyKept(t *testing.T) {
	srv := fixture(t, nil, doc{"name": "rue de foobar", "type": "foo", "foo": "bar"})
	p := props(get(t, srv, "/search?q=rue+de+foobar").features()[0])
	if p["foo"] != "bar" {
		t.Errorf("%v", p)
	}
}

func TestInvalidCoordinates(t *testing.T) {
	srv := fixture(t, nil, doc{"name": "rue"})
	for _, c := range []struct{ q, desc string }{
		{"/search?q=blah&lat=invalid&lon=3.21", `The "lat" parameter is invalid. invalid value`},
		{"/search?q=blah&longitude=invalid&lat=3.21", `The "longitude" parameter is invalid. invalid value`},
		{"/search?q=blah&longitude=200&lat=3.21", `The "lon" parameter is invalid. out of range`},
		{"/search?q=blah&lat=-91&lon=3", `The "lat" parameter is invalid. out of range`},
		{"/reverse?lat=blah&lon=3", `The "lat" parameter is invalid. invalid value`},
	} {
		a := get(t, srv, c.q)
		expectStatus(t, a, 400)
		if a.json["title"] != "Invalid parameter" || a.json["description"] != c.desc {
			t.Errorf("%s: %s", c.q, a.body)
		}
	}
}

func TestHealth(t *testing.T) {
	srv := fixture(t, nil, doc{"name": "rue"})
	a := get(t, srv, "/health")
	expectStatus(t, a, 200)
	if a.json["status"] != "HEALTHY" {
		t.Errorf("%s", a.body)
	}
}
