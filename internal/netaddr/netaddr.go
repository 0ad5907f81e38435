// Package netaddr puts prefixes in the one form the ban backends key
// them by.
package netaddr

import "net/netip"

// Canonical returns p masked, with an IPv4-mapped IPv6 prefix turned into
// its IPv4 prefix; false when p is invalid.
func Canonical(p netip.Prefix) (netip.Prefix, bool) {
	if !p.IsValid() {
		return p, false
	}
	if a := p.Addr(); a.Is4In6() {
		return netip.PrefixFrom(a.Unmap(), max(0, p.Bits()-96)).Masked(), true
	}
	return p.Masked(), true
}

// String is a's one spelling (an IPv4-mapped address as IPv4): s itself,
// without allocating, when s is already written so.
func String(a netip.Addr, s string) string {
	var buf [64]byte
	if b := a.Unmap().AppendTo(buf[:0]); string(b) != s {
		return string(b)
	}
	return s
}
