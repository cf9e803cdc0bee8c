// Package server runs the HTTP API in production: listener, timeouts,
// header limits, middlewares (request ids, panic recovery, security
// headers, compression, admission), graceful shutdown, and the engine
// holder that lets an index be swapped while requests are in flight. The
// access log, traces and HTTP metrics are telemetry's middlewares, which
// New puts inside request ids and recovery.
//
// It is also the composition root of a serving process: Build makes, from
// a ServiceConfig, the telemetry, the answer cache, the rate limiter, the
// load shedder, the memory limit, the engines and the server over them, in
// the order each needs the ones before; the serve command only turns its
// flags into that configuration, runs the Service and closes it.
//
// Middlewares are plain func(http.Handler) http.Handler composed by Chain,
// holding no global state, so that later ones slot in without touching
// the handlers.
package server
