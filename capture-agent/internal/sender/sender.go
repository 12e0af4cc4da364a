// Package sender sends VXLAN datagrams to the chosen target over one connected UDP socket,
// batching frames with sendmmsg and sending each straight from the capture ring (no copy).
package sender

import (
	"fmt"
	"net/netip"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/capture"
	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/vxlan"
)

// Outer headers of a mirrored datagram: IPv4 (20) + UDP (8) + VXLAN (8).
const Overhead = 20 + 8 + vxlan.HeaderLen

// MaxInnerDefault is the largest inner frame sent when the interface MTU is unknown: 9001 (the
// MTU of an ENI, and so of Fargate's interface and of an ENI or NLB target inside the VPC) less
// Overhead. A datagram then fills one jumbo frame and is never fragmented on the way, which a
// Network Load Balancer would not reassemble. Larger frames are GSO/TSO super-frames the host
// hands its interface before segmentation (up to 64 KB on veth); they are truncated and counted
// (TruncatedFrames), as Traffic Mirroring truncates what exceeds the target's MTU.
const MaxInnerDefault = 9001 - Overhead

// batch is how many datagrams one sendmmsg carries.
const batch = 64

// Result counts what a Send did.
type Result struct {
	Packets, Bytes uint64 // datagrams sent, and their inner frames' bytes
	Errors         uint64 // frames not sent
	Refused        uint64 // of Errors, ECONNREFUSED: the target's ICMP port unreachable
	LastErr        error  // the last error other than ECONNREFUSED (a reason to re-resolve)
}

// Sender owns the UDP socket.
type Sender struct {
	fd        int
	localPort uint16
	hdr       [vxlan.HeaderLen]byte
	maxInner  int
	msgs      [batch]unix.Mmsghdr
	iovs      [batch][4]unix.Iovec
	sizes     [batch]int
}

// New opens the socket, bound to an ephemeral port that stays the same for its whole life (so
// the capture filter can exclude the agent's own output by it). maxInner caps inner frames.
func New(vni uint32, maxInner int) (*Sender, error) {
	hdr, err := vxlan.Header(vni)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	// Set DF and never fragment locally (PROBE ignores learned path MTUs): a fragment carries no
	// UDP header, so the capture filter could not recognise it as the agent's own output.
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_PROBE); err != nil {
		unix.Close(fd)
		return nil, err
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
	if err := unix.Bind(fd, &unix.SockaddrInet4{}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	s := &Sender{fd: fd, localPort: uint16(sa.(*unix.SockaddrInet4).Port), hdr: hdr, maxInner: maxInner}
	for i := range s.msgs {
		s.iovs[i][0] = unix.Iovec{Base: &s.hdr[0], Len: vxlan.HeaderLen}
		s.msgs[i].Hdr.Iov = &s.iovs[i][0]
	}
	return s, nil
}

// LocalPort is the socket's source port.
func (s *Sender) LocalPort() uint16 { return s.localPort }

// Connect points the socket at a target; a UDP socket can be connected again at any time.
func (s *Sender) Connect(ap netip.AddrPort) error {
	if !ap.Addr().Is4() {
		return fmt.Errorf("target %s is not IPv4", ap)
	}
	return unix.Connect(s.fd, &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())})
}

// Close closes the socket.
func (s *Sender) Close() error { return unix.Close(s.fd) }

// Send sends one datagram per frame: VXLAN header, then the frame (with any stripped VLAN tag
// put back), truncated to the sender's cap.
func (s *Sender) Send(frames []capture.Frame) Result {
	var res Result
	for len(frames) > 0 {
		n := min(len(frames), batch)
		for i := 0; i < n; i++ {
			f := &frames[i]
			data := f.Data
			budget := s.maxInner
			iov := &s.iovs[i]
			cnt, extra := 1, 0
			if f.VLANValid && len(data) >= 12 && budget >= 16 {
				iov[1] = unix.Iovec{Base: &data[0], Len: 12}
				iov[2] = unix.Iovec{Base: &f.VLANTag[0], Len: 4}
				data, budget, cnt, extra = data[12:], budget-16, 3, 16
			}
			if len(data) > budget {
				data = data[:budget]
			}
			if len(data) > 0 {
				iov[cnt] = unix.Iovec{Base: &data[0], Len: uint64(len(data))}
				cnt++
			}
			s.msgs[i].Hdr.Iovlen = uint64(cnt)
			s.sizes[i] = extra + len(data)
		}
		done := 0
		for done < n {
			r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&s.msgs[done])), uintptr(n-done), 0, 0, 0)
			if errno == unix.EINTR {
				continue
			}
			if errno != 0 {
				// The first datagram of the call failed: count it and go on with the next.
				res.Errors++
				if errno == unix.ECONNREFUSED {
					res.Refused++
				} else {
					res.LastErr = errno
				}
				done++
				continue
			}
			for i := done; i < done+int(r); i++ {
				res.Packets++
				res.Bytes += uint64(s.sizes[i])
			}
			done += int(r)
		}
		runtime.KeepAlive(frames)
		frames = frames[n:]
	}
	return res
}
