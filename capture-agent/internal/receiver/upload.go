package receiver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/awsauth"
)

// Sink stores objects: S3, or a local directory (tests, benchmark).
type Sink interface {
	// PutFile stores the file at path under key; PutBytes stores b.
	PutFile(ctx context.Context, key, path, contentType string) error
	PutBytes(ctx context.Context, key string, b []byte, contentType string) error
}

// S3Sink is PutObject with SigV4 (no SDK).
type S3Sink struct {
	Bucket, Region string
	Endpoint       string // "" : https://s3.<region>.amazonaws.com
	PathStyle      bool
	KMSKeyID       string // "": the bucket's default encryption
	Creds          func(context.Context) (awsauth.Credentials, error)
	HTTP           *http.Client
	Now            func() time.Time
}

// URL is the object's URL (virtual-hosted or path style).
func (s *S3Sink) URL(key string) (*url.URL, error) {
	ep := s.Endpoint
	if ep == "" {
		ep = "https://s3." + s.Region + ".amazonaws.com"
	}
	u, err := url.Parse(strings.TrimRight(ep, "/"))
	if err != nil {
		return nil, err
	}
	path := "/" + key
	if s.PathStyle {
		path = "/" + s.Bucket + "/" + key
	} else {
		u.Host = s.Bucket + "." + u.Host
	}
	u.Path = path
	u.RawPath = awsauth.S3Path(path)
	return u, nil
}

func (s *S3Sink) put(ctx context.Context, key string, body func() (io.ReadCloser, error), size int64, hash, contentType string) error {
	u, err := s.URL(key)
	if err != nil {
		return err
	}
	creds, err := s.Creds(ctx)
	if err != nil {
		return err
	}
	rc, err := body()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), rc)
	if err != nil {
		rc.Close()
		return err
	}
	req.URL = u
	req.ContentLength = size
	req.GetBody = body
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if s.KMSKeyID != "" {
		req.Header.Set("X-Amz-Server-Side-Encryption", "aws:kms")
		req.Header.Set("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", s.KMSKeyID)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	awsauth.Sign(req, hash, creds, s.Region, "s3", now())
	resp, err := s.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("PutObject %s: HTTP %d %s", key, resp.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}

// PutFile uploads a file (hashing it first: the payload is signed).
func (s *S3Sink) PutFile(ctx context.Context, key, path, contentType string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	h := sha256.New()
	size, err := io.Copy(h, f)
	f.Close()
	if err != nil {
		return err
	}
	return s.put(ctx, key, func() (io.ReadCloser, error) { return os.Open(path) }, size, hex.EncodeToString(h.Sum(nil)), contentType)
}

// PutBytes uploads b.
func (s *S3Sink) PutBytes(ctx context.Context, key string, b []byte, contentType string) error {
	return s.put(ctx, key, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }, int64(len(b)), awsauth.SHA256Hex(b), contentType)
}

// DirSink "uploads" by moving files into Dir/<key> (the benchmark's no-network sink).
type DirSink struct{ Dir string }

// PutFile moves the file to Dir/key.
func (d DirSink) PutFile(_ context.Context, key, path, _ string) error {
	dst := filepath.Join(d.Dir, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.Link(path, dst); err == nil {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// PutBytes writes b to Dir/key.
func (d DirSink) PutBytes(_ context.Context, key string, b []byte, _ string) error {
	dst := filepath.Join(d.Dir, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// Uploader uploads closed files with a few workers. Its queue holds at most QueueLen files; a
// file closed while the queue is full stays in the spool directory only (counted in QueueFull)
// and is picked up by a rescan of the directory once the queue has drained. The read loop never
// waits for it.
type Uploader struct {
	Sink     Sink
	Prefix   string
	SpoolDir string
	QueueLen int
	Workers  int
	Counters *Counters
	Log      *slog.Logger
	// SpoolBytes is shared with Files: the uploader subtracts each uploaded file's size.
	SpoolBytes *atomic.Int64
	// Backoff after a failed upload (doubles up to MaxBackoff).
	Backoff, MaxBackoff time.Duration

	mu       sync.Mutex
	cond     *sync.Cond
	queue    []ClosedFile
	inflight map[string]bool
	spooled  bool // files wait in the directory that are not in the queue
	stopping bool
}

func (u *Uploader) init() {
	if u.cond == nil {
		u.cond = sync.NewCond(&u.mu)
		u.inflight = map[string]bool{}
		if u.Backoff == 0 {
			u.Backoff = time.Second
		}
		if u.MaxBackoff == 0 {
			u.MaxBackoff = 30 * time.Second
		}
	}
}

// Add queues a closed file, never blocking.
func (u *Uploader) Add(cf ClosedFile) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.init()
	u.Counters.FilesClosed.Add(1)
	if len(u.queue) >= u.QueueLen {
		u.Counters.QueueFull.Add(1)
		u.spooled = true
	} else {
		u.queue = append(u.queue, cf)
	}
	u.cond.Broadcast()
}

// Recover queues the complete files a previous run left in the spool directory.
func (u *Uploader) Recover() {
	u.mu.Lock()
	u.init()
	u.spooled = true
	u.rescanLocked()
	u.mu.Unlock()
}

// rescanLocked refills the queue from the directory: every <name>.jsonl whose pcap is neither
// queued nor being uploaded, oldest first.
func (u *Uploader) rescanLocked() {
	ents, err := os.ReadDir(u.SpoolDir)
	if err != nil {
		return
	}
	queued := map[string]bool{}
	for _, q := range u.queue {
		queued[q.PcapPath] = true
	}
	type cand struct {
		cf  ClosedFile
		mod time.Time
	}
	var cands []cand
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".jsonl") {
			continue
		}
		idx := filepath.Join(u.SpoolDir, e.Name())
		pcap := strings.TrimSuffix(idx, ".jsonl") + ".pcap"
		if queued[pcap] || u.inflight[pcap] {
			continue
		}
		b, err := os.ReadFile(idx)
		var line IndexLine
		if err != nil || json.Unmarshal(b, &line) != nil {
			continue
		}
		st, err := os.Stat(pcap)
		if err != nil {
			continue
		}
		info, _ := e.Info()
		var mod time.Time
		if info != nil {
			mod = info.ModTime()
		}
		cands = append(cands, cand{ClosedFile{PcapPath: pcap, IndexPath: idx, Key: line.Key, Size: st.Size()}, mod})
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].mod.Before(cands[j].mod) })
	u.spooled = false
	for _, c := range cands {
		if len(u.queue) >= u.QueueLen {
			u.spooled = true
			break
		}
		u.queue = append(u.queue, c.cf)
	}
}

