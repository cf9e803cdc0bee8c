package ratelimit

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// testProxies are the trusted proxies of the identification tests.
const testProxies = "10.0.0.0/8, 192.168.1.1, 2001:db8:ffff::/48, ::ffff:172.16.0.0/108"

func newTestLimiter(t testing.TB, cfg Config) *Limiter {
	t.Helper()
	l, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func identifyLimiter(t testing.TB, mode ProxyHeader) *Limiter {
	t.Helper()
	proxies, err := ParseTrustedProxies(testProxies)
	if err != nil {
		t.Fatal(err)
	}
	return newTestLimiter(t, Config{TrustedProxies: proxies, ProxyHeader: mode})
}

// request builds a request from remote with headers given as
// "Name: value" lines (a name repeated is several lines).
func request(remote string, headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/search?q=x", nil)
	r.RemoteAddr = remote
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		r.Header.Add(name, strings.TrimPrefix(value, " "))
	}
	return r
}

func TestIdentifyAddresses(t *testing.T) {
	cases := []struct {
		name, remote string
		headers      []string
		want         string
		via          Via
	}{
		{"ipv4", "203.0.113.7:4711", nil, "ip4:203.0.113.7", ViaPeer},
		{"ipv6 grouped by /64", "[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:4711", nil, "ip6:2001:db8:1:2::/64", ViaPeer},
		{"ipv6 same /64", "[2001:db8:1:2::1]:1", nil, "ip6:2001:db8:1:2::/64", ViaPeer},
		{"ipv6 zone dropped", "[fe80::1%eth0]:80", nil, "ip6:fe80::/64", ViaPeer},
		{"ipv4-mapped is ipv4", "[::ffff:203.0.113.7]:4711", nil, "ip4:203.0.113.7", ViaPeer},
		{"no port", "203.0.113.7", nil, "ip4:203.0.113.7", ViaPeer},
		{"unix socket", "@", nil, "unknown", ViaUnknownPeer},
		{"empty", "", nil, "unknown", ViaUnknownPeer},
		{"garbage", "not an address", nil, "unknown", ViaUnknownPeer},

		{"untrusted peer, spoofed xff ignored", "203.0.113.7:1", []string{"X-Forwarded-For: 198.51.100.1"}, "ip4:203.0.113.7", ViaPeer},
		{"untrusted peer, spoofed forwarded ignored", "203.0.113.7:1", []string{"Forwarded: for=198.51.100.1"}, "ip4:203.0.113.7", ViaPeer},
		{"trusted peer without header", "10.1.2.3:1", nil, "ip4:10.1.2.3", ViaPeer},
		{"trusted peer", "10.1.2.3:1", []string{"X-Forwarded-For: 198.51.100.1"}, "ip4:198.51.100.1", ViaXForwardedFor},
		{"trusted chain", "10.1.2.3:1", []string{"X-Forwarded-For: 198.51.100.1, 192.168.1.1, 10.9.9.9"}, "ip4:198.51.100.1", ViaXForwardedFor},
		{"client spoofs left of the real one", "10.1.2.3:1", []string{"X-Forwarded-For: 1.2.3.4, 198.51.100.1, 10.9.9.9"}, "ip4:198.51.100.1", ViaXForwardedFor},
		{"several lines in order", "10.1.2.3:1", []string{"X-Forwarded-For: 1.2.3.4, 198.51.100.1", "X-Forwarded-For: 10.9.9.9"}, "ip4:198.51.100.1", ViaXForwardedFor},
		{"lines joined without space", "10.1.2.3:1", []string{"X-Forwarded-For: 1.2.3.4,198.51.100.1,10.9.9.9"}, "ip4:198.51.100.1", ViaXForwardedFor},
		{"empty elements skipped", "10.1.2.3:1", []string{"X-Forwarded-For: 198.51.100.1,, ,10.9.9.9,"}, "ip4:198.51.100.1", ViaXForwardedFor},
		{"xff ipv6 grouped", "10.1.2.3:1", []string{"X-Forwarded-For: 2001:db8:5:6::77"}, "ip6:2001:db8:5:6::/64", ViaXForwardedFor},
		{"xff with ports", "10.1.2.3:1", []string{"X-Forwarded-For: [2001:db8:5:6::77]:4711, 10.9.9.9:80"}, "ip6:2001:db8:5:6::/64", ViaXForwardedFor},
		{"xff bracketed v6", "10.1.2.3:1", []string{"X-Forwarded-For: [2001:db8:5:6::77]"}, "ip6:2001:db8:5:6::/64", ViaXForwardedFor},
		{"xff mapped", "10.1.2.3:1", []string{"X-Forwarded-For: ::ffff:198.51.100.1"}, "ip4:198.51.100.1", ViaXForwardedFor},
		{"trusted v6 proxy", "[2001:db8:ffff:1::1]:1", []string{"X-Forwarded-For: 198.51.100.1"}, "ip4:198.51.100.1", ViaXForwardedFor},
		{"trusted via mapped prefix", "172.16.0.9:1", []string{"X-Forwarded-For: 198.51.100.1"}, "ip4:198.51.100.1", ViaXForwardedFor},
		{"trusted mapped peer", "[::ffff:10.0.0.1]:1", []string{"X-Forwarded-For: 198.51.100.1"}, "ip4:198.51.100.1", ViaXForwardedFor},
		{"all trusted: leftmost", "10.1.2.3:1", []string{"X-Forwarded-For: 10.5.5.5, 10.9.9.9"}, "ip4:10.5.5.5", ViaXForwardedFor},
		{"garbage falls back to last trusted", "10.1.2.3:1", []string{"X-Forwarded-For: 198.51.100.1, garbage, 10.9.9.9"}, "ip4:10.9.9.9", ViaProxyFallback},
		{"garbage at once falls back to peer", "10.1.2.3:1", []string{"X-Forwarded-For: 1.2.3.4.5"}, "ip4:10.1.2.3", ViaProxyFallback},
		{"unknown in xff", "10.1.2.3:1", []string{"X-Forwarded-For: unknown"}, "ip4:10.1.2.3", ViaProxyFallback},
		{"xff entry too long", "10.1.2.3:1", []string{"X-Forwarded-For: " + strings.Repeat("1", 200)}, "ip4:10.1.2.3", ViaProxyFallback},
		{"forwarded ignored in xff mode", "10.1.2.3:1", []string{"Forwarded: for=198.51.100.9"}, "ip4:10.1.2.3", ViaPeer},
		{"forwarded ignored when both", "10.1.2.3:1", []string{"Forwarded: for=198.51.100.9", "X-Forwarded-For: 198.51.100.1"}, "ip4:198.51.100.1", ViaXForwardedFor},
	}
	l := identifyLimiter(t, HeaderXForwardedFor)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := l.Identify(request(tc.remote, tc.headers...))
			if err != nil || c.String() != tc.want || c.Via() != tc.via {
				t.Errorf("Identify; got %s via %s, %v; want %s via %s", c, c.Via(), err, tc.want, tc.via)
			}
		})
	}
}

