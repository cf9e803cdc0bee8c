package source

import (
	"errors"
	"strings"
	"testing"
)

// fieldsString renders a document compactly for comparisons: the encoded
// JSON (Python re-emission rules) plus the kinds of the top-level values.
func kinds(d *Document) string {
	var b strings.Builder
	for _, f := range d.Fields {
		b.WriteString(f.Key + ":" + f.Value.Kind.String() + " ")
	}
	return strings.TrimSpace(b.String())
}

func TestParseLineValid(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     string // AppendJSON output
		kinds    string
		check    func(t *testing.T, d *Document)
	}{
		{name: "empty object", in: `{}`, want: `{}`},
		{name: "whitespace", in: " \t{ \"a\" :\t1 ,\r\n \"b\" : \"x\" } \r", want: `{"a":1,"b":"x"}`, kinds: "a:number b:string"},
		{name: "escapes", in: `{"a":"\"\\\/\b\f\n\r\t"}`, want: `{"a":"\"\\/\b\f\n\r\t"}`,
			check: func(t *testing.T, d *Document) {
				if v, _ := d.Get("a"); v.Str != "\"\\/\b\f\n\r\t" {
					t.Errorf("decoded %q", v.Str)
				}
			}},
		{name: "unicode escapes", in: `{"a":"\u00e9t\u00C9 \ud83d\ude00 \u0041\u0000"}`, want: `{"a":"étÉ 😀 A\u0000"}`},
		{name: "lone surrogates", in: `{"a":"x\ud800y\udc00z\ud83d"}`, want: `{"a":"x�y�z�"}`},
		{name: "surrogate then escape", in: `{"a":"\ud83d\n"}`, want: `{"a":"�\n"}`},
		{name: "raw utf8 and escapes", in: `{"name":"Île \"Saint\" Louis\u00e9"}`, want: `{"name":"Île \"Saint\" Louisé"}`},
		{name: "escaped key", in: `{"n\u00e0me":1}`, want: `{"nàme":1}`},
		{name: "numbers", in: `{"a":0,"b":-0,"c":1.5,"d":-1.5e+10,"e":1E5,"f":48.857614,"g":75001,"h":123456789012345678901234567890,"i":1e-5,"j":0.10}`,
			want: `{"a":0,"b":0,"c":1.5,"d":-15000000000.0,"e":100000.0,"f":48.857614,"g":75001,"h":123456789012345678901234567890,"i":1e-05,"j":0.1}`,
			check: func(t *testing.T, d *Document) {
				if v, _ := d.Get("e"); v.Str != "1E5" {
					t.Errorf("literal not kept: %q", v.Str)
				}
			}},
		{name: "python literals", in: `{"a":NaN,"b":Infinity,"c":-Infinity}`, want: `{"a":NaN,"b":Infinity,"c":-Infinity}`, kinds: "a:number b:number c:number"},
		{name: "literals", in: `{"t":true,"f":false,"n":null}`, want: `{"t":true,"f":false,"n":null}`, kinds: "t:bool f:bool n:null"},
		{name: "nested object value", in: `{"o":{ "a" : [1, {"b":2.50}], "c":"\u00e9", "a":3 },"p":1}`, want: `{"o":{"a":3,"c":"é"},"p":1}`,
			check: func(t *testing.T, d *Document) {
				if v, _ := d.Get("o"); v.Kind != Object || v.Str != `{ "a" : [1, {"b":2.50}], "c":"\u00e9", "a":3 }` {
					t.Errorf("raw object %q", v.Str)
				}
			}},
		{name: "lists", in: `{"l":["a",1,null,true,"b"],"e":[ ]}`, want: `{"l":["a",1,null,true,"b"],"e":[]}`, kinds: "l:list e:list"},
		{name: "duplicate keys", in: `{"a":1,"b":2,"a":3}`, want: `{"a":3,"b":2}`},
		{name: "housenumbers", in: `{"name":"Rue X","housenumbers":{"1 bis":{"id":"a","lat":48.1,"lon":"2.5","x":1},"10bis":{"lon":2,"lat":1}},"lat":1}`,
			want:  `{"name":"Rue X","housenumbers":{"1 bis":{"id":"a","lat":48.1,"lon":"2.5","x":1},"10bis":{"lon":2,"lat":1}},"lat":1}`,
			kinds: "name:string lat:number",
			check: func(t *testing.T, d *Document) {
				if len(d.Housenumbers) != 2 || d.HousenumbersAt != 1 {
					t.Fatalf("housenumbers %+v at %d", d.Housenumbers, d.HousenumbersAt)
				}
				h := d.Housenumbers[0]
				if h.Raw != "1 bis" || h.Lat.Str != "48.1" || h.Lon.Kind != String || len(h.Payload) != 2 || h.Payload[1].Key != "x" {
					t.Errorf("hn %+v", h)
				}
				if _, ok := d.Get("housenumbers"); ok {
					t.Error("housenumbers is not a field")
				}
			}},
		{name: "duplicate housenumber keys", in: `{"housenumbers":{"1":{"lat":1,"lon":2},"2":{"lat":3,"lon":4},"1":{"lat":5,"lon":6,"lat":7}}}`,
			want: `{"housenumbers":{"1":{"lat":7,"lon":6},"2":{"lat":3,"lon":4}}}`},
		{name: "housenumbers null", in: `{"housenumbers":null,"a":1}`, want: `{"a":1}`,
			check: func(t *testing.T, d *Document) {
				if d.Housenumbers != nil {
					t.Error("null housenumbers should be nil")
				}
			}},
		{name: "housenumbers empty", in: `{"a":1,"housenumbers":{}}`, want: `{"a":1,"housenumbers":{}}`,
			check: func(t *testing.T, d *Document) {
				if d.Housenumbers == nil || len(d.Housenumbers) != 0 {
					t.Error("empty housenumbers should be non-nil and empty")
				}
			}},
		{name: "no name no position", in: `{"type":"street"}`, want: `{"type":"street"}`},
		{name: "string with control-free unicode", in: "{\"a\":\"\u2028\x7f\"}", want: "{\"a\":\"\u2028\x7f\"}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseLine([]byte(tc.in), 7)
			if err != nil {
				t.Fatal(err)
			}
			if d.Line != 7 {
				t.Errorf("line %d", d.Line)
			}
			if got := string(d.AppendJSON(nil)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if tc.kinds != "" && kinds(d) != tc.kinds {
				t.Errorf("kinds %q, want %q", kinds(d), tc.kinds)
			}
			if tc.check != nil {
				tc.check(t, d)
			}
		})
	}
}

