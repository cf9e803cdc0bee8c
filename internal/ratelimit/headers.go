package ratelimit

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// WriteHeaders sets the RateLimit-Policy and RateLimit fields of
// draft-ietf-httpapi-ratelimit-headers (revisions -10 and -11 agree on the
// syntax: an sf-list of sf-string items with integer parameters), and
// Retry-After on a refusal that a retry can cure. An unlimited budget
// sets nothing: there is no quota to advertise.
//
//	RateLimit-Policy: "interactive";q=50;w=1
//	RateLimit: "interactive";r=49;t=1
//	Retry-After: 1
//
// A GCRA budget (rate ρ, burst B) maps onto the draft's quota policy as
// q = B and w = ceil(B/ρ) seconds: a full budget holds q units and a
// client keeping to q units every w seconds is never refused (w is
// rounded up because the draft's window is whole seconds, so the
// advertised q/w never exceeds ρ).
//
// In the RateLimit field, r is Remaining, the units available at once
// now. t is the number of seconds until the next unit is credited,
// rounded up (a full budget counts as one just spent): -10 defines t as
// the time until additional quota is made available, -11 as the window
// within which the client can use no more than r, and this value
// satisfies both, since no unit is credited before it. It never exceeds
// Retry-After, as both drafts ask.
func (d Decision) WriteHeaders(h http.Header) {
	if d.Source == SourceUnlimited || d.Policy.Unlimited() {
		return
	}
	name := d.Class.String()
	buf := make([]byte, 0, 48)
	buf = append(buf, '"')
	buf = append(buf, name...)
	buf = append(buf, `";q=`...)
	buf = strconv.AppendInt(buf, int64(d.Policy.Burst), 10)
	buf = append(buf, ";w="...)
	buf = strconv.AppendInt(buf, int64(policyWindow(d.Policy)), 10)
	h.Set("RateLimit-Policy", string(buf))

	buf = append(buf[:0], '"')
	buf = append(buf, name...)
	buf = append(buf, `";r=`...)
	buf = strconv.AppendInt(buf, int64(min(max(d.Remaining, 0), d.Policy.Burst)), 10)
	buf = append(buf, ";t="...)
	buf = strconv.AppendInt(buf, int64(ceilSeconds(nextUnit(d.Policy, d.ResetAfter))), 10)
	h.Set("RateLimit", string(buf))

	if !d.Allowed && !d.TooLarge {
		h.Set("Retry-After", strconv.Itoa(d.RetryAfterSeconds()))
	}
}

// policyWindow is w: the seconds a full budget takes to refill, rounded
// up, at least 1.
func policyWindow(r Rate) int {
	return max(1, int(math.Ceil(float64(r.Burst)/r.PerSecond-1e-9)))
}

// nextUnit is the time until a budget resetAfter away from full is
// credited its next unit: budgets refill one unit per interval, so it is
// resetAfter modulo the interval, or a whole interval for a full budget.
func nextUnit(r Rate, resetAfter time.Duration) time.Duration {
	iv := r.interval()
	if m := resetAfter % iv; m > 0 {
		return m
	}
	return iv
}
