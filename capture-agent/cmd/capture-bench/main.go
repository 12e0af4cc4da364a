// capture-bench measures the agent's loss-free mirror rate, CPU and memory against tcpdump, in network namespaces (run as root).
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/netns"
)

// Addresses inside the bench's own namespaces only (198.18.0.0/15, the benchmark range).
const (
	taskAddr     = "198.18.0.1"
	sinkAddr     = "198.18.0.2"
	receiverAddr = "198.18.0.3"
	sinkPort     = 9000
)

type result struct {
	Bytes                            int     `json:"bytes"`
	AgentLossFreePps                 int     `json:"agentLossFreePps"`
	TcpdumpLossFreePps               int     `json:"tcpdumpLossFreePps"`
	AgentRssMiB                      float64 `json:"agentRssMiB"`
	AppThroughputRatio               float64 `json:"appThroughputRatio"`
	AppPpsAtLossFreeRateWithAgent    int     `json:"appPpsAtLossFreeRateWithAgent"`
	AppPpsAtLossFreeRateWithoutAgent int     `json:"appPpsAtLossFreeRateWithoutAgent"`
	AppThroughputRatioAtFullBlast    float64 `json:"appThroughputRatioAtFullBlast"`
	AgentCpuSecondsPerMillionPackets float64 `json:"agentCpuSecondsPerMillionPackets"`
	GeneratorMaxPps                  int     `json:"generatorMaxPps"`
	AppPpsWithoutAgent               int     `json:"appPpsWithoutAgent"`
	AppPpsWithAgent                  int     `json:"appPpsWithAgent"`
}

var (
	trial   = flag.Duration("trial", 2*time.Second, "length of one trial")
	out     = flag.String("out", "", "write JSON results here")
	agentBn = flag.String("agent", "", "agent binary (default: build it)")
	sizes   = flag.String("sizes", "64,512,1500", "frame sizes in bytes")
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "capture-bench:", err)
		os.Exit(1)
	}
}

func sh(args ...string) {
	_, err := netns.Cmd(args...)
	must(err)
}

type bench struct {
	task, peer, taskIf string
	agentBin, dir      string
	sinkCount          atomic.Uint64 // app packets at the sink
	mirrorCount        atomic.Uint64 // mirrored app packets at the receiver
}

func (b *bench) setup() {
	id := fmt.Sprintf("%04x%02x", os.Getpid()&0xffff, rand.IntN(256))
	b.task, b.peer, b.taskIf = "ftmb-task-"+id, "ftmb-peer-"+id, "ftmbt"+id
	sh("ip", "netns", "add", b.task)
	sh("ip", "netns", "add", b.peer)
	sh("ip", "link", "add", b.taskIf, "netns", b.task, "type", "veth", "peer", "name", "ftmbp"+id, "netns", b.peer)
	sh("ip", "-n", b.task, "addr", "add", taskAddr+"/24", "dev", b.taskIf)
	sh("ip", "-n", b.task, "link", "set", b.taskIf, "up")
	sh("ip", "-n", b.peer, "addr", "add", sinkAddr+"/24", "dev", "ftmbp"+id)
	sh("ip", "-n", b.peer, "addr", "add", receiverAddr+"/24", "dev", "ftmbp"+id)
	sh("ip", "-n", b.peer, "link", "set", "ftmbp"+id, "up")
	// Static neighbours: no ARP in the measured traffic.
	var mac net.HardwareAddr
	must(netns.Run(b.peer, func() error {
		i, err := net.InterfaceByName("ftmbp" + id)
		if err == nil {
			mac = i.HardwareAddr
		}
		return err
	}))
	for _, a := range []string{sinkAddr, receiverAddr} {
		sh("ip", "-n", b.task, "neigh", "replace", a, "lladdr", mac.String(), "dev", b.taskIf)
	}
	b.counter(sinkAddr, sinkPort, &b.sinkCount, false)
	b.counter(receiverAddr, 4789, &b.mirrorCount, true)
}

func (b *bench) cleanup() {
	exec.Command("ip", "netns", "del", b.task).Run()
	exec.Command("ip", "netns", "del", b.peer).Run()
}

