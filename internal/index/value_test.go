package index

import (
	"encoding/binary"
	"math"
	"reflect"
	"testing"

	"balise/internal/source"
)

// TestNumberForms checks that a string written in a number form decodes
// to itself, byte for byte, and that the form is only used when it holds.
func TestNumberForms(t *testing.T) {
	cases := []struct {
		ref, s, raw string
		want        bool // a number form applies
		maxLen      int  // its encoded length at most (0: not checked)
	}{
		{"75101_cfq3tf", "75101_cfq3tf_00022", "22", true, 5},
		{"75101_cfq3tf", "75101_cfq3tf_00022_s", "22s", true, 8},
		{"75101_cfq3tf_00001", "75101_cfq3tf_00022", "22", true, 2},
		{"75101_cfq3tf_00001", "75101_cfq3tf_00022_s", "22s", true, 5},
		{"040010012W-1", "040010012W-7", "7", true, 2},
		{"040010012W-1", "040010012W-598B", "598bis", true, 4},
		{"040010012W-1", "040010012W-123456789", "123456789", true, 2},
		{"a", "x0000012y", "12", true, 0},    // padded to 7, nothing shared
		{"abc", "abc12abc12", "12", true, 0}, // the cheaper occurrence
		{"abc", "abc", "12", false, 0},       // the number is not there
		{"abc", "abc_00012", "bis", false, 0},
		{"", "012", "012", true, 0}, // the key's own leading zeros
		{"75101_cfq3tf", "75101_cfq3tf_0012", "12", true, 0},
	}
	for _, c := range cases {
		num := leadingDigits(c.raw)
		var enc []byte
		ok := false
		if num != "" {
			enc, ok = appendNumberForm(nil, tagNumRef, c.ref, c.s, num)
		}
		if ok != c.want {
			t.Errorf("%q against %q (%q): number form %v, want %v", c.s, c.ref, c.raw, ok, c.want)
			continue
		}
		if !ok {
			continue
		}
		if c.maxLen > 0 && len(enc) > c.maxLen {
			t.Errorf("%q against %q: %d bytes, want at most %d", c.s, c.ref, len(enc), c.maxLen)
		}
		ref := Value{Kind: KindString, Str: c.ref}
		// The same form against the first housenumber's value.
		alt := byte(tagNumFirst)
		if enc[0] >= tagNumRefShort {
			alt = enc[0] - tagNumRefShort + tagNumFirstShort
		}
		for _, tag := range []byte{enc[0], alt} {
			enc[0] = tag
			d := decoder{b: enc, num: num, first: &ref}
			v := d.value(&ref, 0)
			if d.err != nil || v.Kind != KindString || v.Str != c.s || d.pos != len(enc) {
				t.Errorf("%q against %q: decoded %q (%v)", c.s, c.ref, v.Str, d.err)
			}
			d = decoder{b: enc}
			if d.skipValue(0); d.err != nil || d.pos != len(enc) {
				t.Errorf("%q: skipValue stopped at %d of %d", c.s, d.pos, len(enc))
			}
		}
	}
	// Without a reference, or against a shorter one, the form is corrupt.
	enc, _ := appendNumberForm(nil, tagNumRef, "abcdef", "abcdef12", "12")
	if d := (decoder{b: enc, num: "12"}); d.value(nil, 0).Str != "" || d.err == nil {
		t.Error("number form without a reference decoded")
	}
	short := Value{Kind: KindString, Str: "ab"}
	if d := (decoder{b: enc, num: "12"}); d.value(&short, 0).Str != "" || d.err == nil {
		t.Error("number form against a too short reference decoded")
	}
}

// TestDocFloat checks that a street's lat, lon or importance written as a
// reference to the record's float decodes as its decimal would, and that
// a field that is not such a decimal keeps its own form.
func TestDocFloat(t *testing.T) {
	hdr := [3]float64{48.862556, -61.5473, 0.4216}
	rec := make([]byte, 24)
	for i, f := range hdr {
		binary.LittleEndian.PutUint64(rec[8*i:], math.Float64bits(f))
	}
	for _, c := range []struct {
		lit  string
		want bool
	}{
		{"48.862556", true}, {"-61.5473", true}, {"-61.547300", true}, {"0.4216", true},
		{"48.86255", false}, {"48", false}, {"4.8862556e1", false}, {"0.42160000000000001", false},
	} {
		v := source.Value{Kind: source.Number, Str: c.lit}
		tag, ok := docFloatTag(v, hdr)
		if ok != c.want {
			t.Errorf("%s: doc float %v, want %v", c.lit, ok, c.want)
			continue
		}
		if !ok {
			continue
		}
		m, scale, _ := parseDecimal(c.lit)
		want := decoder{b: binary.AppendVarint([]byte{tagDec, byte(scale)}, m)}
		got := decoder{b: []byte{tag}, hdr: rec}
		if w, g := want.value(nil, 0), got.value(nil, 0); !reflect.DeepEqual(g, w) || got.err != nil {
			t.Errorf("%s: decoded %+v, want %+v", c.lit, g, w)
		}
	}
}

// TestDecScaled checks the delta against a reference of another scale:
// the same float64 as the decimal itself, either scale the larger.
func TestDecScaled(t *testing.T) {
	for _, c := range [][2]string{
		{"6862544.4", "6862571.27"}, {"6862571.27", "6862544.4"}, {"48.86329", "48.862556"},
		{"-61.5", "-61.547343"}, {"2.3", "2"}, {"0.1", "0.123456789012345"},
	} {
		m, scale, _ := parseDecimal(c[0])
		rm, rs, _ := parseDecimal(c[1])
		tag, delta, ok := scaledDelta(m, scale, rm, rs)
		if !ok {
			t.Errorf("%s against %s: no scaled delta", c[0], c[1])
			continue
		}
		ref := Value{Kind: KindFloat, Float: decFloat(rm, rs), decScale: int8(rs), decMantissa: rm}
		d := decoder{b: binary.AppendVarint([]byte{tag}, delta)}
		v := d.value(&ref, 0)
		if want := decFloat(m, scale); d.err != nil || v.Kind != KindFloat || math.Float64bits(v.Float) != math.Float64bits(want) {
			t.Errorf("%s against %s: decoded %v, want %v (%v)", c[0], c[1], v.Float, want, d.err)
		}
		sk := decoder{b: d.b}
		if sk.skipValue(0); sk.err != nil || sk.pos != len(sk.b) {
			t.Errorf("%s: skipValue", c[0])
		}
	}
	// Mantissas that would pass 2^53 at the common scale are refused.
	if _, _, ok := scaledDelta(123456789012345, 0, 1, 15); ok {
		t.Error("scaled past 2^53")
	}
}
