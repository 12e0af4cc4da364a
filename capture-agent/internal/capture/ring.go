// Package capture reads an interface's frames through an AF_PACKET socket with a TPACKET_V3
// memory-mapped ring and a classic BPF filter, so the kernel drops what is not mirrored and
// the rest reaches user space without a copy or a system call per frame.
package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/filter"
)

// Options sizes the ring.
type Options struct {
	Interface string
	Program   []bpf.Instruction
	// BlockSize is the size of a ring block (a power-of-two multiple of the page size);
	// NumBlocks how many. The ring's memory counts in the agent's RSS once touched, so it is
	// the main knob between burst tolerance and memory.
	BlockSize int
	NumBlocks int
	// BlockTimeout retires a block that is not full, bounding the latency of a quiet link.
	BlockTimeout time.Duration
	// AllInterfaces binds to every interface (Interface is then ignored).
	AllInterfaces bool
}

// DefaultOptions: 16 blocks of 512 KiB (8 MiB): about 80 ms of a saturated 1 Gbit/s link, or
// 100k small frames, while the agent stays well under 32 MiB of RSS.
func DefaultOptions(ifname string, prog []bpf.Instruction) Options {
	return Options{Interface: ifname, Program: prog, BlockSize: 512 << 10, NumBlocks: 16, BlockTimeout: 10 * time.Millisecond}
}

// Frame is one captured frame; Data points into the ring and is valid only until the block's
// callback returns.
type Frame struct {
	Data []byte // the captured bytes (the BPF program's snap length at most)
	Len  int    // the frame's length on the wire
	Dir  filter.Direction
	// VLANTag, when VLANValid, is a tag the NIC stripped (offload); the sender puts it back.
	VLANTag   [4]byte
	VLANValid bool
	// Time is the kernel's receive timestamp of the frame.
	Time time.Time
}

// Ring is an open capture.
type Ring struct {
	fd        int
	mem       []byte
	blockSize int
	numBlocks int
	cur       int
	frames    []Frame
}

// Offsets in struct tpacket_block_desc / tpacket_hdr_v1 and struct tpacket3_hdr (linux/if_packet.h).
const (
	blkStatusOff   = 8
	blkNumPktsOff  = 12
	blkFirstPktOff = 16

	hdrNextOff     = 0
	hdrSecOff      = 4
	hdrNsecOff     = 8
	hdrSnaplenOff  = 12
	hdrLenOff      = 16
	hdrStatusOff   = 20
	hdrMacOff      = 24
	hdrVLANTCIOff  = 32
	hdrVLANTPIDOff = 36
	hdrSize        = 48 // TPACKET_ALIGN(sizeof(struct tpacket3_hdr)); struct sockaddr_ll follows
	sllPkttypeOff  = hdrSize + 10
)

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Open creates the socket, attaches the program, maps the ring and binds to the interface.
// The filter is attached before the bind, so no unfiltered frame (such as the agent's own
// output) ever lands in the ring.
func Open(o Options) (r *Ring, err error) {
	ifindex := 0
	if !o.AllInterfaces {
		ifc, err := net.InterfaceByName(o.Interface)
		if err != nil {
			return nil, err
		}
		ifindex = ifc.Index
	}
	raw, err := bpf.Assemble(o.Program)
	if err != nil {
		return nil, fmt.Errorf("assemble filter: %w", err)
	}
	// Protocol 0: the socket receives nothing until bind names ETH_P_ALL.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("AF_PACKET socket (needs CAP_NET_RAW): %w", err)
	}
	defer func() {
		if err != nil {
			unix.Close(fd)
		}
	}()
	if err = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return nil, fmt.Errorf("TPACKET_V3: %w", err)
	}
	filt := make([]unix.SockFilter, len(raw))
	for i, ins := range raw {
		filt[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	prog := unix.SockFprog{Len: uint16(len(filt)), Filter: &filt[0]}
	if err = unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog); err != nil {
		return nil, fmt.Errorf("attach filter: %w", err)
	}
	// Lock the filter so nothing in the process can replace it by mistake.
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_LOCK_FILTER, 1)
	const frameSize = 2048 // unused by TPACKET_V3 except for the kernel's consistency check
	req := unix.TpacketReq3{
		Block_size:     uint32(o.BlockSize),
		Block_nr:       uint32(o.NumBlocks),
		Frame_size:     frameSize,
		Frame_nr:       uint32(o.BlockSize / frameSize * o.NumBlocks),
		Retire_blk_tov: uint32(o.BlockTimeout / time.Millisecond),
	}
	if err = unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return nil, fmt.Errorf("PACKET_RX_RING: %w", err)
	}
	mem, err := unix.Mmap(fd, 0, o.BlockSize*o.NumBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap ring: %w", err)
	}
	defer func() {
		if err != nil {
			unix.Munmap(mem)
		}
	}()
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}
	if err = unix.Bind(fd, sa); err != nil {
		return nil, fmt.Errorf("bind to %s: %w", o.Interface, err)
	}
	return &Ring{fd: fd, mem: mem, blockSize: o.BlockSize, numBlocks: o.NumBlocks}, nil
}

