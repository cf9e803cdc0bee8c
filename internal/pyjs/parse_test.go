package pyjs

import (
	"math"
	"testing"
)

// sameFloat compares floats, NaN equal to NaN and -0 apart from 0.
func sameFloat(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return a == b && math.Signbit(a) == math.Signbit(b)
}

// TestParsePyFloat: the verdicts are Python 3.11's float(s).
func TestParsePyFloat(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want float64
		ok   bool
	}{
		{"48.857614", 48.857614, true},
		{" 2.5\n", 2.5, true},
		{"+.5", 0.5, true},
		{"5.", 5.0, true},
		{"1_000.5", 1000.5, true},
		{"inf", math.Inf(1), true},
		{"-Infinity", math.Inf(-1), true},
		{"nan", math.NaN(), true},
		{"1__0", 0, false},
		{"_1", 0, false},
		{"1_", 0, false},
		{"1_.5", 0, false},
		{"+_1", 0, false},
		{"1_e5", 0, false},
		{"1.5_0", 1.5, true},
		{"1e1_0", 10000000000.0, true},
		{"0x10", 0, false},
		{"-0X1p3", 0, false},
		{"1p5", 0, false},
		{"", 0, false},
		{"abc", 0, false},
		{"1,5", 0, false},
		{"\x1c5", 0, false}, // str.strip() removes U+001C, float() does not
		{"5\x1f", 0, false},
		{"\u00a05", 5.0, true},
		{"\u30005", 5.0, true},
		{"\u00855", 5.0, true},
		{"1e400", math.Inf(1), true},
		{"-1e400", math.Inf(-1), true},
		{"1e-400", 0.0, true},
		{"-0.0", math.Copysign(0, -1), true},
		{".", 0, false},
		{"+", 0, false},
		{"1 0", 0, false},
	} {
		got, ok := ParsePyFloat(tc.s)
		if ok != tc.ok || (ok && !sameFloat(got, tc.want)) {
			t.Errorf("ParsePyFloat(%q) = %v, %v; want %v, %v", tc.s, got, ok, tc.want, tc.ok)
		}
	}
	// Python accepts these; balise refuses them (see the package doc).
	for _, s := range []string{"\u0663", "+nan", "-nan"} {
		if _, ok := ParsePyFloat(s); ok {
			t.Errorf("ParsePyFloat(%q) accepted", s)
		}
	}
}

// TestParsePyInt: the verdicts are Python 3.11's int(s), big values
// clamped.
func TestParsePyInt(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want int
		ok   bool
	}{
		{"5", 5, true},
		{" 7 ", 7, true},
		{"+5", 5, true},
		{"-1_0", -10, true},
		{" 1_0 ", 10, true},
		{"0_0", 0, true},
		{"007", 7, true},
		{"1__0", 0, false},
		{"_1", 0, false},
		{"1_", 0, false},
		{"+_1", 0, false},
		{"-_1", 0, false},
		{"1.5", 0, false},
		{"1e5", 0, false},
		{"", 0, false},
		{"x", 0, false},
		{"\x1c5", 0, false},
		{"\u00a05", 5, true},
		{"99999999999999999999", math.MaxInt, true},
		{"-99999999999999999999", math.MinInt, true},
	} {
		got, ok := ParsePyInt(tc.s)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("ParsePyInt(%q) = %v, %v; want %v, %v", tc.s, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := ParsePyInt("\u0663"); ok { // Python reads 3
		t.Error("ParsePyInt accepted a non-ASCII digit")
	}
}

// TestParseJS: the verdicts are Node's parseFloat(s) and parseInt(s, 10)
// (ok=false for NaN).
func TestParseJS(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		s          string
		float, int float64
	}{
		{"48.8", 48.8, 48},
		{" 2.5x", 2.5, 2},
		{"-7", -7, -7},
		{"+.5e-3z", 0.0005, nan},
		{"5.", 5, 5},
		{"1e", 1, 1},
		{"1e+", 1, 1},
		{"Infinity", math.Inf(1), nan},
		{"-Infinityx", math.Inf(-1), nan},
		{"+Infinity", math.Inf(1), nan},
		{"infinity", nan, nan},
		{"", nan, nan},
		{"abc", nan, nan},
		{".", nan, nan},
		{"-.", nan, nan},
		{"\u00a01.5", 1.5, 1},
		{"\ufeff2", 2, 2},
		{"1_0", 1, 1},
		{"0x10", 0, 0},
		{"1e400", math.Inf(1), 1},
		{"  12abc", 12, 12},
		{"-0", math.Copysign(0, -1), math.Copysign(0, -1)},
	} {
		f, ok := ParseJSFloat(tc.s)
		if !ok {
			f = nan
		}
		if !sameFloat(f, tc.float) {
			t.Errorf("ParseJSFloat(%q) = %v, want %v", tc.s, f, tc.float)
		}
		n, ok := ParseJSInt(tc.s)
		if !ok {
			n = nan
		}
		if !sameFloat(n, tc.int) {
			t.Errorf("ParseJSInt(%q) = %v, want %v", tc.s, n, tc.int)
		}
	}
}

func TestIsPySpace(t *testing.T) {
	for _, r := range " \t\n\r\v\f\x1c\x1d\x1e\x1f\u0085\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000" {
		if !IsPySpace(r) {
			t.Errorf("IsPySpace(%U) = false", r)
		}
	}
	for _, r := range "a0_\x00\x1b\u180e\u200b\ufeff" {
		if IsPySpace(r) {
			t.Errorf("IsPySpace(%U) = true", r)
		}
	}
}
