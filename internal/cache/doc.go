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
// strings, filters sorted). Points (a search's focus, a reverse point) are
// keyed exactly: rounding them to a grid would serve one point's answer
// for another (see [KeyConfig]).
//
// In Redis the key is hashed (SHA-256, 128 bits kept) under a prefix: keys
// stay short, Cluster spreads them evenly, and query text never appears in
// the key space (MONITOR, SCAN, slowlog).
//
// # TTL classes
//
// ClassOf says which class an answer belongs to: exact matches live
// 24 h, fuzzy answers 1 h (a fuzzy match is the one most likely to improve
// when the index is rebuilt), not-found 5 min (so a missing street does not
// stick once it is imported). [ClassNoStore] answers are returned but not
// cached: a search cut short by its time budget is partial and must not be
// replayed. Both tiers use the same TTL; an entry promoted from L2 to L1
// keeps the expiry written in its L2 header, capped at its class's TTL (a
// value whose expiry lies further ahead than that, beyond a minute of
// clock skew, is refused).
//
// # L2 value format
//
// Each Redis value is a 16-byte header followed by the body:
//
//	offset size field
//	0      1    magic 0xBA
//	1      1    format version (2)
//	2      1    flags: bit 0 = body is zstd-compressed
//	3      1    class
//	4      4    expiry, Unix seconds, little endian
//	8      4    length of the uncompressed body, little endian
//	12     4    CRC-32C of bytes 0-11 and the uncompressed body, little endian
//	16     ...  body
//
// Bodies of Config.CompressMin bytes or more are zstd-compressed when that
// saves space (GeoJSON answers shrink 3 to 5 times). A value with a bad
// magic, an unknown version, a corrupt body or a wrong checksum is
// treated as a miss, counted (balise_cache_redis_decode_errors_total),
// deleted, and never served. Values of version 1 (the same header without
// the checksum, written by earlier releases) are plain misses: they are
// overwritten by the fresh answer or age out.
//
// # Values read from Redis are not trusted
//
// Redis is shared: anything able to write to it could otherwise splice
// arbitrary bytes into balise's answers. The checksum catches corruption;
// Config.Validate, when set, checks the body's structure on every L2 hit
// before it is served or promoted; a value that fails, or whose expiry is
// absurd, is a miss (balise_cache_redis_invalid_total), logged throttled
// by its hashed key and size only, and replaced by the fresh answer or
// deleted.
//
// # Singleflight
//
// [Cache.Do] funnels concurrent misses of one key through
// golang.org/x/sync/singleflight: one L2 read and at most one computation
// per key at a time. If the leader's computation fails because the
// leader's own context ended, followers whose contexts are still alive
// compute for themselves rather than inherit a cancellation.
//
// # Panics
//
// A panic inside singleflight would be re-raised by x/sync on a goroutine
// of its own, which nothing can recover: the process would die. The cache
// recovers it where it happens and returns a [*PanicError] to every caller
// waiting for the key; nothing is cached. The L2 write workers recover
// their panics too (the batch is dropped, the worker goes on), and so do
// Config.Validate (the value is refused) and calls through the shared
// Redis guard. All are counted in balise_cache_panics_total{site} and
// logged, throttled.
//
// # Sharing Redis
//
// [Cache.Redis] hands the client and a guard to other components (the
// rate limiter): their calls go through the same breaker, under the same
// per-call timeout, so that one Redis outage opens one breaker for the
// whole process. [Cache.Ping], used by readiness checks, goes through it
// too: an open breaker is reported without dialling Redis, and a
// half-open one lets the check be its probe. [L2Health.Status] is the
// short classification to publish; the error itself may name hosts and
// is for the admin report only.
package cache
