package receiver

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// StreamKey names one file stream: the VNI and the outer source address of the datagrams (the
// mirrored ENI for Traffic Mirroring, the task for the capture agent).
type StreamKey struct {
	VNI    uint32
	Source netip.Addr
}

// IndexLine describes one pcap file (one JSON line per file).
type IndexLine struct {
	Key             string    `json:"key"`
	Bucket          string    `json:"bucket,omitempty"`
	Source          string    `json:"source"`
	VNI             uint32    `json:"vni"`
	FirstPacketTime time.Time `json:"firstPacketTime"`
	LastPacketTime  time.Time `json:"lastPacketTime"`
	Packets         uint64    `json:"packets"`
	Bytes           uint64    `json:"bytes"`     // sum of the frames' lengths
	FileBytes       int64     `json:"fileBytes"` // the pcap file's size
	Flows           []Flow    `json:"flows"`
	FlowsTruncated  bool      `json:"flowsTruncated"`
	NonIPPackets    uint64    `json:"nonIpPackets"`
	ClosedBy        string    `json:"closedBy"` // time, size, idle, stop
	Receiver        string    `json:"receiver,omitempty"`
	Host            string    `json:"host,omitempty"`
}

// KeyTimeFormat is the file name's start timestamp (UTC).
const KeyTimeFormat = "20060102T150405Z"

// ObjectKey is <prefix>vni=<vni>/source=<ip>/date=YYYY-MM-DD/hour=HH/<start>-<host>-<seq>.pcap,
// date and hour of the file's first packet (UTC).
func ObjectKey(prefix string, k StreamKey, start time.Time, host string, seq uint64) string {
	start = start.UTC()
	return fmt.Sprintf("%svni=%d/source=%s/date=%s/hour=%02d/%s.pcap", prefix, k.VNI, k.Source.Unmap().String(),
		start.Format("2006-01-02"), start.Hour(), fileName(start, host, seq))
}

func fileName(start time.Time, host string, seq uint64) string {
	return fmt.Sprintf("%s-%s-%06d", start.UTC().Format(KeyTimeFormat), host, seq)
}

// IndexKey is the index object of a pcap object: <prefix>index/date=YYYY-MM-DD/hour=HH/<name>.jsonl.
func IndexKey(prefix, key string) (string, error) {
	rest, ok := strings.CutPrefix(key, prefix)
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 5 || !strings.HasPrefix(parts[2], "date=") || !strings.HasPrefix(parts[3], "hour=") || !strings.HasSuffix(parts[4], ".pcap") {
		return "", fmt.Errorf("not a pcap object key: %q", key)
	}
	return prefix + "index/" + parts[2] + "/" + parts[3] + "/" + strings.TrimSuffix(parts[4], ".pcap") + ".jsonl", nil
}

// SanitizeHostID keeps letters, digits, '.', '_' and '-' (anything else becomes '_').
func SanitizeHostID(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "unknown"
	}
	return string(b)
}

// ClosedFile is a finished pcap in the spool directory with its index line beside it
// (<name>.pcap and <name>.jsonl). The .jsonl appears only once the pcap is complete, so a .jsonl
// in the spool directory always means "ready to upload".
type ClosedFile struct {
	PcapPath, IndexPath string
	Key                 string
	Size                int64
}

// Files owns the open streams. It is used by one goroutine (the read loop).
type Files struct {
	Dir            string
	Prefix, Bucket string
	Host, Receiver string
	MaxAge         time.Duration
	MaxBytes       int64
	MaxFlows       int
	MaxSpoolBytes  int64
	BufferBytes    int
	// OnClose receives every closed file; it must not block.
	OnClose func(ClosedFile)
	// SpoolBytes is the bytes of every pcap in Dir, open or waiting for upload; the uploader
	// subtracts what it deletes.
	SpoolBytes *atomic.Int64

	streams map[StreamKey]*stream
	last    *stream
	seq     uint64
}

type stream struct {
	key         StreamKey
	f           *os.File
	w           *bufio.Writer
	path, name  string
	objKey      string
	opened      time.Time // first packet's time
	first, last time.Time
	size        int64
	packets     uint64
	bytes       uint64
	nonIP       uint64
	flows       *flowSet
}

// ErrSpoolFull is returned by Write when the spool directory holds MaxSpoolBytes: the frame is
// dropped (and counted by the caller) until uploads free space.
var ErrSpoolFull = errors.New("spool full")

func (fs *Files) init() {
	if fs.streams == nil {
		fs.streams = map[StreamKey]*stream{}
		if fs.SpoolBytes == nil {
			fs.SpoolBytes = new(atomic.Int64)
		}
		if fs.BufferBytes == 0 {
			fs.BufferBytes = 64 << 10
		}
		if fs.MaxFlows == 0 {
			fs.MaxFlows = 1000
		}
	}
}

// Open is the number of open streams.
func (fs *Files) Open() int { return len(fs.streams) }

