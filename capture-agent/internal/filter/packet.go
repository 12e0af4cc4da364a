// Parsing an Ethernet frame into what the filter rules look at (the same fields, at the same
// offsets and with the same bounds, as the compiled BPF program reads).
package filter

import (
	"encoding/binary"
	"net/netip"
)

// Offsets in an untagged Ethernet frame (AF_PACKET hands the filter the frame with any
// offloaded VLAN tag removed).
const (
	ethTypeOff = 12
	ethHdrLen  = 14

	etherTypeIPv4 = 0x0800
	etherTypeIPv6 = 0x86dd

	ipv4ProtoOff = ethHdrLen + 9
	ipv4FragOff  = ethHdrLen + 6
	ipv4SrcOff   = ethHdrLen + 12
	ipv4DstOff   = ethHdrLen + 16
	ipv4MinEnd   = ipv4DstOff + 4

	ipv6NextOff = ethHdrLen + 6
	ipv6SrcOff  = ethHdrLen + 8
	ipv6DstOff  = ethHdrLen + 24
	ipv6HdrEnd  = ethHdrLen + 40

	protoTCP = 6
	protoUDP = 17
)

// Packet is what the rules match on.
type Packet struct {
	// Family is 4 or 6; 0 for a frame the filter never mirrors (not IP, or too short to hold
	// what the filter reads: the BPF program aborts on an out-of-bounds load, which drops it).
	Family   int
	Protocol int // IPv4 protocol; IPv6 next header of the fixed header (extension headers are not walked)
	Src, Dst netip.Addr
	// HasPorts is true for TCP/UDP that is not a later IPv4 fragment; SrcPort and DstPort are
	// then the first four bytes of the transport header.
	HasPorts         bool
	SrcPort, DstPort uint16
}

// Parse reads frame's IP header fields.
func Parse(frame []byte) Packet {
	var p Packet
	if len(frame) < ethHdrLen {
		return p
	}
	var l4 int
	switch binary.BigEndian.Uint16(frame[ethTypeOff:]) {
	case etherTypeIPv4:
		if len(frame) < ipv4MinEnd {
			return p
		}
		p.Protocol = int(frame[ipv4ProtoOff])
		p.Src = netip.AddrFrom4([4]byte(frame[ipv4SrcOff:]))
		p.Dst = netip.AddrFrom4([4]byte(frame[ipv4DstOff:]))
		if binary.BigEndian.Uint16(frame[ipv4FragOff:])&0x1fff != 0 {
			l4 = -1 // a later fragment: no transport header
		} else {
			// The same value as BPF's "ldx 4*([14]&0xf)".
			l4 = ethHdrLen + 4*int(frame[ethHdrLen]&0x0f)
		}
		p.Family = 4
	case etherTypeIPv6:
		if len(frame) < ipv6HdrEnd {
			return p
		}
		p.Protocol = int(frame[ipv6NextOff])
		p.Src = netip.AddrFrom16([16]byte(frame[ipv6SrcOff:]))
		p.Dst = netip.AddrFrom16([16]byte(frame[ipv6DstOff:]))
		l4 = ipv6HdrEnd
		p.Family = 6
	default:
		return p
	}
	if (p.Protocol == protoTCP || p.Protocol == protoUDP) && l4 >= 0 {
		if len(frame) < l4+4 {
			return Packet{} // truncated transport header: the BPF port load aborts
		}
		p.HasPorts = true
		p.SrcPort = binary.BigEndian.Uint16(frame[l4:])
		p.DstPort = binary.BigEndian.Uint16(frame[l4+2:])
	}
	return p
}
