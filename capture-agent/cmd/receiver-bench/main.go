// receiver-bench measures the mirror receiver's loss-free VXLAN receive rate, bytes written and
// memory against tcpdump on a Linux vxlan interface, in network namespaces (run as root).
//
// A generator (sendmmsg, pinned to CPU 0, in its own namespace) sends VXLAN datagrams across a
// veth (MTU 9000) at a set rate for a fixed time. One trial runs either the receiver (pinned to
// CPU 1 with taskset; MIRROR_RECEIVER_SINK=dir, i.e. closed files are moved to a local directory
// instead of S3) or tcpdump -i vx0 -w <file> (pinned to CPU 1) on a vxlan interface in the
// receiver namespace. Loss-free: every sent frame is in the pcap files (receiver), or tcpdump's
// "captured" equals sent with 0 "dropped by kernel" and the file holds every frame (tcpdump).
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/netns"
)

// Addresses inside the bench's own namespaces only (198.18.0.0/15, the benchmark range).
const (
	genAddr = "198.18.2.1"
	rxAddr  = "198.18.2.2"
	vni     = 4242
)

type result struct {
	Bytes                     int     `json:"bytes"`
	ReceiverLossFreePps       int     `json:"receiverLossFreePps"`
	TcpdumpLossFreePps        int     `json:"tcpdumpLossFreePps"`
	ReceiverRssMiB            float64 `json:"receiverRssMiB"`
	ReceiverBytesWrittenPerS  int64   `json:"receiverBytesWrittenPerSecond"`
	ReceiverCPUSecondsPerMPkt float64 `json:"receiverCpuSecondsPerMillionPackets"`
	GeneratorMaxPps           int     `json:"generatorMaxPps"`
	GeneratorLimited          bool    `json:"generatorLimited"`
	// BothGeneratorLimited: neither program lost a packet at any rate the generator reached, so
	// both figures are the generator's limit in their trials (lower bounds), not the programs'.
	BothGeneratorLimited bool `json:"bothGeneratorLimited"`
	ReceiverFirstLossPps int  `json:"receiverFirstLossPps,omitempty"`
	// The receiver with the socket buffer a task gets when it cannot raise it: Linux's default
	// net.core.rmem_max, 212992 bytes (the kernel doubles it), as in a task without CAP_NET_ADMIN
	// for SO_RCVBUFFORCE (Fargate).
	ReceiverDefaultRcvbufLossFreePps  int `json:"receiverDefaultRcvbufLossFreePps"`
	ReceiverDefaultRcvbufFirstLossPps int `json:"receiverDefaultRcvbufFirstLossPps,omitempty"`
	// The receiver in packet read mode (AF_PACKET ring of 32 MiB, MIRROR_RECEIVER_READ=packet),
	// which needs no socket buffer beyond rmem_max.
	ReceiverPacketLossFreePps  int     `json:"receiverPacketLossFreePps"`
	ReceiverPacketFirstLossPps int     `json:"receiverPacketFirstLossPps,omitempty"`
	ReceiverPacketRssMiB       float64 `json:"receiverPacketRssMiB"`
	TcpdumpFirstLossPps        int     `json:"tcpdumpFirstLossPps,omitempty"`
	Trials                     []trial `json:"trials"`
}

type trial struct {
	Program  string  `json:"program"`
	Target   int     `json:"targetPps"`
	Sent     int     `json:"sent"`
	Got      int     `json:"got"`
	Dropped  int     `json:"kernelDropped,omitempty"`
	Pps      int     `json:"achievedPps"`
	LossFree bool    `json:"lossFree"`
	RssMiB   float64 `json:"rssMiB,omitempty"`
	CPUSec   float64 `json:"cpuSeconds,omitempty"`
}

var (
	trialLen = flag.Duration("trial", 2*time.Second, "length of one trial")
	out      = flag.String("out", "", "write JSON results here")
	rxBin    = flag.String("receiver", "", "receiver binary (default: build it)")
	sizes    = flag.String("sizes", "64,512,1500", "inner frame sizes in bytes")
	maxRate  = flag.Int("max-rate", 1600000, "highest rate tried")
	packet   = flag.Bool("packet", true, "also measure the receiver in packet read mode (AF_PACKET ring), with a 212992-byte socket buffer")
	smallBuf = flag.Bool("default-rcvbuf", true, "also measure the receiver with a 212992-byte socket buffer (Linux's default rmem_max)")
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "receiver-bench:", err)
		os.Exit(1)
	}
}

