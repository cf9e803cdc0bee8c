package httpapi_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"balise/internal/httpapi"
	"balise/internal/testutil"
	"balise/internal/text"
)

// fuzzAPIs are the two flavours over a small index, for the fuzz targets.
func fuzzAPIs(f *testing.F) []http.Handler {
	ix := buildIndex(f, text.ProfileDefault,
		doc{"id": "s1", "name": "rue des avions", "postcode": "31310", "city": "Montbrun-Bocage",
			"housenumbers": map[string]any{"18": map[string]any{"lat": 48.3254, "lon": 2.256, "id": "s1_18"}}},
		doc{"id": "c1", "name": "Paris", "type": "city"})
	e := newEngine(f, ix, nil)
	return []http.Handler{
		httpapi.New(httpapi.Options{Engines: source1{e}}),
		httpapi.New(httpapi.Options{Engines: source1{e}, Flavour: httpapi.BAN}),
	}
}

// serveOnce answers one request in process. A CSV answer that fails after
// its status was sent ends with http.ErrAbortHandler (the server cuts the
// connection): that is an answer too, reported as status -1.
func serveOnce(h http.Handler, req *http.Request) (rec *httptest.ResponseRecorder) {
	rec = httptest.NewRecorder()
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				panic(p)
			}
			rec.Code = -1
		}
	}()
	h.ServeHTTP(rec, req)
	return rec
}

// batchBody is a /batch body of one geocode item whose postcode filter
// has n distinct values derived from v.
func batchBody(v string, n int) []byte {
	vals := make([]string, n)
	for i := range vals {
		vals[i] = fmt.Sprintf("%s%d", v, i)
	}
	b, _ := json.Marshal(map[string]any{"requests": []any{map[string]any{
		"operation": "geocode", "params": map[string]any{"q": "rue des avions", "postcode": strings.Join(vals, "+")},
	}}})
	return b
}

// FuzzBatchBody: whatever the body, POST /batch answers 200, 400 or 413
// with JSON, never a panic or a 500; and its cost is linear in the number
// of filter values (a quadratic de-duplication once made one 1 MiB body
// hours of CPU).
func FuzzBatchBody(f *testing.F) {
	for _, s := range []string{
		`{"requests":[{"operation":"geocode","params":{"q":"rue des avions"}}]}`,
		`{"requests":[{"id":1,"operation":"reverse","params":{"lat":48.3,"lon":2.2}}],"params":{"limit":3}}`,
		`{"requests":[{"operation":"geocode","params":{"q":"rue","filters":{"postcode":["31310","75001"]}}}]}`,
		`{"requests":[{"operation":"geocode","params":{"q":"rue","postcode":"1+2+3+1+2"}}]}`,
		`{"requests":"nope"}`, `{"requests":[{"operation":"x"}]}`, `[1,2]`, `{"requests":[{"operation":"geocode","params":{"q":{"a":1}}}]}`,
	} {
		f.Add([]byte(s))
	}
	apis := fuzzAPIs(f)
	sample := testutil.NewSample(64)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, api := range apis {
			rec := serveOnce(api, httptest.NewRequest("POST", "/batch", bytes.NewReader(body)))
			switch rec.Code {
			case 200, 400, 413:
			default:
				t.Fatalf("POST /batch %q: status %d %s", body, rec.Code, rec.Body)
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("POST /batch %q: not JSON: %s", body, rec.Body)
			}
		}
		if sample.Next() {
			v := string(bytes.ToValidUTF8(bytes.TrimSpace(body[:min(len(body), 8)]), nil))
			v = strings.NewReplacer("+", "", " ", "").Replace(v)
			testutil.CheckLinearCost(t, 32, 6, func(k int) {
				serveOnce(apis[1], httptest.NewRequest("POST", "/batch", bytes.NewReader(batchBody(v, 200*k))))
			})
		}
	})
}

// multipartBody is a /search/csv upload: fields, then the file.
func multipartBody(boundary string, csv []byte, fields ...string) []byte {
	var b bytes.Buffer
	for i := 0; i+1 < len(fields); i += 2 {
		fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=%q\r\n\r\n%s\r\n", boundary, fields[i], fields[i+1])
	}
	fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=\"data\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\n", boundary)
	b.Write(csv)
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	return b.Bytes()
}

// FuzzCSVUpload: whatever the multipart body (spooling, fields, the CSV
// itself), /search/csv and /reverse/csv answer 200 (possibly cut), 400 or
// 413, never a panic or a 500; cost is linear in the number of parts.
func FuzzCSVUpload(f *testing.F) {
	const boundary = "XbaliseX"
	f.Add(multipartBody(boundary, []byte("adresse,ville\n18 rue des avions,Montbrun\n"), "columns", "adresse"))
	f.Add(multipartBody(boundary, []byte("lat,lon\n48.3254,2.256\n")))
	f.Add(multipartBody(boundary, []byte("a;b\r\n\"x\";\"y\"\r\n"), "delimiter", ";", "encoding", "latin-1"))
	f.Add([]byte("--" + boundary + "\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\nno end"))
	f.Add([]byte("--" + boundary + "\r\n" + strings.Repeat("X-Long: "+strings.Repeat("a", 300)+"\r\n", 3) + "\r\n--" + boundary + "--\r\n"))
	apis := fuzzAPIs(f)
	sample := testutil.NewSample(64)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, api := range apis {
			for _, path := range []string{"/search/csv", "/reverse/csv"} {
				req := httptest.NewRequest("POST", path, bytes.NewReader(body))
				req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
				rec := serveOnce(api, req)
				switch rec.Code {
				case 200, -1, 400, 413:
				default:
					t.Fatalf("POST %s %q: status %d %s", path, body, rec.Code, rec.Body)
				}
			}
		}
		if sample.Next() {
			field := string(bytes.ToValidUTF8(body[:min(len(body), 16)], nil))
			testutil.CheckLinearCost(t, 32, 6, func(k int) {
				fields := make([]string, 0, 2*20*k)
				for i := range 20 * k {
					fields = append(fields, fmt.Sprintf("f%d", i), field)
				}
				req := httptest.NewRequest("POST", "/search/csv", bytes.NewReader(multipartBody(boundary, []byte("a\nb\n"), fields...)))
				req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
				serveOnce(apis[0], req)
			})
		}
	})
}

