package cli

import (
	"net/url"
	"strings"
	"testing"

	"balise/internal/testutil"
)

// FuzzByteSize: a size flag either parses to a non-negative byte count or
// is refused with an error naming the value; it never panics or wraps.
func FuzzByteSize(f *testing.F) {
	for _, s := range []string{"50MB", "64KiB", "1048576", "1.5GB", " 2 M ", "", "MB", "1e9", "-5", "99999999999999999999GB", "0.0000001K"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b byteSize
		if err := b.Set(s); err != nil {
			if !strings.Contains(err.Error(), "size") {
				t.Fatalf("error does not say what it refused: %v", err)
			}
			return
		}
		if b < 0 {
			t.Fatalf("%q parsed to %d", s, b)
		}
	})
}

// FuzzRedisURL: --redis-url, one URL or a comma-separated Cluster list,
// never panics, yields a URL with a scheme (or none when no node is listed), and costs linear time in the
// number of nodes listed.
func FuzzRedisURL(f *testing.F) {
	for _, s := range []string{"127.0.0.1:6379", "redis://:pw@h:1/2", "a:1,b:2,c:3", "rediss://u:p@a:1?x=1,redis://b:2/0", ",,,", " , a:1", "redis://[::1]:6379", "@@@,///,???"} {
		f.Add(s)
	}
	sample := testutil.NewSample(64)
	f.Fuzz(func(t *testing.T, s string) {
		u, cluster := redisURLOf(s)
		if u != "" && !strings.Contains(u, "://") {
			t.Fatalf("redisURLOf(%q) = %q without a scheme", s, u)
		}
		if cluster && !strings.Contains(s, ",") {
			t.Fatalf("redisURLOf(%q): cluster without a list", s)
		}
		if sample.Next() {
			node := url.PathEscape(s[:min(len(s), 16)])
			testutil.CheckLinearCost(t, 32, 6, func(k int) {
				redisURLOf(strings.Repeat("h:1,"+node+",", 100*k))
			})
		}
	})
}
