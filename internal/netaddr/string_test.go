package netaddr

import (
	"net/netip"
	"testing"
	"unsafe"
)

func TestString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"2001:DB8::1", "2001:db8::1"},
		{"2001:db8:0:0::1", "2001:db8::1"},
	}
	for _, tc := range tests {
		got := String(netip.MustParseAddr(tc.in), tc.in)
		if got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if tc.in == tc.want && unsafe.StringData(got) != unsafe.StringData(tc.in) {
			t.Errorf("String(%q) copied a canonical spelling", tc.in)
		}
	}
}
