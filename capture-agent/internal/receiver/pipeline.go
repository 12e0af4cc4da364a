package receiver

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/fargate-traffic-mirror/fargate-traffic-mirror/capture-agent/internal/vxlan"
)

// The read loop and the file writer are two goroutines joined by a bounded set of chunks: the
// reader copies valid inner frames into a chunk and hands it over; the writer appends them to
// the files. A write that blocks (page cache writeback, a slow disk) no longer stops the reader,
// so the socket keeps draining into memory the kernel's rmem_max does not bound. When every
// chunk is full the reader waits (the socket buffer then fills and the kernel drops, counted in
// SocketDrops): memory stays at most ChunkCount x ChunkBytes.
const ChunkBytes = 2 << 20

type frameRec struct {
	key    StreamKey
	ts     time.Time
	off, n int32
}

type chunk struct {
	buf  []byte
	recs []frameRec
}

type pipeline struct {
	work, free chan *chunk
	cur        *chunk
	counters   *Counters
	stalls     atomic.Uint64
}

func newPipeline(bufferBytes int, c *Counters) *pipeline {
	n := max(2, bufferBytes/ChunkBytes)
	p := &pipeline{work: make(chan *chunk, n), free: make(chan *chunk, n), counters: c}
	for i := 0; i < n; i++ {
		p.free <- &chunk{buf: make([]byte, 0, ChunkBytes)}
	}
	p.cur = <-p.free
	return p
}

// add parses datagrams and copies the valid frames into the current chunk (reader goroutine).
func (p *pipeline) add(ds []Datagram) {
	for _, d := range ds {
		vni, frame, r := vxlan.Parse(d.Data)
		if r != vxlan.OK {
			p.counters.Malformed[r].Add(1)
			continue
		}
		if len(p.cur.buf)+len(frame) > cap(p.cur.buf) {
			p.handOver(true)
		}
		off := len(p.cur.buf)
		p.cur.buf = append(p.cur.buf, frame...)
		p.cur.recs = append(p.cur.recs, frameRec{key: StreamKey{VNI: vni, Source: d.Source}, ts: d.Time, off: int32(off), n: int32(len(frame))})
	}
	p.counters.ReceivedDatagrams.Add(uint64(len(ds)))
	p.handOver(false)
}

// handOver passes the current chunk to the writer: always when forced (full, or stopping);
// otherwise when the writer has nothing queued (it is idle: no added latency) or the chunk is
// half full.
func (p *pipeline) handOver(force bool) {
	if len(p.cur.recs) == 0 {
		return
	}
	if !force && len(p.work) > 0 && len(p.cur.buf) < cap(p.cur.buf)/2 {
		return
	}
	p.work <- p.cur // never blocks: there are no more chunks than its capacity
	select {
	case p.cur = <-p.free:
	default:
		p.stalls.Add(1) // every chunk is queued: wait for the writer
		p.cur = <-p.free
	}
}

// close hands over what is left and ends the writer's input (reader goroutine, at stop).
func (p *pipeline) close() {
	p.handOver(true)
	close(p.work)
}

// runWriter appends the frames to files until the reader closes the pipeline, rotating files
// every second; then it closes every file and returns their count and bytes.
func (p *pipeline) runWriter(files *Files, log *slog.Logger, spoolMax int64) (int, int64) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var lastDropLog time.Time
	for {
		select {
		case c, ok := <-p.work:
			if !ok {
				return files.CloseAll("stop")
			}
			var pkts, bytes uint64
			for _, r := range c.recs {
				frame := c.buf[r.off : r.off+r.n]
				if err := files.Write(r.key, r.ts, frame); err != nil {
					p.counters.DroppedPackets.Add(1)
					if time.Since(lastDropLog) > 10*time.Second {
						lastDropLog = time.Now()
						log.Error("frames dropped", "reason", err.Error(), "spoolBytes", files.SpoolBytes.Load(), "spoolMaxBytes", spoolMax)
					}
					continue
				}
				pkts++
				bytes += uint64(r.n)
			}
			p.counters.ReceivedPackets.Add(pkts)
			p.counters.ReceivedBytes.Add(bytes)
			c.buf, c.recs = c.buf[:0], c.recs[:0]
			p.free <- c
		case now := <-t.C:
			files.Tick(now)
		}
	}
}
