package search

import (
	"balise/internal/index"
	"balise/internal/pyjs"
)

// excludedKeys never appear in properties (Addok leaves them out too).
func excludedKey(k string) bool {
	return k == "lat" || k == "lon" || k == "_id" || k == "housenumbers"
}

// Property is one output property.
type Property struct {
	Key   string
	Value index.Value
}

// Properties returns the feature's properties in Addok's order: label,
// score, housenumber, every stored key in document order (lists reduced to
// their first value, falsy values dropped, a matched housenumber's payload
// overriding), the "<type>: name" property, then distance.
func (r *Result) Properties() []Property {
	return r.appendProperties(make([]Property, 0, 20))
}

// appendProperties is Properties appending to props: AppendFeature passes
// a buffer on its stack, so encoding a feature allocates no slice.
func (r *Result) appendProperties(props []Property) []Property {
	fields := r.Doc.Fields()
	props = append(props, Property{"label", index.Value{Kind: index.KindString, Str: r.Label()}})
	if !r.noScore {
		props = append(props, Property{"score", index.Value{Kind: index.KindFloat, Float: r.Score}})
	}
	hn := r.Housenumber
	if hn != nil {
		props = append(props, Property{"housenumber", index.Value{Kind: index.KindString, Str: hn.Raw}})
	}
	docType := ""
	name := ""
	var seen keySet
	emit := func(k string, v index.Value) {
		v = v.First()
		if v.Truthy() {
			props = append(props, Property{k, v})
		}
	}
	for _, f := range fields {
		k := f.Key
		if excludedKey(k) || !seen.add(k) {
			continue
		}
		v := f.Value
		switch k {
		case "type":
			docType = v.First().Text()
			if hn != nil {
				v = index.Value{Kind: index.KindString, Str: "housenumber"}
			}
		case "name":
			name = v.First().Text()
			if hn != nil && v.First().Truthy() {
				v = index.Value{Kind: index.KindString, Str: hn.Raw + " " + name}
			}
		}
		if hn != nil && k != "type" && k != "name" {
			for _, p := range hn.Payload {
				if p.Key == k {
					v = p.Value
					break
				}
			}
		}
		emit(k, v)
	}
	if hn != nil {
		for _, p := range hn.Payload {
			if excludedKey(p.Key) || !seen.add(p.Key) {
				continue
			}
			emit(p.Key, p.Value)
		}
	}
	if docType != "" && !seen.has(docType) && docType != "label" && docType != "score" && docType != "housenumber" && docType != "distance" {
		props = append(props, Property{docType, index.Value{Kind: index.KindString, Str: name}})
	}
	if r.HasDistance {
		props = append(props, Property{"distance", index.Value{Kind: index.KindInt, Int: int64(r.Distance)}})
	}
	return props
}

// AppendFeature appends the GeoJSON Feature of the result.
func (r *Result) AppendFeature(dst []byte) []byte {
	dst = append(dst, `{"type":"Feature","geometry":{"type":"Point","coordinates":[`...)
	dst = pyjs.AppendStrictJSONFloat(dst, r.Lon)
	dst = append(dst, ',')
	dst = pyjs.AppendStrictJSONFloat(dst, r.Lat)
	dst = append(dst, `]},"properties":{`...)
	var buf [24]Property
	for i, p := range r.appendProperties(buf[:0]) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = pyjs.AppendSafeJSONString(dst, p.Key)
		dst = append(dst, ':')
		dst = p.Value.AppendJSON(dst)
	}
	return append(dst, "}}"...)
}

// keySet is the set of property keys already seen. A document has a dozen
// fields, where a scan of a small array beats a map and allocates
// nothing; a document with many fields gets a map past smallKeys.
type keySet struct {
	n     int
	small [smallKeys]string
	m     map[string]bool
}

const smallKeys = 24

// add reports whether k was not in the set, and adds it.
func (s *keySet) add(k string) bool {
	if s.has(k) {
		return false
	}
	if s.n < smallKeys {
		s.small[s.n] = k
		s.n++
		return true
	}
	if s.m == nil {
		s.m = make(map[string]bool)
	}
	s.m[k] = true
	return true
}

func (s *keySet) has(k string) bool {
	for _, x := range s.small[:s.n] {
		if x == k {
			return true
		}
	}
	return s.m[k]
}
