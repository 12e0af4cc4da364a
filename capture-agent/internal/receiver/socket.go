package receiver

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Batch sizes of the reader: up to BatchLen datagrams per recvmmsg, each up to 64 KiB.
const (
	BatchLen  = 64
	bufLen    = 65536
	ctrlLen   = 64
	nameLen   = unix.SizeofSockaddrInet6
	sockaddr4 = unix.AF_INET
	sockaddr6 = unix.AF_INET6
)

// Listen opens the UDP socket with a large receive buffer (SO_RCVBUFFORCE, which needs
// CAP_NET_ADMIN, else SO_RCVBUF, which the kernel caps at net.core.rmem_max), kernel receive
// timestamps (SO_TIMESTAMPNS) and the drop counter (SO_RXQ_OVFL). It returns the buffer size the
// kernel reports.
func Listen(addr string, rcvbuf int) (*net.UDPConn, int, error) { return listen(addr, rcvbuf, false) }

// listen is Listen; with dropAll, a filter that drops every datagram is attached before the
// bind (packet read mode).
func listen(addr string, rcvbuf int, dropAll bool) (*net.UDPConn, int, error) {
	network := "udp"
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		if ap.Addr().Is4() {
			network = "udp4"
		} else {
			network = "udp6"
		}
	}
	var got int
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if dropAll {
				filt := []unix.SockFilter{{Code: 0x06, K: 0}} // ret #0
				prog := unix.SockFprog{Len: 1, Filter: &filt[0]}
				if serr = unix.SetsockoptSockFprog(int(fd), unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog); serr != nil {
					return
				}
				rcvbuf = 4096
			}
			if rcvbuf > 0 {
				if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf) != nil {
					unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
				}
			}
			got, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
			if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); serr != nil {
				return
			}
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), network, addr)
	if err != nil {
		return nil, 0, err
	}
	return pc.(*net.UDPConn), got, nil
}

// Datagram is one received datagram; Data points into the reader's buffers and is valid until
// the next Read.
type Datagram struct {
	Data   []byte
	Source netip.Addr
	Time   time.Time // kernel receive time (time.Now() if the kernel gave none)
}

// BatchReader reads datagrams with recvmmsg(2), without allocating.
type BatchReader struct {
	conn  *net.UDPConn
	rc    syscall.RawConn
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	bufs  []byte
	names []byte
	ctrl  []byte
	out   []Datagram
	// Drops is the kernel's latest SO_RXQ_OVFL count (cumulative drops of this socket).
	Drops uint32
}

// NewBatchReader prepares buffers for BatchLen datagrams (4 MiB).
func NewBatchReader(conn *net.UDPConn) (*BatchReader, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	b := &BatchReader{conn: conn, rc: rc, hdrs: make([]unix.Mmsghdr, BatchLen), iovs: make([]unix.Iovec, BatchLen),
		bufs: make([]byte, BatchLen*bufLen), names: make([]byte, BatchLen*nameLen), ctrl: make([]byte, BatchLen*ctrlLen),
		out: make([]Datagram, BatchLen)}
	for i := range b.hdrs {
		b.iovs[i].Base = &b.bufs[i*bufLen]
		b.iovs[i].SetLen(bufLen)
		h := &b.hdrs[i].Hdr
		h.Name = &b.names[i*nameLen]
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
		h.Control = &b.ctrl[i*ctrlLen]
	}
	return b, nil
}

// Read waits for datagrams (until the connection's read deadline) and returns up to BatchLen.
// With wait false it returns what is queued now (possibly nothing) without waiting.
func (b *BatchReader) Read(wait bool) ([]Datagram, error) {
	for i := range b.hdrs {
		b.hdrs[i].Hdr.Namelen = nameLen
		b.hdrs[i].Hdr.SetControllen(ctrlLen)
		b.hdrs[i].Hdr.Flags = 0
		b.hdrs[i].Len = 0
	}
	var n int
	var errno syscall.Errno
	fn := func(fd uintptr) bool {
		r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(len(b.hdrs)), unix.MSG_DONTWAIT, 0, 0)
		n, errno = int(r), e
		return !(wait && (e == unix.EAGAIN || e == unix.EWOULDBLOCK))
	}
	if err := b.rc.Read(fn); err != nil {
		return nil, err
	}
	if errno == unix.EAGAIN || errno == unix.EWOULDBLOCK {
		return nil, nil
	}
	if errno != 0 {
		return nil, errno
	}
	var now time.Time
	out := b.out[:0]
	for i := 0; i < n; i++ {
		h := &b.hdrs[i]
		d := Datagram{Data: b.bufs[i*bufLen : i*bufLen+int(h.Len)]}
		name := b.names[i*nameLen:]
		switch binary.NativeEndian.Uint16(name) {
		case sockaddr4:
			d.Source = netip.AddrFrom4([4]byte(name[4:8]))
		case sockaddr6:
			d.Source = netip.AddrFrom16([16]byte(name[8:24])).Unmap()
		}
		ctrl := b.ctrl[i*ctrlLen : i*ctrlLen+int(h.Hdr.Controllen)]
		for len(ctrl) >= unix.SizeofCmsghdr {
			cm := (*unix.Cmsghdr)(unsafe.Pointer(&ctrl[0]))
			l := int(cm.Len)
			if l < unix.SizeofCmsghdr || l > len(ctrl) {
				break
			}
			data := ctrl[unix.CmsgLen(0):l]
			if cm.Level == unix.SOL_SOCKET {
				switch cm.Type {
				case unix.SO_TIMESTAMPNS:
					if len(data) >= 16 {
						ts := (*unix.Timespec)(unsafe.Pointer(&data[0]))
						d.Time = time.Unix(ts.Sec, ts.Nsec)
					}
				case unix.SO_RXQ_OVFL:
					if len(data) >= 4 {
						b.Drops = binary.NativeEndian.Uint32(data)
					}
				}
			}
			next := unix.CmsgSpace(l - unix.CmsgLen(0))
			if next > len(ctrl) {
				break
			}
			ctrl = ctrl[next:]
		}
		if d.Time.IsZero() {
			if now.IsZero() {
				now = time.Now()
			}
			d.Time = now
		}
		out = append(out, d)
	}
	return out, nil
}

// IsTimeout reports a read deadline expiry.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
