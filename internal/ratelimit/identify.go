package ratelimit

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// ErrUnknownKey is returned by [Limiter.Identify] for a request whose key
// header holds no known key (or several values): the server answers 401.
// The key itself never appears in the error.
var ErrUnknownKey = errors.New("unknown API key")

// ProxyHeader says which forwarding header a trusted proxy's request is
// read from.
type ProxyHeader uint8

// The forwarding header modes. Read the header your proxies write, and
// only that one: a proxy passes the headers it does not manage through
// untouched, so a client behind a proxy that appends to X-Forwarded-For
// can send a Forwarded header of its own, and a limiter reading
// Forwarded would believe it.
const (
	// HeaderXForwardedFor reads X-Forwarded-For only (the default: what
	// nginx, HAProxy, Traefik and the cloud load balancers write).
	HeaderXForwardedFor ProxyHeader = iota
	// HeaderForwarded reads Forwarded (RFC 7239) only.
	HeaderForwarded
	// HeaderPreferForwarded reads Forwarded when the request has one and
	// X-Forwarded-For otherwise. Safe only if every trusted proxy writes
	// Forwarded or strips the one it receives.
	HeaderPreferForwarded
)

// ParseProxyHeader parses the name of a ProxyHeader mode:
// "x-forwarded-for", "forwarded" or "prefer-forwarded".
func ParseProxyHeader(s string) (ProxyHeader, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "x-forwarded-for", "xff":
		return HeaderXForwardedFor, nil
	case "forwarded":
		return HeaderForwarded, nil
	case "prefer-forwarded":
		return HeaderPreferForwarded, nil
	}
	return 0, fmt.Errorf("unknown proxy header mode %q (want x-forwarded-for, forwarded or prefer-forwarded)", truncated(s))
}

// String is the mode's name, as ParseProxyHeader reads it.
func (p ProxyHeader) String() string {
	switch p {
	case HeaderForwarded:
		return "forwarded"
	case HeaderPreferForwarded:
		return "prefer-forwarded"
	}
	return "x-forwarded-for"
}

// Bounds of the walk through forwarding headers: a chain of proxies is a
// handful of hops, so whatever lies further left than maxHops entries, or
// in an entry longer than these, is not looked at. The cost of
// identifying a request is thereby capped, however long its headers.
const (
	maxHops          = 32
	maxXFFEntry      = 128  // "[IPv6%zone]:port" fits
	maxForwardedPair = 1024 // for=…;by=…;host=…;proto=…
)

// identifier turns a request's peer address and forwarding headers into
// a Client.
type identifier struct {
	trusted trustSet
	header  ProxyHeader
	v6bits  int
}

// fromRequest identifies the client of an unkeyed request.
func (id *identifier) fromRequest(remoteAddr string, h http.Header) Client {
	peer, ok := parsePeer(remoteAddr)
	if !ok {
		return Client{via: ViaUnknownPeer}
	}
	if !id.trusted.contains(peer) {
		return clientFromAddr(peer, id.v6bits, ViaPeer)
	}
	addr, via := id.forwarded(peer, h)
	return clientFromAddr(addr, id.v6bits, via)
}

// forwarded walks the forwarding header of a request from a trusted peer.
func (id *identifier) forwarded(peer netip.Addr, h http.Header) (netip.Addr, Via) {
	fwd := h.Values("Forwarded")
	switch {
	case id.header == HeaderForwarded, id.header == HeaderPreferForwarded && present(fwd):
		return walk(peer, fwd, &id.trusted, nextForwarded, ViaForwarded)
	}
	return walk(peer, h.Values("X-Forwarded-For"), &id.trusted, nextXFF, ViaXForwardedFor)
}

// present reports whether a header has a line that is not blank.
func present(lines []string) bool {
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			return true
		}
	}
	return false
}

