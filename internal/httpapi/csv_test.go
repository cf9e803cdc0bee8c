package httpapi_test

import (
	"bytes"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"
)

// Ports of addok-csv's tests/test_endpoints.py, over real HTTP.

type field struct{ name, value string }

// postCSV uploads content as the multipart field "data" (named filename)
// after the given fields, like `curl -F`.
func postCSV(t testing.TB, srv *httptest.Server, path, filename, content string, fields ...field) answer {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range fields {
		mw.WriteField(f.name, f.value)
	}
	if filename != "-" {
		fw, err := mw.CreateFormFile("data", filename)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(content))
	}
	mw.Close()
	return do(t, srv, "POST", path, mw.FormDataContentType(), &body)
}

var avions = doc{"name": "rue des avions", "postcode": "31310", "city": "Montbrun-Bocage",
	"housenumbers": map[string]any{"118": map[string]any{"lat": 48.3254, "lon": 2.256}}}

const avionsCSV = "name,street,postcode,city\r\nBoulangerie Brûlé,rue des avions,31310,Montbrun-Bocage\r\n"

func cols(names ...string) []field {
	var out []field
	for _, n := range names {
		out = append(out, field{"columns", n})
	}
	return out
}

func TestCSVSearch(t *testing.T) {
	srv := fixture(t, nil, avions)
	a := postCSV(t, srv, "/search/csv", "file.csv", avionsCSV, cols("street", "postcode", "city")...)
	expectStatus(t, a, 200)
	if cd := a.header.Get("Content-Disposition"); cd != `attachment; filename="file.geocoded.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if ct := a.header.Get("Content-Type"); ct != "text/csv; charset=utf-8-sig" {
		t.Errorf("Content-Type %q", ct)
	}
	body := string(a.body)
	header := strings.SplitN(body, "\r\n", 2)[0]
	for _, c := range []string{"latitude", "longitude", "result_label", "result_score", "result_score_next"} {
		if !strings.Contains(header, c) {
			t.Errorf("no %s in %q", c, header)
		}
	}
	if n := strings.Count(body, "Montbrun-Bocage"); n != 3 {
		t.Errorf("Montbrun-Bocage %d times in %q", n, body)
	}
	if !strings.Contains(body, "Boulangerie Brûlé") {
		t.Errorf("accents lost: %q", body)
	}
	if !strings.HasPrefix(body, "\ufeffname,street,postcode,city,latitude,longitude,result_label,result_score,result_score_next,result_type,result_id,result_housenumber,result_name,result_street,result_postcode,result_city,result_context,result_status\r\n") {
		t.Errorf("header %q", header)
	}
	if !strings.Contains(body, ",ok\r\n") {
		t.Errorf("status: %q", body)
	}
}

func TestCSVFilenameWithDots(t *testing.T) {
	srv := fixture(t, nil, avions)
	a := postCSV(t, srv, "/search/csv", "liste.médecins.csv", avionsCSV)
	if cd := a.header.Get("Content-Disposition"); cd != `attachment; filename="liste.médecins.geocoded.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
}

func TestCSVHousenumber(t *testing.T) {
	srv := fixture(t, nil, avions)
	content := "number,street,postcode,city\r\n118,rue des avions,31310,Montbrun-Bocage\r\n"
	a := postCSV(t, srv, "/search/csv", "file.csv", content)
	body := string(a.body)
	if !strings.Contains(strings.SplitN(body, "\r\n", 2)[0], "result_housenumber") {
		t.Errorf("header: %q", body)
	}
	if n := strings.Count(body, "118"); n != 3 {
		t.Errorf("118 %d times in %q", n, body)
	}
}

func TestCSVInvalidEncoding(t *testing.T) {
	srv := fixture(t, nil, avions)
	a := postCSV(t, srv, "/search/csv", "file.csv", avionsCSV, field{"encoding", "invalid"})
	expectStatus(t, a, 400)
	if a.json["description"] != "unknown encoding: invalid" || a.json["title"] != `Unable to decode with encoding "invalid"` {
		t.Errorf("%s", a.body)
	}
}

