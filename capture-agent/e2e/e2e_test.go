// End-to-end test: the built agent in a network namespace mirrors a veth's traffic to a UDP
// receiver; an independent tcpdump capture of the same interface is the reference.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/filter"
)

// Addresses: only inside the test's namespaces (198.18.0.0/15 benchmark range, fd00::/8 ULA).
const (
	taskAddr     = "198.18.0.1"
	peerAddr     = "198.18.0.2"
	receiverAddr = "198.18.0.3"
	resolverAddr = "198.18.0.53"
	taskAddr6    = "fd00::1"
	peerAddr6    = "fd00::2"
)

// The filter under test: reject UDP port 9999 both ways, accept the rest of IPv4 and IPv6.
const testFilter = `{"rules":[
 {"direction":"egress","ruleNumber":100,"action":"reject","protocol":17,"destinationPortRange":{"from":9999,"to":9999}},
 {"direction":"ingress","ruleNumber":100,"action":"reject","protocol":17,"sourcePortRange":{"from":9999,"to":9999}},
 {"direction":"egress","ruleNumber":200,"action":"accept","sourceCidr":"0.0.0.0/0","destinationCidr":"0.0.0.0/0"},
 {"direction":"ingress","ruleNumber":200,"action":"accept","sourceCidr":"0.0.0.0/0","destinationCidr":"0.0.0.0/0"},
 {"direction":"egress","ruleNumber":300,"action":"accept","sourceCidr":"::/0","destinationCidr":"::/0"},
 {"direction":"ingress","ruleNumber":300,"action":"accept","sourceCidr":"::/0","destinationCidr":"::/0"}
]}`

type env struct {
	task, peer     string // namespace names
	taskIf, peerIf string
	bin            string
	dir            string
	taskMAC        net.HardwareAddr
}

// requireRoot skips the test where it cannot run, except where CAPTURE_E2E_REQUIRED=1 (CI), which
// makes a missing prerequisite a failure, so a green CI never hides a skipped packet path.
func requireRoot(t *testing.T) {
	skip := t.Skipf
	if os.Getenv("CAPTURE_E2E_REQUIRED") == "1" {
		skip = t.Fatalf
	}
	if os.Geteuid() != 0 {
		skip("end-to-end test skipped: needs root (network namespaces, AF_PACKET)")
	}
	for _, tool := range []string{"ip", "tcpdump"} {
		if _, err := exec.LookPath(tool); err != nil {
			skip("end-to-end test skipped: %s not installed (apt-get install -y iproute2 tcpdump)", tool)
		}
	}
}

func buildAgent(t *testing.T, dir string) string {
	bin := filepath.Join(dir, "capture-agent")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "../cmd/capture-agent")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func setup(t *testing.T) *env {
	requireRoot(t)
	dir := t.TempDir()
	id := fmt.Sprintf("%04x%02x", os.Getpid()&0xffff, rand.IntN(256))
	e := &env{task: "ftm-task-" + id, peer: "ftm-peer-" + id, taskIf: "ftmt" + id, peerIf: "ftmp" + id, dir: dir}
	e.bin = buildAgent(t, dir)
	addNetns(t, e.task)
	addNetns(t, e.peer)
	run(t, "ip", "link", "add", e.taskIf, "netns", e.task, "type", "veth", "peer", "name", e.peerIf, "netns", e.peer)
	for _, c := range [][]string{
		{"-n", e.task, "addr", "add", taskAddr + "/24", "dev", e.taskIf},
		{"-n", e.task, "addr", "add", taskAddr6 + "/64", "dev", e.taskIf, "nodad"},
		{"-n", e.task, "link", "set", e.taskIf, "up"},
		{"-n", e.task, "link", "set", "lo", "up"},
		{"-n", e.peer, "addr", "add", peerAddr + "/24", "dev", e.peerIf},
		{"-n", e.peer, "addr", "add", receiverAddr + "/24", "dev", e.peerIf},
		{"-n", e.peer, "addr", "add", resolverAddr + "/24", "dev", e.peerIf},
		{"-n", e.peer, "addr", "add", peerAddr6 + "/64", "dev", e.peerIf, "nodad"},
		{"-n", e.peer, "link", "set", e.peerIf, "up"},
		{"-n", e.peer, "link", "set", "lo", "up"},
	} {
		run(t, "ip", c...)
	}
	if err := inNetns(t, e.task, func() error {
		ifc, err := net.InterfaceByName(e.taskIf)
		if err == nil {
			e.taskMAC = ifc.HardwareAddr
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

// udpEcho serves UDP echo on addr inside ns until the test ends.
func udpEcho(t *testing.T, ns, network, addr string) {
	var c net.PacketConn
	if err := inNetns(t, ns, func() (err error) { c, err = net.ListenPacket(network, addr); return }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			c.WriteTo(buf[:n], from)
		}
	}()
}

// tcpEcho serves one-line TCP echo inside ns.
func tcpEcho(t *testing.T, ns, addr string) {
	var l net.Listener
	if err := inNetns(t, ns, func() (err error) { l, err = net.Listen("tcp4", addr); return }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				line, _ := bufio.NewReader(c).ReadString('\n')
				c.Write([]byte(line))
			}()
		}
	}()
}

type receiver struct {
	mu    sync.Mutex
	grams [][]byte
	conn  net.PacketConn
	done  chan struct{}
}

func startReceiver(t *testing.T, ns string) *receiver {
	r := &receiver{done: make(chan struct{})}
	if err := inNetns(t, ns, func() (err error) { r.conn, err = net.ListenPacket("udp4", receiverAddr+":4789"); return }); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(r.done)
		buf := make([]byte, 65536)
		for {
			n, _, err := r.conn.ReadFrom(buf)
			if err != nil {
				return
			}
			r.mu.Lock()
			r.grams = append(r.grams, append([]byte(nil), buf[:n]...))
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() { r.conn.Close() })
	return r
}

func (r *receiver) stop() [][]byte {
	r.conn.Close()
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.grams
}

// waitFor reads lines from r until one contains all of want, or the deadline.
func waitLines(t *testing.T, lines <-chan string, timeout time.Duration, want ...string) {
	t.Helper()
	deadline := time.After(timeout)
	seen := map[string]bool{}
	for len(seen) < len(want) {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output closed before %v", want)
			}
			for _, w := range want {
				if strings.Contains(l, w) {
					seen[w] = true
				}
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %v (saw %v)", want, seen)
		}
	}
}