func sh(args ...string) error {
	_, err := netns.Cmd(args...)
	return err
}

type bench struct {
	gen, rx string
	dir     string
	bin     string
	fd      int // the generator's connected UDP socket (in the gen namespace)
	rxIf    string
}

func main() {
	flag.Parse()
	if os.Geteuid() != 0 {
		must(fmt.Errorf("needs root (network namespaces)"))
	}
	dir, err := os.MkdirTemp("", "receiver-bench-")
	must(err)
	defer os.RemoveAll(dir)
	b := &bench{dir: dir, bin: *rxBin}
	if b.bin == "" {
		b.bin = filepath.Join(dir, "mirror-receiver")
		cmd := exec.Command("go", "build", "-trimpath", "-o", b.bin, "./cmd/mirror-receiver")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if o, err := cmd.CombinedOutput(); err != nil {
			must(fmt.Errorf("build: %v\n%s", err, o))
		}
	}
	id := fmt.Sprintf("%04x%02x", os.Getpid()&0xffff, rand.IntN(256))
	b.gen, b.rx = "ftm-bgen-"+id, "ftm-brx-"+id
	must(sh("ip", "netns", "add", b.gen))
	defer exec.Command("ip", "netns", "del", b.gen).Run()
	must(sh("ip", "netns", "add", b.rx))
	defer exec.Command("ip", "netns", "del", b.rx).Run()
	gi, ri := "ftmbg"+id, "ftmbr"+id
	b.rxIf = ri
	for _, c := range [][]string{
		{"ip", "link", "add", gi, "netns", b.gen, "type", "veth", "peer", "name", ri, "netns", b.rx},
		{"ip", "-n", b.gen, "link", "set", gi, "mtu", "9000", "up"},
		{"ip", "-n", b.rx, "link", "set", ri, "mtu", "9000", "up"},
		{"ip", "-n", b.gen, "addr", "add", genAddr + "/24", "dev", gi},
		{"ip", "-n", b.rx, "addr", "add", rxAddr + "/24", "dev", ri},
		{"ip", "-n", b.rx, "link", "set", "lo", "up"},
	} {
		must(sh(c...))
	}
	// the generator's socket, opened in the gen namespace
	must(netns.Run(b.gen, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
		if err == nil {
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
			err = unix.Connect(fd, &unix.SockaddrInet4{Port: 4789, Addr: [4]byte{198, 18, 2, 2}})
		}
		b.fd = fd
		return err
	}))

	var results []result
	for _, s := range strings.Split(*sizes, ",") {
		size, err := strconv.Atoi(strings.TrimSpace(s))
		must(err)
		r := result{Bytes: size}
		var rxBest, tdBest *trial
		r.ReceiverLossFreePps, r.ReceiverFirstLossPps, rxBest = b.search(&r, size, func(size, rate int) trial { return b.runReceiver(size, rate, 0, "") })
		if *smallBuf {
			var gl = r.GeneratorLimited
			r.ReceiverDefaultRcvbufLossFreePps, r.ReceiverDefaultRcvbufFirstLossPps, _ = b.search(&r, size, func(size, rate int) trial { return b.runReceiver(size, rate, 212992, "") })
			r.GeneratorLimited = gl
		}
		if *packet {
			var gl = r.GeneratorLimited
			r.ReceiverPacketLossFreePps, r.ReceiverPacketFirstLossPps, _ = b.search(&r, size, func(size, rate int) trial { return b.runReceiver(size, rate, 212992, "packet") })
			r.GeneratorLimited = gl
		}
		r.TcpdumpLossFreePps, r.TcpdumpFirstLossPps, tdBest = b.search(&r, size, b.runTcpdump)
		_ = tdBest
		r.BothGeneratorLimited = r.GeneratorLimited && r.ReceiverFirstLossPps == 0 && r.TcpdumpFirstLossPps == 0
		for _, t := range r.Trials {
			if t.Program == "receiver" && t.RssMiB > r.ReceiverRssMiB {
				r.ReceiverRssMiB = t.RssMiB
			}
			if t.Program == "receiver-packet" && t.RssMiB > r.ReceiverPacketRssMiB {
				r.ReceiverPacketRssMiB = t.RssMiB
			}
		}
		if rxBest != nil {
			r.ReceiverBytesWrittenPerS = int64(rxBest.Pps) * int64(size+16)
			if rxBest.Got > 0 {
				r.ReceiverCPUSecondsPerMPkt = rxBest.CPUSec / float64(rxBest.Got) * 1e6
			}
		}
		fmt.Fprintf(os.Stderr, "size %d: receiver %d pps (rss %.1f MiB; %d pps with a 212992-byte buffer; packet mode %d pps, rss %.1f MiB), tcpdump %d pps, generator max %d pps\n",
			size, r.ReceiverLossFreePps, r.ReceiverRssMiB, r.ReceiverDefaultRcvbufLossFreePps, r.ReceiverPacketLossFreePps, r.ReceiverPacketRssMiB, r.TcpdumpLossFreePps, r.GeneratorMaxPps)
		results = append(results, r)
	}
	doc := map[string]any{
		"date":  time.Now().UTC().Format(time.RFC3339),
		"nproc": runtime.NumCPU(),
		"method": "veth (MTU 9000) between two network namespaces; a sendmmsg VXLAN generator pinned to CPU 0; the receiver or tcpdump pinned to CPU 1 (taskset), one at a time, " +
			trialLen.String() + " trials; target rates doubled from 25k pps until a trial loses packets or two trials in a row reach < 90% of their target (the generator's limit), then bisected twice between the last loss-free and the first lossy target; the figure is the highest rate achieved by a loss-free trial (the machine is shared: achieved rates vary between trials); " +
			"receiver: MIRROR_RECEIVER_SINK=dir (closed files moved to a local directory, no S3), default 32 MiB socket buffer (SO_RCVBUFFORCE as root), loss-free = every sent frame in its pcap files; receiverDefaultRcvbuf*: the same with MIRROR_RECEIVER_RCVBUF_BYTES=212992 (Linux's default rmem_max, what a task without CAP_NET_ADMIN gets at most there); receiverPacket*: MIRROR_RECEIVER_READ=packet (AF_PACKET TPACKET_V3 ring of 32 MiB on the veth) with that same small socket buffer; " +
			"tcpdump: -i vx0 -w file on a vxlan interface (id 4242, dstport 4789, nolearning) with its default buffer, loss-free = captured = sent, 0 dropped by kernel, every frame in the file. " +
			"bytes written per second = loss-free pps x (frame + 16-byte pcap record header). Drops before either program (veth backlog) count as loss for both.",
		"results": results,
	}
	j, _ := json.MarshalIndent(doc, "", "  ")
	if *out != "" {
		must(os.WriteFile(*out, append(j, '\n'), 0o644))
	}
	fmt.Println(string(j))
}

