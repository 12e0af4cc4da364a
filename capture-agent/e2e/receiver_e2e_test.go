// End-to-end test of the mirror receiver: the real capture agent (and a test sender, for a second
// source and for malformed datagrams) sends VXLAN to the receiver in network namespaces; the
// receiver uploads to moto's S3 server (a real S3-compatible server from PyPI) on the receiver
// namespace's loopback; the test downloads every object with boto3 and reads the pcaps with
// tcpdump -r. The reference is tcpdump on the receiver namespace's interfaces.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	rxSenderAddr = "198.18.1.2" // the test sender's namespace
	rxPeerAddr2  = "198.18.1.1" // the receiver namespace's second interface
	agentVNI     = 4242
	senderVNI    = 77
	motoVersion  = "5.2.6"
)

// requireReceiverE2E is requireRoot plus python3 (for moto).
func requireReceiverE2E(t *testing.T) {
	requireRoot(t)
	if _, err := exec.LookPath("python3"); err != nil {
		if os.Getenv("CAPTURE_E2E_REQUIRED") == "1" {
			t.Fatal("python3 not installed")
		}
		t.Skip("receiver end-to-end test skipped: python3 not installed")
	}
}

// motoVenv installs moto's server once into a venv under the user cache directory.
func motoVenv(t *testing.T) string {
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	dir := filepath.Join(cache, "cdk-fargate-traffic-mirror", "moto")
	stamp := filepath.Join(dir, "installed-"+motoVersion)
	if _, err := os.Stat(stamp); err == nil {
		return dir
	}
	if out, err := exec.Command("python3", "-m", "venv", dir).CombinedOutput(); err != nil {
		t.Fatalf("venv: %v\n%s", err, out)
	}
	if out, err := exec.Command(filepath.Join(dir, "bin", "pip"), "install", "-q", "moto[server]=="+motoVersion).CombinedOutput(); err != nil {
		t.Fatalf("pip install moto: %v\n%s", err, out)
	}
	os.WriteFile(stamp, nil, 0o644)
	return dir
}

func buildReceiver(t *testing.T, dir string) string {
	bin := filepath.Join(dir, "mirror-receiver")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "../cmd/mirror-receiver")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// s3py runs a boto3 script against moto inside namespace ns.
func s3py(t *testing.T, venv, ns, endpoint, script string, args ...string) string {
	t.Helper()
	pre := "import boto3,sys\ns3=boto3.client('s3',endpoint_url='" + endpoint + "',aws_access_key_id='test',aws_secret_access_key='test',region_name='us-east-1')\n"
	a := append([]string{"netns", "exec", ns, filepath.Join(venv, "bin", "python"), "-c", pre + script}, args...)
	return run(t, "ip", a...)
}

type truthGram struct {
	ts      time.Time
	src     string
	payload []byte
}

