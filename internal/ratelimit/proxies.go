package ratelimit

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// maxTrustedProxies bounds the --trusted-proxies list: far more than the
// published ranges of any load balancer or CDN, few enough to stay cheap.
const maxTrustedProxies = 4096

// ParseTrustedProxies parses a comma-separated list of CIDR prefixes and
// bare addresses (a bare address is its own /32 or /128), as given to
// --trusted-proxies. Spaces around items and empty items are ignored; an
// IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) is its IPv4 prefix;
// prefixes are masked (10.1.2.3/8 is 10.0.0.0/8) and duplicates dropped.
// Zones are refused: a zone names an interface, not a range of peers.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := parseTrustedProxy(item)
		if err != nil {
			return nil, err
		}
		if len(out) == maxTrustedProxies {
			return nil, fmt.Errorf("more than %d trusted proxies: list wider prefixes", maxTrustedProxies)
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	return slices.Compact(out), nil
}

func parseTrustedProxy(item string) (netip.Prefix, error) {
	shown := item
	if len(shown) > 64 {
		shown = shown[:64] + "…"
	}
	var p netip.Prefix
	if strings.Contains(item, "/") {
		var err error
		if p, err = netip.ParsePrefix(item); err != nil {
			return p, fmt.Errorf("trusted proxy %q: want a CIDR prefix (10.0.0.0/8, 2001:db8::/32) or an address", shown)
		}
	} else {
		a, err := netip.ParseAddr(item)
		if err != nil || a.Zone() != "" {
			return p, fmt.Errorf("trusted proxy %q: want a CIDR prefix (10.0.0.0/8, 2001:db8::/32) or an address", shown)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() {
		if p.Bits() < 96 {
			return p, fmt.Errorf("trusted proxy %q: an IPv4-mapped prefix needs at least 96 bits", shown)
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	if p.Bits() == 0 {
		return p, errTrustEverything
	}
	return p.Masked(), nil
}

// trustSet answers "is this address a trusted proxy?": by scanning the
// prefixes of the address's family when they are few (the usual case, and
// the fastest), otherwise in one map lookup per distinct prefix length,
// whatever the number of prefixes.
type trustSet struct {
	list4, list6 []netip.Prefix
	set          map[netip.Prefix]struct{}
	bits4        []int // distinct prefix lengths of the IPv4 prefixes
	bits6        []int
}

// maxTrustScan is the longest list scanned rather than looked up.
const maxTrustScan = 16

var errTrustEverything = errors.New("trusted proxies cover every address (0.0.0.0/0 or ::/0): any client could then choose its own identity")

func newTrustSet(prefixes []netip.Prefix) (trustSet, error) {
	t := trustSet{set: make(map[netip.Prefix]struct{}, len(prefixes))}
	for _, p := range prefixes {
		if !p.IsValid() {
			return t, fmt.Errorf("invalid trusted proxy prefix %v", p)
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return t, fmt.Errorf("trusted proxy %v: an IPv4-mapped prefix needs at least 96 bits", p)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		p = netip.PrefixFrom(p.Addr().WithZone(""), p.Bits()).Masked()
		if p.Bits() == 0 {
			return t, errTrustEverything
		}
		if _, dup := t.set[p]; dup {
			continue
		}
		t.set[p] = struct{}{}
		if p.Addr().Is4() {
			t.list4, t.bits4 = append(t.list4, p), appendUnique(t.bits4, p.Bits())
		} else {
			t.list6, t.bits6 = append(t.list6, p), appendUnique(t.bits6, p.Bits())
		}
	}
	return t, nil
}

func appendUnique(s []int, v int) []int {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// contains reports whether a (unmapped, without zone) is trusted.
func (t *trustSet) contains(a netip.Addr) bool {
	list, bits := t.list6, t.bits6
	if a.Is4() {
		list, bits = t.list4, t.bits4
	}
	if len(list) <= maxTrustScan {
		for _, p := range list {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	for _, b := range bits {
		p, err := a.Prefix(b)
		if err != nil {
			continue
		}
		if _, ok := t.set[p]; ok {
			return true
		}
	}
	return false
}
