// Package packet builds Ethernet frames for tests and benchmarks: UDP over
// IPv4 or IPv6, with VLAN tags and IPv6 extension headers.
package packet

import (
	"encoding/binary"
	"net/netip"
)

// EtherTypes used in frames.
const (
	EtherIPv4   = 0x0800
	EtherIPv6   = 0x86dd
	Ether8021Q  = 0x8100
	Ether8021AD = 0x88a8
)

// IPv6 extension header numbers.
const (
	HopByHop = 0
	Routing  = 43
	Fragment = 44
	DestOpts = 60
	UDP      = 17
)

// Frame describes a UDP frame.
type Frame struct {
	Src, Dst         netip.Addr
	SrcMAC, DstMAC   [6]byte
	SrcPort, DstPort uint16
	// VLANs are the tags, outermost first (802.1ad for the outer of two).
	VLANs []uint16
	// Ext are IPv6 extension headers to put before UDP.
	Ext     []uint8
	Payload []byte
}

// Bytes returns the frame.
func (f Frame) Bytes() []byte {
	b := make([]byte, 0, 128+len(f.Payload))
	b = append(b, f.DstMAC[:]...)
	b = append(b, f.SrcMAC[:]...)
	for i, v := range f.VLANs {
		tpid := uint16(Ether8021Q)
		if len(f.VLANs) > 1 && i == 0 {
			tpid = Ether8021AD
		}
		b = binary.BigEndian.AppendUint16(b, tpid)
		b = binary.BigEndian.AppendUint16(b, v)
	}
	udp := make([]byte, 8, 8+len(f.Payload))
	binary.BigEndian.PutUint16(udp[0:], f.SrcPort)
	binary.BigEndian.PutUint16(udp[2:], f.DstPort)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(f.Payload)))
	udp = append(udp, f.Payload...)
	if f.Src.Is4() {
		b = binary.BigEndian.AppendUint16(b, EtherIPv4)
		ip := make([]byte, 20)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(udp)))
		ip[8] = 64
		ip[9] = UDP
		s, d := f.Src.As4(), f.Dst.As4()
		copy(ip[12:], s[:])
		copy(ip[16:], d[:])
		binary.BigEndian.PutUint16(ip[10:], checksum(ip))
		b = append(b, ip...)
		return append(b, udp...)
	}
	b = binary.BigEndian.AppendUint16(b, EtherIPv6)
	var ext []byte
	next := uint8(UDP)
	for i := len(f.Ext) - 1; i >= 0; i-- {
		h := make([]byte, 8)
		h[0] = next
		ext = append(h, ext...)
		next = f.Ext[i]
	}
	ip := make([]byte, 40)
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(len(ext)+len(udp)))
	ip[6] = next
	ip[7] = 64
	s, d := f.Src.As16(), f.Dst.As16()
	copy(ip[8:], s[:])
	copy(ip[24:], d[:])
	b = append(b, ip...)
	b = append(b, ext...)
	return append(b, udp...)
}

func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}
