package pyjs

import "testing"

// TestPyRepr: the expected strings are Python 3.11's repr(s).
func TestPyRepr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a", `'a'`},
		{"it's", `"it's"`},
		{`"q"`, `'"q"'`},
		{`it's "q"`, `'it\'s "q"'`},
		{"a\\b", `'a\\b'`},
		{"\t\n\r\x00\x1f", `'\t\n\r\x00\x1f'`},
		{"é€ß", `'é€ß'`},
		{"\u2028\u200b\ufeff", `'\u2028\u200b\ufeff'`},
		{"\U000e0001\U0001f600", `'\U000e0001😀'`},
		{"\ue000", `'\ue000'`},
	} {
		if got := PyRepr(tc.in); got != tc.want {
			t.Errorf("PyRepr(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if got := PyReprList([]string{"a", "it's", `"q"`}); got != `['a', "it's", '"q"']` {
		t.Errorf("PyReprList %s", got)
	}
	if got := PyReprList(nil); got != `[]` {
		t.Errorf("PyReprList(nil) %s", got)
	}
}
