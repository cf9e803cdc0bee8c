package batch

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	xunicode "golang.org/x/text/encoding/unicode"
)

func TestDetectUTF16(t *testing.T) {
	le := func(s string) []byte {
		b, _ := xunicode.UTF16(xunicode.LittleEndian, xunicode.IgnoreBOM).NewEncoder().Bytes([]byte(s))
		return b
	}
	be := func(s string) []byte {
		b, _ := xunicode.UTF16(xunicode.BigEndian, xunicode.IgnoreBOM).NewEncoder().Bytes([]byte(s))
		return b
	}
	for _, c := range []struct {
		in   []byte
		name string
		bom  bool
	}{
		{append([]byte{0xFF, 0xFE}, le("a\tb\r\n")...), "utf-16", true},
		{append([]byte{0xFE, 0xFF}, be("a;b\n")...), "utf-16", true},
		{le("adresse;ville\nrue de l’église;Brûlé\n"), "utf-16le", false},
		{be("adresse;ville\nrue de l’église;Brûlé\n"), "utf-16be", false},
		{[]byte("adresse;ville\nrue;Brûlé\n"), "utf-8", false},
		{[]byte("abc\x00def\nghi\x00jkl\n"), "utf-8", false}, // a few zero bytes, not every other one
		{[]byte("br\xfbl\xe9"), "windows-1252", false},
	} {
		cs := detectCharset(c.in, true)
		if cs.name != c.name || cs.bom != c.bom {
			t.Errorf("%q: %s bom=%v, want %s bom=%v", c.in, cs.name, cs.bom, c.name, c.bom)
		}
	}
}

func TestResolveUTF16Names(t *testing.T) {
	for name, order := range map[string]byteOrder{
		"utf-16": eitherOrder, "UTF16": eitherOrder, "utf_16": eitherOrder,
		"utf-16-le": littleEndian, "utf_16_le": littleEndian, "UTF-16LE": littleEndian,
		"utf-16-be": bigEndian, "utf_16_be": bigEndian, "utf-16be": bigEndian,
	} {
		cs, err := resolveCharset(name)
		if err != nil || cs.order != order || cs.name != name || cs.bom != (order == eitherOrder) {
			t.Errorf("%s: %+v %v", name, cs, err)
		}
	}
}

// decodeUTF16 decodes a UTF-16 output, BOM included, to UTF-8.
func decodeUTF16(t *testing.T, b []byte, e xunicode.Endianness) string {
	t.Helper()
	s, err := xunicode.UTF16(e, xunicode.IgnoreBOM).NewDecoder().Bytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(s)
}

// Excel's "Unicode text" export (UTF-16 LE with a BOM, tab-separated) is
// read as such and given back in the same encoding.
func TestJobUTF16ExcelExport(t *testing.T) {
	e := banEngine(t)
	in, err := os.ReadFile(filepath.Join("testdata", "utf16", "excel-unicode-text.txt"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := NewJob(e, bytes.NewReader(in), Options{Columns: []string{"adresse", "ville"}})
	if err != nil {
		t.Fatal(err)
	}
	if ct := j.ContentType(); ct != "text/csv; charset=utf-16" {
		t.Errorf("content type %q", ct)
	}
	var out bytes.Buffer
	s, err := j.Run(t.Context(), &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out.Bytes(), []byte{0xFF, 0xFE, 'n', 0}) {
		t.Fatalf("output does not start with a UTF-16 LE BOM: % x", out.Bytes()[:min(8, out.Len())])
	}
	lines := strings.Split(decodeUTF16(t, out.Bytes()[2:], xunicode.LittleEndian), "\r\n")
	if !strings.HasPrefix(lines[0], "nom\tadresse\tville\tlatitude\t") {
		t.Errorf("header %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "Boulangerie Brûlé\t10 rue des sapins\tPouembout\t-21.12") || !strings.HasSuffix(lines[1], "\tok") {
		t.Errorf("row 1 %q", lines[1])
	}
	if !strings.HasPrefix(lines[2], "“Chez Zoé”\t241 rue paul kuhn\t") || !strings.HasSuffix(lines[3], "\tnot-found") {
		t.Errorf("rows 2, 3 %q", lines[2:4])
	}
	if s.Rows != 3 || s.OK != 2 {
		t.Errorf("%+v", s)
	}
}

func TestJobUTF16Variants(t *testing.T) {
	e := banEngine(t)
	for _, c := range []struct {
		file, encoding, contentType string
		order                       xunicode.Endianness
		bom                         bool
	}{
		{"le-no-bom.csv", "", "utf-16le", xunicode.LittleEndian, false},
		{"be-no-bom.csv", "", "utf-16be", xunicode.BigEndian, false},
		{"be-bom.csv", "", "utf-16", xunicode.BigEndian, true},
		{"be-bom.csv", "utf-16", "utf-16", xunicode.BigEndian, true},
		{"be-no-bom.csv", "utf_16", "utf_16", xunicode.BigEndian, true}, // Python's utf-16 writes a BOM
		{"le-no-bom.csv", "utf-16-le", "utf-16-le", xunicode.LittleEndian, false},
		{"be-no-bom.csv", "UTF-16BE", "UTF-16BE", xunicode.BigEndian, false},
	} {
		in, err := os.ReadFile(filepath.Join("testdata", "utf16", c.file))
		if err != nil {
			t.Fatal(err)
		}
		j, err := NewJob(e, bytes.NewReader(in), Options{Columns: []string{"adresse", "ville"}, Encoding: c.encoding, Flavour: BAN})
		if err != nil {
			t.Fatalf("%s %s: %v", c.file, c.encoding, err)
		}
		if ct := j.ContentType(); ct != "text/csv; charset="+c.contentType {
			t.Errorf("%s %s: content type %q", c.file, c.encoding, ct)
		}
		var out bytes.Buffer
		s, err := j.Run(t.Context(), &out, nil)
		if err != nil {
			t.Fatal(err)
		}
		b := out.Bytes()
		bom := []byte{0xFF, 0xFE}
		if c.order == xunicode.BigEndian {
			bom = []byte{0xFE, 0xFF}
		}
		if hasBOM := bytes.HasPrefix(b, bom); hasBOM != c.bom {
			t.Errorf("%s %s: BOM %v, want %v", c.file, c.encoding, hasBOM, c.bom)
		} else if hasBOM {
			b = b[2:]
		}
		text := decodeUTF16(t, b, c.order)
		if !strings.HasPrefix(text, "adresse;ville;latitude;") || s.Rows != 2 || s.OK != 2 {
			t.Errorf("%s %s: %q %+v", c.file, c.encoding, text, s)
		}
	}
}

func TestUTF16OddByteAndEmpty(t *testing.T) {
	e := banEngine(t)
	// Only a BOM: an empty file, as for UTF-8.
	if _, err := NewJob(e, bytes.NewReader([]byte{0xFF, 0xFE}), Options{}); err == nil || err.Error() != "Empty file" {
		t.Errorf("BOM only: %v", err)
	}
	// A cut last unit is a replacement character, not a failure.
	in := append([]byte{0xFF, 0xFE}, []byte("a\x00\n\x00b\x00")...)
	in = append(in, 'c')
	out, s := run(t, e, string(in), Options{})
	if s.Rows != 1 || !strings.Contains(decodeUTF16(t, []byte(out)[2:], xunicode.LittleEndian), "b\ufffd") {
		t.Errorf("%q %+v", out, s)
	}
}
