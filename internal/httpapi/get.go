package httpapi

import (
	"fmt"
	"net/http"
	"strings"
)

// get is GET /get/{id}: one document as a GeoJSON Feature, by its public
// id; a BAN housenumber id ("<street id>_<number>") gives the street with
// that number attached. Addok 1.3 has no such endpoint (docs/api.md).
func (a *API) get(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	id := strings.TrimPrefix(p, "/get/")
	e, release := a.opts.Engines.Acquire()
	defer release()
	res, ok, err := e.Document(id)
	if err != nil {
		a.engineError(w, r, err)
		return
	}
	if !ok {
		a.fail(w, &apiError{status: http.StatusNotFound, title: "404 Not Found", desc: fmt.Sprintf("No document with id %q.", id)})
		return
	}
	buf := getBuf()
	defer putBuf(buf)
	b := res.AppendFeature((*buf)[:0])
	*buf = b
	a.cacheable(w)
	writeJSON(w, http.StatusOK, b)
}
