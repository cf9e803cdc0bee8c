package httpapi

import (
	"fmt"
	"net/http"
	"strings"

	"balise/internal/index"
	"balise/internal/search"
	"balise/internal/text"
)

// get is GET /get/{id}: one document as a GeoJSON Feature, by its public
// id; a BAN housenumber id ("<street id>_<number>") gives the street with
// that number attached. Addok 1.3 has no such endpoint (SPEC 1).
func (a *API) get(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	id := strings.TrimPrefix(p, "/get/")
	e, release := a.opts.Engines.Acquire()
	defer release()
	res, ok := lookupDocument(e, id)
	if !ok {
		a.fail(w, &apiError{status: http.StatusNotFound, title: "404 Not Found", desc: fmt.Sprintf("No document with id %q.", id)})
		return
	}
	buf := getBuf()
	defer putBuf(buf)
	b := append((*buf)[:0], `{"type":"Feature","geometry":{"type":"Point","coordinates":[`...)
	b = index.AppendPyFloat(b, res.Lon)
	b = append(b, ',')
	b = index.AppendPyFloat(b, res.Lat)
	b = append(b, `]},"properties":{`...)
	first := true
	for _, prop := range res.Properties() {
		if prop.Key == "score" {
			continue // nothing was scored
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = index.AppendJSONString(b, prop.Key)
		b = append(b, ':')
		b = prop.Value.AppendJSON(b)
	}
	b = append(b, "}}"...)
	*buf = b
	writeJSON(w, http.StatusOK, b)
}

func lookupDocument(e *search.Engine, id string) (*search.Result, bool) {
	ix := e.Index()
	res := &search.Result{}
	if d, ok := ix.LookupID(id); ok {
		if ix.Doc(d, &res.Doc) != nil {
			return nil, false
		}
	} else {
		i := strings.LastIndexByte(id, '_')
		if i <= 0 {
			return nil, false
		}
		d, ok := ix.LookupID(id[:i])
		if !ok || ix.Doc(d, &res.Doc) != nil {
			return nil, false
		}
		for n := 0; n < res.Doc.NumHousenumbers(); n++ {
			h, err := res.Doc.HousenumberAt(n)
			if err != nil {
				return nil, false
			}
			for _, f := range h.Payload {
				if f.Key == "id" && f.Value.First().Text() == id {
					res.Housenumber = &h
					break
				}
			}
			if res.Housenumber != nil {
				break
			}
		}
		if res.Housenumber == nil {
			return nil, false
		}
	}
	res.Lat, res.Lon = res.Doc.Lat, res.Doc.Lon
	if res.Housenumber != nil {
		res.Lat, res.Lon = res.Housenumber.Lat, res.Housenumber.Lon
	}
	profile, _ := index.ParseProfile(ix.Meta().Profile)
	res.Labels = []string{firstLabel(&res.Doc, res.Housenumber, profile)}
	return res, true
}

// firstLabel is the first label the engine would build for the document
// (SPEC 3.6). The engine keeps its label builder private; this mirrors its
// first entry for both profiles.
func firstLabel(d *index.Doc, hn *index.Housenumber, profile text.Profile) string {
	firstText := func(key string) string {
		v, ok := d.Get(key)
		if !ok || !v.Truthy() || !v.First().Truthy() {
			return ""
		}
		return v.First().Text()
	}
	name := ""
	if v, ok := d.Get("name"); ok {
		name = v.First().Text()
	}
	postcode := firstText("postcode")
	city := firstText("city")
	if profile == text.ProfileFrench {
		city = "" // the first truthy value of the list
		if v, ok := d.Get("city"); ok {
			items := []index.Value{v}
			if v.Kind == index.KindList {
				items = v.Items
			}
			for _, it := range items {
				if it.Truthy() {
					city = it.Text()
					break
				}
			}
		}
	}
	label := name
	if city != "" && city != name {
		if postcode != "" {
			label = name + " " + postcode + " " + city
		} else {
			label = name + " " + city
		}
	}
	if hn != nil {
		label = hn.Raw + " " + label
	}
	return label
}
