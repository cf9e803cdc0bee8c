// Package server runs the HTTP API in production: listener, timeouts,
// header limits, middlewares (request ids, panic recovery, security
// headers, compression, admission), graceful shutdown, and the engine
// holder that lets an index be swapped while requests are in flight. The
// access log, traces and HTTP metrics are telemetry's middlewares, which
// New puts inside request ids and recovery.
//
// Middlewares are plain func(http.Handler) http.Handler composed by Chain,
// holding no global state, so that later ones slot in without touching
// the handlers.
package server
