// Test helpers that build Ethernet frames by hand, independent of the code under test.
package filter

import (
	"encoding/binary"
	"net/netip"
)

type frameSpec struct {
	v6       bool
	proto    int
	src, dst string
	sport    uint16
	dport    uint16
	fragOff  uint16 // IPv4 fragment offset (8-byte units)
	ihl      int    // IPv4 header words; 0: 5
	truncate int    // cut the frame to this length when > 0
}

func (s frameSpec) bytes() []byte {
	f := make([]byte, 14, 128)
	copy(f, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1})
	src, dst := netip.MustParseAddr(s.src), netip.MustParseAddr(s.dst)
	if s.v6 {
		binary.BigEndian.PutUint16(f[12:], 0x86dd)
		h := make([]byte, 40)
		h[0] = 0x60
		h[6] = byte(s.proto)
		h[7] = 64
		copy(h[8:], src.AsSlice())
		copy(h[24:], dst.AsSlice())
		f = append(f, h...)
	} else {
		binary.BigEndian.PutUint16(f[12:], 0x0800)
		ihl := s.ihl
		if ihl == 0 {
			ihl = 5
		}
		h := make([]byte, 4*ihl)
		h[0] = 0x40 | byte(ihl)
		binary.BigEndian.PutUint16(h[6:], s.fragOff)
		h[8] = 64
		h[9] = byte(s.proto)
		copy(h[12:], src.AsSlice())
		copy(h[16:], dst.AsSlice())
		f = append(f, h...)
	}
	l4 := make([]byte, 20)
	binary.BigEndian.PutUint16(l4, s.sport)
	binary.BigEndian.PutUint16(l4[2:], s.dport)
	f = append(f, l4...)
	if s.truncate > 0 && s.truncate < len(f) {
		f = f[:s.truncate]
	}
	return f
}

func arpFrame() []byte {
	f := make([]byte, 42)
	binary.BigEndian.PutUint16(f[12:], 0x0806)
	return f
}
