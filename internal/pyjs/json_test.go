package pyjs

import "testing"

func TestAppendPyJSONString(t *testing.T) {
	in := "a\"b\\c\x00\x1f\x7f\u00e9\u2028/\b\f\n\r\t"
	want := `"a\"b\\c\u0000\u001f` + "\x7f\u00e9\u2028" + `/\b\f\n\r\t"`
	if got := string(AppendPyJSONString(nil, in)); got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

func TestAppendSafeJSONString(t *testing.T) {
	got := string(AppendSafeJSONString(nil, "a\"b\\c\n<é>\u2028\x01\xff"))
	want := `"a\"b\\c\n\u003cé\u003e\u2028\u0001\ufffd"`
	if got != want {
		t.Errorf("got %s; want %s", got, want)
	}
	got = string(AppendSafeJSONString(nil, "&\b\f\u2029\uFFFD\xed\xa0\x80"))
	want = `"\u0026\u0008\u000c\u2029` + "\uFFFD" + `\ufffd\ufffd\ufffd"`
	if got != want {
		t.Errorf("got %s; want %s", got, want)
	}
}
