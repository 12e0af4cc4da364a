package receiver

import (
	"encoding/binary"
	"net/netip"
)

// FlowKey is a 5-tuple (ports 0 for protocols without them).
type FlowKey struct {
	Protocol         uint8
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
}

// ParseFlow reads the 5-tuple of an Ethernet frame: up to two VLAN tags, then IPv4 (ports of
// TCP, UDP, SCTP unless a non-first fragment) or IPv6 (the fixed header's next header; extension
// headers are not walked). ok is false for anything else (ARP, truncated headers).
func ParseFlow(f []byte) (k FlowKey, ok bool) {
	if len(f) < 14 {
		return k, false
	}
	et := binary.BigEndian.Uint16(f[12:])
	off := 14
	for i := 0; i < 2 && (et == 0x8100 || et == 0x88a8); i++ {
		if len(f) < off+4 {
			return k, false
		}
		et = binary.BigEndian.Uint16(f[off+2:])
		off += 4
	}
	var l4 []byte
	switch et {
	case 0x0800:
		ip := f[off:]
		if len(ip) < 20 || ip[0]>>4 != 4 {
			return k, false
		}
		ihl := int(ip[0]&0xf) * 4
		if ihl < 20 || len(ip) < ihl {
			return k, false
		}
		k.Protocol = ip[9]
		k.Src = netip.AddrFrom4([4]byte(ip[12:16]))
		k.Dst = netip.AddrFrom4([4]byte(ip[16:20]))
		if binary.BigEndian.Uint16(ip[6:])&0x1fff != 0 { // fragment offset: no L4 header here
			return k, true
		}
		l4 = ip[ihl:]
	case 0x86dd:
		ip := f[off:]
		if len(ip) < 40 || ip[0]>>4 != 6 {
			return k, false
		}
		k.Protocol = ip[6]
		k.Src = netip.AddrFrom16([16]byte(ip[8:24]))
		k.Dst = netip.AddrFrom16([16]byte(ip[24:40]))
		l4 = ip[40:]
	default:
		return k, false
	}
	switch k.Protocol {
	case 6, 17, 132: // TCP, UDP, SCTP: ports first
		if len(l4) >= 4 {
			k.SrcPort = binary.BigEndian.Uint16(l4)
			k.DstPort = binary.BigEndian.Uint16(l4[2:])
		}
	}
	return k, true
}

// Flow is one entry of an index line.
type Flow struct {
	Protocol uint8  `json:"protocol"`
	Src      string `json:"src"`
	SrcPort  uint16 `json:"srcPort"`
	Dst      string `json:"dst"`
	DstPort  uint16 `json:"dstPort"`
	Packets  uint64 `json:"packets"`
	Bytes    uint64 `json:"bytes"`
}

// flowSet collects distinct flows in first-seen order, up to max.
type flowSet struct {
	max       int
	idx       map[FlowKey]int
	flows     []Flow
	truncated bool
	last      FlowKey
	lastIdx   int
}

func newFlowSet(max int) *flowSet { return &flowSet{max: max, idx: map[FlowKey]int{}, lastIdx: -1} }

func (s *flowSet) add(k FlowKey, n int) {
	i := s.lastIdx
	if i < 0 || k != s.last {
		var ok bool
		i, ok = s.idx[k]
		if !ok {
			if len(s.flows) >= s.max {
				s.truncated = true
				return
			}
			i = len(s.flows)
			s.idx[k] = i
			s.flows = append(s.flows, Flow{Protocol: k.Protocol, Src: k.Src.String(), SrcPort: k.SrcPort, Dst: k.Dst.String(), DstPort: k.DstPort})
		}
		s.last, s.lastIdx = k, i
	}
	s.flows[i].Packets++
	s.flows[i].Bytes += uint64(n)
}