func TestParseLineBlank(t *testing.T) {
	for _, in := range []string{"", " ", "\t\r"} {
		d, err := ParseLine([]byte(in), 1)
		if d != nil || err != nil {
			t.Errorf("ParseLine(%q) = %v, %v", in, d, err)
		}
	}
}

func TestParseLineErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`x`, `invalid JSON: unexpected character 'x' at offset 0`},
		{`{"name": x}`, `invalid JSON: unexpected character 'x' at offset 9`},
		{`[1,2]`, `not a JSON object: the line holds a list`},
		{`"a"`, `not a JSON object: the line holds a string`},
		{`42`, `not a JSON object: the line holds a number`},
		{`null`, `not a JSON object: the line holds null`},
		{`{"a":1} x`, `invalid JSON: extra data after the object at offset 8`},
		{`{"a":1}{"b":2}`, `invalid JSON: extra data after the object at offset 7`},
		{`{"a":}`, `invalid JSON: unexpected character '}' at offset 5`},
		{`{"a":1,}`, `invalid JSON: unexpected character '}' at offset 7`},
		{`{,}`, `invalid JSON: unexpected character ',' at offset 1`},
		{`{"a" 1}`, `invalid JSON: unexpected character '1' at offset 5`},
		{`{"a":1`, `invalid JSON: unexpected end of line at offset 6`},
		{`{"a":"b`, `invalid JSON: unterminated string starting at offset 5`},
		{"{\"a\":\"b\x01\"}", `invalid JSON: invalid control character in string at offset 7`},
		{"{\"a\":\"b\tc\"}", `invalid JSON: invalid control character in string at offset 7`},
		{`{"a":"\q"}`, `invalid JSON: invalid escape '\q' at offset 6`},
		{`{"a":"\u12"}`, `invalid JSON: invalid \uXXXX escape at offset 6`},
		{`{"a":"\u12G4"}`, `invalid JSON: invalid \uXXXX escape at offset 6`},
		{`{"a":01}`, `invalid JSON: unexpected character '1' at offset 6`},
		{`{"a":1.}`, `invalid JSON: unexpected character '}' at offset 7`},
		{`{"a":1e}`, `invalid JSON: unexpected character '}' at offset 7`},
		{`{"a":-}`, `invalid JSON: unexpected character '}' at offset 6`},
		{`{"a":.5}`, `invalid JSON: unexpected character '.' at offset 5`},
		{`{"a":+1}`, `invalid JSON: unexpected character '+' at offset 5`},
		{`{"a":tru}`, `invalid JSON: unexpected character 't' at offset 5`},
		{`{"a":nan}`, `invalid JSON: unexpected character 'n' at offset 5`},
		{`{"a":-Inf}`, `invalid JSON: unexpected character 'I' at offset 6`},
		{`{'a':1}`, `invalid JSON: unexpected character ''' at offset 1`},
		{`{"a":[1,[2]]}`, `field "a": Non scalar list items at offset 8`},
		{`{"city":[{"b":1}]}`, `field "city": Non scalar list items at offset 9`},
		{`{"a":[1 2]}`, `invalid JSON: unexpected character '2' at offset 8`},
		{`{"o":{"a":}}`, `invalid JSON: unexpected character '}' at offset 10`},
		{`{"o":{"a":1]}`, `invalid JSON: unexpected character ']' at offset 11`},
		{`{"o":[1,}`, `invalid JSON: unexpected character '}' at offset 8`},
		{"{\"a\":\"\xff\"}", `invalid UTF-8 in string at offset 6`},
		{"{\"o\":{\"a\":\"\xc3\"}}", `invalid UTF-8 in string at offset 11`},
		{"é", `invalid JSON: unexpected character U+00E9 at offset 0`},
		{"{\"a\":1}\x00", `invalid JSON: extra data after the object at offset 7`},
		{`{"housenumbers":[]}`, `housenumbers must be an object, not a list at offset 16`},
		{`{"housenumbers":"1"}`, `housenumbers must be an object, not a string at offset 16`},
		{`{"housenumbers":{"1":2}}`, `housenumbers["1"] must be an object, not a number at offset 21`},
		{`{"housenumbers":{"1":null}}`, `housenumbers["1"] must be an object, not null at offset 21`},
		{`{"housenumbers":{"1":{"lat":1}}}`, `housenumbers["1"] has no lon`},
		{`{"housenumbers":{"1":{"lon":1}}}`, `housenumbers["1"] has no lat`},
		{`{"housenumbers":{"1":{}}}`, `housenumbers["1"] has no lat`},
		{`{"housenumbers":{"1":{"lat":"x","lon":1}}}`, `housenumbers["1"]: lat is not a number`},
		{`{"housenumbers":{"1":{"lat":1,"lon":null}}}`, `housenumbers["1"]: lon is not a number`},
		{`{"housenumbers":{"1":{"lat":1,"lon":2},}}`, `invalid JSON: unexpected character '}' at offset 39`},
		{`{"housenumbers":nul}`, `invalid JSON: unexpected character 'n' at offset 16`},
	} {
		_, err := ParseLine([]byte(tc.in), 3)
		var le *LineError
		if !errors.As(err, &le) {
			t.Errorf("ParseLine(%q): err = %v, want a *LineError", tc.in, err)
			continue
		}
		if le.Line != 3 || le.File != "" {
			t.Errorf("ParseLine(%q): line %d file %q", tc.in, le.Line, le.File)
		}
		if le.Err.Error() != tc.want {
			t.Errorf("ParseLine(%q):\n got  %s\n want %s", tc.in, le.Err, tc.want)
		}
		if !strings.HasPrefix(le.Error(), "line 3: ") {
			t.Errorf("Error() = %q", le.Error())
		}
	}
}

