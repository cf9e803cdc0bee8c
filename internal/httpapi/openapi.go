package httpapi

import (
	_ "embed"
	"net/http"
)

// openapiJSON describes the API; docs/openapi.json is the same file, and a
// test checks both against the running server.
//
//go:embed openapi.json
var openapiJSON []byte

// OpenAPI returns the OpenAPI 3.1 description served at /openapi.json.
func OpenAPI() []byte { return openapiJSON }

func (a *API) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, openapiJSON)
}