// readTruth extracts the UDP payloads to port 4789 from a tcpdump capture (IPv4, no fragments).
func readTruth(t *testing.T, path string) []truthGram {
	frames, err := readPcap(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []truthGram
	for _, f := range frames {
		d := f.data
		if len(d) < 42 || binary.BigEndian.Uint16(d[12:]) != 0x0800 || d[23] != 17 {
			continue
		}
		ihl := 14 + 4*int(d[14]&0xf)
		if binary.BigEndian.Uint16(d[ihl+2:]) != 4789 {
			continue
		}
		out = append(out, truthGram{ts: f.ts, src: net.IP(d[26:30]).String(), payload: d[ihl+8:]})
	}
	return out
}

// validVXLAN is the test's own reading of RFC 7348 section 5 as the receiver must apply it.
func validVXLAN(p []byte) (uint32, []byte, bool) {
	if len(p) < 22 || p[0] != 8 || p[1] != 0 || p[2] != 0 || p[3] != 0 || p[7] != 0 {
		return 0, nil, false
	}
	return uint32(p[4])<<16 | uint32(p[5])<<8 | uint32(p[6]), p[8:], true
}

type indexLine struct {
	Key             string    `json:"key"`
	Source          string    `json:"source"`
	VNI             uint32    `json:"vni"`
	FirstPacketTime time.Time `json:"firstPacketTime"`
	LastPacketTime  time.Time `json:"lastPacketTime"`
	Packets         int       `json:"packets"`
	Bytes           int       `json:"bytes"`
	FileBytes       int       `json:"fileBytes"`
	FlowsTruncated  bool      `json:"flowsTruncated"`
	Flows           []struct {
		Protocol int    `json:"protocol"`
		Src      string `json:"src"`
		SrcPort  int    `json:"srcPort"`
		Dst      string `json:"dst"`
		DstPort  int    `json:"dstPort"`
		Packets  int    `json:"packets"`
	} `json:"flows"`
}

// flowOf is the test's own 5-tuple reading (IPv4/IPv6, TCP/UDP ports).
func flowOf(f []byte) (string, bool) {
	if len(f) < 14 {
		return "", false
	}
	switch binary.BigEndian.Uint16(f[12:]) {
	case 0x0800:
		ip := f[14:]
		if len(ip) < 20 {
			return "", false
		}
		ihl := 4 * int(ip[0]&0xf)
		sp, dp := 0, 0
		if (ip[9] == 6 || ip[9] == 17) && len(ip) >= ihl+4 {
			sp, dp = int(binary.BigEndian.Uint16(ip[ihl:])), int(binary.BigEndian.Uint16(ip[ihl+2:]))
		}
		return fmt.Sprintf("%d %s %d %s %d", ip[9], net.IP(ip[12:16]), sp, net.IP(ip[16:20]), dp), true
	case 0x86dd:
		ip := f[14:]
		if len(ip) < 40 {
			return "", false
		}
		sp, dp := 0, 0
		if (ip[6] == 6 || ip[6] == 17) && len(ip) >= 44 {
			sp, dp = int(binary.BigEndian.Uint16(ip[40:])), int(binary.BigEndian.Uint16(ip[42:]))
		}
		return fmt.Sprintf("%d %s %d %s %d", ip[6], net.IP(ip[8:24]), sp, net.IP(ip[24:40]), dp), true
	}
	return "", false
}

// tcpdumpRead reads a pcap with tcpdump (which rejects a malformed file) and parses its pcap output.
func tcpdumpRead(t *testing.T, path string) []pcapFrame {
	t.Helper()
	out := path + ".tcpdump"
	cmd := exec.Command("tcpdump", "-r", path, "-nn", "--time-stamp-precision=nano", "-w", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tcpdump -r %s: %v\n%s", path, err, b)
	}
	frames, err := readPcap(out)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return frames
}

func startTcpdump(t *testing.T, ns, ifc, path string) *exec.Cmd {
	td := exec.Command("ip", "netns", "exec", ns, "tcpdump", "-i", ifc, "-n", "-U", "-s", "0", "--time-stamp-precision=nano", "-w", path, "udp", "port", "4789")
	stderr, _ := td.StderrPipe()
	if err := td.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { td.Process.Kill(); td.Wait() })
	var lines []string
	var mu sync.Mutex
	waitLines(t, lineChan(stderr, &lines, &mu), 10*time.Second, "listening on")
	return td
}

func TestReceiverEndToEnd(t *testing.T) {
	for _, mode := range []string{"socket", "packet"} {
		t.Run("read "+mode, func(t *testing.T) { receiverCase(t, mode) })
	}
}