func lineChan(r interface{ Read([]byte) (int, error) }, keep *[]string, mu *sync.Mutex) <-chan string {
	ch := make(chan string, 1024)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			mu.Lock()
			*keep = append(*keep, sc.Text())
			mu.Unlock()
			select {
			case ch <- sc.Text():
			default:
			}
		}
	}()
	return ch
}

func health(e *env) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "ip", "netns", "exec", e.task, e.bin, "health").Run()
}

// generate sends the marked traffic; every step bounded.
func generate(t *testing.T, e *env) {
	dl := time.Now().Add(3 * time.Second)
	udp := func(network, to, marker string, n int) {
		var c net.Conn
		if err := inNetns(t, e.task, func() (err error) { c, err = net.Dial(network, to); return }); err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		buf := make([]byte, 256)
		for i := 0; i < n; i++ {
			c.Write([]byte(fmt.Sprintf("%s-%d", marker, i)))
			c.SetReadDeadline(time.Now().Add(time.Second))
			c.Read(buf) // echo (none for rejected/unanswered)
		}
	}
	udp("udp4", peerAddr+":7000", "ftm-udp4", 5)
	udp("udp4", peerAddr+":9999", "ftm-reject", 3)
	udp("udp6", "["+peerAddr6+"]:7001", "ftm-udp6", 3)
	udp("udp4", resolverAddr+":53", "ftm-dns", 3)

	var tc net.Conn
	if err := inNetns(t, e.task, func() (err error) { tc, err = net.DialTimeout("tcp4", peerAddr+":8000", 2*time.Second); return }); err != nil {
		t.Fatal(err)
	}
	tc.SetDeadline(dl)
	tc.Write([]byte("ftm-tcp-hello\n"))
	bufio.NewReader(tc).ReadString('\n')
	tc.Close()

	var ic *icmp.PacketConn
	if err := inNetns(t, e.task, func() (err error) { ic, err = icmp.ListenPacket("ip4:icmp", taskAddr); return }); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		m := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: 77, Seq: i, Data: []byte("ftm-icmp")}}
		b, _ := m.Marshal(nil)
		ic.WriteTo(b, &net.IPAddr{IP: net.ParseIP(peerAddr)})
		ic.SetReadDeadline(time.Now().Add(time.Second))
		rb := make([]byte, 1500)
		ic.ReadFrom(rb)
	}
	ic.Close()

	// Traffic the peer starts: arrives at the task, which has no listener (ICMP unreachable out).
	var pc net.Conn
	if err := inNetns(t, e.peer, func() (err error) { pc, err = net.Dial("udp4", taskAddr+":7002"); return }); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		pc.Write([]byte(fmt.Sprintf("ftm-in-%d", i)))
		time.Sleep(20 * time.Millisecond)
	}
	pc.Close()
}