func TestIdentifyForwarded(t *testing.T) {
	many := strings.Repeat("for=10.0.0.1, ", 40) + "for=10.0.0.2"
	cases := []struct {
		name    string
		headers []string
		want    string
		via     Via
	}{
		{"ipv4", []string{"Forwarded: for=198.51.100.1"}, "ip4:198.51.100.1", ViaForwarded},
		{"case and spaces", []string{"Forwarded: For=198.51.100.1 ; proto=https"}, "ip4:198.51.100.1", ViaForwarded},
		{"quoted ipv6 with port", []string{`Forwarded: for="[2001:db8:5:6::77]:4711"`}, "ip6:2001:db8:5:6::/64", ViaForwarded},
		{"quoted ipv6 without port", []string{`Forwarded: for="[2001:db8:5:6::77]"`}, "ip6:2001:db8:5:6::/64", ViaForwarded},
		{"quoted ipv4 with port", []string{`Forwarded: for="198.51.100.1:4711"`}, "ip4:198.51.100.1", ViaForwarded},
		{"unquoted ipv6 accepted", []string{`Forwarded: for=2001:db8:5:6::77`}, "ip6:2001:db8:5:6::/64", ViaForwarded},
		{"obfuscated port", []string{`Forwarded: for="198.51.100.1:_port1"`}, "ip4:198.51.100.1", ViaForwarded},
		{"chain", []string{"Forwarded: for=198.51.100.1;proto=https, for=192.168.1.1;by=10.1.2.3, for=10.9.9.9"}, "ip4:198.51.100.1", ViaForwarded},
		{"spoofed left of the real one", []string{"Forwarded: for=1.2.3.4, for=198.51.100.1, for=10.9.9.9"}, "ip4:198.51.100.1", ViaForwarded},
		{"several lines", []string{"Forwarded: for=1.2.3.4, for=198.51.100.1", "Forwarded: for=10.9.9.9"}, "ip4:198.51.100.1", ViaForwarded},
		{"comma inside quotes", []string{`Forwarded: for=198.51.100.1;host="a,b", for=10.9.9.9`}, "ip4:198.51.100.1", ViaForwarded},
		{"escaped quote inside quotes", []string{`Forwarded: for=198.51.100.1;ext="a\",b", for=10.9.9.9`}, "ip4:198.51.100.1", ViaForwarded},
		{"unknown falls back", []string{"Forwarded: for=198.51.100.1, for=unknown, for=10.9.9.9"}, "ip4:10.9.9.9", ViaProxyFallback},
		{"obfuscated falls back", []string{"Forwarded: for=_hidden, for=10.9.9.9"}, "ip4:10.9.9.9", ViaProxyFallback},
		{"obfuscated at once", []string{"Forwarded: for=_abc-1.x"}, "ip4:10.1.2.3", ViaProxyFallback},
		{"element without for", []string{"Forwarded: proto=https;by=10.1.2.3"}, "ip4:10.1.2.3", ViaProxyFallback},
		{"for twice", []string{"Forwarded: for=198.51.100.1;for=198.51.100.2"}, "ip4:10.1.2.3", ViaProxyFallback},
		{"unterminated quote", []string{`Forwarded: for="198.51.100.1`}, "ip4:10.1.2.3", ViaProxyFallback},
		{"bad pair", []string{"Forwarded: for"}, "ip4:10.1.2.3", ViaProxyFallback},
		{"bad address", []string{"Forwarded: for=300.1.1.1"}, "ip4:10.1.2.3", ViaProxyFallback},
		{"bad port", []string{`Forwarded: for="198.51.100.1:99999x"`}, "ip4:10.1.2.3", ViaProxyFallback},
		{"ipv6 bracket unclosed", []string{`Forwarded: for="[2001:db8::1"`}, "ip4:10.1.2.3", ViaProxyFallback},
		{"too many hops", []string{"Forwarded: for=198.51.100.1, " + many}, "ip4:10.0.0.1", ViaProxyFallback},
		{"empty elements", []string{"Forwarded: for=198.51.100.1, , for=10.9.9.9,"}, "ip4:198.51.100.1", ViaForwarded},
		{"xff ignored in forwarded mode", []string{"X-Forwarded-For: 198.51.100.1"}, "ip4:10.1.2.3", ViaPeer},
	}
	l := identifyLimiter(t, HeaderForwarded)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := l.Identify(request("10.1.2.3:1", tc.headers...))
			if err != nil || c.String() != tc.want || c.Via() != tc.via {
				t.Errorf("Identify; got %s via %s, %v; want %s via %s", c, c.Via(), err, tc.want, tc.via)
			}
		})
	}
}

