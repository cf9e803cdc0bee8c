// Package ratelimit gives each client of balise's public API a budget of
// requests, shared by the replicas through Redis when there is one.
//
// # What a client is
//
// A request is charged to the TCP peer address (http.Request.RemoteAddr):
// an IPv4 address as itself, an IPv6 address by its /64 (one subscriber's
// network: a host picks new addresses inside it at will, so a finer
// grouping would let it multiply its budget), an IPv4-mapped IPv6 address
// as the IPv4 address it carries. A request with a known API key in the
// configured header (Config.KeyHeader, X-Api-Key say) is charged to its
// key instead, with the key's own budgets; an unknown key is
// [ErrUnknownKey], which the server answers with 401. Keys are stored as
// their SHA-256 only and looked up by digest (see [ParseKeys] for the
// file), so that no key is compared byte by byte.
//
// A [Client] has a stable string form ("ip4:192.0.2.1",
// "ip6:2001:db8:1:2::/64", "key:<name>"), which holds personal data: it
// never becomes a metric label (unbounded cardinality) nor a Redis key
// name (hashed there, see below).
//
// # Trust in forwarding headers
//
// Behind a reverse proxy, every peer is the proxy. The client is then
// read from the forwarding header, but only when the peer is one of
// Config.TrustedProxies (--trusted-proxies; [ParseTrustedProxies]):
// anyone else's header is ignored, since a client can write any address
// in it. Each proxy appends the address of its own peer, so the header is
// walked from the right, skipping the addresses that are themselves
// trusted proxies: the first untrusted address is the client. Several
// header lines are one list, in order.
//
// Exactly one header is read, chosen by Config.ProxyHeader:
// X-Forwarded-For by default (what nginx, HAProxy, Traefik and the cloud
// load balancers write), or RFC 7239 Forwarded (for= with quoted,
// bracketed IPv6 and ports: for="[2001:db8::1]:4711"), or Forwarded when
// present and X-Forwarded-For otherwise. A proxy passes through the
// headers it does not manage: if it appends to X-Forwarded-For, a client
// behind it can send any Forwarded header, and preferring Forwarded would
// believe it. Hence the default, and the rule: configure the header your
// proxies write.
//
// A malformed entry, a for= that is "unknown" or an obfuscated identifier
// ("_hidden"), or a chain of more than 32 entries stops the walk at the
// last trusted hop, the nearest address that can be believed (the
// request is then charged to that proxy). The walk reads at most 32
// entries of bounded length from the right: identifying a request costs
// the same whatever a client piles up on the left of its headers. No
// header panics.
//
// # Budgets
//
// Each client has one budget per [Class]: Interactive (GET /search,
// /reverse, /get/{id}: one unit a request) and Batch (POST /search/csv,
// /reverse/csv, /batch: one unit per CSV row or batch item), each a
// [Rate]: PerSecond units credited per second, up to Burst held at once
// (Burst 0 is one second's worth; PerSecond 0 is unlimited). [Limiter.Allow]
// takes n units or refuses; a request costing more than the whole burst
// can never pass and is refused as TooLarge (answer 413, not "retry
// later"). [Limiter.Wait] paces a CSV stream: it sleeps until its units
// are due, a burst at a time.
//
// The algorithm is GCRA, the Generic Cell Rate Algorithm: each budget is
// one number, its theoretical arrival time (TAT), the moment it will be
// full again. Taking n units moves the TAT n emission intervals (1/rate)
// later, and is refused when that would put it more than Burst intervals
// ahead of now. This is exactly a token bucket of capacity Burst refilled
// at the rate — a bucket holding k tokens is a TAT (Burst−k) intervals
// ahead — with a single integer of state instead of a count and a time.
// The local table updates it with a compare-and-swap, without a lock per
// client; Redis runs the same algorithm (redis_rate's script), so a
// client sees the same budget whichever side decides. This is why the
// local limiter is this package's own GCRA rather than
// golang.org/x/time/rate: one algorithm on both sides, 8 bytes of state a
// client instead of a mutex and three fields, and "the budget is full"
// (TAT ≤ now) as the condition under which an entry can be dropped.
//
// The responses carry the budget in the fields of
// draft-ietf-httpapi-ratelimit-headers-10/-11 ([Decision.WriteHeaders]):
// RateLimit-Policy q = Burst, w = ceil(Burst/rate) s; RateLimit r =
// units available now, t = seconds until the next unit; Retry-After on a
// refusal, in whole seconds, rounded up.
//
// # The local table
//
// Address budgets live in a table of up to Config.MaxEntries entries
// (about a million by default, some 45 bytes each, nothing for the
// garbage collector to scan), in shards, each with its own read-write
// lock: a decision takes a shard's read lock and swaps one integer. A
// full budget is dropped from the table — a fresh entry is identical, so
// nothing is lost — by a few entries looked at on every insertion and by
// a sweep every Config.SweepInterval that works in batches. When a shard
// is full of clients that are all still active, a new client is charged
// to the overflow budget of its class (Config.Overflow, by default one
// client's budget), which all such clients share: under a flood of more
// distinct addresses than the table holds, the newcomers are throttled
// together while the clients already known keep their budgets. Overflow
// decisions are counted (source "overflow"). API keys are few and
// trusted: their budgets are kept apart and never overflow.
//
// # Sharing across replicas, and its fallback
//
// With Config.Redis, every decision is made in Redis by redis_rate's GCRA
// script, so N replicas grant one budget in all. Key names are the
// prefix (Config.RedisPrefix, "balise:rl:"; redis_rate puts "rate:" in
// front), the class, and 128 bits of an HMAC of the client under
// Config.RedisKeySecret: no address or key name appears in Redis. Set the
// same secret on every replica; without one, an IPv4 client's name can
// be reversed by hashing all 2³² addresses.
//
// Every Redis call goes through the guard given with the client (the
// cache's circuit breaker and per-call timeout). When Redis fails, is
// slow, or the breaker is open, the decision is made by this replica's
// table instead (source "fallback"): no request fails, and none waits
// longer than the guard's timeout, because of Redis. The cost is
// leniency: each replica then grants a full budget of its own, so N
// replicas grant up to N times the budget for the outage. With
// Config.FallbackReplicas = N each replica grants 1/N of the rate and of
// the burst instead, about one budget in all — if the load balancer
// spreads each client's requests evenly; a client stuck to one replica
// gets a stricter 1/N. A request larger than this share but within the
// whole budget is let through when the share is full, charging all of it.
// The local state left by an outage ages out on its own.
//
// # Sizing
//
// The national address API (api-adresse.data.gouv.fr) allows 50 requests
// per second per IP address: Interactive {50, 50} lets a client sustain
// 50/s and absorb a burst of 50. Batch budgets count rows: a 10,000-row
// CSV file at 1,000 rows/s takes 10 s; its burst bounds the largest
// /batch request (larger ones are TooLarge), while CSV uploads are paced
// with Wait whatever their size. Behind a NAT or a corporate proxy, many
// users share one address: give such partners an API key with a budget
// of its own rather than raising everyone's.
//
// # Metrics
//
// balise_ratelimit_decisions_total{class,result,source},
// balise_ratelimit_units_total{class,result},
// balise_ratelimit_identifications_total{via},
// balise_ratelimit_unknown_keys_total,
// balise_ratelimit_redis_errors_total{reason},
// balise_ratelimit_table_entries, balise_ratelimit_table_capacity,
// balise_ratelimit_table_evictions_total and
// balise_ratelimit_wait_seconds{class}, registered on the Registerer given
// to [New]. No label carries a client.
package ratelimit