// Write appends one frame received at ts to the stream's file, opening or rotating it first.
func (fs *Files) Write(k StreamKey, ts time.Time, frame []byte) error {
	fs.init()
	s := fs.last
	if s == nil || s.key != k {
		s = fs.streams[k]
	}
	rec := int64(PcapRecordHdrLen + len(frame))
	if s != nil {
		if ts.Before(s.last) {
			ts = s.last // receive times never go back within a file (clock steps, per-CPU skew)
		}
		switch {
		case fs.MaxAge > 0 && ts.Sub(s.opened) >= fs.MaxAge:
			fs.close(s, "time")
			s = nil
		case fs.MaxBytes > 0 && s.size+rec > fs.MaxBytes && s.packets > 0:
			fs.close(s, "size")
			s = nil
		}
	}
	if fs.MaxSpoolBytes > 0 && fs.SpoolBytes.Load()+rec > fs.MaxSpoolBytes {
		return ErrSpoolFull
	}
	if s == nil {
		var err error
		if s, err = fs.open(k, ts); err != nil {
			return err
		}
	}
	fs.last = s
	var h [PcapRecordHdrLen]byte
	PcapRecordHeader(&h, ts, len(frame))
	s.w.Write(h[:])
	if _, err := s.w.Write(frame); err != nil {
		// disk error: close what we have (it uploads), the next frame opens a new file
		fs.close(s, "error")
		return err
	}
	s.size += rec
	fs.SpoolBytes.Add(rec)
	s.packets++
	s.bytes += uint64(len(frame))
	if s.packets == 1 {
		s.first = ts
	}
	s.last = ts
	if fk, ok := ParseFlow(frame); ok {
		s.flows.add(fk, len(frame))
	} else {
		s.nonIP++
	}
	return nil
}

func (fs *Files) open(k StreamKey, ts time.Time) (*stream, error) {
	if err := os.MkdirAll(fs.Dir, 0o755); err != nil {
		return nil, err
	}
	for tries := 0; ; tries++ {
		fs.seq++
		name := fileName(ts, fs.Host, fs.seq)
		local := fmt.Sprintf("v%d-%s-%s", k.VNI, SanitizeHostID(k.Source.Unmap().String()), name)
		path := filepath.Join(fs.Dir, local+".pcap")
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if errors.Is(err, os.ErrExist) && tries < 1000 {
			continue
		}
		if err != nil {
			return nil, err
		}
		s := &stream{key: k, f: f, w: bufio.NewWriterSize(f, fs.BufferBytes), path: path, name: local,
			objKey: ObjectKey(fs.Prefix, k, ts, fs.Host, fs.seq), opened: ts, flows: newFlowSet(fs.MaxFlows)}
		h := PcapFileHeader()
		s.w.Write(h[:])
		s.size = PcapHeaderLen
		fs.SpoolBytes.Add(PcapHeaderLen)
		fs.streams[k] = s
		return s, nil
	}
}

// close finishes s: flush, close, write the index line beside it, hand it to OnClose.
func (fs *Files) close(s *stream, reason string) {
	delete(fs.streams, s.key)
	if fs.last == s {
		fs.last = nil
	}
	err := s.w.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	line := IndexLine{Key: s.objKey, Bucket: fs.Bucket, Source: s.key.Source.Unmap().String(), VNI: s.key.VNI,
		FirstPacketTime: s.first.UTC(), LastPacketTime: s.last.UTC(), Packets: s.packets, Bytes: s.bytes,
		FileBytes: s.size, Flows: s.flows.flows, FlowsTruncated: s.flows.truncated, NonIPPackets: s.nonIP,
		ClosedBy: reason, Receiver: fs.Receiver, Host: fs.Host}
	if line.Flows == nil {
		line.Flows = []Flow{}
	}
	b, _ := json.Marshal(line)
	idx := filepath.Join(fs.Dir, s.name+".jsonl")
	tmp := idx + ".tmp"
	if werr := os.WriteFile(tmp, append(b, '\n'), 0o644); werr == nil {
		werr = os.Rename(tmp, idx)
		if err == nil {
			err = werr
		}
	} else if err == nil {
		err = werr
	}
	_ = err // a disk error leaves the pcap without its .jsonl: it stays in the spool, logged at start
	if fs.OnClose != nil {
		fs.OnClose(ClosedFile{PcapPath: s.path, IndexPath: idx, Key: s.objKey, Size: s.size})
	}
}

// Tick closes the files that have been open for MaxAge at now (rotation of quiet streams).
func (fs *Files) Tick(now time.Time) {
	fs.init()
	for _, s := range fs.streams {
		if fs.MaxAge > 0 && now.Sub(s.opened) >= fs.MaxAge {
			fs.close(s, "time")
		}
	}
}

// CloseAll closes every open file (SIGTERM) and returns how many it closed and their bytes.
func (fs *Files) CloseAll(reason string) (files int, bytes int64) {
	fs.init()
	for _, s := range fs.streams {
		files++
		bytes += s.size
		fs.close(s, reason)
	}
	return files, bytes
}
