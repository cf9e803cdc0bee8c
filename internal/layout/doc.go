// Package layout holds no code: its test is the import rules of balise's
// packages, checked on every `go test`, so the architecture holds by test
// rather than by discipline.
//
// The rules are "never" rules, each keeping a package usable and testable
// without the layers above it:
//
//   - internal/text imports no internal/index: the text pipeline is the
//     same at import and at query time and knows nothing of storage;
//   - internal/index imports no internal/search: the file format does not
//     depend on how it is queried;
//   - internal/search imports neither HTTP (net/http, internal/httpapi) nor
//     internal/cache nor internal/telemetry: the engine answers a Query in
//     process (the CLI, the CSV pipeline and the benchmarks call it without
//     a server), and caching, logs and metrics wrap it from outside;
//   - internal/source and internal/ban import no internal/index: the input
//     side produces documents and knows nothing of the file they go into;
//   - the leaves (internal/geo, internal/pyjs, internal/text, internal/progress,
//     internal/memlimit, internal/admission, internal/ratelimit,
//     internal/cache, internal/telemetry) import nothing of balise.
//
// A rule holds through the whole dependency graph: search may not reach
// net/http through index either. The test reads the import declarations of
// every non-test Go file of the module with go/parser (build tags ignored,
// so a file for another platform counts too).
package layout
