package receiver

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/awsauth"
	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/vxlan"
)

func TestPcapHeaderByteForByte(t *testing.T) {
	h := PcapFileHeader()
	want := []byte{0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0}
	if !bytes.Equal(h[:], want) {
		t.Fatalf("got % x\nwant % x", h, want)
	}
	var r [16]byte
	PcapRecordHeader(&r, time.Unix(0x01020304, 0x05060708), 0x3c)
	wantR := []byte{4, 3, 2, 1, 8, 7, 6, 5, 0x3c, 0, 0, 0, 0x3c, 0, 0, 0}
	if !bytes.Equal(r[:], wantR) {
		t.Fatalf("record got % x\nwant % x", r, wantR)
	}
}

// frame builds an Ethernet/IPv4/UDP frame with payload p.
func frame(src, dst string, sport, dport uint16, p string) []byte {
	f := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0}
	ip := make([]byte, 20)
	ip[0], ip[9] = 0x45, 17
	binary.BigEndian.PutUint16(ip[2:], uint16(28+len(p)))
	copy(ip[12:], netip.MustParseAddr(src).AsSlice())
	copy(ip[16:], netip.MustParseAddr(dst).AsSlice())
	udp := make([]byte, 8)
	binary.BigEndian.PutUint16(udp, sport)
	binary.BigEndian.PutUint16(udp[2:], dport)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(p)))
	return append(append(append(f, ip...), udp...), p...)
}

func TestParseFlow(t *testing.T) {
	k, ok := ParseFlow(frame("10.0.0.1", "10.0.0.2", 1234, 53, "x"))
	if !ok || k.Protocol != 17 || k.Src.String() != "10.0.0.1" || k.Dst.String() != "10.0.0.2" || k.SrcPort != 1234 || k.DstPort != 53 {
		t.Fatalf("ipv4 udp: %+v %v", k, ok)
	}
	// VLAN-tagged IPv6 TCP
	v6 := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0, 0, 5, 0x86, 0xdd}
	ip := make([]byte, 40)
	ip[0], ip[6] = 0x60, 6
	copy(ip[8:], netip.MustParseAddr("fd00::1").AsSlice())
	copy(ip[24:], netip.MustParseAddr("fd00::2").AsSlice())
	v6 = append(append(v6, ip...), 0x1f, 0x90, 0x01, 0xbb)
	k, ok = ParseFlow(v6)
	if !ok || k.Protocol != 6 || k.Src.String() != "fd00::1" || k.SrcPort != 8080 || k.DstPort != 443 {
		t.Fatalf("ipv6 tcp: %+v %v", k, ok)
	}
	arp := append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 8, 6}, make([]byte, 28)...)
	if _, ok := ParseFlow(arp); ok {
		t.Fatal("ARP has no flow")
	}
	if _, ok := ParseFlow([]byte{1, 2, 3}); ok {
		t.Fatal("short frame")
	}
}

func TestKeys(t *testing.T) {
	k := StreamKey{VNI: 4242, Source: netip.MustParseAddr("10.1.2.3")}
	start := time.Date(2026, 12, 6, 9, 5, 7, 123, time.UTC)
	key := ObjectKey("mirror/", k, start, "task1", 7)
	want := "mirror/vni=4242/source=10.1.2.3/date=2026-12-06/hour=09/20261206T090507Z-task1-000007.pcap"
	if key != want {
		t.Fatalf("key %s\nwant %s", key, want)
	}
	idx, err := IndexKey("mirror/", key)
	if err != nil || idx != "mirror/index/date=2026-12-06/hour=09/20261206T090507Z-task1-000007.jsonl" {
		t.Fatalf("index key %s %v", idx, err)
	}
	// a non-UTC start is partitioned by its UTC date and hour; IPv4-mapped sources are unmapped
	k6 := StreamKey{VNI: 1, Source: netip.MustParseAddr("::ffff:10.1.2.3")}
	got := ObjectKey("", k6, time.Date(2026, 12, 6, 0, 30, 0, 0, time.FixedZone("x", 3600)), "h", 1)
	if got != "vni=1/source=10.1.2.3/date=2026-12-05/hour=23/20261205T233000Z-h-000001.pcap" {
		t.Fatalf("key %s", got)
	}
	if _, err := IndexKey("mirror/", "other/x.pcap"); err == nil {
		t.Fatal("IndexKey accepted a foreign key")
	}
	if SanitizeHostID("a/b c:d") != "a_b_c_d" {
		t.Fatal(SanitizeHostID("a/b c:d"))
	}
}

type closedList struct {
	mu    sync.Mutex
	files []ClosedFile
}

