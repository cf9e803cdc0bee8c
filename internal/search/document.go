package search

import (
	"fmt"
	"strings"
)

// Document returns one stored document as a result, by its public id. A
// housenumber id gives its street with that number attached: BAN ids are
// "<street id>_<number>…", so the street is found by the id's prefixes and
// the number by its own id. The result has labels but no score.
func (e *Engine) Document(id string) (*Result, bool, error) {
	ix := e.ix
	r := &Result{}
	if d, ok := ix.LookupID(id); ok {
		if err := ix.Doc(d, &r.Doc); err != nil {
			return nil, false, err
		}
	} else {
		found := false
		for i := strings.LastIndexByte(id, '_'); i > 0 && !found; i = strings.LastIndexByte(id[:i], '_') {
			d, ok := ix.LookupID(id[:i])
			if !ok {
				continue
			}
			if err := ix.Doc(d, &r.Doc); err != nil {
				return nil, false, err
			}
			for n := 0; n < r.Doc.NumHousenumbers() && !found; n++ {
				h, err := r.Doc.HousenumberAt(n)
				if err != nil {
					return nil, false, fmt.Errorf("document %q: %w", id, err)
				}
				for _, f := range h.Payload {
					if f.Key == "id" && f.Value.First().Text() == id {
						r.Housenumber = &h
						found = true
						break
					}
				}
			}
		}
		if !found {
			return nil, false, nil
		}
	}
	r.Lat, r.Lon = r.Doc.Lat, r.Doc.Lon
	if r.Housenumber != nil {
		r.Lat, r.Lon = r.Housenumber.Lat, r.Housenumber.Lon
	}
	r.publicID = firstText(&r.Doc, "id")
	r.Labels = e.makeLabels(r)
	r.noScore = true
	return r, true, nil
}