// search doubles the rate from 25k pps until a trial loses packets, or until two trials in a
// row reach less than 90% of their target (the generator's limit on this machine), then bisects
// twice between the last loss-free and the first lossy target. The figure is the highest rate
// achieved by a loss-free trial.
func (b *bench) search(r *result, size int, run func(size, rate int) trial) (best, firstLoss int, bestT *trial) {
	keep := func(t trial) {
		r.Trials = append(r.Trials, t)
		r.GeneratorMaxPps = max(r.GeneratorMaxPps, t.Pps)
		if t.LossFree && t.Pps > best {
			best = t.Pps
			tt := t
			bestT = &tt
		}
	}
	lo, hi, short := 0, 0, 0
	for rate := 25000; rate <= *maxRate; rate *= 2 {
		t := run(size, rate)
		keep(t)
		if !t.LossFree {
			hi = rate
			break
		}
		lo = rate
		if t.Pps < rate*9/10 {
			if short++; short == 2 {
				r.GeneratorLimited = true
				return best, 0, bestT
			}
		} else {
			short = 0
		}
	}
	if hi == 0 {
		return best, 0, bestT
	}
	firstLoss = hi
	for i := 0; i < 2; i++ {
		mid := (lo + hi) / 2
		if mid <= lo {
			break
		}
		t := run(size, mid)
		keep(t)
		if t.LossFree {
			lo = mid
		} else {
			hi = mid
		}
	}
	return best, firstLoss, bestT
}

