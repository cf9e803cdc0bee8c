package pyjs

import (
	"bufio"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestPyFloatVectors checks FormatPyFloat and PyRound against values Python
// printed (testdata/pyfloat.tsv: random bit patterns, coordinates,
// importances, exponent literals and edge cases).
func TestPyFloatVectors(t *testing.T) {
	f, err := os.Open("testdata/pyfloat.tsv")
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
		x, err := strconv.ParseFloat(p[0], 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			t.Fatalf("cannot parse %q", p[0])
		}
		if got := FormatPyFloat(x); got != p[1] {
			t.Errorf("FormatPyFloat(%s) = %s, want %s", p[0], got, p[1])
		}
		if got := string(AppendJSONFloat(nil, x)); got != p[1] {
			t.Errorf("AppendJSONFloat(%s) = %s, want %s", p[0], got, p[1])
		}
		if got := FormatPyFloat(PyRound(x, 6)); got != p[2] {
			t.Errorf("round(%s, 6) = %s, want %s", p[0], got, p[2])
		}
		if got := FormatPyFloat(PyRound(x, 5)); got != p[3] {
			t.Errorf("round(%s, 5) = %s, want %s", p[0], got, p[3])
		}
		n++
	}
	if n < 3000 {
		t.Fatalf("only %d vectors", n)
	}
}

// TestNonFiniteFloats: Python's repr, json.dumps's literals, and the null
// of balise's HTTP answers.
func TestNonFiniteFloats(t *testing.T) {
	for _, tc := range []struct {
		f                  float64
		repr, json, strict string
	}{
		{math.NaN(), "nan", "NaN", "null"},
		{math.Inf(1), "inf", "Infinity", "null"},
		{math.Inf(-1), "-inf", "-Infinity", "null"},
		{1, "1.0", "1.0", "1.0"},
	} {
		if got := FormatPyFloat(tc.f); got != tc.repr {
			t.Errorf("FormatPyFloat(%v) = %s", tc.f, got)
		}
		if got := string(AppendJSONFloat(nil, tc.f)); got != tc.json {
			t.Errorf("AppendJSONFloat(%v) = %s", tc.f, got)
		}
		if got := string(AppendStrictJSONFloat(nil, tc.f)); got != tc.strict {
			t.Errorf("AppendStrictJSONFloat(%v) = %s", tc.f, got)
		}
	}
}

func TestFormatPyFloat(t *testing.T) {
	f := func(v float64, want string) {
		t.Helper()
		if got := FormatPyFloat(v); got != want {
			t.Errorf("FormatPyFloat(%v) = %s; want %s", v, got, want)
		}
		if got := string(AppendStrictJSONFloat(nil, v)); got != want {
			t.Errorf("AppendStrictJSONFloat(%v) = %s; want %s", v, got, want)
		}
	}
	f(1, "1.0")
	f(0.5, "0.5")
	f(48.857614, "48.857614")
	f(1e-05, "1e-05")
	f(0.0001, "0.0001")
	f(1e16, "1e+16")
	f(1.5e16, "1.5e+16")
	f(123456789012345.0, "123456789012345.0")
	f(-2.5, "-2.5")
	f(0.9474181818181818, "0.9474181818181818")
	f(652070.67, "652070.67")
}

// TestCSVNumbers: what addok-csv (str(float), round(x, 2)) and
// addok-server (Number#toString) write in a CSV cell.
func TestCSVNumbers(t *testing.T) {
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
		if got := FormatPyFloat(c.x); got != c.py {
			t.Errorf("FormatPyFloat(%v) %s want %s", c.x, got, c.py)
		}
		if got := FormatJSNumber(c.x); got != c.js {
			t.Errorf("FormatJSNumber(%v) %s want %s", c.x, got, c.js)
		}
		if got := FormatPyFloat(PyRound(c.x, 2)); got != c.r2py {
			t.Errorf("PyRound(%v, 2) %s want %s", c.x, got, c.r2py)
		}
	}
	for _, c := range []struct {
		x  float64
		js string
	}{{math.NaN(), "NaN"}, {math.Inf(-1), "-Infinity"}, {0, "0"}, {1.5e21, "1.5e+21"}, {-123.5, "-123.5"}} {
		if got := FormatJSNumber(c.x); got != c.js {
			t.Errorf("FormatJSNumber(%v) %s want %s", c.x, got, c.js)
		}
	}
}
