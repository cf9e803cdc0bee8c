package source

import "fmt"

// Diff describes the first difference between two documents ("" when
// equal): keys and their order, values, housenumbers and their payloads.
// Number literals are compared as Python would re-emit them, so "1.50"
// and "1.5" are the same. The readers' tests check a converter's output
// with it, document by document.
func Diff(a, b *Document) string {
	if len(a.Fields) != len(b.Fields) {
		return fmt.Sprintf("%d fields vs %d", len(a.Fields), len(b.Fields))
	}
	for i := range a.Fields {
		fa, fb := a.Fields[i], b.Fields[i]
		if fa.Key != fb.Key {
			return fmt.Sprintf("field %d: key %q vs %q", i, fa.Key, fb.Key)
		}
		if m := valueDiff(fa.Value, fb.Value); m != "" {
			return fmt.Sprintf("field %q: %s", fa.Key, m)
		}
	}
	if (a.Housenumbers == nil) != (b.Housenumbers == nil) {
		return fmt.Sprintf("housenumbers nil %v vs %v", a.Housenumbers == nil, b.Housenumbers == nil)
	}
	if a.Housenumbers != nil && a.HousenumbersAt != b.HousenumbersAt {
		return fmt.Sprintf("housenumbers at %d vs %d", a.HousenumbersAt, b.HousenumbersAt)
	}
	if len(a.Housenumbers) != len(b.Housenumbers) {
		return fmt.Sprintf("%d housenumbers vs %d", len(a.Housenumbers), len(b.Housenumbers))
	}
	for i := range a.Housenumbers {
		ha, hb := a.Housenumbers[i], b.Housenumbers[i]
		if ha.Raw != hb.Raw {
			return fmt.Sprintf("housenumber %d: %q vs %q", i, ha.Raw, hb.Raw)
		}
		if m := valueDiff(ha.Lat, hb.Lat); m != "" {
			return fmt.Sprintf("housenumber %q lat: %s", ha.Raw, m)
		}
		if m := valueDiff(ha.Lon, hb.Lon); m != "" {
			return fmt.Sprintf("housenumber %q lon: %s", ha.Raw, m)
		}
		la, lb := normPos(ha), normPos(hb)
		if la != lb {
			return fmt.Sprintf("housenumber %q lat/lon positions %v vs %v", ha.Raw, la, lb)
		}
		if m := Diff(&Document{Fields: ha.Payload}, &Document{Fields: hb.Payload}); m != "" {
			return fmt.Sprintf("housenumber %q payload: %s", ha.Raw, m)
		}
	}
	return ""
}

func normPos(h Housenumber) [2]int {
	n := len(h.Payload) + 2
	if h.LatAt == h.LonAt || h.LatAt < 0 || h.LonAt < 0 || h.LatAt >= n || h.LonAt >= n {
		return [2]int{0, 1}
	}
	return [2]int{h.LatAt, h.LonAt}
}

func valueDiff(a, b Value) string {
	if a.Kind != b.Kind {
		return fmt.Sprintf("kind %v vs %v", a.Kind, b.Kind)
	}
	switch a.Kind {
	case Bool:
		if a.Bool != b.Bool {
			return fmt.Sprintf("%v vs %v", a.Bool, b.Bool)
		}
	case Number:
		na, nb := string(appendPyNumber(nil, a.Str)), string(appendPyNumber(nil, b.Str))
		if na != nb {
			return fmt.Sprintf("number %s vs %s", a.Str, b.Str)
		}
	case String:
		if a.Str != b.Str {
			return fmt.Sprintf("%q vs %q", a.Str, b.Str)
		}
	case Object:
		oa, ob := string(appendRawJSON(nil, a.Str)), string(appendRawJSON(nil, b.Str))
		if oa != ob {
			return fmt.Sprintf("object %s vs %s", oa, ob)
		}
	case List:
		if len(a.List) != len(b.List) {
			return fmt.Sprintf("list of %d vs %d", len(a.List), len(b.List))
		}
		for i := range a.List {
			if m := valueDiff(a.List[i], b.List[i]); m != "" {
				return fmt.Sprintf("item %d: %s", i, m)
			}
		}
	}
	return ""
}