// decodeVXLAN parses a received datagram by hand (RFC 7348 section 5).
func decodeVXLAN(t *testing.T, g []byte) (uint32, []byte) {
	if len(g) < 8 || g[0] != 0x08 || g[1] != 0 || g[2] != 0 || g[3] != 0 || g[7] != 0 {
		t.Fatalf("bad VXLAN header % x", g[:min(len(g), 8)])
	}
	return uint32(g[4])<<16 | uint32(g[5])<<8 | uint32(g[6]), g[8:]
}

func isVXLANToReceiver(f []byte) bool {
	return len(f) >= 42 && binary.BigEndian.Uint16(f[12:]) == 0x0800 && f[23] == 17 &&
		net.IP(f[30:34]).String() == receiverAddr && binary.BigEndian.Uint16(f[14+4*int(f[14]&0xf)+2:]) == 4789
}

func TestMirrorEndToEnd(t *testing.T) {
	for _, c := range []struct {
		name      string
		vni       uint32
		packetLen int
	}{{"whole frames, default VNI", 0, 0}, {"packetLength 100, VNI 4242", 4242, 100}} {
		t.Run(c.name, func(t *testing.T) { mirrorCase(t, c.vni, c.packetLen) })
	}
}

func mirrorCase(t *testing.T, vni uint32, packetLen int) {
	e := setup(t)
	udpEcho(t, e.peer, "udp4", peerAddr+":7000")
	udpEcho(t, e.peer, "udp4", peerAddr+":9999")
	udpEcho(t, e.peer, "udp6", "["+peerAddr6+"]:7001")
	udpEcho(t, e.peer, "udp4", resolverAddr+":53")
	tcpEcho(t, e.peer, peerAddr+":8000")
	recv := startReceiver(t, e.peer)

	pcap := filepath.Join(e.dir, "task.pcap")
	td := exec.Command("ip", "netns", "exec", e.task, "tcpdump", "-i", e.taskIf, "-n", "-U", "-s", "0", "-w", pcap)
	tdErr, _ := td.StderrPipe()
	if err := td.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { td.Process.Kill(); td.Wait() })
	var tdLines []string
	var mu sync.Mutex
	waitLines(t, lineChan(tdErr, &tdLines, &mu), 10*time.Second, "listening on")

	resolv := filepath.Join(e.dir, "resolv.conf")
	os.WriteFile(resolv, []byte("nameserver "+resolverAddr+"\noptions ndots:2\n"), 0o644)
	agent := exec.Command("ip", "netns", "exec", e.task, e.bin)
	agent.Env = []string{
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"MIRROR_TARGETS=" + receiverAddr + ":4789",
		"MIRROR_INTERFACE=" + e.taskIf,
		"MIRROR_RESOLV_CONF=" + resolv,
		"MIRROR_FILTER=" + testFilter,
		"MIRROR_METRICS_INTERVAL_SECONDS=1",
		"MIRROR_OWNER=e2e",
	}
	if vni != 0 {
		agent.Env = append(agent.Env, fmt.Sprintf("MIRROR_VNI=%d", vni))
	}
	if packetLen != 0 {
		agent.Env = append(agent.Env, fmt.Sprintf("MIRROR_PACKET_LENGTH=%d", packetLen))
	}
	out, _ := agent.StdoutPipe()
	agent.Stderr = os.Stderr
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	var agentLines []string
	agentOut := lineChan(out, &agentLines, &mu)
	t.Cleanup(func() {
		if t.Failed() {
			mu.Lock()
			t.Logf("agent output:\n%s", strings.Join(agentLines, "\n"))
			mu.Unlock()
		}
	})
	waitLines(t, agentOut, 10*time.Second, `"capture started"`, `"target chosen"`)
	deadline := time.Now().Add(10 * time.Second)
	for health(e) != nil {
		if time.Now().After(deadline) {
			t.Fatal("agent never healthy")
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(400 * time.Millisecond) // the capture loop applies the target at its next turn

	windowStart := time.Now()
	generate(t, e)
	windowEnd := time.Now()
	time.Sleep(700 * time.Millisecond) // blocks retire after 10 ms; datagrams cross a veth

	if err := health(e); err != nil {
		t.Errorf("health while running: %v", err)
	}
	agent.Process.Signal(syscall.SIGTERM)
	waitErr := make(chan error, 1)
	go func() { waitErr <- agent.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Errorf("agent exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("agent did not stop on SIGTERM")
	}
	if err := health(e); err == nil {
		t.Error("health exits 0 after the agent stopped")
	}
	// tcpdump's ring hands over a block after libpcap's 1 s timeout: frames still in an
	// unfinished block are lost when it stops, so give it time.
	time.Sleep(1500 * time.Millisecond)
	td.Process.Signal(syscall.SIGTERM)
	td.Wait()
	grams := recv.stop()

	frames, err := readPcap(pcap)
	if err != nil {
		t.Fatal(err)
	}
	dns, _ := filter.ReadResolvConf(resolv)
	spec, _ := filter.ParseSpec(testFilter)
	filt, err := filter.New(spec, dns)
	if err != nil {
		t.Fatal(err)
	}
	cut := func(b []byte) string {
		if packetLen > 0 && len(b) > packetLen {
			b = b[:packetLen]
		}
		return string(b)
	}
	seen := map[string]int{}        // every frame tcpdump saw (after truncation)
	expected := map[string]int{}    // accepted frames inside the traffic window
	markers := map[string]int{}     // marked frames received
	wantMarkers := map[string]int{} // marked frames tcpdump saw that the filter accepts
	tcpdumpMarkers := map[string]int{}
	for _, f := range frames {
		for _, m := range markerNames {
			if bytes.Contains(f.data, []byte(m)) {
				tcpdumpMarkers[m]++
			}
		}
	}
	for _, f := range frames {
		seen[cut(f.data)]++
		dir := filter.Ingress
		if bytes.Equal(f.data[6:12], e.taskMAC) {
			dir = filter.Egress
		}
		if isVXLANToReceiver(f.data) || !filt.Evaluate(f.data, dir) {
			continue
		}
		if f.ts.After(windowStart) && f.ts.Before(windowEnd) {
			expected[cut(f.data)]++
		}
		for _, m := range markerNames {
			if strings.Contains(cut(f.data), m) {
				wantMarkers[m]++
			}
		}
	}
	got := map[string]int{}
	for _, g := range grams {
		v, inner := decodeVXLAN(t, g)
		if v != vni {
			t.Fatalf("VNI %d, want %d", v, vni)
		}
		if packetLen > 0 && len(inner) > packetLen {
			t.Fatalf("inner frame of %d bytes above packetLength %d", len(inner), packetLen)
		}
		if isVXLANToReceiver(inner) {
			t.Fatal("VXLAN inside VXLAN: the agent mirrored its own output")
		}
		got[string(inner)]++
		for _, m := range markerNames {
			if bytes.Contains(inner, []byte(m)) {
				markers[m]++
			}
		}
	}
	if os.Getenv("FTM_E2E_DEBUG") != "" {
		os.WriteFile("/tmp/ftm-debug.pcap", mustRead(pcap), 0o644)
		for i, g := range grams {
			fmt.Fprintf(os.Stderr, "gram %d: % x\n", i, g[8:min(len(g), 80)])
		}
	}
	for f, n := range got {
		if n > seen[f] {
			t.Errorf("received %d times, tcpdump saw it %d times: % x", n, seen[f], []byte(f)[:min(len(f), 64)])
		}
	}
	missing := 0
	for f, n := range expected {
		if got[f] < n {
			missing++
			t.Errorf("accepted frame seen %d times by tcpdump in the window, received %d times: % x", n, got[f], []byte(f)[:min(len(f), 64)])
		}
	}
	t.Logf("tcpdump frames %d, accepted in window %d, datagrams received %d, markers %v", len(frames), len(expected), len(grams), markers)
	// Marked traffic: every accepted marked frame arrives, every kind of accepted traffic is
	// there, and rejected and Amazon DNS traffic (which did cross the interface) never is.
	for _, m := range markerNames {
		if markers[m] != wantMarkers[m] {
			t.Errorf("marker %s: received %d frames, tcpdump saw %d accepted", m, markers[m], wantMarkers[m])
		}
	}
	for _, m := range []string{"ftm-udp4", "ftm-udp6", "ftm-tcp", "ftm-icmp", "ftm-in"} {
		if markers[m] == 0 {
			t.Errorf("no %s frame mirrored", m)
		}
	}
	for _, m := range []string{"ftm-reject", "ftm-dns"} {
		if tcpdumpMarkers[m] == 0 {
			t.Errorf("no %s traffic crossed the interface: the test generated nothing to reject", m)
		}
		if markers[m] != 0 {
			t.Errorf("%d %s frames mirrored", markers[m], m)
		}
	}
	// The final metrics line (flushed on SIGTERM) counts what was mirrored.
	mu.Lock()
	defer mu.Unlock()
	var mirrored float64
	for _, l := range agentLines {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["_aws"] != nil {
			mirrored += m["MirroredPackets"].(float64)
			if m["Owner"] != "e2e" {
				t.Errorf("metrics line without Owner: %s", l)
			}
		}
	}
	if int(mirrored) != len(grams) {
		t.Errorf("metrics say %v mirrored, receiver got %d", mirrored, len(grams))
	}
}

var markerNames = []string{"ftm-udp4", "ftm-reject", "ftm-udp6", "ftm-dns", "ftm-tcp", "ftm-icmp", "ftm-in"}

func mustRead(p string) []byte { b, _ := os.ReadFile(p); return b }