func (c *closedList) add(f ClosedFile) { c.mu.Lock(); c.files = append(c.files, f); c.mu.Unlock() }

func readIndex(t *testing.T, path string) IndexLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(b, []byte("\n")) != 1 {
		t.Fatalf("index is not one line: %q", b)
	}
	var l IndexLine
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

// records walks a pcap file written by Files.
func records(t *testing.T, path string) (ts []time.Time, frames [][]byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := PcapFileHeader()
	if !bytes.Equal(b[:24], h[:]) {
		t.Fatalf("header % x", b[:24])
	}
	for off := 24; off < len(b); {
		sec, nsec := binary.LittleEndian.Uint32(b[off:]), binary.LittleEndian.Uint32(b[off+4:])
		incl, orig := int(binary.LittleEndian.Uint32(b[off+8:])), int(binary.LittleEndian.Uint32(b[off+12:]))
		if incl != orig {
			t.Fatalf("incl %d orig %d", incl, orig)
		}
		ts = append(ts, time.Unix(int64(sec), int64(nsec)))
		frames = append(frames, b[off+16:off+16+incl])
		off += 16 + incl
	}
	return
}

func TestFilesRotationByTimeAndSize(t *testing.T) {
	dir := t.TempDir()
	var got closedList
	fs := &Files{Dir: dir, Prefix: "p/", Bucket: "bkt", Host: "h1", Receiver: "r", MaxAge: 60 * time.Second, MaxBytes: 1000, OnClose: got.add}
	a := StreamKey{VNI: 7, Source: netip.MustParseAddr("10.0.0.9")}
	b := StreamKey{VNI: 7, Source: netip.MustParseAddr("10.0.0.10")}
	t0 := time.Date(2026, 12, 6, 10, 59, 30, 0, time.UTC)
	f1 := frame("10.0.0.1", "10.0.0.2", 1000, 80, "hello")
	f2 := frame("10.0.0.2", "10.0.0.1", 80, 1000, "world!")
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(fs.Write(a, t0, f1))
	must(fs.Write(b, t0.Add(time.Second), f2))
	must(fs.Write(a, t0.Add(2*time.Second), f2))
	must(fs.Write(a, t0.Add(1*time.Second), f1)) // earlier than the previous: clamped
	if fs.Open() != 2 || len(got.files) != 0 {
		t.Fatalf("open %d closed %d", fs.Open(), len(got.files))
	}
	// time: the clock reaches 60 s after a's first packet: a closes, b (opened 1 s later) stays
	fs.Tick(t0.Add(60 * time.Second))
	if len(got.files) != 1 || fs.Open() != 1 {
		t.Fatalf("after tick: closed %d open %d", len(got.files), fs.Open())
	}
	ca := got.files[0]
	if ca.Key != "p/vni=7/source=10.0.0.9/date=2026-12-06/hour=10/20261206T105930Z-h1-000001.pcap" {
		t.Fatalf("key %s", ca.Key)
	}
	ts, frames := records(t, ca.PcapPath)
	if len(frames) != 3 || !bytes.Equal(frames[0], f1) || !bytes.Equal(frames[1], f2) || !bytes.Equal(frames[2], f1) {
		t.Fatalf("frames %d", len(frames))
	}
	if !ts[0].Equal(t0) || !ts[1].Equal(t0.Add(2*time.Second)) || !ts[2].Equal(ts[1]) {
		t.Fatalf("times %v", ts)
	}
	st, _ := os.Stat(ca.PcapPath)
	if st.Size() != ca.Size || ca.Size != int64(24+3*16+2*len(f1)+len(f2)) {
		t.Fatalf("size %d %d", st.Size(), ca.Size)
	}
	l := readIndex(t, ca.IndexPath)
	if l.Key != ca.Key || l.Bucket != "bkt" || l.Source != "10.0.0.9" || l.VNI != 7 || l.Packets != 3 ||
		l.Bytes != uint64(2*len(f1)+len(f2)) || l.FileBytes != ca.Size || !l.FirstPacketTime.Equal(t0) ||
		!l.LastPacketTime.Equal(t0.Add(2*time.Second)) || l.ClosedBy != "time" || l.FlowsTruncated || l.Host != "h1" || l.Receiver != "r" {
		t.Fatalf("index %+v", l)
	}
	wantFlows := []Flow{
		{Protocol: 17, Src: "10.0.0.1", SrcPort: 1000, Dst: "10.0.0.2", DstPort: 80, Packets: 2, Bytes: uint64(2 * len(f1))},
		{Protocol: 17, Src: "10.0.0.2", SrcPort: 80, Dst: "10.0.0.1", DstPort: 1000, Packets: 1, Bytes: uint64(len(f2))},
	}
	if gotF, _ := json.Marshal(l.Flows); string(gotF) != string(must2(json.Marshal(wantFlows))) {
		t.Fatalf("flows %s", gotF)
	}
	// a packet of a at 61 s opens a new file (sequence 3: b holds 2)
	must(fs.Write(a, t0.Add(61*time.Second), f1))
	// b (opened at 1 s) reaches 60 s at its next packet (62 s): closed by time, a new file opens;
	// then size: the write that would take it above 1000 bytes opens another file
	big := frame("10.0.0.3", "10.0.0.4", 1, 2, strings.Repeat("x", 400)) // 442 bytes, 458 with its record header
	must(fs.Write(b, t0.Add(62*time.Second), big))
	if len(got.files) != 2 || readIndex(t, got.files[1].IndexPath).ClosedBy != "time" {
		t.Fatalf("time rotation on write: %d closed", len(got.files))
	}
	must(fs.Write(b, t0.Add(62*time.Second), big)) // 24 + 2*458 = 940
	must(fs.Write(b, t0.Add(62*time.Second), big)) // 1398 > 1000: rotate first
	if len(got.files) != 3 || readIndex(t, got.files[2].IndexPath).ClosedBy != "size" || got.files[2].Size != 940 {
		t.Fatalf("size rotation: %d closed", len(got.files))
	}
	n, _ := fs.CloseAll("stop")
	if n != 2 || fs.Open() != 0 || len(got.files) != 5 {
		t.Fatalf("CloseAll closed %d, %d total", n, len(got.files))
	}
	if fs.SpoolBytes.Load() != sumSizes(got.files) {
		t.Fatalf("spool bytes %d, files %d", fs.SpoolBytes.Load(), sumSizes(got.files))
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 10 {
		t.Fatalf("%d files in the spool, want 5 pcaps and 5 index lines", len(ents))
	}
}

func must2(b []byte, _ error) []byte { return b }

func sumSizes(fs []ClosedFile) (n int64) {
	for _, f := range fs {
		n += f.Size
	}
	return
}

func TestFilesFlowCapAndSpoolLimit(t *testing.T) {
	var got closedList
	fs := &Files{Dir: t.TempDir(), Prefix: "", Host: "h", MaxAge: time.Hour, MaxBytes: 1 << 30, MaxFlows: 3, MaxSpoolBytes: 24 + 10*(16+43), OnClose: got.add}
	k := StreamKey{VNI: 1, Source: netip.MustParseAddr("10.0.0.1")}
	t0 := time.Unix(1796549000, 0)
	var dropped int
	for i := 0; i < 12; i++ {
		if err := fs.Write(k, t0, frame("10.0.0.1", "10.0.0.2", uint16(i), 80, "a")); errors.Is(err, ErrSpoolFull) {
			dropped++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if dropped != 2 {
		t.Fatalf("dropped %d, want 2", dropped)
	}
	fs.CloseAll("stop")
	l := readIndex(t, got.files[0].IndexPath)
	if l.Packets != 10 || len(l.Flows) != 3 || !l.FlowsTruncated {
		t.Fatalf("index %+v", l)
	}
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type flakySink struct {
	DirSink
	mu    sync.Mutex
	fails int
	puts  []string
}

func (f *flakySink) PutFile(ctx context.Context, key, path, ct string) error {
	f.mu.Lock()
	if f.fails > 0 {
		f.fails--
		f.mu.Unlock()
		return errors.New("injected failure")
	}
	f.puts = append(f.puts, key)
	f.mu.Unlock()
	return f.DirSink.PutFile(ctx, key, path, ct)
}

// A full queue leaves files in the spool directory; they are uploaded after a rescan, with the
// failures retried, and Stop returns once everything is uploaded.
func TestUploaderQueueFullSpoolAndRetry(t *testing.T) {
	spool, out := t.TempDir(), t.TempDir()
	sink := &flakySink{DirSink: DirSink{Dir: out}, fails: 2}
	c := &Counters{}
	sb := new(atomic.Int64)
	up := &Uploader{Sink: sink, Prefix: "p/", SpoolDir: spool, QueueLen: 2, Workers: 2, Counters: c, Log: discardLog(),
		SpoolBytes: sb, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
	fs := &Files{Dir: spool, Prefix: "p/", Host: "h", MaxAge: time.Hour, OnClose: up.Add, SpoolBytes: sb}
	t0 := time.Unix(1796549000, 0)
	for i := 0; i < 7; i++ { // 7 sources, 7 files, closed before any worker runs
		fs.Write(StreamKey{VNI: 1, Source: netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})}, t0, frame("10.0.0.1", "10.0.0.2", 1, 2, "z"))
	}
	fs.CloseAll("stop")
	if c.QueueFull.Load() != 5 {
		t.Fatalf("queue full %d, want 5", c.QueueFull.Load())
	}
	up.Stop()
	done := make(chan struct{})
	go func() { up.Run(context.Background()); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("uploader did not finish")
	}
	if c.FilesUploaded.Load() != 7 || c.UploadFailures.Load() != 2 || sb.Load() != 0 {
		t.Fatalf("uploaded %d failures %d spool bytes %d", c.FilesUploaded.Load(), c.UploadFailures.Load(), sb.Load())
	}
	if ents, _ := os.ReadDir(spool); len(ents) != 0 {
		t.Fatalf("%d files left in the spool", len(ents))
	}
	var idx int
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if strings.HasSuffix(p, ".jsonl") {
			idx++
		}
		return nil
	})
	if idx != 7 {
		t.Fatalf("%d index objects", idx)
	}
}

func TestS3SinkRequest(t *testing.T) {
	var mu sync.Mutex
	var reqs []*http.Request
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs, bodies = append(reqs, r), append(bodies, b)
		mu.Unlock()
	}))
	defer srv.Close()
	s := &S3Sink{Bucket: "bkt", Region: "eu-west-1", Endpoint: srv.URL, PathStyle: true, KMSKeyID: "alias/k", HTTP: srv.Client(),
		Creds: func(context.Context) (awsauth.Credentials, error) {
			return awsauth.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret", SessionToken: "tok"}, nil
		}}
	p := filepath.Join(t.TempDir(), "f.pcap")
	os.WriteFile(p, []byte("pcapdata"), 0o644)
	key := "p/vni=1/source=10.0.0.1/date=2026-12-06/hour=09/x.pcap"
	if err := s.PutFile(context.Background(), key, p, "application/vnd.tcpdump.pcap"); err != nil {
		t.Fatal(err)
	}
	r := reqs[0]
	if r.Method != "PUT" || r.URL.EscapedPath() != "/bkt/p/vni%3D1/source%3D10.0.0.1/date%3D2026-12-06/hour%3D09/x.pcap" || string(bodies[0]) != "pcapdata" {
		t.Fatalf("%s %s %q", r.Method, r.URL.EscapedPath(), bodies[0])
	}
	for h, want := range map[string]string{
		"X-Amz-Content-Sha256":                        awsauth.SHA256Hex([]byte("pcapdata")),
		"X-Amz-Server-Side-Encryption":                "aws:kms",
		"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": "alias/k",
		"X-Amz-Security-Token":                        "tok",
		"Content-Length":                              "8",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKID/") || !strings.Contains(auth, "/eu-west-1/s3/aws4_request") ||
		!strings.Contains(auth, "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-amz-server-side-encryption;x-amz-server-side-encryption-aws-kms-key-id,") {
		t.Fatalf("authorization %s", auth)
	}
	// virtual-hosted style
	s2 := &S3Sink{Bucket: "bkt", Region: "eu-west-1"}
	u, _ := s2.URL("a=b/c.pcap")
	if u.String() != "https://bkt.s3.eu-west-1.amazonaws.com/a%3Db/c.pcap" {
		t.Fatalf("url %s", u)
	}
}