func TestParseLineDoesNotRetainInput(t *testing.T) {
	line := []byte(`{"name":"Rue \u00e9","housenumbers":{"1":{"lat":1,"lon":2,"id":"x"}}}`)
	d, err := ParseLine(line, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range line {
		line[i] = 'X'
	}
	if got := string(d.AppendJSON(nil)); got != `{"name":"Rue é","housenumbers":{"1":{"lat":1,"lon":2,"id":"x"}}}` {
		t.Errorf("document changed with the input buffer: %s", got)
	}
}

func TestParseLineManyKeys(t *testing.T) {
	// enough keys to switch duplicate detection to a map
	var b strings.Builder
	b.WriteString(`{`)
	for i := 0; i < 100; i++ {
		b.WriteString(`"k` + itoa(i) + `":` + itoa(i) + `,`)
	}
	b.WriteString(`"k5":"dup","housenumbers":{`)
	for i := 0; i < 100; i++ {
		b.WriteString(`"` + itoa(i) + `":{"lat":1,"lon":2},`)
	}
	b.WriteString(`"7":{"lat":9,"lon":9}}}`)
	d, err := ParseLine([]byte(b.String()), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Fields) != 100 || d.Fields[5].Value.Str != "dup" {
		t.Errorf("fields: %d, k5=%v", len(d.Fields), d.Fields[5].Value)
	}
	if len(d.Housenumbers) != 100 || d.Housenumbers[7].Lat.Str != "9" || d.Housenumbers[8].Raw != "8" {
		t.Errorf("housenumbers: %d", len(d.Housenumbers))
	}
}

func itoa(i int) string { return IntValue(int64(i)).Str }

func TestManyPayloadAndNestedKeys(t *testing.T) {
	var b, o strings.Builder
	b.WriteString(`{"housenumbers":{"1":{"lat":1,"lon":2`)
	o.WriteString(`{`)
	for i := 0; i < 60; i++ {
		b.WriteString(`,"p` + itoa(i) + `":` + itoa(i))
		o.WriteString(`"q` + itoa(i) + `":` + itoa(i) + `,`)
	}
	b.WriteString(`,"p3":"dup"}},"o":`)
	o.WriteString(`"q40":"dup"}`)
	b.WriteString(o.String() + `}`)
	d, err := ParseLine([]byte(b.String()), 1)
	if err != nil {
		t.Fatal(err)
	}
	p := d.Housenumbers[0].Payload
	if len(p) != 60 || p[3].Value.Str != "dup" || p[59].Key != "p59" {
		t.Errorf("payload %d %v", len(p), p[3])
	}
	enc := string(d.AppendJSON(nil))
	if !strings.Contains(enc, `"q39":39,"q40":"dup","q41":41`) || strings.Count(enc, `"q40"`) != 1 {
		t.Errorf("nested object not deduplicated: %s", enc)
	}
}
