package cache

import (
	"fmt"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Class decides how long an answer is kept. ClassOf picks it from what
// the engine reports of the search.
type Class uint8

// Classes, in the order of their default TTLs.
const (
	ClassExact    Class = iota + 1 // an exact match: 24 h
	ClassFuzzy                     // found through fuzzy matching: 1 h
	ClassNotFound                  // no result: 5 min
	// ClassNoStore marks an answer that is served but never cached, such
	// as a search cut short by its time budget.
	ClassNoStore
)

// Outcome is what the engine reports of one search or reverse lookup,
// as much as the choice of a class needs.
type Outcome struct {
	Results     int  // results returned
	Fuzzy       bool // fuzzy matching was needed (search.Stats.Fuzzy)
	BudgetSpent bool // the time budget cut the search short (search.Stats.BudgetSpent)
}

// ClassOf is the class of an answer: a search cut short by its time
// budget is partial and never stored; then no result is a not-found, a
// fuzzy match is fuzzy (the answer most likely to improve when the index
// is rebuilt), anything else is exact.
func ClassOf(o Outcome) Class {
	switch {
	case o.BudgetSpent:
		return ClassNoStore
	case o.Results == 0:
		return ClassNotFound
	case o.Fuzzy:
		return ClassFuzzy
	}
	return ClassExact
}

// String returns the class's metric label.
func (c Class) String() string {
	switch c {
	case ClassExact:
		return "exact"
	case ClassFuzzy:
		return "fuzzy"
	case ClassNotFound:
		return "not_found"
	case ClassNoStore:
		return "no_store"
	}
	return "unknown"
}

// Tier says where an answer came from.
type Tier uint8

// Tiers; TierNone is a miss (the answer was computed).
const (
	TierNone Tier = iota
	TierL1
	TierL2
)

// String returns the tier's label, as used in metrics and access logs.
func (t Tier) String() string {
	switch t {
	case TierL1:
		return "l1"
	case TierL2:
		return "l2"
	}
	return "miss"
}

// TTLs holds the lifetime of each class.
type TTLs struct {
	Exact    time.Duration
	Fuzzy    time.Duration
	NotFound time.Duration
}

// Of returns the TTL of a class; 0 means "do not store".
func (t TTLs) Of(c Class) time.Duration {
	switch c {
	case ClassExact:
		return t.Exact
	case ClassFuzzy:
		return t.Fuzzy
	case ClassNotFound:
		return t.NotFound
	}
	return 0
}

// Config configures both tiers. Start from DefaultConfig: its zero value
// disables L1.
type Config struct {
	// MaxBytes bounds L1: the sum over entries of len(key) + len(value) +
	// EntryOverhead. 0 disables L1 (every lookup goes to L2 or computes).
	MaxBytes int64
	// EntryOverhead is the per-entry bookkeeping charged by the weigher
	// (otter node, slice and string headers, map slot), in bytes.
	EntryOverhead int
	// TTL per class, for both tiers.
	TTL TTLs

	// RedisURL enables L2: redis://[user:pass@]host:port[/db] or rediss://
	// for one node; several ?addr=host:port parameters (go-redis'
	// ParseClusterURL syntax) or RedisCluster select Cluster mode.
	RedisURL     string
	RedisCluster bool
	// RedisTimeout bounds each L2 read, including waiting for a pooled
	// connection or dialling one. It is what a request pays, at most, for
	// a Redis that stopped answering (until the breaker opens).
	RedisTimeout time.Duration
	// RedisWriteTimeout bounds each pipelined batch of writes (off the
	// request path).
	RedisWriteTimeout time.Duration
	// RedisPoolSize is the connection pool size per node; 0 keeps
	// go-redis' default (10 per GOMAXPROCS).
	RedisPoolSize int
	// RedisKeyPrefix namespaces L2 keys, e.g. per deployment.
	RedisKeyPrefix string

	// BreakerFailures consecutive L2 failures open the breaker; so does a
	// failure ratio of 50 % over at least 4*BreakerFailures calls in 10 s.
	BreakerFailures int
	// BreakerOpen is how long the breaker stays open before one probe
	// call (half-open) tests Redis again.
	BreakerOpen time.Duration

	// WriteQueue is the capacity of the asynchronous L2 write queue;
	// writes beyond it are dropped and counted.
	WriteQueue int
	// WriteWorkers drain the queue, each pipelining up to WriteBatch writes.
	WriteWorkers int
	WriteBatch   int
	// CompressMin is the body size from which L2 values are
	// zstd-compressed; negative disables compression.
	CompressMin int

	// Validate, when set, checks every body read from L2 before it is
	// served or promoted into L1: Redis is shared, and whatever can write
	// to it could otherwise splice anything into balise's answers. A body
	// it rejects is a miss: counted, logged (throttled, without the error
	// text nor the body, which may hold addresses), and replaced in Redis
	// by the fresh answer or deleted. It must be safe for concurrent use
	// and fast (it runs on every L2 hit); a panic in it counts as a
	// rejection. The checksum of the L2 format catches corruption without
	// it; Validate catches well-formed values of the wrong shape.
	Validate func(body []byte) error

	// TracerProvider gives the spans of cache lookups and Redis calls;
	// nil disables them.
	TracerProvider trace.TracerProvider

	// clock replaces L1's time source in tests (TTL expiry).
	clock clock
	// beforeFlush, when set, runs at the start of every L2 write batch:
	// tests use it to make a writer fail in ways Redis cannot.
	beforeFlush func()
}

// DefaultConfig returns production defaults: 256 MiB of L1, the seed's
// TTLs (24 h / 1 h / 5 min), no L2.
func DefaultConfig() Config {
	return Config{
		MaxBytes:          256 << 20,
		EntryOverhead:     128,
		TTL:               TTLs{Exact: 24 * time.Hour, Fuzzy: time.Hour, NotFound: 5 * time.Minute},
		RedisTimeout:      10 * time.Millisecond,
		RedisWriteTimeout: 100 * time.Millisecond,
		RedisKeyPrefix:    "balise:",
		BreakerFailures:   5,
		BreakerOpen:       2 * time.Second,
		WriteQueue:        4096,
		WriteWorkers:      2,
		WriteBatch:        64,
		CompressMin:       512,
	}
}

func (c *Config) validate() error {
	switch {
	case c.MaxBytes < 0:
		return fmt.Errorf("cache max bytes must be >= 0, got %d", c.MaxBytes)
	case c.EntryOverhead < 0:
		return fmt.Errorf("cache entry overhead must be >= 0, got %d", c.EntryOverhead)
	case c.TTL.Exact < 0 || c.TTL.Fuzzy < 0 || c.TTL.NotFound < 0:
		return fmt.Errorf("cache TTLs must be >= 0, got %+v", c.TTL)
	}
	if c.RedisURL == "" {
		return nil
	}
	switch {
	case c.RedisTimeout <= 0:
		return fmt.Errorf("redis timeout must be > 0, got %s (try 10ms)", c.RedisTimeout)
	case c.RedisWriteTimeout <= 0:
		return fmt.Errorf("redis write timeout must be > 0, got %s (try 100ms)", c.RedisWriteTimeout)
	case c.BreakerFailures <= 0:
		return fmt.Errorf("breaker failures must be > 0, got %d", c.BreakerFailures)
	case c.BreakerOpen <= 0:
		return fmt.Errorf("breaker open duration must be > 0, got %s", c.BreakerOpen)
	case c.WriteQueue <= 0 || c.WriteWorkers <= 0 || c.WriteBatch <= 0:
		return fmt.Errorf("redis write queue, workers and batch must be > 0, got %d, %d, %d",
			c.WriteQueue, c.WriteWorkers, c.WriteBatch)
	}
	return nil
}