func TestConfig(t *testing.T) {
	env := map[string]string{"MIRROR_RECEIVER_BUCKET": "b", "MIRROR_RECEIVER_PREFIX": "cap", "AWS_REGION": "us-east-1"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	c, err := LoadConfig(lookup)
	if err != nil {
		t.Fatal(err)
	}
	if c.Prefix != "cap/" || c.Listen != ":4789" || c.HealthPort != 8080 || c.RotateAge != time.Minute || c.RotateBytes != 64<<20 ||
		c.StopTimeout != 25*time.Second || c.PathStyle || c.Sink != "s3" || c.MaxFlows != 1000 {
		t.Fatalf("%+v", c)
	}
	env["MIRROR_S3_ENDPOINT"] = "http://127.0.0.1:1"
	env["MIRROR_RECEIVER_ROTATE_SECONDS"] = "5"
	if c, err = LoadConfig(lookup); err != nil || !c.PathStyle || c.RotateAge != 5*time.Second {
		t.Fatalf("%+v %v", c, err)
	}
	for k, v := range map[string]string{"MIRROR_RECEIVER_ROTATE_BYTES": "12", "MIRROR_RECEIVER_HEALTH_PORT": "x", "MIRROR_RECEIVER_SINK": "ftp", "MIRROR_RECEIVER_S3_PATH_STYLE": "maybe"} {
		env[k] = v
		if _, err := LoadConfig(lookup); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
		delete(env, k)
	}
	delete(env, "MIRROR_RECEIVER_PREFIX")
	if _, err := LoadConfig(lookup); err == nil {
		t.Error("prefix is required")
	}
	env["MIRROR_RECEIVER_PREFIX"] = ""
	delete(env, "MIRROR_RECEIVER_BUCKET")
	if _, err := LoadConfig(lookup); err == nil {
		t.Error("bucket is required")
	}
}

func TestEmitter(t *testing.T) {
	c := &Counters{}
	var buf bytes.Buffer
	e := &Emitter{Counters: c, Namespace: "NS", Receiver: "rx", Out: &buf, Gauges: func() (int64, int64) { return 3, 300 }}
	c.ReceivedPackets.Add(5)
	c.Malformed[vxlan.BadFlags].Add(2)
	c.Malformed[vxlan.TooShort].Add(1)
	e.Flush(time.Unix(1, 0))
	c.ReceivedPackets.Add(1)
	e.Flush(time.Unix(2, 0))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var m1, m2 map[string]any
	json.Unmarshal([]byte(lines[0]), &m1)
	json.Unmarshal([]byte(lines[1]), &m2)
	if m1["ReceivedPackets"] != 5.0 || m2["ReceivedPackets"] != 1.0 || m1["MalformedDatagrams"] != 3.0 || m1["MalformedDatagramsBadFlags"] != 2.0 ||
		m2["MalformedDatagrams"] != 0.0 || m1["SpooledFiles"] != 3.0 || m1["Receiver"] != "rx" || m1["service"] != "fargate-traffic-mirror" {
		t.Fatalf("%v\n%v", m1, m2)
	}
	names := []string{}
	for _, d := range m1["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Metrics"].([]any) {
		names = append(names, d.(map[string]any)["Name"].(string))
	}
	if strings.Join(names, ",") != strings.Join(MetricNames, ",") {
		t.Fatalf("metrics %v", names)
	}
}

func TestBatchReaderLoopback(t *testing.T) {
	conn, rcvbuf, err := Listen("127.0.0.1:0", 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if rcvbuf <= 0 {
		t.Fatalf("rcvbuf %d", rcvbuf)
	}
	br, err := NewBatchReader(conn)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := net.Dial("udp4", conn.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	before := time.Now()
	var sent [][]byte
	for i := 0; i < 100; i++ {
		p, _ := vxlan.Encode(nil, uint32(i), frame("10.0.0.1", "10.0.0.2", 1, 2, strings.Repeat("q", i)), 0)
		sent = append(sent, p)
		tx.Write(p)
	}
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	var got [][]byte
	for len(got) < 100 {
		ds, err := br.Read(true)
		if err != nil {
			t.Fatalf("after %d: %v", len(got), err)
		}
		for _, d := range ds {
			if d.Source != netip.MustParseAddr("127.0.0.1") || d.Time.Before(before.Add(-time.Second)) || d.Time.After(time.Now()) {
				t.Fatalf("source %v time %v", d.Source, d.Time)
			}
			got = append(got, append([]byte(nil), d.Data...))
		}
	}
	sort.Slice(got, func(i, j int) bool { return len(got[i]) < len(got[j]) })
	for i := range sent {
		if !bytes.Equal(sent[i], got[i]) {
			t.Fatalf("datagram %d differs", i)
		}
	}
	if ds, err := br.Read(false); err != nil || len(ds) != 0 {
		t.Fatalf("non-blocking read of an empty socket: %d %v", len(ds), err)
	}
}

func netipMust(s string) netip.Addr { return netip.MustParseAddr(s) }

// The default listen address is dual-stack: IPv4 senders arrive as v4-mapped addresses and are
// reported (and partitioned) as plain IPv4.
func TestBatchReaderDualStackSource(t *testing.T) {
	conn, _, err := Listen(":0", 1<<20)
	if err != nil {
		t.Skip("no dual-stack UDP socket here:", err)
	}
	defer conn.Close()
	br, _ := NewBatchReader(conn)
	port := conn.LocalAddr().(*net.UDPAddr).Port
	tx, err := net.Dial("udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	tx.Write([]byte("hello"))
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	ds, err := br.Read(true)
	if err != nil || len(ds) != 1 || ds[0].Source != netip.MustParseAddr("127.0.0.1") || string(ds[0].Data) != "hello" {
		t.Fatalf("%v %+v", err, ds)
	}
}
