package httpapi_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"balise/internal/httpapi"
)

// The addok-server flavour (docs/api.md): validation, error bodies, envelope.
func TestBANFlavourSearch(t *testing.T) {
	srv := banServer(t, nil, httpapi.Options{Flavour: httpapi.BAN})
	a := get(t, srv, "/search/?q=10+rue+des+sapins&citycode=98825&type=street+housenumber&lat=-21.12&lon=164.9&limit=1")
	expectStatus(t, a, 200)
	if _, ok := a.json["version"]; ok {
		t.Errorf("version in the BAN envelope: %s", a.body)
	}
	if !strings.HasPrefix(string(a.body), `{"type":"FeatureCollection","features":[`) ||
		!strings.HasSuffix(string(a.body), `"attribution":"BAN","licence":"ETALAB-2.0","query":"10 rue des sapins","filters":{"type":"street housenumber","citycode":"98825"},"center":[164.9,-21.12],"limit":1}`) {
		t.Errorf("envelope %s", a.body)
	}
	if p := props(a.features()[0]); p["id"] != "98825_y6as4k_00010" {
		t.Errorf("%v", p)
	}
	// Filters split on "+" first (%2B), else on spaces.
	a = get(t, srv, "/search/?q=pouembout&type=street%2Bmunicipality&limit=10")
	for _, f := range a.features() {
		if ty := props(f)["type"]; ty != "street" && ty != "municipality" {
			t.Errorf("type %v", ty)
		}
	}
	// autocomplete is false only for "0".
	on := get(t, srv, "/search/?q=rue+des+sap&autocomplete=false")
	off := get(t, srv, "/search/?q=rue+des+sap&autocomplete=0")
	if reflect.DeepEqual(on.features(), off.features()) {
		t.Errorf("autocomplete=false should mean true in the BAN flavour")
	}
	// Reverse: default limit 5, echoed as 1; center echoed.
	a = get(t, srv, "/reverse/?lat=-21.120919&lon=164.900792")
	if len(a.features()) < 2 || a.json["limit"] != 1.0 || a.json["center"] == nil {
		t.Errorf("reverse: %d features, %s", len(a.features()), a.body)
	}
}

func TestBANFlavourErrors(t *testing.T) {
	srv := banServer(t, nil, httpapi.Options{Flavour: httpapi.BAN})
	for _, c := range []struct {
		path   string
		status int
		body   string
	}{
		{"/search", 400, `{"code":400,"message":"q is a required parameter"}`},
		{"/search?q=ab", 400, `{"code":400,"message":"q must contain between 3 and 200 chars and start with a number or a letter"}`},
		{"/search?q=-rue", 400, `{"code":400,"message":"q must contain between 3 and 200 chars and start with a number or a letter"}`},
		{"/search?q=" + strings.Repeat("a", 201), 400, `{"code":400,"message":"q must contain between 3 and 200 chars and start with a number or a letter"}`},
		{"/search?q=rue&limit=0", 400, `{"code":400,"message":"limit must be an integer between 1 and 100"}`},
		{"/search?q=rue&limit=abc", 400, `{"code":400,"message":"limit must be an integer between 1 and 100"}`},
		{"/search?q=rue&lon=2", 400, `{"code":400,"message":"lon/lat must be present together if defined"}`},
		{"/search?q=rue&lon=0&lat=5", 400, `{"code":400,"message":"lon/lat must be present together if defined"}`},
		{"/search?q=rue&lon=abc&lat=5", 400, `{"code":400,"message":"lon/lat must be present together if defined"}`},
		{"/search?q=rue&lon=180&lat=5", 400, `{"code":400,"message":"lon/lat must be valid WGS-84 coordinates"}`},
		{"/reverse?lat=5", 400, `{"code":400,"message":"lon is a required parameter"}`},
		{"/reverse?lon=5", 400, `{"code":400,"message":"lat is a required parameter"}`},
		{"/nowhere", 404, `{"code":404,"message":"Cannot GET /nowhere"}`},
	} {
		a := get(t, srv, c.path)
		if a.status != c.status || string(a.body) != c.body {
			t.Errorf("%.50s: %d %s\nwant %d %s", c.path, a.status, a.body, c.status, c.body)
		}
	}
	// JavaScript's parseInt and parseFloat read a numeric prefix.
	a := get(t, srv, "/search?q=pouembout&limit=2abc&lat=-21.1x&lon=164.9")
	if a.status != 200 || a.json["limit"] != 2.0 {
		t.Errorf("%d %s", a.status, a.body)
	}
}

