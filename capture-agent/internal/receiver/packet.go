package receiver

import (
	"encoding/binary"
	"net/netip"
	"time"

	"golang.org/x/net/bpf"

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/capture"
	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/filter"
)

// The packet read mode (MIRROR_RECEIVER_READ=packet) takes the datagrams from an AF_PACKET
// TPACKET_V3 ring (the capture agent's internal/capture) instead of the UDP socket. The ring's
// size is the receiver's choice (MIRROR_RECEIVER_RING_BYTES), where a socket's receive buffer is
// capped by net.core.rmem_max, which a Fargate task cannot raise; AF_PACKET needs CAP_NET_RAW,
// which Fargate grants to root (as for the capture agent). IPv4 only (the outer header).
// The UDP socket stays bound, with a filter that drops everything, so the kernel neither
// answers ICMP port unreachable nor queues the datagrams twice.

// PacketProgram accepts IPv4 UDP datagrams to port (first fragments or whole) with up to
// Snaplen bytes, and rejects everything else in the kernel.
func PacketProgram(port uint16) []bpf.Instruction {
	return []bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},                              // 0 ethertype
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0x0800, SkipTrue: 6},    // 1 not IPv4 -> reject
		bpf.LoadAbsolute{Off: 23, Size: 1},                              // 2 protocol
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 17, SkipTrue: 4},        // 3 not UDP -> reject
		bpf.LoadAbsolute{Off: 20, Size: 2},                              // 4 flags + fragment offset
		bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff, SkipTrue: 2},     // 5 non-first fragment -> reject
		bpf.LoadMemShift{Off: 14},                                       // 6 X = IPv4 header length
		bpf.LoadIndirect{Off: 14 + 2, Size: 2},                          // 7 UDP destination port
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(port), SkipTrue: 1}, // 8
		bpf.RetConstant{Val: 0},                                         // 9 reject
		bpf.RetConstant{Val: Snaplen},                                   // 10 accept
	}
}

// PacketReader reads VXLAN datagrams from the ring.
type PacketReader struct {
	ring *capture.Ring
	port uint16
	out  []Datagram
}

// OpenPacketReader opens the ring on iface ("any": every interface) with about ringBytes of
// 1 MiB blocks.
func OpenPacketReader(iface string, port uint16, ringBytes int) (*PacketReader, error) {
	o := capture.Options{Interface: iface, Program: PacketProgram(port), BlockSize: 1 << 20,
		NumBlocks: max(2, ringBytes>>20), BlockTimeout: 10 * time.Millisecond, AllInterfaces: iface == "any"}
	r, err := capture.Open(o)
	if err != nil {
		return nil, err
	}
	return &PacketReader{ring: r, port: port}, nil
}

// Close releases the ring.
func (p *PacketReader) Close() error { return p.ring.Close() }

// Drops is the number of datagrams the full ring could not take since the previous call.
func (p *PacketReader) Drops() uint64 {
	s, err := p.ring.Stats()
	if err != nil {
		return 0
	}
	return s.Drops
}

// Read waits up to timeout for a block of frames and calls fn with the UDP payloads (valid only
// during fn). Outgoing frames and anything not a whole IPv4 UDP datagram to the port are skipped.
func (p *PacketReader) Read(timeout time.Duration, fn func([]Datagram)) (int, error) {
	return p.ring.Read(timeout, func(fs []capture.Frame) {
		out := p.out[:0]
		for _, f := range fs {
			if f.Dir == filter.Egress || len(f.Data) != f.Len {
				continue
			}
			if d, ok := udpPayload(f.Data, p.port); ok {
				d.Time = f.Time
				out = append(out, d)
			}
		}
		p.out = out
		fn(out)
	})
}

// udpPayload takes an Ethernet/IPv4/UDP frame apart.
func udpPayload(f []byte, port uint16) (Datagram, bool) {
	if len(f) < 14+20+8 || binary.BigEndian.Uint16(f[12:]) != 0x0800 || f[14]>>4 != 4 || f[23] != 17 {
		return Datagram{}, false
	}
	ihl := int(f[14]&0xf) * 4
	if ihl < 20 || len(f) < 14+ihl+8 || binary.BigEndian.Uint16(f[20:])&0x3fff != 0 { // MF or offset: a fragment
		return Datagram{}, false
	}
	udp := f[14+ihl:]
	ulen := int(binary.BigEndian.Uint16(udp[4:]))
	if binary.BigEndian.Uint16(udp[2:]) != port || ulen < 8 || ulen > len(udp) {
		return Datagram{}, false
	}
	return Datagram{Data: udp[8:ulen], Source: netip.AddrFrom4([4]byte(f[26:30]))}, true
}