// counter counts datagrams on addr:port in the peer namespace; for the mirror receiver only
// mirrored app packets (inner UDP to the sink port) count.
func (b *bench) counter(addr string, port int, n *atomic.Uint64, vxlan bool) {
	var c *net.UDPConn
	must(netns.Run(b.peer, func() (err error) {
		c, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(addr), Port: port})
		return
	}))
	c.SetReadBuffer(64 << 20)
	// Batched receives (recvmmsg), so the bench's own counters are never what limits a rate.
	pc := ipv4.NewPacketConn(c)
	go func() {
		msgs := make([]ipv4.Message, 64)
		for i := range msgs {
			msgs[i].Buffers = [][]byte{make([]byte, 65536)}
		}
		for {
			k, err := pc.ReadBatch(msgs, 0)
			if err != nil {
				return
			}
			for _, m := range msgs[:k] {
				if !vxlan {
					n.Add(1)
					continue
				}
				buf := m.Buffers[0][:m.N]
				if len(buf) < 8 {
					continue
				}
				f := buf[8:]
				if len(f) >= 38 && binary.BigEndian.Uint16(f[12:]) == 0x0800 && f[23] == 17 && binary.BigEndian.Uint16(f[36:]) == sinkPort {
					n.Add(1)
				}
			}
		}
	}()
}

// send paces UDP datagrams of frame size `size` at pps (0: as fast as possible) for d, in
// batches of up to 64 per sendmmsg, so the generator reaches rates a write per datagram cannot.
func (b *bench) send(size, pps int, d time.Duration) (sent int) {
	var c *net.UDPConn
	must(netns.Run(b.task, func() (err error) {
		c, err = net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(198, 18, 0, 2), Port: sinkPort})
		return
	}))
	defer c.Close()
	c.SetWriteBuffer(8 << 20)
	pc := ipv4.NewPacketConn(c)
	payload := make([]byte, size-42) // Ethernet 14 + IPv4 20 + UDP 8
	msgs := make([]ipv4.Message, 64)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{payload}
	}
	start := time.Now()
	for {
		el := time.Since(start)
		if el >= d {
			return sent
		}
		want := int(el.Seconds() * float64(pps))
		if pps == 0 {
			want = sent + len(msgs)
		}
		if sent >= want {
			time.Sleep(50 * time.Microsecond)
			continue
		}
		for sent < want {
			k, err := pc.WriteBatch(msgs[:min(len(msgs), want-sent)], 0)
			if err != nil || k == 0 {
				break
			}
			sent += k
		}
	}
}

func cpuTicks(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100 // USER_HZ
}

func vmHWM(pid int) float64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	kb, _ := strconv.ParseFloat(string(m[1]), 64)
	return kb / 1024
}

type agentProc struct {
	cmd *exec.Cmd
	pid int
}