func TestBANFlavourCORS(t *testing.T) {
	srv := banServer(t, nil, httpapi.Options{Flavour: httpapi.BAN})
	req, _ := http.NewRequest("OPTIONS", srv.URL+"/search", nil)
	req.Header.Set("Origin", "https://example.org")
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "x-custom")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://example.org" ||
		resp.Header.Get("Access-Control-Allow-Headers") != "x-custom" || resp.Header.Get("Access-Control-Allow-Methods") == "" {
		t.Errorf("%d %v", resp.StatusCode, resp.Header)
	}
	req, _ = http.NewRequest("GET", srv.URL+"/search?q=pouembout", nil)
	req.Header.Set("Origin", "https://example.org")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://example.org" || resp.Header.Get("Vary") != "Origin" {
		t.Errorf("%v", resp.Header)
	}
}

func TestBANFlavourCSV(t *testing.T) {
	srv := banServer(t, nil, httpapi.Options{Flavour: httpapi.BAN})
	content := "adresse,commune\n10 rue des sapins,98825\nab,98825\nrue des sapins,\n"
	a := postCSV(t, srv, "/search/csv", "in.csv", content, field{"columns", "adresse"}, field{"citycode", "commune"})
	expectStatus(t, a, 200)
	if cd := a.header.Get("Content-Disposition"); cd != `attachment; filename="geocoded-in.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	lines := strings.Split(string(a.body), "\r\n")
	if lines[0] != "adresse,commune,latitude,longitude,result_label,result_score,result_score_next,result_type,result_id,result_housenumber,result_name,result_street,result_postcode,result_city,result_context,result_citycode,result_oldcitycode,result_oldcity,result_district,result_status" {
		t.Errorf("header %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "10 rue des sapins,98825,-21.120919,164.900792,10 Rue des Sapins Pouembout,") ||
		!strings.Contains(lines[1], ",housenumber,98825_y6as4k_00010,10,10 Rue des Sapins,") || !strings.HasSuffix(lines[1], ",ok") {
		t.Errorf("row 1 %q", lines[1])
	}
	if !strings.HasSuffix(lines[2], ",skipped") {
		t.Errorf("row 2 %q", lines[2])
	}
	a = postCSV(t, srv, "/search/csv", "in.csv", content, field{"columns", "adresse"}, field{"result_columns", "result_label"}, field{"result_columns", "result_importance"})
	if h := strings.SplitN(string(a.body), "\r\n", 2)[0]; h != "adresse,commune,result_label,result_importance,result_status" {
		t.Errorf("result_columns header %q", h)
	}
	a = postCSV(t, srv, "/search/csv", "in.csv", content, field{"columns", "nope"})
	if a.status != 400 || string(a.body) != `{"code":400,"message":"At least one given column name is unknown"}` {
		t.Errorf("%d %s", a.status, a.body)
	}
	a = postCSV(t, srv, "/search/csv", "-", "")
	if a.status != 400 || string(a.body) != `{"code":400,"message":"A CSV file must be provided in data field"}` {
		t.Errorf("%d %s", a.status, a.body)
	}
}

func TestBatch(t *testing.T) {
	for _, fl := range []httpapi.Flavour{httpapi.Addok, httpapi.BAN} {
		t.Run(fl.String(), func(t *testing.T) {
			srv := banServer(t, nil, httpapi.Options{Flavour: fl})
			body := `{"requests":[
				{"id":"a","operation":"geocode","params":{"q":"rue des sapins"}},
				{"id":2,"operation":"reverse","params":{"lat":-21.120919,"lon":164.900792}},
				{"id":"c","operation":"geocode","params":{"q":"zzzzzzz qqqqqq"}},
				{"id":"d","operation":"geocode","params":{"q":"x"}},
				{"id":"e","operation":"geocode","params":{"q":"10 rue des sapins","filters":{"citycode":"98825","type":["street","housenumber"]}}},
				{"operation":"geocode","params":{"q":"pouembout","limit":1}}
			]}`
			a := do(t, srv, "POST", "/batch", "application/json", strings.NewReader(body))
			expectStatus(t, a, 200)
			res := a.json["results"].([]any)
			if len(res) != 6 {
				t.Fatalf("%s", a.body)
			}
			r0 := res[0].(map[string]any)
			if r0["id"] != "a" || r0["status"] != "ok" {
				t.Errorf("0: %v", r0)
			}
			if p := r0["result"].(map[string]any); !strings.HasPrefix(p["label"].(string), "Rue des Sapins ") || p["next_score"] == nil || p["lon"] == nil {
				t.Errorf("0: %v", p)
			}
			if r := res[1].(map[string]any); r["id"] != 2.0 || r["result"].(map[string]any)["label"] != "10 Rue des Sapins Pouembout" {
				t.Errorf("1: %v", r)
			}
			if r := res[2].(map[string]any); r["status"] != "not-found" {
				t.Errorf("2: %v", r)
			}
			if r := res[3].(map[string]any); r["status"] != "error" || r["error"] != "q must contain between 3 and 200 chars and start with a number or a letter" {
				t.Errorf("3: %v", r)
			}
			if r := res[4].(map[string]any); r["result"].(map[string]any)["id"] != "98825_y6as4k_00010" {
				t.Errorf("4: %v", r)
			}
			if r := res[5].(map[string]any); r["id"] != nil || r["result"].(map[string]any)["next_score"] != nil {
				t.Errorf("5 (limit 1, no id): %v", r)
			}
			for _, c := range []struct{ body, msg string }{
				{`{}`, "requests is a required param (array)"},
				{`{"requests":[{"operation":"search","params":{}}]}`, "operation must be one of geocode or reverse"},
				{`{"requests":[{"operation":"geocode"}]}`, "params is required for each requests item"},
				{`{"requests":[` + strings.Repeat(`{"operation":"geocode","params":{"q":"rue"}},`, 100) + `{"operation":"geocode","params":{"q":"rue"}}]}`, "requests must not contains more than 100 items"},
				{`not json`, "invalid JSON body"},
			} {
				a := do(t, srv, "POST", "/batch", "application/json", strings.NewReader(c.body))
				if a.status != 400 || !strings.Contains(string(a.body), c.msg) {
					t.Errorf("%.40s: %d %s", c.body, a.status, a.body)
				}
			}
		})
	}
}

func TestGetDocument(t *testing.T) {
	srv := banServer(t, nil, httpapi.Options{Flavour: httpapi.BAN})
	a := get(t, srv, "/get/98825_y6as4k")
	expectStatus(t, a, 200)
	if a.json["type"] != "Feature" {
		t.Fatalf("%s", a.body)
	}
	p := a.json["properties"].(map[string]any)
	if p["label"] != "Rue des Sapins Pouembout" || p["id"] != "98825_y6as4k" || p["street"] != "Rue des Sapins" {
		t.Errorf("%v", p)
	}
	if _, ok := p["score"]; ok {
		t.Errorf("score on /get: %v", p)
	}
	a = get(t, srv, "/get/98825_y6as4k_00010/")
	p = a.json["properties"].(map[string]any)
	if p["label"] != "10 Rue des Sapins Pouembout" || p["housenumber"] != "10" || p["type"] != "housenumber" {
		t.Errorf("%v", p)
	}
	if c := a.json["geometry"].(map[string]any)["coordinates"].([]any); c[0] != 164.900792 || c[1] != -21.120919 {
		t.Errorf("coordinates %v", c)
	}
	a = get(t, srv, "/get/98825")
	if p := a.json["properties"].(map[string]any); p["label"] != "Pouembout" {
		t.Errorf("municipality label %v", p["label"])
	}
	expectStatus(t, get(t, srv, "/get/98825_y6as4k_99999"), 404)
}
