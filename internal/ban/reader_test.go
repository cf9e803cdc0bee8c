package ban

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"balise/internal/source"
)

// TestBANTinyGolden: testdata/ban-tiny.expected.ndjson was produced by
// `python3 shared/data/tools/to_addok.py --ban testdata/ban-tiny.csv
// --communes testdata/communes-tiny.csv -o ...`. The tiny CSV exercises
// unsorted rows, leading zeros, suffixes with spaces and case, a duplicate
// number, a postcode tie, a Paris arrondissement, a delegated commune
// (old commune inferred), same-slug streets (old commune appended to the
// name), an explicit ancienne commune, a row without position, a quoted
// field holding ';' and '"', an id without street part, centre rules
// (1, 2-3 and >= 4 points) and the covered-municipalities rule.
func TestBANTinyGolden(t *testing.T) {
	want, err := os.ReadFile("testdata/ban-tiny.expected.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open("testdata/ban-tiny.csv", Options{Options: source.Options{Strict: true}, Communes: "testdata/communes-tiny.csv"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := encodeAll(readAllDocs(t, r))
	wantLines := strings.Split(strings.TrimSpace(string(want)), "\n")
	if len(got) != len(wantLines) {
		t.Fatalf("%d docs, want %d:\n%s", len(got), len(wantLines), strings.Join(got, "\n"))
	}
	for i := range got {
		if got[i] != wantLines[i] {
			t.Errorf("doc %d:\n got %s\nwant %s", i+1, got[i], wantLines[i])
		}
	}
	st := r.Stats()
	if st != (Stats{Rows: 14, NoCoords: 1, DuplicateNumbers: 1, Streets: 6, Municipalities: 4}) {
		t.Errorf("stats %+v", st)
	}
}

// TestBANNoGazetteer: without a gazetteer, the same documents except that
// population is unknown (importance from the housenumber count only),
// municipalities are the communes of the rows (postcodes sorted, no
// population field), and no old commune can be inferred from the COG.
// Paris arrondissements and contexts come from built-in COG tables.
func TestBANNoGazetteer(t *testing.T) {
	csv := banHeader +
		"75101_1929_00002;;2;;Place du Châtelet;75001;75101;Paris 1er Arrondissement;;;652070.67;6862151.3;2.346758;48.857614;parcelle;;;;;;;;\n" +
		"01001_0010_00001;;1;;Rue des Écoles;01999;01001;L'Abergement-Clémenciat;;;;;4.921;46.151;;;;;;;;;\n" +
		"75101_1929_00001;;01;b;Place du Châtelet;75001;75101;Paris 1er Arrondissement;;;652096.38;6862145.75;2.347109;48.857566;parcelle;;;;;;;;\n" +
		"01001_0010_00003;;3;;Rue des Écoles;01400;01001;L'Abergement-Clémenciat;;;;;4.923;46.153;;;;;;;;;\n" +
		"01001_0010_00005;;5;;Rue des Écoles;01400;01001;L'Abergement-Clémenciat;;;;;4.925;46.155;;;;;;;;;\n"
	r, err := Open(writeTemp(t, "adresses-xx.csv", []byte(csv)), Options{Options: source.Options{Strict: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	docs := readAllDocs(t, r)
	want := []string{
		`{"id":"75101_1929","type":"street","name":"Place du Châtelet","postcode":"75001","citycode":["75101","75056"],"city":["Paris","Paris 1er Arrondissement"],"district":"Paris 1er Arrondissement","context":"75, Paris, Île-de-France","lat":48.85759,"lon":2.346934,"importance":0.05493,"housenumbers":{"2":{"id":"75101_1929_00002","lat":48.857614,"lon":2.346758,"x":652070.67,"y":6862151.3},"1b":{"id":"75101_1929_00001","lat":48.857566,"lon":2.347109,"x":652096.38,"y":6862145.75}}}`,
		`{"id":"01001_0010","type":"street","name":"Rue des Écoles","postcode":"01400","citycode":"01001","city":"L'Abergement-Clémenciat","context":"01, Ain, Auvergne-Rhône-Alpes","lat":46.153,"lon":4.923,"importance":0.06931,"housenumbers":{"1":{"id":"01001_0010_00001","lat":46.151,"lon":4.921},"3":{"id":"01001_0010_00003","lat":46.153,"lon":4.923},"5":{"id":"01001_0010_00005","lat":46.155,"lon":4.925}}}`,
		`{"id":"75101","type":"municipality","name":"Paris 1er Arrondissement","postcode":["75001"],"citycode":"75101","lat":48.85759,"lon":2.346934,"city":"Paris 1er Arrondissement","context":"75, Paris, Île-de-France","importance":0.0}`,
		`{"id":"01001","type":"municipality","name":"L'Abergement-Clémenciat","postcode":["01400","01999"],"citycode":"01001","lat":46.153,"lon":4.923,"city":"L'Abergement-Clémenciat","context":"01, Ain, Auvergne-Rhône-Alpes","importance":0.0}`,
	}
	got := encodeAll(docs)
	if len(got) != len(want) {
		t.Fatalf("%d docs:\n%s", len(got), strings.Join(got, "\n"))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("doc %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
	}
	if docs[0].Line != 2 || docs[1].Line != 3 {
		t.Errorf("lines %d %d, want 2 3", docs[0].Line, docs[1].Line)
	}
}

func TestBANMalformedRows(t *testing.T) {
	good := "75101_1929_00001;;1;;Place du Châtelet;75001;75101;Paris 1er Arrondissement;;;652070.67;6862151.3;2.346758;48.857614;parcelle;;;;;;;;\n"
	csv := banHeader +
		good + // line 2
		"75101_1929_00002;;2;;too;few;fields\n" + // 3
		"\n" + // 4: blank, skipped silently
		"75101_1929_00003;;3;;Place du Châtelet;75001;75101;Paris 1er Arrondissement;;;652070.67;6862151.3;2.34x;48.857614;parcelle;;;;;;;;\n" + // 5: bad lon
		"75101_1929_00004;;4;;Place du Châtelet;75001;75101;Paris 1er Arrondissement;;;;;;;parcelle;;;;;;;;\n" + // 6: no position: skipped silently
		"75101_1929_00005;;5;;Place du Châtelet;75001;75101;Paris 1er Arrondissement;;;abc;6862151.3;2.346758;48.857614;parcelle;;;;;;;;\r\n" + // 7: bad x
		"75101_1929_00006;;6;;\"Place\n du Châtelet\";75001;75101;Paris 1er Arrondissement;;;652070.67;6862151.3;2.346758;48.857614;parcelle;;;;;;;;\n" + // 8-9: quoted newline, new street name? same street id
		"75101_1929_00007;;7;;Place du Châtelet;75001;75101;Paris 1er Arrondissement;;;652070.67;6862151.3;2.346758;48.857614;parcelle;;;;;;;;;extra\n" // 10: too many fields
	path := writeTemp(t, "a.csv", []byte(csv))

	var errs []string
	r, err := Open(path, Options{Options: source.Options{OnError: func(e source.LineError) { errs = append(errs, e.Error()) }}})
	if err != nil {
		t.Fatal(err)
	}
	docs := readAllDocs(t, r)
	r.Close()
	wantErrs := []string{
		path + ":3: expected 23 fields, got 7",
		path + `:5: invalid lon "2.34x"`,
		path + `:7: invalid x "abc"`,
		path + ":10: expected 23 fields, got 24",
	}
	if strings.Join(errs, "\n") != strings.Join(wantErrs, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(wantErrs, "\n"))
	}
	if len(docs) != 2 || len(docs[0].Housenumbers) != 2 || docs[0].Housenumbers[1].Raw != "6" {
		t.Fatalf("docs: %q", encodeAll(docs))
	}
	if st := r.Stats(); st.NoCoords != 1 || st.Malformed != 4 || st.Rows != 2 {
		t.Errorf("stats %+v", st)
	}

	// strict: the first malformed row fails
	r, err = Open(path, Options{Options: source.Options{Strict: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = r.Next()
	var le *source.LineError
	if !errors.As(err, &le) || le.Line != 3 || le.File != path {
		t.Fatalf("strict: %v", err)
	}
	if _, err2 := r.Next(); err2 != err {
		t.Errorf("error not sticky: %v", err2)
	}
}

func TestBANHeaderMissingColumn(t *testing.T) {
	path := writeTemp(t, "a.csv", []byte("id;id_fantoir;numero;rep;nom_voie\n1;2;3;4;5\n"))
	r, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); err == nil || !strings.Contains(err.Error(), `no "code_postal" column`) {
		t.Fatalf("err = %v", err)
	}
}

func TestSplitCSV(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"a;b;c", []string{"a", "b", "c"}},
		{"", []string{""}},
		{";", []string{"", ""}},
		{`"a;b";c`, []string{"a;b", "c"}},
		{`"a""b";"";x`, []string{`a"b`, "", "x"}},
		{`a"b;c`, []string{`a"b`, "c"}},   // a quote inside an unquoted field is literal
		{`"ab"c;d`, []string{"abc", "d"}}, // text after the closing quote is kept (Python csv, strict=False)
		{`"a` + "\n" + `b";c`, []string{"a\nb", "c"}},
		{`x;"y"`, []string{"x", "y"}},
	} {
		got := splitCSV(tc.in, nil)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("splitCSV(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if !openQuote(`a;"b`) || openQuote(`a;"b"`) || openQuote(`a"b`) || !openQuote(`"a"";b`) {
		t.Error("openQuote")
	}
}

func TestNumkey(t *testing.T) {
	for _, tc := range [][3]string{
		{"1", "", "1"}, {"0001", "", "1"}, {"12", "bis", "12bis"}, {" 12 ", " B ", "12b"},
		{"000", "", "0"}, {"", "", "0"}, {"", "a", "a"}, {"1 2", "", "12"}, {"10", "Ter", "10ter"}, {"12a", "", "12a"},
	} {
		if got := numkey(tc[0], tc[1]); got != tc[2] {
			t.Errorf("numkey(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}

func TestSlug(t *testing.T) {
	for _, tc := range [][2]string{
		{"Rue de l'Église", "rue-de-l-eglise"}, {"Rue de l Eglise", "rue-de-l-eglise"},
		{"  --Œuvre  Saint-Æ--", "uvre-saint"}, {"Place n°2", "place-n-2"}, {"ÇA ÏÎ", "ca-ii"},
		{"e\u0301cole", "ecole"}, {"x²", "x2"}, {"", ""}, {"ß", ""},
	} {
		if got := slug(tc[0]); got != tc[1] {
			t.Errorf("slug(%q) = %q, want %q", tc[0], got, tc[1])
		}
	}
}

func TestCenter(t *testing.T) {
	la, lo := center([]float64{48.1, 48.2}, []float64{2.1, 2.3})
	if la != 48.15 || lo != 2.2 {
		t.Errorf("2 points: %v %v", la, lo)
	}
	la, lo = center([]float64{48.1, 48.2, 48.3, 48.9}, []float64{2.1, 2.2, 2.3, 2.9})
	if la != 48.3 || lo != 2.3 {
		t.Errorf("4 points: %v %v", la, lo)
	}
	if got := importance("15114", 2); got != 0.48118 {
		t.Errorf("importance = %v", got)
	}
	if got := importance("", 0); got != 0 {
		t.Errorf("importance = %v", got)
	}
}

func TestBANGzipDetectedWithoutExtension(t *testing.T) {
	raw, err := os.ReadFile("testdata/ban-tiny.csv")
	if err != nil {
		t.Fatal(err)
	}
	path := writeTemp(t, "adresses.data", gz(t, raw))
	if f, err := source.Detect(path); err != nil || f != source.FormatBANCSV {
		t.Fatalf("Detect = %v, %v", f, err)
	}
	r, err := Open(path, Options{Options: source.Options{Strict: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	docs := readAllDocs(t, r)
	if len(docs) != 6+3 { // 6 streets, 3 communes of the rows (01002 is its own code without gazetteer)
		t.Fatalf("%d docs: %s", len(docs), strings.Join(encodeAll(docs), "\n"))
	}
	done, total := r.Progress()
	if done != total || total != int64(len(gz(t, raw))) {
		t.Errorf("progress %d/%d", done, total)
	}
	if !bytes.HasPrefix(docs[0].AppendJSON(nil), []byte(`{"id":"75101_1929"`)) {
		t.Errorf("first doc %s", docs[0].AppendJSON(nil))
	}
}

func TestBANTruncatedGzip(t *testing.T) {
	var b strings.Builder
	b.WriteString(banHeader)
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, "75101_1929_%05d;;%d;;Place du Châtelet;75001;75101;Paris 1er Arrondissement;;;652070.67;6862151.3;2.346758;48.857614;parcelle;;;;;;;;\n", i, i)
	}
	data := gz(t, []byte(b.String()))
	r, err := Open(writeTemp(t, "a.gz", data[:len(data)/2]), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("truncated gzip: err = %v", err)
	}
}

func TestDepOf(t *testing.T) {
	for in, want := range map[string]string{"75101": "75", "97105": "971", "98825": "988", "2A004": "2A", "7": "7", "": "", "0â1": "0â", "97": "97"} {
		if got := depOf(in); got != want {
			t.Errorf("depOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBANLongQuotedRecordIsLinear(t *testing.T) {
	// an unterminated quote followed by many lines must not be quadratic
	body := banHeader + "\"" + strings.Repeat("\n", 200000)
	r, err := NewReader(strings.NewReader(body), "q.csv", 0, Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := r.Next(); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, io.EOF) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("too slow")
	}
	if st := r.Stats(); st.Malformed != 1 {
		t.Errorf("stats %+v", st)
	}
}