// FuzzGetID: whatever the id, /get/{id} answers 200 or 404 and costs
// linear time (each "_" of an id is a candidate street prefix).
func FuzzGetID(f *testing.F) {
	for _, s := range []string{"s1", "s1_18", "s1_18_bis", "c1", "", "_", "a_b_c_d_e_f_g", "%zz", "s1%2F18"} {
		f.Add(s)
	}
	apis := fuzzAPIs(f)
	sample := testutil.NewSample(64)
	f.Fuzz(func(t *testing.T, id string) {
		for _, api := range apis {
			req := httptest.NewRequest("GET", "/get/x", nil)
			req.URL.Path = "/get/" + id
			rec := serveOnce(api, req)
			switch rec.Code {
			case 200, 404:
			default:
				t.Fatalf("GET /get/%q: status %d %s", id, rec.Code, rec.Body)
			}
		}
		if sample.Next() {
			testutil.CheckLinearCost(t, 32, 6, func(k int) {
				req := httptest.NewRequest("GET", "/get/x", nil)
				req.URL.Path = "/get/" + strings.Repeat("s1_"+url.PathEscape(id), 8*k)
				serveOnce(apis[0], req)
			})
		}
	})
}

// A /batch body with 40,000 distinct values in one filter used to cost 7 s
// of CPU; it is refused at once with a 400 naming the filter.
func TestBatchManyFilterValuesRefusedFast(t *testing.T) {
	e := newEngine(t, buildIndex(t, text.ProfileDefault, doc{"name": "rue des avions", "postcode": "31310"}), nil)
	srv := serve(t, e, httpapi.Options{Flavour: httpapi.BAN})
	a := do(t, srv, "POST", "/batch", "application/json", bytes.NewReader(batchBody("v", 40000)))
	if a.status != 200 || !strings.Contains(string(a.body), `"status":"error"`) || !strings.Contains(string(a.body), "postcode must not have more than 100 distinct values") {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	testutil.CheckLinearCost(t, 32, 6, func(k int) {
		serveOnce(srv.Config.Handler, httptest.NewRequest("POST", "/batch", bytes.NewReader(batchBody("v", 1000*k))))
	})
}

// The same cap holds on GET /search in both flavours: more than the
// accepted distinct values is a 400 that says which filter; repeated
// values are not counted twice.
func TestSearchFilterValueCap(t *testing.T) {
	e := newEngine(t, buildIndex(t, text.ProfileDefault, doc{"name": "rue des avions", "postcode": "31310"}), nil)
	for _, fl := range []httpapi.Flavour{httpapi.Addok, httpapi.BAN} {
		srv := serve(t, e, httpapi.Options{Flavour: fl, MaxFilterValues: 3})
		if a := get(t, srv, "/search?q=rue&postcode=31310+1+2+31310+2"); a.status != 200 {
			t.Errorf("%v: 3 distinct values: %d %s", fl, a.status, a.body)
		}
		a := get(t, srv, "/search?q=rue&postcode=31310+1+2+3")
		if a.status != 400 || !strings.Contains(string(a.body), "postcode") || !strings.Contains(string(a.body), "3 distinct values") {
			t.Errorf("%v: 4 distinct values: %d %s", fl, a.status, a.body)
		}
	}
}

// FuzzValidateAnswer: the check of cached bodies read back from Redis
// never panics, accepts what balise itself encodes and refuses anything
// that is not a count followed by that many JSON objects.
func FuzzValidateAnswer(f *testing.F) {
	f.Add([]byte("\x00"))
	f.Add([]byte("\x01{\"type\":\"Feature\"}"))
	f.Add([]byte("\x02{\"a\":1},{\"b\":[2]}"))
	f.Add([]byte("\x02{\"a\":1}"))
	f.Add([]byte("\x01{\"a\":1}]</script>"))
	f.Add([]byte("\x01[1]"))
	f.Fuzz(func(t *testing.T, body []byte) {
		err := httpapi.ValidateAnswer(body)
		if err != nil || len(body) == 0 {
			return
		}
		// Accepted: the features must splice into a valid collection.
		_, k := binary.Uvarint(body)
		if k <= 0 || !json.Valid(append(append([]byte("["), body[k:]...), ']')) {
			t.Fatalf("accepted %q", body)
		}
	})
}