func TestCSVEmptyRowEmptyFileUnknownColumn(t *testing.T) {
	srv := fixture(t, nil, avions)
	a := postCSV(t, srv, "/search/csv", "file.csv", "name,street,postcode,city\r\n,,,\r\n")
	expectStatus(t, a, 200)
	if !strings.Contains(string(a.body), ",,,,") || !strings.HasSuffix(string(a.body), ",skipped\r\n") {
		t.Errorf("%q", a.body)
	}
	a = postCSV(t, srv, "/search/csv", "file.csv", "")
	expectStatus(t, a, 400)
	if a.json["title"] != "Empty file" {
		t.Errorf("%s", a.body)
	}
	a = postCSV(t, srv, "/search/csv", "file.csv", avionsCSV, field{"columns", "xxxxx"})
	expectStatus(t, a, 400)
	if a.json["description"] != "Cannot found column 'xxxxx' in columns ['name', 'street', 'postcode', 'city']" {
		t.Errorf("%s", a.body)
	}
}

func TestCSVMultilineField(t *testing.T) {
	srv := fixture(t, nil, avions)
	content := "name,adresse\r\nthe name,\"rue des avions\n31310\nMontbrun-Bocage\"\r\n"
	a := postCSV(t, srv, "/search/csv", "file.csv", content, cols("adresse")...)
	expectStatus(t, a, 200)
	if !strings.Contains(string(a.body), "\"rue des avions\r\n31310\r\nMontbrun-Bocage\"") {
		t.Errorf("%q", a.body)
	}
	if !strings.Contains(string(a.body), "Montbrun-Bocage,") {
		t.Errorf("not geocoded: %q", a.body)
	}
}

func TestCSVTabs(t *testing.T) {
	srv := fixture(t, nil, avions)
	content := "name\tstreet\tpostcode\tcity\r\nBoulangerie\true des avions\t31310\tMontbrun-Bocage\r\n"
	a := postCSV(t, srv, "/search/csv", "file.csv", content)
	if !strings.HasPrefix(string(a.body), "\ufeffname\tstreet\tpostcode\tcity\tlatitude\t") {
		t.Errorf("%q", a.body)
	}
}

func TestCSVOneColumn(t *testing.T) {
	srv := fixture(t, nil, avions)
	a := postCSV(t, srv, "/search/csv", "file.csv", "adresse\r\nrue des avions Montbrun-Bocage\r\n")
	expectStatus(t, a, 200)
	if !strings.HasPrefix(string(a.body), "\ufeffadresse;latitude;longitude") {
		t.Errorf("%q", a.body)
	}
	// The first of ; , tab | ~ ^ ° absent from the file is chosen; a cell
	// is never split.
	a = postCSV(t, srv, "/search/csv", "file.csv", "adresse\r\nrue des avions Montbrun-Bocage\r\nrue; des avions\r\n")
	if !strings.HasPrefix(string(a.body), "\ufeffadresse,latitude,") || !strings.Contains(string(a.body), "\r\nrue; des avions,") {
		t.Errorf("%q", a.body)
	}
}

func TestCSVOneColumnWithDelimiter(t *testing.T) {
	srv := fixture(t, nil, doc{"name": "rue", "type": "city", "postcode": "80688"})
	for _, f := range [][]field{nil, {{"delimiter", ","}}} {
		a := postCSV(t, srv, "/search/csv", "file.csv", "q\nrue\n", f...)
		expectStatus(t, a, 200)
		if !strings.Contains(string(a.body), "80688") {
			t.Errorf("%v: %q", f, a.body)
		}
	}
}

func TestCSVReverse(t *testing.T) {
	srv := fixture(t, nil, doc{"name": "rue des avions", "city": "Montbrun-Bocage", "lat": 10.22334401, "lon": 12.33445501})
	a := postCSV(t, srv, "/reverse/csv", "file.csv", "latitude,longitude\n10.223344,12.334455\n")
	expectStatus(t, a, 200)
	body := string(a.body)
	for _, s := range []string{"result_latitude", "result_longitude", "result_label", "result_distance", "10.22334401", "12.33445501", "rue des avions", "Montbrun-Bocage"} {
		if !strings.Contains(body, s) {
			t.Errorf("no %q in %q", s, body)
		}
	}
	if !strings.HasPrefix(body, "\ufefflatitude,longitude,result_latitude,result_longitude,result_label,result_distance,result_type,result_id,result_housenumber,") {
		t.Errorf("header %q", body)
	}
}

