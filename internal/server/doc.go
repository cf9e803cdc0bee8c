// Package server runs the HTTP API in production: listener, timeouts,
// header limits, middlewares (request ids, access log, panic recovery,
// compression), graceful shutdown, and the engine holder that lets an index
// be swapped while requests are in flight.
//
// Middlewares are plain func(http.Handler) http.Handler composed by Chain,
// holding no global state, so that later ones (rate limiting, load
// shedding, metrics) slot in without touching the handlers.
package server
