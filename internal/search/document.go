package search

import (
	"strings"

	"balise/internal/index"
)

// Document returns one stored document as a result, by its public id. A
// housenumber id gives its street with that number attached: BAN ids are
// "<street id>_<number>…", so the street is found by the id's prefixes and
// the number by its own id. The result has labels but no score.
func (e *Engine) Document(id string) (res *Result, found bool, err error) {
	defer index.CatchFaults()()
	defer func() {
		if p := recover(); p != nil {
			res, found, err = nil, false, e.recovered("document", p)
		}
	}()
	if err := e.unavailable(); err != nil {
		return nil, false, err
	}
	return e.document(id)
}

// Public ids are tens of bytes (BAN: "75056_1234_00012_bis"); every "_" of
// an id is a candidate street prefix and costs a lookup, so longer ids and
// ids with more separators than any real one are not found, at no cost.
const (
	maxIDBytes    = 256
	maxIDPrefixes = 8
)

func (e *Engine) document(id string) (*Result, bool, error) {
	if len(id) > maxIDBytes {
		return nil, false, nil
	}
	ix := e.ix
	r := &Result{}
	if d, ok := ix.LookupID(id); ok {
		if err := ix.Doc(d, &r.Doc); err != nil {
			return nil, false, err
		}
	} else {
		found := false
		tries := 0
		for i := strings.LastIndexByte(id, '_'); i > 0 && !found && tries < maxIDPrefixes; i = strings.LastIndexByte(id[:i], '_') {
			tries++
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
					return nil, false, err // names the document by number, not by the id asked for
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
