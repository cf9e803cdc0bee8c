// Package httpapi is balise's HTTP API: Addok's endpoints (GET /search,
// GET /reverse, GET /health, POST /search/csv, POST /reverse/csv) with
// their exact parameters, defaults, validation messages, CORS headers and
// GeoJSON envelope (docs/api.md), plus POST /batch, GET /get/{id} and
// GET /openapi.json.
//
// Two flavours are served. Flavour Addok is Addok's own falcon app and the
// addok-csv plugin; Flavour BAN is addok-server, the front of the national
// address API (docs/api.md, "The ban flavour"): stricter validation, {"code","message"} error
// bodies, an envelope without "version", the request's Origin echoed by
// CORS, and its CSV pipeline's columns.
//
// The package translates HTTP to engine calls. It takes engines from a
// Lender for the length of each request, so that whoever owns them (package
// server) can swap the index underneath without a request ever seeing a
// closed one. It routes requests itself, from one route table (method,
// pattern, work, handler) that also names each request's route for
// telemetry and tells admission control which routes are batch work.
//
// What only a handler can see it does itself: it feeds telemetry the
// engine's stage timings, per-query statistics, CSV row counts, the
// panics it recovers and the cache-lookup and CSV-batch spans, records the cache tier, result count and query in
// telemetry's RequestInfo, and pushes a CSV transfer's connection
// deadlines as data moves (the server-wide timeouts would cut long
// files). The rest of the cross-cutting concerns (request ids, the access
// log, traces and HTTP metrics, compression, panics, admission) are
// middlewares in package server and telemetry.
package httpapi