// Pending is the number of files queued, spooled or in flight (0 when all are uploaded).
func (u *Uploader) Pending() (queued, inflight int, spooled bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.queue), len(u.inflight), u.spooled
}

// Run starts the workers; they stop when ctx ends (the hard deadline) or after Stop once
// everything is uploaded. Run returns when they have stopped.
func (u *Uploader) Run(ctx context.Context) {
	u.mu.Lock()
	u.init()
	u.mu.Unlock()
	stopCond := context.AfterFunc(ctx, func() {
		u.mu.Lock()
		u.cond.Broadcast()
		u.mu.Unlock()
	})
	defer stopCond()
	var wg sync.WaitGroup
	for i := 0; i < max(1, u.Workers); i++ {
		wg.Add(1)
		go func() { defer wg.Done(); u.worker(ctx) }()
	}
	wg.Wait()
}

// Stop makes the workers exit once the queue, the spool and the uploads in flight are empty.
func (u *Uploader) Stop() {
	u.mu.Lock()
	u.init()
	u.stopping = true
	u.spooled = true // one last rescan catches anything left in the directory
	u.cond.Broadcast()
	u.mu.Unlock()
}

func (u *Uploader) next(ctx context.Context) (ClosedFile, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for {
		if ctx.Err() != nil {
			return ClosedFile{}, false
		}
		if len(u.queue) == 0 && u.spooled {
			u.rescanLocked()
		}
		if len(u.queue) > 0 {
			cf := u.queue[0]
			u.queue = u.queue[1:]
			u.inflight[cf.PcapPath] = true
			return cf, true
		}
		if u.stopping && len(u.inflight) == 0 && !u.spooled {
			u.cond.Broadcast()
			return ClosedFile{}, false
		}
		u.cond.Wait()
	}
}

func (u *Uploader) worker(ctx context.Context) {
	for {
		cf, ok := u.next(ctx)
		if !ok {
			return
		}
		// The worker retries its file until it is uploaded or the hard deadline ends.
		backoff := u.Backoff
		var err error
		for {
			if err = u.upload(ctx, cf); err == nil || ctx.Err() != nil {
				break
			}
			if errors.Is(err, fs.ErrNotExist) { // someone removed it: nothing left to upload
				u.Log.Warn("spooled file vanished", "key", cf.Key, "error", err.Error())
				err = nil
				break
			}
			u.Counters.UploadFailures.Add(1)
			u.Log.Warn("upload failed, will retry", "key", cf.Key, "error", err.Error(), "retryIn", backoff.String())
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, u.MaxBackoff)
		}
		u.mu.Lock()
		delete(u.inflight, cf.PcapPath)
		if err != nil {
			u.queue = append([]ClosedFile{cf}, u.queue...)
		}
		u.cond.Broadcast()
		u.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// upload puts the pcap, then its index line, then deletes both local files.
func (u *Uploader) upload(ctx context.Context, cf ClosedFile) error {
	idx, err := os.ReadFile(cf.IndexPath)
	if err != nil {
		return err
	}
	idxKey, err := IndexKey(u.Prefix, cf.Key)
	if err != nil {
		return err
	}
	if err := u.Sink.PutFile(ctx, cf.Key, cf.PcapPath, "application/vnd.tcpdump.pcap"); err != nil {
		return err
	}
	if err := u.Sink.PutBytes(ctx, idxKey, idx, "application/x-ndjson"); err != nil {
		return err
	}
	os.Remove(cf.IndexPath)
	os.Remove(cf.PcapPath)
	u.SpoolBytes.Add(-cf.Size)
	u.Counters.FilesUploaded.Add(1)
	u.Counters.BytesUploaded.Add(uint64(cf.Size))
	u.Log.Info("uploaded", "key", cf.Key, "bytes", cf.Size)
	return nil
}
