package receiver

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/vxlan"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func freeUDPPort(t *testing.T) string {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

// metricSums adds up the EMF lines' counts.
func metricSums(out string) map[string]float64 {
	sum := map[string]float64{}
	for _, l := range strings.Split(out, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["_aws"] != nil {
			for k, v := range m {
				if f, ok := v.(float64); ok {
					sum[k] += f
				}
			}
		}
	}
	return sum
}

// Run on loopback with the directory sink: frames in, cancel (SIGTERM), everything in the sink.
func TestRunStopFlushesEverything(t *testing.T) {
	dir := t.TempDir()
	addr := freeUDPPort(t)
	cfg := &Config{Prefix: "p/", Listen: addr, RotateAge: time.Minute, RotateBytes: 64 << 20, SpoolDir: filepath.Join(dir, "spool"),
		SpoolMaxBytes: 1 << 30, QueueLen: 4, UploadWorkers: 2, StopTimeout: 10 * time.Second, Name: "t", HostID: "h",
		RcvBuf: 1 << 20, MetricsInterval: time.Hour, Namespace: "NS", MaxFlows: 1000, Sink: "dir", SinkDir: filepath.Join(dir, "sink")}
	var out syncBuf
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, discardLog(), &out) }()
	c, err := net.Dial("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Wait until the receiver's socket exists: a datagram to a closed port makes a later write on
	// this connected socket fail (ICMP port unreachable). The 1-byte probes count as TooShort.
	for deadline := time.Now().Add(5 * time.Second); ; {
		c.Write([]byte{0})
		time.Sleep(50 * time.Millisecond)
		_, err1 := c.Write([]byte{0})
		time.Sleep(50 * time.Millisecond)
		if _, err2 := c.Write([]byte{0}); err1 == nil && err2 == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("receiver never listened")
		}
	}
	for i := 0; i < 300; i++ {
		p, _ := vxlan.Encode(nil, uint32(i%3), frame("10.0.0.1", "10.0.0.2", uint16(i), 80, "data"), 0)
		c.Write(p)
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return")
	}
	sum := metricSums(out.String())
	var pcaps, frames int
	filepath.WalkDir(cfg.SinkDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".pcap") {
			pcaps++
			_, fr := records(t, p)
			frames += len(fr)
		}
		return nil
	})
	if pcaps != 3 || frames != 300 || sum["ReceivedPackets"] != 300 || sum["FlushedAtStop"] != 1 || sum["FilesUploaded"] != 3 ||
		sum["FlushedFilesAtStop"] != 3 || sum["MalformedDatagramsTooShort"] < 3 {
		t.Fatalf("%d pcaps, %d frames, metrics %v", pcaps, frames, sum)
	}
	if ents, _ := os.ReadDir(cfg.SpoolDir); len(ents) != 0 {
		t.Fatalf("%d files left in the spool", len(ents))
	}
}

// When S3 cannot be reached, Run gives up at the deadline, exits with an error, keeps the files
// in the spool, and says FlushedAtStop 0.
func TestRunStopDeadlineKeepsSpool(t *testing.T) {
	dir := t.TempDir()
	cfg := &Config{Bucket: "b", Prefix: "", Listen: freeUDPPort(t), RotateAge: time.Minute, RotateBytes: 64 << 20, SpoolDir: filepath.Join(dir, "spool"),
		SpoolMaxBytes: 1 << 30, QueueLen: 4, UploadWorkers: 1, StopTimeout: 1500 * time.Millisecond, Name: "t", HostID: "h",
		MetricsInterval: time.Hour, Namespace: "NS", MaxFlows: 10, Sink: "s3", Region: "us-east-1", Endpoint: "http://127.0.0.1:1", PathStyle: true}
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "y")
	// a file from a "previous run" in the spool
	fs := &Files{Dir: cfg.SpoolDir, Host: "old", MaxAge: time.Hour}
	fs.Write(StreamKey{VNI: 1, Source: netipMust("10.0.0.1")}, time.Now(), frame("10.0.0.1", "10.0.0.2", 1, 2, "x"))
	fs.CloseAll("stop")
	var out syncBuf
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	err := Run(ctx, cfg, discardLog(), &out)
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("Run: %v after %v", err, time.Since(start))
	}
	sum := metricSums(out.String())
	if sum["FlushedAtStop"] != 0 || sum["UploadFailures"] < 1 {
		t.Fatalf("metrics %v", sum)
	}
	if ents, _ := os.ReadDir(cfg.SpoolDir); len(ents) != 2 {
		t.Fatalf("%d files in the spool, want the pcap and its index line", len(ents))
	}
}
