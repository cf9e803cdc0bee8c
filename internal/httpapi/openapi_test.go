package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"balise/internal/httpapi"
)

type oaParam struct {
	Ref      string `json:"$ref"`
	Name     string `json:"name"`
	In       string `json:"in"`
	Required bool   `json:"required"`
	Example  any    `json:"example"`
	Schema   struct {
		Type string `json:"type"`
	} `json:"schema"`
}

type oaOperation struct {
	Parameters  []oaParam       `json:"parameters"`
	Responses   map[string]any  `json:"responses"`
	RequestBody json.RawMessage `json:"requestBody"`
}

type oaDoc struct {
	OpenAPI    string                            `json:"openapi"`
	Paths      map[string]map[string]oaOperation `json:"paths"`
	Components struct {
		Parameters    map[string]oaParam `json:"parameters"`
		RequestBodies map[string]struct {
			Content map[string]struct {
				Schema struct {
					Properties map[string]any `json:"properties"`
				} `json:"schema"`
			} `json:"content"`
		} `json:"requestBodies"`
	} `json:"components"`
}

func loadOpenAPI(t *testing.T, b []byte) oaDoc {
	t.Helper()
	var d oaDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	for _, ops := range d.Paths {
		for m, op := range ops {
			for i, p := range op.Parameters {
				if p.Ref != "" {
					name := strings.TrimPrefix(p.Ref, "#/components/parameters/")
					rp, ok := d.Components.Parameters[name]
					if !ok {
						t.Fatalf("dangling %s", p.Ref)
					}
					op.Parameters[i] = rp
				}
			}
			ops[m] = op
		}
	}
	return d
}

// The served description, docs/openapi.json and the running server agree:
// same routes, every parameter answered as its schema says.
func TestOpenAPIMatchesServer(t *testing.T) {
	docs, err := os.ReadFile(filepath.Join("..", "..", "docs", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(docs, httpapi.OpenAPI()) {
		t.Fatal("docs/openapi.json differs from internal/httpapi/openapi.json: copy one onto the other")
	}
	srv := banServer(t, nil, httpapi.Options{})
	served := get(t, srv, "/openapi.json")
	expectStatus(t, served, 200)
	d := loadOpenAPI(t, served.body)
	if d.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", d.OpenAPI)
	}

	checkDocumentedRoutes(t, d)
	checkGetParameters(t, srv, d)
	checkCSVFields(t, srv, d)
}

// checkDocumentedRoutes: the documented routes are the served ones, both
// ways.
func checkDocumentedRoutes(t *testing.T, d oaDoc) {
	var documented, routes []string
	for p, ops := range d.Paths {
		for m := range ops {
			documented = append(documented, strings.ToUpper(m)+" "+p)
		}
	}
	for _, r := range httpapi.Routes() {
		routes = append(routes, r.Method+" "+r.Path)
	}
	sort.Strings(documented)
	sort.Strings(routes)
	if !slices.Equal(documented, routes) {
		t.Fatalf("documented %v\nserved %v", documented, routes)
	}

}

// checkGetParameters: a valid request per GET operation, then each typed
// parameter given a value that is not of its type must be refused, and
// every status seen must be documented.
func checkGetParameters(t *testing.T, srv *httptest.Server, d oaDoc) {
	base := map[string]url.Values{
		"/search":  {"q": {"rue des sapins"}},
		"/reverse": {"lat": {"-21.120919"}, "lon": {"164.900792"}},
	}
	axis := map[string]string{"lat": "lat", "latitude": "lat", "lon": "lon", "lng": "lon", "long": "lon", "longitude": "lon"}
	valid := map[string]string{"number": "1.5", "integer": "3", "boolean": "false", "string": "street"}
	for path, ops := range d.Paths {
		op, ok := ops["get"]
		if !ok {
			continue
		}
		check := func(u string, want int) {
			t.Helper()
			a := get(t, srv, u)
			if a.status != want {
				t.Errorf("%s: %d, want %d: %s", u, a.status, want, a.body)
			}
			if _, ok := op.Responses[strconv.Itoa(a.status)]; !ok {
				t.Errorf("%s: status %d not documented", u, a.status)
			}
		}
		concrete := path
		for _, p := range op.Parameters {
			if p.In == "path" {
				ex, _ := p.Example.(string)
				if ex == "" {
					t.Errorf("%s: path parameter %s has no example", path, p.Name)
				}
				concrete = strings.ReplaceAll(concrete, "{"+p.Name+"}", ex)
			}
		}
		check(concrete+"?"+base[path].Encode(), 200)
		for _, p := range op.Parameters {
			if p.In != "query" {
				continue
			}
			q := url.Values{}
			for k, v := range base[path] {
				if k != p.Name && (axis[k] == "" || axis[k] != axis[p.Name]) {
					q[k] = v
				}
			}
			if p.Required {
				check(concrete+"?"+q.Encode(), 400) // missing
			}
			v, ok := valid[p.Schema.Type]
			if !ok {
				t.Errorf("%s %s: schema type %q not covered", path, p.Name, p.Schema.Type)
				continue
			}
			ok2 := url.Values{}
			for k, vs := range q {
				ok2[k] = vs
			}
			ok2.Set(p.Name, v)
			if axis[p.Name] != "" {
				ok2.Set(p.Name, base["/reverse"].Get(axis[p.Name]))
			}
			check(concrete+"?"+ok2.Encode(), 200)
			if p.Schema.Type != "string" {
				q.Set(p.Name, "not-a-"+p.Schema.Type)
				check(concrete+"?"+q.Encode(), 400)
			}
		}
	}

}

// checkCSVFields: every documented CSV field is accepted by both CSV
// routes.
func checkCSVFields(t *testing.T, srv *httptest.Server, d oaDoc) {
	csvValues := map[string]string{
		"columns": "adresse", "result_columns": "result_label", "type": "type", "postcode": "cp",
		"citycode": "cp", "lat": "lat", "lon": "lon", "delimiter": ";", "quote": `"`,
		"encoding": "utf-8", "with_bom": "true", "min_score": "0.2",
	}
	body := d.Components.RequestBodies["CSV"].Content["multipart/form-data"].Schema.Properties
	if len(body) == 0 {
		t.Fatal("no multipart schema")
	}
	for name := range body {
		if name == "data" {
			continue
		}
		v, ok := csvValues[name]
		if !ok {
			t.Errorf("CSV field %s: no test value", name)
			continue
		}
		for _, route := range []string{"/search/csv", "/reverse/csv"} {
			a := postCSV(t, srv, route, "f.csv", "adresse;cp;type;lat;lon\n10 rue des sapins;98825;street;-21.12;164.9\n", field{name, v})
			if a.status != 200 {
				t.Errorf("%s with %s=%s: %d %s", route, name, v, a.status, a.body)
			}
		}
	}
}