// C11: Addok 1.3.2 answers 500 to any filter column; balise filters.
func TestCSVFilterColumn(t *testing.T) {
	srv := fixture(t, nil,
		doc{"name": "rue des avions", "postcode": "31310", "city": "Montbrun-Bocage"},
		doc{"name": "rue des avions", "postcode": "09000", "city": "Foix"})
	content := "rue,code postal\nrue des avions,09000\nrue des avions,31310\nrue des avions,\n"
	// min_score 0: the query "rue des avions" against the label "rue des
	// avions 31310 Montbrun-Bocage" scores about 0.37, under addok-csv's 0.5.
	a := postCSV(t, srv, "/search/csv", "file.csv", content, field{"columns", "rue"}, field{"postcode", "code postal"}, field{"min_score", "0"})
	expectStatus(t, a, 200)
	lines := strings.Split(string(a.body), "\r\n")
	if !strings.Contains(lines[1], "Foix") || !strings.Contains(lines[2], "Montbrun-Bocage") {
		t.Errorf("%q", a.body)
	}
	a = postCSV(t, srv, "/search/csv", "file.csv", content, field{"postcode", "nope"})
	expectStatus(t, a, 400)
}

// addok-csv's test_csv_endpoint_can_use_geoboost: two "rue des avions"
// far apart, each row biased towards one of them by lat/lon columns. The geo
// bias picks the right one. The upstream test also expects the row to be
// written with the default min_score 0.5; Addok 1.3.2 scores it about 0.36
// (label "rue des avions 31310 Montbrun-Bocage" against the query: bigram
// similarity 13/35, x0.9 with a center, plus the geo component, over 1.2)
// and writes it as not found, and so does balise: the output is pinned here
// (docs/compatibility.md, "Known differences").
func TestCSVLatLonColumns(t *testing.T) {
	srv := fixture(t, nil,
		doc{"name": "rue des avions", "postcode": "31310", "city": "Montbrun-Bocage", "lat": 10.22334401, "lon": 12.33445501},
		doc{"name": "rue des avions", "postcode": "59118", "city": "Wambrechies", "lat": 50.6845, "lon": 3.0480})
	fs := []field{{"columns", "rue"}, {"lat", "latitude"}, {"lon", "longitude"}}
	for _, c := range []struct{ row, want, not string }{
		{"rue des avions,10.22334401,12.33445501", "31310", "59118"},
		{"rue des avions,50.6845,3.0480", "59118", "31310"},
	} {
		a := postCSV(t, srv, "/search/csv", "file.csv", "rue,latitude,longitude\n"+c.row+"\n", append(fs, field{"min_score", "0"})...)
		expectStatus(t, a, 200)
		if strings.Count(string(a.body), c.want) != 2 || strings.Contains(string(a.body), c.not) {
			t.Errorf("%s: %q", c.row, a.body)
		}
	}
	const header = "\ufeffrue,latitude,longitude,result_label,result_score,result_score_next,result_type,result_id,result_housenumber,result_name,result_street,result_postcode,result_city,result_context,result_status\r\n"
	a := postCSV(t, srv, "/search/csv", "file.csv", "rue,latitude,longitude\nrue des avions,10.22334401,12.33445501\n", fs...)
	expectStatus(t, a, 200)
	if want := header + "rue des avions,10.22334401,12.33445501,,,,,,,,,,,,not-found\r\n"; string(a.body) != want {
		t.Errorf("default min_score:\n got %q\nwant %q", a.body, want)
	}
	a = postCSV(t, srv, "/search/csv", "file.csv", "rue,latitude,longitude\nrue des avions,10.22334401,12.33445501\n", append(fs, field{"min_score", "0"})...)
	if want := header + "rue des avions,10.22334401,12.33445501,rue des avions 31310 Montbrun-Bocage,0.36,0.31,street,doc000,,rue des avions,,31310,Montbrun-Bocage,,ok\r\n"; string(a.body) != want {
		t.Errorf("min_score 0:\n got %q\nwant %q", a.body, want)
	}
}
