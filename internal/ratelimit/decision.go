package ratelimit

import (
	"strconv"
	"time"
)

// Source says which budget decided.
type Source uint8

// The decision sources.
const (
	// SourceLocal: this process's table of budgets (no Redis configured).
	SourceLocal Source = iota
	// SourceRedis: the budget shared by every replica through Redis.
	SourceRedis
	// SourceFallback: Redis is configured but did not answer in time (or
	// its breaker is open); this process's table decided alone.
	SourceFallback
	// SourceOverflow: the table was full of active clients; the client
	// was charged to the overflow budget that such clients share.
	SourceOverflow
	// SourceUnlimited: the budget is unlimited (rate 0); nothing counted.
	SourceUnlimited
	numSources
)

// String is the source label of the metrics.
func (s Source) String() string {
	switch s {
	case SourceRedis:
		return "redis"
	case SourceFallback:
		return "fallback"
	case SourceOverflow:
		return "overflow"
	case SourceUnlimited:
		return "unlimited"
	}
	return "local"
}

// Decision is the outcome of [Limiter.Allow].
type Decision struct {
	// Allowed: the units were taken and the request may proceed.
	Allowed bool
	// TooLarge: the request costs more than the whole burst, so it can
	// never pass, however long the client waits. Nothing was taken; the
	// answer is 413 (or 429) with [Decision.Reason], not a retry.
	TooLarge bool
	// Cost is the number of units asked for.
	Cost int
	// Remaining is the number of units the client could take at once
	// after this decision.
	Remaining int
	// RetryAfter is the time until the units asked for are available;
	// 0 when allowed or too large.
	RetryAfter time.Duration
	// ResetAfter is the time until the budget is full again.
	ResetAfter time.Duration
	// Policy is the budget that decided, Burst resolved (for a fallback
	// decision with Config.FallbackReplicas > 1, the replica's share).
	Policy Rate
	// Class is the budget's class, the policy name of the headers.
	Class Class
	// Source says which budget decided.
	Source Source
}

// RetryAfterSeconds is the Retry-After value of a refusal: RetryAfter in
// whole seconds, rounded up, at least 1.
func (d Decision) RetryAfterSeconds() int {
	return max(1, ceilSeconds(d.RetryAfter))
}

// Reason explains a refusal in a sentence fit for the client (it names
// the budget and the cost, nothing about the request's content); "" when
// allowed.
func (d Decision) Reason() string {
	class := d.Class.String()
	burst := strconv.Itoa(d.Policy.Burst)
	switch {
	case d.Allowed:
		return ""
	case d.TooLarge:
		return "this request costs " + strconv.Itoa(d.Cost) + " units of the " + class +
			" budget, which never holds more than " + burst + " at once: split it into requests of at most " + burst
	}
	return "rate limit exceeded for the " + class + " budget (" +
		strconv.FormatFloat(d.Policy.PerSecond, 'g', -1, 64) + " per second, burst " + burst +
		"): retry in " + strconv.Itoa(d.RetryAfterSeconds()) + " s"
}

// ceilSeconds rounds d up to whole seconds.
func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}