// Close releases the socket and the ring.
func (r *Ring) Close() error {
	err1 := unix.Munmap(r.mem)
	err2 := unix.Close(r.fd)
	return errors.Join(err1, err2)
}

func (r *Ring) status(block int) *uint32 {
	return (*uint32)(unsafe.Pointer(&r.mem[block*r.blockSize+blkStatusOff]))
}

// Read waits up to timeout for a retired block, calls fn with its frames, then hands the block
// back to the kernel. It returns the number of frames (0 on timeout).
func (r *Ring) Read(timeout time.Duration, fn func([]Frame)) (int, error) {
	st := r.status(r.cur)
	if atomic.LoadUint32(st)&unix.TP_STATUS_USER == 0 {
		pfd := []unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN | unix.POLLERR}}
		if _, err := unix.Poll(pfd, int(timeout/time.Millisecond)); err != nil && err != unix.EINTR {
			return 0, err
		}
		if atomic.LoadUint32(st)&unix.TP_STATUS_USER == 0 {
			return 0, nil
		}
	}
	blk := r.mem[r.cur*r.blockSize : (r.cur+1)*r.blockSize]
	n := int(binary.NativeEndian.Uint32(blk[blkNumPktsOff:]))
	off := int(binary.NativeEndian.Uint32(blk[blkFirstPktOff:]))
	r.frames = r.frames[:0]
	for i := 0; i < n && off+hdrSize < len(blk); i++ {
		h := blk[off:]
		snap := int(binary.NativeEndian.Uint32(h[hdrSnaplenOff:]))
		mac := int(binary.NativeEndian.Uint16(h[hdrMacOff:]))
		status := binary.NativeEndian.Uint32(h[hdrStatusOff:])
		f := Frame{Data: h[mac : mac+snap], Len: int(binary.NativeEndian.Uint32(h[hdrLenOff:])),
			Time: time.Unix(int64(binary.NativeEndian.Uint32(h[hdrSecOff:])), int64(binary.NativeEndian.Uint32(h[hdrNsecOff:])))}
		if h[sllPkttypeOff] == unix.PACKET_OUTGOING {
			f.Dir = filter.Egress
		}
		if status&unix.TP_STATUS_VLAN_VALID != 0 {
			tpid := uint16(0x8100)
			if status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
				tpid = binary.NativeEndian.Uint16(h[hdrVLANTPIDOff:])
			}
			binary.BigEndian.PutUint16(f.VLANTag[:], tpid)
			binary.BigEndian.PutUint16(f.VLANTag[2:], uint16(binary.NativeEndian.Uint32(h[hdrVLANTCIOff:])))
			f.VLANValid = true
		}
		r.frames = append(r.frames, f)
		next := int(binary.NativeEndian.Uint32(h[hdrNextOff:]))
		if next == 0 {
			break
		}
		off += next
	}
	fn(r.frames)
	r.frames = r.frames[:0]
	atomic.StoreUint32(st, unix.TP_STATUS_KERNEL)
	r.cur = (r.cur + 1) % r.numBlocks
	return n, nil
}

// Stats are the kernel's counters since the previous call (reading resets them).
type Stats struct {
	Packets uint64 // frames that passed the filter, including those dropped
	Drops   uint64 // frames the filter passed but the full ring could not take
}

// Stats reads PACKET_STATISTICS.
func (r *Ring) Stats() (Stats, error) {
	s, err := unix.GetsockoptTpacketStatsV3(r.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return Stats{}, err
	}
	return Stats{Packets: uint64(s.Packets), Drops: uint64(s.Drops)}, nil
}
