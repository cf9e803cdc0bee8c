// Package httpapi is balise's HTTP API: Addok's endpoints (GET /search,
// GET /reverse, GET /health, POST /search/csv, POST /reverse/csv) with
// their exact parameters, defaults, validation messages, CORS headers and
// GeoJSON envelope (SPEC 1, 5), plus POST /batch, GET /get/{id} and
// GET /openapi.json.
//
// Two flavours are served. Flavour Addok is Addok's own falcon app and the
// addok-csv plugin; Flavour BAN is addok-server, the front of the national
// address API (SPEC 1.8): stricter validation, {"code","message"} error
// bodies, an envelope without "version", the request's Origin echoed by
// CORS, and its CSV pipeline's columns.
//
// The package only translates HTTP to engine calls. It takes engines from a
// Lender for the length of each request, so that whoever owns them (package
// server) can swap the index underneath without a request ever seeing a
// closed one. Cross-cutting concerns (request ids, logs, compression,
// panics, timeouts) are middlewares in package server.
package httpapi
