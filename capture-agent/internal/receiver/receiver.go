package receiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/agent"
	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/awsauth"
	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/taskmeta"
)

// Run receives until ctx ends (SIGTERM), then stops reading, drains the socket, closes every
// file, uploads everything within cfg.StopTimeout and returns nil when nothing is left behind.
func Run(ctx context.Context, cfg *Config, log *slog.Logger, stdout io.Writer) error {
	host := cfg.HostID
	if host == "" && cfg.MetadataURI != "" {
		mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if t, err := taskmeta.Fetch(mctx, cfg.MetadataURI); err == nil {
			host = t.ID
		}
		cancel()
	}
	if host == "" {
		host, _ = os.Hostname()
	}
	host = SanitizeHostID(host)

	var sink Sink
	switch cfg.Sink {
	case "dir":
		sink = DirSink{Dir: cfg.SinkDir}
	default:
		cc := awsauth.NewSource()
		sink = &S3Sink{Bucket: cfg.Bucket, Region: cfg.Region, Endpoint: cfg.Endpoint, PathStyle: cfg.PathStyle,
			KMSKeyID: cfg.KMSKeyID, Creds: cc.Get, HTTP: &http.Client{Timeout: 5 * time.Minute}}
	}
	if err := os.MkdirAll(cfg.SpoolDir, 0o755); err != nil {
		return fmt.Errorf("spool directory: %w", err)
	}
	counters := &Counters{}
	spoolBytes := new(atomic.Int64)
	leftover, orphans := scanSpool(cfg.SpoolDir)
	spoolBytes.Store(leftover)
	if len(orphans) > 0 {
		log.Warn("incomplete pcap files from a previous run left in the spool (no index line; not uploaded)", "files", orphans)
	}
	up := &Uploader{Sink: sink, Prefix: cfg.Prefix, SpoolDir: cfg.SpoolDir, QueueLen: cfg.QueueLen,
		Workers: cfg.UploadWorkers, Counters: counters, Log: log, SpoolBytes: spoolBytes}
	up.Recover()
	files := &Files{Dir: cfg.SpoolDir, Prefix: cfg.Prefix, Bucket: cfg.Bucket, Host: host, Receiver: cfg.Name,
		MaxAge: cfg.RotateAge, MaxBytes: cfg.RotateBytes, MaxFlows: cfg.MaxFlows, MaxSpoolBytes: cfg.SpoolMaxBytes,
		OnClose: up.Add, SpoolBytes: spoolBytes}

	// Packet mode: the ring opens first, then the UDP socket, bound with a filter that drops
	// everything (it only keeps the kernel from answering ICMP port unreachable): no datagram is
	// lost or seen twice at the switch.
	var pr *PacketReader
	if cfg.ReadMode == "packet" {
		var err error
		iface := cfg.Interface
		if iface == "" {
			if iface, err = agent.DefaultInterface(); err != nil {
				return err
			}
		}
		port, err := listenPort(cfg.Listen)
		if err != nil {
			return err
		}
		if pr, err = OpenPacketReader(iface, port, cfg.RingBytes); err != nil {
			return fmt.Errorf("packet mode: %w", err)
		}
		defer pr.Close()
		log.Info("packet read mode", "interface", iface, "port", port, "ringBytes", cfg.RingBytes)
	}
	conn, rcvbuf, err := listen(cfg.Listen, cfg.RcvBuf, pr != nil)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	defer conn.Close()
	br, err := NewBatchReader(conn)
	if err != nil {
		return err
	}
	var hl net.Listener
	if cfg.HealthPort > 0 {
		if hl, err = ServeHealth(":" + strconv.Itoa(cfg.HealthPort)); err != nil {
			return fmt.Errorf("health port: %w", err)
		}
		defer hl.Close()
	}
	em := &Emitter{Counters: counters, Namespace: cfg.Namespace, Receiver: cfg.Name, Out: stdout, Gauges: func() (int64, int64) {
		return int64(countReady(cfg.SpoolDir)), spoolBytes.Load() // closed files not yet uploaded
	}}
	metricsDone := make(chan struct{})
	metricsCtx, stopMetrics := context.WithCancel(context.Background())
	defer stopMetrics()
	go func() {
		defer close(metricsDone)
		t := time.NewTicker(cfg.MetricsInterval)
		defer t.Stop()
		for {
			select {
			case <-metricsCtx.Done():
				return
			case now := <-t.C:
				em.Flush(now)
			}
		}
	}()
	uploadCtx, cancelUploads := context.WithCancel(context.Background())
	defer cancelUploads()
	uploadsDone := make(chan struct{})
	go func() { defer close(uploadsDone); up.Run(uploadCtx) }()

	log.Info("receiving", "listen", conn.LocalAddr().String(), "rcvbufBytes", rcvbuf, "bucket", cfg.Bucket,
		"prefix", cfg.Prefix, "sink", cfg.Sink, "host", host, "spool", cfg.SpoolDir, "healthPort", cfg.HealthPort)
	stopRead := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Now()) })
	defer stopRead()

	pipe := newPipeline(cfg.BufferBytes, counters)
	type closed struct {
		n int
		b int64
	}
	writerDone := make(chan closed, 1)
	go func() {
		n, b := pipe.runWriter(files, log, cfg.SpoolMaxBytes)
		writerDone <- closed{n, b}
	}()
	var lastDrops uint32
	handle := func(ds []Datagram) {
		pipe.add(ds)
		if br.Drops != lastDrops {
			counters.SocketDrops.Add(uint64(br.Drops - lastDrops))
			lastDrops = br.Drops
		}
	}
	lastTick := time.Now()
	conn.SetReadDeadline(lastTick.Add(time.Second))
	for ctx.Err() == nil {
		var err error
		if pr != nil {
			_, err = pr.Read(200*time.Millisecond, pipe.add)
		} else {
			var ds []Datagram
			ds, err = br.Read(true)
			handle(ds)
		}
		now := time.Now()
		if err != nil && !IsTimeout(err) {
			if ctx.Err() != nil {
				break
			}
			log.Error("read", "error", err.Error())
			time.Sleep(10 * time.Millisecond)
		}
		if now.Sub(lastTick) >= time.Second || err != nil {
			lastTick = now
			if pr != nil {
				counters.SocketDrops.Add(pr.Drops())
			}
			if ctx.Err() == nil {
				conn.SetReadDeadline(now.Add(time.Second))
			}
		}
	}

	// SIGTERM: stop reading, but first take what the kernel already queued for us.
	stopAt := time.Now()
	deadline := stopAt.Add(cfg.StopTimeout)
	hardCtx, cancelHard := context.WithDeadline(context.Background(), deadline)
	defer cancelHard()
	context.AfterFunc(hardCtx, cancelUploads)
	if hl != nil {
		hl.Close()
	}
	drained := 0
	for i, idle := 0, 0; i < 100000 && time.Since(stopAt) < 2*time.Second; i++ {
		if pr != nil {
			// the ring retires a partly filled block after 10 ms: stop after two empty waits
			n, err := pr.Read(30*time.Millisecond, pipe.add)
			if err != nil {
				break
			}
			if n == 0 {
				if idle++; idle == 2 {
					break
				}
			}
			drained += n
			continue
		}
		ds, err := br.Read(false)
		if err != nil || len(ds) == 0 {
			break
		}
		drained += len(ds)
		handle(ds)
	}
	if pr != nil {
		counters.SocketDrops.Add(pr.Drops())
	}
	conn.Close()
	pipe.close()
	wd := <-writerDone
	n, b := wd.n, wd.b
	counters.FlushedFiles.Add(uint64(n))
	counters.FlushedBytes.Add(uint64(b))
	log.Info("stopping: files closed, uploading", "files", n, "bytes", b, "drainedDatagrams", drained, "deadline", cfg.StopTimeout.String())
	up.Stop()
	select {
	case <-uploadsDone:
	case <-hardCtx.Done():
		<-uploadsDone
	}
	stopMetrics()
	<-metricsDone
	q, in, spooled := up.Pending()
	var result error
	if q == 0 && in == 0 && !spooled && countReady(cfg.SpoolDir) == 0 {
		counters.FlushedAtStop.Add(1)
		log.Info("stopped: everything uploaded", "files", n, "bytes", b, "seconds", time.Since(stopAt).Seconds())
	} else {
		result = fmt.Errorf("stop deadline %s reached with files not uploaded (left in %s)", cfg.StopTimeout, cfg.SpoolDir)
		log.Error("stopped with files not uploaded", "queued", q, "inflight", in, "spoolDir", cfg.SpoolDir)
	}
	em.Flush(time.Now())
	return result
}