// datagram is a VXLAN datagram carrying an Ethernet/IPv4/UDP frame of size bytes.
func datagram(size int) []byte {
	f := make([]byte, size)
	copy(f, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0, 0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 9, 1, 198, 18, 9, 2, 0x13, 0x88, 0x17, 0x70})
	binary.BigEndian.PutUint16(f[16:], uint16(size-14))
	binary.BigEndian.PutUint16(f[38:], uint16(size-34))
	copy(f[42:], "ftm-receiver-bench")
	return append([]byte{8, 0, 0, 0, byte(vni >> 16), byte(vni >> 8), byte(vni & 0xff), 0}, f...)
}

// generate sends at rate for the trial length from a thread pinned to CPU 0; returns the count sent.
func (b *bench) generate(size, rate int) (sent int, took time.Duration) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var set, old unix.CPUSet
		unix.SchedGetaffinity(0, &old)
		set.Set(0)
		unix.SchedSetaffinity(0, &set)
		defer unix.SchedSetaffinity(0, &old)
		d := datagram(size)
		const batch = 64
		hdrs := make([]unix.Mmsghdr, batch)
		iovs := make([]unix.Iovec, batch)
		for i := range hdrs {
			iovs[i].Base = &d[0]
			iovs[i].SetLen(len(d))
			hdrs[i].Hdr.Iov = &iovs[i]
			hdrs[i].Hdr.SetIovlen(1)
		}
		total := int(float64(rate) * trialLen.Seconds())
		start := time.Now()
		limit := start.Add(*trialLen + *trialLen/2)
		for sent < total {
			now := time.Now()
			if now.After(limit) {
				break
			}
			due := int(float64(rate)*now.Sub(start).Seconds()) - sent
			if due <= 0 {
				time.Sleep(50 * time.Microsecond)
				continue
			}
			n := min(due, batch, total-sent)
			r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(b.fd), uintptr(unsafe.Pointer(&hdrs[0])), uintptr(n), 0, 0, 0)
			if e == 0 {
				sent += int(r)
			}
		}
		took = time.Since(start)
	}()
	<-done
	return sent, took
}

func vmHWM(pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "VmHWM:") {
			kb, _ := strconv.Atoi(strings.Fields(sc.Text())[1])
			return float64(kb) / 1024
		}
	}
	return 0
}

func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndex(s, ")")+2:])
	ut, _ := strconv.Atoi(fields[11])
	st, _ := strconv.Atoi(fields[12])
	return float64(ut+st) / 100
}

// countFrames counts the records of our size in every pcap under dir (headers only).
func countFrames(dir string, size int) (n int, bytes int64) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".pcap") {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return nil
		}
		defer f.Close()
		r := bufio.NewReaderSize(f, 1<<20)
		var h [24]byte
		if _, err := ioReadFull(r, h[:]); err != nil {
			return nil
		}
		st, _ := f.Stat()
		bytes += st.Size()
		var rec [16]byte
		for {
			if _, err := ioReadFull(r, rec[:]); err != nil {
				return nil
			}
			incl := int(binary.LittleEndian.Uint32(rec[8:]))
			if incl == size {
				n++
			}
			if _, err := r.Discard(incl); err != nil {
				return nil
			}
		}
	})
	return n, bytes
}

func ioReadFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (b *bench) runReceiver(size, rate, rcvbuf int, mode string) trial {
	spool, sink := filepath.Join(b.dir, "spool"), filepath.Join(b.dir, "sink")
	os.RemoveAll(spool)
	os.RemoveAll(sink)
	defer os.RemoveAll(spool)
	defer os.RemoveAll(sink)
	cmd := exec.Command("taskset", "-c", "1", "ip", "netns", "exec", b.rx, b.bin)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "MIRROR_RECEIVER_SINK=dir", "MIRROR_RECEIVER_SINK_DIR=" + sink,
		"MIRROR_RECEIVER_PREFIX=bench/", "MIRROR_RECEIVER_SPOOL_DIR=" + spool, "MIRROR_RECEIVER_HEALTH_PORT=0",
		"MIRROR_RECEIVER_LISTEN=" + rxAddr + ":4789", "MIRROR_RECEIVER_HOST_ID=bench"}
	program := "receiver"
	if rcvbuf > 0 {
		cmd.Env = append(cmd.Env, "MIRROR_RECEIVER_RCVBUF_BYTES="+strconv.Itoa(rcvbuf))
		program = "receiver-default-rcvbuf"
	}
	if mode == "packet" {
		cmd.Env = append(cmd.Env, "MIRROR_RECEIVER_READ=packet", "MIRROR_RECEIVER_INTERFACE="+b.rxIf)
		program = "receiver-packet"
	}
	stdout, _ := cmd.StdoutPipe()
	must(cmd.Start())
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		once := false
		for sc.Scan() {
			if !once && strings.Contains(sc.Text(), `"receiving"`) {
				once = true
				close(ready)
			}
		}
		if !once {
			close(ready)
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		must(fmt.Errorf("receiver did not start"))
	}
	cpu0 := cpuSeconds(cmd.Process.Pid)
	sent, took := b.generate(size, rate)
	time.Sleep(300 * time.Millisecond)
	t := trial{Program: program, Target: rate, Sent: sent, Pps: int(float64(sent) / took.Seconds())}
	t.RssMiB = vmHWM(cmd.Process.Pid)
	t.CPUSec = cpuSeconds(cmd.Process.Pid) - cpu0
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	t.Got, _ = countFrames(sink, size)
	t.LossFree = t.Got == sent
	fmt.Fprintf(os.Stderr, "  %s %4d B target %7d sent %7d got %7d (%d pps) rss %.1f MiB lossFree=%v\n", program, size, rate, sent, t.Got, t.Pps, t.RssMiB, t.LossFree)
	return t
}

var tdStat = regexp.MustCompile(`(\d+) packets (captured|dropped by kernel)`)

func (b *bench) runTcpdump(size, rate int) trial {
	must(sh("ip", "-n", b.rx, "link", "add", "vx0", "type", "vxlan", "id", strconv.Itoa(vni), "dstport", "4789", "local", rxAddr, "nolearning"))
	defer exec.Command("ip", "-n", b.rx, "link", "del", "vx0").Run()
	must(sh("ip", "-n", b.rx, "link", "set", "vx0", "addrgenmode", "none"))
	must(sh("ip", "-n", b.rx, "link", "set", "vx0", "up"))
	file := filepath.Join(b.dir, "tcpdump.pcap")
	defer os.Remove(file)
	cmd := exec.Command("taskset", "-c", "1", "ip", "netns", "exec", b.rx, "tcpdump", "-i", "vx0", "-n", "-w", file)
	stderr, _ := cmd.StderrPipe()
	must(cmd.Start())
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for l := range lines {
		if strings.Contains(l, "listening on") {
			break
		}
	}
	sent, took := b.generate(size, rate)
	time.Sleep(1500 * time.Millisecond) // libpcap hands over its last ring block after its timeout
	cmd.Process.Signal(syscall.SIGINT)
	t := trial{Program: "tcpdump", Target: rate, Sent: sent, Pps: int(float64(sent) / took.Seconds())}
	captured := -1
	for l := range lines {
		if m := tdStat.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			if m[2] == "captured" {
				captured = n
			} else {
				t.Dropped = n
			}
		}
	}
	cmd.Wait()
	inFile, _ := countFrames(b.dir, size)
	t.Got = min(captured, inFile)
	t.LossFree = captured == sent && t.Dropped == 0 && inFile == sent
	fmt.Fprintf(os.Stderr, "  tcpdump  %4d B target %7d sent %7d captured %7d in file %7d dropped %d lossFree=%v\n", size, rate, sent, captured, inFile, t.Dropped, t.LossFree)
	return t
}
