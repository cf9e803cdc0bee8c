package ratelimit

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"balise/internal/testutil"
)

func TestWriteHeaders(t *testing.T) {
	interactive := Rate{PerSecond: 50, Burst: 50}
	cases := []struct {
		name                      string
		d                         Decision
		policy, limit, retryAfter string
	}{
		{"allowed", Decision{Allowed: true, Remaining: 49, ResetAfter: 20 * time.Millisecond, Policy: interactive},
			`"interactive";q=50;w=1`, `"interactive";r=49;t=1`, ""},
		{"full", Decision{Allowed: true, Remaining: 50, Policy: interactive},
			`"interactive";q=50;w=1`, `"interactive";r=50;t=1`, ""},
		{"limited", Decision{Remaining: 0, RetryAfter: 20 * time.Millisecond, ResetAfter: time.Second, Policy: interactive},
			`"interactive";q=50;w=1`, `"interactive";r=0;t=1`, "1"},
		{"batch limited", Decision{Class: Batch, Remaining: 400, RetryAfter: 1500 * time.Millisecond, ResetAfter: 6 * time.Second, Policy: Rate{PerSecond: 100, Burst: 1000}},
			`"batch";q=1000;w=10`, `"batch";r=400;t=1`, "2"},
		{"slow", Decision{Remaining: 0, RetryAfter: 2 * time.Second, ResetAfter: 2 * time.Second, Policy: Rate{PerSecond: 0.5, Burst: 1}},
			`"interactive";q=1;w=2`, `"interactive";r=0;t=2`, "2"},
		{"window rounded up", Decision{Allowed: true, Remaining: 24, ResetAfter: 100 * time.Millisecond, Policy: Rate{PerSecond: 10, Burst: 25}},
			`"interactive";q=25;w=3`, `"interactive";r=24;t=1`, ""},
		{"too large", Decision{Class: Batch, TooLarge: true, Cost: 5000, Remaining: 1000, Policy: Rate{PerSecond: 100, Burst: 1000}},
			`"batch";q=1000;w=10`, `"batch";r=1000;t=1`, ""},
		{"unlimited", Decision{Allowed: true, Source: SourceUnlimited}, "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			tc.d.WriteHeaders(h)
			if got := h.Get("RateLimit-Policy"); got != tc.policy {
				t.Errorf("RateLimit-Policy; got %q; want %q", got, tc.policy)
			}
			if got := h.Get("RateLimit"); got != tc.limit {
				t.Errorf("RateLimit; got %q; want %q", got, tc.limit)
			}
			if got := h.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After; got %q; want %q", got, tc.retryAfter)
			}
		})
	}
}

// TestHeadersOverHTTP runs the limiter in a real server on loopback: the
// client is the loopback peer, the fields reach the client, and the
// request beyond the burst is refused with Retry-After.
func TestHeadersOverHTTP(t *testing.T) {
	l := newTestLimiter(t, Config{Budgets: Budgets{Interactive: Rate{PerSecond: 1, Burst: 2}}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := l.Identify(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		d := l.Allow(r.Context(), c, Interactive, 1)
		d.WriteHeaders(w.Header())
		if !d.Allowed {
			http.Error(w, d.Reason(), http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, c.String())
	}))
	defer srv.Close()
	want := []struct {
		status      int
		body, limit string
	}{
		{200, "ip4:127.0.0.1", `"interactive";r=1;t=1`},
		{200, "ip4:127.0.0.1", `"interactive";r=0;t=1`},
		{429, "rate limit exceeded for the interactive budget (1 per second, burst 2): retry in 1 s\n", `"interactive";r=0;t=1`},
	}
	for i, w := range want {
		res := testutil.Get(t, srv.URL+"/search?q=rue")
		if res.Status != w.status || string(res.Body) != w.body || res.Header.Get("RateLimit") != w.limit ||
			res.Header.Get("RateLimit-Policy") != `"interactive";q=2;w=2` {
			t.Errorf("request %d; got %d %q %q %q", i, res.Status, res.Body, res.Header.Get("RateLimit-Policy"), res.Header.Get("RateLimit"))
		}
		if got := res.Header.Get("Retry-After"); (w.status == 429) != (got == "1") {
			t.Errorf("request %d: Retry-After %q", i, got)
		}
	}
}