// scanSpool sums the bytes of the complete files (pcap with its .jsonl) in dir and lists the
// pcaps without one (the previous run died while writing them).
func scanSpool(dir string) (bytes int64, orphans []string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") {
			os.Remove(filepath.Join(dir, name))
			continue
		}
		if !strings.HasSuffix(name, ".pcap") {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, strings.TrimSuffix(name, ".pcap")+".jsonl")); err != nil {
			orphans = append(orphans, name)
			continue
		}
		if info, err := e.Info(); err == nil {
			bytes += info.Size()
		}
	}
	return bytes, orphans
}

func countReady(dir string) int {
	ents, _ := os.ReadDir(dir)
	n := 0
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".jsonl") {
			n++
		}
	}
	return n
}

func listenPort(addr string) (uint16, error) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(p)
	if err != nil || n <= 0 || n > 65535 {
		return 0, fmt.Errorf("packet mode needs a fixed port, not %q", addr)
	}
	return uint16(n), nil
}

// ServeHealth accepts TCP connections on addr and closes them (the NLB's TCP health check).
func ServeHealth(addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				time.Sleep(10 * time.Millisecond)
				continue
			}
			c.Write([]byte("ok\n"))
			c.Close()
		}
	}()
	return l, nil
}

// CheckHealth connects to the health port on 127.0.0.1 (the container's CMD health check).
func CheckHealth(port int, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), timeout)
	if err != nil {
		return err
	}
	return c.Close()
}
