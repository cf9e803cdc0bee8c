package batch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestSniffDelimiter(t *testing.T) {
	f := func(sample string, want rune, ok bool) {
		t.Helper()
		got, gotOK := sniffDelimiter([]byte(sample), true, DefaultMaxRecordBytes, DefaultMaxFields)
		if got != want || gotOK != ok {
			t.Errorf("%q: got %q %v; want %q %v", sample, got, gotOK, want, ok)
		}
	}
	f("a,b\n1,2\n", ',', true)
	f("a;b\n1;2\n", ';', true)
	f("a\tb\n1\t2\n", '\t', true)
	f("a|b\n1|2\n", '|', true)
	f("nom;adresse\nX;\"10, rue Y\"\nZ;8, bd W\n", ';', true) // commas inside cells
	f("adresse\n10, rue Y\n", 0, false)                       // one column: the header decides
	f("adresse\nrue\n", 0, false)
	f("a,b;c\n1,2;3\n1,2;3\n", ',', true)
	f("\"a;b\",c\n\"1;2\",3\n", ',', true) // quoted delimiters do not count
}

func TestResolveCharset(t *testing.T) {
	for _, name := range []string{"utf-8", "UTF8", "utf_8", "utf-8-sig", "latin-1", "ISO-8859-1", "cp1252", "Windows-1252", "iso-8859-15", "macintosh", "utf-16le", "iso-8859-2"} {
		if _, err := resolveCharset(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	_, err := resolveCharset("invalid")
	var be *Error
	if !errors.As(err, &be) || be.Detail != "unknown encoding: invalid" || be.Kind != ErrEncoding {
		t.Errorf("invalid: %v", err)
	}
	if c, _ := resolveCharset("utf-8-sig"); !c.bom {
		t.Error("utf-8-sig has no BOM")
	}
}

func TestDetectCharset(t *testing.T) {
	if c := detectCharset([]byte("\xef\xbb\xbfa"), true); c.name != "utf-8-sig" {
		t.Error(c.name)
	}
	if c := detectCharset([]byte("brûlé"), true); c.name != "utf-8" {
		t.Error(c.name)
	}
	if c := detectCharset([]byte("br\xfbl\xe9"), true); c.name != "windows-1252" {
		t.Error(c.name)
	}
	// A rune cut by the end of the sample is not a reason to leave UTF-8.
	if c := detectCharset([]byte("abc\xc3"), false); c.name != "utf-8" {
		t.Error(c.name)
	}
}

func TestWriterQuoting(t *testing.T) {
	var b bytes.Buffer
	w, _ := newWriter(&b, ';', charset{name: "utf-8"}, false, false)
	w.WriteRow([]string{"plain", "a;b", `say "hi"`, "two\nlines", "cr\r\nlf", "", " lead"})
	w.Close()
	want := "plain;\"a;b\";\"say \"\"hi\"\"\";\"two\r\nlines\";\"cr\r\nlf\";; lead\r\n"
	if b.String() != want {
		t.Errorf("%q\nwant %q", b.String(), want)
	}
}

// TestCellNumbers: coordinates and scores as addok-csv (str(float),
// round(x, 2)) and addok-server (Number#toString) write them (pyjs holds
// the rules and their own tests); the missing-column message prints the
// header as Python prints a list, C1 controls escaped.
func TestCellNumbers(t *testing.T) {
	for _, c := range []struct {
		x    float64
		py   string
		js   string
		r2py string
	}{
		{1, "1.0", "1", "1.0"},
		{0.95, "0.95", "0.95", "0.95"},
		{0.9474181818181817, "0.9474181818181817", "0.9474181818181817", "0.95"},
		{0.125, "0.125", "0.125", "0.12"}, // Python's round: half to even on the exact binary value
		{1e-8, "1e-08", "1e-8", "0.0"},
		{164.9, "164.9", "164.9", "164.9"},
	} {
		py, js := &cells{}, &cells{js: true}
		if got := py.num(c.x); got != c.py {
			t.Errorf("addok num(%v) %s want %s", c.x, got, c.py)
		}
		if got := js.num(c.x); got != c.js {
			t.Errorf("BAN num(%v) %s want %s", c.x, got, c.js)
		}
		if got := py.score(c.x); got != c.r2py {
			t.Errorf("addok score(%v) %s want %s", c.x, got, c.r2py)
		}
		if got := js.score(c.x); got != c.js {
			t.Errorf("BAN score(%v) %s want %s", c.x, got, c.js)
		}
	}
	err := columnError("x", []string{"a", "it's", `"q"`, "d\u0085"}, Addok)
	if want := `Cannot found column 'x' in columns ['a', "it's", '"q"', 'd\x85']`; err.(*Error).Title != want || err.Error() != want {
		t.Errorf("columnError %q want %q", err.(*Error).Title, want)
	}
}

var avions = `{"id":"a1","type":"street","name":"rue des avions","postcode":"31310","city":"Montbrun-Bocage","lat":44,"lon":4,"importance":0.5,"housenumbers":{"18":{"lat":44.001,"lon":4.001,"id":"a1_18"}}}`

func TestJobOrderAndStatuses(t *testing.T) {
	e := testEngine(t, avions)
	var in strings.Builder
	in.WriteString("n,adresse\n")
	for i := range 2000 {
		switch i % 4 {
		case 0:
			in.WriteString("row,18 rue des avions\n")
		case 1:
			in.WriteString("row,zzzz qqqq\n")
		case 2:
			in.WriteString("row,\n")
		default:
			in.WriteString("row,rue des avions\n")
		}
	}
	out, s := run(t, e, in.String(), Options{Columns: []string{"adresse"}, Workers: 4, ChunkRows: 7, TrackDuplicates: true})
	lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
	if len(lines) != 2001 {
		t.Fatalf("%d lines", len(lines))
	}
	want := []string{",ok", ",not-found", ",skipped", ",ok"}
	for i, l := range lines[1:] {
		if !strings.HasSuffix(l, want[i%4]) {
			t.Fatalf("row %d %q: want %s (order lost?)", i, l, want[i%4])
		}
	}
	if s.Rows != 2000 || s.OK != 1000 || s.NotFound != 500 || s.Skipped != 500 || s.Types["housenumber"] != 500 || s.Types["street"] != 500 {
		t.Errorf("%+v", s)
	}
	if s.Duplicates != 1500-3 {
		t.Errorf("duplicates %d", s.Duplicates)
	}
	if mn, _, med, _, mx, ok := s.ScoreStats(); !ok || mn > med || med > mx {
		t.Errorf("scores %v %v %v", mn, med, mx)
	}
}

func TestJobReverse(t *testing.T) {
	e := testEngine(t, avions)
	out, s := run(t, e, "lon;lat;type\n4.001;44.001;\n4;44;street\nx;44;\n4;95;\n", Options{Mode: Reverse, Filters: []FilterColumn{{"type", "type"}}})
	lines := strings.Split(out, "\r\n")
	if !strings.HasPrefix(lines[0], "\ufefflon;lat;type;result_latitude;result_longitude;result_label;result_distance;result_type;result_id;result_housenumber;") {
		t.Errorf("header %q", lines[0])
	}
	if !strings.Contains(lines[1], ";18 rue des avions 31310 Montbrun-Bocage;0;housenumber;a1_18;18;rue des avions;") {
		t.Errorf("row 1 %q", lines[1])
	}
	if !strings.Contains(lines[2], ";street;a1;;") {
		t.Errorf("row 2 %q (type filter street: no number)", lines[2])
	}
	if !strings.HasSuffix(lines[3], "skipped") || !strings.HasSuffix(lines[4], "error") || s.Skipped != 1 || s.Errors != 1 {
		t.Errorf("%q %q %+v", lines[3], lines[4], s)
	}
}

func TestJobOverwritesSameNamedColumns(t *testing.T) {
	e := testEngine(t, avions)
	out, _ := run(t, e, "adresse,latitude,result_status\nrue des avions,old,old\nzzzz,old,old\n", Options{Columns: []string{"adresse"}})
	lines := strings.Split(out, "\r\n")
	if lines[0] != "\ufeffadresse,latitude,result_status,longitude,result_label,result_score,result_score_next,result_type,result_id,result_housenumber,result_name,result_street,result_postcode,result_city,result_context" {
		t.Errorf("header %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "rue des avions,44.0,ok,4.0,") || !strings.HasPrefix(lines[2], "zzzz,old,not-found,") {
		t.Errorf("%q", lines[1:3])
	}
}

func TestJobStopsOnCancel(t *testing.T) {
	e := testEngine(t, avions)
	in := "adresse\n" + strings.Repeat("rue des avions\n", 10000)
	j, err := NewJob(e, strings.NewReader(in), Options{ChunkRows: 10})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err = j.Run(ctx, io.Discard, func(rows int64) {
		if n++; n == 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

func TestJobReadError(t *testing.T) {
	e := testEngine(t, avions)
	in := io.MultiReader(strings.NewReader("adresse\n"+strings.Repeat("rue des avions\n", 20000)), iotest.ErrReader(errors.New("connection reset")))
	j, err := NewJob(e, in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Run(context.Background(), io.Discard, nil); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("err %v", err)
	}
}

func TestBANFlavourColumns(t *testing.T) {
	e := banEngine(t)
	out, _ := run(t, e, "adresse\n10 rue des sapins pouembout\n", Options{Flavour: BAN})
	lines := strings.Split(out, "\r\n")
	if lines[0] != "adresse;latitude;longitude;result_label;result_score;result_score_next;result_type;result_id;result_housenumber;result_name;result_street;result_postcode;result_city;result_context;result_citycode;result_oldcitycode;result_oldcity;result_district;result_status" {
		t.Errorf("%q", lines[0])
	}
	// BAN cells are the feature's properties: name with its number,
	// street set from the document type, the unrounded score.
	if lines[1] != "10 rue des sapins pouembout;-21.120919;164.900792;10 Rue des Sapins Pouembout;0.9474181818181817;;housenumber;98825_y6as4k_00010;10;10 Rue des Sapins;Rue des Sapins;;Pouembout;988, Nouvelle-Calédonie;98825;;;;ok" {
		t.Errorf("%q", lines[1])
	}
	// addok flavour, a row as Addok 1.3.2 with addok-csv answers it.
	out, _ = run(t, e, "a,b\n10 rue des sapins,Pouembout\n", Options{})
	if l := strings.Split(out, "\r\n")[1]; l != `10 rue des sapins,Pouembout,-21.120919,164.900792,10 Rue des Sapins Pouembout,0.95,0,housenumber,98825_y6as4k_00010,10,Rue des Sapins,,,Pouembout,"988, Nouvelle-Calédonie",98825,,,,ok` {
		t.Errorf("%q", l)
	}
}

// Duplicates are keyed on the point too (reverse rows, search centers),
// and only counted when asked for.
func TestJobDuplicatePoints(t *testing.T) {
	e := testEngine(t, avions)
	rev := "lon;lat;type\n4.001;44.001;\n4.001;44.001;\n4;44;\n4.001;44.001;street\n4.001;44.001;street\n"
	if _, s := run(t, e, rev, Options{Mode: Reverse, Filters: []FilterColumn{{"type", "type"}}, TrackDuplicates: true}); s.Duplicates != 2 {
		t.Errorf("reverse duplicates %d, want 2", s.Duplicates)
	}
	if _, s := run(t, e, rev, Options{Mode: Reverse, Filters: []FilterColumn{{"type", "type"}}}); s.Duplicates != 0 {
		t.Errorf("untracked duplicates %d", s.Duplicates)
	}
	fwd := "q;lat;lon\nrue des avions;44;4\nrue des avions;44;4\nrue des avions;44.5;4\nrue des avions;;\n"
	if _, s := run(t, e, fwd, Options{Columns: []string{"q"}, LatColumn: "lat", LonColumn: "lon", TrackDuplicates: true}); s.Duplicates != 1 {
		t.Errorf("search duplicates %d, want 1", s.Duplicates)
	}
}
