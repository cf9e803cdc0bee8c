package pyjs

import "testing"

// TestC1Controls pins, for the C1 controls and their neighbours, Python's
// repr() (which escapes every character str.isprintable() refuses) and
// json.dumps(s, ensure_ascii=False) (which writes them as they are; it is
// the form Addok answers with, and JSON.stringify agrees). The rows were
// printed by Python 3.11.7: repr(chr(c)), json.dumps(chr(c),
// ensure_ascii=False). balise's HTTP form keeps them as they are too.
func TestC1Controls(t *testing.T) {
	for _, tc := range []struct {
		c    rune
		repr string
		json string
	}{
		{0x7f, `'\x7f'`, "\"\u007f\""},
		{0x80, `'\x80'`, "\"\u0080\""},
		{0x81, `'\x81'`, "\"\u0081\""},
		{0x82, `'\x82'`, "\"\u0082\""},
		{0x83, `'\x83'`, "\"\u0083\""},
		{0x84, `'\x84'`, "\"\u0084\""},
		{0x85, `'\x85'`, "\"\u0085\""},
		{0x86, `'\x86'`, "\"\u0086\""},
		{0x87, `'\x87'`, "\"\u0087\""},
		{0x88, `'\x88'`, "\"\u0088\""},
		{0x89, `'\x89'`, "\"\u0089\""},
		{0x8a, `'\x8a'`, "\"\u008a\""},
		{0x8b, `'\x8b'`, "\"\u008b\""},
		{0x8c, `'\x8c'`, "\"\u008c\""},
		{0x8d, `'\x8d'`, "\"\u008d\""},
		{0x8e, `'\x8e'`, "\"\u008e\""},
		{0x8f, `'\x8f'`, "\"\u008f\""},
		{0x90, `'\x90'`, "\"\u0090\""},
		{0x91, `'\x91'`, "\"\u0091\""},
		{0x92, `'\x92'`, "\"\u0092\""},
		{0x93, `'\x93'`, "\"\u0093\""},
		{0x94, `'\x94'`, "\"\u0094\""},
		{0x95, `'\x95'`, "\"\u0095\""},
		{0x96, `'\x96'`, "\"\u0096\""},
		{0x97, `'\x97'`, "\"\u0097\""},
		{0x98, `'\x98'`, "\"\u0098\""},
		{0x99, `'\x99'`, "\"\u0099\""},
		{0x9a, `'\x9a'`, "\"\u009a\""},
		{0x9b, `'\x9b'`, "\"\u009b\""},
		{0x9c, `'\x9c'`, "\"\u009c\""},
		{0x9d, `'\x9d'`, "\"\u009d\""},
		{0x9e, `'\x9e'`, "\"\u009e\""},
		{0x9f, `'\x9f'`, "\"\u009f\""},
		{0xa0, `'\xa0'`, "\"\u00a0\""},
		{0xad, `'\xad'`, "\"\u00ad\""},
	} {
		s := string(tc.c)
		if got := PyRepr(s); got != tc.repr {
			t.Errorf("PyRepr(%U) = %s, want %s", tc.c, got, tc.repr)
		}
		if got := string(AppendPyJSONString(nil, s)); got != tc.json {
			t.Errorf("AppendPyJSONString(%U) = %q, want %q", tc.c, got, tc.json)
		}
		if got := string(AppendSafeJSONString(nil, s)); got != tc.json {
			t.Errorf("AppendSafeJSONString(%U) = %q, want %q", tc.c, got, tc.json)
		}
	}
	// In a longer string, and in a list as addok-csv prints a header.
	if got, want := PyReprList([]string{"a\u0085b", "c"}), `['a\x85b', 'c']`; got != want {
		t.Errorf("PyReprList = %s, want %s", got, want)
	}
}