func (b *bench) startAgent() *agentProc {
	cmd := exec.Command("taskset", "-c", "1", "ip", "netns", "exec", b.task, b.agentBin)
	cmd.Env = []string{"MIRROR_TARGETS=" + receiverAddr + ":4789", "MIRROR_INTERFACE=" + b.taskIf, "MIRROR_RESOLV_CONF=/nonexistent", "MIRROR_METRICS_INTERVAL_SECONDS=3600"}
	pr, _ := cmd.StdoutPipe()
	must(cmd.Start())
	sc := bufio.NewScanner(pr)
	ready := make(chan struct{})
	go func() {
		started, chosen := false, false
		for sc.Scan() {
			started = started || strings.Contains(sc.Text(), `"capture started"`)
			chosen = chosen || strings.Contains(sc.Text(), `"target chosen"`)
			if started && chosen && ready != nil {
				close(ready)
				ready = nil
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		must(fmt.Errorf("agent did not start"))
	}
	time.Sleep(500 * time.Millisecond)
	return &agentProc{cmd: cmd, pid: cmd.Process.Pid}
}

func (a *agentProc) stop() {
	a.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { a.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		a.cmd.Process.Kill()
		<-done
	}
}

// delivered is the application's packets per second that reach the sink when sent at pps.
func (b *bench) delivered(size, pps int) int {
	b.sinkCount.Store(0)
	b.send(size, pps, *trial)
	time.Sleep(200 * time.Millisecond)
	return int(float64(b.sinkCount.Load()) / trial.Seconds())
}

// agentTrial: loss-free iff every app packet sent was mirrored once (so no ring drop either).
func (b *bench) agentTrial(a *agentProc, size, pps int) (ok bool, sent int, cpu float64) {
	b.mirrorCount.Store(0)
	c0 := cpuTicks(a.pid)
	sent = b.send(size, pps, *trial)
	time.Sleep(300 * time.Millisecond)
	cpu = cpuTicks(a.pid) - c0
	got := int(b.mirrorCount.Load())
	return got == sent, sent, cpu
}

var tcpdumpStats = regexp.MustCompile(`(\d+) packets captured[\s\S]*?(\d+) packets dropped by kernel`)

func (b *bench) tcpdumpTrial(size, pps int) (ok bool, sent int) {
	cmd := exec.Command("taskset", "-c", "1", "ip", "netns", "exec", b.task, "tcpdump", "-i", b.taskIf, "-n", "-w", "/dev/null")
	pr, _ := cmd.StderrPipe()
	must(cmd.Start())
	sc := bufio.NewScanner(pr)
	for sc.Scan() && !strings.Contains(sc.Text(), "listening on") {
	}
	sent = b.send(size, pps, *trial)
	time.Sleep(1200 * time.Millisecond) // libpcap's block timeout
	cmd.Process.Signal(syscall.SIGINT)
	var rest strings.Builder
	for sc.Scan() {
		rest.WriteString(sc.Text() + "\n")
	}
	cmd.Wait()
	m := tcpdumpStats.FindStringSubmatch(rest.String())
	if m == nil {
		return false, sent
	}
	captured, _ := strconv.Atoi(m[1])
	dropped, _ := strconv.Atoi(m[2])
	return dropped == 0 && captured >= sent, sent
}

// search finds the highest loss-free rate: doubling from 25k pps, then two bisection steps;
// capped by what the generator reaches. Every trial is bounded by -trial.
func search(generatorMax int, try func(pps int) bool) int {
	best, lo := 0, 0
	hi := -1
	for pps := 25000; pps <= generatorMax; pps *= 2 {
		if try(pps) {
			best, lo = pps, pps
		} else {
			hi = pps
			break
		}
	}
	if hi < 0 {
		if best < generatorMax && try(generatorMax) {
			return generatorMax
		}
		hi = generatorMax
	}
	for i := 0; i < 2 && hi-lo > lo/10; i++ {
		mid := (lo + hi) / 2
		if try(mid) {
			best, lo = mid, mid
		} else {
			hi = mid
		}
	}
	return best
}

func main() {
	flag.Parse()
	if os.Geteuid() != 0 {
		must(fmt.Errorf("run as root (network namespaces, AF_PACKET)"))
	}
	b := &bench{}
	dir, err := os.MkdirTemp("", "capture-bench")
	must(err)
	defer os.RemoveAll(dir)
	b.agentBin = *agentBn
	if b.agentBin == "" {
		b.agentBin = filepath.Join(dir, "capture-agent")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", b.agentBin, "./cmd/capture-agent")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if o, err := cmd.CombinedOutput(); err != nil {
			must(fmt.Errorf("build agent (run from capture-agent/): %v %s", err, o))
		}
	}
	// The generator and the counters (this process) on CPU 0, the agent or tcpdump on CPU 1, one
	// at a time: both get the same core, whatever else the machine runs.
	if runtime.NumCPU() >= 2 {
		if out, err := exec.Command("taskset", "-a", "-p", "-c", "0", strconv.Itoa(os.Getpid())).CombinedOutput(); err != nil {
			must(fmt.Errorf("taskset: %v %s", err, out))
		}
	}
	b.setup()
	defer b.cleanup()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	_ = ctx

	var results []result
	for _, s := range strings.Split(*sizes, ",") {
		size, err := strconv.Atoi(strings.TrimSpace(s))
		must(err)
		r := result{Bytes: size}
		// Application throughput without the agent, at full blast: also the generator's max.
		b.sinkCount.Store(0)
		sent := b.send(size, 0, *trial)
		time.Sleep(200 * time.Millisecond)
		r.GeneratorMaxPps = int(float64(sent) / trial.Seconds())
		r.AppPpsWithoutAgent = int(float64(b.sinkCount.Load()) / trial.Seconds())

		r.TcpdumpLossFreePps = search(r.GeneratorMaxPps, func(pps int) bool {
			ok, _ := b.tcpdumpTrial(size, pps)
			fmt.Fprintf(os.Stderr, "  %5d B tcpdump %8d pps: loss-free %v\n", size, pps, ok)
			return ok
		})
		a := b.startAgent()
		var cpuAtBest float64
		var sentAtBest int
		r.AgentLossFreePps = search(r.GeneratorMaxPps, func(pps int) bool {
			ok, sent, cpu := b.agentTrial(a, size, pps)
			fmt.Fprintf(os.Stderr, "  %5d B agent   %8d pps: loss-free %v (cpu %.2fs)\n", size, pps, ok, cpu)
			if ok {
				cpuAtBest, sentAtBest = cpu, sent
			}
			return ok
		})
		if sentAtBest > 0 {
			r.AgentCpuSecondsPerMillionPackets = cpuAtBest / (float64(sentAtBest) / 1e6)
		}
		// The application's throughput at full blast with the agent (on 2 cores the generator,
		// the agent and the kernel's mirror copies share them), and at the agent's loss-free rate
		// with and without it: the goal's measure.
		b.sinkCount.Store(0)
		b.send(size, 0, *trial)
		time.Sleep(200 * time.Millisecond)
		r.AppPpsWithAgent = int(float64(b.sinkCount.Load()) / trial.Seconds())
		if r.AppPpsWithoutAgent > 0 {
			r.AppThroughputRatioAtFullBlast = float64(r.AppPpsWithAgent) / float64(r.AppPpsWithoutAgent)
		}
		rate := max(r.AgentLossFreePps, 1000)
		withAgent := b.delivered(size, rate)
		r.AgentRssMiB = vmHWM(a.pid)
		a.stop()
		withoutAgent := b.delivered(size, rate)
		r.AppPpsAtLossFreeRateWithAgent, r.AppPpsAtLossFreeRateWithoutAgent = withAgent, withoutAgent
		if withoutAgent > 0 {
			r.AppThroughputRatio = float64(withAgent) / float64(withoutAgent)
		}
		fmt.Printf("%5d B: agent %d pps, tcpdump %d pps (ratio %.2f), agent RSS %.1f MiB, cpu %.2f s/Mpkt, app %d -> %d pps (%.2f)\n",
			size, r.AgentLossFreePps, r.TcpdumpLossFreePps, float64(r.AgentLossFreePps)/float64(max(1, r.TcpdumpLossFreePps)),
			r.AgentRssMiB, r.AgentCpuSecondsPerMillionPackets, r.AppPpsWithoutAgent, r.AppPpsWithAgent, r.AppThroughputRatio)
		results = append(results, r)
	}
	doc := map[string]any{
		"date":    time.Now().UTC().Format(time.RFC3339),
		"nproc":   runtime.NumCPU(),
		"trial":   trial.String(),
		"results": results,
		"method": "veth between two network namespaces; a paced Go UDP sender (sendmmsg) in the task namespace and the counters pinned to CPU 0, the agent or tcpdump to CPU 1; loss-free = every app packet mirrored " +
			"(agent) or tcpdump -w /dev/null captured >= sent with 0 dropped by kernel; rates doubled from 25k pps then bisected twice, capped by the generator's maximum; " +
			"appThroughputRatio = the sink's pps with the agent / without it, both offered the agent's loss-free rate; appThroughputRatioAtFullBlast = the same at the generator's maximum, " +
			"where on 2 cores the generator, the agent and the kernel's mirror copies compete for CPU.",
	}
	js, _ := json.MarshalIndent(doc, "", "  ")
	fmt.Println(string(js))
	if *out != "" {
		must(os.MkdirAll(filepath.Dir(*out), 0o755))
		must(os.WriteFile(*out, append(js, '\n'), 0o644))
	}
}