func TestIdentifyPreferForwarded(t *testing.T) {
	l := identifyLimiter(t, HeaderPreferForwarded)
	both := request("10.1.2.3:1", "Forwarded: for=198.51.100.9", "X-Forwarded-For: 198.51.100.1")
	if c, _ := l.Identify(both); c.String() != "ip4:198.51.100.9" || c.Via() != ViaForwarded {
		t.Errorf("both headers; got %s via %s; want Forwarded's 198.51.100.9", c, c.Via())
	}
	xff := request("10.1.2.3:1", "X-Forwarded-For: 198.51.100.1")
	if c, _ := l.Identify(xff); c.String() != "ip4:198.51.100.1" || c.Via() != ViaXForwardedFor {
		t.Errorf("X-Forwarded-For only; got %s via %s; want 198.51.100.1", c, c.Via())
	}
}

func TestParseProxyHeader(t *testing.T) {
	for _, m := range []ProxyHeader{HeaderXForwardedFor, HeaderForwarded, HeaderPreferForwarded} {
		if got, err := ParseProxyHeader(" " + strings.ToUpper(m.String())); err != nil || got != m {
			t.Errorf("ParseProxyHeader(%q); got %v, %v", m, got, err)
		}
	}
	if _, err := ParseProxyHeader("x-real-ip"); err == nil {
		t.Error("ParseProxyHeader(x-real-ip) accepted")
	}
}

func TestIdentifyIPv6Prefix(t *testing.T) {
	l := newTestLimiter(t, Config{IPv6PrefixBits: 48})
	c, _ := l.Identify(request("[2001:db8:1:2::1]:1"))
	if c.String() != "ip6:2001:db8:1::/48" {
		t.Errorf("/48 grouping; got %s", c)
	}
	if _, err := New(Config{IPv6PrefixBits: 16}, nil); err == nil {
		t.Error("IPv6PrefixBits 16 accepted")
	}
}