// hop is one entry of a forwarding header, read from the right.
type hop struct {
	addr netip.Addr
	// last: no entry left of this one.
	last bool
	// empty: an empty list element, skipped.
	empty bool
	// opaque: "unknown" or an obfuscated identifier: a proxy that does
	// not know, or will not tell, its peer.
	opaque bool
}

// nextFunc reads the entry ending at line[:end] and returns it with the
// end of the entry before it; ok is false when the entry is malformed.
type nextFunc func(line string, end int) (h hop, before int, ok bool)

// walk reads header lines from the right, skipping trusted proxies: the
// first untrusted address is the client. A malformed or opaque entry, or
// a chain longer than maxHops, stops the walk at the last trusted hop,
// the nearest address that can be believed.
func walk(peer netip.Addr, lines []string, trusted *trustSet, next nextFunc, via Via) (netip.Addr, Via) {
	last, hops, moved := peer, 0, false
	for i := len(lines) - 1; i >= 0; i-- {
		line := lines[i]
		for end := len(line); end >= 0; {
			if hops++; hops > maxHops {
				return last, ViaProxyFallback
			}
			h, before, ok := next(line, end)
			switch {
			case !ok || h.opaque:
				return last, ViaProxyFallback
			case !h.empty:
				if !trusted.contains(h.addr) {
					return h.addr, via
				}
				last, moved = h.addr, true
			}
			if h.last {
				break
			}
			end = before
		}
	}
	if !moved {
		return peer, ViaPeer
	}
	return last, via
}

// nextXFF reads one X-Forwarded-For entry: an address, with or without a
// port ("192.0.2.1:4711", "[2001:db8::1]:4711"), or "unknown".
func nextXFF(line string, end int) (hop, int, bool) {
	start := end - 1
	for start >= 0 && line[start] != ',' {
		if end-start > maxXFFEntry {
			return hop{}, 0, false
		}
		start--
	}
	h := hop{last: start < 0}
	entry := strings.TrimSpace(line[start+1 : end])
	switch {
	case entry == "":
		h.empty = true
		return h, start, true
	case strings.EqualFold(entry, "unknown"):
		h.opaque = true
		return h, start, true
	}
	a, ok := parseNode(entry)
	h.addr = a
	return h, start, ok
}

// parseNode parses an address with an optional port, brackets around
// IPv6 optional without a port, the zone dropped and IPv4-mapped IPv6
// unmapped.
func parseNode(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		if inner, ok := strings.CutPrefix(s, "["); ok && strings.HasSuffix(inner, "]") {
			a, err = netip.ParseAddr(inner[:len(inner)-1])
		} else {
			var ap netip.AddrPort
			ap, err = netip.ParseAddrPort(s)
			a = ap.Addr()
		}
		if err != nil {
			return netip.Addr{}, false
		}
	}
	return a.WithZone("").Unmap(), true
}

// parsePeer parses http.Request.RemoteAddr ("ip:port").
func parsePeer(remoteAddr string) (netip.Addr, bool) {
	if len(remoteAddr) > maxXFFEntry {
		return netip.Addr{}, false
	}
	if ap, err := netip.ParseAddrPort(remoteAddr); err == nil {
		return ap.Addr().WithZone("").Unmap(), true
	}
	return parseNode(remoteAddr)
}

// keyed identifies a request carrying the key header.
func (l *Limiter) keyed(values []string) (Client, error) {
	if len(values) != 1 || len(values[0]) > maxHeaderKey {
		return Client{}, ErrUnknownKey
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(values[0])))
	ks := l.keys.Load().byHash[sum]
	// The lookup is by digest, so its timing tells nothing usable about
	// the key; the comparison is constant-time all the same.
	if ks == nil || subtle.ConstantTimeCompare(ks.hash[:], sum[:]) != 1 {
		return Client{}, ErrUnknownKey
	}
	return Client{kind: kindKey, via: ViaAPIKey, id: ks.id, key: ks}, nil
}

// truncated shortens a fragment of configuration for an error message.
func truncated(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
