package source

import (
	"bufio"
	"math"
	"os"
	"strings"
	"testing"
)

// TestNumberStr checks str() and FloatValue against what Python printed for
// the float vectors of package pyjs (whose FormatPyFloat and PyRound they
// rely on): repr(float(literal)) is both str() of a non-integer literal and
// the literal json.dumps writes.
func TestNumberStr(t *testing.T) {
	f, err := os.Open("../pyjs/testdata/pyfloat.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		p := strings.Split(line, "\t")
		x, ok := NumberValue(p[0]).Float()
		if !ok {
			t.Fatalf("cannot parse %q", p[0])
		}
		if got := FloatValue(x).Str; got != p[1] {
			t.Errorf("FloatValue(%s) = %s, want %s", p[0], got, p[1])
		}
		if v := NumberValue(p[0]); !v.IsInt() {
			if got := v.String(); got != p[1] {
				t.Errorf("str(%s) = %s, want %s", p[0], got, p[1])
			}
		}
		n++
	}
	if n < 3000 {
		t.Fatalf("only %d vectors", n)
	}
	for _, tc := range []struct {
		f    float64
		want string
	}{{math.NaN(), "NaN"}, {math.Inf(1), "Infinity"}, {math.Inf(-1), "-Infinity"}} {
		if got := FloatValue(tc.f).Str; got != tc.want {
			t.Errorf("FloatValue(%v) = %s", tc.f, got)
		}
	}
}

func TestValueString(t *testing.T) {
	for _, tc := range []struct {
		v    Value
		want string
	}{
		{NumberValue("75001"), "75001"},
		{NumberValue("-0"), "0"},
		{NumberValue("-12"), "-12"},
		{NumberValue("123456789012345678901234567890"), "123456789012345678901234567890"},
		{NumberValue("0.5"), "0.5"},
		{NumberValue("1e-5"), "1e-05"},
		{NumberValue("1E5"), "100000.0"},
		{NumberValue("48.8576140"), "48.857614"},
		{NumberValue("1e400"), "inf"},
		{NumberValue("-1e400"), "-inf"},
		{NumberValue("NaN"), "nan"},
		{NumberValue("Infinity"), "inf"},
		{NumberValue("-Infinity"), "-inf"},
		{StringValue("Rue de l'Église"), "Rue de l'Église"},
		{Value{Kind: Bool, Bool: true}, "True"},
		{Value{Kind: Bool}, "False"},
		{Value{}, "None"},
		{ListValue(StringValue("a"), NumberValue("1"), Value{}, StringValue("it's")), `['a', 1, None, "it's"]`},
		{Value{Kind: Object, Str: `{"a":1}`}, `{"a":1}`},
	} {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestValueTruthy(t *testing.T) {
	for _, tc := range []struct {
		v    Value
		want bool
	}{
		{Value{}, false},
		{Value{Kind: Bool}, false},
		{Value{Kind: Bool, Bool: true}, true},
		{StringValue(""), false},
		{StringValue("0"), true},
		{StringValue(" "), true},
		{NumberValue("0"), false},
		{NumberValue("-0"), false},
		{NumberValue("0.0"), false},
		{NumberValue("-0.0"), false},
		{NumberValue("0e10"), false},
		{NumberValue("1e-400"), false}, // underflows to 0.0 in Python too
		{NumberValue("0.001"), true},
		{NumberValue("-1"), true},
		{NumberValue("NaN"), true},
		{ListValue(), false},
		{Value{Kind: List, List: []Value{}}, false},
		{ListValue(Value{}), true},
		{Value{Kind: Object, Str: "{}"}, false},
		{Value{Kind: Object, Str: "{ \t}"}, false},
		{Value{Kind: Object, Str: `{"a":1}`}, true},
	} {
		if got := tc.v.Truthy(); got != tc.want {
			t.Errorf("%+v.Truthy() = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestValueIsInt(t *testing.T) {
	for lit, want := range map[string]bool{
		"0": true, "-0": true, "75001": true, "-12": true, "123456789012345678901234567890": true,
		"1.0": false, "1e5": false, "1E5": false, "NaN": false, "Infinity": false, "-Infinity": false, "-": false, "": false,
	} {
		if got := NumberValue(lit).IsInt(); got != want {
			t.Errorf("IsInt(%q) = %v", lit, got)
		}
	}
	if StringValue("12").IsInt() {
		t.Error("a string is not an int")
	}
}

func TestValueFloat(t *testing.T) {
	for _, tc := range []struct {
		v    Value
		want float64
		ok   bool
	}{
		{NumberValue("48.857614"), 48.857614, true},
		{NumberValue("-2"), -2, true},
		{NumberValue("1e400"), math.Inf(1), true},
		{StringValue("48.857614"), 48.857614, true},
		{StringValue(" 2.5\n"), 2.5, true},
		{StringValue("+.5"), 0.5, true},
		{StringValue("5."), 5, true},
		{StringValue("1_000.5"), 1000.5, true},
		{StringValue("inf"), math.Inf(1), true},
		{StringValue("-Infinity"), math.Inf(-1), true},
		{StringValue("1__0"), 0, false},
		{StringValue("_1"), 0, false},
		{StringValue("0x10"), 0, false},
		{StringValue(""), 0, false},
		{StringValue("abc"), 0, false},
		{StringValue("1,5"), 0, false},
		{Value{}, 0, false},
		{Value{Kind: Bool, Bool: true}, 0, false},
		{ListValue(NumberValue("1")), 0, false},
	} {
		got, ok := tc.v.Float()
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("%+v.Float() = %v, %v; want %v, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
	if f, ok := NumberValue("NaN").Float(); !ok || !math.IsNaN(f) {
		t.Error("NaN")
	}
}

func TestDocumentGet(t *testing.T) {
	d := &Document{Fields: []Field{{"name", StringValue("x")}, {"lat", NumberValue("1")}}}
	if v, ok := d.Get("lat"); !ok || v.Str != "1" {
		t.Error("Get lat")
	}
	if _, ok := d.Get("lon"); ok {
		t.Error("Get lon")
	}
}
