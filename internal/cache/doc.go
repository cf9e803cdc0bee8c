// Package cache puts two tiers in front of the geocoding engine: an
// in-process L1 (otter, W-TinyLFU, bounded in bytes) and an optional Redis
// L2 (single node or Cluster) behind a circuit breaker. Both hold encoded
// response bodies ([]byte) under keys built by [Keys] from the normalised
// request.
//
// # The one rule: the cache never fails a request
//
// Redis is an optimisation, not a dependency. Every L2 call runs under a
// tight per-call deadline (Config.RedisTimeout, 10 ms by default) and
// through a sony/gobreaker breaker: after Config.BreakerFailures
// consecutive failures (or half of the calls of the last 10 s failing) the
// breaker opens and L2 is skipped outright for Config.BreakerOpen, then one
// probe call decides whether it closes again. A dead Redis therefore costs
// a handful of fast failures (connection refused) and a paused or
// black-holed one at most BreakerFailures calls of RedisTimeout each,
// spread over the concurrent requests, before the breaker opens. L2 errors
// are counted and logged (throttled) and the request falls through to the
// engine. L2 writes never sit on the request path: they go to a bounded
// queue drained by a few workers that pipeline them; a full queue drops
// the write (counted in balise_cache_redis_writes_dropped_total).
//
// # Keys
//
// A key carries the index's content version first, so a new index never
// serves an old answer (old entries simply age out by TTL), then the
// endpoint and the response flavour, then the parts of the request that
// decide the answer, in a canonical, injective encoding (length-prefixed
// strings, filters sorted). See [Keys] for the rounding of a search's focus
// point and the grid snapping of reverse points, and for the tolerance
// each implies; docs/operations.md has the measured hit-rate gain.
//
// In Redis the key is hashed (SHA-256, 128 bits kept) under a prefix: keys
// stay short, Cluster spreads them evenly, and query text never appears in
// the key space (MONITOR, SCAN, slowlog).
//
// # TTL classes
//
// The caller says which class an answer belongs to: exact matches live
// 24 h, fuzzy answers 1 h (a fuzzy match is the one most likely to improve
// when the index is rebuilt), not-found 5 min (so a missing street does not
// stick once it is imported). [ClassNoStore] answers are returned but not
// cached: a search cut short by its time budget is partial and must not be
// replayed. Both tiers use the same TTL; an entry promoted from L2 to L1
// keeps the expiry written in its L2 header.
//
// # L2 value format
//
// Each Redis value is a 12-byte header followed by the body:
//
//	offset size field
//	0      1    magic 0xBA
//	1      1    format version (1)
//	2      1    flags: bit 0 = body is zstd-compressed
//	3      1    class
//	4      4    expiry, Unix seconds, little endian
//	8      4    length of the uncompressed body, little endian
//	12     ...  body
//
// Bodies of Config.CompressMin bytes or more are zstd-compressed when that
// saves space (GeoJSON answers shrink 3 to 5 times). A value with a bad
// magic, an unknown version or a corrupt body is treated as a miss and
// counted (balise_cache_redis_decode_errors_total), never served.
//
// # Singleflight
//
// [Cache.Do] funnels concurrent misses of one key through
// golang.org/x/sync/singleflight: one L2 read and at most one computation
// per key at a time. If the leader's computation fails because the
// leader's own context ended, followers whose contexts are still alive
// compute for themselves rather than inherit a cancellation.
package cache
