package ratelimit

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"balise/internal/testutil"
)

// costSample gates the cost checks of the fuzz targets: timing every
// input would make the fuzzing crawl.
var costSample = testutil.NewSample(2000)

func FuzzIdentify(f *testing.F) {
	f.Add("10.1.2.3:1", "198.51.100.1, 10.9.9.9", "", uint8(HeaderXForwardedFor))
	f.Add("10.1.2.3:1", "", `for="[2001:db8::1]:4711";proto=https, for=10.9.9.9`, uint8(HeaderForwarded))
	f.Add("[2001:db8:ffff::1]:80", "unknown", "for=_hidden", uint8(HeaderPreferForwarded))
	f.Add("203.0.113.7:1", "1.2.3.4", "for=1.2.3.4", uint8(HeaderForwarded))
	l := identifyLimiter(f, HeaderXForwardedFor)
	modes := [3]*Limiter{l, identifyLimiter(f, HeaderForwarded), identifyLimiter(f, HeaderPreferForwarded)}
	f.Fuzz(func(t *testing.T, remote, xff, fwd string, mode uint8) {
		l := modes[int(mode)%len(modes)]
		r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
		r.Header.Set("X-Forwarded-For", xff)
		r.Header.Add("Forwarded", fwd)
		c, err := l.Identify(r)
		if err != nil {
			t.Fatalf("Identify failed for an address: %v", err)
		}
		if again, _ := l.Identify(r); again != c {
			t.Fatalf("Identify not deterministic: %s then %s", c, again)
		}
		if peer, ok := parsePeer(remote); ok && !l.ident.trusted.contains(peer) {
			if want := clientFromAddr(peer, DefaultIPv6PrefixBits, ViaPeer); c != want {
				t.Fatalf("untrusted peer %s: headers believed, client %s", peer, c)
			}
		}
		_ = c.String()
		if costSample.Next() {
			testutil.CheckLinearCost(t, 8, 5, func(k int) {
				big := &http.Request{RemoteAddr: "10.1.2.3:1", Header: http.Header{}}
				big.Header.Set("X-Forwarded-For", strings.Repeat(xff+",", k))
				big.Header.Set("Forwarded", strings.Repeat(fwd+",", k))
				for range 100 {
					l.Identify(big)
				}
			})
		}
	})
}

func FuzzParseKeys(f *testing.F) {
	f.Add([]byte("partner correct-horse-battery-staple rate=200 burst=400\n# comment\n"))
	f.Add([]byte("b sha256:8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92 batch-rate=0.5 batch-burst=3\n"))
	f.Add([]byte("k1 a-perfectly-fine-key-1\nk1 a-perfectly-fine-key-2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseKeys(bytes.NewReader(data))
		if err != nil {
			if bytes.Contains(data, []byte("\n")) && !strings.HasPrefix(err.Error(), "keys line ") {
				t.Fatalf("error without a line number: %v", err)
			}
			return
		}
		names := map[string]bool{}
		for _, k := range keys {
			if !validKeyName(k.Name) || names[k.Name] {
				t.Fatalf("bad or duplicate name %q accepted", k.Name)
			}
			names[k.Name] = true
		}
		// What parses, a limiter takes (or refuses with an error).
		if l, err := New(Config{Keys: keys, KeyHeader: "X-Api-Key", SweepInterval: -1}, nil); err == nil {
			l.Close()
		}
		if costSample.Next() {
			testutil.CheckLinearCost(t, 8, 5, func(k int) {
				for range 20 {
					ParseKeys(bytes.NewReader(bytes.Repeat(append(data, '\n'), k)))
				}
			})
		}
	})
}

func FuzzParseTrustedProxies(f *testing.F) {
	f.Add("10.0.0.0/8, 192.168.1.1, 2001:db8::/32")
	f.Add("::ffff:172.16.0.0/108,,fe80::1")
	f.Add("10.1.2.3/8 , 0.0.0.0/0")
	f.Fuzz(func(t *testing.T, s string) {
		prefixes, err := ParseTrustedProxies(s)
		if err != nil {
			return
		}
		parts := make([]string, len(prefixes))
		for i, p := range prefixes {
			if !p.IsValid() || p != p.Masked() || p.Bits() == 0 || p.Addr().Is4In6() || p.Addr().Zone() != "" {
				t.Fatalf("ParseTrustedProxies(%q) gave %v", s, p)
			}
			parts[i] = p.String()
		}
		again, err := ParseTrustedProxies(strings.Join(parts, ","))
		if err != nil || len(again) != len(prefixes) {
			t.Fatalf("round trip of %q: %v, %v", s, again, err)
		}
		for i := range again {
			if again[i] != prefixes[i] {
				t.Fatalf("round trip of %q: %v then %v", s, prefixes, again)
			}
		}
		if _, err := newTrustSet(prefixes); err != nil {
			t.Fatalf("trust set refuses %v: %v", prefixes, err)
		}
		if costSample.Next() {
			testutil.CheckLinearCost(t, 8, 5, func(k int) {
				for range 20 {
					ParseTrustedProxies(strings.Repeat(s+",", k))
				}
			})
		}
	})
}
