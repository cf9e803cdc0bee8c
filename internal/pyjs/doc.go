// Package pyjs reproduces, byte for byte, how the two upstream languages
// read and write values: Python, which Addok and addok-csv are written in,
// and JavaScript, which addok-server (the national address API's front-end)
// is written in. A drop-in replacement answers what they answer, so the
// lexical rules of float(), int(), repr(), round(), json.dumps,
// Number.parseFloat, Number.parseInt and Number#toString are part of the
// contract, and Go's strconv and encoding/json differ from each of them.
//
// The rules live here, once, so that every layer (the import in
// internal/source, the stored values in internal/index, the answers written
// by internal/search, internal/httpapi and internal/batch) agrees on them.
// The package is a leaf: it imports nothing of balise.
//
// Parsers and formatters are named apart, with the language in the name:
//
//   - ParsePyFloat, ParsePyInt: Python's float(str) and int(str).
//   - ParseJSFloat, ParseJSInt: Number.parseFloat and Number.parseInt(s, 10).
//   - FormatPyFloat, AppendPyFloat: Python's repr() (and str()) of a float.
//   - AppendJSONFloat: json.dumps of a float (NaN and Infinity literals);
//     AppendStrictJSONFloat: the same with null for them, as balise's HTTP
//     answers write, since strict JSON has no such literals.
//   - FormatJSNumber: Number#toString.
//   - PyRound: Python's round(x, n).
//   - PyRepr, AppendPyRepr, PyReprList: Python's repr() of a str and of a
//     list of str.
//   - AppendPyJSONString: json.dumps(s, ensure_ascii=False), what Addok
//     writes (its answers go through ujson.dumps(..., ensure_ascii=False)),
//     byte for byte; AppendSafeJSONString: the form balise's HTTP answers
//     use, the same JSON value with <, >, &, U+2028 and U+2029 escaped and
//     invalid UTF-8 replaced, so an answer can be embedded anywhere.
//
// C1 control characters (U+0080 to U+009F) are where the two languages'
// writers most easily disagree: Python's repr() escapes them ('\x85'), as
// every character str.isprintable() refuses; json.dumps with
// ensure_ascii=False, ujson and JSON.stringify write them as they are.
// TestC1Controls pins both.
//
// Known limits, all on inputs no client sends: float() and int() also
// accept non-ASCII decimal digits ("٣") and float() a signed NaN ("+nan"),
// both refused here; parseFloat and parseInt also skip the other Unicode
// space separators and U+2028/U+2029 before the number, where these skip
// only ASCII blanks, U+00A0 and U+FEFF.
package pyjs
