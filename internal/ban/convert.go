package ban

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"balise/internal/pyjs"
	"balise/internal/source"
)

// numkey is to_addok.py's numkey(numero, rep): numero with leading zeros
// removed (when all digits), the suffix appended, spaces removed, lower
// case, "0" when empty.
func numkey(numero, rep string) string {
	n := strings.TrimFunc(numero, pyjs.IsPySpace)
	if n != "" && allDigits(n) {
		i := 0
		for i < len(n)-1 && n[i] == '0' {
			i++
		}
		n = n[i:]
	}
	k := n + strings.TrimFunc(rep, pyjs.IsPySpace)
	if strings.IndexByte(k, ' ') >= 0 {
		k = strings.ReplaceAll(k, " ", "")
	}
	k = strings.ToLower(k)
	if k == "" {
		return "0"
	}
	return strings.Clone(k)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cityFields is the commune information of a street after gazetteer lookup.
type cityFields struct {
	code, city, oldCode, oldCity string
	parent, parentName           string // arrondissement: the commune
	population                   string
	context                      string
}

// resolve computes the commune fields of a street (build_street_doc).
func (r *Reader) resolve(st *street) cityFields {
	c := cityFields{code: st.code, city: st.city, oldCode: st.oldCode, oldCity: st.oldCity}
	if r.gaz == nil {
		if a, ok := arrondissements[st.code]; ok {
			c.parent, c.parentName = a.parent, a.parentName
		}
		c.context = builtinContext(c.code)
		return c
	}
	cur := r.gaz.Current(st.code)
	if cur != nil {
		if cur.Code != st.code && st.oldCode == "" {
			// the source commune has since merged into cur: keep it as the old commune
			c.oldCode, c.oldCity = st.code, st.city
		}
		c.code = cur.Code
		c.city = cur.Name
		c.population = cur.Population
		if cur.Type == "arrondissement-municipal" && cur.Parent != "" {
			c.parent = cur.Parent
			if p := r.gaz.Lookup(cur.Parent); p != nil {
				c.parentName = p.Name
			}
		}
	}
	c.context = r.gaz.Context(c.code)
	return c
}

// muniAcc gathers, per commune code of the streets, what its municipality
// document is made of.
type muniAcc struct {
	code, name string
	line       int
	context    string
	postcodes  map[string]bool
	lats, lons []float64
}

// prepare resolves communes, the "name (old commune)" rule and builds the
// municipality documents (which need every street's points).
func (r *Reader) prepare() {
	type slugKey struct{ code, slug string }
	slugCount := map[slugKey]int{}
	slugs := make([]string, len(r.streets))
	for i, st := range r.streets {
		slugs[i] = slug(st.name)
		slugCount[slugKey{st.code, slugs[i]}]++
	}
	accs := map[string]*muniAcc{}
	var order []string // commune codes, first-seen order
	for i, st := range r.streets {
		st.resolved = r.resolve(st)
		st.forceOld = slugCount[slugKey{st.code, slugs[i]}] > 1
		code := st.resolved.code
		a := accs[code]
		if a == nil {
			a = &muniAcc{code: code, name: st.resolved.city, line: st.line, context: st.resolved.context, postcodes: map[string]bool{}}
			accs[code] = a
			order = append(order, code)
		}
		for _, pc := range st.postcodes {
			a.postcodes[pc.pc] = true
		}
		for _, h := range st.hns {
			a.lats = append(a.lats, h.lat)
			a.lons = append(a.lons, h.lon)
		}
	}
	r.stats.Streets = len(r.streets)
	if r.gaz != nil {
		r.muni = r.gazetteerMunicipalities(order, accs)
	} else {
		r.muni = streetMunicipalities(order, accs)
	}
	r.stats.Municipalities = len(r.muni)
}

// gazetteerMunicipalities is to_addok.py --municipalities covered: every
// current commune of the départements the streets are in, in gazetteer
// order, centred on its streets' points when it has any, else on the
// gazetteer's centre.
func (r *Reader) gazetteerMunicipalities(order []string, accs map[string]*muniAcc) []*source.Document {
	covered := map[string]bool{}
	for _, code := range order {
		covered[depOf(code)] = true
	}
	var out []*source.Document
	for _, cm := range r.gaz.order {
		if !covered[cm.Dep] {
			continue
		}
		a := accs[cm.Code]
		if a == nil && cm.Lat == "" {
			continue
		}
		d := &source.Document{}
		var lat, lon source.Value
		if a != nil && len(a.lats) > 0 {
			la, lo := center(a.lats, a.lons)
			lat, lon = source.FloatValue(la), source.FloatValue(lo)
			d.Line = a.line
		} else {
			la, _ := pyjs.ParsePyFloat(cm.Lat)
			lo, _ := pyjs.ParsePyFloat(cm.Lon)
			lat, lon = source.FloatValue(la), source.FloatValue(lo)
		}
		var pcs []source.Value
		for _, p := range strings.Split(cm.Postcodes, "|") {
			if p != "" {
				pcs = append(pcs, source.StringValue(p))
			}
		}
		pop := int64(0)
		if cm.Population != "" {
			if n, err := strconv.ParseInt(strings.TrimSpace(cm.Population), 10, 64); err == nil {
				pop = n
			}
		}
		d.Fields = []source.Field{
			{Key: "id", Value: source.StringValue(cm.Code)},
			{Key: "type", Value: source.StringValue("municipality")},
			{Key: "name", Value: source.StringValue(cm.Name)},
			{Key: "postcode", Value: source.Value{Kind: source.List, List: nonNil(pcs)}},
			{Key: "citycode", Value: source.StringValue(cm.Code)},
			{Key: "lat", Value: lat},
			{Key: "lon", Value: lon},
			{Key: "population", Value: source.IntValue(pop)},
			{Key: "city", Value: source.StringValue(cm.Name)},
			{Key: "context", Value: source.StringValue(cm.Context)},
			{Key: "importance", Value: source.FloatValue(importance(cm.Population, 0))},
		}
		out = append(out, d)
	}
	return out
}

// streetMunicipalities is the municipalities without a gazetteer: one per
// commune code of the streets, with the sorted postcodes of its rows.
func streetMunicipalities(order []string, accs map[string]*muniAcc) []*source.Document {
	var out []*source.Document
	for _, code := range order {
		a := accs[code]
		if len(a.lats) == 0 {
			continue
		}
		pcs := make([]string, 0, len(a.postcodes))
		for p := range a.postcodes {
			pcs = append(pcs, p)
		}
		sort.Strings(pcs)
		pv := make([]source.Value, len(pcs))
		for i, p := range pcs {
			pv[i] = source.StringValue(p)
		}
		la, lo := center(a.lats, a.lons)
		out = append(out, &source.Document{Line: a.line, Fields: []source.Field{
			{Key: "id", Value: source.StringValue(code)},
			{Key: "type", Value: source.StringValue("municipality")},
			{Key: "name", Value: source.StringValue(a.name)},
			{Key: "postcode", Value: source.Value{Kind: source.List, List: pv}},
			{Key: "citycode", Value: source.StringValue(code)},
			{Key: "lat", Value: source.FloatValue(la)},
			{Key: "lon", Value: source.FloatValue(lo)},
			{Key: "city", Value: source.StringValue(a.name)},
			{Key: "context", Value: source.StringValue(a.context)},
			{Key: "importance", Value: source.FloatValue(importance("", 0))},
		}})
	}
	return out
}

func nonNil(v []source.Value) []source.Value {
	if v == nil {
		return []source.Value{}
	}
	return v
}

// nonEmptyList is the list of the names that are not "" (an empty list when
// none is).
func nonEmptyList(names ...string) source.Value {
	var l []source.Value
	for _, s := range names {
		if s != "" {
			l = append(l, source.StringValue(s))
		}
	}
	return source.Value{Kind: source.List, List: nonNil(l)}
}

// streetDoc builds one street document (build_street_doc).
func (r *Reader) streetDoc(st *street) *source.Document {
	c := st.resolved
	name := st.name
	if st.forceOld && c.oldCity != "" {
		name = name + " (" + c.oldCity + ")"
	}
	postcode := ""
	best := 0
	for _, p := range st.postcodes { // most frequent, first seen on ties
		if p.n > best {
			postcode, best = p.pc, p.n
		}
	}
	fields := make([]source.Field, 0, 13)
	fields = append(fields,
		source.Field{Key: "id", Value: source.StringValue(st.id)},
		source.Field{Key: "type", Value: source.StringValue("street")},
		source.Field{Key: "name", Value: source.StringValue(name)},
		source.Field{Key: "postcode", Value: source.StringValue(postcode)})
	switch {
	case c.parent != "":
		fields = append(fields,
			source.Field{Key: "citycode", Value: source.ListValue(source.StringValue(c.code), source.StringValue(c.parent))},
			source.Field{Key: "city", Value: nonEmptyList(c.parentName, c.city)},
			source.Field{Key: "district", Value: source.StringValue(c.city)})
	case c.oldCode != "":
		fields = append(fields,
			source.Field{Key: "citycode", Value: source.ListValue(source.StringValue(c.code), source.StringValue(c.oldCode))},
			source.Field{Key: "city", Value: nonEmptyList(c.city, c.oldCity)},
			source.Field{Key: "oldcitycode", Value: source.StringValue(c.oldCode)},
			source.Field{Key: "oldcity", Value: source.StringValue(c.oldCity)})
	default:
		fields = append(fields,
			source.Field{Key: "citycode", Value: source.StringValue(c.code)},
			source.Field{Key: "city", Value: source.StringValue(c.city)})
	}
	lats := make([]float64, len(st.hns))
	lons := make([]float64, len(st.hns))
	for i, h := range st.hns {
		lats[i], lons[i] = h.lat, h.lon
	}
	la, lo := center(lats, lons)
	fields = append(fields,
		source.Field{Key: "context", Value: source.StringValue(c.context)},
		source.Field{Key: "lat", Value: source.FloatValue(la)},
		source.Field{Key: "lon", Value: source.FloatValue(lo)},
		source.Field{Key: "importance", Value: source.FloatValue(importance(c.population, len(st.hns)))})
	return &source.Document{Fields: fields, Housenumbers: housenumbers(st.hns), HousenumbersAt: len(fields), Line: st.line}
}

// housenumbers builds a street's housenumber entries. to_addok.py writes
// the keys id, lat, lon[, x, y]: the payload is id[, x, y] with lat and
// lon at positions 1 and 2. The payloads share one backing array.
func housenumbers(list []housenumber) []source.Housenumber {
	hns := make([]source.Housenumber, len(list))
	np := 1
	for _, h := range list {
		if h.hasXY {
			np = 3
			break
		}
	}
	payload := make([]source.Field, 0, np*len(list))
	for i, h := range list {
		start := len(payload)
		payload = append(payload, source.Field{Key: "id", Value: source.StringValue(h.id)})
		if h.hasXY {
			payload = append(payload, source.Field{Key: "x", Value: source.FloatValue(h.x)}, source.Field{Key: "y", Value: source.FloatValue(h.y)})
		}
		hns[i] = source.Housenumber{Raw: h.key, Lat: source.FloatValue(h.lat), Lon: source.FloatValue(h.lon),
			Payload: payload[start:len(payload):len(payload)], LatAt: 1, LonAt: 2}
	}
	return hns
}

// importance is to_addok.py's importance(population, n_numbers).
func importance(population string, n int) float64 {
	pop, ok := pyjs.ParsePyFloat(population)
	if !ok {
		pop = 0
	}
	return pyjs.PyRound((math.Log(1+pop/3)+math.Log(1+float64(n)))/20, 5)
}

// degToRad is computed at run time like CPython's math.radians (pi / 180.0
// in double precision), not as an exact constant.
var degToRad = func() float64 { pi := math.Pi; return pi / 180.0 }()

// center is to_addok.py's center(): mean of up to 3 points, else the point
// nearest to the mean (first one on ties), rounded to 6 decimals.
func center(lats, lons []float64) (float64, float64) {
	n := float64(len(lats))
	var slat, slon float64
	for i := range lats {
		slat += lats[i]
		slon += lons[i]
	}
	mlat, mlon := slat/n, slon/n
	if len(lats) <= 3 {
		return pyjs.PyRound(mlat, 6), pyjs.PyRound(mlon, 6)
	}
	k := math.Cos(mlat * degToRad)
	best, bestD := 0, math.Inf(1)
	for i := range lats {
		dy := lats[i] - mlat
		dx := (lons[i] - mlon) * k
		if d := dy*dy + dx*dx; d < bestD {
			best, bestD = i, d
		}
	}
	return pyjs.PyRound(lats[best], 6), pyjs.PyRound(lons[best], 6)
}
