package ratelimit

import (
	"net/netip"
)

// clientKind says what a Client's id holds.
type clientKind uint8

const (
	kindUnknown clientKind = iota // the peer address could not be parsed
	kindIPv4                      // id: the address, IPv4-mapped form
	kindIPv6                      // id: the address masked to its prefix
	kindKey                       // id: a digest of the API key's name
)

// Via says how a client was identified.
type Via uint8

// The ways a client is identified.
const (
	// ViaPeer: the TCP peer, not a trusted proxy (or no header to read).
	ViaPeer Via = iota
	// ViaXForwardedFor: the first untrusted address of X-Forwarded-For.
	ViaXForwardedFor
	// ViaForwarded: the first untrusted for= of Forwarded (RFC 7239).
	ViaForwarded
	// ViaProxyFallback: the forwarding header was malformed, too long,
	// or named its client "unknown" or by an obfuscated identifier; the
	// client is the last trusted hop, the nearest address that can be
	// believed.
	ViaProxyFallback
	// ViaAPIKey: a known API key.
	ViaAPIKey
	// ViaUnknownPeer: the peer address could not be parsed (a Unix
	// socket, say); all such requests share one budget.
	ViaUnknownPeer
	numVias
)

// String is the via label of the metrics.
func (v Via) String() string {
	switch v {
	case ViaXForwardedFor:
		return "x_forwarded_for"
	case ViaForwarded:
		return "forwarded"
	case ViaProxyFallback:
		return "proxy_fallback"
	case ViaAPIKey:
		return "api_key"
	case ViaUnknownPeer:
		return "unknown_peer"
	}
	return "peer"
}

// Client is who a request is charged to: an IPv4 address, an IPv6
// prefix (a /64 by default: one subscriber's network, since a host picks
// new addresses inside it at will), or an API key. It is a small value,
// cheap to copy; the zero Client is the shared "unknown" client.
//
// A Client made by one Limiter's Identify is meant for that Limiter.
type Client struct {
	kind clientKind
	bits uint8 // IPv6 prefix length
	via  Via
	id   [16]byte
	key  *keyState
}

// clientFromAddr groups a (unmapped, zone-free) address into its client.
func clientFromAddr(a netip.Addr, v6bits int, via Via) Client {
	if !a.IsValid() {
		return Client{via: ViaUnknownPeer}
	}
	if a.Is4() {
		return Client{kind: kindIPv4, via: via, id: netip.AddrFrom4(a.As4()).As16()}
	}
	p, _ := a.Prefix(v6bits)
	return Client{kind: kindIPv6, bits: uint8(v6bits), via: via, id: p.Addr().As16()}
}

// String is the client's stable key: "ip4:192.0.2.1",
// "ip6:2001:db8:1:2::/64", "key:<name>" or "unknown". It holds an
// address, personal data: it is fit for a log line under the operator's
// privacy policy, never for a metric label (unbounded cardinality) nor a
// Redis key name (the Limiter hashes it there).
func (c Client) String() string {
	switch c.kind {
	case kindIPv4:
		return "ip4:" + netip.AddrFrom16(c.id).Unmap().String()
	case kindIPv6:
		return "ip6:" + netip.PrefixFrom(netip.AddrFrom16(c.id), int(c.bits)).String()
	case kindKey:
		return "key:" + c.key.name
	}
	return "unknown"
}

// APIKey is the name of the client's API key, "" for an address.
func (c Client) APIKey() string {
	if c.kind == kindKey {
		return c.key.name
	}
	return ""
}

// Via says how the client was identified.
func (c Client) Via() Via { return c.via }
