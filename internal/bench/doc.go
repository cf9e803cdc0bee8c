// Package bench is balise's load generator, the engine of `balise bench`:
// it sends geocoding requests to a running server (balise, Addok, or anything
// that speaks Addok's HTTP API) or to a search.Engine in-process, and reports
// latency percentiles from an HDR histogram, throughput, error kinds and the
// share of non-empty answers, as text, JSON or a self-contained HTML page.
//
// # Request sources
//
// Requests come from a query file (ParseQueries: request paths, full URLs,
// plain query lines, or the relevance suite's JSON lines) or are generated
// (Generate) from an Addok ndjson file or a balise index, in the formulation
// mix of the relevance suite (full address, no postcode, street and city,
// municipality, prefix, typo, abbreviation, no accents, number last, focus
// point, filters…), as keystroke prefixes for autocomplete, or as points
// around housenumbers for reverse. Generation is seeded: the same input, seed
// and count give the same list. A Sampler then picks which request the n-th
// send uses: the list in turn, or a Zipf law of parameter s, so that a cache
// in front of the engine sees the repeats real traffic has.
//
// # Open and closed loop
//
// With a rate, the run is open-loop: request i is due at start + i/rate,
// whatever happened before, and its latency is measured from that due time,
// not from when a worker got round to sending it. A server that stalls
// therefore shows the queue it built up in every later latency, instead of
// the load generator politely waiting and hiding it (Gil Tene's "coordinated
// omission"; wrk2 and Vegeta do the same). --concurrency bounds the requests
// in flight so memory stays bounded; when the bound is reached, requests
// start late and their latency still counts from their due time. Without a
// rate the run is closed-loop: N workers send back to back, which measures
// the best throughput but, by construction, not the latency users would see
// at a given load. Step mode runs open-loop steps of rising rate until a
// latency percentile crosses the SLO and reports the highest rate that held.
//
// # Bounds
//
// A run always stops: at its duration (requests still in flight get the
// timeout to finish, then are cancelled), at its request count, or when its
// context is cancelled; the partial result is still reported. Memory is
// fixed: histograms have a fixed size, the timeline is coarsened past a few
// thousand points, query lists are capped. HTTP targets must be loopback
// (checked on the URL and again on every dialled address) unless AllowRemote
// is set, so that a typo cannot load-test somebody else's server.
package bench