func TestIdentifyAPIKey(t *testing.T) {
	keys, err := ParseKeys(strings.NewReader("partner " + KeyHash("s3cret-partner-key-0001") + " rate=500\nother other-secret-key-00002\n"))
	if err != nil {
		t.Fatal(err)
	}
	l := newTestLimiter(t, Config{KeyHeader: "x-api-key", Keys: keys, Budgets: Budgets{Interactive: Rate{PerSecond: 50}}})
	c, err := l.Identify(request("203.0.113.7:1", "X-Api-Key: s3cret-partner-key-0001"))
	if err != nil || c.String() != "key:partner" || c.APIKey() != "partner" || c.Via() != ViaAPIKey {
		t.Fatalf("known key; got %s (%q) via %s, %v", c, c.APIKey(), c.Via(), err)
	}
	if d := l.Allow(t.Context(), c, Interactive, 1); d.Policy != (Rate{PerSecond: 500, Burst: 500}) {
		t.Errorf("key budget; got %+v; want its own 500/s", d.Policy)
	}
	for name, r := range map[string]*http.Request{
		"unknown":  request("203.0.113.7:1", "X-Api-Key: nope-nope-nope-nope"),
		"two keys": request("203.0.113.7:1", "X-Api-Key: s3cret-partner-key-0001", "X-Api-Key: other-secret-key-00002"),
		"huge":     request("203.0.113.7:1", "X-Api-Key: "+strings.Repeat("k", 10000)),
	} {
		if c, err := l.Identify(r); !errors.Is(err, ErrUnknownKey) || strings.Contains(err.Error(), "nope") {
			t.Errorf("%s key; got %s, %v; want ErrUnknownKey", name, c, err)
		}
	}
	if c, err := l.Identify(request("203.0.113.7:1", "X-Api-Key:  ")); err != nil || c.String() != "ip4:203.0.113.7" {
		t.Errorf("empty key header; got %s, %v; want the address", c, err)
	}
	// Keys disabled: the header means nothing.
	plain := newTestLimiter(t, Config{Keys: keys})
	if c, err := plain.Identify(request("203.0.113.7:1", "X-Api-Key: whatever")); err != nil || c.String() != "ip4:203.0.113.7" {
		t.Errorf("keys disabled; got %s, %v", c, err)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 10.1.2.3/8 ,, 192.168.1.1,2001:db8::/32, ::ffff:172.16.0.0/108, 10.0.0.0/8 ,2001:db8::1")
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, p := range got {
		s = append(s, p.String())
	}
	want := "10.0.0.0/8 172.16.0.0/12 192.168.1.1/32 2001:db8::/32 2001:db8::1/128"
	if strings.Join(s, " ") != want {
		t.Errorf("ParseTrustedProxies; got %s; want %s", strings.Join(s, " "), want)
	}
	if got, err := ParseTrustedProxies(" "); err != nil || len(got) != 0 {
		t.Errorf("empty list; got %v, %v", got, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "nope", "10.0.0.1/8/8", "fe80::1%eth0", "0.0.0.0/0", "::/0", "::ffff:1.2.3.4/90", strings.Repeat("1.1.1.1,", maxTrustedProxies+1)} {
		if _, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("ParseTrustedProxies(%.40q) accepted", bad)
		} else if len(err.Error()) > 200 {
			t.Errorf("ParseTrustedProxies(%.40q): error of %d bytes", bad, len(err.Error()))
		}
	}
}

// TestTrustSetLarge checks the map lookup used for long lists against
// the scan used for short ones.
func TestTrustSetLarge(t *testing.T) {
	var list []string
	for i := range 40 {
		list = append(list, fmt.Sprintf("10.%d.0.0/16", i), fmt.Sprintf("2001:db8:%x::/48", i))
	}
	prefixes, err := ParseTrustedProxies(strings.Join(list, ",") + ",192.168.1.1")
	if err != nil {
		t.Fatal(err)
	}
	set, err := newTrustSet(prefixes)
	if err != nil || len(set.list4) <= maxTrustScan {
		t.Fatalf("newTrustSet; got %d IPv4 prefixes, %v", len(set.list4), err)
	}
	for addr, want := range map[string]bool{
		"10.0.0.1": true, "10.39.255.255": true, "10.40.0.1": false, "192.168.1.1": true, "192.168.1.2": false,
		"2001:db8:27::1": true, "2001:db8:28::1": false, "::1": false,
	} {
		if got := set.contains(netip.MustParseAddr(addr)); got != want {
			t.Errorf("contains(%s); got %v; want %v", addr, got, want)
		}
	}
}

func TestPreferForwardedIgnoresBlankLine(t *testing.T) {
	l := identifyLimiter(t, HeaderPreferForwarded)
	c, _ := l.Identify(request("10.1.2.3:1", "Forwarded: ", "X-Forwarded-For: 198.51.100.1"))
	if c.String() != "ip4:198.51.100.1" {
		t.Errorf("blank Forwarded line; got %s; want X-Forwarded-For's client", c)
	}
}