func receiverCase(t *testing.T, mode string) {
	requireReceiverE2E(t)
	venv := motoVenv(t)
	start := time.Now()
	e := setup(t) // task <-> peer namespaces; the receiver runs in peer (198.18.0.3 among its addresses)
	rxBin := buildReceiver(t, e.dir)
	id := fmt.Sprintf("%04x%02x", os.Getpid()&0xffff, rand.IntN(256))
	senderNS, sIf, pIf := "ftm-snd-"+id, "ftms"+id, "ftmq"+id
	addNetns(t, senderNS)
	run(t, "ip", "link", "add", sIf, "netns", senderNS, "type", "veth", "peer", "name", pIf, "netns", e.peer)
	for _, c := range [][]string{
		{"-n", senderNS, "addr", "add", rxSenderAddr + "/24", "dev", sIf},
		{"-n", senderNS, "link", "set", sIf, "up"},
		{"-n", e.peer, "addr", "add", rxPeerAddr2 + "/24", "dev", pIf},
		{"-n", e.peer, "link", "set", pIf, "up"},
	} {
		run(t, "ip", c...)
	}
	udpEcho(t, e.peer, "udp4", peerAddr+":7000")
	tcpEcho(t, e.peer, peerAddr+":8000")

	// moto on the receiver namespace's loopback
	port := 20000 + rand.IntN(20000)
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	moto := exec.Command("ip", "netns", "exec", e.peer, filepath.Join(venv, "bin", "moto_server"), "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	motoLog, _ := os.Create(filepath.Join(e.dir, "moto.log"))
	moto.Stdout, moto.Stderr = motoLog, motoLog
	if err := moto.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { moto.Process.Kill(); moto.Wait() })
	for deadline := time.Now().Add(20 * time.Second); ; {
		err := inNetns(t, e.peer, func() error {
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
			if err == nil {
				c.Close()
			}
			return err
		})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("moto did not start: " + string(mustRead(filepath.Join(e.dir, "moto.log"))))
		}
		time.Sleep(200 * time.Millisecond)
	}
	const bucket = "ftm-receiver-e2e"
	s3py(t, venv, e.peer, endpoint, "s3.create_bucket(Bucket='"+bucket+"')")

	truth1 := filepath.Join(e.dir, "truth-task.pcap")
	truth2 := filepath.Join(e.dir, "truth-sender.pcap")
	td1 := startTcpdump(t, e.peer, e.peerIf, truth1)
	td2 := startTcpdump(t, e.peer, pIf, truth2)

	spool := filepath.Join(e.dir, "spool")
	rx := exec.Command("ip", "netns", "exec", e.peer, rxBin)
	rx.Env = []string{
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"MIRROR_S3_ENDPOINT=" + endpoint,
		"MIRROR_RECEIVER_BUCKET=" + bucket, "MIRROR_RECEIVER_PREFIX=capture/",
		"MIRROR_RECEIVER_SPOOL_DIR=" + spool,
		"MIRROR_RECEIVER_ROTATE_SECONDS=1", "MIRROR_RECEIVER_ROTATE_BYTES=65536",
		"MIRROR_RECEIVER_METRICS_INTERVAL_SECONDS=1", "MIRROR_RECEIVER_NAME=e2e",
		"MIRROR_RECEIVER_HOST_ID=e2e-task", "MIRROR_RECEIVER_STOP_TIMEOUT_SECONDS=25",
		"MIRROR_RECEIVER_READ=" + mode, "MIRROR_RECEIVER_INTERFACE=any",
	}
	rxOut, _ := rx.StdoutPipe()
	rx.Stderr = os.Stderr
	if err := rx.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rx.Process.Kill(); rx.Wait() })
	var rxLines []string
	var mu sync.Mutex
	rxCh := lineChan(rxOut, &rxLines, &mu)
	t.Cleanup(func() {
		if t.Failed() {
			mu.Lock()
			t.Logf("receiver output:\n%s", strings.Join(rxLines, "\n"))
			mu.Unlock()
		}
	})
	waitLines(t, rxCh, 10*time.Second, `"receiving"`)
	rxHealth := func() error {
		return exec.Command("ip", "netns", "exec", e.peer, rxBin, "health").Run()
	}
	if err := rxHealth(); err != nil {
		t.Fatalf("receiver health: %v", err)
	}

	// The capture agent mirrors the task's traffic to the receiver.
	resolv := filepath.Join(e.dir, "resolv.conf")
	os.WriteFile(resolv, []byte("nameserver "+resolverAddr+"\n"), 0o644)
	agent := exec.Command("ip", "netns", "exec", e.task, e.bin)
	agent.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "MIRROR_TARGETS=" + receiverAddr + ":4789",
		"MIRROR_INTERFACE=" + e.taskIf, "MIRROR_RESOLV_CONF=" + resolv, fmt.Sprintf("MIRROR_VNI=%d", agentVNI)}
	agentOut, _ := agent.StdoutPipe()
	agent.Stderr = os.Stderr
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	var agentLines []string
	waitLines(t, lineChan(agentOut, &agentLines, &mu), 10*time.Second, `"capture started"`, `"target chosen"`)
	time.Sleep(400 * time.Millisecond)

	// Marked traffic of the task: UDP echo and a TCP exchange.
	var uc net.Conn
	if err := inNetns(t, e.task, func() (err error) { uc, err = net.Dial("udp4", peerAddr+":7000"); return }); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	for i := 0; i < 200; i++ {
		uc.Write([]byte(fmt.Sprintf("ftm-rx-udp-%d", i)))
		uc.SetReadDeadline(time.Now().Add(time.Second))
		uc.Read(buf)
	}
	uc.Close()
	var tc net.Conn
	if err := inNetns(t, e.task, func() (err error) { tc, err = net.DialTimeout("tcp4", peerAddr+":8000", 2*time.Second); return }); err != nil {
		t.Fatal(err)
	}
	tc.SetDeadline(time.Now().Add(3 * time.Second))
	tc.Write([]byte("ftm-rx-tcp\n"))
	bufio.NewReader(tc).ReadString('\n')
	tc.Close()

	// The test sender: valid datagrams (VNI 77) with malformed ones in between.
	var sc net.PacketConn
	if err := inNetns(t, senderNS, func() (err error) { sc, err = net.ListenPacket("udp4", rxSenderAddr+":0"); return }); err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	to := &net.UDPAddr{IP: net.ParseIP(rxPeerAddr2), Port: 4789}
	rng := rand.New(rand.NewPCG(7, 7))
	inner := func(seq int) []byte {
		// Ethernet/IPv4/UDP 198.18.9.1:5000 -> 198.18.9.2:6000 with a marked payload
		f := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0, 0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 9, 1, 198, 18, 9, 2, 0x13, 0x88, 0x17, 0x70, 0, 0, 0, 0}
		p := []byte(fmt.Sprintf("ftm-rx-snd-%06d-%s", seq, strings.Repeat("p", rng.IntN(120))))
		binary.BigEndian.PutUint16(f[16:], uint16(28+len(p)))
		binary.BigEndian.PutUint16(f[38:], uint16(8+len(p)))
		return append(f, p...)
	}
	vx := func(vni uint32, f []byte) []byte {
		return append([]byte{8, 0, 0, 0, byte(vni >> 16), byte(vni >> 8), byte(vni), 0}, f...)
	}
	malformed := map[string]int{}
	seq := 0
	for i := 0; i < 500; i++ {
		sc.WriteTo(vx(senderVNI, inner(seq)), to)
		seq++
		if i%20 == 0 {
			f := inner(seq)
			bad := [][]byte{
				vx(senderVNI, f)[:8+13],                                // truncated: header and 13 bytes
				append([]byte{0, 0, 0, 0, 0, 0, 77, 0}, f...),          // I flag missing
				append([]byte{0x0c, 0, 0, 0, 0, 0, 77, 0}, f...),       // another flag bit set
				append([]byte{8, 0, 0, 0, 0, 0, 77, 1}, f...),          // reserved byte 7 set
				append([]byte{0x5a}, make([]byte, 40+rng.IntN(60))...), // random bytes (first byte not 0x08)
			}
			for j := 1; j < len(bad[4]); j++ {
				bad[4][j] = byte(rng.Uint32())
			}
			for k, b := range bad {
				sc.WriteTo(b, to)
				malformed[[]string{"TooShort", "BadFlags", "BadFlags", "ReservedBits", "BadFlags"}[k]]++
			}
		}
		if i%50 == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	time.Sleep(1500 * time.Millisecond) // let a time rotation happen and files upload while running

	// SIGTERM mid-stream: the sender keeps sending 20000 datagrams over about 2 s.
	sendDone := make(chan struct{})
	go func() {
		defer close(sendDone)
		for i := 0; i < 20000; i++ {
			sc.WriteTo(vx(senderVNI, inner(seq+i)), to)
			if i%100 == 99 {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}()
	time.Sleep(700 * time.Millisecond)
	sigterm := time.Now()
	rx.Process.Signal(syscall.SIGTERM)
	waitErr := make(chan error, 1)
	go func() { waitErr <- rx.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Errorf("receiver exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("receiver did not stop within 30 s of SIGTERM")
	}
	stopTook := time.Since(sigterm)
	<-sendDone
	if rxHealth() == nil {
		t.Error("health succeeds after the receiver stopped")
	}
	agent.Process.Signal(syscall.SIGTERM)
	agent.Wait()
	time.Sleep(1500 * time.Millisecond) // tcpdump hands over its last ring block
	td1.Process.Signal(syscall.SIGTERM)
	td2.Process.Signal(syscall.SIGTERM)
	td1.Wait()
	td2.Wait()

	// Download every object with boto3.
	dl := filepath.Join(e.dir, "s3")
	s3py(t, venv, e.peer, endpoint, `
import os
p=s3.get_paginator('list_objects_v2')
for page in p.paginate(Bucket=sys.argv[1]):
    for o in page.get('Contents',[]):
        d=os.path.join(sys.argv[2],o['Key']); os.makedirs(os.path.dirname(d),exist_ok=True)
        s3.download_file(sys.argv[1],o['Key'],d)
`, bucket, dl)

	// Read the metrics the receiver printed.
	mu.Lock()
	sum := map[string]float64{}
	for _, l := range rxLines {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["_aws"] != nil {
			for k, v := range m {
				if f, ok := v.(float64); ok && k != "SpooledFiles" && k != "SpoolBytes" {
					sum[k] += f
				}
			}
			if m["Receiver"] != "e2e" || m["service"] != "fargate-traffic-mirror" {
				t.Errorf("metrics dimensions: %s", l)
			}
		}
	}
	mu.Unlock()

	// Every pcap: read with tcpdump; its index line must describe it.
	type rec struct {
		ts   time.Time
		data []byte
	}
	streams := map[string][]struct {
		seq  int
		recs []rec
	}{}
	got := map[string]int{} // "vni source frame" -> count
	var pcaps, indexes int
	var totalPackets int
	filepath.WalkDir(dl, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".pcap") {
			return nil
		}
		pcaps++
		key := strings.TrimPrefix(p, dl+"/")
		parts := strings.Split(key, "/")
		if len(parts) != 6 || parts[0] != "capture" || !strings.HasPrefix(parts[1], "vni=") || !strings.HasPrefix(parts[2], "source=") ||
			!strings.HasPrefix(parts[3], "date=") || !strings.HasPrefix(parts[4], "hour=") || !strings.Contains(parts[5], "-e2e-task-") {
			t.Errorf("key layout: %s", key)
			return nil
		}
		name := strings.TrimSuffix(parts[5], ".pcap")
		idxPath := filepath.Join(dl, "capture", "index", parts[3], parts[4], name+".jsonl")
		b, err := os.ReadFile(idxPath)
		if err != nil {
			t.Errorf("no index object for %s", key)
			return nil
		}
		indexes++
		var il indexLine
		if err := json.Unmarshal(bytes.TrimSpace(b), &il); err != nil || bytes.Count(b, []byte("\n")) != 1 {
			t.Errorf("index %s: %v %q", idxPath, err, b)
			return nil
		}
		frames := tcpdumpRead(t, p)
		vni, _ := strconv.Atoi(strings.TrimPrefix(parts[1], "vni="))
		src := strings.TrimPrefix(parts[2], "source=")
		nbytes := 0
		flows := map[string]int{}
		var recs []rec
		for _, f := range frames {
			if f.wire != len(f.data) {
				t.Errorf("%s: frame cut (%d of %d bytes)", key, len(f.data), f.wire)
			}
			nbytes += len(f.data)
			got[fmt.Sprintf("%d %s %x", vni, src, f.data)]++
			if fl, ok := flowOf(f.data); ok {
				flows[fl]++
			}
			recs = append(recs, rec{f.ts, f.data})
		}
		st, _ := os.Stat(p)
		if il.Key != key || il.Source != src || int(il.VNI) != vni || il.Packets != len(frames) || il.Bytes != nbytes ||
			il.FileBytes != int(st.Size()) || len(frames) == 0 || !il.FirstPacketTime.Equal(frames[0].ts) ||
			!il.LastPacketTime.Equal(frames[len(frames)-1].ts) {
			t.Errorf("index line does not match %s (%d frames, %d bytes, %d file bytes): %s", key, len(frames), nbytes, st.Size(), b)
		}
		idxFlows := map[string]int{}
		for _, f := range il.Flows {
			idxFlows[fmt.Sprintf("%d %s %d %s %d", f.Protocol, net.ParseIP(f.Src), f.SrcPort, net.ParseIP(f.Dst), f.DstPort)] = f.Packets
		}
		if il.FlowsTruncated || fmt.Sprint(idxFlows) != fmt.Sprint(flows) {
			t.Errorf("%s: index flows %v, file flows %v", key, idxFlows, flows)
		}
		seqN, _ := strconv.Atoi(name[strings.LastIndex(name, "-")+1:])
		sk := parts[1] + " " + parts[2]
		streams[sk] = append(streams[sk], struct {
			seq  int
			recs []rec
		}{seqN, recs})
		totalPackets += len(frames)
		return nil
	})
	// time-ordered per source, across its files in the order they were opened
	for sk, files := range streams {
		sort.Slice(files, func(i, j int) bool { return files[i].seq < files[j].seq })
		var last time.Time
		for _, f := range files {
			for _, r := range f.recs {
				if r.ts.Before(last) {
					t.Errorf("stream %s: time goes back from %v to %v", sk, last, r.ts)
				}
				last = r.ts
			}
		}
	}

	// The reference: every valid datagram that reached the receiver's namespace before SIGTERM is
	// in S3 exactly once, byte-identical; nothing in S3 was not sent; malformed ones are not there.
	truth := append(readTruth(t, truth1), readTruth(t, truth2)...)
	want := map[string]int{}
	mustHave := map[string]int{}
	var malformedSeen, markersAgent, markersAgentGot int
	for _, g := range truth {
		vni, f, ok := validVXLAN(g.payload)
		if !ok {
			malformedSeen++
			continue
		}
		k := fmt.Sprintf("%d %s %x", vni, g.src, f)
		want[k]++
		if g.ts.Before(sigterm) {
			mustHave[k]++
		}
		if bytes.Contains(f, []byte("ftm-rx-udp-")) {
			markersAgent++
		}
	}
	for k, n := range mustHave {
		if got[k] < n {
			t.Errorf("frame received before SIGTERM missing from S3 (%d of %d): %.120s", got[k], n, k)
		}
	}
	for k, n := range got {
		if n > want[k] {
			t.Errorf("frame in S3 %d times, sent %d times: %.120s", n, want[k], k)
		}
		if strings.Contains(k, fmt.Sprintf("%x", "ftm-rx-udp-")) {
			markersAgentGot += n
		}
	}
	if markersAgent < 400 || markersAgentGot != markersAgent {
		t.Errorf("agent's marked frames: %d in S3, %d sent (want 400: 200 requests and their echoes)", markersAgentGot, markersAgent)
	}
	if len(mustHave) == 0 || len(got) == 0 {
		t.Fatal("nothing received")
	}
	if int(sum["ReceivedPackets"]) != totalPackets {
		t.Errorf("receiver counted %v packets, S3 holds %d", sum["ReceivedPackets"], totalPackets)
	}
	for reason, n := range malformed {
		if int(sum["MalformedDatagrams"+reason]) != n {
			t.Errorf("MalformedDatagrams%s %v, sent %d", reason, sum["MalformedDatagrams"+reason], n)
		}
	}
	if malformedSeen != 125 || int(sum["MalformedDatagrams"]) != 125 {
		t.Errorf("malformed: %d on the wire, %v counted, want 125", malformedSeen, sum["MalformedDatagrams"])
	}
	if sum["FlushedAtStop"] != 1 || int(sum["FilesUploaded"]) != pcaps || pcaps != indexes || sum["UploadFailures"] != 0 {
		t.Errorf("FlushedAtStop %v, FilesUploaded %v, %d pcaps, %d index objects, UploadFailures %v", sum["FlushedAtStop"], sum["FilesUploaded"], pcaps, indexes, sum["UploadFailures"])
	}
	if len(streams) != 2 {
		t.Errorf("streams %v, want the agent's and the sender's", len(streams))
	}
	if ents, _ := os.ReadDir(spool); len(ents) != 0 {
		t.Errorf("%d files left in the spool", len(ents))
	}
	t.Logf("%d pcaps in %d streams, %d frames (%d on the wire before SIGTERM, %d after), %d malformed counted; stop took %v; test %v",
		pcaps, len(streams), totalPackets, sumMap(mustHave), sumMap(want)-sumMap(mustHave), int(sum["MalformedDatagrams"]), stopTook.Round(time.Millisecond), time.Since(start).Round(time.Second))
}

func sumMap(m map[string]int) (n int) {
	for _, v := range m {
		n += v
	}
	return
}
